"""Send a probe task through the broker and wait until a worker has written its answer."""

import time

from django.core.management.base import BaseCommand, CommandError

from core.models import WorkerProbe
from core.services import worker_probe_send


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")

    def handle(self, *args, timeout: float, **options):
        probe = worker_probe_send()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answered = WorkerProbe.objects.get(id=probe.id)
            if answered.answered:
                self.stdout.write(f"worker {answered.worker_hostname} answered probe {probe.id}")
                return
            time.sleep(0.2)
        raise CommandError(f"no worker answered probe {probe.id} within {timeout:.0f} s")
