"""Experiment configuration: one YAML per experiment, overridable from the command line."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

DEFAULTS: dict[str, Any] = {
    "experiment": "unnamed",
    "task": "planar",  # planar | spectct
    "model": "mt_unet",
    "data_root": None,  # or --data-root / BONEREAD_DATA_ROOT
    "input_scale": 0.5,
    # SPECT/CT: SPECT slices on each side of an axial slice given to the 2D network as extra
    # channels (2.5D; boneread_ml.data.transforms.slice_inputs); 0: the slice alone
    "slice_context": 0,
    # planar site maps: how the body atlas is laid on a scan (report_sites.SITE_REGISTRATIONS);
    # recorded in the release, so predict() paints the maps the network was trained with
    "site_registration": "fitted",
    "text": {
        "hidden_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 256,
        "max_length": 384,
        "pretrained": None,
    },  # fmt: skip
    "mt_unet": {"features": [16, 16, 32, 64, 128, 16], "gate_init": 0.1},
    "train": {
        "val_folds": [0],
        "batch_size": 4,
        "max_steps": 300,
        "lr": 2e-3,
        "text_lr": 1e-3,
        "weight_decay": 1e-4,
        "warmup_steps": 20,
        "grad_clip": 1.0,
        "text_dropout": 0.2,
        # share of reports replaced by a reader's miss (datasets.called_normal), labels kept
        "called_normal_rate": 0.0,
        "val_every": 50,
        "seed": 0,
        "num_threads": 2,
        "amp": True,  # CUDA only (bf16 autocast); ignored on CPU
        "background_slices": 8,
        "crop_size": None,  # e.g. [256, 256]: train on crops, validate/predict on whole images
        "lesion_crop_prob": 0.7,
        # a lesion-centred crop's centre: "pixel" (any lesion pixel) or "lesion" (a lesion
        # drawn uniformly, then one of its pixels: small lesions as often as large ones)
        "lesion_crop_by": "pixel",
        # weigh each lesion's pixels in the cross-entropy by median lesion area / its area
        "lesion_balance": False,
        "flip_prob": 0.0,  # mirror left-right with the report's 左/右 exchanged (augmentation)
        "ce_class_weights": None,  # e.g. [1, 4, 4]: cross-entropy weight per class
        "calibrate_cases": 16,  # training cases used to choose the lesion threshold (0: argmax)
        # also choose a lesion-probability floor on those cases (postprocess.lesion_floor)
        "fit_lesion_floor": False,
        "max_cases": None,
        "freeze": [],  # module prefixes: text_encoder, encoder, decoder
        "unfreeze_at_step": None,
        "init_from": None,  # release dir or last.pt to start from (transfer learning)
    },
    # written into the release's config.json (postprocess) for predict() to apply
    "postprocess": {
        # report-site class rule (boneread_ml.predict.assign_report_sites), e.g.
        # {"min_cover": 0.5}; only for models that read the report's site maps
        "site_rule": None,
        # report-site gate (boneread_ml.predict.gate_report_sites), e.g.
        # {"min_cover": 0.5, "min_probability": 0.4}: a lesion outside every site the report
        # names needs that lesion probability to be kept; only with the site maps, as above
        "site_gate": None,
    },
}


def deep_update(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge ``override`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults <- YAML file <- overrides.

    Raises:
        FileNotFoundError: when the YAML file is missing.
        ValueError: on unknown top-level keys or task, or a report-site rule or gate the
            model cannot apply.
    """
    cfg = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"config file {path} not found")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        unknown = set(loaded) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        cfg = deep_update(cfg, loaded)
    cfg = deep_update(cfg, overrides or {})
    if cfg["task"] not in ("planar", "spectct"):
        raise ValueError(f"task must be planar or spectct, got {cfg['task']!r}")
    from boneread_ml.data.datasets import LESION_CROP_BY

    crop_by = cfg["train"].get("lesion_crop_by")
    if crop_by not in LESION_CROP_BY:
        raise ValueError(
            f"{path or 'config'}: train.lesion_crop_by must be one of "
            f"{', '.join(LESION_CROP_BY)}, got {crop_by!r}"
        )
    if not isinstance(cfg["train"].get("lesion_balance"), bool):
        raise ValueError(
            f"{path or 'config'}: train.lesion_balance must be true or false, "
            f"got {cfg['train'].get('lesion_balance')!r}"
        )
    rate = cfg["train"].get("called_normal_rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ValueError(
            f"{path or 'config'}: train.called_normal_rate must be a number within [0, 1], "
            f"got {rate!r}"
        )
    _check_count_transform(cfg, str(path or "config"))
    _check_slice_context(cfg, str(path or "config"))
    from boneread_ml.data.report_sites import SITE_REGISTRATIONS

    if cfg.get("site_registration") not in SITE_REGISTRATIONS:
        raise ValueError(
            f"{path or 'config'}: site_registration must be one of "
            f"{', '.join(SITE_REGISTRATIONS)}, got {cfg.get('site_registration')!r}"
        )
    from boneread_ml.models.release import REPORT_SITE_SETTINGS, CheckpointError

    for key, check in REPORT_SITE_SETTINGS.items():
        setting = (cfg.get("postprocess") or {}).get(key)
        if setting is None:
            continue
        try:
            check(setting, f"{path or 'config'}: postprocess.{key}")
        except CheckpointError as exc:
            raise ValueError(str(exc)) from None
        planar_maps = cfg["task"] == "planar" and (cfg.get("mt_unet") or {}).get("site_maps")
        if not (planar_maps or (key == "site_rule" and cfg["task"] == "spectct")):
            raise ValueError(
                f"{path or 'config'}: postprocess.{key} needs task planar with "
                "mt_unet.site_maps: true (it reads the report's site maps) or, for a "
                "site_rule, task spectct (the maps are read on the CT)"
            )
    return cfg


#: Leading image channels that hold counts, per task (SPECT/CT: the CT channel is not).
COUNT_CHANNELS = {"planar": 2, "spectct": 1}


def _check_count_transform(cfg: dict[str, Any], where: str) -> None:
    """Check ``mt_unet.count_transform`` and fill ``count_channels`` from the task."""
    from boneread_ml.models.mt_unet import COUNT_TRANSFORMS

    section = cfg.get("mt_unet") or {}
    transform = section.get("count_transform", "linear")
    if transform not in COUNT_TRANSFORMS:
        raise ValueError(
            f"{where}: mt_unet.count_transform must be one of {', '.join(COUNT_TRANSFORMS)}, "
            f"got {transform!r}"
        )
    if transform == "linear":
        return
    expected = COUNT_CHANNELS[cfg["task"]]
    channels = section.get("count_channels", expected)
    if channels != expected:
        raise ValueError(
            f"{where}: mt_unet.count_channels must be {expected} for task {cfg['task']} "
            f"(its count channels), got {channels!r}"
        )
    cfg["mt_unet"] = {**section, "count_channels": expected}


def _check_slice_context(cfg: dict[str, Any], where: str) -> None:
    """``slice_context``: a non-negative integer, SPECT/CT only, linear counts only."""
    context = cfg.get("slice_context")
    if isinstance(context, bool) or not isinstance(context, int) or context < 0:
        raise ValueError(f"{where}: slice_context must be an integer >= 0, got {context!r}")
    if not context:
        return
    if cfg["task"] != "spectct":
        raise ValueError(
            f"{where}: slice_context needs task spectct (axial slices), got {cfg['task']!r}"
        )
    if (cfg.get("mt_unet") or {}).get("count_transform", "linear") != "linear":
        raise ValueError(
            f"{where}: slice_context with mt_unet.count_transform other than linear is not "
            "supported (the transform reads the leading count channel only)"
        )


def resolve_data_root(cfg: dict[str, Any], cli_value: str | None = None) -> Path:
    """Data root from the CLI, then the config, then $BONEREAD_DATA_ROOT.

    Raises:
        ValueError: with instructions when none is given.
    """
    root = cli_value or cfg.get("data_root") or os.environ.get("BONEREAD_DATA_ROOT")
    if not root:
        raise ValueError(
            "no data root: pass --data-root, set data_root in the YAML or BONEREAD_DATA_ROOT; "
            "make data with `boneread-ml synth --kind planar --cases 60 --seed 0 --out var/data/planar`"
        )
    return Path(root)


def parse_override(text: str) -> dict[str, Any]:
    """``"train.max_steps=50"`` -> ``{"train": {"max_steps": 50}}`` (value parsed as YAML)."""
    if "=" not in text:
        raise ValueError(f"override must be KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    out: dict[str, Any] = {}
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = yaml.safe_load(value)
    return out
