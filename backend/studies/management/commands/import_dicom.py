"""`manage.py import_dicom PATH...`: archive every DICOM file under the given folders/files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.models import IngestSource
from studies.services import BATCH_SIZE, IngestResult, IngestStatus, instances_ingest


def dicom_paths(paths: list[Path], *, exclude: tuple[str, ...] = ()) -> list[Path]:
    """Every regular file under ``paths``, sorted, skipping names matching ``exclude`` globs."""
    found: list[Path] = []
    for path in paths:
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        found.extend(p for p in candidates if not any(p.match(glob) for glob in exclude))
    return found


def import_files(
    files: list[Path], *, source: str, progress: bool = True, stream=None
) -> list[IngestResult]:
    """Ingest ``files`` through the archive's ingest service (in batches), with a progress bar."""
    from tqdm import tqdm

    results: list[IngestResult] = []
    bar = tqdm(total=len(files), unit="file", disable=not progress, file=stream, desc="import")
    for start in range(0, len(files), BATCH_SIZE):
        chunk = files[start : start + BATCH_SIZE]
        batch = [(str(path), path.read_bytes()) for path in chunk]
        results.extend(instances_ingest(files=batch, source=source))
        bar.update(len(chunk))
    bar.close()
    return results


def summary_lines(results: list[IngestResult]) -> list[str]:
    counts = Counter(result.status for result in results)
    lines = [
        f"{len(results)} file(s): {counts[IngestStatus.STORED]} stored, "
        f"{counts[IngestStatus.DUPLICATE]} duplicate(s), {counts[IngestStatus.REJECTED]} rejected"
    ]
    lines += [
        f"  rejected {r.filename}: {r.reason}" for r in results if r.status == IngestStatus.REJECTED
    ]
    return lines


class Command(BaseCommand):
    help = "Archive every DICOM file under the given folders (or the given files)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument(
            "--exclude", action="append", default=[], help="glob of file names to skip (repeat)"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        missing = [str(p) for p in options["paths"] if not p.exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}")
        files = dicom_paths(options["paths"], exclude=tuple(options["exclude"]))
        results = import_files(
            files,
            source=IngestSource.IMPORT,
            progress=not options["no_progress"],
            stream=self.stderr._out,
        )
        for line in summary_lines(results):
            self.stdout.write(line)
        if files and all(r.status == IngestStatus.REJECTED for r in results):
            raise CommandError("nothing could be archived")
