"""Released weights: ``model.safetensors`` + ``config.json`` + tokenizer files.

``config.json`` records everything needed to rebuild the network without the
training code's configuration (registry name and build arguments, the text
encoder's BERT config, preprocessing) and the sha256 of the weights file,
which :func:`load_release` verifies before anything is loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from boneread_ml.models.registry import build_model

logger = logging.getLogger(__name__)

FORMAT = "boneread-ml/segmenter-1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


class CheckpointError(RuntimeError):
    """A checkpoint directory is incomplete, corrupt or of an unknown format."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def release_build_args(model: nn.Module, build_args: dict[str, Any]) -> dict[str, Any]:
    """Build arguments that rebuild ``model`` offline (a pretrained path becomes its config)."""
    args = json.loads(json.dumps(build_args))
    encoder = getattr(model, "text_encoder", None)
    if encoder is not None:
        max_length = (args.get("text") or {}).get("max_length")
        args["text"] = {"bert_config": encoder.config_dict()}
        if max_length:
            args["text"]["max_length"] = max_length
    return args


def save_release(
    model: nn.Module,
    out_dir: str | Path,
    *,
    model_name: str,
    task: str,
    build_args: dict[str, Any],
    tokenizer=None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a release directory.

    Args:
        model: the trained network.
        out_dir: destination folder (created).
        model_name: registry name (``mt_unet``, ``unet``...).
        task: ``planar`` or ``spectct``.
        build_args: keyword arguments of :func:`build_model` (besides the name).
        tokenizer: the tokenizer (saved with ``save_pretrained``) for text models.
        extra: more JSON-able metadata (training command, metrics...).

    Returns:
        The directory.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # clone: some MONAI nets (DynUNet) share tensors between modules, which safetensors refuses
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS), metadata={"format": FORMAT})
    if tokenizer is not None:
        tokenizer.save_pretrained(str(out))
    config = {
        "format": FORMAT,
        "model_name": model_name,
        "task": task,
        "build_args": release_build_args(model, build_args),
        "uses_text": bool(getattr(model, "uses_text", False)),
        "classes": {"0": "background", "1": "benign", "2": "metastatic"},
        "weights_file": WEIGHTS,
        "weights_sha256": sha256_file(out / WEIGHTS),
        **(extra or {}),
    }
    (out / CONFIG).write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    logger.info("released %s (%s) to %s", model_name, task, out)
    return out


def postprocess_sha256(config: dict[str, Any]) -> str:
    """sha256 of a release's ``postprocess`` section (canonical JSON; ``{}`` when absent).

    What predict() does after the network (threshold, recalibration, report-site rule and
    gate) belongs to a model version as much as its weights: the archive registers a
    release by both and the worker refuses a release whose post-processing changed.
    """
    text = json.dumps(
        config.get("postprocess") or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_release_config(path: str | Path) -> dict[str, Any]:
    """Read and check ``config.json`` of a release directory.

    Raises:
        CheckpointError: missing directory/files, unknown format, or a weights
            checksum that does not match the one recorded.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"checkpoint directory {path} does not exist")
    cfg_path = path / CONFIG
    if not cfg_path.exists():
        raise CheckpointError(f"checkpoint {path} has no {CONFIG}")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{cfg_path} is not valid JSON: {exc}") from exc
    if config.get("format") != FORMAT:
        raise CheckpointError(
            f"{cfg_path}: unknown format {config.get('format')!r}, expected {FORMAT}"
        )
    weights = path / config.get("weights_file", WEIGHTS)
    if not weights.exists():
        raise CheckpointError(f"checkpoint {path} has no weights file {weights.name}")
    expected = config.get("weights_sha256")
    if not expected:
        raise CheckpointError(f"{cfg_path} records no weights_sha256")
    actual = sha256_file(weights)
    if actual != expected:
        raise CheckpointError(
            f"checksum mismatch for {weights}: config.json records {expected}, file has {actual}"
        )
    check_postprocess(config, where=str(cfg_path))
    check_site_registration(config, where=str(cfg_path))
    if (
        config.get("uses_text")
        and not (path / "vocab.txt").exists()
        and not (path / "tokenizer.json").exists()
    ):
        raise CheckpointError(f"checkpoint {path} uses text but has no tokenizer files")
    return config


def _finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite JSON number (not a bool), else None."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) else None


def _check_site_setting(value: Any, field: str, known: list[str], example: str) -> None:
    """The shape both report-site settings share: an object of known keys with a
    ``min_cover`` in (0, 1] (default 0.5)."""
    if not isinstance(value, dict):
        raise CheckpointError(f"{field} must be an object such as {example}, got {value!r}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise CheckpointError(f"{field} has unknown keys {unknown} (known: {known})")
    cover = value.get("min_cover", 0.5)
    if not ((c := _finite(cover)) is not None and 0.0 < c <= 1.0):
        raise CheckpointError(f"{field}.min_cover must be a number in (0, 1], got {cover!r}")


def check_site_rule(rule: Any, field: str = "postprocess.site_rule") -> None:
    """Check the shape of a report-site class rule (``{"min_cover": 0.5}``).

    Raises:
        CheckpointError: naming ``field`` and what is wrong.
    """
    _check_site_setting(rule, field, ["min_cover"], '{"min_cover": 0.5}')


def check_site_gate(gate: Any, field: str = "postprocess.site_gate") -> None:
    """Check the shape of a report-site gate (``{"min_cover": 0.5, "min_probability": 0.4}``).

    Raises:
        CheckpointError: naming ``field`` and what is wrong.
    """
    example = '{"min_cover": 0.5, "min_probability": 0.4}'
    _check_site_setting(gate, field, ["min_cover", "min_probability"], example)
    if "min_probability" not in gate:
        raise CheckpointError(f"{field}.min_probability is missing")
    prob = gate["min_probability"]
    if not ((q := _finite(prob)) is not None and 0.0 <= q <= 1.0):
        raise CheckpointError(f"{field}.min_probability must be a number in [0, 1], got {prob!r}")


#: postprocess settings that read the report's site maps, and their shape checks
REPORT_SITE_SETTINGS = {"site_rule": check_site_rule, "site_gate": check_site_gate}
#: postprocess settings chosen for a release, not fitted by calibration: recalibrating keeps them
#: (the threshold, recalibration and floor are refitted with them in effect)
RELEASE_SETTINGS = ("flip_average", *REPORT_SITE_SETTINGS)


def check_postprocess(config: dict[str, Any], where: str = CONFIG) -> None:
    """Check a release's ``postprocess`` section before anything runs with it.

    :func:`boneread_ml.predict.predict` applies what this section records (the lesion
    threshold, the lesion-probability recalibration and floor, the flip average, the report-site
    class rule and gate). A value it cannot use must stop the load with the field named, not fail in the
    middle of a job or, worse, run with a silently different meaning.

    Raises:
        CheckpointError: naming the field and what is wrong with it.
    """
    section = config.get("postprocess")
    if section is None:
        return
    if not isinstance(section, dict):
        raise CheckpointError(f"{where}: postprocess must be an object, got {section!r}")

    threshold = section.get("lesion_threshold")
    # on 1 - p(background): 1 marks nothing, a negative value everything (tests use both)
    if threshold is not None and not ((t := _finite(threshold)) is not None and -1.0 <= t <= 1.0):
        raise CheckpointError(
            f"{where}: postprocess.lesion_threshold must be a number in [-1, 1], got {threshold!r}"
        )
    calibration = section.get("lesion_calibration")
    if calibration is not None:
        from boneread_ml.evaluation.calibrate import LESION_FEATURE_SETS

        field = f"{where}: postprocess.lesion_calibration"
        if not isinstance(calibration, dict):
            raise CheckpointError(f"{field} must be an object, got {calibration!r}")
        features = calibration.get("features")
        if not isinstance(features, list) or tuple(features) not in LESION_FEATURE_SETS.values():
            allowed = " or ".join(str(list(f)) for f in LESION_FEATURE_SETS.values())
            raise CheckpointError(f"{field}.features must be {allowed}, got {features!r}")
        coef = calibration.get("coef")
        if (
            not isinstance(coef, list)
            or len(coef) != len(features)
            or any(_finite(c) is None for c in coef)
        ):
            raise CheckpointError(
                f"{field}.coef must be {len(features)} finite numbers, got {coef!r}"
            )
        if _finite(calibration.get("intercept")) is None:
            raise CheckpointError(
                f"{field}.intercept must be a finite number, got {calibration.get('intercept')!r}"
            )
    floor = section.get("lesion_floor")
    if floor is not None:
        field = f"{where}: postprocess.lesion_floor"
        if not isinstance(floor, dict) or "min_probability" not in floor:
            raise CheckpointError(
                f'{field} must be an object with min_probability, e.g. {{"min_probability": 0.3}},'
                f" got {floor!r}"
            )
        prob = floor["min_probability"]
        if not ((q := _finite(prob)) is not None and 0.0 <= q <= 1.0):
            raise CheckpointError(
                f"{field}.min_probability must be a number in [0, 1], got {prob!r}"
            )
    flip = section.get("flip_average")
    if flip is not None:
        field = f"{where}: postprocess.flip_average"
        if not isinstance(flip, bool):
            raise CheckpointError(f"{field} must be true or false, got {flip!r}")
        if flip and config.get("task") != "planar":
            raise CheckpointError(
                f"{field} is for planar scans (the mirrored scan with the report's sides "
                f"exchanged); this release is {config.get('task')!r}"
            )
    for key, check in REPORT_SITE_SETTINGS.items():
        if section.get(key) is None:
            continue
        field = f"{where}: postprocess.{key}"
        check(section[key], field)
        mt_unet = (config.get("build_args") or {}).get("mt_unet") or {}
        # a SPECT/CT rule paints the maps from the CT itself; the gate and a planar rule need
        # a network that reads them (planar maps are registered for it)
        ct_rule = key == "site_rule" and config.get("task") == "spectct"
        if not (ct_rule or (config.get("task") == "planar" and mt_unet.get("site_maps"))):
            raise CheckpointError(
                f"{field} needs a planar model that reads the report's site maps "
                f"(build_args.mt_unet.site_maps) or, for a site_rule, a SPECT/CT model; this "
                f"release is {config.get('task')!r} {config.get('model_name')!r} without them"
            )
        if not config.get("uses_text"):
            raise CheckpointError(f"{field} needs a model that reads the report (uses_text)")


def check_site_registration(config: dict[str, Any], where: str = CONFIG) -> None:
    """A recorded ``config.site_registration`` (how the planar atlas was laid on the scans the
    network was trained with) must be one :func:`boneread_ml.predict.predict` can paint.

    Raises:
        CheckpointError: naming the field and the allowed values.
    """
    from boneread_ml.data.report_sites import SITE_REGISTRATIONS

    training = config.get("config")
    if not isinstance(training, dict) or "site_registration" not in training:
        return
    if training["site_registration"] not in SITE_REGISTRATIONS:
        raise CheckpointError(
            f"{where}: config.site_registration must be one of {', '.join(SITE_REGISTRATIONS)}, "
            f"got {training['site_registration']!r}"
        )


def update_release_config(path: str | Path, **fields: Any) -> dict[str, Any]:
    """Add or replace top-level fields of a release's config.json (weights untouched)."""
    path = Path(path)
    config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    config.update(fields)
    (path / CONFIG).write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    return config


def load_release(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Verify and load a release directory.

    Returns:
        (model in eval mode on CPU, config dict).
    """
    path = Path(path)
    config = read_release_config(path)
    model = build_model(config["model_name"], **config["build_args"])
    state = load_file(str(path / config.get("weights_file", WEIGHTS)))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(
            f"weights in {path} do not fit {config['model_name']}: {exc}"
        ) from exc
    model.eval()
    return model, config


def load_matching_weights(model: nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """Copy the tensors whose name and shape match (transfer learning).

    Returns:
        Names that were loaded.
    """
    own = model.state_dict()
    loaded = [k for k, v in state.items() if k in own and own[k].shape == v.shape]
    own.update({k: state[k] for k in loaded})
    model.load_state_dict(own)
    return loaded
