"""`manage.py load_demo_data`: synthetic demo cases into the archive, through the real ingest.

Generates (once, with a fixed seed) planar and SPECT/CT phantom cases with the ml package's
generator under ``<BONEREAD_VAR_DIR>/demo-data`` and archives their images. The ground-truth SEG
files (``SEG*.dcm``) are the answer key of the cases and are not loaded. Running it again is a
no-op: the files are already there and every instance is a duplicate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from studies.management.commands.import_dicom import dicom_paths, import_files, summary_lines
from studies.models import IngestSource

GROUND_TRUTH = ("SEG*.dcm",)


def demo_data_generate(*, out: Path, planar: int, spectct: int, seed: int) -> list[Path]:
    """Generate the phantom sets that are missing (or smaller than asked); return their roots."""
    from boneread_ml.data.manifest import generate

    roots = []
    workers = max(1, min(2, os.cpu_count() or 1))
    for kind, cases in (("planar", planar), ("spectct", spectct)):
        if cases <= 0:
            continue
        root = out / kind
        manifest = root / "manifest.json"
        done = False
        if manifest.exists():
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            done = meta.get("seed") == seed and len(meta.get("cases", [])) == cases
        if not done:
            generate(kind, cases, seed, root, workers=workers, progress=True)
        roots.append(root / "dicom")
    return roots


class Command(BaseCommand):
    help = "Generate (once) and archive the synthetic demo cases (ground-truth SEGs excluded)."

    def add_arguments(self, parser):
        parser.add_argument("--planar", type=int, default=12)
        parser.add_argument("--spectct", type=int, default=4)
        parser.add_argument("--seed", type=int, default=20260)
        parser.add_argument("--out", type=Path, default=None)

    def handle(self, *args, **options):
        out = options["out"] or Path(settings.VAR_DIR) / "demo-data"
        roots = demo_data_generate(
            out=out, planar=options["planar"], spectct=options["spectct"], seed=options["seed"]
        )
        files = dicom_paths(roots, exclude=GROUND_TRUTH)
        results = import_files(files, source=IngestSource.DEMO, stream=self.stderr._out)
        self.stdout.write(f"demo data from {out}")
        for line in summary_lines(results):
            self.stdout.write(line)
