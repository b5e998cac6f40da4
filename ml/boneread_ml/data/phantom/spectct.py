"""Render one bone SPECT/CT case: CT in HU and SPECT counts on its own grid.

The canonical trunk (T1 to the proximal femora) is drawn once per process on a
3 mm x 3.9 mm x 3.9 mm grid and cached.  Each case scales it to the patient,
picks a bed position (thorax, thoracolumbar or lumbopelvic, as a SPECT/CT is
aimed at the region of a planar finding), draws lesions with CT correlates,
adds CT noise, then simulates the SPECT: activity resampled onto the coarser
SPECT grid (4.8 mm voxels), blurred to the reconstructed resolution, scaled to
clinical counts, Poisson-sampled and post-filtered.  Reconstruction is assumed
attenuation- and scatter-corrected (CT-based), so no attenuation is applied.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from boneread_ml.data.phantom import primitives as pr
from boneread_ml.data.phantom.lesions import CasePlan, LesionPlan, blob
from boneread_ml.data.phantom.planar_anatomy import RIB_HALF_WIDTH_MM, vertebra_layout
from boneread_ml.data.phantom.regions import REGIONS, code, spine_key

log = logging.getLogger(__name__)

CT_SHAPE = (128, 128, 128)  # (slices, rows, cols)
CT_SPACING_MM = (3.0, 3.9, 3.9)  # 384 mm axial coverage (one SPECT bed), 500 mm display FOV
SPECT_SHAPE = (80, 128, 128)
SPECT_SPACING_MM = (4.8, 4.8, 4.8)  # 128 x 128 matrix at 4.8 mm, 80 slices = the CT range
SPECT_FWHM_MM = 13.0  # reconstructed resolution of bone SPECT (OSEM with resolution recovery)
TEMPLATE_Z0_MM, TEMPLATE_SLICES = 280.0, 260
LESION_SIZE_SCALE = 1.4
BED_CENTRES_MM = {"thorax": 470.0, "thoracolumbar": 650.0, "lumbopelvic": 820.0}

# 99mTc-MDP uptake of the trunk structures, relative to a vertebral body
UPTAKE = {
    "vertebra": 1.0,
    "arch": 0.75,
    "rib": 0.55,
    "sternum": 0.8,
    "scapula": 0.45,
    "ilium": 0.7,
    "sacrum": 0.85,
    "sij": 1.0,
    "hip": 0.8,
    "femur": 0.45,
    "pelvis": 0.65,
    "soft": 0.06,
    "lung": 0.02,
    "kidney": 0.45,
    "bladder": 3.0,
}


@dataclass
class TrunkTemplate:
    """Canonical trunk: HU, uptake, per-structure kidney/bladder maps, region codes."""

    hu: np.ndarray
    activity: np.ndarray
    kidney: np.ndarray
    bladder: np.ndarray
    regions: np.ndarray


class _Painter3D:
    def __init__(self):
        self.shape = (TEMPLATE_SLICES, CT_SHAPE[1], CT_SHAPE[2])
        self.hu = np.full(self.shape, -1000.0, np.float32)
        self.act = np.zeros(self.shape, np.float32)
        self.regions = np.zeros(self.shape, np.int16)

    @staticmethod
    def vox(z, y, x):
        dz, dy, dx = CT_SPACING_MM
        return ((z - TEMPLATE_Z0_MM) / dz, y / dy + 63.5, x / dx + 63.5)

    def paint(self, mask, hu, uptake, region_key=None):
        m = mask > 0.5
        self.hu[m] = hu
        self.act[m] = uptake
        if region_key is not None:
            self.regions[m] = code(region_key)

    def capsule(self, a, b, r_mm):
        return pr.capsule(self.shape, self.vox(*a), self.vox(*b), r_mm / CT_SPACING_MM[1])

    def polyline(self, pts, r_mm):
        return pr.polyline(self.shape, [self.vox(*p) for p in pts], r_mm / CT_SPACING_MM[1])

    def ellipsoid(self, c, semi, rot=None):
        s = (semi[0] / CT_SPACING_MM[0], semi[1] / CT_SPACING_MM[1], semi[2] / CT_SPACING_MM[2])
        if rot is None:
            return pr.ellipsoid(self.shape, self.vox(*c), s)
        return pr.rotated_ellipsoid(self.shape, self.vox(*c), s, rot)

    def cylinder(self, z0, z1, cy, cx, sy, sx):
        """Elliptic cylinder between z0 and z1 (mm), centre (cy, cx), semi-axes (mm)."""
        out = np.zeros(self.shape, np.float32)
        k0, k1 = int(round(self.vox(z0, 0, 0)[0])), int(round(self.vox(z1, 0, 0)[0]))
        k0, k1 = max(k0, 0), min(k1, self.shape[0])
        if k1 <= k0:
            return out
        e = pr.ellipse(
            self.shape[1:], self.vox(0, cy, cx)[1:], (sy / CT_SPACING_MM[1], sx / CT_SPACING_MM[2])
        )
        out[k0:k1] = e
        return out


def _body_profile(z):
    """Half-width, half-depth (mm) of the trunk at canonical height z (mm from the vertex)."""
    zp = [280, 300, 340, 450, 600, 700, 800, 900, 1000, 1060]
    a = [60, 150, 170, 165, 160, 150, 165, 178, 175, 170]
    b = [55, 95, 110, 112, 112, 115, 110, 105, 100, 95]
    return np.interp(z, zp, a), np.interp(z, zp, b)


@functools.lru_cache(maxsize=1)
def build_trunk() -> TrunkTemplate:
    """Draw the canonical trunk once per process (about 1-2 s)."""
    p = _Painter3D()
    nz, ny, nx = p.shape
    z = TEMPLATE_Z0_MM + np.arange(nz) * CT_SPACING_MM[0]
    yy = (np.arange(ny) - 63.5) * CT_SPACING_MM[1]
    xx = (np.arange(nx) - 63.5) * CT_SPACING_MM[2]
    a, b = _body_profile(z)
    r2 = (xx[None, None, :] / a[:, None, None]) ** 2 + (yy[None, :, None] / b[:, None, None]) ** 2
    inner = (xx[None, None, :] / (a[:, None, None] - 18)) ** 2 + (
        yy[None, :, None] / (b[:, None, None] - 18)
    ) ** 2
    body = r2 < 1
    p.hu[body] = -95.0  # subcutaneous fat
    p.hu[inner < 1] = 40.0  # muscle and organs
    p.act[body] = UPTAKE["soft"]
    # lungs above the diaphragm, heart between them
    layout, sac_top = vertebra_layout()
    for sign in (-1, 1):
        dome = 600.0 if sign > 0 else 585.0
        zz = np.clip((z - 300) / (dome - 300), 0, 1)
        sx = 35 + 35 * np.sqrt(zz)
        sy = 40 + 45 * np.sqrt(zz)
        lung = ((xx[None, None, :] - sign * 78) / sx[:, None, None]) ** 2 + (
            (yy[None, :, None] + 5) / sy[:, None, None]
        ) ** 2
        lung = (lung < 1) & ((z > 300) & (z < dome))[:, None, None]
        p.hu[lung] = -850.0
        p.act[lung] = UPTAKE["lung"]
    p.paint(p.ellipsoid((515, -35, 22), (62, 55, 62)), 40.0, UPTAKE["soft"])
    p.paint(
        p.ellipsoid((660, -5, -62), (70, 80, 85)) * (z > 600)[:, None, None], 58.0, UPTAKE["soft"]
    )
    kidney = np.zeros(p.shape, np.float32)
    for sign, dz in ((-1, 12.0), (1, 0.0)):
        k = p.ellipsoid((layout[19][0] + 40 + dz, 55, sign * 74), (55, 26, 28))
        p.paint(k, 32.0, 0.0)
        kidney = np.maximum(kidney, k)
    bladder = p.ellipsoid((sac_top + 130, -48, 0), (34, 38, 46))
    p.paint(bladder, 8.0, 0.0)
    # vertebrae T1-L5 with discs and posterior elements
    spine = np.zeros(p.shape, np.float32)
    for i in range(7, 24):
        cz, h, w = layout[i]
        sy = 0.8 * w / 2
        body_v = p.cylinder(cz - h / 2, cz + h / 2, 30 + 0, 0, sy, w / 2)
        p.paint(p.cylinder(cz + h / 2, cz + h / 2 + 4, 30, 0, sy, w / 2), 90.0, UPTAKE["soft"])
        arch = np.maximum.reduce(
            [
                p.capsule((cz, 30 + sy * 0.8, -w * 0.28), (cz, 72, -10), 4.5),
                p.capsule((cz, 30 + sy * 0.8, w * 0.28), (cz, 72, 10), 4.5),
                p.capsule((cz, 72, 0), (cz + 6, 98, 0), 5.0),
                p.capsule((cz, 55, -10), (cz, 55 + (10 if i < 19 else 0), -(w / 2 + 20)), 4.5),
                p.capsule((cz, 55, 10), (cz, 55 + (10 if i < 19 else 0), w / 2 + 20), 4.5),
            ]
        )
        p.paint(arch, 450.0, UPTAKE["arch"], spine_key(i))
        p.paint(body_v, 240.0, UPTAKE["vertebra"], spine_key(i))
        spine = np.maximum(spine, body_v)
    # ribs 1-12, posterior at the vertebra, curving forward and down
    for k in range(12):
        cz = layout[7 + k][0] - 6
        rx = RIB_HALF_WIDTH_MM[k] * 1.05
        ry = float(np.interp(cz, z, b)) - 14.0
        phi_end = 2.55 if k < 10 else 1.75
        phis = np.linspace(0.32, phi_end, 14)
        for sign, side in ((-1, "r"), (1, "l")):
            pts = []
            for ph in phis:
                s = min(ph / (np.pi / 2), 1.0)
                ant = max(0.0, (ph - np.pi / 2) / (2.55 - np.pi / 2)) ** 1.3
                pts.append(
                    (cz + 28 * s + (40 + 7 * k) * ant, ry * np.cos(ph) + 8, sign * rx * np.sin(ph))
                )
            p.paint(p.polyline(pts, 5.0), 420.0, UPTAKE["rib"], f"rib_{side}{k + 1}")
    # sternum
    for z0, z1, sx in ((302, 352, 24), (356, 480, 14)):
        zc = (z0 + z1) / 2
        ys = -(float(np.interp(zc, z, b)) - 16)
        p.paint(p.cylinder(z0, z1, ys, 0, 6, sx), 380.0, UPTAKE["sternum"], "sternum")
    # scapulae: thin plates behind the upper ribs
    for sign, side in ((-1, "r"), (1, "l")):
        th = np.deg2rad(25) * sign
        rot = [[1, 0, 0], [0, np.cos(th), np.sin(th)], [0, -np.sin(th), np.cos(th)]]
        p.paint(
            p.ellipsoid((390, 92, sign * 105), (80, 6, 48), rot),
            420.0,
            UPTAKE["scapula"],
            f"scapula_{side}",
        )
    # pelvis
    for zz in np.arange(sac_top, sac_top + 105, CT_SPACING_MM[0]):
        t = zz - sac_top
        m = p.cylinder(zz, zz + CT_SPACING_MM[0], 52 + 0.35 * t, 0, 17, max(52 - 0.38 * t, 10))
        p.paint(m, 300.0, UPTAKE["sacrum"], "sacrum")
    for sign, side in ((-1, "r"), (1, "l")):
        d = np.array([-100.0, sign * 85.0])
        d /= np.linalg.norm(d)
        rot = [[1, 0, 0], [0, d[0], d[1]], [0, -d[1], d[0]]]
        wing = p.ellipsoid((sac_top + 35, 20, sign * 100), (62, 78, 9), rot)
        p.paint(wing, 420.0, UPTAKE["ilium"], f"ilium_{side}")
        p.paint(
            p.capsule((sac_top + 10, 58, sign * 42), (sac_top + 70, 52, sign * 36), 8.0),
            330.0,
            UPTAKE["sij"],
            f"sij_{side}",
        )
        hz, hy, hx = sac_top + 125, -10.0, sign * 92.0
        p.paint(
            p.ellipsoid((hz, hy, hx), (30, 30, 30)), 480.0, UPTAKE["pelvis"], f"acetabulum_{side}"
        )
        p.paint(
            p.capsule((sac_top + 115, -35, sign * 78), (sac_top + 140, -80, sign * 10), 9.0),
            420.0,
            UPTAKE["pelvis"],
            f"pubis_{side}",
        )
        p.paint(
            p.capsule((sac_top + 140, 0, sign * 85), (sac_top + 185, 10, sign * 55), 11.0),
            420.0,
            UPTAKE["pelvis"],
            f"ischium_{side}",
        )
        p.paint(
            p.polyline([(hz, hy, hx), (hz + 25, -5, sign * 125), (hz + 200, 0, sign * 110)], 14.0),
            450.0,
            UPTAKE["femur"],
            f"femur_{side}",
        )
        p.paint(p.ellipsoid((hz, hy, hx), (22, 22, 22)), 330.0, UPTAKE["hip"], f"hip_{side}")
    # cortical shell: bone voxels on the bone's surface are denser
    bone = p.regions > 0
    shell = bone & ~ndimage.binary_erosion(bone)
    p.hu[shell] += 250.0
    return TrunkTemplate(p.hu, p.act, kidney, bladder.astype(np.float32), p.regions)


@dataclass
class Patient:
    """Per-patient anatomy (shared by a patient's follow-up scans)."""

    sex: str
    age: int
    height_mm: float
    habitus: float


def sample_patient(rng: np.random.Generator, sex: str, age: int) -> Patient:
    """Draw body size for one patient."""
    mean_h = 1700.0 if sex == "M" else 1590.0
    return Patient(
        sex,
        age,
        float(np.clip(rng.normal(mean_h, 60.0), 1450.0, 1900.0)),
        float(np.clip(rng.normal(1.0, 0.07), 0.85, 1.2)),
    )


def prepare_anatomy(rng: np.random.Generator, patient: Patient) -> dict:
    """Warp the canonical trunk to this patient and bed position.

    Returns:
        Dict with ``hu``, ``activity`` (kidneys and bladder included),
        ``regions`` on the CT grid, the chosen ``bed`` name and the kidney and
        bladder factors.
    """
    tpl = build_trunk()
    bed = str(rng.choice(list(BED_CENTRES_MM)))
    kidney_f = float(np.clip(np.exp(0.5 * rng.standard_normal()), 0.1, 2.5))
    bladder_f = float(np.clip(np.exp(0.6 * rng.standard_normal()), 0.25, 3.5))
    # weight the organs in template space: one warp instead of three
    activity = (
        tpl.activity
        + UPTAKE["kidney"] * kidney_f * tpl.kidney
        + UPTAKE["bladder"] * bladder_f * tpl.bladder
    )
    sz = patient.height_mm / 1700.0
    sxy = patient.habitus * (0.95 if patient.sex == "F" else 1.0)
    # canonical z (mm) of the output centre, jittered by +-30 mm
    zc = BED_CENTRES_MM[bed] + float(rng.uniform(-30, 30))
    dz = CT_SPACING_MM[0]
    # output index k -> template index: (zc + (k - 63.5) * dz / sz - Z0) / dz
    matrix = np.diag([1.0 / sz, 1.0 / sxy, 1.0 / sxy])
    centre = (np.array(CT_SHAPE) - 1) / 2.0
    tcentre = np.array([(zc - TEMPLATE_Z0_MM) / dz, 63.5, 63.5])
    offset = tcentre - matrix @ centre
    out = {}
    for name, order, cval in (
        ("hu", 1, -1000.0),
        ("activity", 1, 0.0),
        ("regions", 0, 0),
    ):
        vol = activity if name == "activity" else getattr(tpl, name)
        out[name] = ndimage.affine_transform(
            vol,
            matrix,
            offset=offset,
            output_shape=CT_SHAPE,
            order=order,
            mode="constant",
            cval=cval,
            prefilter=False,
        )
    out["bed"] = bed
    out["kidney_uptake"], out["bladder_activity"] = kidney_f, bladder_f
    out["z_centre_mm"] = round(-zc * sz, 2)  # patient z (LPS, superior +) with the vertex at 0
    return out


def available_regions(anatomy: dict, min_voxels: int = 40) -> set[str]:
    """Region keys with at least ``min_voxels`` voxels in this case's field of view."""
    counts = np.bincount(anatomy["regions"].ravel(), minlength=len(REGIONS))
    return {REGIONS[i].key for i in np.nonzero(counts >= min_voxels)[0] if i > 0}


def _ct_correlate(rng, les: LesionPlan, hu_patch, prof, mask):
    """Apply the lesion's CT appearance to a HU patch in place."""
    if les.kind == "sclerotic" or les.kind == "endplate":
        hu_patch += prof * float(
            rng.uniform(250, 700) if les.kind == "sclerotic" else rng.uniform(200, 450)
        )
    elif les.kind == "lytic":
        f = 0.85 * prof
        hu_patch[:] = hu_patch * (1 - f) + 35.0 * f
    elif les.kind == "mixed":
        sign = np.where(rng.standard_normal(prof.shape) > 0, 1.0, -0.6)
        sign = ndimage.gaussian_filter(sign, 1.0)
        hu_patch += prof * 400.0 * sign
    elif les.kind in ("osteophyte", "degenerative"):
        hu_patch[:] = np.maximum(hu_patch, hu_patch + prof * float(rng.uniform(200, 500)))
        hu_patch[mask & (hu_patch < 350)] = 450.0
    elif les.kind == "fracture":
        # callus around the rib, with a lucent fracture line through it
        hu_patch += prof * float(rng.uniform(150, 380))
        c = [s // 2 for s in prof.shape]
        hu_patch[c[0], :, :] -= 250.0 * mask[c[0]]


def _place_lesion(rng, les, anat, instance, label) -> dict | None:
    rcode = code(les.region_key)
    regions = anat["regions"]
    zs, ys, xs = np.nonzero(regions == rcode)
    if len(zs) == 0:
        return None
    if les.position in ("margin", "endplate"):
        u = np.abs(xs - xs.mean()) if les.position == "margin" else np.abs(zs - zs.mean())
        u = u / (u.max() + 1e-6)
        # osteophytes sit on the anterior-lateral margin of the vertebral body
        front = ys < np.percentile(ys, 50)
        w = np.where((u > 0.6) & front, 1.0, 0.02)
    elif isinstance(les.position, float):
        d = np.abs(xs - 63.5)
        target = d.min() + les.position * (d.max() - d.min())
        w = np.exp(-0.5 * ((d - target) / 1.5) ** 2)
    else:
        w = np.ones(len(zs))
    w = w / w.sum()
    bone = regions == rcode
    spacing = np.array(CT_SPACING_MM)
    for _ in range(8):
        i = int(rng.choice(len(zs), p=w))
        # SPECT/CT is aimed at lesions that the SPECT shows: sizes are scaled up so
        # that most exceed the partial-volume limit of a 13 mm FWHM system
        r = LESION_SIZE_SCALE * les.size_mm / 2.0 / spacing
        profile, mask = blob(rng, r * rng.uniform(0.8, 1.25, 3), les.irregularity)
        half = np.array(profile.shape) // 2
        c = np.array([zs[i], ys[i], xs[i]])
        lo = c - half
        sl = tuple(
            slice(max(a, 0), min(a + s, n))
            for a, s, n in zip(lo, profile.shape, CT_SHAPE, strict=True)
        )
        psl = tuple(slice(s.start - a, s.stop - a) for s, a in zip(sl, lo, strict=True))
        grow = 2 if les.kind == "osteophyte" else 1
        local_bone = ndimage.binary_dilation(bone[sl], iterations=grow)
        m = mask[psl] & local_bone & (instance[sl] == 0)
        if m.sum() < 8:
            continue
        level = float(np.median(anat["activity"][sl][bone[sl]])) if bone[sl].any() else 0.7
        prof = profile[psl] * local_bone
        anat["activity"][sl] += (les.uptake_ratio - 1.0) * level * prof
        hu_patch = anat["hu"][sl].copy()
        _ct_correlate(rng, les, hu_patch, prof, m)
        anat["hu"][sl] = hu_patch
        instance[sl][m] = les.id
        label[sl][m] = les.label
        regions[sl][m & (regions[sl] == 0)] = rcode  # osteophytes and callus are new bone
        return {}
    return None


def resample(vol, src_spacing, src_shape, dst_spacing, dst_shape, order=1):
    """Resample between two grids sharing their centre (both axis-aligned)."""
    src_spacing, dst_spacing = np.asarray(src_spacing, float), np.asarray(dst_spacing, float)
    matrix = dst_spacing / src_spacing
    offset = (np.array(src_shape) - 1) / 2.0 - matrix * (np.array(dst_shape) - 1) / 2.0
    return ndimage.affine_transform(
        vol,
        matrix,
        offset=offset,
        output_shape=dst_shape,
        order=order,
        mode="nearest",
        prefilter=False,
    )


def render_spectct(rng: np.random.Generator, patient: Patient, anat: dict, plan: CasePlan) -> dict:
    """Render one SPECT/CT case from warped anatomy and a plan.

    Returns:
        Dict with ``image`` float32 (2, 128, 128, 128) (SPECT counts on the CT
        grid, CT HU), ``label``, ``instance``, ``bone``, ``spacing_mm``,
        ``spect`` (float32 counts on the SPECT grid), ``ct_hu`` (int16),
        ``lesion_records`` and ``acquisition``.
    """
    kidney_f, bladder_f = anat["kidney_uptake"], anat["bladder_activity"]
    act = anat["activity"]
    act *= float(np.exp(0.1 * rng.standard_normal()))
    # bowel gas: a few pockets in the abdomen
    hu = anat["hu"]
    for _ in range(int(rng.integers(0, 5))):
        c = (rng.uniform(30, 120), rng.uniform(45, 70), rng.uniform(40, 88))
        if (
            hu[int(c[0]), int(c[1]), int(c[2])] > 0
            and anat["regions"][int(c[0]), int(c[1]), int(c[2])] == 0
        ):
            g = (
                pr.ellipsoid(CT_SHAPE, c, (rng.uniform(2, 5), rng.uniform(2, 4), rng.uniform(2, 5)))
                > 0.5
            )
            g &= anat["regions"] == 0
            hu[g] = -900.0
    instance = np.zeros(CT_SHAPE, np.uint16)
    label = np.zeros(CT_SHAPE, np.uint8)
    placed = []
    for les in plan.lesions:
        if _place_lesion(rng, les, anat, instance, label) is None:
            log.debug("lesion %s in %s could not be placed; dropped", les.id, les.region_key)
            continue
        placed.append(les)
    plan.lesions = placed
    # CT: partial-volume smoothing and quantum noise (low-dose CT of a SPECT/CT)
    ct = ndimage.gaussian_filter(hu, 0.5) + rng.normal(0.0, 18.0, CT_SHAPE).astype(np.float32)
    ct = np.clip(np.round(ct), -1024, 3071).astype(np.float32)
    # SPECT on its own grid
    spect_act = resample(act, CT_SPACING_MM, CT_SHAPE, SPECT_SPACING_MM, SPECT_SHAPE)
    spect_act = ndimage.gaussian_filter(spect_act, SPECT_FWHM_MM / 2.3548 / SPECT_SPACING_MM[0])
    level = float(
        np.clip(160.0 * np.exp(0.25 * rng.standard_normal()), 70, 400)
    )  # counts in normal vertebra
    spect = rng.poisson(np.clip(spect_act, 0, None) * level).astype(np.float32)
    spect = ndimage.gaussian_filter(spect, 0.7)  # reconstruction post-filter
    spect = np.round(spect, 1).astype(np.float32)
    spect_on_ct = resample(spect, SPECT_SPACING_MM, SPECT_SHAPE, CT_SPACING_MM, CT_SHAPE)
    records = []
    for les in placed:
        m = instance == les.id
        zs, ys, xs = np.nonzero(m)
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
                "centroid": [
                    round(float(zs.mean()), 2),
                    round(float(ys.mean()), 2),
                    round(float(xs.mean()), 2),
                ],
                "volume_vox": int(m.sum()),
                "peak_counts": float(spect_on_ct[m].max()),
                "mean_hu": round(float(ct[m].mean()), 1),
                "uptake_ratio": round(les.uptake_ratio, 3),
            }
        )
    return {
        "image": np.stack([spect_on_ct.astype(np.float32), ct]),
        "label": label,
        "instance": instance,
        "bone": (anat["regions"] > 0).astype(np.uint8),
        "spacing_mm": np.array(CT_SPACING_MM, np.float32),
        "spect": spect,
        "lesion_records": records,
        "acquisition": {
            "bed": anat["bed"],
            "kidney_uptake": round(kidney_f, 3),
            "bladder_activity": round(bladder_f, 3),
            "counts_per_voxel_normal_bone": round(level, 1),
            "vertebrae_in_view": vertebrae_in_view(anat["regions"]),
        },
    }


def vertebrae_in_view(regions: np.ndarray) -> list[str]:
    """Keys of the vertebrae T1-L5 that lie wholly within the CT's slices, top to bottom.

    The truth a level count and a rib number are scored against: a rib's number can be
    read from the CT only when the vertebra its head lies at is in view
    (``benchmarks/ct_regions.py``).
    """
    depth = regions.shape[0]
    present = [set(np.unique(regions[k]).tolist()) for k in range(depth)]
    keys = []
    for index in range(7, 24):
        slices = [k for k in range(depth) if code(spine_key(index)) in present[k]]
        if slices and slices[0] > 0 and slices[-1] < depth - 1:
            keys.append(spine_key(index))
    return keys
