"""Live-status polling load: N open viewers/worklists polling GET /api/studies/status with ETags
against gunicorn on 127.0.0.1. Writes benchmarks/results/status_polling.json.

What an open page does (frontend/src/lib/hooks/useLiveStatus.ts): one request every 5 s with
If-None-Match; an unchanged answer is an empty 304. This script starts its own embedded instance
in a fresh folder (default var/bench-status: SQLite, as `make demo` runs), makes a user and
``--studies`` studies with reports and AI jobs, starts gunicorn (2 processes, as the demo), signs
in once and runs ``--clients`` pollers, each asking for ``--ids-per-client`` studies (a worklist
page) every ``--interval`` seconds for ``--duration`` seconds. Meanwhile a changer flips one
job's state every ``--change-every`` seconds, so that some answers are 200s, as in real use.

Measured: requests/s, share of 304s, latency p50/p95/p99, and the server's CPU time (gunicorn
processes, from /proc) per request and as a share of one core. Bounded: the run stops after
``--duration`` plus set-up; every request has a 10 s timeout.

Usage::

    .venv/bin/python benchmarks/status_polling.py [--clients 50] [--interval 1] [--duration 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from viewer import free_port, start_server  # the same gunicorn start as the viewer benchmark

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "backend"
USER, PASSWORD = "bench", "Bone-scan-bench-2026"


def setup_django(var_dir: Path) -> None:
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)  # the embedded default, as `make demo` runs
    os.environ["BONEREAD_VAR_DIR"] = str(var_dir)
    os.environ["INFERENCE_AUTO_RUN"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path[:0] = [str(BACKEND), str(REPO / "ml")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def prepare(n_studies: int) -> list[str]:
    """Studies with a report and a finished AI job each (rows only: no images are needed)."""
    from django.utils import timezone

    from accounts.services import user_create
    from inference.models import InferenceJob, ModelVersion
    from reports.services import report_save
    from studies.models import Patient, Study

    user = user_create(username=USER, password=PASSWORD, role="physician")
    model = ModelVersion.objects.create(
        name="mt_unet", task="planar", version="bench", path="planar", checksum="0" * 64
    )
    ids = []
    for n in range(n_studies):
        patient = Patient.objects.create(
            patient_key=f"bench-{n}", patient_id=f"B{n:05d}", name="LI^NA", name_search="li^na"
        )
        study = Study.objects.create(
            study_instance_uid=f"1.2.826.0.1.3680043.9.9999.{n}",
            patient=patient,
            accession_number=f"BENCH{n:05d}",
            kind="planar",
        )
        report_save(
            study=study, user=user, history="", findings="胸椎浓聚。", impression="骨转移？",
            base_version=0,
        )  # fmt: skip
        InferenceJob.objects.create(
            study=study, model_version=model, state="succeeded", progress=1.0,
            finished_at=timezone.now(),
        )  # fmt: skip
        ids.append(str(study.id))
    return ids


def process_tree_cpu_seconds(root_pid: int) -> float:
    """utime + stime of a process and its children that are alive (the gunicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [root_pid]
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def sign_in(base: str):
    import requests

    session = requests.Session()
    session.get(f"{base}/api/auth/csrf", timeout=10)
    response = session.post(
        f"{base}/api/auth/login",
        json={"username": USER, "password": PASSWORD},
        headers={"X-CSRFToken": session.cookies.get("csrftoken", "")},
        timeout=10,
    )
    response.raise_for_status()
    return session.cookies.get_dict()


def poller(base, cookies, ids, interval, stop_at, out, lock) -> None:
    import requests

    session = requests.Session()
    session.cookies.update(cookies)
    url = f"{base}/api/studies/status"
    etag = None
    while time.monotonic() < stop_at:
        started = time.monotonic()
        headers = {"If-None-Match": etag} if etag else {}
        try:
            response = session.get(url, params={"ids": ",".join(ids)}, headers=headers, timeout=10)
            code = response.status_code
            if code == 200:
                etag = response.headers.get("ETag")
        except requests.RequestException:
            code = 0
        elapsed = time.monotonic() - started
        with lock:
            out.append((code, elapsed))
        time.sleep(max(0.0, interval - elapsed))


def changer(ids, every, stop_at) -> int:
    """Flip jobs between running and succeeded, as a worker would (answers change)."""
    from django.db import connection

    from inference.models import InferenceJob

    changes = 0
    while time.monotonic() < stop_at:
        time.sleep(every)
        job = InferenceJob.objects.filter(study_id=ids[changes % len(ids)]).first()
        job.state = "running" if job.state == "succeeded" else "succeeded"
        job.save(update_fields=["state", "modified"])
        changes += 1
    connection.close()
    return changes


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--ids-per-client", type=int, default=25)
    parser.add_argument("--studies", type=int, default=100)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of polling")
    parser.add_argument("--change-every", type=float, default=2.0)
    parser.add_argument("--var-dir", type=Path, default=REPO / "var" / "bench-status")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "status_polling.json"
    )
    args = parser.parse_args(argv)
    if args.duration > 300:
        parser.error("--duration is capped at 300 s (this is a bounded benchmark)")

    shutil.rmtree(args.var_dir, ignore_errors=True)
    args.var_dir.mkdir(parents=True)
    load_before = os.getloadavg()
    setup_django(args.var_dir)
    ids = prepare(args.studies)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port, args.var_dir / "gunicorn.log")
    try:
        cookies = sign_in(base)
        results: list[tuple[int, float]] = []
        lock = threading.Lock()
        cpu_before = process_tree_cpu_seconds(server.pid)
        started = time.monotonic()
        stop_at = started + args.duration
        threads = []
        for n in range(args.clients):
            start = (n * args.ids_per_client) % len(ids)
            chosen = (ids + ids)[start : start + args.ids_per_client]
            thread = threading.Thread(
                target=poller,
                args=(base, cookies, chosen, args.interval, stop_at, results, lock),
                daemon=True,
            )
            threads.append(thread)
            thread.start()
            time.sleep(args.interval / args.clients)  # pages open at different moments
        changes = changer(ids, args.change_every, stop_at)
        for thread in threads:
            thread.join(timeout=15)
        wall = time.monotonic() - started
        cpu = process_tree_cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)

    codes = [code for code, _ in results]
    latencies = [elapsed for code, elapsed in results if code in (200, 304)]
    n = len(results)
    summary = {
        "benchmark": "status_polling",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(v, 2) for v in load_before],
        },
        "setup": {
            "server": "gunicorn, 2 processes, SQLite (embedded default)",
            "clients": args.clients,
            "ids_per_client": args.ids_per_client,
            "interval_s": args.interval,
            "duration_s": args.duration,
            "product_interval_s": 5.0,
            "job_changes": changes,
        },
        "requests": n,
        "requests_per_s": round(n / wall, 1),
        "status_codes": {str(c): codes.count(c) for c in sorted(set(codes))},
        "share_304": round(codes.count(304) / n, 3) if n else None,
        "latency_ms": {
            "p50": round(1000 * percentile(latencies, 0.5), 1),
            "p95": round(1000 * percentile(latencies, 0.95), 1),
            "p99": round(1000 * percentile(latencies, 0.99), 1),
            "mean": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        },
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_request": round(1000 * cpu / n, 2) if n else None,
        "server_cpu_share_of_one_core": round(cpu / wall, 3),
        # What N open pages at the product's 5 s interval cost the server, from the measured
        # CPU time per request (N / 5 requests per second).
        "server_cpu_share_at_product_interval": (
            round(cpu / n * args.clients / 5.0, 3) if n else None
        ),
        "note": (
            "The clients poll faster than the product (1 s vs 5 s) to measure the cost per "
            "request; latencies include the client threads and any other load on the machine "
            "(see load_average_before)."
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    errors = n - len(latencies)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
