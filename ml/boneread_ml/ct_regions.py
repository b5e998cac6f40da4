"""The bone and level of a SPECT/CT lesion, read from the CT of the same study.

A reader names a SPECT/CT finding by its bone and, on the spine and ribs, by its
level ("第3腰椎", "左侧第7肋").  This module labels the CT's bone voxels with the
region vocabulary of :mod:`boneread_ml.data.phantom.regions` the way a reader
counts levels on a CT:

1. Bone is CT > 180 HU (120 HU off the spine, where thin ribs lose contrast to
   partial volume).  The spine's axis is the bone nearest the body's midline in
   the posterior half of each slice.
2. On the midline sagittal plane through that axis, each spinous process is a
   separate bone island behind the vertebral bodies: one island, one vertebra.
   The sacrum is the bone below the last vertebra whose front edge lies well
   behind the vertebral bodies' front edge (it slopes backwards).
3. A vertebra bears ribs when bone off the spine lies beside and behind it.
   Levels are counted from an anchor, in this order: the lowest rib-bearing
   vertebra is T12 when a vertebra without ribs lies below it; the vertebra
   above the sacrum is L5; the highest rib-bearing vertebra is T1 when a
   vertebra without ribs lies above it.  Without an anchor no level is guessed:
   a vertebra is named by segment only (胸椎 when every vertebra in view bears
   ribs, 腰椎 when none does).
4. A rib piece whose medial end lies beside the spine takes the number of the
   vertebra there; a piece broken off further out takes the number of the piece
   it continues, or of the numbered ribs that pass the same place above and
   below it; otherwise it is "左侧肋骨" / "右侧肋骨".
5. Sternum, scapulae (above T8), pelvic bones and femora are named by their
   position relative to the spine and the sacrum.  A rib that touches the
   scapula forms one bone piece with it; the scapula's body is an upright
   plate, so the voxels whose bone runs less than 25 mm straight up and down
   are taken back out of that piece as rib.

Limits: the CT must be axial, slice 0 most superior (the archive's SPECT/CT
reader sorts the slices so), column index increasing towards the patient's left
and row index towards the back (standard axial CT; ``backend/inference/ct_regions.py``
swaps the sides for a CT whose columns run the other way and drops the regions
of one whose rows do not run to the back).  The rules were
developed on the project's synthetic SPECT/CT phantom only and are measured on
it by ``benchmarks/ct_regions.py``; they have not been validated on patient CT
(no cervical spine, no skull, no transitional vertebrae, no scoliosis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from boneread_ml.data.phantom.regions import REGIONS, SIDE_CN, code, spine_key

BONE_HU = 180.0
RIB_HU = 120.0
SPINE_HALF_WIDTH_MM = 60.0  # a lumbar transverse process ends within this of the midline
# bone is about a tenth of a trunk CT's body volume (7-9% in the phantom); far more means
# the volume is not a body CT these rules can read, and labelling it would take minutes
MAX_BONE_FRACTION = 0.25
MAX_RIB_PIECES = 200  # beyond this many rib pieces the numbering of broken ribs is skipped
MAX_PIECES = 2000  # a trunk CT has a few hundred bone pieces off the spine at most
# vertebra index counted from C1 = 0 (spine_key's convention)
T1, T12, L5 = 7, 18, 23


@dataclass
class CtAnatomy:
    """Region codes on the CT grid and how the levels were counted.

    Attributes:
        regions: int16 (D, H, W) region codes of :mod:`boneread_ml.data.phantom.regions`
            (0: not bone or not named; negative: the bone is known, not its number, e.g.
            ``-code("rib_l1")`` a left rib, ``-code("spine_t1")`` a thoracic vertebra).
        vertebrae: per vertebra in view, top to bottom: ``{"z": slice, "index":
            vertebra index from C1 = 0 or None, "ribs": bool}``.
        anchor: ``"T12"``, ``"L5"``, ``"T1"`` or None (levels unknown).
        sacrum_top: first sacral slice or None.
        segment: with no anchor, ``"thoracic"`` / ``"lumbar"`` when every vertebra
            in view does / does not bear ribs, else None.
        ribs: per rib piece: ``{"side", "medial_z" (slice of its medial end beside the
            spine, or None), "number" (or None), "voxels", "z": [first, last slice]}``.
    """

    regions: np.ndarray
    vertebrae: list[dict] = field(default_factory=list)
    anchor: str | None = None
    sacrum_top: int | None = None
    segment: str | None = None
    ribs: list[dict] = field(default_factory=list)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def read_ct_anatomy(ct_hu: np.ndarray, spacing_mm: Sequence[float]) -> CtAnatomy:
    """Label the bone of one CT volume (see the module docstring).

    Args:
        ct_hu: (D, H, W) HU, slice 0 most superior.
        spacing_mm: (dz, dy, dx).

    Returns:
        :class:`CtAnatomy`.

    Raises:
        ValueError: not a 3-D volume, or spacing not three positive numbers.
    """
    ct = np.asarray(ct_hu, dtype=np.float32)
    if ct.ndim != 3:
        raise ValueError(f"the CT must be a 3-D volume, got shape {ct.shape}")
    spacing = tuple(float(v) for v in spacing_mm)
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ValueError(
            f"the CT spacing must be three positive numbers (dz, dy, dx), got {tuple(spacing_mm)}"
        )
    dz, dy, dx = spacing
    smooth = smooth_ct(ct)
    bone = smooth > BONE_HU
    body = ct > -300
    regions = np.zeros(ct.shape, np.int16)
    if not bone.any() or not body.any():
        return CtAnatomy(regions)
    if bone.sum() > MAX_BONE_FRACTION * body.sum():
        return CtAnatomy(regions)  # not a body CT these rules can read (noise, metal, a phantom)
    _, rows, cols = np.nonzero(body)
    cy, cx = float(rows.mean()), float(cols.mean())
    col = _spine_axis(bone, cy, cx, dy, dx)
    if col is None:
        return CtAnatomy(regions)
    front, vertebra_z, sacrum_top = _vertebrae(bone, col, cy, dz, dy)
    spine = _spine_mask(bone, front, col, dy, dx)
    # off the spine a lower threshold keeps thin ribs in one piece (partial volume)
    rest = (smooth > RIB_HU) & ~_grow(spine)
    vertebrae = [{"z": z, "index": None, "ribs": False} for z in vertebra_z]
    anchor, segment = _count_levels(vertebrae, rest, col, cy, sacrum_top, spacing)
    pieces = _sort_pieces(rest, vertebrae, col, cy, sacrum_top, spacing)
    if pieces is None:
        return CtAnatomy(regions)  # thousands of bone pieces: noise, not a body CT
    ribs, others = pieces
    numbered = _number_ribs(ribs, vertebrae, ct.shape[0], spacing)

    # paint: vertebrae by z-interval, ribs by number, the rest by position
    if vertebrae:
        zs = np.asarray(vertebra_z)
        bounds = np.concatenate([[-np.inf], (zs[1:] + zs[:-1]) / 2.0, [np.inf]])
        which = np.clip(np.searchsorted(bounds, np.arange(ct.shape[0]) + 0.5) - 1, 0, len(zs) - 1)
        # a negative code: the bone is known, its level is not
        unknown = {"thoracic": -code("spine_t1"), "lumbar": -code("spine_l1")}.get(segment, 0)
        index = [vertebrae[w]["index"] for w in which]
        slice_code = np.array(
            [code(spine_key(v)) if v is not None else unknown for v in index], np.int16
        )
        if sacrum_top is not None:
            slice_code[sacrum_top:] = code("sacrum")
        regions[spine] = np.broadcast_to(slice_code[:, None, None], ct.shape)[spine]
    if sacrum_top is not None:
        # the sacroiliac joints and iliac wings touch the sacrum: name them by position
        k, j, i = np.nonzero(spine)
        pelvic = (k >= sacrum_top) & (np.abs(i - col[k]) * dx > 28.0)
        k, j, i = k[pelvic], j[pelvic], i[pelvic]
        regions[k, j, i] = _position_codes(k, j, i, col, cy, sacrum_top, spacing)
    for (voxels, _, side), number in zip(ribs, numbered, strict=True):
        regions[voxels] = code(f"rib_{side[0]}{number}") if number else -code(f"rib_{side[0]}1")
    for k, j, i in others:
        regions[k, j, i] = _position_codes(k, j, i, col, cy, sacrum_top, spacing)
    rib_rows = [
        {"side": side, "medial_z": medial_z, "number": number, "voxels": int(voxels[0].size),
         "z": [int(voxels[0].min()), int(voxels[0].max())]}
        for (voxels, medial_z, side), number in zip(ribs, numbered, strict=True)
    ]  # fmt: skip
    return CtAnatomy(regions, vertebrae, anchor, sacrum_top, segment, rib_rows)


def smooth_ct(ct: np.ndarray) -> np.ndarray:
    """The CT smoothed by a 3-voxel Gaussian (sigma 0.5 voxel), edges reflected.

    Equal to ``ndimage.gaussian_filter(ct, 0.5, truncate=2.0)`` to float32
    rounding (tested), in about a tenth of its time: scipy filters line by
    line in double precision (0.05-0.1 s on a 128^3 volume, half of
    :func:`read_ct_anatomy` inside a 1 s SPECT/CT ``predict()``), here each
    axis is three whole-array multiply-adds.
    """
    side = float(np.exp(-2.0))  # exp(-x^2 / (2 sigma^2)) at x = 1, sigma = 0.5
    w_side = np.float32(side / (1.0 + 2.0 * side))
    w_centre = np.float32(1.0 / (1.0 + 2.0 * side))
    out = np.asarray(ct, dtype=np.float32)
    for axis in reversed(range(out.ndim)):  # axis 0 last: the result is C-contiguous
        src = np.moveaxis(out, axis, 0)
        res = src * w_centre
        res[1:] += w_side * src[:-1]
        res[:-1] += w_side * src[1:]
        res[:1] += w_side * src[:1]  # reflected edges: the edge voxel is its own neighbour
        res[-1:] += w_side * src[-1:]
        out = np.moveaxis(res, 0, axis)
    return out


def _grow(mask: np.ndarray) -> np.ndarray:
    """One-voxel binary dilation, computed only around the mask's bounding box."""
    out = np.zeros_like(mask)
    found = ndimage.find_objects(mask.astype(np.uint8))
    if not found or found[0] is None:
        return out
    box = tuple(
        slice(max(0, s.start - 1), min(n, s.stop + 1))
        for s, n in zip(found[0], mask.shape, strict=True)
    )
    out[box] = ndimage.binary_dilation(mask[box])
    return out


def _spine_axis(bone, cy, cx, dy, dx) -> np.ndarray | None:
    """Column of the spine per slice: bone near the midline behind the body's centre."""
    depth = bone.shape[0]
    axis = np.full(depth, np.nan)
    for k in range(depth):
        j, i = np.nonzero(bone[k])
        near = (np.abs(i - cx) * dx <= 20.0) & ((j - cy) * dy >= -20.0)
        if near.sum() >= 3:
            axis[k] = float(np.median(i[near]))
    known = ~np.isnan(axis)
    if not known.any():
        return None
    axis = np.interp(np.arange(depth), np.flatnonzero(known), axis[known])
    axis = ndimage.median_filter(axis, size=9, mode="nearest")
    return np.clip(np.round(axis).astype(int), 0, bone.shape[2] - 1)


def _vertebrae(bone, col, cy, dz, dy) -> tuple[np.ndarray, list[float], int | None]:
    """On the midline sagittal plane: the bone's front edge per slice, one z per spinous
    process (one vertebra each), and the sacrum's first slice."""
    depth, height = bone.shape[:2]
    sagittal = bone[np.arange(depth), :, col]  # (D, H)
    front = np.full(depth, np.nan)
    ahead_ok = (np.arange(height) - cy) * dy >= -25.0
    for k in range(depth):
        j = np.flatnonzero(sagittal[k] & ahead_ok)
        if j.size:
            front[k] = j[0]
    body_front = float(np.nanmedian(front)) if np.isfinite(front).any() else cy
    islands, _ = ndimage.label(sagittal)
    vertebra_z = []
    for q, sl in enumerate(ndimage.find_objects(islands), start=1):
        if sl is None:
            continue
        ks, _ = np.nonzero(islands[sl] == q)
        extent_z = (sl[0].stop - sl[0].start) * dz
        behind = (sl[1].start - body_front) * dy
        if ks.size >= 4 and extent_z <= 30.0 and behind >= 35.0:
            # the spinous process slopes down from its vertebra: its top is the level
            vertebra_z.append(float(ks.min() + sl[0].start) + 0.5)
    vertebra_z.sort()
    sacrum_top = None
    if vertebra_z:
        below = np.arange(depth) > vertebra_z[-1]
        sloped = below & np.isfinite(front) & ((front - body_front) * dy >= 14.0)
        for start, stop in _runs(sloped):
            if (stop - start) * dz >= 20.0:
                sacrum_top = int(start)
                break
    return front, vertebra_z, sacrum_top


def _spine_mask(bone, front, col, dy, dx) -> np.ndarray:
    """The bone joined to the vertebral bodies, out to the ends of the transverse processes."""
    labelled, _ = ndimage.label(bone)
    core = np.zeros(bone.shape, bool)
    for k in np.flatnonzero(np.isfinite(front)):
        j0 = int(front[k])
        core[k, j0 : j0 + max(1, int(25.0 / dy)), col[k]] = True
    ids = np.unique(labelled[core & bone])
    spine = np.isin(labelled, ids[ids > 0])
    # a rib or iliac wing touching a vertebra is not the vertebra beyond its processes
    lateral = np.abs(np.arange(bone.shape[2])[None, None, :] - col[:, None, None]) * dx
    return spine & (lateral <= SPINE_HALF_WIDTH_MM)


def _count_levels(vertebrae, rest, col, cy, sacrum_top, spacing) -> tuple[str | None, str | None]:
    """Mark the rib-bearing vertebrae and number all from an anchor (in place).

    Returns:
        (anchor, segment): see :class:`CtAnatomy`.
    """
    if not vertebrae:
        return None, None
    dz, dy, dx = spacing
    depth, height, width = rest.shape
    zs = [v["z"] for v in vertebrae]
    half = 0.4 * float(np.median(np.diff(zs))) if len(zs) > 1 else 10.0 / dz
    behind = ((np.arange(height) - cy) * dy >= 10.0)[:, None]
    for v in vertebrae:
        if sacrum_top is not None and v["z"] >= sacrum_top - 40.0 / dz:
            continue  # beside L5 lie the iliac wings, not ribs
        for k in range(max(0, int(np.ceil(v["z"] - half))), min(depth, int(v["z"] + half) + 1)):
            lateral = np.abs(np.arange(width) - col[k]) * dx
            beside = ((lateral >= 15.0) & (lateral <= 60.0))[None, :] & behind
            if (rest[k] & beside).sum() >= 2:  # a rib head
                v["ribs"] = True
                break
    bearing = [v["ribs"] for v in vertebrae]
    last = len(vertebrae) - 1
    anchor = offset = None
    if any(bearing) and max(p for p, b in enumerate(bearing) if b) < last:
        anchor, offset = "T12", T12 - max(p for p, b in enumerate(bearing) if b)
    elif sacrum_top is not None:
        anchor, offset = "L5", L5 - last
    elif any(bearing) and bearing.index(True) > 0:
        anchor, offset = "T1", T1 - bearing.index(True)
    if offset is None:
        return None, "thoracic" if all(bearing) else ("lumbar" if not any(bearing) else None)
    for p, v in enumerate(vertebrae):
        v["index"] = p + offset if 0 <= p + offset <= L5 else None
    return anchor, None


def _sort_pieces(rest, vertebrae, col, cy, sacrum_top, spacing) -> tuple[list, list] | None:
    """Bone pieces off the spine: ribs (voxels, medial-end z or None, side) and the others
    (None: more pieces than a body CT has).

    A rib piece lies lateral to the spine above the pelvis; its medial end counts when
    it lies beside and behind the spine (a rib head).  Sternum, scapula (above T8, the
    scapula's lower tip) and pelvic pieces are the others.
    """
    dz, dy, dx = spacing
    depth = rest.shape[0]
    known = [v for v in vertebrae if v["index"] is not None]
    t8 = [v["z"] for v in known if v["index"] == T1 + 7]
    if t8:
        scapula_bottom = t8[0]
    elif known and all(v["index"] > T1 + 7 for v in known):
        scapula_bottom = -1.0
    else:
        scapula_bottom = float(depth)
    labelled, count = ndimage.label(rest)
    if count > MAX_PIECES:
        return None
    ribs, others = [], []
    for q, sl in enumerate(ndimage.find_objects(labelled), start=1):
        if sl is None:
            continue
        k, j, i = np.nonzero(labelled[sl] == q)
        k, j, i = k + sl[0].start, j + sl[1].start, i + sl[2].start
        lateral = (i - col[k]) * dx
        back = (j - cy) * dy
        spread = float(np.median(np.abs(lateral)))
        pelvic = sacrum_top is not None and float(np.median(k)) >= sacrum_top - 40.0 / dz
        sternal = spread <= 35.0 and np.median(back) <= -40.0
        scapular = (
            k.size >= 300
            and np.median(back) >= 30.0
            and spread >= 80.0
            and float(np.median(k)) < scapula_bottom
        )
        if scapular:
            # a rib that touches the scapula joins its piece: take the rib back out
            plate, tubes = _split_plate((k, j, i), dz, depth)
            others.append(plate)
            ribs += [_rib_piece(tube, col, cy, dx, dy) for tube in tubes]
        elif pelvic or sternal or spread < 20.0:
            others.append((k, j, i))
        else:
            ribs.append(_rib_piece((k, j, i), col, cy, dx, dy))
    return ribs, others


def _rib_piece(voxels, col, cy, dx, dy) -> tuple:
    """(voxels, medial-end z or None, side): the medial end counts when it lies beside and
    behind the spine (a rib head)."""
    k, j, i = voxels
    lateral = (i - col[k]) * dx
    side = "left" if float(np.median(lateral)) > 0 else "right"
    m = int(np.argmin(np.abs(lateral)))
    if np.abs(lateral[m]) <= 60.0 and (j[m] - cy) * dy >= 10.0:
        return voxels, float(k[m]), side
    return voxels, None, side


def _split_plate(voxels, dz, depth, min_run_mm: float = 25.0, min_voxels: int = 20):
    """Split a scapula's piece into the plate and the rib pieces that touch it.

    The scapula's body is an upright plate: straight up and down through it the bone runs
    for centimetres.  A rib is a tube running around the chest, about a centimetre high
    wherever one crosses it.  Voxels whose vertical run of bone is shorter than
    ``min_run_mm`` are rib; their connected pieces of ``min_voxels`` or more come back as
    rib pieces, the rest stays with the plate.  A run cut by the first or last of the
    ``depth`` slices may go on beyond the CT: it stays with the plate, as a whole piece did.
    """
    k, j, i = voxels
    origin = np.array([k.min(), j.min(), i.min()])
    box = np.zeros(
        (k.max() - origin[0] + 1, j.max() - origin[1] + 1, i.max() - origin[2] + 1), bool
    )
    box[k - origin[0], j - origin[1], i - origin[2]] = True
    vertical = np.zeros((3, 3, 3), bool)
    vertical[:, 1, 1] = True
    runs, _ = ndimage.label(box, structure=vertical)
    run_mm = np.bincount(runs.ravel())[runs] * dz
    for edge in (0, depth - 1):
        if origin[0] <= edge < origin[0] + box.shape[0]:
            cut = np.unique(runs[edge - origin[0]])
            run_mm[np.isin(runs, cut[cut > 0])] = np.inf
    tube = box & (run_mm < min_run_mm)
    pieces, _ = ndimage.label(tube)
    keep = np.zeros_like(box)
    tubes = []
    for q, sl in enumerate(ndimage.find_objects(pieces), start=1):
        if sl is None:
            continue
        kk, jj, ii = np.nonzero(pieces[sl] == q)
        if kk.size < min_voxels:
            continue
        keep[kk + sl[0].start, jj + sl[1].start, ii + sl[2].start] = True
        tubes.append((kk + sl[0].start + origin[0], jj + sl[1].start + origin[1],
                      ii + sl[2].start + origin[2]))  # fmt: skip
    kk, jj, ii = np.nonzero(box & ~keep)
    return (kk + origin[0], jj + origin[1], ii + origin[2]), tubes


def _number_ribs(ribs, vertebrae, depth, spacing) -> list[int | None]:
    """Rib numbers: from the vertebra at the medial end, then by continuity and neighbours."""
    dz, dy, dx = spacing
    zs = np.asarray([v["z"] for v in vertebrae])
    numbered: list[int | None] = []
    for _, medial_z, _ in ribs:
        number = None
        if zs.size and medial_z is not None and 1 < medial_z < depth - 2:
            index = vertebrae[int(np.argmin(np.abs(zs - medial_z)))]["index"]
            if index is not None and T1 <= index <= T12:
                number = index - T1 + 1
        numbered.append(number)
    if len(ribs) > MAX_RIB_PIECES:
        return numbered
    _number_by_continuity(ribs, numbered, dz, dy, dx)
    for p in range(len(ribs)):
        if numbered[p] is None:
            numbered[p] = _number_by_neighbours(p, ribs, numbered, dz, dy, dx)
    return numbered


def _number_by_continuity(ribs, numbered, dz, dy, dx, reach_mm: float = 20.0) -> None:
    """Give a rib piece the number of the piece it continues (in place).

    Partial volume breaks a thin rib where it runs steeply through the slices.  A
    rib runs down from its head, so a piece's upper end (its highest voxels)
    continues the piece of the same side whose lower end is nearest, within
    ``reach_mm``, among those that start higher.  Repeated so that numbers pass
    down a chain of pieces.
    """
    scale = np.array([dz, dy, dx])

    def end(voxels, lowest):
        k, j, i = voxels
        at = np.flatnonzero(k == (k.max() if lowest else k.min()))
        return np.array([k[at[0]], j[at].mean(), i[at].mean()]) * scale

    bottoms = [end(v, True) for v, _, _ in ribs]
    for _ in range(4):
        changed = False
        for p, ((k, j, i), _, side) in enumerate(ribs):
            if numbered[p] is not None or k.min() == 0:
                continue  # numbered, or cut by the top of the field of view
            top = end((k, j, i), False)
            best, best_d = None, reach_mm
            for q, ((k2, _, _), _, side2) in enumerate(ribs):
                if q == p or side2 != side or numbered[q] is None or k2.min() > k.min():
                    continue
                d = float(np.linalg.norm(bottoms[q] - top))
                if d <= best_d:
                    best, best_d = q, d
            if best is not None:
                numbered[p] = numbered[best]
                changed = True
        if not changed:
            break


def _number_by_neighbours(p, ribs, numbered, dz, dy, dx) -> int | None:
    """Number a rib piece from the numbered ribs of its side that pass the same place.

    At one place on the chest wall the ribs lie one below the other in order, so
    the piece's number follows from its height among them (a straight-line fit
    of number on height over the numbered ribs within 12 mm in the axial plane).
    Only between them: a piece above or below all of them (a rib whose head lies
    outside the CT) would get a guessed number, so it gets none.
    """
    (k, j, i), _, side = ribs[p]
    here = np.stack([j * dy, i * dx], axis=1)
    centre = here.mean(axis=0)
    heights, numbers = [], []
    for q, ((k2, j2, i2), _, side2) in enumerate(ribs):
        if q == p or side2 != side or numbered[q] is None:
            continue
        near = np.hypot(j2 * dy - centre[0], i2 * dx - centre[1]) <= 12.0
        if near.sum() >= 2:
            heights.append(float(k2[near].mean()) * dz)
            numbers.append(numbered[q])
    if len(set(numbers)) < 2:
        return None
    height = float(k.mean()) * dz
    if not min(heights) < height < max(heights):
        return None  # above or below every numbered rib there: a guess, not a count
    slope, intercept = np.polyfit(heights, numbers, 1)
    if slope <= 0:
        return None
    number = int(round(slope * height + intercept))
    return number if 1 <= number <= 12 else None


def _position_codes(k, j, i, col, cy, sacrum_top, spacing) -> np.ndarray:
    """Region codes of bone that is neither spine nor rib, from its position."""
    dz, dy, dx = spacing
    lateral = (i - col[k]) * dx
    side = np.where(lateral > 0, "l", "r")
    ahead = (j - cy) * dy  # negative: anterior
    out = np.zeros(k.shape, np.int16)
    if sacrum_top is None:
        below = np.zeros(k.shape, bool)
    else:
        below = (k - sacrum_top) * dz
        below = below >= -40.0
    sternum = ~below & (np.abs(lateral) <= 35.0) & (ahead <= -40.0)
    out[sternum] = code("sternum")
    scap = ~below & ~sternum & (ahead >= 30.0) & (np.abs(lateral) >= 55.0)
    chest = ~below & ~sternum & ~scap & (np.abs(lateral) >= 20.0)
    for s in ("l", "r"):
        out[scap & (side == s)] = code(f"scapula_{s}")
        out[chest & (side == s)] = -code(f"rib_{s}1")  # joined to a scapula: a rib, unnumbered
    if sacrum_top is not None:
        t = (k - sacrum_top) * dz
        for s in ("l", "r"):
            mine = below & (side == s)
            hip = mine & (t >= 85.0) & (np.abs(lateral) >= 60.0) & (ahead <= 30.0)
            femur = hip & (np.abs(lateral) >= 100.0) & (t >= 120.0)
            pubis = mine & (t >= 95.0) & (ahead < -20.0) & ~hip
            ischium = mine & (t >= 135.0) & (ahead >= -20.0) & ~hip
            sij = mine & (t < 85.0) & (np.abs(lateral) < 60.0) & (ahead >= 20.0)
            ilium = mine & ~hip & ~pubis & ~ischium & ~sij
            out[ilium] = code(f"ilium_{s}")
            out[sij] = code(f"sij_{s}")
            out[pubis] = code(f"pubis_{s}")
            out[ischium] = code(f"ischium_{s}")
            out[hip] = code(f"acetabulum_{s}")
            out[femur] = code(f"femur_{s}")
            # the joint is the middle of the acetabular cup, around the femoral head
            cup = hip & ~femur
            if cup.sum() >= 10:
                at = np.stack([k[cup] * dz, j[cup] * dy, i[cup] * dx], axis=1)
                d = np.linalg.norm(at - at.mean(axis=0), axis=1)
                joint = np.zeros_like(cup)
                joint[np.flatnonzero(cup)[d <= 0.6 * np.percentile(d, 90)]] = True
                out[joint] = code(f"hip_{s}")
    return out


def region_name(
    anatomy: CtAnatomy, lesion: np.ndarray, sl: tuple[slice, ...] | None = None
) -> str | None:
    """The region a reader would name for a lesion: the most common label of its bone.

    Args:
        anatomy: from :func:`read_ct_anatomy`.
        lesion: bool mask of the lesion (on the whole grid, or on ``sl``).
        sl: the lesion's bounding box when ``lesion`` is cropped to it.

    Returns:
        A Chinese region name ("第3腰椎", "左侧第7肋", "左侧肋骨", "胸椎"), or None when
        the lesion touches no labelled bone.
    """
    if sl is None:
        sl = tuple(slice(0, n) for n in lesion.shape)
    grown = tuple(
        slice(max(0, s.start - 3), min(n, s.stop + 3))
        for s, n in zip(sl, anatomy.regions.shape, strict=True)
    )
    mask = np.zeros([s.stop - s.start for s in grown], bool)
    inner = tuple(
        slice(s.start - g.start, s.stop - g.start) for s, g in zip(sl, grown, strict=True)
    )
    mask[inner] = lesion
    # the lesion's own bone first; a lytic lesion has none left, so then its rim (up to
    # three voxels out, about 12 mm on a SPECT/CT's CT)
    for _ in range(4):
        codes = anatomy.regions[grown][mask]
        codes = codes[codes != 0]
        if codes.size:
            break
        mask = ndimage.binary_dilation(mask)
    if codes.size == 0:
        return None
    values, counts = np.unique(codes, return_counts=True)
    best = int(values[np.argmax(counts)])
    if best > 0:
        return REGIONS[best].name_cn
    region = REGIONS[-best]  # a negative code: the bone is known, its level is not
    if region.site == "rib":
        return f"{SIDE_CN[region.side]}肋骨"
    return "胸椎" if region.key == "spine_t1" else "腰椎"


_BY_NAME = {r.name_cn: r for r in REGIONS if r.name_cn}


def bone_of(name: str | None) -> tuple[str, str] | None:
    """(site, side) of a region name with its number left out.

    "左侧第7肋" and "左侧肋骨" are both ``("rib", "left")``; "第3腰椎" and "腰椎" are
    ``("spine", "midline")``; an unknown name or None gives None.
    """
    if name is None:
        return None
    if name in _BY_NAME:
        region = _BY_NAME[name]
        return region.site, region.side
    for side, prefix in SIDE_CN.items():
        if prefix and name == f"{prefix}肋骨":
            return "rib", side
    if name in ("胸椎", "腰椎"):
        return "spine", "midline"
    return None


def possible_names() -> set[str]:
    """Every region name :func:`region_name` can return (for the viewer's translation table)."""
    spine = {spine_key(index) for index in range(T1, L5 + 1)}
    keys = spine | {"sacrum", "sternum"}
    for s in ("l", "r"):
        keys |= {f"rib_{s}{n}" for n in range(1, 13)}
        keys |= {f"{bone}_{s}" for bone in ("scapula", "ilium", "sij", "pubis", "ischium")}
        keys |= {f"{bone}_{s}" for bone in ("acetabulum", "hip", "femur")}
    names = {REGIONS[code(key)].name_cn for key in keys}
    return names | {"胸椎", "腰椎", "左侧肋骨", "右侧肋骨"}
