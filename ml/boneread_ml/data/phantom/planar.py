"""Render one whole-body planar bone scan (anterior + posterior) with lesions.

Physics, per view: activity in three depth layers, attenuated by
``exp(-mu * depth)`` along the path to the detector, blurred by a Gaussian
whose FWHM grows with the distance to the collimator, scaled to a clinical
total count and sampled with Poisson noise.  The posterior view is returned
mirrored left-right into the anterior frame (channel 1), so a lesion sits at
the same (row, col) in both channels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from boneread_ml.data.phantom import planar_anatomy as pa
from boneread_ml.data.phantom.lesions import CasePlan, LesionPlan, blob
from boneread_ml.data.phantom.regions import REGIONS, code

log = logging.getLogger(__name__)

MU_PER_MM = 0.012  # broad-beam linear attenuation of 140 keV photons in soft tissue (0.12 /cm)
DETECTOR_GAP_MM = 30.0  # body-contouring distance from the skin to the collimator face
FWHM_AT_SURFACE_MM = 5.0  # LEHR system resolution: ~5 mm at the face ...
FWHM_SLOPE = 0.05  # ... growing 0.5 mm per cm of distance: ~10 mm at 10 cm
ARM_POSES_DEG = (3.0, 7.0, 12.0)
# Planar lesions are drawn 1.25x the sampled diameter: the hot rim of a lesion
# projects wider than the lesion itself (the whole bone thickness is summed).
LESION_SIZE_SCALE = 1.25
AVAILABLE_REGIONS = {r.key for r in REGIONS[1:]}


def fwhm_mm(distance_mm: float) -> float:
    """System FWHM (mm) of a low-energy high-resolution collimator at a distance."""
    return FWHM_AT_SURFACE_MM + FWHM_SLOPE * distance_mm


@dataclass
class Patient:
    """Per-patient anatomy parameters (shared by a patient's follow-up scans)."""

    sex: str
    age: int
    height_mm: float
    habitus: float  # lateral and AP scale (1 = average build)
    arm_deg: float


def sample_patient(rng: np.random.Generator, sex: str, age: int) -> Patient:
    """Draw body size and pose for one patient."""
    mean_h = 1700.0 if sex == "M" else 1590.0
    height = float(np.clip(rng.normal(mean_h, 60.0), 1450.0, 1900.0))
    habitus = float(np.clip(rng.normal(1.0, 0.08), 0.82, 1.25))
    return Patient(sex, age, height, habitus, float(rng.choice(ARM_POSES_DEG)))


def _affine_params(rng, patient: Patient):
    sy = patient.height_mm / pa.CANONICAL_HEIGHT_MM
    sx = patient.habitus * (0.96 if patient.sex == "F" else 1.0)
    dy = float(rng.uniform(0.0, 18.0))
    dx = float(rng.uniform(-5.0, 5.0))
    rot = np.deg2rad(rng.uniform(-1.2, 1.2))
    # output (row, col) -> input: in = R^-1 S^-1 (out - c - d) + c
    c = np.array([pa.TOP_PX, pa.COLS / 2.0])
    rinv = np.array([[np.cos(rot), np.sin(rot)], [-np.sin(rot), np.cos(rot)]])
    matrix = rinv @ np.diag([1.0 / sy, 1.0 / sx])
    offset = c - matrix @ (c + np.array([dy, dx]))
    return matrix, offset


def _warp(img, matrix, offset, order):
    return ndimage.affine_transform(
        img, matrix, offset=offset, order=order, mode="constant", cval=0.0, prefilter=False
    )


def _place_lesion(rng, les: LesionPlan, layers, regions, instance, label) -> dict | None:
    """Draw one lesion into ``layers`` / ``instance`` / ``label``; return its footprint."""
    rcode = code(les.region_key)
    cand_layers = [li for li in range(3) if (regions[li] == rcode).any()]
    if not cand_layers:
        return None
    if les.region.site == "rib" and len(cand_layers) > 1:
        # posterior arcs carry most rib lesions; aligned fractures are mostly lateral/posterior
        cand_layers = [2] if rng.random() < 0.65 or les.kind == "fracture" else [0]
    li = int(rng.choice(cand_layers))
    ys, xs = np.nonzero(regions[li] == rcode)
    if les.region.site == "rib" and isinstance(les.position, float):
        # a fraction along the rib from the spine outwards: use distance from the midline
        d = np.abs(xs - pa.COLS / 2.0)
        target = d.min() + les.position * (d.max() - d.min())
        w = np.exp(-0.5 * ((d - target) / 2.0) ** 2)
    elif les.position in ("margin", "endplate"):
        cy, cx = ys.mean(), xs.mean()
        if les.position == "margin":
            u = np.abs(xs - cx) / (np.abs(xs - cx).max() + 1e-6)
        else:
            u = np.abs(ys - cy) / (np.abs(ys - cy).max() + 1e-6)
        w = np.where(u > 0.6, 1.0, 0.02)
    elif les.position == "proximal":
        w = np.exp(-(ys - ys.min()) / max(8.0, 0.25 * (ys.max() - ys.min())))
    else:
        w = np.ones(len(ys))
    w = w / w.sum()
    bone = regions[li] == rcode
    for _ in range(8):
        i = int(rng.choice(len(ys), p=w))
        r = LESION_SIZE_SCALE * les.size_mm / 2.0 / pa.PIXEL_MM
        elong = rng.uniform(1.0, 1.6)
        profile, mask = blob(rng, (r * elong, r / elong), les.irregularity)
        hy, hx = profile.shape[0] // 2, profile.shape[1] // 2
        y0, x0 = ys[i] - hy, xs[i] - hx
        sy = slice(max(y0, 0), min(y0 + profile.shape[0], pa.ROWS))
        sx = slice(max(x0, 0), min(x0 + profile.shape[1], pa.COLS))
        py = slice(sy.start - y0, sy.stop - y0)
        px = slice(sx.start - x0, sx.stop - x0)
        local_bone = ndimage.binary_dilation(bone[sy, sx], iterations=1)
        m = mask[py, px] & local_bone & (instance[sy, sx] == 0)
        if m.sum() < 6:
            continue
        level = float(np.median(layers[li][sy, sx][bone[sy, sx]])) if bone[sy, sx].any() else 0.5
        prof = profile[py, px] * local_bone
        layers[li][sy, sx] += (les.uptake_ratio - 1.0) * level * prof
        instance[sy, sx][m] = les.id
        label[sy, sx][m] = les.label
        return {"layer": pa.LAYERS[li]}
    return None


def render_planar(rng: np.random.Generator, patient: Patient, plan: CasePlan) -> dict:
    """Render one case.

    Args:
        rng: The case's random generator (consumed in a fixed order: deterministic).
        patient: Body size and pose.
        plan: Lesions to draw (lesions that cannot be placed are dropped from it).

    Returns:
        Dict with ``image`` float32 (2, 1024, 256) counts, ``label`` uint8,
        ``instance`` uint16, ``bone`` uint8 (1024, 256), ``pixel_spacing_mm``,
        ``lesion_records`` (list of dicts) and ``acquisition`` (counts, kidney
        and bladder state, artefacts) for the report and the DICOM header.
    """
    tpl = pa.build_template(patient.arm_deg)
    weights = {
        g: pa.GROUP_UPTAKE[g] * float(np.exp(0.15 * rng.standard_normal())) for g in pa.GROUPS
    }
    weights["joint"] *= 1.0 + max(patient.age - 45, 0) / 80.0
    kidney = float(np.clip(np.exp(0.55 * rng.standard_normal()), 0.08, 2.5))
    bladder = float(np.clip(np.exp(0.6 * rng.standard_normal()), 0.25, 3.5))
    soft = float(np.clip(np.exp(0.3 * rng.standard_normal()), 0.5, 2.5))
    weights["kidney"] *= kidney
    weights["bladder"] *= bladder
    weights["soft_tissue"] *= soft
    layers = [np.zeros((pa.ROWS, pa.COLS), np.float32) for _ in range(3)]
    for (g, li), img in tpl.groups.items():
        layers[li] += weights[g] * img
    matrix, offset = _affine_params(rng, patient)
    layers = [_warp(x, matrix, offset, 1) for x in layers]
    # the three layers' region codes packed into one integer: one nearest-neighbour warp
    base = len(REGIONS)
    packed = _warp(tpl.packed_regions, matrix, offset, 0)
    regions = np.stack([packed % base, (packed // base) % base, packed // base**2]).astype(np.int16)
    thickness = _warp(tpl.thickness_mm, matrix, offset, 1) * patient.habitus

    # injection-site extravasation in one arm in ~10 % of scans: hot, but not a lesion
    injection = rng.random() < 0.1
    if injection:
        arm = np.nonzero(regions[1] == code(f"elbow_{rng.choice(['l', 'r'])}"))
        if len(arm[0]):
            y, x = int(arm[0].mean()), int(arm[1].mean())
            yy, xx = np.ogrid[: pa.ROWS, : pa.COLS]
            layers[1] += float(rng.uniform(1.0, 4.0)) * np.exp(
                -((yy - y) ** 2 + (xx - x) ** 2) / (2 * 3.0**2)
            )

    instance = np.zeros((pa.ROWS, pa.COLS), np.uint16)
    label = np.zeros((pa.ROWS, pa.COLS), np.uint8)
    placed, footprints = [], {}
    for les in plan.lesions:
        fp = _place_lesion(rng, les, layers, regions, instance, label)
        if fp is None:
            log.debug("lesion %s in %s could not be placed; dropped", les.id, les.region_key)
            continue
        placed.append(les)
        footprints[les.id] = fp
    plan.lesions = placed

    trunk_mm = 225.0 * patient.habitus
    views = []
    for view in ("anterior", "posterior"):
        img = np.zeros((pa.ROWS, pa.COLS), np.float32)
        for li in range(3):
            frac = pa.LAYER_DEPTH[li] if view == "anterior" else 1.0 - pa.LAYER_DEPTH[li]
            att = np.exp(-MU_PER_MM * frac * thickness)
            sigma = fwhm_mm(DETECTOR_GAP_MM + frac * trunk_mm) / 2.3548 / pa.PIXEL_MM
            img += ndimage.gaussian_filter(layers[li] * att, sigma)
        views.append(img)
    total = float(np.clip(1.5e6 * np.exp(0.3 * rng.standard_normal()), 6e5, 3.5e6))
    scale = total / float(views[0].sum())
    image = np.stack([rng.poisson(v * scale).astype(np.float32) for v in views])

    records = []
    for les in placed:
        m = instance == les.id
        ys, xs = np.nonzero(m)
        pk = [float(image[c][m].max()) for c in range(2)]
        records.append(
            {
                "id": les.id,
                "label": les.label,
                "class_name": les.class_name,
                "site": les.region.site,
                "region": les.region.name_cn,
                "region_key": les.region_key,
                "kind": les.kind,
                "side": les.region.side,
                "group": les.group,
                "centroid": [round(float(ys.mean()), 2), round(float(xs.mean()), 2)],
                "area_px": int(m.sum()),
                "peak_counts": max(pk),
                "peak_counts_anterior": pk[0],
                "peak_counts_posterior": pk[1],
                "uptake_ratio": round(les.uptake_ratio, 3),
                "depth_layer": footprints[les.id]["layer"],
            }
        )
    acquisition = {
        "total_counts_anterior": int(image[0].sum()),
        "total_counts_posterior": int(image[1].sum()),
        "kidney_uptake": round(kidney, 3),
        "bladder_activity": round(bladder, 3),
        "soft_tissue": round(soft, 3),
        "injection_site_artefact": bool(injection),
    }
    return {
        "image": image,
        "label": label,
        "instance": instance,
        "bone": (regions.max(0) > 0).astype(np.uint8),
        "pixel_spacing_mm": np.array([pa.PIXEL_MM, pa.PIXEL_MM], np.float32),
        "lesion_records": records,
        "acquisition": acquisition,
    }
