"""Run the whole product on the embedded default: `make demo` calls this.

SQLite, a real Celery worker process on kombu's filesystem transport (no broker server), media on
disk, all under var/. Migrates, creates the demo users (passwords printed once), loads the
synthetic demo cases through the archive's ingest path, then starts gunicorn and the worker and
waits until /api/health is green before printing the URL. Ctrl-C stops everything.

Options: --host/--port (default 127.0.0.1:8000), --smoke (start, check health, stop: for tests).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "backend"
PY = sys.executable


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=BACKEND, env=env, check=True)


def wait_healthy(url: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:  # 503 while a part is still starting
            last = json.load(exc)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise SystemExit(f"BoneRead did not become healthy within {timeout:.0f} s: {json.dumps(last)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("DEMO_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8000")))
    parser.add_argument("--smoke", action="store_true", help="start, wait for health, stop")
    args = parser.parse_args(argv)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)  # the demo is the embedded default, whatever the shell has set
    var_dir = Path(env.setdefault("BONEREAD_VAR_DIR", str(REPO / "var")))
    logs = var_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    print("== preparing the database, static files and demo users")
    manage("migrate", "--noinput", "-v0", env=env)
    manage("collectstatic", "--noinput", "-v0", env=env)
    manage("create_demo_users", env=env)
    demo_data = BACKEND / "studies" / "management" / "commands" / "load_demo_data.py"
    if demo_data.exists():
        manage("load_demo_data", env=env)
    # The shipped checkpoints as model versions, then the demo reports (auto-run queues AI jobs).
    manage("register_models", env=env)
    manage("load_demo_reports", env=env)
    # The demo reader study: created now with its AI jobs queued; frozen and started below, once
    # the worker has run them.
    manage("create_demo_reader_study", env=env)

    url = f"http://{args.host}:{args.port}"
    worker_log = (logs / "worker.log").open("ab")
    web_log = (logs / "web.log").open("ab")
    worker = subprocess.Popen(
        [PY, "-m", "celery", "-A", "config", "worker", "--concurrency", "1", "--loglevel", "INFO"],
        cwd=BACKEND, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    web = subprocess.Popen(
        [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"{args.host}:{args.port}",
         "--workers", "2", "--timeout", "120"],
        cwd=BACKEND, env=env, stdout=web_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    children = [web, worker]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        health = wait_healthy(url, timeout=120)
        parts = ", ".join(
            f"{k}: {'ok' if v['ok'] else 'DOWN'}" for k, v in health["components"].items()
        )
        print(f"== health: {health['status']} ({parts})")
        print(f"== BoneRead is running at {url}/  (logs in {logs}; Ctrl-C stops it)")
        reader_study_log = logs / "reader-study.log"
        with reader_study_log.open("ab") as handle:
            reader_study = subprocess.Popen(
                [PY, "manage.py", "create_demo_reader_study", "--wait", "900"],
                cwd=BACKEND, env=env, stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
        children.append(reader_study)
        if args.smoke:
            try:
                reader_study.wait(timeout=300)
                print(reader_study_log.read_text(encoding="utf-8").strip())
            except subprocess.TimeoutExpired:
                print("== the demo reader study is still waiting for its AI results")
            return 0 if health["status"] == "ok" else 1
        print("== the demo reader study starts once its AI results are ready (studyadmin's page)")
        while web.poll() is None and worker.poll() is None:
            time.sleep(1)
        print("== a process stopped unexpectedly; see the logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
