"""Library entry point for training: config -> data -> model -> trainer -> release.

``train_fold`` trains one model with one validation fold held out;
``train_cross_validation`` repeats it over folds (5-fold CV split by patient
through the manifest's ``fold`` field).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from boneread_ml.data.datasets import SegmentationDataset, TextCollate, read_manifest, split_cases
from boneread_ml.models.registry import build_model, text_mode
from boneread_ml.models.release import (
    load_matching_weights,
    save_release,
    update_release_config,
)
from boneread_ml.models.tokenizer import build_tokenizer, load_tokenizer
from boneread_ml.training.trainer import Trainer, seed_everything

logger = logging.getLogger(__name__)

TASK_SHAPES = {"planar": (2, 2), "spectct": (2, 2)}  # (spatial_dims, in_channels)


def make_tokenizer(cfg: dict[str, Any], out_dir: Path):
    """MacBERT's tokenizer when a pretrained text encoder is configured, else ours."""
    pretrained = (cfg.get("text") or {}).get("pretrained")
    if pretrained:
        return load_tokenizer(pretrained)
    return build_tokenizer(out_dir / "tokenizer", model_max_length=int(cfg["text"]["max_length"]))


def uses_site_maps(cfg: dict[str, Any], name: str) -> bool:
    """Whether model ``name`` of this config takes the report's site maps (text models; planar
    maps from the body atlas, SPECT/CT maps from the bones read on the CT)."""
    return text_mode(name) != "none" and bool((cfg.get("mt_unet") or {}).get("site_maps"))


def input_size_of(dataset: SegmentationDataset) -> tuple[int, ...]:
    """Spatial size of the training input (a crop when cropping)."""
    return tuple(dataset[0]["image"].shape[1:])


def build_args_for(cfg: dict[str, Any], input_size, vocab_size: int) -> dict[str, Any]:
    """Keyword arguments of :func:`build_model` for this experiment."""
    spatial_dims, in_channels = TASK_SHAPES[cfg["task"]]
    context = int(cfg.get("slice_context") or 0)
    return {
        "spatial_dims": spatial_dims,
        "in_channels": in_channels + 2 * context,
        "slice_context": context,
        "out_channels": 3,
        "input_size": list(input_size),
        "input_scale": float(cfg["input_scale"]),
        "vocab_size": int(vocab_size),
        "text": dict(cfg.get("text") or {}),
        "mt_unet": dict(cfg.get("mt_unet") or {}),
    }


def load_init_weights(model: torch.nn.Module, source: str | Path) -> int:
    """Transfer learning: copy matching tensors from a release dir or a ``last.pt``."""
    source = Path(source)
    if source.is_dir():
        from safetensors.torch import load_file

        state = load_file(str(source / "model.safetensors"))
    else:
        ckpt = torch.load(source, map_location="cpu", weights_only=False)
        state = ckpt.get("best_state") or ckpt["model"]
    loaded = load_matching_weights(model, state)
    logger.info("initialised %d/%d tensors from %s", len(loaded), len(model.state_dict()), source)
    return len(loaded)


def train_fold(
    cfg: dict[str, Any],
    data_root: str | Path,
    out_dir: str | Path,
    *,
    val_folds: list[int] | None = None,
    resume: bool = False,
    release_dir: str | Path | None = None,
    extra_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one model with ``val_folds`` held out and release its best weights.

    Args:
        cfg: experiment config.
        data_root: phantom data root (manifest.json).
        out_dir: run folder (``last.pt``, ``summary.json``, ``release/``).
        val_folds: validation folds (default ``cfg.train.val_folds``); [] = train on all.
        resume: continue from ``out_dir/last.pt`` when it exists.
        release_dir: where the safetensors release goes (default ``out_dir/release``).
        extra_metadata: merged into the release's config.json.

    Returns:
        Summary dict (best validation Dice, steps, seconds, throughput, paths).
    """
    tcfg = cfg["train"]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(tcfg.get("num_threads") or torch.get_num_threads()))
    seed = int(tcfg["seed"])
    seed_everything(seed)
    manifest = read_manifest(data_root)
    cases = manifest["cases"]
    if tcfg.get("max_cases"):
        cases = cases[: int(tcfg["max_cases"])]
    folds = list(tcfg["val_folds"]) if val_folds is None else list(val_folds)
    train_cases, val_cases = split_cases(cases, folds)
    name = cfg["model"]
    mode = text_mode(name)
    site_maps = uses_site_maps(cfg, name)
    train_ds = SegmentationDataset(
        data_root, train_cases, cfg["task"], text_mode=mode, augment=True,
        background_slices=tcfg.get("background_slices"), seed=seed,
        crop_size=tcfg.get("crop_size"), lesion_crop_prob=float(tcfg.get("lesion_crop_prob", 0.7)),
        site_maps=site_maps, flip_prob=float(tcfg.get("flip_prob") or 0.0),
        lesion_crop_by=str(tcfg.get("lesion_crop_by") or "pixel"),
        lesion_balance=bool(tcfg.get("lesion_balance")),
        slice_context=int(cfg.get("slice_context") or 0),
        site_registration=cfg.get("site_registration", "fitted"),
    )  # fmt: skip
    tokenizer = make_tokenizer(cfg, out_dir)
    uses_text = mode != "none"
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(
        train_ds, batch_size=int(tcfg["batch_size"]), shuffle=True, generator=generator,
        collate_fn=TextCollate(tokenizer, int(cfg["text"]["max_length"]), float(tcfg["text_dropout"]), seed,
                               called_normal_rate=float(tcfg.get("called_normal_rate") or 0.0)),
        drop_last=len(train_ds) > int(tcfg["batch_size"]),
    )  # fmt: skip
    val_loader = None
    if val_cases:
        val_ds = SegmentationDataset(
            data_root, val_cases, cfg["task"], text_mode=mode, augment=False,
            background_slices=tcfg.get("background_slices"), seed=seed, site_maps=site_maps,
            slice_context=int(cfg.get("slice_context") or 0),
            site_registration=cfg.get("site_registration", "fitted"),
        )  # fmt: skip
        val_loader = DataLoader(
            val_ds, batch_size=int(tcfg["batch_size"]), shuffle=False,
            collate_fn=TextCollate(tokenizer, int(cfg["text"]["max_length"]), 0.0, seed),
        )  # fmt: skip
    build_args = build_args_for(cfg, input_size_of(train_ds), len(tokenizer))
    model = build_model(name, **build_args)
    if tcfg.get("init_from"):
        load_init_weights(model, tcfg["init_from"])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    trainer = Trainer(
        model, cfg, train_loader, val_loader, out_dir,
        uses_text=uses_text, build_args=build_args, device=device,
    )  # fmt: skip
    if resume and (out_dir / "last.pt").exists():
        trainer.load_checkpoint(out_dir / "last.pt")
    result = trainer.fit()
    best = trainer.best_model().cpu()
    release = save_release(
        best,
        release_dir or out_dir / "release",
        model_name=name,
        task=cfg["task"],
        build_args=build_args,
        tokenizer=tokenizer if uses_text else None,
        extra={
            "experiment": cfg.get("experiment"),
            "text_mode": mode,
            "val_folds": folds,
            "train_cases": len(train_cases),
            "val_cases": len(val_cases),
            "seed": seed,
            "training": {k: v for k, v in result.items() if k != "history"},
            # the resolved config, whoever trains: predict() reads from it how the release's
            # site maps were painted (config.site_registration)
            "config": cfg,
            **(extra_metadata or {}),
        },
    )
    from boneread_ml.models.release import REPORT_SITE_SETTINGS

    post = cfg.get("postprocess") or {}
    site_settings = {k: post[k] for k in REPORT_SITE_SETTINGS if post.get(k) is not None}
    # a SPECT/CT site rule reads its maps on the CT: any text model applies it
    if site_settings and (site_maps or (cfg["task"] == "spectct" and mode != "none")):
        # settings of the release (predict applies them), kept by calibrate_release
        update_release_config(release, postprocess=site_settings)
    n_calib = int(tcfg.get("calibrate_cases") or 0)
    if n_calib and train_cases:
        from boneread_ml.evaluation.calibrate import calibrate_release

        result["postprocess"] = calibrate_release(
            release, data_root, train_cases[:n_calib], seed=seed,
            fit_floor=bool(tcfg.get("fit_lesion_floor")),
        )  # fmt: skip
    summary = {
        "model": name,
        "task": cfg["task"],
        "val_folds": folds,
        "release": str(release),
        **result,
    }
    (out_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return summary


def train_cross_validation(
    cfg: dict[str, Any],
    data_root: str | Path,
    out_dir: str | Path,
    folds=(0, 1, 2, 3, 4),
    resume: bool = False,
) -> list[dict[str, Any]]:
    """K-fold cross-validation by patient: one model per held-out fold."""
    summaries = []
    for fold in folds:
        logger.info("cross-validation: fold %d", fold)
        summaries.append(
            train_fold(
                cfg, data_root, Path(out_dir) / f"fold{fold}", val_folds=[fold], resume=resume
            )
        )
    return summaries
