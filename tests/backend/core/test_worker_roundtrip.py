"""The real broker and a separately started worker process, not eager execution."""

import pytest
from django.conf import settings

from core.models import WorkerProbe
from core.services import worker_probe_send

pytestmark = pytest.mark.services


def test_task_runs_in_a_separate_worker_and_writes_to_the_database(start_worker):
    assert not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    worker = start_worker()

    probe = worker_probe_send()

    answered = worker.wait_for(
        lambda: WorkerProbe.objects.filter(id=probe.id, answered__isnull=False).first(),
        timeout=30,
        what="the worker to answer the probe",
    )
    assert answered.worker_hostname  # written by the worker process, not by this one
    assert "answer_probe" in worker.log_path.read_text()


def test_probe_answered_twice_keeps_the_first_answer(transactional_db):
    from core.services import worker_probe_answer

    probe = WorkerProbe.objects.create()
    first = worker_probe_answer(probe_id=str(probe.id), hostname="a")
    second = worker_probe_answer(probe_id=str(probe.id), hostname="b")
    assert second.worker_hostname == "a"
    assert second.answered == first.answered
