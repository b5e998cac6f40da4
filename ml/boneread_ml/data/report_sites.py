"""Where the report puts each finding: named sites -> class maps on a planar scan.

A report's findings name a bone or joint ("左侧第5肋", "第3腰椎", "双侧膝关节")
and give it a class ("考虑骨转移", "考虑退行性变"). The network's own text path
has to learn from 94 training reports which characters name which place; the
measured result was that it did not (site-head AUC 0.45 on mixed-class
cases, a left/right swap changing nothing). This module does the grounding
explicitly, the way a reader does it:

1. :func:`parse_sites` reads every sentence of the report, the class it states
   (metastatic or benign words, negations such as 未见...转移 removed) and the
   region names in it (the anatomical vocabulary of
   :mod:`boneread_ml.data.phantom.regions`, rib runs and bilateral joints
   expanded);
2. :func:`planar_site_maps` paints each named region of a canonical
   whole-body atlas (the planar anatomy template, anterior frame: the patient's
   left on the image right) into a benign map and a metastatic map, registered
   to the scan (:func:`register_atlas`): scaled first by the body's outline, then
   fitted to the scan's own bone uptake (scale, rotation, shift and the arm pose).

3. :func:`spectct_site_maps` does the same on a SPECT/CT volume, where the
   place of each bone is read from the study's own CT
   (:func:`boneread_ml.ct_regions.read_ct_anatomy`: vertebral levels, rib
   numbers, pelvic bones) instead of an atlas.

MT-UNet built with ``site_maps=True`` takes the two maps as extra input
channels (see :class:`boneread_ml.models.mt_unet.MTUNet`), so where the report
puts a class steers the class the network gives the lesion it sees there.
What it does not do: read sites outside the vocabulary (free-text locations
such as "右上胸壁"); on SPECT/CT, name a bone the CT reading could not (a rib
whose head lies outside the field of view is known as a left or right rib, not
by number, and gets half weight wherever the report names a rib of that side).
On planar scans the atlas is the synthetic phantom's own anatomy template: it
registers the phantom's scans well (bone Dice 0.93-0.96 by body part,
``docs/results/planar-atlas-registration/``), but it is not an atlas of real
patients, and a pose it does not model (legs apart, a bent spine, a missing
limb) is fitted only as far as one global affine transform and the arm angle reach.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from boneread_ml.data.phantom.regions import REGIONS, code
from boneread_ml.data.reports import BENIGN_TERMS, METASTATIC_TERMS, expand_site_phrase

#: negated class statements ("未见明确骨转移征象") name no class
_NEGATION = re.compile(r"(未见|无|排除)[^，。；]*?(转移|骨折|退行性)")
_NAMES = sorted(((r.name_cn, r.key) for r in REGIONS if r.name_cn), key=lambda item: -len(item[0]))
_KEY_OF = {r.name_cn: r.key for r in REGIONS if r.name_cn}


def parse_sites(text: str) -> list[tuple[str, int]]:
    """(region key, class) for every region a class statement of the report names.

    Args:
        text: report text (history, findings, impression; any part may be missing).

    Returns:
        Pairs in the order found; class 1 benign, 2 metastatic. A sentence that
        states both or neither class names none.
    """
    out: list[tuple[str, int]] = []
    for sentence in re.split(r"[。；\n]", text or ""):
        plain = _NEGATION.sub("", sentence)
        met = any(t in plain for t in METASTATIC_TERMS)
        ben = any(t in plain for t in BENIGN_TERMS)
        if met == ben:
            continue
        cls = 2 if met else 1
        keys: list[str] = []
        rest = plain
        for name in expand_site_phrase(plain):
            keys.append(_KEY_OF[name])
        rest = re.sub(r"(双侧|两侧)[\u4e00-\u9fa5]{1,3}关节|(左侧|右侧)第(?:\d+、)*\d+肋", "", rest)
        for name, key in _NAMES:  # longest names first: "左侧骶髂关节" before "左侧髂骨"
            if name in rest:
                keys.append(key)
                rest = rest.replace(name, "")
        out += [(k, cls) for k in dict.fromkeys(keys)]
    return out


#: how the atlas is laid on a scan (:func:`register_atlas`): "fitted" (since 2026-12-06) or
#: "outline", the scaling by the body outline alone that releases trained before read; a
#: release records the one its network was trained with (training config ``site_registration``)
SITE_REGISTRATIONS = ("fitted", "outline")
#: arm abduction angles (degrees) the atlas can be drawn at; the fit picks the one that fits
#: (every 4 degrees, then the best one's neighbours 2 and 1 degrees away)
ATLAS_ARM_POSES_DEG = tuple(float(a) for a in range(0, 17))
#: the arm pose of the "outline" registration (the atlas's one pose before the fit)
OUTLINE_ARM_DEG = 7.0
#: rows of the body (fractions of its height) whose width sets the first lateral scale: the legs
_WIDTH_ROWS = (0.66, 0.8)
#: the atlas groups that show on a bone scan (kidneys, bladder and soft tissue left out)
_BONE_GROUPS = (
    "skull", "face", "spine", "rib", "sternum", "clavicle", "scapula", "pelvis", "sacroiliac",
    "long_bone", "joint",
)  # fmt: skip
#: the registration compares atlas and scan on about this many rows x columns of the scan
_GRID = (170, 85)


@functools.cache  # at most 17 poses, 2.5 MB each
def _atlas(arm_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The canonical anatomy at one arm pose: region codes (3, H, W) and bone uptake (H, W)."""
    from boneread_ml.data.phantom import planar_anatomy as pa

    tpl = pa.build_template(arm_deg)
    uptake = np.zeros(tpl.regions.shape[1:], np.float32)
    for (group, _layer), img in tpl.groups.items():
        if group in _BONE_GROUPS:
            uptake += pa.GROUP_UPTAKE[group] * img
    return tpl.regions.copy(), ndimage.gaussian_filter(uptake, 3.0)


@functools.lru_cache(maxsize=1)
def _atlas_outline() -> tuple[float, float, float, float]:
    """(top, bottom, midline, leg width) of the atlas body (the same at every arm pose)."""
    from boneread_ml.data.phantom import planar_anatomy as pa

    return _outline(pa.build_template(OUTLINE_ARM_DEG).thickness_mm > 0)


def _outline(body: np.ndarray) -> tuple[float, float, float, float]:
    """(top row, bottom row, midline column, mean leg-level width) of a body mask."""
    rows = np.flatnonzero(body.any(axis=1))
    if rows.size < 2:
        h, w = body.shape
        return 0.0, float(h - 1), w / 2.0, float(w) / 2.0
    top, bottom = float(rows[0]), float(rows[-1])
    lo = int(top + _WIDTH_ROWS[0] * (bottom - top))
    hi = max(lo + 1, int(top + _WIDTH_ROWS[1] * (bottom - top)))
    widths, centres = [], []
    for r in range(lo, hi):
        cols = np.flatnonzero(body[r])
        if cols.size:
            widths.append(cols[-1] - cols[0] + 1)
            centres.append((cols[0] + cols[-1]) / 2.0)
    torso = body[int(top + 0.25 * (bottom - top)) : int(top + 0.45 * (bottom - top))]
    mid_cols = [
        (c[0] + c[-1]) / 2.0 for c in (np.flatnonzero(r) for r in torso) if c.size
    ]  # the trunk's midline
    centre = float(np.median(mid_cols)) if mid_cols else body.shape[1] / 2.0
    width = float(np.median(widths)) if widths else body.shape[1] / 2.0
    return top, bottom, centre, max(width, 1.0)


def body_mask(images: np.ndarray) -> np.ndarray:
    """Body outline of a planar scan (2, H, W) from its counts (soft tissue shows faintly)."""
    smooth = ndimage.uniform_filter(np.asarray(images, np.float32).sum(axis=0), size=9)
    positive = smooth[smooth > 0]
    if positive.size == 0:
        return smooth > 0
    return smooth > 0.05 * np.percentile(positive, 50)


def _scan_to_atlas(params: np.ndarray, frame: tuple, rows: np.ndarray, cols: np.ndarray):
    """Atlas (row, col) of scan pixels under (row scale, col scale, rotation, row and col shift).

    ``frame``: (scan row, scan col) of the centre the transform turns about and its atlas
    (row, col) before any shift.
    """
    ky, kx, theta, dy, dx = params
    r0, c0, ar0, ac0 = frame
    u, v = rows - r0, cols - c0
    cos, sin = np.cos(theta), np.sin(theta)
    return ar0 + ky * (cos * u - sin * v) + dy, ac0 + kx * (sin * u + cos * v) + dx


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-12))


def register_atlas(images: np.ndarray, registration: str = "fitted") -> np.ndarray:
    """The atlas's region codes (3, H, W) on the grid of a planar scan.

    The body outline (top and bottom, trunk midline, leg width) gives a first scaling; then
    the atlas's bone uptake is fitted to the scan's counts (normalised cross-correlation of the
    two, hot spots above the scan's 99th percentile clipped): row and column scale, a
    rotation and a shift, and the arm pose (:data:`ATLAS_ARM_POSES_DEG`), so the shoulders,
    arms, pelvis and legs land on the scan's own and not only the trunk's outline.

    Args:
        images: the scan, (2, H, W) counts (anterior frame).
        registration: "fitted", or "outline": stop at the outline's scaling, at the arm pose
            :data:`OUTLINE_ARM_DEG` (what releases trained before the fit read; what the fit
            adds is measured by ``benchmarks/experiment/atlas_registration.py``).

    Returns:
        int16 region codes per layer (0 outside the atlas's bones).

    Raises:
        ValueError: an unknown ``registration``.
    """
    if registration not in SITE_REGISTRATIONS:
        raise ValueError(
            f"unknown site-map registration {registration!r}; use one of {SITE_REGISTRATIONS}"
        )
    from scipy import optimize

    images = np.asarray(images, np.float32)
    h, w = images.shape[-2:]
    ctop, cbottom, ccentre, cwidth = _atlas_outline()
    top, bottom, centre, width = _outline(body_mask(images))
    sy = (cbottom - ctop) / max(1.0, bottom - top)
    sx = cwidth / width
    if registration == "outline":
        regions = _atlas(OUTLINE_ARM_DEG)[0]
        rows = ctop + (np.arange(h, dtype=np.float32) - top) * sy
        cols = ccentre + (np.arange(w, dtype=np.float32) - centre) * sx
        ri = np.clip(np.round(rows).astype(int), 0, regions.shape[1] - 1)
        ci = np.clip(np.round(cols).astype(int), 0, regions.shape[2] - 1)
        inside = ((rows >= 0) & (rows < regions.shape[1]))[:, None] & (
            (cols >= 0) & (cols < regions.shape[2])
        )[None, :]
        return np.where(inside, regions[:, ri][:, :, ci], 0).astype(np.int16)
    frame = ((top + bottom) / 2.0, centre, (ctop + cbottom) / 2.0, ccentre)
    scan = ndimage.gaussian_filter(images.sum(axis=0), 2.0)
    if (scan > 0).any():
        scan = np.minimum(scan, np.percentile(scan[scan > 0], 99))
    grid_r, grid_c = np.mgrid[0 : h : max(1, h // _GRID[0]), 0 : w : max(1, w // _GRID[1])].astype(
        np.float32
    )
    target = ndimage.map_coordinates(scan, [grid_r, grid_c], order=1)

    def params(q: np.ndarray) -> np.ndarray:  # q: unit-scaled steps from the outline's fit
        return np.array([sy * np.exp(0.05 * q[0]), sx * np.exp(0.05 * q[1]), 0.02 * q[2],
                         4.0 * q[3], 4.0 * q[4]])  # fmt: skip

    def cost(q: np.ndarray, arm_deg: float) -> float:
        ar, ac = _scan_to_atlas(params(q), frame, grid_r, grid_c)
        return -_ncc(ndimage.map_coordinates(_atlas(arm_deg)[1], [ar, ac], order=1), target)

    options = {"xtol": 1e-2, "ftol": 1e-4, "maxfev": 400}
    poses = ATLAS_ARM_POSES_DEG
    pose = poses[len(poses) // 2]
    q = np.zeros(5)
    if target.std() > 0:
        q = optimize.minimize(cost, q, args=(pose,), method="Powell", options=options).x
        best = min(range(0, len(poses), 4), key=lambda i: cost(q, poses[i]))
        for step in (2, 1):
            near = [i for i in (best - step, best, best + step) if 0 <= i < len(poses)]
            best = min(near, key=lambda i: cost(q, poses[i]))
        for _ in range(3):  # refit the transform at that pose; move the pose while that helps
            q = optimize.minimize(cost, q, args=(poses[best],), method="Powell", options=options).x
            near = [i for i in (best - 1, best, best + 1) if 0 <= i < len(poses)]
            moved = min(near, key=lambda i: cost(q, poses[i]))
            if moved == best:
                break
            best = moved
        pose = poses[best]
    regions = _atlas(pose)[0]
    ar, ac = _scan_to_atlas(params(q), frame, *np.mgrid[0:h, 0:w].astype(np.float32))
    ri, ci = np.round(ar).astype(int), np.round(ac).astype(int)
    inside = (ri >= 0) & (ri < regions.shape[1]) & (ci >= 0) & (ci < regions.shape[2])
    warped = regions[:, np.clip(ri, 0, regions.shape[1] - 1), np.clip(ci, 0, regions.shape[2] - 1)]
    return np.where(inside, warped, 0).astype(np.int16)


def planar_site_maps(
    text: str,
    images: np.ndarray,
    dilate: int = 4,
    sigma: float = 1.0,
    registration: str = "fitted",
) -> np.ndarray:
    """Benign and metastatic site maps (2, H, W) float32 in [0, 1] for a planar scan.

    Args:
        text: the report.
        images: the scan, (2, H, W) counts (anterior frame), for registration
            (:func:`register_atlas`).
        dilate: pixels the named regions are grown by (registration error).
        sigma: Gaussian blur of the maps (pixels).
        registration: how the atlas is laid on the scan (:data:`SITE_REGISTRATIONS`).

    Returns:
        Channel 0: where the report names benign findings; channel 1: metastatic.
        Zeros for an empty report or one that names no class at a known site.

    Raises:
        ValueError: an unknown ``registration``.
    """
    if registration not in SITE_REGISTRATIONS:
        raise ValueError(
            f"unknown site-map registration {registration!r}; use one of {SITE_REGISTRATIONS}"
        )
    images = np.asarray(images)
    h, w = images.shape[-2:]
    maps = np.zeros((2, h, w), np.float32)
    sites = parse_sites(text)
    if not sites:
        return maps
    codes = {r.key: i for i, r in enumerate(REGIONS)}
    warped = register_atlas(images, registration)
    for cls in (1, 2):
        wanted = [codes[k] for k, c in sites if c == cls]
        if not wanted:
            continue
        m = np.isin(warped, wanted).any(axis=0)
        if dilate:
            m = ndimage.binary_dilation(m, iterations=dilate)
        f = m.astype(np.float32)
        if sigma:
            f = np.clip(ndimage.gaussian_filter(f, sigma) * 1.5, 0.0, 1.0)
        maps[cls - 1] = f
    return maps


def _unnumbered_code(key: str) -> int | None:
    """The code :func:`boneread_ml.ct_regions.read_ct_anatomy` paints where it knows the
    bone of region ``key`` but not its number or level (negative), or None."""
    region = REGIONS[code(key)]
    if region.site == "rib" and region.side in ("left", "right"):
        return -code(f"rib_{region.side[0]}1")
    if key.startswith("spine_t"):
        return -code("spine_t1")
    if key.startswith("spine_l"):
        return -code("spine_l1")
    return None


def spectct_site_maps(text: str, regions: np.ndarray, dilate: int = 2) -> np.ndarray:
    """Benign and metastatic site maps (2, D, H, W) float32 in [0, 1] for a SPECT/CT volume.

    Args:
        text: the report.
        regions: the CT's region codes (D, H, W), ``CtAnatomy.regions`` of
            :func:`boneread_ml.ct_regions.read_ct_anatomy` (0 none; negative: the bone
            is known, not its number or level).
        dilate: voxels a named bone is grown by, so that a lytic lesion (no bone left)
            and the uptake around a bone's edge lie inside it.

    Returns:
        Channel 0: where the report names benign findings; channel 1: metastatic.
        A named bone is 1; a bone of the same kind and side whose number or level the CT
        reading could not count is 0.5 (it may be the one named). Zeros for an empty
        report, one that names no class at a known site, or a CT without bone labels.
    """
    regions = np.asarray(regions)
    if regions.ndim != 3:
        raise ValueError(f"the region codes must be a (D, H, W) volume, got shape {regions.shape}")
    maps = np.zeros((2, *regions.shape), np.float32)
    sites = parse_sites(text)
    if not sites or not regions.any():
        return maps
    for cls in (1, 2):
        keys = [k for k, c in sites if c == cls]
        if not keys:
            continue
        unnumbered = [u for u in map(_unnumbered_code, keys) if u is not None]
        for value, codes in ((0.5, unnumbered), (1.0, [code(k) for k in keys])):
            named = np.isin(regions, codes) if codes else None
            if named is None or not named.any():
                continue
            # grow within the named bones' bounding box (a whole-volume dilation is 20x slower)
            where = np.argwhere(named)
            lo = np.maximum(where.min(axis=0) - dilate, 0)
            sl = tuple(slice(a, b) for a, b in zip(lo, where.max(axis=0) + dilate + 1, strict=True))
            grown = ndimage.binary_dilation(named[sl], iterations=dilate) if dilate else named[sl]
            box = maps[cls - 1][sl]
            box[grown] = np.maximum(box[grown], value)
    return maps


def read_spectct_site_maps(
    text: str, images: np.ndarray, spacing_mm: Sequence[float] | None
) -> tuple[np.ndarray, Any]:
    """A SPECT/CT study's site maps (2, D, H, W), the bones read from its own CT.

    The one place training data and :func:`boneread_ml.predict.predict` get them from.

    Args:
        text: the report ("" for none).
        images: (2, D, H, W) SPECT counts and CT HU on the CT grid.
        spacing_mm: the voxel spacing (z, y, x) in mm.

    Returns:
        ``(maps, anatomy)``: the maps of :func:`spectct_site_maps`, and the CT as read
        (:class:`boneread_ml.ct_regions.CtAnatomy`), None when the report names no site
        (the CT is then not read and the maps are zeros).

    Raises:
        ValueError: the report names sites but no voxel spacing was given, so the CT's
            bones (vertebral levels, rib numbers) cannot be counted.
    """
    from boneread_ml.ct_regions import read_ct_anatomy

    if not parse_sites(text):
        return np.zeros((2, *images.shape[1:]), np.float32), None
    if spacing_mm is None:
        raise ValueError(
            "this SPECT/CT model reads where the report puts each finding from the CT and "
            "needs the voxel spacing (spacing_mm, z/y/x in mm) to count vertebrae and ribs"
        )
    anatomy = read_ct_anatomy(images[1], spacing_mm)
    return spectct_site_maps(text, anatomy.regions), anatomy
