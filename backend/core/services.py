"""Writes of the core app."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.models import WorkerProbe


@transaction.atomic
def worker_probe_answer(*, probe_id: str, hostname: str) -> WorkerProbe:
    """Mark a probe as answered; answering twice keeps the first answer."""
    probe = WorkerProbe.objects.select_for_update().get(id=probe_id)
    if probe.answered is None:
        probe.answered = timezone.now()
        probe.worker_hostname = hostname
        probe.full_clean()
        probe.save()
    return probe


def worker_probe_send() -> WorkerProbe:
    """Create a probe and send it through the broker once the row is committed."""
    from core.tasks import answer_probe

    with transaction.atomic():
        probe = WorkerProbe.objects.create()
        transaction.on_commit(lambda: answer_probe.delay(probe_id=str(probe.id)))
    return probe
