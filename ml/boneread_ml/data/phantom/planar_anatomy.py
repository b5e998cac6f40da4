"""Whole-body anatomy template for planar bone scans (anterior frame).

The template is drawn once per arm pose in canonical patient coordinates
(height 1700 mm) and cached; each case warps it (size, habitus, position) and
re-weights the uptake groups.  Coordinates: ``y`` millimetres down from the
vertex, ``x`` millimetres towards the patient's left, which is the image's
right in the anterior view (the radiological convention of bone scans).

Structures live in three depth layers (fraction of the body thickness from
the anterior surface, :data:`LAYER_DEPTH`): anterior (sternum, clavicles,
anterior ribs, pubis, patellae, face), middle (skull, pelvis, limbs, bladder)
and posterior (spine, scapulae, posterior ribs, kidneys).  The depth drives
attenuation and collimator blur in each view, so anterior and posterior views
differ the way real ones do (the spine is brighter posteriorly, the sternum
anteriorly).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from boneread_ml.data.phantom import primitives as pr
from boneread_ml.data.phantom.regions import REGIONS, code, spine_key

ROWS, COLS = 1024, 256
PIXEL_MM = 2.4  # 1024 x 256 at 2.4 mm: the usual whole-body matrix and zoom 1.0
CANONICAL_HEIGHT_MM = 1700.0
TOP_PX = 24.0
LAYERS = ("anterior", "middle", "posterior")
LAYER_DEPTH = np.array([0.2, 0.5, 0.78], np.float32)
RIB_HALF_WIDTH_MM = (62, 92, 112, 126, 136, 142, 146, 146, 142, 132, 112, 92)

# Uptake groups (relative activity per unit projected area of bone, 99mTc-MDP at ~3 h).
GROUPS = (
    "skull",
    "face",
    "spine",
    "rib",
    "sternum",
    "clavicle",
    "scapula",
    "pelvis",
    "sacroiliac",
    "long_bone",
    "joint",
    "kidney",
    "bladder",
    "soft_tissue",
)
GROUP_UPTAKE = {
    "skull": 0.55,
    "face": 0.45,
    "spine": 1.0,
    "rib": 0.4,
    "sternum": 0.8,
    "clavicle": 0.55,
    "scapula": 0.45,
    "pelvis": 0.7,
    "sacroiliac": 0.95,
    "long_bone": 0.38,
    "joint": 0.7,
    "kidney": 0.45,
    "bladder": 3.0,
    "soft_tissue": 0.06,
}


@dataclass
class PlanarTemplate:
    """Canonical anatomy.

    Attributes:
        groups: ``(group, layer) -> float32 (ROWS, COLS)`` activity shapes.
        regions: int16 (3, ROWS, COLS) region code per layer (0 = no bone).
        thickness_mm: float32 (ROWS, COLS) body thickness along the view axis.
    """

    groups: dict[tuple[str, int], np.ndarray]
    regions: np.ndarray
    thickness_mm: np.ndarray

    @functools.cached_property
    def packed_regions(self) -> np.ndarray:
        """int32 ``r0 + n * r1 + n**2 * r2`` (n = number of regions): one map to warp."""
        n = len(REGIONS)
        r = self.regions.astype(np.int32)
        return r[0] + n * r[1] + n * n * r[2]


class _Painter:
    def __init__(self):
        self.shape = (ROWS, COLS)
        self.groups: dict[tuple[str, int], np.ndarray] = {}
        self.regions = np.zeros((3, ROWS, COLS), np.int16)
        self.thickness = np.zeros(self.shape, np.float32)

    @staticmethod
    def px(y, x):
        return (TOP_PX + y / PIXEL_MM, COLS / 2 + x / PIXEL_MM)

    def add(self, group, layer, mask, weight=1.0, region_key=None):
        key = (group, layer)
        img = self.groups.setdefault(key, np.zeros(self.shape, np.float32))
        np.maximum(img, mask * weight, out=img)
        if region_key is not None:
            self.regions[layer][mask > 0.5] = code(region_key)

    # shapes in millimetres -------------------------------------------------
    def ellipse(self, y, x, ay, ax, angle=0.0):
        return pr.ellipse(self.shape, self.px(y, x), (ay / PIXEL_MM, ax / PIXEL_MM), angle)

    def capsule(self, y0, x0, y1, x1, r):
        return pr.capsule(self.shape, self.px(y0, x0), self.px(y1, x1), r / PIXEL_MM)

    def polyline(self, pts, r):
        return pr.polyline(self.shape, [self.px(y, x) for y, x in pts], r / PIXEL_MM)

    def polygon(self, pts):
        return pr.polygon(self.shape, [self.px(y, x) for y, x in pts])

    def body(self, mask, thickness_mm):
        np.maximum(self.thickness, mask * thickness_mm, out=self.thickness)


A, M, P = 0, 1, 2


def vertebra_layout() -> tuple[list[tuple[float, float, float]], float]:
    """Canonical vertebrae C1-L5 as (centre y mm, height mm, width mm), and the sacrum's top y."""
    heights = [14] * 7 + list(np.linspace(19, 25, 12)) + [28, 29, 30, 30, 30]
    widths = list(np.linspace(26, 32, 7)) + list(np.linspace(32, 44, 12)) + [46, 48, 50, 52, 52]
    y = 190.0
    out = []
    for h, w in zip(heights, widths, strict=True):
        out.append((y + h / 2, float(h), float(w)))
        y += h + 4.0
    return out, y + 2


def _spine(p: _Painter) -> list[float]:
    """Vertebrae C1-L5 and sacrum; returns the y (mm) of each vertebra's centre and the sacrum top."""
    layout, top = vertebra_layout()
    for i, (cy, h, w) in enumerate(layout):
        body = p.ellipse(cy, 0, h / 2, w / 2)
        body = np.maximum(body, p.capsule(cy, -w * 0.3, cy, w * 0.3, h * 0.42))
        p.add("spine", P, body, 1.0, spine_key(i))
    sac = p.polygon([(top, -52), (top, 52), (top + 95, 14), (top + 105, 0), (top + 95, -14)])
    p.add("spine", P, sac, 0.85, "sacrum")
    return [c for c, _, _ in layout] + [top]


def _ribs(p: _Painter, vert_y: list[float]) -> None:
    half_width = RIB_HALF_WIDTH_MM
    for k in range(12):
        y0 = vert_y[7 + k] - 6  # articulates at T(k+1)
        w = half_width[k]
        for sign, side in ((-1, "r"), (1, "l")):
            t = np.linspace(0, 1, 9)
            post = [
                (y0 + 14 * tt + 22 * tt**2, sign * (20 + (w - 20) * np.sin(tt * np.pi / 2)))
                for tt in t
            ]
            p.add("rib", P, p.polyline(post, 5.0), 1.0, f"rib_{side}{k + 1}")
            if k < 10:  # ribs 11-12 float: no anterior arc
                ya = y0 + 40
                end_x = 58 - 2 * k
                drop = 40 + 7 * k
                ant = [
                    (
                        ya + drop * (1 - np.cos(tt * np.pi / 2)),
                        sign * (w - (w - end_x) * np.sin(tt * np.pi / 2)),
                    )
                    for tt in t
                ]
                p.add("rib", A, p.polyline(ant, 4.5), 0.8, f"rib_{side}{k + 1}")


def _shoulder_girdle(p: _Painter, arm_deg: float) -> None:
    for sign, side in ((-1, "r"), (1, "l")):
        clav = p.polyline(
            [(306, sign * 18), (298, sign * 70), (296, sign * 120), (288, sign * 168)], 6.5
        )
        p.add("clavicle", A, clav, 1.0, f"clavicle_{side}")
        p.add("joint", A, p.ellipse(308, sign * 20, 9, 9), 1.0, f"sternoclavicular_{side}")
        scap = p.polygon([(305, sign * 72), (296, sign * 160), (470, sign * 92)])
        rim = p.polyline([(305, sign * 72), (470, sign * 92), (296, sign * 160)], 4.5)
        p.add("scapula", P, np.maximum(scap * 0.55, rim), 1.0, f"scapula_{side}")
        # arm hangs from the shoulder, abducted by arm_deg
        hy, hx = 318.0, sign * 172.0
        t = np.deg2rad(arm_deg)
        ey, ex = hy + 300 * np.cos(t), hx + sign * 300 * np.sin(t)
        wy, wx = ey + 255 * np.cos(t * 1.3), ex + sign * 255 * np.sin(t * 1.3)
        p.add("long_bone", M, p.capsule(hy + 20, hx, ey - 15, ex, 11), 1.0, f"humerus_{side}")
        p.add(
            "long_bone",
            M,
            p.capsule(ey + 12, ex - sign * 7, wy - 10, wx - sign * 7, 6),
            1.0,
            f"forearm_{side}",
        )
        p.add(
            "long_bone",
            M,
            p.capsule(ey + 12, ex + sign * 7, wy - 10, wx + sign * 7, 6),
            1.0,
            f"forearm_{side}",
        )
        p.add("joint", M, p.ellipse(hy, hx, 26, 24), 1.0, f"shoulder_{side}")
        p.add("joint", M, p.ellipse(ey, ex, 17, 22), 0.9, f"elbow_{side}")
        p.add("joint", M, p.ellipse(wy, wx, 14, 18), 0.9, f"wrist_{side}")
        hand = p.ellipse(wy + 60, wx + sign * 60 * np.sin(t * 1.3), 50, 26)
        p.add("long_bone", M, hand, 0.8)
        # soft tissue of the arm
        arm = np.maximum(p.capsule(hy, hx, ey, ex, 45), p.capsule(ey, ex, wy, wx, 36))
        p.body(np.maximum(arm, p.ellipse(wy + 60, wx, 60, 34)), 85.0)


def _pelvis_legs(p: _Painter, sacrum_top: float) -> None:
    yi = sacrum_top + 20
    for sign, side in ((-1, "r"), (1, "l")):
        wing = p.ellipse(yi + 10, sign * 108, 62, 66, angle=-sign * 20)
        crest = np.clip(wing - p.ellipse(yi + 18, sign * 108, 50, 54, angle=-sign * 20), 0, 1)
        p.add("pelvis", M, np.maximum(wing * 0.55, crest), 1.0, f"ilium_{side}")
        p.add(
            "sacroiliac", P, p.capsule(yi - 8, sign * 42, yi + 55, sign * 32, 9), 1.0, f"sij_{side}"
        )
        ring = p.ellipse(yi + 120, sign * 52, 36, 30) - p.ellipse(yi + 120, sign * 52, 22, 17)
        ring = np.clip(ring, 0, 1)
        upper = ring * (np.arange(ROWS)[:, None] < p.px(yi + 120, 0)[0])
        p.add("pelvis", A, upper, 0.9, f"pubis_{side}")
        p.add("pelvis", M, ring - upper, 0.9, f"ischium_{side}")
        p.add("pelvis", M, p.ellipse(yi + 85, sign * 92, 22, 20), 1.0, f"acetabulum_{side}")
        # hip, femur, knee, tibia, ankle, foot
        fy, fx = yi + 90, sign * 100.0
        p.add("joint", M, p.ellipse(fy, fx, 24, 24), 0.95, f"hip_{side}")
        shaft = p.polyline(
            [(fy + 5, fx), (fy + 25, sign * 132), (fy + 60, sign * 132), (fy + 420, sign * 88)], 13
        )
        p.add("long_bone", M, shaft, 1.0, f"femur_{side}")
        ky = fy + 440
        p.add("joint", M, p.ellipse(ky, sign * 86, 30, 36), 1.0, f"knee_{side}")
        p.add("joint", A, p.ellipse(ky - 12, sign * 86, 14, 14), 0.6)
        p.add(
            "long_bone",
            M,
            p.capsule(ky + 30, sign * 80, ky + 390, sign * 76, 12),
            1.0,
            f"tibia_{side}",
        )
        p.add(
            "long_bone",
            M,
            p.capsule(ky + 40, sign * 108, ky + 380, sign * 100, 5),
            0.8,
            f"tibia_{side}",
        )
        ay = ky + 410
        p.add("joint", M, p.ellipse(ay, sign * 82, 17, 26), 0.95, f"ankle_{side}")
        p.add("long_bone", M, p.ellipse(ay + 38, sign * 90, 28, 24), 0.9)
        leg = np.maximum(
            p.capsule(fy, sign * 95, ky, sign * 88, 75), p.capsule(ky, sign * 88, ay, sign * 82, 52)
        )
        p.body(np.maximum(leg, p.ellipse(ay + 40, sign * 88, 40, 40)), 120.0)


@functools.lru_cache(maxsize=4)
def build_template(arm_deg: float) -> PlanarTemplate:
    """Draw the canonical anatomy for one arm abduction angle (degrees); cached."""
    p = _Painter()
    # soft tissue envelope and thickness (mm) along the anterior-posterior axis
    p.body(p.ellipse(115, 0, 118, 82), 190.0)
    p.body(p.capsule(220, 0, 300, 0, 58), 125.0)
    trunk = p.polygon(
        [
            (285, -150),
            (300, -205),
            (460, -185),
            (640, -158),
            (800, -180),
            (900, -195),
            (960, -150),
            (960, 150),
            (900, 195),
            (800, 180),
            (640, 158),
            (460, 185),
            (300, 205),
            (285, 150),
        ]
    )
    p.body(trunk, 225.0)
    p.add("soft_tissue", M, np.clip(p.thickness / 225.0, 0, 1.2))
    # skull: calvarium brighter at the rim, face anteriorly
    skull = p.ellipse(112, 0, 104, 76)
    rim = np.clip(skull - p.ellipse(114, 0, 92, 66), 0, 1)
    p.add("skull", M, np.maximum(skull * 0.6, rim), 1.0, "skull")
    p.add(
        "face",
        A,
        p.polyline([(160, -52), (205, -40), (222, 0), (205, 40), (160, 52)], 8),
        1.0,
        "mandible",
    )
    p.add("face", A, p.ellipse(150, 0, 30, 45) * 0.5)
    vert_y = _spine(p)
    _ribs(p, vert_y)
    p.add("sternum", A, p.polygon([(302, -26), (302, 26), (350, 18), (352, -18)]), 1.0, "sternum")
    p.add("sternum", A, p.capsule(356, 0, 478, 0, 14), 0.9, "sternum")
    _shoulder_girdle(p, arm_deg)
    _pelvis_legs(p, vert_y[-1])
    # kidneys beside L1-L3, the left slightly higher
    for sign, dy in ((-1, 12.0), (1, 0.0)):
        ky = vert_y[19] + 30 + dy
        kid = p.ellipse(ky, sign * 74, 54, 27, angle=sign * 12)
        p.add("kidney", P, np.clip(kid - 0.6 * p.ellipse(ky, sign * 64, 16, 10), 0, 1))
    p.add("bladder", M, p.ellipse(vert_y[-1] + 118, 0, 34, 44))
    p.thickness = np.where(p.thickness > 0, np.maximum(p.thickness, 60.0), 0).astype(np.float32)
    return PlanarTemplate(groups=p.groups, regions=p.regions, thickness_mm=p.thickness)
