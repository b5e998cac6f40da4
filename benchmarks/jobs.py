"""End-to-end AI job latency and throughput: enqueue -> SEG stored in the archive + lesion rows.

Runs the product path with real Celery workers (separate processes) on the configured broker
and database (default: the embedded SQLite + kombu filesystem broker under
var/bench-jobs; set DATABASE_URL / CELERY_BROKER_URL for PostgreSQL / Redis) and the shipped
planar checkpoint on CPU:

1. generates planar phantom cases (ml package, fixed seed), ingests them through the archive's
   ingest service and gives each its Chinese report;
2. latency: one worker process, jobs sent one at a time (after a warm-up job that loads the
   model), each measured from the job's creation (enqueue) to the commit that stores its SEGs,
   lesion rows and ``state=succeeded`` (the job's ``finished_at``), p50 / p95 over --jobs jobs;
3. throughput: --burst jobs enqueued at once, drained by 1 worker process and then by 2
   (torch threads = CPUs / processes), jobs per second from the first enqueue to the last commit.

Usage::

    .venv/bin/python benchmarks/jobs.py                 # writes benchmarks/results/jobs.json
    .venv/bin/python benchmarks/jobs.py --jobs 20 --burst 12 --model ml/checkpoints/planar
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "backend"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def setup_django(var_dir: Path) -> None:
    os.environ["BONEREAD_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("CELERY_QUEUE", f"bench-jobs-{os.getpid()}")
    os.environ["INFERENCE_AUTO_RUN"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path[:0] = [str(BACKEND), str(REPO / "ml")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def start_worker(concurrency: int, log: Path) -> subprocess.Popen:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "PYTHONPATH": os.pathsep.join([str(BACKEND), str(REPO / "ml")]),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
        "--concurrency", str(concurrency), "--queues", settings.CELERY_TASK_DEFAULT_QUEUE,
        "--hostname", f"bench-{concurrency}-{os.getpid()}@%h", "--without-gossip",
        "--without-mingle",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=BACKEND, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def wait_jobs(job_ids: list, timeout: float) -> list:
    from inference.models import InferenceJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = list(InferenceJob.objects.filter(id__in=job_ids))
        if all(job.state in ("succeeded", "failed", "cancelled") for job in jobs):
            return jobs
        time.sleep(0.05)
    raise SystemExit(f"jobs did not finish within {timeout:.0f} s")


def prepare_studies(cases: int, seed: int, data_dir: Path) -> list:
    from boneread_ml.data.manifest import generate
    from reports.services import report_save
    from studies.models import IngestSource, Study
    from studies.services import instance_ingest

    manifest_path = data_dir / "manifest.json"
    if not manifest_path.exists() or len(json.loads(manifest_path.read_text())["cases"]) != cases:
        if data_dir.exists():
            shutil.rmtree(data_dir)
        generate("planar", cases, seed, str(data_dir))
    studies = []
    for case in json.loads(manifest_path.read_text(encoding="utf-8"))["cases"]:
        nm = data_dir / case["dicom_dir"] / "NM_WB.dcm"
        result = instance_ingest(file=nm.read_bytes(), source=IngestSource.DEMO)
        if not result.ok:
            raise SystemExit(f"ingest failed: {result.reason}")
        study = Study.objects.get(study_instance_uid=case["study"]["study_instance_uid"])
        if not hasattr(study, "report"):
            report = case["report"]
            report_save(
                study=study,
                user=None,
                history=report["history"],
                findings=report["findings"],
                impression=report["impression"],
                base_version=None,
            )
        studies.append(study)
    return studies


def create_job(study):
    from inference.services import inference_job_create

    job, _ = inference_job_create(study=study, rerun=True, trigger="benchmark")
    return job


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="latency jobs (default 20)")
    parser.add_argument("--burst", type=int, default=12, help="jobs per throughput run")
    parser.add_argument("--cases", type=int, default=5, help="distinct phantom studies")
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--model", type=Path, default=None, help="release dir (default shipped)")
    parser.add_argument("--var-dir", type=Path, default=REPO / "var" / "bench-jobs")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "jobs.json")
    args = parser.parse_args(argv)

    args.var_dir.mkdir(parents=True, exist_ok=True)
    setup_django(args.var_dir)
    from django.conf import settings

    from inference.services import model_version_register

    model_dir = args.model or Path(settings.MODEL_DIR) / "planar"
    model_version, _ = model_version_register(path=model_dir, activate=True)
    studies = prepare_studies(args.cases, args.seed, args.var_dir / "phantom-planar")
    logs = args.var_dir / "logs"
    logs.mkdir(exist_ok=True)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    result: dict = {
        "benchmark": "AI job end to end: enqueue -> SEG stored + lesion rows written",
        "command": "python benchmarks/jobs.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            "cpus": cpus,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "note": "2 CPU cores shared with other processes; numbers vary with their load",
        },
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "broker": settings.CELERY_BROKER_URL.split(":", 1)[0],
        "model": {
            "name": model_version.name,
            "version": model_version.version,
            "sha256": model_version.checksum,
            "path": str(model_dir),
        },
        "device": settings.INFERENCE_DEVICE,
    }

    # --- latency: one worker process, one job at a time -------------------------------------
    worker = start_worker(1, logs / "worker-1.log")
    try:
        warm = create_job(studies[0])
        (warm,) = wait_jobs([warm.id], timeout=600)
        cold = (warm.finished_at - warm.created).total_seconds()
        latencies, stages = [], {}
        load_before = load_average()
        for i in range(args.jobs):
            job = create_job(studies[i % len(studies)])
            (job,) = wait_jobs([job.id], timeout=300)
            if job.state != "succeeded":
                raise SystemExit(f"job {job.id} {job.state}: {job.error}")
            latencies.append((job.finished_at - job.created).total_seconds())
            for name, seconds in job.timings.items():
                stages.setdefault(name, []).append(seconds)
            print(f"latency job {i + 1}/{args.jobs}: {latencies[-1]:.3f} s", flush=True)
        result["latency"] = {
            "jobs": len(latencies),
            "p50_s": round(percentile(latencies, 0.5), 3),
            "p95_s": round(percentile(latencies, 0.95), 3),
            "mean_s": round(statistics.mean(latencies), 3),
            "min_s": round(min(latencies), 3),
            "max_s": round(max(latencies), 3),
            "cold_start_s": round(cold, 3),
            "stage_median_s": {k: round(statistics.median(v), 4) for k, v in stages.items()},
            "load_average_before_after": [load_before, load_average()],
            "target_p50_s": 2.0,
            "meets_target": percentile(latencies, 0.5) <= 2.0,
        }
        result["throughput"] = {}
        result["throughput"]["1_worker_process"] = burst(studies, args.burst)
    finally:
        stop_worker(worker)

    # --- throughput with 2 worker processes -------------------------------------------------
    worker = start_worker(2, logs / "worker-2.log")
    try:
        warm = [create_job(studies[i % len(studies)]) for i in range(2)]
        wait_jobs([j.id for j in warm], timeout=600)
        result["throughput"]["2_worker_processes"] = burst(studies, args.burst)
    finally:
        stop_worker(worker)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def load_average() -> list[float] | None:
    """1/5/15-minute load averages: other processes on a shared machine skew the timings."""
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def burst(studies: list, count: int) -> dict:
    load_before = load_average()
    started = time.monotonic()
    jobs = [create_job(studies[i % len(studies)]) for i in range(count)]
    done = wait_jobs([j.id for j in jobs], timeout=1200)
    wall = time.monotonic() - started
    ok = [j for j in done if j.state == "succeeded"]
    latencies = [(j.finished_at - j.created).total_seconds() for j in ok]
    return {
        "jobs": count,
        "succeeded": len(ok),
        "wall_s": round(wall, 3),
        "jobs_per_s": round(len(ok) / wall, 3),
        "jobs_per_min": round(60 * len(ok) / wall, 1),
        "latency_p50_s": round(percentile(latencies, 0.5), 3),
        "latency_p95_s": round(percentile(latencies, 0.95), 3),
        "load_average_before_after": [load_before, load_average()],
    }


if __name__ == "__main__":
    sys.exit(main())
