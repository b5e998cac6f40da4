"""Draw the phantom montage (planar normal / metastatic / benign, SPECT/CT fused slices) as a PNG.

Example::

    boneread-ml synth-figure --out docs/figures/phantom-montage.png
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CLASS_COLOURS = {1: "#1f9e3a", 2: "#e0201b"}  # benign green, metastatic red


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options."""
    parser.add_argument("--out", default="docs/figures/phantom-montage.png", help="PNG path")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--dpi", type=int, default=110)


def _pick(manifest: dict, want: str) -> dict | None:
    for case in manifest["cases"]:
        classes = {les["label"] for les in case["lesions"]}
        if want == "normal" and not classes:
            return case
        if want == "metastatic" and classes == {2} and len(case["lesions"]) >= 3:
            return case
        if want == "benign" and classes == {1} and len(case["lesions"]) >= 2:
            return case
    return None


def _outline(ax, mask2d: np.ndarray, aspect=None) -> None:
    for cls, colour in CLASS_COLOURS.items():
        m = mask2d == cls
        if m.any():
            ax.contour(m.astype(float), levels=[0.5], colors=colour, linewidths=0.9)


def draw_montage(out: Path, seed: int = 0, dpi: int = 110) -> Path:
    """Generate a few cases and draw the montage.

    Raises:
        ValueError: If the seed yields no case of a needed kind.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from boneread_ml.data.manifest import generate, load_case_arrays, load_manifest

    with tempfile.TemporaryDirectory() as tmp:
        planar_root = generate("planar", 16, seed, Path(tmp) / "planar", dicom=False)
        spect_root = generate("spectct", 8, seed, Path(tmp) / "spectct", dicom=False)
        pm, sm = load_manifest(planar_root), load_manifest(spect_root)
        planar_cases = {w: _pick(pm, w) for w in ("normal", "metastatic", "benign")}
        spect_cases = {w: next((c for c in sm["cases"] if {les["label"] for les in c["lesions"]} == {cls}), None)
                       for w, cls in (("metastatic", 2), ("benign", 1))}  # fmt: skip
        missing = [
            w
            for w, c in {
                **planar_cases,
                **{f"spectct {k}": v for k, v in spect_cases.items()},
            }.items()
            if c is None
        ]
        if missing:
            raise ValueError(f"seed {seed} gives no {', '.join(missing)} case; try another --seed")
        fig = plt.figure(figsize=(15, 10.5))
        grid = fig.add_gridspec(2, 6, height_ratios=[1.7, 1.0], hspace=0.18, wspace=0.08)
        for j, (name, case) in enumerate(planar_cases.items()):
            a = load_case_arrays(planar_root, case)
            rows = np.nonzero(a["image"].sum(axis=(0, 2)) > 0)[0]
            top, bottom = max(rows.min() - 10, 0), min(rows.max() + 10, a["image"].shape[1])
            for v, view in enumerate(("anterior", "posterior (mirrored)")):
                ax = fig.add_subplot(grid[0, 2 * j + v])
                img = a["image"][v, top:bottom]
                ax.imshow(
                    img,
                    cmap="gray_r",
                    vmin=0,
                    vmax=np.percentile(img[img > 0], 99.5),
                    aspect="equal",
                )
                _outline(ax, a["label"][top:bottom])
                ax.set_title(f"{name}: {view}", fontsize=9)
                ax.axis("off")
        for j, (name, case) in enumerate(spect_cases.items()):
            a = load_case_arrays(spect_root, case)
            les = max(case["lesions"], key=lambda d: d["volume_vox"])
            z, y, x = (int(round(c)) for c in les["centroid"])
            spect, ct = a["image"]
            vmax = np.percentile(spect, 99.7)
            sz, sy, sx = (float(s) for s in a["spacing_mm"])
            panels = [
                ("axial", ct[z], spect[z], a["label"][z], sy / sx),
                ("coronal", ct[:, y], spect[:, y], a["label"][:, y], sz / sx),
                ("sagittal", ct[:, :, x], spect[:, :, x], a["label"][:, :, x], sz / sy),
            ]
            for k, (plane, c2, s2, l2, aspect) in enumerate(panels):
                ax = fig.add_subplot(grid[1, 3 * j + k])
                ax.imshow(c2, cmap="gray", vmin=-160, vmax=600, aspect=aspect)
                ax.imshow(
                    np.ma.masked_less(s2, 0.2 * vmax),
                    cmap="hot",
                    vmin=0,
                    vmax=vmax,
                    alpha=0.55,
                    aspect=aspect,
                )
                _outline(ax, l2)
                label = f"SPECT/CT {name}, {les['site']} {les['kind']}: " if k == 0 else ""
                ax.set_title(f"{label}{plane}", fontsize=8)
                ax.axis("off")
        fig.suptitle(
            "BoneRead phantom (synthetic, not patient data). Outlines: red = metastatic, green = benign",
            fontsize=11,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
    log.info("wrote %s", out)
    return out


def run(args: argparse.Namespace) -> int:
    """Draw the montage; returns the exit code."""
    try:
        draw_montage(Path(args.out), seed=args.seed, dpi=args.dpi)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    return 0
