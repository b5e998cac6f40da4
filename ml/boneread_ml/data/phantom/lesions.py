"""The lesion model shared by the planar and SPECT/CT phantoms.

A case plan says what the patient has (scenario, primary cancer) and lists the
lesions with their class, kind, region and appearance; the modality modules
then draw them.  The appearance distributions of the two classes overlap on
purpose (see docs/synthetic-data.md): metastases are on average larger,
hotter and more irregular, but a solitary rib or vertebral focus of either
class can look the same.  Multiplicity, site and the report resolve part of
that ambiguity, as in real reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from boneread_ml.data.phantom.regions import REGIONS, Region, region

BENIGN, METASTATIC = 1, 2
CLASS_NAMES = {BENIGN: "benign", METASTATIC: "metastatic"}

# scenario -> probability (a bone-scan population referred mostly for staging)
SCENARIOS = {"normal": 0.2, "metastatic": 0.22, "benign": 0.33, "mixed": 0.25}

# primary cancers: (key, Chinese, sex restriction or None, dominant metastasis kind)
CANCERS = [
    ("breast", "乳腺癌", "F", "mixed"),
    ("prostate", "前列腺癌", "M", "sclerotic"),
    ("lung", "肺癌", None, "lytic"),
    ("kidney", "肾癌", None, "lytic"),
    ("thyroid", "甲状腺癌", None, "lytic"),
    ("nasopharynx", "鼻咽癌", None, "mixed"),
    ("esophagus", "食管癌", None, "lytic"),
    ("colorectal", "结直肠癌", None, "mixed"),
]
CANCER_WEIGHTS = np.array([0.26, 0.2, 0.26, 0.06, 0.05, 0.07, 0.05, 0.05])

# Site mix of metastases (axial skeleton dominates: red marrow distribution).
MET_SITES = {
    "spine": 0.36,
    "rib": 0.24,
    "pelvis": 0.18,
    "long_bone": 0.07,
    "skull": 0.05,
    "sternum": 0.04,
    "scapula": 0.04,
    "clavicle": 0.02,
}
# Benign events: (kind, site, weight).  A rib-fracture event is a run of 1-4
# consecutive ribs on one side, aligned (the classic benign pattern).
BENIGN_EVENTS = [
    ("degenerative", "joint", 0.26),
    ("osteophyte", "spine", 0.24),
    ("endplate", "spine", 0.12),
    ("fracture", "rib", 0.25),
    ("fracture", "pelvis", 0.06),
    ("fracture", "spine", 0.03),
    ("degenerative", "sternum", 0.04),
    # less typical benign foci that a reader cannot tell from a solitary metastasis by site
    ("fracture", "long_bone", 0.04),  # healing fracture, enthesopathy
    ("degenerative", "skull", 0.03),  # hyperostosis, benign calvarial focus
    ("fracture", "clavicle", 0.02),
    ("fracture", "scapula", 0.02),
]
JOINT_WEIGHTS = {
    "knee": 0.32,
    "shoulder": 0.18,
    "hip": 0.14,
    "ankle": 0.08,
    "wrist": 0.05,
    "elbow": 0.04,
    "sternoclavicular": 0.09,
    "sij": 0.10,
}


@dataclass
class LesionPlan:
    """One lesion to draw.

    Attributes:
        id: Lesion id within the case (1-based; the value in the instance map).
        label: 1 benign, 2 metastatic.
        kind: ``sclerotic``, ``lytic``, ``mixed`` (metastases) or ``degenerative``,
            ``osteophyte``, ``endplate``, ``fracture`` (benign).
        region_key: Key of the bone or joint (see :mod:`regions`).
        size_mm: Equivalent diameter before clipping to the bone.
        uptake_ratio: Activity relative to the normal bone around it.
        irregularity: 0 (round) to 1 (very irregular outline).
        position: Where in the bone: ``any``, ``margin`` (vertebral lateral
            margin), ``endplate``, ``proximal`` (long bones) or a fraction 0-1
            along a rib (aligned fractures share it).
        group: Lesions of one event share a group number (rib-fracture runs).
    """

    id: int
    label: int
    kind: str
    region_key: str
    size_mm: float
    uptake_ratio: float
    irregularity: float
    position: str | float = "any"
    group: int = 0

    @property
    def region(self) -> Region:
        return region(self.region_key)

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.label]


@dataclass
class CasePlan:
    """What one case contains before it is drawn."""

    scenario: str
    cancer: tuple | None
    trauma: bool
    joint_pain: bool
    lesions: list[LesionPlan] = field(default_factory=list)


def _lognormal(rng, median, sigma, lo, hi):
    return float(np.clip(median * np.exp(sigma * rng.standard_normal()), lo, hi))


def _met_appearance(rng, cancer_kind: str) -> tuple[str, float, float, float]:
    kinds = {"sclerotic": [0.75, 0.1, 0.15], "lytic": [0.2, 0.6, 0.2], "mixed": [0.4, 0.3, 0.3]}
    kind = str(rng.choice(["sclerotic", "lytic", "mixed"], p=kinds[cancer_kind]))
    size = _lognormal(rng, 15.0, 0.4, 7.0, 45.0)
    ratio = _lognormal(rng, 2.9, 0.45, 1.5, 12.0) * (0.9 if kind == "lytic" else 1.0)
    irregular = float(rng.uniform(0.15, 0.7))
    return kind, size, ratio, irregular


def _benign_appearance(rng, kind: str) -> tuple[float, float, float]:
    if kind == "fracture":
        return (
            _lognormal(rng, 11.0, 0.3, 6.0, 22.0),
            _lognormal(rng, 2.7, 0.4, 1.5, 9.0),
            float(rng.uniform(0.05, 0.35)),
        )
    return (
        _lognormal(rng, 13.0, 0.35, 6.0, 32.0),
        _lognormal(rng, 2.4, 0.4, 1.5, 8.0),
        float(rng.uniform(0.05, 0.5)),
    )


def _pick_region(
    rng, site: str, available: set[str], sub: str | None = None, metastasis: bool = False
) -> str | None:
    keys = [r.key for r in REGIONS if r.site == site and r.key in available]
    if metastasis and site == "long_bone":
        # metastases distal to the elbow and knee (acral) are rare: humerus and femur only
        keys = [k for k in keys if k.startswith(("humerus", "femur"))]
    if metastasis and site == "skull" and "skull" in keys:
        return "skull" if rng.random() < 0.85 or "mandible" not in keys else "mandible"
    if sub is not None:
        keys = [k for k in keys if k.startswith(sub)]
    if site == "spine" and sub is None:
        # thoracolumbar spine more often than cervical
        weights = np.array([0.3 if k.startswith("spine_c") else 1.0 for k in keys])
        return str(rng.choice(keys, p=weights / weights.sum())) if keys else None
    return str(rng.choice(keys)) if keys else None


def plan_case(rng: np.random.Generator, available: set[str], sex: str, max_mets: int) -> CasePlan:
    """Draw the scenario, history and lesion list of one case.

    Args:
        rng: The case's random generator.
        available: Region keys present in this modality's field of view.
        sex: ``"M"`` or ``"F"`` (restricts the primary cancer).
        max_mets: Cap on the number of metastases (smaller for SPECT/CT).

    Returns:
        The plan; lesions are numbered 1..n.
    """
    names = list(SCENARIOS)
    scenario = str(rng.choice(names, p=np.array(list(SCENARIOS.values()))))
    has_met = scenario in ("metastatic", "mixed")
    # cancer patients dominate the referrals; almost every metastatic case has a known primary
    p_cancer = 0.95 if has_met else 0.55
    cancer = None
    if rng.random() < p_cancer:
        ok = [i for i, c in enumerate(CANCERS) if c[2] in (None, sex)]
        w = CANCER_WEIGHTS[ok] / CANCER_WEIGHTS[ok].sum()
        cancer = CANCERS[int(rng.choice(ok, p=w))]
    plan = CasePlan(scenario=scenario, cancer=cancer, trauma=False, joint_pain=False)
    lesions: list[LesionPlan] = []
    used: set[str] = set()

    def add(label, kind, key, size, ratio, irr, position="any", group=0):
        lesions.append(
            LesionPlan(len(lesions) + 1, label, kind, key, size, ratio, irr, position, group)
        )
        used.add(key)

    if has_met:
        n = min(max_mets, 1 + int(rng.negative_binomial(1, 0.4)))
        site_names = list(MET_SITES)
        p = np.array([MET_SITES[s] for s in site_names])
        for _ in range(n):
            for _try in range(6):
                site = str(rng.choice(site_names, p=p / p.sum()))
                key = _pick_region(rng, site, available, metastasis=True)
                if key and key not in used:
                    break
            else:
                continue
            kind, size, ratio, irr = _met_appearance(rng, cancer[3] if cancer else "mixed")
            position = "proximal" if site == "long_bone" else "any"
            add(METASTATIC, kind, key, size, ratio, irr, position)
    if scenario in ("benign", "mixed"):
        n_events = 1 + int(rng.binomial(4, 0.35))
        kinds = BENIGN_EVENTS
        w = np.array([k[2] for k in kinds])
        for g in range(1, n_events + 1):
            kind, site, _ = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]
            if kind == "fracture" and site == "rib":
                side = str(rng.choice(["l", "r"]))
                run = 1 + int(rng.binomial(3, 0.35))
                first = int(rng.integers(3, 11))
                along = float(rng.uniform(0.35, 0.9))
                plan.trauma = plan.trauma or rng.random() < 0.6
                for k in range(first, min(first + run, 13)):
                    key = f"rib_{side}{k}"
                    if key in available and key not in used:
                        size, ratio, irr = _benign_appearance(rng, kind)
                        add(BENIGN, kind, key, size, ratio, irr, along, g)
                continue
            if site == "joint":
                jw = {j: v for j, v in JOINT_WEIGHTS.items() if f"{j}_l" in available}
                if not jw:
                    continue
                j = str(rng.choice(list(jw), p=np.array(list(jw.values())) / sum(jw.values())))
                sides = ["l", "r"] if rng.random() < 0.4 else [str(rng.choice(["l", "r"]))]
                plan.joint_pain = plan.joint_pain or rng.random() < 0.5
                for s in sides:
                    key = f"{j}_{s}"
                    if key not in used:
                        size, ratio, irr = _benign_appearance(rng, kind)
                        add(BENIGN, kind, key, size, ratio, irr, "any", g)
                continue
            if site == "spine":
                cands = [
                    k
                    for k in available
                    if (
                        k.startswith("spine_l")
                        or k in ("spine_t10", "spine_t11", "spine_t12")
                        or (kind == "fracture" and k.startswith("spine_t"))
                    )
                    and k not in used
                ]
                if not cands:
                    continue
                key = str(rng.choice(sorted(cands)))
                size, ratio, irr = _benign_appearance(rng, kind)
                add(
                    BENIGN,
                    kind,
                    key,
                    min(size, 16.0) if kind != "fracture" else size * 1.4,
                    ratio,
                    irr,
                    {"osteophyte": "margin", "endplate": "endplate"}.get(kind, "any"),
                    g,
                )
                continue
            key = _pick_region(rng, site, available - used)
            if key:
                if kind == "fracture":
                    plan.trauma = plan.trauma or rng.random() < 0.4
                size, ratio, irr = _benign_appearance(rng, kind)
                add(BENIGN, kind, key, size, ratio, irr, "any", g)
    plan.lesions = lesions
    return plan


def blob(
    rng: np.random.Generator, semi_axes_px, irregularity: float
) -> tuple[np.ndarray, np.ndarray]:
    """An irregular blob in a patch (2D or 3D).

    Args:
        rng: Random generator.
        semi_axes_px: Semi-axes in pixels/voxels, one per dimension.
        irregularity: 0 gives an ellipse/ellipsoid; 1 a strongly lobulated outline.

    Returns:
        ``(profile, mask)``: float32 activity profile in [0, 1] (soft edge) and
        the boolean lesion mask (profile above half maximum), both of the patch shape.
    """
    semi = np.maximum(np.asarray(semi_axes_px, np.float32), 0.8)
    half = np.ceil(semi * 1.6 + 2).astype(int)
    axes = [np.arange(-h, h + 1, dtype=np.float32) / s for h, s in zip(half, semi, strict=True)]
    grids = np.meshgrid(*axes, indexing="ij")
    rho = np.sqrt(sum(g**2 for g in grids))
    noise = rng.standard_normal(rho.shape).astype(np.float32)
    noise = ndimage.gaussian_filter(noise, sigma=np.maximum(semi * 0.45, 0.8))
    noise /= noise.std() + 1e-6
    field = rho + 0.35 * irregularity * noise
    profile = np.clip((1.15 - field) / 0.45, 0.0, 1.0).astype(np.float32)
    return profile, field < 1.0
