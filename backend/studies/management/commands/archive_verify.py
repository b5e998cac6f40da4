"""`manage.py archive_verify [--delete-orphans]`: files and rows of the archive agree.

The ingest never leaves a row without its file; a process killed between writing a file and
committing its rows can leave a file without a row. This lists both kinds (and, with
``--delete-orphans``, removes unreferenced files older than ``--min-age`` seconds, so that an
ingest in progress is not disturbed).
"""

from __future__ import annotations

import datetime as dt

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from studies.models import Instance


def storage_files(root: str = "dicom") -> list[str]:
    """Every file name under ``root`` in the default storage."""
    names: list[str] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        names.extend(f"{folder}/{name}" for name in files)
        pending.extend(f"{folder}/{name}" for name in folders)
    return names


class Command(BaseCommand):
    help = "Check that every archived row has its file and every file its row."

    def add_arguments(self, parser):
        parser.add_argument("--delete-orphans", action="store_true")
        parser.add_argument("--min-age", type=int, default=3600, help="seconds (default 3600)")

    def handle(self, *args, **options):
        referenced = set(Instance.objects.values_list("file", flat=True))
        present = set(storage_files())
        missing = sorted(referenced - present)
        orphans = sorted(present - referenced)
        for name in missing:
            self.stdout.write(f"row without file: {name}")
        removed = 0
        cutoff = timezone.now() - dt.timedelta(seconds=options["min_age"])
        for name in orphans:
            self.stdout.write(f"file without row: {name}")
            if options["delete_orphans"] and default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                removed += 1
        self.stdout.write(
            f"{len(referenced)} row file(s), {len(present)} stored file(s): {len(missing)} "
            f"missing, {len(orphans)} orphan(s), {removed} orphan(s) removed"
        )
        if missing:
            raise CommandError(f"{len(missing)} archived instance(s) have no file")
