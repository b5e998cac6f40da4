"""`make demo`'s runner, end to end: migrations, demo users, demo cases through the real ingest,
gunicorn and a real Celery worker on the embedded broker, health green. Run in its own var dir."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_starts_healthy_on_the_embedded_default(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_QUEUE")
    }
    env["BONEREAD_VAR_DIR"] = str(tmp_path / "var")
    port = free_port()
    run = subprocess.run(
        [sys.executable, "scripts/demo.py", "--smoke", "--port", str(port)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert f"BoneRead is running at http://127.0.0.1:{port}/" in output
    assert re.search(r"^\s+doctor\s+physician\s+\S{8,}$", output, re.M), output
    assert "health: up" in output
    assert re.search(r"^\d+ file\(s\): \d+ stored, 0 duplicate\(s\), 0 rejected$", output, re.M)
    assert "demo reports: 16 imported, 0 skipped, 0 errors" in output
    assert re.search(r"registered: planar_\S+ .*\(planar, active\)", output), output[-3000:]
    assert re.search(r"registered: spectct_\S+ .*\(spectct, active\)", output), output[-3000:]
    assert (tmp_path / "var" / "boneread.sqlite3").exists()  # the embedded database, not CI's
