"""Train one configuration over a grid of patient folds x training seeds, in parallel processes.

Every (fold F, seed S) runs ``run.py RUN_ARGS --train-only --test-fold F --train-seed S
--models MODEL --runs RUNS/NAME_fF_sS``, and with ``--evaluate OUT`` then ``seeds.py`` for that
training into ``OUT/foldF`` (calibrated on its training cases, evaluated on fold F, with the
report probes), at most ``--jobs`` chains at once. A training that already has its release is
not retrained (run.py skips it) and an evaluated seed is not re-evaluated (seeds.py reuses its
``results.json``), so a grid cut off by ``--deadline`` (a lent GPU's time, say) resumes where it
stopped. At the end it writes ``RUNS/NAME_grid.json`` (each job's state, exit code, seconds and
log) and prints the ``folds.py`` command that pools the evaluated folds.

Run (a 5-fold x 3-seed comparison of one config, two trainings at a time on a 2-core machine;
15 at once on a 16-core GPU machine, ``--jobs 15``)::

    python benchmarks/experiment/grid.py --name cn02 --folds 0 1 2 3 4 --seeds 0 1 2 --jobs 2 \\
        --evaluate var/eval/cn02 -- --task planar --cases 120 --seed 0 --threads 1 --steps 3600 \\
        --set train.called_normal_rate=0.2 --data-root var/data/planar
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: run.py options that the grid sets for each job
OWNED = ("--train-only", "--test-fold", "--train-seed", "--models", "--runs", "--results")


def job_commands(args: argparse.Namespace, fold: int, seed: int, run_args: list[str]) -> list:
    """The commands of one (fold, seed) job: its training, then (``--evaluate``) its evaluation."""
    run_dir = Path(args.runs) / f"{args.name}_f{fold}_s{seed}"
    cmds = [
        [sys.executable, str(HERE / "run.py"), *run_args, "--train-only", "--test-fold", str(fold),
         "--train-seed", str(seed), "--models", args.model, "--runs", str(run_dir)],
    ]  # fmt: skip
    if args.evaluate:
        release = Path(args.runs) / f"{args.name}_f{fold}_s{{seed}}" / args.model / "release"
        cmds.append(
            [sys.executable, str(HERE / "seeds.py"), "--seeds", str(seed),
             "--model", f"{args.name}={release}", "--data-root", data_root(run_args),
             "--out", str(Path(args.evaluate) / f"fold{fold}"), "--test-fold", str(fold),
             "--threads", "1"]
        )  # fmt: skip
    return cmds


def data_root(run_args: list[str]) -> str:
    for i, a in enumerate(run_args):
        if a == "--data-root" and i + 1 < len(run_args):
            return run_args[i + 1]
        if a.startswith("--data-root="):
            return a.split("=", 1)[1]
    raise SystemExit("--evaluate needs the run.py argument --data-root (the cases to evaluate on)")


def pool_command(args: argparse.Namespace, run_args: list[str]) -> str:
    release = Path(args.runs) / f"{args.name}_f{{fold}}_s{{seed}}" / args.model / "release"
    return shlex.join(
        [sys.executable, str(HERE / "folds.py"), "--folds", *map(str, args.folds),
         "--seeds", *map(str, args.seeds), "--model", f"{args.name}={release}",
         "--data-root", data_root(run_args), "--out", args.evaluate]
    )  # fmt: skip


def run_grid(args: argparse.Namespace, run_args: list[str]) -> dict:
    """Run every job, ``args.jobs`` at a time; stop what still runs at the deadline."""
    started = time.monotonic()
    logs = Path(args.runs)
    logs.mkdir(parents=True, exist_ok=True)
    pending = [(f, s) for f in args.folds for s in args.seeds]
    running: dict[tuple[int, int], tuple[subprocess.Popen, float]] = {}
    done: dict[str, dict] = {}

    def finish(key, proc, t0, state):
        done[f"f{key[0]}_s{key[1]}"] = {
            "fold": key[0], "seed": key[1], "state": state, "returncode": proc.returncode,
            "seconds": round(time.monotonic() - t0, 1),
            "log": str(logs / f"{args.name}_f{key[0]}_s{key[1]}.log"),
        }  # fmt: skip

    try:
        while pending or running:
            late = args.deadline is not None and time.monotonic() - started > args.deadline
            for key, (proc, t0) in list(running.items()):
                if proc.poll() is not None:
                    finish(key, proc, t0, "done" if proc.returncode == 0 else "failed")
                    del running[key]
                elif late:
                    stop(proc)
                    finish(key, proc, t0, "stopped at the deadline")
                    del running[key]
            if late:
                for f, s in pending:
                    done[f"f{f}_s{s}"] = {"fold": f, "seed": s, "state": "not started"}
                break
            while pending and len(running) < args.jobs:
                key = pending.pop(0)
                chain = " && ".join(shlex.join(c) for c in job_commands(args, *key, run_args))
                with open(logs / f"{args.name}_f{key[0]}_s{key[1]}.log", "w") as log:
                    proc = subprocess.Popen(
                        ["bash", "-c", chain], stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )  # fmt: skip
                running[key] = (proc, time.monotonic())
            time.sleep(args.poll)
    finally:  # interrupted (Ctrl-C): the jobs run in their own sessions, so stop them here
        for proc, _ in running.values():
            stop(proc)
    return done


def stop(proc: subprocess.Popen) -> None:
    """Kill a job's process group (its training or evaluation too) and reap it."""
    with contextlib.suppress(ProcessLookupError):  # ended since the last poll
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _interrupt(signum: int, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    run_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="runs are RUNS/NAME_fF_sS")
    parser.add_argument("--folds", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="training seeds")
    parser.add_argument("--model", default="mt_unet", help="the registry model to train")
    parser.add_argument("--runs", default="var/exp")
    parser.add_argument("--jobs", type=int, default=2, help="(fold, seed) jobs at once")
    parser.add_argument("--evaluate", metavar="OUT", help="evaluate each training into OUT/foldF")
    parser.add_argument("--deadline", type=float, help="seconds; stop what still runs then")
    parser.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    args = parser.parse_args(own)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if clash := [a for a in run_args if a.split("=", 1)[0] in OWNED]:
        parser.error(
            f"the grid sets {', '.join(clash)} itself; leave it out of the run.py arguments"
        )
    if not run_args:
        parser.error("give run.py's arguments after --, e.g. -- --task planar --data-root DIR")
    if args.evaluate:
        data_root(run_args)
    # `kill PID` (SIGTERM), and SIGINT where a shell's `&` left it ignored, stop the grid as
    # Ctrl-C does: run_grid then kills the jobs, which run in sessions of their own
    handlers = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        done = run_grid(args, run_args)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    record = {
        "command": shlex.join([sys.executable, __file__, *argv]),
        "jobs": [done[k] for k in sorted(done, key=lambda k: (done[k]["fold"], done[k]["seed"]))],
    }
    if args.evaluate:
        record["pool"] = pool_command(args, run_args)
    out = Path(args.runs) / f"{args.name}_grid.json"
    out.write_text(json.dumps(record, indent=2), encoding="utf-8")
    missing = [f"fold {j['fold']} seed {j['seed']} ({j['state']})" for j in record["jobs"]
               if j["state"] != "done"]  # fmt: skip
    for j in record["jobs"]:
        print(f"fold {j['fold']} seed {j['seed']}: {j['state']}")  # noqa: T201
    if args.evaluate:
        print(f"pool: {record['pool']}")  # noqa: T201
    if missing:
        print(f"not done: {'; '.join(missing)} (logs and {out})", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
