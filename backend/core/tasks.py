"""The project's Celery task decorator and the platform's own round-trip task.

Every BoneRead task is declared with :func:`boneread_task`: acknowledged only after it ran
(``acks_late``) and re-queued when its worker dies (``reject_on_worker_lost``), so a killed worker
never loses a job. Tasks are thin adapters: they take ids and call a service that is safe to run
twice.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from config.celery import app


def boneread_task(
    *, name: str | None = None, time_limit: int = 600, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """Declare a Celery task with the project's reliability settings.

    Args:
        name: the registered task name (defaults to ``module.function``).
        time_limit: hard limit in seconds; the soft limit is 0.9 x this.
        **options: any other ``app.task`` option (``autoretry_for``, ``max_retries``, ...).
    """

    def decorator(func: Callable[..., Any]) -> Any:
        return app.task(
            name=name,
            acks_late=True,
            reject_on_worker_lost=True,
            time_limit=time_limit,
            soft_time_limit=int(time_limit * 0.9),
            **options,
        )(func)

    return decorator


@boneread_task(name="core.answer_probe", time_limit=30)
def answer_probe(*, probe_id: str) -> None:
    from core.services import worker_probe_answer

    worker_probe_answer(probe_id=probe_id, hostname=socket.gethostname())
