"""nnU-Net v2 as the segmentation peer, at MT-UNet's CPU budget, through nnU-Net's own command line.

Steps (a rerun skips the export, planning, training and prediction already done, unless
``--fresh``; so ``--reference-release`` can be added afterwards):

1. **export**: the experiment runner's split of a phantom data root (training = every fold but
   ``--test-fold``, test = ``--test-fold``; the same cases as ``benchmarks/experiment/run.py``)
   to nnU-Net's raw format: ``DatasetNNN_BoneReadPlanar/{dataset.json, imagesTr, labelsTr,
   imagesTs}``, one NIfTI per channel (planar: anterior and posterior counts as a 1-slice
   volume; SPECT/CT: SPECT counts and CT in HU, channel named ``CT`` so nnU-Net applies its CT
   normalisation), labels 0 background, 1 benign, 2 metastatic, spacing from the npz.
2. **budget**: MT-UNet's training CPU time (user + system seconds, all threads): measured by
   training MT-UNet with the experiment's config for ``--measure-steps`` steps through
   ``boneread_ml.training.run.train_fold`` in a child process and scaling to the config's
   ``train.max_steps`` (or given with ``--budget-cpu-s``).
3. ``nnUNetv2_plan_and_preprocess -d N -c 2d --verify_dataset_integrity`` (planar; SPECT/CT:
   ``-c 3d_fullres``, nnU-Net's configuration for 3D data).
4. ``nnUNetv2_train N 2d all -tr nnUNetTrainerBoneReadBudget -device cpu``: nnU-Net's default
   trainer whose only change is the training length, fixed to the CPU budget
   (``nnunet_trainers/nnunet_budget_trainer.py``, found through nnU-Net's ``nnUNet_extTrainer``).
5. ``nnUNetv2_predict -i imagesTs -o ... -f all -device cpu --save_probabilities`` (nnU-Net's
   defaults otherwise: mirroring test-time augmentation, step size 0.5).
6. **evaluate** with the project's metrics: the same ``evaluate_model`` / ``summarize`` code as
   ``boneread-ml evaluate``, fed nnU-Net's label maps and probabilities (lesion table from
   ``predict.lesion_table``); with ``--reference-release`` the reference (MT-UNet) is evaluated
   on the same cases and compared (paired bootstrap of the Dice difference, DeLong on AUCs).

Everything run (commands, environment, settings, times) goes to ``RESULTS/nnunet_run.json``.
Nothing is downloaded: nnU-Net trains from scratch.

    .venv/bin/python benchmarks/experiment/nnunet_peer.py --task planar --cases 120 --seed 0 \\
        --data-root var/data/planar --reference-release var/experiment/planar/mt_unet/release
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

logger = logging.getLogger("nnunet_peer")

TRAINER = "nnUNetTrainerBoneReadBudget"
TRAINER_DIR = Path(__file__).resolve().parent / "nnunet_trainers"
CONFIGURATION = {"planar": "2d", "spectct": "3d_fullres"}
DATASET_NAMES = {"planar": "BoneReadPlanar", "spectct": "BoneReadSPECTCT"}
CHANNELS = {"planar": {"0": "anterior", "1": "posterior"}, "spectct": {"0": "SPECT", "1": "CT"}}
LABELS = {"background": 0, "benign": 1, "metastatic": 2}
FILE_ENDING = ".nii.gz"


def dataset_folder_name(dataset_id: int, task: str) -> str:
    return f"Dataset{dataset_id:03d}_{DATASET_NAMES[task]}"


def split(manifest: dict[str, Any], test_fold: int) -> tuple[list[dict], list[dict]]:
    """The experiment runner's split: training = other folds, test = ``test_fold``."""
    train = [c for c in manifest["cases"] if int(c["fold"]) != test_fold]
    test = [c for c in manifest["cases"] if int(c["fold"]) == test_fold]
    return train, test


def _write_volume(array: np.ndarray, spacing_zyx: tuple[float, float, float], path: Path) -> None:
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in spacing_zyx[::-1]))
    sitk.WriteImage(image, str(path), useCompression=True)


def _case_volumes(task: str, arrays: dict[str, np.ndarray]):
    """(channels as 3D (z, y, x) arrays, label (z, y, x), spacing (z, y, x) in mm)."""
    image, label = arrays["image"], arrays["label"]
    if task == "planar":
        row, col = (float(s) for s in np.asarray(arrays["pixel_spacing_mm"]).ravel()[:2])
        # a 2D scan is a 1-slice volume; nnU-Net plans 2D for it (its docs' convention)
        return [ch[None].astype(np.float32) for ch in image], label[None], (999.0, row, col)
    spacing = tuple(float(s) for s in np.asarray(arrays["spacing_mm"]).ravel()[:3])
    return [ch.astype(np.float32) for ch in image], label, spacing


def export_dataset(
    data_root: str | Path, raw_root: str | Path, dataset_id: int, task: str, test_fold: int = 0
) -> Path:
    """Write the experiment's split as an nnU-Net v2 raw dataset.

    Args:
        data_root: phantom data root (``manifest.json``).
        raw_root: ``nnUNet_raw`` folder.
        dataset_id: nnU-Net dataset id (1..999).
        task: ``"planar"`` or ``"spectct"``.
        test_fold: the held-out fold (written to ``imagesTs``).

    Returns:
        The dataset folder. It also holds ``boneread_cases.json`` (training and test case ids).
    """
    from boneread_ml.data.datasets import load_arrays, read_manifest

    manifest = read_manifest(data_root)
    if manifest.get("kind", task) != task:
        raise ValueError(f"{data_root} holds {manifest.get('kind')} cases, not {task}")
    train, test = split(manifest, test_fold)
    if not train or not test:
        raise ValueError(
            f"fold {test_fold} leaves {len(train)} training and {len(test)} test cases"
        )
    folder = Path(raw_root) / dataset_folder_name(dataset_id, task)
    if folder.exists():
        shutil.rmtree(folder)
    for sub in ("imagesTr", "labelsTr", "imagesTs"):
        (folder / sub).mkdir(parents=True)
    for cases, images_dir, with_label in ((train, "imagesTr", True), (test, "imagesTs", False)):
        for case in cases:
            channels, label, spacing = _case_volumes(task, load_arrays(data_root, case))
            cid = case["case_id"]
            for k, channel in enumerate(channels):
                _write_volume(channel, spacing, folder / images_dir / f"{cid}_{k:04d}{FILE_ENDING}")
            if with_label:
                _write_volume(
                    label.astype(np.uint8), spacing, folder / "labelsTr" / f"{cid}{FILE_ENDING}"
                )
    dataset_json = {
        "channel_names": CHANNELS[task],
        "labels": LABELS,
        "numTraining": len(train),
        "file_ending": FILE_ENDING,
        "name": DATASET_NAMES[task],
        "description": f"BoneRead synthetic {task} phantom, fold {test_fold} held out (imagesTs)",
    }
    (folder / "dataset.json").write_text(json.dumps(dataset_json, indent=2), encoding="utf-8")
    (folder / "boneread_cases.json").write_text(
        json.dumps({"data_root": str(data_root), "test_fold": test_fold,
                    "train": [c["case_id"] for c in train], "test": [c["case_id"] for c in test]},
                   indent=2),
        encoding="utf-8",
    )  # fmt: skip
    return folder


def nnunet_env(work: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for nnU-Net's commands: its three folders, the trainer path, CPU settings."""
    env = dict(os.environ)
    env.update(
        {
            "nnUNet_raw": str(work / "nnUNet_raw"),
            "nnUNet_preprocessed": str(work / "nnUNet_preprocessed"),
            "nnUNet_results": str(work / "nnUNet_results"),
            "nnUNet_extTrainer": str(TRAINER_DIR),
            "nnUNet_compile": "false",
        }
    )
    env.update(extra or {})
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_logged(cmd: list[str], env: dict[str, str], log: Path, record: list[dict]) -> None:
    """Run one nnU-Net command, append its command line, wall and CPU seconds to ``record``.

    The command runs through ``nnunet_cli.py`` (its console entry point; see that module for the
    one module it may mark absent where timm cannot be imported).
    """
    full = [sys.executable, str(Path(__file__).resolve().parent / "nnunet_cli.py"), *cmd]
    logger.info("$ %s", shlex.join(cmd))
    t0, c0 = time.perf_counter(), _children_cpu()
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n$ {shlex.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(full, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    entry = {"command": shlex.join(cmd), "wall_s": round(time.perf_counter() - t0, 1),
             "cpu_s": round(_children_cpu() - c0, 1), "returncode": proc.returncode}  # fmt: skip
    record.append(entry)
    _save_progress(log.parent, {**_progress(log.parent), "steps": record})
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}); see {log}")


def measure_mtunet_cpu(
    task: str, data_root: Path, test_fold: int, seed: int, steps: int, out: Path,
    config: str | None = None, full_steps: int | None = None, threads: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """CPU seconds per MT-UNet optimizer step with the experiment's settings (child process).

    The CPU time of ``train_fold`` (data set, model, ``steps`` optimizer steps, release; not the
    imports), scaled to ``full_steps`` (default: the config's ``train.max_steps``).
    """
    code = (
        "import json,resource,sys,time\n"
        f"sys.path.insert(0, {str(REPO / 'ml')!r})\n"
        "from boneread_ml.training.config import deep_update, load_config\n"
        "from boneread_ml.training.run import train_fold\n"
        f"cfg = load_config({str(config or REPO / 'ml' / 'configs' / f'{task}.yaml')!r})\n"
        "full = int(cfg['train']['max_steps'])\n"
        f"cfg = deep_update(cfg, {{'model': 'mt_unet', 'train': {{'seed': {seed}, 'val_every': 0,"
        f" 'max_steps': {steps}, 'calibrate_cases': 0}}}})\n"
        f"cfg = deep_update(cfg, {{'train': {{'num_threads': {threads!r}}}}}) if {threads!r} else cfg\n"
        f"full = {full_steps!r} or full\n"
        "u0 = resource.getrusage(resource.RUSAGE_SELF)\n"
        "t0 = time.perf_counter()\n"
        f"train_fold(cfg, {str(data_root)!r}, {str(out)!r}, val_folds=[{test_fold}])\n"
        "u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "cpu = u.ru_utime + u.ru_stime - u0.ru_utime - u0.ru_stime\n"
        "print(json.dumps({'steps': %d, 'full_steps': full, 'cpu_s': cpu,"
        " 'wall_s': time.perf_counter() - t0, 'threads': cfg['train'].get('num_threads')}))\n"
        % steps
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"MT-UNet measurement failed:\n{proc.stderr[-3000:]}")
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    m["cpu_s_per_step"] = m["cpu_s"] / m["steps"]
    m["budget_cpu_s"] = m["cpu_s_per_step"] * m["full_steps"]
    return m


def read_nnunet_prediction(pred_dir: Path, case_id: str, task: str):
    """nnU-Net's label map and class probabilities of one case, in the project's array layout."""
    import SimpleITK as sitk

    label = sitk.GetArrayFromImage(sitk.ReadImage(str(pred_dir / f"{case_id}{FILE_ENDING}")))
    probs = np.load(pred_dir / f"{case_id}.npz")["probabilities"].astype(np.float32)
    if task == "planar":  # 1-slice volumes back to 2D
        label, probs = label[0], probs[:, 0]
    return label.astype(np.uint8), probs


@contextmanager
def predictions_from(pred_dir: Path, task: str):
    """Make ``evaluate_model`` read nnU-Net's predictions instead of running a network.

    ``evaluate_model`` calls ``predict(images, report, model)``; this yields a model whose
    predictions are looked up by the image bytes (each test image maps to its case id), so the
    project's metric code runs unchanged on nnU-Net's output.
    """
    from unittest import mock

    from boneread_ml.evaluation import evaluate as evaluate_module
    from boneread_ml.predict import Prediction, lesion_table

    by_image: dict[bytes, str] = {}

    def register(images: np.ndarray, case_id: str) -> None:
        by_image[np.ascontiguousarray(images, dtype=np.float32).tobytes()] = case_id

    def fake_predict(images, report_text, model, **_kw):
        images = np.asarray(images, dtype=np.float32)
        case_id = by_image[np.ascontiguousarray(images).tobytes()]
        label, probs = read_nnunet_prediction(pred_dir, case_id, task)
        if label.shape != images.shape[1:]:
            raise ValueError(f"{case_id}: nnU-Net label {label.shape} vs image {images.shape}")
        instance, lesions = lesion_table(label, probs, images, task)
        return Prediction(label_map=label, probabilities=probs, lesions=lesions,
                          instance_map=instance, model_name="nnunet")  # fmt: skip

    model = SimpleNamespace(config={"text_mode": "none", "model_name": "nnunet"}, tokenizer=None,
                            name="nnunet")  # fmt: skip
    with mock.patch.object(evaluate_module, "predict", fake_predict):
        yield model, register


def evaluate_nnunet(
    pred_dir: Path, data_root: Path, test_cases: list[dict], task: str, seed: int, n_boot: int,
    reference_release: str | None, reference_name: str,
) -> dict[str, Any]:  # fmt: skip
    from boneread_ml.data.datasets import load_arrays
    from boneread_ml.evaluation.compare import compare_to_reference
    from boneread_ml.evaluation.evaluate import evaluate_model, summarize

    with predictions_from(pred_dir, task) as (model, register):
        for case in test_cases:
            register(load_arrays(data_root, case)["image"], case["case_id"])
        ev = evaluate_model(model, data_root, test_cases, name="nnunet", seed=seed)
    out: dict[str, Any] = {"summary": summarize(ev, n_boot=n_boot, seed=seed),
                           "per_case": ev.rows}  # fmt: skip
    if reference_release:
        from boneread_ml.predict import load_model

        ref = evaluate_model(load_model(reference_release), data_root, test_cases,
                             name=reference_name, seed=seed)  # fmt: skip
        out["reference_summary"] = summarize(ref, n_boot=n_boot, seed=seed)
        out["comparison"] = compare_to_reference(ref, [ev], n_boot=n_boot, seed=seed)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["planar", "spectct"], default="planar")
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0, help="data (phantom) and bootstrap seed")
    parser.add_argument("--test-fold", type=int, default=0)
    parser.add_argument("--data-root", help="default var/data/<task>")
    parser.add_argument("--work", help="nnU-Net folders (default var/nnunet/<task>)")
    parser.add_argument("--results", help="default docs/results/nnunet/<task>")
    parser.add_argument("--dataset-id", type=int, default=501)
    parser.add_argument("--config", help="MT-UNet experiment YAML (default ml/configs/<task>.yaml)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--budget-cpu-s", type=float, help="nnU-Net's training CPU seconds")
    budget.add_argument("--epochs", type=int, help="fixed epochs instead of a CPU budget (tests)")
    parser.add_argument("--measure-steps", type=int, default=100,
                        help="MT-UNet steps timed to derive the budget (scaled to train.max_steps)")  # fmt: skip
    parser.add_argument("--mtunet-steps", type=int,
                        help="MT-UNet's training steps the budget equals (default: the config's "
                             "train.max_steps; the experiment's --steps)")  # fmt: skip
    parser.add_argument(
        "--mtunet-threads",
        type=int,
        help="torch threads of the MT-UNet timing (the experiment's --threads)",
    )
    parser.add_argument("--iters-per-epoch", type=int, default=25)
    parser.add_argument("--val-iters-per-epoch", type=int, default=5)
    parser.add_argument("--reference-release", help="MT-UNet release to compare with (same cases)")
    parser.add_argument("--reference-name", default="mt_unet")
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--fresh", action="store_true", help="redo every step")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    from boneread_ml.data.datasets import read_manifest

    data_root = Path(args.data_root or REPO / "var" / "data" / args.task)
    work = Path(args.work or REPO / "var" / "nnunet" / args.task).resolve()
    results = Path(args.results or REPO / "docs" / "results" / "nnunet" / args.task)
    work.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    log = work / "nnunet.log"
    if not (data_root / "manifest.json").exists():
        from boneread_ml.data.manifest import generate

        generate(args.task, args.cases, args.seed, data_root, dicom=False)
    manifest = read_manifest(data_root)
    if len(manifest["cases"]) != args.cases or int(manifest.get("seed", args.seed)) != args.seed:
        raise SystemExit(f"{data_root} holds {len(manifest['cases'])} cases of seed "
                         f"{manifest.get('seed')}; asked for {args.cases} of seed {args.seed}")  # fmt: skip
    train, test = split(manifest, args.test_fold)
    record_path = results / "nnunet_run.json"
    record: dict[str, Any] = {
        "command": "python benchmarks/experiment/nnunet_peer.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "task": args.task, "cases": args.cases, "seed": args.seed, "test_fold": args.test_fold,
        "train_cases": len(train), "test_cases": len(test),
        "generator_version": manifest.get("generator_version"),
        "nnunetv2_version": _version("nnunetv2"), "torch_version": _version("torch"),
        "trainer": TRAINER, "configuration": CONFIGURATION[args.task], "fold": "all",
        "steps": [],
    }  # fmt: skip
    did = SimpleNamespace(
        dataset_id=args.dataset_id, name=dataset_folder_name(args.dataset_id, args.task)
    )
    raw = work / "nnUNet_raw" / did.name
    if args.fresh or not (raw / "dataset.json").exists():
        export_dataset(data_root, work / "nnUNet_raw", args.dataset_id, args.task, args.test_fold)

    # budget
    if args.epochs:
        extra = {"BONEREAD_NNUNET_EPOCHS": str(args.epochs)}
        record["budget"] = {"fixed_epochs": args.epochs}
    else:
        if args.budget_cpu_s:
            record["budget"] = {"budget_cpu_s": args.budget_cpu_s, "source": "--budget-cpu-s"}
        elif not args.fresh and _progress(work).get("budget", {}).get("budget_cpu_s"):
            record["budget"] = _progress(work)["budget"]  # measured by an earlier run
            record["steps"] = _progress(work).get("steps", [])
        else:
            m = measure_mtunet_cpu(args.task, data_root, args.test_fold, args.seed,
                                   args.measure_steps, work / "mtunet_timing", args.config,
                                   args.mtunet_steps, args.mtunet_threads)  # fmt: skip
            record["budget"] = {**m, "source": "MT-UNet measured in this run"}
        extra = {"BONEREAD_NNUNET_CPU_BUDGET_S": str(record["budget"]["budget_cpu_s"])}
        _save_progress(work, record)
    extra.update({"BONEREAD_NNUNET_ITERS": str(args.iters_per_epoch),
                  "BONEREAD_NNUNET_VAL_ITERS": str(args.val_iters_per_epoch)})  # fmt: skip
    env = nnunet_env(work, extra)
    record["environment"] = {
        k: env[k] for k in sorted(env) if k.startswith(("nnUNet", "BONEREAD_NNUNET"))
    }
    record["environment"].update({k: env.get(k) for k in ("OMP_NUM_THREADS",)})
    cfg = CONFIGURATION[args.task]
    dsid = str(args.dataset_id)
    plans_path = work / "nnUNet_preprocessed" / did.name / "nnUNetPlans.json"
    if args.fresh or not plans_path.exists():
        run_logged(["nnUNetv2_plan_and_preprocess", "-d", dsid, "-c", cfg,
                    "--verify_dataset_integrity", "-np", "1"], env, log, record["steps"])  # fmt: skip
    # augmentation in the training process (nnUNet_n_proc_DA=0), so that its CPU time is inside
    # the budget; only for training (nnU-Net's planner sets its thread count from this variable)
    train_env = {**env, "nnUNet_n_proc_DA": "0"}
    record["environment_train"] = {"nnUNet_n_proc_DA": "0"}
    model_dir = work / "nnUNet_results" / did.name / f"{TRAINER}__nnUNetPlans__{cfg}" / "fold_all"
    if args.fresh or not (model_dir / "checkpoint_final.pth").exists():
        run_logged(["nnUNetv2_train", dsid, cfg, "all", "-tr", TRAINER, "-device", "cpu"],
                   train_env, log, record["steps"])  # fmt: skip
    record["trainer_budget"] = json.loads((model_dir / "boneread_budget.json").read_text())
    plans = json.loads(plans_path.read_text())
    record["plans"] = plans["configurations"][cfg]
    pred_dir = work / "predictions"
    done = all((pred_dir / f"{c['case_id']}.npz").exists() for c in test)
    if args.fresh or not done:
        if pred_dir.exists():
            shutil.rmtree(pred_dir)
        run_logged(["nnUNetv2_predict", "-i", str(raw / "imagesTs"), "-o", str(pred_dir), "-d", dsid,
                    "-c", cfg, "-f", "all", "-tr", TRAINER, "-device", "cpu", "--save_probabilities",
                    "-npp", "1", "-nps", "1"], env, log, record["steps"])  # fmt: skip
    evaluated = evaluate_nnunet(pred_dir, data_root, test, args.task, args.seed, args.n_boot,
                                args.reference_release, args.reference_name)  # fmt: skip
    record.update(evaluated)
    record_path.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=_jsonable),
                           encoding="utf-8")  # fmt: skip
    s = evaluated["summary"]
    logger.info("nnU-Net: mean lesion-class Dice %.3f (test fold %d, %d cases); record in %s",
                s["mean_class_dice"], args.test_fold, len(test), record_path)  # fmt: skip
    for row in evaluated.get("comparison", []):
        logger.info("%s - nnU-Net: %+.4f (95%% CI %+.4f..%+.4f)", row["reference"],
                    row["mean_class_dice_difference"], *row["mean_class_dice_difference_ci"])  # fmt: skip
    return 0


def _progress(work: Path) -> dict[str, Any]:
    """What earlier runs in ``work`` recorded (budget, step timings), for a resumed run."""
    path = work / "progress.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save_progress(work: Path, record: dict[str, Any]) -> None:
    keep = {k: record[k] for k in ("budget", "steps") if k in record}
    (work / "progress.json").write_text(json.dumps(keep, indent=2, default=_jsonable), "utf-8")


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
