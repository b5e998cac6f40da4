"""`manage.py load_demo_reports`: the demo cases' Chinese reports, through the import service.

Reads the manifests that ``load_demo_data`` generated under ``<BONEREAD_VAR_DIR>/demo-data`` and
imports each case's report (matched by StudyInstanceUID) as a draft, so that the demo opens with
reports to read and sign; with auto-run on, each new report queues its AI job. Running it again
is a no-op (every row is ``skipped: unchanged``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from reports.services import reports_import


class Command(BaseCommand):
    help = "Import the demo cases' reports (from the demo-data manifests) as drafts."

    def add_arguments(self, parser):
        parser.add_argument("--root", type=Path, default=None, help="demo-data folder")

    def handle(self, *args, **options):
        root = options["root"] or Path(settings.VAR_DIR) / "demo-data"
        rows = []
        for manifest in sorted(root.glob("*/manifest.json")):
            for case in json.loads(manifest.read_text(encoding="utf-8")).get("cases", []):
                report = case.get("report") or {}
                rows.append(
                    {
                        "study_instance_uid": case["study"]["study_instance_uid"],
                        "history": report.get("history", ""),
                        "findings": report.get("findings", ""),
                        "impression": report.get("impression", ""),
                    }
                )
        if not rows:
            self.stdout.write(f"no demo manifests under {root}")
            return
        results = reports_import(rows=rows, user=None)
        counts = Counter(r.status for r in results)
        self.stdout.write(
            f"demo reports: {counts['imported']} imported, {counts['skipped']} skipped, "
            f"{counts['error']} errors"
        )
        for result in results:
            if result.status == "error":
                self.stdout.write(f"  row {result.row}: {result.reason}")
