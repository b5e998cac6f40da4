"""Worker-process set-up for inference: torch threads per process, stale-job recovery.

Connected to Celery's signals when the app loads; nothing here runs in web processes.
"""

from __future__ import annotations

import logging
import os
import threading

from celery.signals import (
    celeryd_after_setup,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)
from django.conf import settings

log = logging.getLogger(__name__)
_stop = threading.Event()


def torch_threads(concurrency: int | None = None) -> int:
    """INFERENCE_TORCH_THREADS, or the CPUs shared out among the worker's processes."""
    if settings.INFERENCE_TORCH_THREADS > 0:
        return settings.INFERENCE_TORCH_THREADS
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cpus or 1) // max(1, concurrency or 1))


@celeryd_after_setup.connect
def _remember_concurrency(sender=None, instance=None, **kwargs) -> None:
    # The pool's child processes inherit this and share the CPUs out between them.
    concurrency = getattr(instance, "concurrency", None)
    if concurrency:
        os.environ["BONEREAD_WORKER_CONCURRENCY"] = str(concurrency)


@worker_process_init.connect
def _init_process(**kwargs) -> None:
    try:
        import torch
    except ImportError:
        return
    concurrency = int(os.environ.get("BONEREAD_WORKER_CONCURRENCY", "0") or 0) or None
    threads = torch_threads(concurrency)
    torch.set_num_threads(threads)
    log.info("torch uses %s thread(s) in worker process %s", threads, os.getpid())


def _recover_loop() -> None:
    from django.db import connection

    from inference.services import inference_auto_run_sweep, inference_jobs_recover

    while not _stop.wait(settings.INFERENCE_RECOVER_INTERVAL):
        try:
            counts = inference_jobs_recover()
            counts["auto_run"] = inference_auto_run_sweep()
            if any(counts.values()):
                log.info("job recovery: %s", counts)
        except Exception:
            log.warning("job recovery failed", exc_info=True)
        finally:
            connection.close()


@worker_ready.connect
def _start_recovery(**kwargs) -> None:
    if settings.INFERENCE_RECOVER_INTERVAL <= 0:
        return
    thread = threading.Thread(target=_recover_loop, name="inference-recovery", daemon=True)
    thread.start()


@worker_shutdown.connect
def _stop_recovery(**kwargs) -> None:
    _stop.set()
