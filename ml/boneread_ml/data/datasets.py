"""Torch datasets on top of the phantom generator's manifest.

Contract (written by ``boneread-ml synth``): ``ROOT/manifest.json`` with a
``cases`` list (``case_id``, ``patient_id``, ``fold`` 0-4 by patient,
``arrays`` = npz path relative to ROOT, ``report.text``), and per case an npz
with ``image`` (planar (2, H, W); SPECT/CT (2, D, H, W)), ``label`` (0/1/2)
and ``instance`` (lesion ids).

Planar scans are served whole; SPECT/CT volumes are served as axial slices
(the default slice-wise 2D model): every slice that contains a lesion plus a
seeded sample of the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from boneread_ml.data.transforms import (
    normalize,
    random_intensity,
    slice_count_channels,
    slice_inputs,
)

logger = logging.getLogger(__name__)

TEXT_MODES = ("report", "none", "shuffled")
#: Probes of what a trained model reads, for evaluation only: the report with every 左 and 右
#: exchanged (a grounded model must move the class with the side), the report with the sites of
#: a metastatic and a benign finding exchanged (:func:`swap_sites`), the impression alone, and
#: the report of a reader who saw nothing (:func:`called_normal`: does the model repeat the miss?).
PROBE_TEXT_MODES = ("sides_swapped", "sites_swapped", "impression_only", "called_normal")
_SIDE_SWAP = str.maketrans({"左": "右", "右": "左"})


def swap_sides(text: str) -> str:
    """The report with 左 (left) and 右 (right) exchanged everywhere."""
    return text.translate(_SIDE_SWAP)


def swap_sites(text: str) -> str:
    """The report with the site of its first metastatic finding and that of its first benign
    finding exchanged (every occurrence of both names), so the report puts each class where the
    other was. Unchanged when the report does not name a site of each class.
    """
    from boneread_ml.data.phantom.regions import region
    from boneread_ml.data.report_sites import parse_sites

    sites = parse_sites(text)
    named = {cls: [region(k).name_cn for k, c in sites if c == cls and region(k).name_cn in text]
             for cls in (1, 2)}  # fmt: skip
    pairs = [(a, b) for a in named[2] for b in named[1] if a not in b and b not in a]
    if not pairs:
        return text
    met, benign = pairs[0]
    return text.replace(met, "\0").replace(benign, met).replace("\0", benign)


def impression_only(text: str) -> str:
    """Only the impression (诊断意见) of a report text."""
    marker = "诊断意见："
    return marker + text.split(marker, 1)[1] if marker in text else text


def called_normal(text: str) -> str:
    """The report as a reader who saw no lesion would write it: the clinical history, the
    acquisition sentence and the kidney/bladder sentence kept, the bone findings and the
    impression replaced by the phantom's first normal-scan phrases
    (:data:`~boneread_ml.data.reports.NORMAL_ALL`,
    :data:`~boneread_ml.data.reports.IMPRESSION_NORMAL`), as in a lesion-free case's report. On a
    case with lesions it is wrong on purpose: a model that then states no lesion repeats the
    reader's miss instead of catching it.
    """
    from boneread_ml.data.reports import IMPRESSION_NORMAL, NORMAL_ALL

    history, acquisition, soft_tissue = "", "", ""
    if "检查所见：" in text:
        history, rest = text.split("检查所见：", 1)
        for sentence in rest.split("\n", 1)[0].split("。"):
            if "显像" in sentence and not acquisition:  # tracer, dose, delay, views / SPECT bed
                acquisition = sentence + "。"
            elif "双肾" in sentence or "膀胱" in sentence:
                soft_tissue += sentence + "。"
    findings = acquisition + NORMAL_ALL[0] + soft_tissue
    return f"{history}检查所见：{findings}\n诊断意见：{IMPRESSION_NORMAL[0]}"


def read_manifest(root: str | Path) -> dict[str, Any]:
    """Read ``ROOT/manifest.json``.

    Raises:
        FileNotFoundError: with the command that makes the data when it is missing.
    """
    path = Path(root) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no manifest.json in {root}; make data with "
            f"`boneread-ml synth --kind planar --cases N --seed S --out {root}`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def load_arrays(root: str | Path, case: dict[str, Any]) -> dict[str, np.ndarray]:
    """Load one case's npz arrays (image, label, instance, spacing)."""
    with np.load(Path(root) / case["arrays"]) as npz:
        return {k: npz[k] for k in npz.files}


def split_cases(
    cases: Sequence[dict[str, Any]], val_folds: Sequence[int]
) -> tuple[list[dict], list[dict]]:
    """Split by the manifest's patient-level folds.

    Args:
        cases: manifest cases.
        val_folds: folds held out for validation.

    Returns:
        (training cases, validation cases); no patient is in both.
    """
    val = [c for c in cases if int(c["fold"]) in set(val_folds)]
    train = [c for c in cases if int(c["fold"]) not in set(val_folds)]
    overlap = {c["patient_id"] for c in val} & {c["patient_id"] for c in train}
    if overlap:
        raise ValueError(f"patients in both training and validation folds: {sorted(overlap)[:5]}")
    return train, val


def shuffled_texts(texts: Sequence[str], seed: int) -> list[str]:
    """Reports permuted between cases so that no case keeps its own (a derangement).

    Duplicated texts can still coincide; with distinct reports none does.
    """
    n = len(texts)
    if n < 2:
        return list(texts)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    # rotate fixed points away: shift the permutation where it maps i -> i
    for i in range(n):
        if perm[i] == i:
            j = (i + 1) % n
            perm[i], perm[j] = perm[j], perm[i]
    return [texts[int(p)] for p in perm]


def case_texts(cases: Sequence[dict[str, Any]], mode: str, seed: int = 0) -> list[str]:
    """The report text fed for each case under a text mode.

    Args:
        cases: manifest cases.
        mode: ``"report"`` (own report), ``"none"`` (empty), ``"shuffled"``
            (another case's report), or a probe of :data:`PROBE_TEXT_MODES`.
        seed: shuffling seed.
    """
    if mode not in TEXT_MODES + PROBE_TEXT_MODES:
        raise ValueError(f"text mode must be one of {TEXT_MODES + PROBE_TEXT_MODES}, got {mode!r}")
    texts = [c["report"]["text"] for c in cases]
    if mode == "sides_swapped":
        return [swap_sides(t) for t in texts]
    if mode == "sites_swapped":
        return [swap_sites(t) for t in texts]
    if mode == "impression_only":
        return [impression_only(t) for t in texts]
    if mode == "called_normal":
        return [called_normal(t) for t in texts]
    if mode == "none":
        return [""] * len(cases)
    if mode == "shuffled":
        return shuffled_texts(texts, seed)
    return texts


#: How a lesion-centred training crop picks its centre (``lesion_crop_by``).
LESION_CROP_BY = ("pixel", "lesion")


def _instance_map(arrays: dict[str, np.ndarray], label: np.ndarray) -> np.ndarray:
    """The case's lesion ids (0 = background), checked against its label."""
    if "instance" not in arrays:
        raise ValueError("lesion-balanced training needs each case's instance map (npz 'instance')")
    instance = arrays["instance"].astype(np.int64)
    if instance.shape != label.shape:
        raise ValueError(f"instance map {instance.shape} does not match label {label.shape}")
    return np.where(label > 0, instance, 0)


def _median_lesion_area(instances: Sequence[np.ndarray]) -> float:
    """Median area (pixels; per slice for volumes) of the lesions in these instance maps."""
    areas: list[np.ndarray] = []
    for inst in instances:
        planes = inst.reshape(-1, *inst.shape[-2:])
        for plane in planes:
            if plane.any():
                counts = np.bincount(plane.ravel())[1:]
                areas.append(counts[counts > 0])
    return float(np.median(np.concatenate(areas))) if areas else 1.0


@dataclass
class _Item:
    case_index: int
    slice_index: int | None


class SegmentationDataset(Dataset):
    """Planar scans (whole) or SPECT/CT axial slices with their report text.

    Args:
        root: data root with manifest.json.
        cases: manifest cases to serve.
        task: ``"planar"`` or ``"spectct"``.
        text_mode: ``"report"``, ``"none"`` or ``"shuffled"``.
        augment: random count scaling (training only).
        background_slices: SPECT/CT only, lesion-free slices kept per case
            (seeded); None keeps every slice.
        seed: seed of slice sampling, shuffling and augmentation.
        crop_size: serve random crops of this size (training on CPU: lesions
            cover ~0.02% of a whole-body scan, crops centred on lesions make
            every step count); None serves whole images.
        lesion_crop_prob: probability that a crop is centred on a lesion pixel.
        lesion_crop_by: how that pixel is drawn: ``"pixel"``, any lesion pixel (a
            large lesion is chosen more often than a small one); ``"lesion"``, a
            random pixel of a lesion drawn uniformly among the image's lesions, so
            small lesions (ribs, limbs) are centred as often as large ones.
        lesion_balance: also serve ``pixel_weight`` float32 (h, w): 1 on
            background and, on a lesion's pixels, the median lesion area of the
            served cases divided by that lesion's area (clipped to [1/4, 4]), so
            every lesion weighs about the same in a pixel-wise loss
            (:class:`boneread_ml.training.losses.SegmentationLoss`).
        site_maps: also serve the report's benign / metastatic site maps as
            ``site_maps`` float32 (2, h, w), cropped and flipped with the image:
            planar from the body atlas
            (:func:`boneread_ml.data.report_sites.planar_site_maps`), SPECT/CT from
            the bones read on the case's CT
            (:func:`boneread_ml.data.report_sites.spectct_site_maps`).
        flip_prob: (with ``augment``) probability of mirroring an item left-right;
            its report is served with 左 and 右 exchanged (:func:`swap_sides`), so
            image and report still agree.
        slice_context: SPECT/CT only, SPECT slices on each side of a served slice added as
            channels (:func:`boneread_ml.data.transforms.slice_inputs`; 0: the slice alone).
        site_registration: planar site maps: how the atlas is laid on each scan
            (:data:`boneread_ml.data.report_sites.SITE_REGISTRATIONS`).

    Items are dicts: ``image`` float32 (2, h, w) (SPECT/CT: 2 + 2 * slice_context), ``label`` int64 (h, w),
    ``extent`` float32 (2, 2) (the crop's rows and columns in whole-image
    coordinates [-1, 1]; SPECT/CT slices (3, 2), led by the slice's axial
    position ``[z, z]``), ``case_classes`` float32 (2,) (1 where the whole
    case has benign / metastatic lesions), ``text`` str, ``case_id`` str, ``slice`` int (-1 for planar).
    """

    def __init__(
        self,
        root: str | Path,
        cases: Sequence[dict[str, Any]],
        task: str,
        text_mode: str = "report",
        augment: bool = False,
        background_slices: int | None = 8,
        seed: int = 0,
        crop_size: Sequence[int] | None = None,
        lesion_crop_prob: float = 0.7,
        site_maps: bool = False,
        flip_prob: float = 0.0,
        lesion_crop_by: str = "pixel",
        lesion_balance: bool = False,
        slice_context: int = 0,
        site_registration: str = "fitted",
    ) -> None:
        if task not in ("planar", "spectct"):
            raise ValueError(f"task must be planar or spectct, got {task!r}")
        if slice_context and task != "spectct":
            raise ValueError(f"slice_context needs SPECT/CT slices, got task {task!r}")
        if not cases:
            raise ValueError("no cases to serve")
        self.root = Path(root)
        self.cases = list(cases)
        self.task = task
        self.augment = augment
        self.crop_size = tuple(int(c) for c in crop_size) if crop_size else None
        self.lesion_crop_prob = float(lesion_crop_prob)
        if lesion_crop_by not in LESION_CROP_BY:
            raise ValueError(
                f"lesion_crop_by must be one of {', '.join(LESION_CROP_BY)}, got {lesion_crop_by!r}"
            )
        self.lesion_crop_by = lesion_crop_by
        self.lesion_balance = bool(lesion_balance)
        self.slice_context = int(slice_context)
        # lesion ids per pixel: kept only when a crop or a weight needs them
        self.keep_instances = lesion_crop_by == "lesion" or self.lesion_balance
        self.instances: list[np.ndarray] = []
        self.texts = case_texts(self.cases, text_mode, seed)
        self.site_maps = bool(site_maps)
        self.flip_prob = float(flip_prob) if augment else 0.0
        self.maps: list[np.ndarray] = []
        self.rng = np.random.default_rng(seed)
        self.images: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.case_classes: list[np.ndarray] = []
        self.slice_z: list[np.ndarray] = []  # SPECT/CT: each kept slice's axial position in [-1, 1]
        self.items: list[_Item] = []
        sampler = np.random.default_rng(seed + 1)
        for ci, case in enumerate(self.cases):
            arrays = load_arrays(self.root, case)
            image = normalize(task, arrays["image"])
            label = arrays["label"].astype(np.int64)
            self.case_classes.append(np.array([(label == 1).any(), (label == 2).any()], np.float32))
            if task == "planar":
                if self.site_maps:
                    from boneread_ml.data.report_sites import planar_site_maps

                    self.maps.append(
                        planar_site_maps(
                            self.texts[ci], arrays["image"], registration=site_registration
                        )
                    )
                self.images.append(image)
                self.labels.append(label)
                if self.keep_instances:
                    self.instances.append(_instance_map(arrays, label))
                self.items.append(_Item(ci, None))
                continue
            lesion = np.flatnonzero(label.reshape(label.shape[0], -1).max(axis=1) > 0)
            others = np.setdiff1d(np.arange(label.shape[0]), lesion)
            if background_slices is not None and len(others) > background_slices:
                others = sampler.choice(others, size=background_slices, replace=False)
            keep = np.sort(np.concatenate([lesion, others])).astype(int)
            if self.site_maps:
                from boneread_ml.data.report_sites import read_spectct_site_maps

                maps, _ = read_spectct_site_maps(
                    self.texts[ci], arrays["image"], arrays["spacing_mm"]
                )
                self.maps.append(maps[:, keep])
            # keep only the slices served: a full volume per case would not fit in memory
            self.images.append(np.moveaxis(slice_inputs(image, keep, self.slice_context), 0, 1))
            self.labels.append(label[keep])
            if self.keep_instances:
                self.instances.append(_instance_map(arrays, label)[keep])
            self.slice_z.append((-1.0 + 2.0 * keep / max(1, label.shape[0] - 1)).astype(np.float32))
            self.items.extend(_Item(ci, k) for k in range(len(keep)))
        self.reference_area = _median_lesion_area(self.instances) if self.lesion_balance else 0.0
        logger.info("%s dataset: %d cases, %d items", task, len(self.cases), len(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        if item.slice_index is None:
            image = self.images[item.case_index]
            label = self.labels[item.case_index]
        else:
            image = self.images[item.case_index][:, item.slice_index]
            label = self.labels[item.case_index][item.slice_index]
        instance = None
        if self.keep_instances:
            instance = self.instances[item.case_index]
            if item.slice_index is not None:
                instance = instance[item.slice_index]
        text = self.texts[item.case_index]
        channels = image.shape[0]
        if self.site_maps:
            maps = self.maps[item.case_index]
            if item.slice_index is not None:
                maps = maps[:, item.slice_index]
            image = np.concatenate([image, maps])
        if self.flip_prob and self.rng.random() < self.flip_prob:
            # the patient mirrored: the report's sides must follow
            image, label, text = image[..., ::-1], label[..., ::-1], swap_sides(text)
            instance = instance[..., ::-1] if instance is not None else None
        # weighed on the whole image: a lesion cut by the crop keeps its weight
        weight = self._pixel_weight(instance) if self.lesion_balance else None
        extent = np.array([[-1.0, 1.0], [-1.0, 1.0]], np.float32)
        if self.crop_size is not None:
            image, label, extent, sl = self._crop(image, label, instance)
            weight = weight[sl] if weight is not None else None
        maps = image[channels:] if self.site_maps else None
        image = image[:channels]
        if item.slice_index is not None:
            z = self.slice_z[item.case_index][item.slice_index]
            extent = np.concatenate([np.array([[z, z]], np.float32), extent])
        if self.augment:
            image = random_intensity(
                image,
                self.rng,
                count_channels=2
                if self.task == "planar"
                else [slice_count_channels(self.slice_context)],
            )
        out = {
            "image": torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)),
            "label": torch.from_numpy(np.ascontiguousarray(label)),
            "extent": torch.from_numpy(extent),
            "case_classes": torch.from_numpy(self.case_classes[item.case_index]),
            "text": text,
            "case_id": self.cases[item.case_index]["case_id"],
            "slice": -1 if item.slice_index is None else int(item.slice_index),
        }
        if maps is not None:
            out["site_maps"] = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32))
        if weight is not None:
            out["pixel_weight"] = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
        return out

    def _pixel_weight(self, instance: np.ndarray) -> np.ndarray:
        area = np.bincount(instance.ravel())
        ratio = np.ones(len(area), np.float32)
        present = area > 0
        present[0] = False
        ratio[present] = np.clip(self.reference_area / area[present], 0.25, 4.0)
        return ratio[instance]

    def _lesion_pixels(self, label: np.ndarray, instance: np.ndarray | None) -> np.ndarray:
        if self.lesion_crop_by == "pixel" or instance is None:
            return np.argwhere(label > 0)
        ids = np.unique(instance[instance > 0])
        if ids.size == 0:
            return np.argwhere(label > 0)
        return np.argwhere(instance == ids[self.rng.integers(len(ids))])

    def _crop(
        self, image: np.ndarray, label: np.ndarray, instance: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[slice, ...]]:
        size = label.shape
        crop = [min(c, n) for c, n in zip(self.crop_size, size, strict=True)]
        if (label > 0).any() and self.rng.random() < self.lesion_crop_prob:
            lesion = self._lesion_pixels(label, instance)
            centre = lesion[self.rng.integers(len(lesion))]
            jitter = [self.rng.integers(-c // 4, c // 4 + 1) for c in crop]
            start = [
                int(np.clip(p - c // 2 + j, 0, n - c))
                for p, c, j, n in zip(centre, crop, jitter, size, strict=True)
            ]
        else:
            start = [int(self.rng.integers(0, n - c + 1)) for c, n in zip(crop, size, strict=True)]
        sl = tuple(slice(s0, s0 + c) for s0, c in zip(start, crop, strict=True))
        extent = np.array(
            [[-1.0 + 2.0 * s0 / max(1, n - 1), -1.0 + 2.0 * (s0 + c - 1) / max(1, n - 1)]
             for s0, c, n in zip(start, crop, size, strict=True)],
            np.float32,
        )  # fmt: skip
        return image[(slice(None), *sl)], label[sl], extent, sl


class TextCollate:
    """Batch items and tokenize their reports; optional text dropout.

    Args:
        tokenizer: a BertTokenizerFast (ours or MacBERT's).
        max_length: longest token sequence.
        text_dropout: probability of replacing a report by the empty string
            (training), so that inference without a report degrades gracefully.
        seed: dropout seed.
        called_normal_rate: probability of replacing a (kept) report by the report of a reader
            who saw nothing (:func:`called_normal`), the labels unchanged, so that a report that
            misses every lesion does not teach the network to erase them. Such an item is not
            grounded (``has_text`` false: its report is not its own) and names no site. Drawn
            from a stream of its own: with 0 the batches are those of earlier trainings.
    """

    def __init__(
        self, tokenizer, max_length: int = 256, text_dropout: float = 0.0, seed: int = 0,
        called_normal_rate: float = 0.0,
    ):  # fmt: skip
        if not 0.0 <= called_normal_rate <= 1.0:
            raise ValueError(f"called_normal_rate must be within [0, 1], got {called_normal_rate}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.text_dropout = text_dropout
        self.rng = np.random.default_rng(seed)
        self.called_normal_rate = called_normal_rate
        self.miss_rng = np.random.default_rng([seed, 1])

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        texts = [it["text"] for it in items]
        if self.text_dropout > 0:
            texts = [("" if self.rng.random() < self.text_dropout else t) for t in texts]
        own = [bool(t) for t in texts]  # the item reads its own, non-empty report
        if self.called_normal_rate > 0:
            for i, t in enumerate(texts):
                if t and self.miss_rng.random() < self.called_normal_rate:
                    texts[i], own[i] = called_normal(t), False
        enc = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        batch = {
            "image": torch.stack([it["image"] for it in items]),
            "label": torch.stack([it["label"] for it in items]),
            "extent": torch.stack([it["extent"] for it in items]),
            "case_classes": torch.stack([it["case_classes"] for it in items]),
            "has_text": torch.tensor(own),
            "input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"],
            "case_id": [it["case_id"] for it in items],
            "slice": [it["slice"] for it in items],
        }
        if "pixel_weight" in items[0]:
            batch["pixel_weight"] = torch.stack([it["pixel_weight"] for it in items])
        if "site_maps" in items[0]:
            # a dropped report names no site, nor does one replaced by a reader's miss
            keep = torch.tensor(own, dtype=torch.float32)
            maps = torch.stack([it["site_maps"] for it in items])
            batch["site_maps"] = maps * keep.view(-1, *([1] * (maps.ndim - 1)))
        return batch
