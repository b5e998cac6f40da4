"""`manage.py create_demo_reader_study`: the demo's reader study, so a new user can try both the
study admin's and the readers' side.

A crossover study owned by the demo study admin (``studyadmin``) with the demo readers
(``reader1``, ``reader2``) and four planar demo cases, ground truth imported as CSV from the
demo manifests, and the AI precomputed (history-only conditioning) as batch jobs. The washout is
0 days in the demo, so that both sessions can be tried at once (real studies keep 28).

Run once without ``--wait``: it creates the draft and queues the AI jobs. Run with
``--wait SECONDS`` once a worker is running: it waits for the jobs, freezes the results and
starts the study. Running it again is a no-op once the study has started.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from core.exceptions import ApplicationError

TITLE = "Demo reader study (crossover)"
CASES = 4


class Command(BaseCommand):
    help = "Create the demo reader study (and with --wait: freeze its AI and start it)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the AI")
        parser.add_argument("--root", type=Path, default=None, help="demo-data folder")

    def handle(self, *args, **options):
        from inference.models import JobState
        from readerstudies.models import ReaderStudy, ReaderStudyCase, StudyState
        from readerstudies.services.ai import reader_study_ai_freeze, reader_study_ai_precompute
        from readerstudies.services.design import reader_study_start

        users = get_user_model().objects
        admin = users.filter(username="studyadmin").first()
        readers = list(users.filter(username__in=("reader1", "reader2")).order_by("username"))
        if admin is None or len(readers) < 2:
            self.stdout.write("demo reader study: the demo users are missing; skipped")
            return
        reader_study = ReaderStudy.objects.filter(title=TITLE).first()
        if reader_study is None:
            reader_study = self._create(admin, readers, options["root"])
            if reader_study is None:
                return
        if reader_study.state != StudyState.DRAFT:
            self.stdout.write(f"demo reader study: {reader_study.state}")
            return
        cases = ReaderStudyCase.objects.filter(reader_study=reader_study)
        if not cases.filter(ai_job__isnull=False).exists():
            result = reader_study_ai_precompute(reader_study=reader_study, user=admin)
            self.stdout.write(
                f"demo reader study: {len(result['jobs'])} AI job(s) queued, "
                f"{len(result['skipped'])} skipped"
            )
        deadline = time.monotonic() + options["wait"]
        while True:
            states = list(cases.values_list("ai_job__state", flat=True))
            if all(s in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED) for s in states):
                break
            if time.monotonic() >= deadline:
                if options["wait"]:
                    self.stdout.write("demo reader study: the AI is still running; left in draft")
                return
            time.sleep(2)
        reader_study_ai_freeze(reader_study=reader_study, user=admin)
        try:
            reader_study_start(reader_study=reader_study, user=admin)
        except ApplicationError as exc:
            self.stdout.write(f"demo reader study: not started: {exc.message}")
            return
        self.stdout.write(
            f"demo reader study: started ({cases.count()} cases, readers reader1 and reader2)"
        )

    def _create(self, admin, readers, root):
        from readerstudies.services.design import (
            reader_study_cases_add,
            reader_study_create,
            reader_study_reader_add,
        )
        from readerstudies.services.truth import truth_csv_import
        from studies.models import Study

        root = root or Path(settings.VAR_DIR) / "demo-data"
        manifests = {}
        for manifest in sorted(root.glob("*/manifest.json")):
            for case in json.loads(manifest.read_text(encoding="utf-8")).get("cases", []):
                manifests[case["study"]["study_instance_uid"]] = case
        studies = list(
            Study.objects.filter(kind="planar", study_instance_uid__in=list(manifests))
            .filter(report__isnull=False)
            .order_by("accession_number", "study_instance_uid")[:CASES]
        )
        if len(studies) < 2:
            self.stdout.write("demo reader study: not enough demo cases; skipped")
            return None
        reader_study = reader_study_create(
            user=admin,
            title=TITLE,
            description="Synthetic phantom cases: this demonstrates the workflow, not accuracy.",
            design="crossover",
            washout_days=0,
            seed=20261201,
        )
        reader_study_cases_add(
            reader_study=reader_study, user=admin, study_ids=[s.id for s in studies]
        )
        lines = ["study_instance_uid,metastasis_present,lesion_label,view,x,y"]
        for study in studies:
            lesions = manifests[study.study_instance_uid].get("lesions") or []
            present = "yes" if any(x["class_name"] == "metastatic" for x in lesions) else "no"
            lines.append(f"{study.study_instance_uid},{present},,,,")
            for lesion in lesions:
                row, col = lesion["centroid"]
                lines.append(
                    f"{study.study_instance_uid},{present},{lesion['class_name']},anterior,"
                    f"{col},{row}"
                )
        truth_csv_import(
            reader_study=reader_study, user=admin, data="\n".join(lines).encode("utf-8")
        )
        for reader in readers:
            reader_study_reader_add(reader_study=reader_study, user=admin, reader=reader)
        self.stdout.write(f"demo reader study: created with {len(studies)} cases")
        return reader_study
