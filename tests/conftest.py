"""Fixtures shared by every test: real Celery workers started as separate processes (and
``load_script``, which imports a benchmark script by its path).

A worker started here uses the same broker as the tests (CI: Redis; embedded: kombu's filesystem
transport) and the *test* database, so tests that enqueue work must use ``transactional_db``:
the worker only sees committed rows.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "backend"


def database_url(settings_dict: dict) -> str:
    """DATABASE_URL for the database Django is connected to now (the test database in tests)."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "")
        password = settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "localhost"
        port = settings_dict.get("PORT") or "5432"
        return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"
    raise RuntimeError(f"no DATABASE_URL form for {engine}")


class WorkerProcess:
    """A `celery worker` subprocess on the test database; stopped by `stop()` or at teardown."""

    def __init__(self, *, concurrency: int = 1, extra_env: dict[str, str] | None = None) -> None:
        from django.conf import settings
        from django.db import connection

        self.node = f"test-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
        self.queue = settings.CELERY_TASK_DEFAULT_QUEUE
        self.log_path = Path(settings.VAR_DIR) / "logs" / f"{self.node.split('@')[0]}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_QUEUE": self.queue,
            "BONEREAD_VAR_DIR": str(settings.VAR_DIR),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PYTHONPATH": os.pathsep.join([str(BACKEND), str(REPO / "ml")]),
            **(extra_env or {}),
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--loglevel", "INFO", "--concurrency", str(concurrency),
            "--queues", self.queue, "--hostname", self.node,
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=BACKEND, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early; log: {self.log_path.read_text()[-3000:]}")
            if app.control.ping(destination=[self.node], timeout=1.0):
                return
        raise RuntimeError(f"worker {self.node} did not answer within {timeout} s")

    def wait_for(
        self, predicate: Callable[[], Any], *, timeout: float = 90.0, what: str = ""
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy; on timeout, fail with the
        worker's log so that the reason is in the test report."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        log = self.log_path.read_text(errors="replace")[-4000:]
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{log}")

    def kill(self) -> None:
        """SIGKILL the whole worker process group, as a crashed machine would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Warm shutdown: SIGTERM to the main process only, which stops its pool children itself
        (signalling the whole group makes the children die first and the main process wait)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def start_worker(transactional_db) -> Iterator:
    """Factory: ``start_worker()`` starts a ready worker; all are stopped at teardown."""
    workers: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(**kwargs)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """PostgreSQL: let this *test* database's teardown TRUNCATE the append-only audit table
    (its trigger allows TRUNCATE only where ``boneread.audit_truncate = 'allow'``; production
    databases never set it). UPDATE and DELETE stay refused (tests/backend/audit)."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                name = connection.settings_dict["NAME"].replace('"', '""')
                cursor.execute(f"ALTER DATABASE \"{name}\" SET boneread.audit_truncate = 'allow'")
            connection.close()  # new sessions pick the setting up


@pytest.fixture(scope="session")
def load_script() -> Callable[[str], Any]:
    """Import a repository script that is not in a package (``benchmarks/...``) by its path
    relative to the repository root; returns a function of that path giving the module."""

    def load(relative: str) -> Any:
        name = "script_" + "_".join(Path(relative).with_suffix("").parts)
        spec = importlib.util.spec_from_file_location(name, REPO / relative)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
