"""The product interface: load a released segmenter and run it on one study.

This is the one entry point the backend's inference job calls::

    from boneread_ml.predict import load_model, predict

    model = load_model("ml/checkpoints/planar")       # verifies the sha256
    result = predict(images, report_text, model)       # images as in the npz "image"
    result.label_map      # uint8, input's spatial shape, 0 bg / 1 benign / 2 metastatic
    result.probabilities  # float32 (3, *spatial): softmax per class
    result.lesions        # list of dicts, one per connected component

``images``: planar (2, 1024, 256) float32 counts (anterior, posterior mirrored
into the anterior frame); SPECT/CT (2, D, H, W) (SPECT counts on the CT grid,
CT in HU). ``report_text`` may be empty: the network was trained with text
dropout and falls back towards its image-only behaviour.

Interface stability: the signatures of :func:`load_model` and
:func:`predict` and the fields of :class:`Prediction` and of each lesion
dict are a contract with the backend; extend, do not change.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import ndimage

from boneread_ml.data.transforms import normalize, slice_inputs
from boneread_ml.evaluation.calibrate import labels_at
from boneread_ml.models.inference import optimize_for_inference
from boneread_ml.models.onnx_runtime import OrtNetwork, ort_network
from boneread_ml.models.release import CheckpointError, load_release
from boneread_ml.models.tokenizer import load_tokenizer

logger = logging.getLogger(__name__)

CLASS_NAMES = {1: "benign", 2: "metastatic"}
#: slices per forward pass for slice-wise SPECT/CT inference on the CPU. Measured on 2 threads
#: (docs/ml.md, "Inference speed (CPU)"): 8 slices of 128 x 128 (a 16-channel map of 8 MiB,
#: within the 32 MiB L3 cache) ran a volume about 2x faster than 32 in torch and 1.1x in ONNX
#: Runtime.
SLICE_BATCH = 8
#: the same on a GPU, where each batch costs about the same whatever its size (kernel launches):
#: on an H200 a 128-slice volume's forward took 0.24 s at 8 slices per batch and 0.07 s at 32,
#: on an H100 0.12 s and 0.032 s (benchmarks/results/inference_gpu.json, ``slice_batch_sweep``).
GPU_SLICE_BATCH = 32


def slice_batch(device: torch.device) -> int:
    """Slices per forward pass of slice-wise SPECT/CT inference on ``device``."""
    return SLICE_BATCH if device.type == "cpu" else GPU_SLICE_BATCH


def rewrites_pay_off(device: torch.device) -> bool:
    """Whether :func:`optimize_for_inference`'s rewrites speed the network up on ``device``.

    On the CPU they do (docs/ml.md, "Inference speed (CPU)"). On an H200 the full-resolution
    planar network as built ran its forward in 12.4 ms and rewritten in 14.9 ms (medians of 9,
    2026-12-04; docs/ml.md, "On a GPU"): there it runs as built.
    """
    return device.type == "cpu"


__all__ = [
    "CheckpointError",
    "LoadedModel",
    "ModelOutputError",
    "Prediction",
    "load_model",
    "predict",
]


class ModelOutputError(RuntimeError):
    """The network returned probabilities that are not finite numbers (NaN or infinite).

    No lesion list is made from them: a NaN compares false against every threshold,
    so the study would silently read as lesion-free.
    """


@dataclass
class LoadedModel:
    """A verified, ready-to-run segmenter.

    Attributes:
        network: the torch module (eval mode, CPU unless moved).
        config: the checkpoint's config.json.
        tokenizer: the report tokenizer (None for image-only models).
        path: the checkpoint directory.
        ort: the image network exported to ONNX Runtime, which :func:`predict`
            runs instead of ``network``'s forward (the report is still encoded by
            ``network``), or None: the torch forward runs.
    """

    network: torch.nn.Module
    config: dict[str, Any]
    tokenizer: Any
    path: Path
    ort: OrtNetwork | None = None

    @property
    def runtime(self) -> str:
        """What runs the image network: "onnxruntime" or "torch"."""
        return "onnxruntime" if self.ort is not None else "torch"

    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def name(self) -> str:
        return self.config["model_name"]

    @property
    def checksum(self) -> str:
        """sha256 of the weights (also the ModelVersion's file checksum)."""
        return self.config["weights_sha256"]

    @property
    def lesion_threshold(self) -> float | None:
        """Calibrated threshold on 1 - p(background) (None: argmax), see evaluation.calibrate."""
        value = (self.config.get("postprocess") or {}).get("lesion_threshold")
        return None if value is None else float(value)

    @property
    def lesion_calibration(self) -> dict[str, Any] | None:
        """Recalibration of lesion probabilities (see evaluation.calibrate), or None."""
        return (self.config.get("postprocess") or {}).get("lesion_calibration")

    @property
    def site_rule(self) -> dict[str, Any] | None:
        """The report-site class rule (see :func:`assign_report_sites`), or None: off."""
        return (self.config.get("postprocess") or {}).get("site_rule")

    @property
    def site_registration(self) -> str:
        """Planar site maps: how the atlas is laid on the scan, as the network was trained
        (the training config's ``site_registration``; "outline" for a release trained before
        the key existed, when that was the only way)."""
        return str((self.config.get("config") or {}).get("site_registration", "outline"))

    @property
    def site_gate(self) -> dict[str, Any] | None:
        """The report-site gate (see :func:`gate_report_sites`), or None: off."""
        return (self.config.get("postprocess") or {}).get("site_gate")

    @property
    def flip_average(self) -> bool:
        """Planar: average the softmax with that of the mirrored scan read with the report's
        左 and 右 exchanged (the training's flip augmentation, at test time); off when absent."""
        return bool((self.config.get("postprocess") or {}).get("flip_average"))

    @property
    def lesion_floor(self) -> dict[str, Any] | None:
        """The lesion-probability floor (see :func:`apply_lesion_floor`), or None: off."""
        return (self.config.get("postprocess") or {}).get("lesion_floor")

    @property
    def max_length(self) -> int:
        return int((self.config["build_args"].get("text") or {}).get("max_length", 256))


@dataclass
class Prediction:
    """Result of :func:`predict`.

    Attributes:
        label_map: uint8, the input's spatial shape; 0 background, 1 benign, 2 metastatic
            (lesion where 1 - p(background) exceeds the checkpoint's calibrated
            threshold, argmax when none is recorded); every pixel of a lesion has the lesion's
            class (see ``lesions``), not its own likelier one.
        probabilities: float32 (3, *spatial) softmax probabilities per class.
        lesions: one dict per connected lesion component: ``id`` (1-based,
            matches ``instance_map``), ``label`` (1/2), ``class_name``,
            ``probability`` (mean probability of its class over it, recalibrated
            when the release records a lesion calibration; the raw mean is
            ``probability_uncalibrated``),
            ``area_px`` and ``area_mm2`` (planar) or ``volume_vox`` and
            ``volume_ml`` (SPECT/CT; mm/ml only when spacing is known),
            ``max_counts`` (highest raw counts in it), ``centroid`` (index
            coordinates), ``bbox`` ([start..., stop...], stop exclusive),
            ``region`` (Chinese region name or None: planar, a coarse region from
            the lesion's place in the body; SPECT/CT, the bone and level read from
            the CT by :mod:`boneread_ml.ct_regions` when the spacing is known).
        instance_map: uint16 component ids, same shape as ``label_map``.
        model_name: registry name of the network.
        checksum: sha256 of its weights.
        held_back: the lesions the release's post-processing took out of the maps and the
            list, so that a reader can still look at them on request: the report-site gate's
            (``held_back`` "outside_report") and the lesion-probability floor's
            ("below_floor"); the keys of ``lesions``, ``id`` numbered on after the listed
            lesions (no pixel of ``instance_map`` carries it).
    """

    label_map: np.ndarray
    probabilities: np.ndarray
    lesions: list[dict[str, Any]]
    instance_map: np.ndarray
    model_name: str = ""
    checksum: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    held_back: list[dict[str, Any]] = field(default_factory=list)


def load_model(
    path: str | Path,
    device: str | torch.device = "cpu",
    *,
    optimize: bool = True,
    runtime: str = "auto",
) -> LoadedModel:
    """Load a checkpoint directory, verifying the weights' sha256 first.

    Args:
        path: directory with ``model.safetensors``, ``config.json`` and (text
            models) the tokenizer files.
        device: torch device to run on.
        optimize: prepare the network for fast inference: on the CPU, a 2D
            MT-UNet's image network is exported to ONNX Runtime
            (:mod:`boneread_ml.models.onnx_runtime`, when ``onnxruntime`` is
            installed), and the torch network is rewritten
            (:func:`boneread_ml.models.inference.optimize_for_inference`:
            channels-last, fused normalisation; on the CPU only, see
            :func:`rewrites_pay_off`); same weights, outputs equal to
            the eager network within float rounding. False keeps the network
            exactly as built and runs it in torch (training, fine-tuning, debugging).
        runtime: "auto" (ONNX Runtime where possible, else torch), "torch", or
            "onnxruntime" (raises when it is not possible). Only with ``optimize``.

    Returns:
        :class:`LoadedModel`.

    Raises:
        CheckpointError: missing files, unknown format, checksum mismatch.
        ValueError: an unknown ``runtime``, or "onnxruntime" where it cannot run.
    """
    if runtime not in ("auto", "torch", "onnxruntime"):
        raise ValueError(f"runtime must be auto, torch or onnxruntime, got {runtime!r}")
    path = Path(path)
    network, config = load_release(path)
    tokenizer = load_tokenizer(path) if config.get("uses_text") else None
    network.to(device)
    ort = None
    if optimize and runtime != "torch":
        # exported from the network as built, before the torch rewrites below
        ort = ort_network(network, strict=runtime == "onnxruntime")
    if optimize and rewrites_pay_off(torch.device(device)):
        optimize_for_inference(network)
    logger.info(
        "loaded %s (%s) from %s, sha256 %s, runtime %s",
        config["model_name"],
        config["task"],
        path,
        config["weights_sha256"][:12],
        "onnxruntime" if ort is not None else "torch",
    )
    return LoadedModel(network=network, config=config, tokenizer=tokenizer, path=path, ort=ort)


def _tokenize(
    model: LoadedModel, report_text: str, device
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    if model.tokenizer is None:
        return None, None
    enc = model.tokenizer(
        [report_text or ""], truncation=True, max_length=model.max_length, return_tensors="pt"
    )
    return enc["input_ids"].to(device), enc["attention_mask"].to(device)


def _pad_multiple(network: torch.nn.Module) -> int:
    return int(round(32 / float(getattr(network, "input_scale", 1.0))))


def _run_2d(
    network, x: np.ndarray, ids, mask, device, z: np.ndarray | None = None, text=None,
    site_maps: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """x: (B, C, H, W) normalised -> softmax (B, K, H, W).

    The extent passed on keeps whole-image coordinates [-1, 1] on the image
    itself when it is padded; ``z`` (B,) adds each slice's axial position.
    ``site_maps`` (B, 2, H, W): the report's site maps (networks that take them).
    """
    h, w = x.shape[-2:]
    m = _pad_multiple(network)
    ph, pw = (-h) % m, (-w) % m
    t = torch.from_numpy(np.ascontiguousarray(x)).to(device)
    kwargs: dict[str, Any] = {"text": text} if text is not None else {}
    if site_maps is not None:
        kwargs["site_maps"] = torch.from_numpy(np.ascontiguousarray(site_maps)).to(device)
    if ph or pw:
        t = torch.nn.functional.pad(t, (0, pw, 0, ph))
        if "site_maps" in kwargs:
            kwargs["site_maps"] = torch.nn.functional.pad(kwargs["site_maps"], (0, pw, 0, ph))
    rows = [[-1.0, -1.0 + 2.0 * (h + ph - 1) / max(1, h - 1)],
            [-1.0, -1.0 + 2.0 * (w + pw - 1) / max(1, w - 1)]]  # fmt: skip
    extent = np.repeat(np.array([rows], np.float32), len(x), axis=0)
    if z is not None:
        zz = np.repeat(np.asarray(z, np.float32)[:, None, None], 2, axis=2)
        extent = np.concatenate([zz, extent], axis=1)
    logits = network(t, ids, mask, extent=torch.from_numpy(extent).to(device), **kwargs)
    return _softmax(logits[..., :h, :w])


def _mirrored_planar(
    forward, x: np.ndarray, report_text: str, model: LoadedModel, maps, device
) -> np.ndarray:
    """The planar softmax (3, H, W) of the scan mirrored left-right, read with the report's
    左 and 右 exchanged and its site maps mirrored, mirrored back onto the scan: the patient
    seen as the training's flip augmentation shows it (``postprocess.flip_average``)."""
    from boneread_ml.data.datasets import swap_sides

    ids, mask = _tokenize(model, swap_sides(report_text or ""), device)
    sites = None if maps is None else maps[None, ..., ::-1]
    return _run_2d(forward, x[None, ..., ::-1], ids, mask, device, site_maps=sites)[0][..., ::-1]


def report_site_maps(
    model: LoadedModel,
    report_text: str,
    images: np.ndarray,
    spacing_mm: Sequence[float] | None = None,
    ct_sites: bool = True,
) -> tuple[np.ndarray | None, Any]:
    """The report's benign / metastatic site maps for a model that reads them (input channels)
    or applies them (the release's report-site rule), and the SPECT/CT's CT as read.

    Args:
        model, report_text, images, spacing_mm, ct_sites: as :func:`predict` takes them.

    Returns:
        ``(maps, anatomy)``: maps (2, *spatial) float32, None when the model uses none;
        anatomy (:class:`boneread_ml.ct_regions.CtAnatomy`) when the CT was read, else None.

    Raises:
        ValueError: a SPECT/CT report that names sites but no voxel spacing, so the CT's
            bones (vertebral levels, rib numbers) cannot be counted.
    """
    network = model.network
    if not getattr(network, "site_map_channels", 0) and model.site_rule is None:
        return None, None
    text = report_text if model.tokenizer is not None else ""
    if model.task == "planar":
        from boneread_ml.data.report_sites import planar_site_maps

        return planar_site_maps(text, images, registration=model.site_registration), None
    from boneread_ml.data.report_sites import read_spectct_site_maps

    return read_spectct_site_maps(text if ct_sites else "", images, spacing_mm)


def _softmax(logits: torch.Tensor) -> np.ndarray:
    """Softmax over the class axis (1), as a float32 array.

    On the CPU in numpy (one thread): a torch softmax between two ONNX Runtime
    runs leaves torch's and ONNX Runtime's thread pools competing for the cores;
    measured on a 128-slice SPECT/CT volume on 2 threads, predict() took about
    0.14 s longer with it (docs/ml.md, "Inference speed (CPU)").
    """
    if logits.device.type != "cpu":
        return torch.softmax(logits.float(), dim=1).cpu().numpy()
    a = logits.float().numpy()
    e = np.exp(a - a.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


def _check_images(task: str, images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    want = 3 if task == "planar" else 4
    if images.ndim != want or images.shape[0] != 2:
        shape = "(2, H, W)" if task == "planar" else "(2, D, H, W)"
        raise ValueError(f"{task} model expects images of shape {shape}, got {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values")
    return images.astype(np.float32, copy=False)


@torch.inference_mode()
def predict(
    images: np.ndarray,
    report_text: str,
    model: LoadedModel,
    *,
    spacing_mm: Sequence[float] | None = None,
    ct_sites: bool = True,
) -> Prediction:
    """Segment one study.

    Args:
        images: planar (2, H, W) counts or SPECT/CT (2, D, H, W) (SPECT counts, CT HU),
            as stored in the phantom's npz ``image``.
        report_text: the Chinese report (history + findings + impression); may be "".
        model: from :func:`load_model`.
        spacing_mm: pixel (row, col) or voxel (z, y, x) spacing, for mm2 / ml (and, for
            SPECT/CT, the lesions' regions and the report's site maps read from the CT).
        ct_sites: False: the CT does not lie as the CT reading assumes (slices superior
            first, columns to the patient's left, rows to the back), so a SPECT/CT model that
            reads the report's sites on the CT gets none (empty site maps; the report's text
            is still read). A mirrored CT is handled by the caller exchanging the report's
            左 and 右 instead (``backend/inference/ct_regions.py``).

    Returns:
        :class:`Prediction`.

    Raises:
        ValueError: images of the wrong shape for the model's task, or non-finite; a
            SPECT/CT model that reads the report's sites from the CT given a report that
            names sites but no ``spacing_mm``.
        ModelOutputError: the network's probabilities are not finite.
    """
    task = model.task
    images = _check_images(task, images)
    network = model.network
    device = next(network.parameters()).device
    # the image network's forward: ONNX Runtime where load_model exported it, else torch
    forward = model.ort if model.ort is not None else network
    ids, mask = _tokenize(model, report_text, device)
    x = normalize(task, images)
    spatial_dims = int(getattr(network, "spatial_dims", 2))
    # where the report puts each finding, for a network that reads it or a rule that applies it
    maps, anatomy = report_site_maps(model, report_text, images, spacing_mm, ct_sites)
    if task == "planar":
        probs = _run_2d(
            forward, x[None], ids, mask, device, site_maps=None if maps is None else maps[None]
        )[0]
        if model.flip_average:
            probs = 0.5 * (probs + _mirrored_planar(forward, x, report_text, model, maps, device))
    elif spatial_dims == 3:
        t = torch.from_numpy(x[None]).to(device)
        probs = torch.softmax(network(t, ids, mask).float(), 1)[0].cpu().numpy()
    else:
        depth = x.shape[1]
        probs = np.empty((network.out_channels, *x.shape[1:]), np.float32)
        # the report is encoded once per volume, not once per slice batch
        encode = getattr(network, "encode_text", None)
        text = encode(ids, mask, 1) if encode is not None and ids is not None else None
        inputs = maps if getattr(network, "site_map_channels", 0) else None
        step = slice_batch(device)
        context = int(getattr(network, "slice_context", 0))
        for start in range(0, depth, step):
            stop = min(depth, start + step)
            batch = slice_inputs(x, np.arange(start, stop), context)  # (S, 2 + 2 context, H, W)
            z = -1.0 + 2.0 * np.arange(start, stop) / max(1, depth - 1)
            sites = None if inputs is None else np.moveaxis(inputs[:, start:stop], 1, 0)
            out = _run_2d(forward, batch, ids, mask, device, z, text=text, site_maps=sites)
            probs[:, start:stop] = np.moveaxis(out, 0, 1)
    probs = probs.astype(np.float32, copy=False)
    if not np.isfinite(probs).all():
        raise ModelOutputError(
            f"{model.name} ({model.runtime}) returned non-finite probabilities for "
            f"{np.count_nonzero(~np.isfinite(probs))} of {probs.size} values; no lesion list "
            "was made from them"
        )
    label_map = labels_at(probs, model.lesion_threshold)
    instance_map, lesions = lesion_table(
        label_map, probs, images, task, spacing_mm, calibration=model.lesion_calibration,
        anatomy=anatomy,
    )  # fmt: skip
    suppressed: list[dict[str, Any]] = []
    if maps is not None and model.site_rule is not None:
        assign_report_sites(
            label_map, instance_map, lesions, probs, maps, model.site_rule,
            calibration=model.lesion_calibration,
        )  # fmt: skip
    if task == "planar" and maps is not None and model.site_gate is not None:
        suppressed = gate_report_sites(
            label_map, instance_map, lesions, probs, maps, model.site_gate
        )
    below_floor: list[dict[str, Any]] = []
    if model.lesion_floor is not None:
        below_floor = apply_lesion_floor(
            label_map, instance_map, lesions, probs, model.lesion_floor
        )
    held_back = [
        {**lesion, "id": number, "held_back": reason}
        for number, (reason, lesion) in enumerate(
            [*(("outside_report", x) for x in suppressed), *(("below_floor", x) for x in below_floor)],
            start=len(lesions) + 1,
        )
    ]  # fmt: skip
    return Prediction(
        label_map=label_map,
        probabilities=probs,
        lesions=lesions,
        instance_map=instance_map,
        model_name=model.name,
        checksum=model.checksum,
        held_back=held_back,
        meta={
            "task": task,
            "report_used": bool(report_text) and model.tokenizer is not None,
            "runtime": model.runtime,
            # lesions the report-site gate removed (None: the release has no gate)
            "suppressed_outside_report": None if model.site_gate is None else len(suppressed),
            # lesions below the release's probability floor (None: the release has no floor)
            "suppressed_below_floor": None if model.lesion_floor is None else len(below_floor),
        },
    )


def _lesion_pixels(instance_map: np.ndarray, lesion: dict[str, Any]) -> tuple[tuple, np.ndarray]:
    """A lesion's bounding-box slices and its pixels (planar) or voxels (SPECT/CT) within them."""
    box = lesion["bbox"]
    n = len(box) // 2
    sl = tuple(slice(a, b) for a, b in zip(box[:n], box[n:], strict=True))
    return sl, instance_map[sl] == lesion["id"]


def assign_report_sites(
    label_map: np.ndarray,
    instance_map: np.ndarray,
    lesions: list[dict[str, Any]],
    probs: np.ndarray,
    site_maps: np.ndarray,
    rule: dict[str, Any],
    calibration: dict[str, Any] | None = None,
) -> None:
    """Give a lesion the class the report states at its site (in place).

    The network's class of a lesion follows the report's site maps only as far as its learned
    logit shift lets it (mixed-class accuracy 0.69 over 3 training seeds). This rule makes the
    grounding explicit: a lesion lying mostly (mean map value >= ``rule["min_cover"]``) in the
    region the report names for one class, and not in a region named for the other, takes that
    class. Every other lesion keeps the network's class. A relabelled lesion's pixels move in
    ``label_map``, its lesion probability (1 - p(background)) moves to the named class in
    ``probs``, and its dict says ``class_source: "report_site"`` (else ``"image"``).

    Args:
        label_map, instance_map, lesions, probs: from :func:`lesion_table` (changed in place).
        site_maps: (2, *spatial) benign and metastatic maps (:func:`report_site_maps`: planar
            from the body atlas, SPECT/CT from the bones read on the CT).
        rule: the release's ``postprocess.site_rule``: ``{"min_cover": float}``.
        calibration: the release's lesion calibration, for the relabelled lesion's probability.
    """
    from boneread_ml.evaluation.calibrate import apply_lesion_calibration

    cover = float(rule.get("min_cover", 0.5))
    for lesion in lesions:
        lesion["class_source"] = "image"
        if not site_maps.any():
            continue
        sl, region = _lesion_pixels(instance_map, lesion)
        benign = float(site_maps[0][sl][region].mean())
        metastatic = float(site_maps[1][sl][region].mean())
        if benign >= cover > metastatic:
            named = 1
        elif metastatic >= cover > benign:
            named = 2
        else:
            continue
        lesion["class_source"] = "report_site"
        if named == lesion["label"]:
            continue
        other = 3 - named
        lesion_p = 1.0 - probs[0][sl][region]
        probs[named][sl][region] = lesion_p
        probs[other][sl][region] = 0.0
        label_map[sl][region] = named
        mean_p = float(lesion_p.mean())
        lesion.update(
            label=named,
            class_name=CLASS_NAMES[named],
            probability=apply_lesion_calibration(calibration, mean_p, int(region.sum())),
            probability_uncalibrated=mean_p,
        )


def gate_report_sites(
    label_map: np.ndarray,
    instance_map: np.ndarray,
    lesions: list[dict[str, Any]],
    probs: np.ndarray,
    site_maps: np.ndarray,
    gate: dict[str, Any],
) -> list[dict[str, Any]]:
    """Remove unlikely lesions that lie outside every site the report names (in place).

    A release option, off in the shipped planar release: on the planar phantom
    (docs/results/planar-site-gate) about half of MT-UNet's false positives lie outside the
    regions the report names, small blobs with a low lesion probability, but the gate removed
    them no better than a plain probability filter would, and it hides true lesions the report
    does not mention. The gate keeps
    every lesion inside a named region (mean map value of either class >= ``min_cover``) and,
    outside them, only lesions whose stated probability (the recalibrated one where the
    release has a calibration) is at least ``min_probability``. With no site in the report
    (a normal report, no report) nothing is removed.

    A removed lesion's pixels leave ``label_map`` and ``instance_map`` and their lesion
    probabilities go to background in ``probs``, so the overlay, the label map and the lesion
    list agree; the remaining lesions are renumbered 1..n in their order.

    Args:
        label_map, instance_map, lesions, probs: from :func:`lesion_table` (changed in place).
        site_maps: (2, H, W) benign and metastatic maps.
        gate: the release's ``postprocess.site_gate``.

    Returns:
        The removed lesion dicts (their ``id`` is the one before renumbering).
    """
    if not site_maps.any() or not lesions:
        return []
    cover = float(gate.get("min_cover", 0.5))
    min_p = float(gate["min_probability"])
    named = np.maximum(site_maps[0], site_maps[1])
    removed = []
    for lesion in lesions:
        sl, region = _lesion_pixels(instance_map, lesion)
        inside = float(named[sl][region].mean()) >= cover
        if not inside and float(lesion["probability"]) < min_p:
            removed.append(lesion)
    return remove_lesions(label_map, instance_map, lesions, probs, removed)


def apply_lesion_floor(
    label_map: np.ndarray,
    instance_map: np.ndarray,
    lesions: list[dict[str, Any]],
    probs: np.ndarray,
    floor: dict[str, Any],
) -> list[dict[str, Any]]:
    """Remove the lesions whose stated probability is below the release's floor (in place).

    The floor (``postprocess.lesion_floor.min_probability``) is chosen with the lesion
    threshold on the release's calibration cases
    (:func:`boneread_ml.evaluation.calibrate.choose_lesion_floor`); it acts on the probability
    the lesion list shows (the recalibrated one, which weighs the lesion's size: the usual
    false positive is a small blob). Planar and SPECT/CT alike.

    Args:
        label_map, instance_map, lesions, probs: from :func:`lesion_table` (changed in place).
        floor: the release's ``postprocess.lesion_floor``.

    Returns:
        The removed lesion dicts (their ``id`` is the one before renumbering).
    """
    min_p = float(floor["min_probability"])
    removed = [les for les in lesions if float(les["probability"]) < min_p]
    return remove_lesions(label_map, instance_map, lesions, probs, removed)


def remove_lesions(
    label_map: np.ndarray,
    instance_map: np.ndarray,
    lesions: list[dict[str, Any]],
    probs: np.ndarray,
    removed: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Take ``removed`` out of the label map, the instance map and the lesion list (in place).

    Their pixels go to background in ``label_map`` and ``probs`` (so the overlay, the label map
    and the lesion list agree) and the remaining lesions are renumbered 1..n in their order.

    Returns:
        ``removed``.
    """
    if not removed:
        return []
    gone_ids = {les["id"] for les in removed}
    kept = [les for les in lesions if les["id"] not in gone_ids]
    renumber = np.zeros(int(instance_map.max()) + 1, dtype=instance_map.dtype)
    for new_id, lesion in enumerate(kept, start=1):
        renumber[lesion["id"]] = new_id
    gone = np.isin(instance_map, sorted(gone_ids))
    label_map[gone] = 0
    probs[0][gone] = 1.0
    probs[1:, gone] = 0.0
    instance_map[...] = renumber[instance_map]
    for new_id, lesion in enumerate(kept, start=1):
        lesion["id"] = new_id
    lesions[:] = kept
    return removed


def planar_region(centroid: Sequence[float], body: np.ndarray) -> str | None:
    """Coarse anatomical region of a planar lesion from its position in the body.

    The phantom's (and a real scan's) body spans the image height head to
    feet; the anterior frame shows the patient's left on the image right.
    Fractions of the body's height map to skull, cervical spine, chest
    (spine near the midline, ribs lateral), lumbar spine, pelvis, lower limbs.

    Args:
        centroid: (row, col) of the lesion.
        body: bool (H, W) body mask.

    Returns:
        A Chinese region name such as "右侧肋骨", or None without a body.
    """
    rows = np.flatnonzero(body.any(axis=1))
    if rows.size == 0:
        return None
    top, bottom = rows[0], rows[-1]
    frac = (centroid[0] - top) / max(1, bottom - top)
    row = body[int(np.clip(round(centroid[0]), 0, body.shape[0] - 1))]
    cols = np.flatnonzero(row)
    mid = (cols[0] + cols[-1]) / 2.0 if cols.size else body.shape[1] / 2.0
    half = (cols[-1] - cols[0]) / 2.0 if cols.size > 1 else body.shape[1] / 4.0
    lateral = (centroid[1] - mid) / max(1.0, half)
    side = "左侧" if lateral > 0 else "右侧"
    central = abs(lateral) < 0.15
    if frac < 0.11:
        return "颅骨"
    if frac < 0.17:
        return "颈椎" if central else f"{side}锁骨/肩部"
    if frac < 0.38:
        return "胸椎" if central else (f"{side}肩胛/肱骨" if abs(lateral) > 0.75 else f"{side}肋骨")
    if frac < 0.48:
        return "腰椎" if central else (f"{side}上肢" if abs(lateral) > 0.7 else f"{side}肋骨")
    if frac < 0.6:
        return "骶骨" if central else f"{side}骨盆"
    return f"{side}下肢"


def _region(centroid, body, anatomy, mask, sl) -> str | None:
    """A lesion's region: planar from its place in the body, SPECT/CT from the CT's bone."""
    if body is not None:
        return planar_region(centroid, body)
    if anatomy is not None:
        from boneread_ml.ct_regions import region_name

        return region_name(anatomy, mask, sl)
    return None


def lesion_table(
    label_map: np.ndarray,
    probs: np.ndarray,
    images: np.ndarray,
    task: str,
    spacing_mm: Sequence[float] | None = None,
    calibration: dict[str, Any] | None = None,
    anatomy: Any = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Connected lesion components -> lesion dicts (see :class:`Prediction`).

    A component is a connected set of lesion pixels of either class; its class
    is the one with the larger summed probability over it, and its pixels take that class in
    ``label_map`` (in place), so that the masks a viewer overlays say what the lesion list says
    (one lesion, one class: the network's per-pixel class may differ across a lesion). With a
    ``calibration`` (the release's ``postprocess.lesion_calibration``) the
    lesion's ``probability`` is the recalibrated one and the mean softmax is
    kept as ``probability_uncalibrated``. ``anatomy``: the SPECT/CT's CT already read
    (:class:`boneread_ml.ct_regions.CtAnatomy`), else it is read here when needed.
    """
    from boneread_ml.evaluation.calibrate import apply_lesion_calibration

    instance, n = ndimage.label(label_map > 0)
    instance = instance.astype(np.uint16)
    counts = images[0] if task == "spectct" else images.max(axis=0)
    body = None
    if task == "planar":
        smooth = ndimage.uniform_filter(images.sum(axis=0), size=9)
        body = (
            smooth > 0.05 * np.percentile(smooth[smooth > 0], 50)
            if np.any(smooth > 0)
            else smooth > 0
        )
    if task == "spectct" and spacing_mm is not None and n and anatomy is None:
        from boneread_ml.ct_regions import read_ct_anatomy

        anatomy = read_ct_anatomy(images[1], spacing_mm)
    unit = float(np.prod(spacing_mm)) if spacing_mm is not None else None
    lesions = []
    for comp, sl in enumerate(ndimage.find_objects(instance), start=1):
        if sl is None:
            continue
        region = instance[sl] == comp
        p1 = float(probs[1][sl][region].sum())
        p2 = float(probs[2][sl][region].sum())
        cls = 1 if p1 >= p2 else 2
        label_map[sl][region] = cls
        size = int(region.sum())
        centroid = [
            float(c) + s.start for c, s in zip(ndimage.center_of_mass(region), sl, strict=True)
        ]
        lesion: dict[str, Any] = {
            "id": comp,
            "label": cls,
            "class_name": CLASS_NAMES[cls],
            "probability": apply_lesion_calibration(
                calibration, float(probs[cls][sl][region].mean()), int(region.sum())
            ),
            "probability_uncalibrated": float(probs[cls][sl][region].mean()),
            "max_counts": float(counts[sl][region].max()),
            "centroid": centroid,
            "bbox": [s.start for s in sl] + [s.stop for s in sl],
            "region": _region(centroid, body, anatomy, region, sl),
        }
        if task == "planar":
            lesion["area_px"] = size
            lesion["area_mm2"] = size * unit if unit is not None else None
        else:
            lesion["volume_vox"] = size
            lesion["volume_ml"] = size * unit / 1000.0 if unit is not None else None
        lesions.append(lesion)
    return instance, lesions
