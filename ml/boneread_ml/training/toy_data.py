"""A tiny data set in the phantom's manifest format, for tests and smoke runs.

Not a phantom: square-ish Gaussian blobs on a noisy background, where a
benign and a metastatic blob look *identical* and only the report says which
it is (its impression names 骨转移 or 退行性变 and the side). It exercises
every code path in seconds and makes the value of the text path testable.
The realistic data comes from ``boneread-ml synth``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def make_toy_dataset(
    root: str | Path,
    kind: str = "planar",
    cases: int = 10,
    seed: int = 0,
    size: tuple[int, ...] | None = None,
) -> Path:
    """Write ``root/manifest.json`` and one npz per case.

    Args:
        root: output folder.
        kind: ``planar`` (2, H, W) or ``spectct`` (2, D, H, W).
        cases: number of cases (patients; folds assigned round-robin 0-4).
        seed: RNG seed (deterministic output).
        size: spatial size (default planar (128, 64), spectct (16, 32, 32)).

    Returns:
        The root.
    """
    root = Path(root)
    (root / "arrays").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    size = tuple(size or ((128, 64) if kind == "planar" else (16, 32, 32)))
    grids = np.meshgrid(*[np.arange(n) for n in size], indexing="ij")
    entries = []
    for i in range(cases):
        label = np.zeros(size, np.uint8)
        instance = np.zeros(size, np.uint16)
        counts = rng.poisson(20.0, size=size).astype(np.float32)
        cls = 1 + (i % 2)
        lesions = []
        for lid in (1, 2):
            centre = [rng.uniform(0.25 * n, 0.75 * n) for n in size]
            radius = max(2.0, 0.08 * min(size))
            d2 = sum((g - c) ** 2 for g, c in zip(grids, centre, strict=True))
            blob = d2 <= radius**2
            counts += 200.0 * np.exp(-d2 / (2 * radius**2))
            label[blob] = cls
            instance[blob] = lid
            lesions.append({"id": lid, "label": cls, "class_name": ["benign", "metastatic"][cls - 1],
                            "centroid": centre, "area_px": int(blob.sum())})  # fmt: skip
        other = rng.poisson(counts).astype(np.float32)
        second = other if kind == "planar" else np.where(counts > 0, -100.0 + 5.0 * counts, -1000.0)
        image = np.stack([counts, second.astype(np.float32)]).astype(np.float32)
        impression = "考虑骨转移。" if cls == 2 else "考虑退行性变。"
        history = "乳腺癌术后。" if cls == 2 else "腰痛。"
        text = f"病史：{history}所见：见放射性浓聚灶。诊断意见：{impression}"
        case_id = f"toy{i:03d}"
        npz = f"arrays/{case_id}.npz"
        spacing = "pixel_spacing_mm" if kind == "planar" else "spacing_mm"
        np.savez_compressed(root / npz, image=image, label=label, instance=instance,
                            **{spacing: np.ones(len(size), np.float32)})  # fmt: skip
        entries.append({
            "case_id": case_id, "patient_id": f"P{i:03d}", "fold": i % 5, "arrays": npz,
            "dicom_dir": None,
            "report": {"history": history, "findings": "见放射性浓聚灶。", "impression": impression,
                       "text": text, "omitted_lesions": []},
            "lesions": lesions,
        })  # fmt: skip
    (root / "manifest.json").write_text(
        json.dumps({"kind": kind, "seed": seed, "cases": entries}, ensure_ascii=False),
        encoding="utf-8",
    )
    return root
