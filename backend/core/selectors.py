"""Reads of the core app: the health of each part the product needs."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import connection


@dataclass
class ComponentHealth:
    ok: bool
    detail: str
    required: bool = True
    latency_ms: float | None = None


def _timed(check: Any) -> ComponentHealth:
    started = time.perf_counter()
    result: ComponentHealth = check()
    result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> ComponentHealth:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the detail says which
        return ComponentHealth(False, f"{connection.vendor}: {exc}")
    return ComponentHealth(True, connection.vendor)


def _broker() -> ComponentHealth:
    from config.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = (
                conn.transport_cls if isinstance(conn.transport_cls, str) else conn.transport
            )
    except Exception as exc:
        return ComponentHealth(False, f"broker unreachable: {exc}")
    return ComponentHealth(True, str(getattr(transport, "driver_type", transport)))


def _worker() -> ComponentHealth:
    from config.celery import app

    try:
        # limit=1: answer as soon as one worker replies instead of waiting out the timeout.
        replies = app.control.ping(timeout=settings.HEALTH_WORKER_PING_TIMEOUT, limit=1) or []
    except Exception as exc:
        return ComponentHealth(False, f"ping failed: {exc}")
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return ComponentHealth(False, "no worker answered a ping through the broker")
    return ComponentHealth(True, f"{len(names)} worker(s): {', '.join(names)}")


def _models() -> ComponentHealth:
    missing = []
    for task in settings.MODEL_TASKS:
        for filename in ("config.json", "model.safetensors"):
            path = settings.MODEL_DIR / task / filename
            if not path.is_file():
                missing.append(str(path.relative_to(settings.MODEL_DIR.parent)))
    if missing:
        return ComponentHealth(False, "missing model files: " + ", ".join(missing))
    return ComponentHealth(True, f"{len(settings.MODEL_TASKS)} task(s) in {settings.MODEL_DIR}")


def health_status() -> dict[str, Any]:
    """Check the database, the broker, a live worker and the shipped model files."""
    components = {
        "database": _timed(_database),
        "broker": _timed(_broker),
        "worker": _timed(_worker),
        "models": _timed(_models),
    }
    healthy = all(c.ok for c in components.values() if c.required)
    return {
        "status": "ok" if healthy else "down",
        "components": {name: asdict(c) for name, c in components.items()},
    }
