"""Anatomical regions: the vocabulary shared by the images, the manifest and the reports.

A region is one named bone or joint ("左侧第5肋", "第3腰椎", "右侧膝关节").  Both
phantoms paint integer region codes into maps; lesions are placed inside a
region and reports name it with :attr:`Region.name_cn`.
"""

from __future__ import annotations

from dataclasses import dataclass

SIDE_CN = {"left": "左侧", "right": "右侧", "midline": ""}


@dataclass(frozen=True)
class Region:
    """One named bone or joint.

    Attributes:
        key: Stable ASCII key, e.g. ``"rib_l5"``, ``"spine_l3"``.
        site: Coarse site used for statistics: ``skull``, ``spine``, ``rib``,
            ``sternum``, ``pelvis``, ``scapula``, ``clavicle``, ``long_bone``, ``joint``.
        side: ``left``, ``right`` or ``midline`` (the patient's side).
        name_cn: Chinese name as a report writes it.
        level: Rib number or vertebral level within its segment (0 when none).
    """

    key: str
    site: str
    side: str
    name_cn: str
    level: int = 0


SPINE_SEGMENTS = {"C": ("颈椎", 7), "T": ("胸椎", 12), "L": ("腰椎", 5)}


def _side_regions() -> list[Region]:
    out: list[Region] = []
    for side in ("right", "left"):
        s = SIDE_CN[side]
        k = side[0]
        out += [Region(f"rib_{k}{n}", "rib", side, f"{s}第{n}肋", n) for n in range(1, 13)]
        out += [
            Region(f"ilium_{k}", "pelvis", side, f"{s}髂骨"),
            Region(f"pubis_{k}", "pelvis", side, f"{s}耻骨"),
            Region(f"ischium_{k}", "pelvis", side, f"{s}坐骨"),
            Region(f"acetabulum_{k}", "pelvis", side, f"{s}髋臼"),
            Region(f"scapula_{k}", "scapula", side, f"{s}肩胛骨"),
            Region(f"clavicle_{k}", "clavicle", side, f"{s}锁骨"),
            Region(f"humerus_{k}", "long_bone", side, f"{s}肱骨"),
            Region(f"forearm_{k}", "long_bone", side, f"{s}尺桡骨"),
            Region(f"femur_{k}", "long_bone", side, f"{s}股骨"),
            Region(f"tibia_{k}", "long_bone", side, f"{s}胫腓骨"),
            Region(f"shoulder_{k}", "joint", side, f"{s}肩关节"),
            Region(f"elbow_{k}", "joint", side, f"{s}肘关节"),
            Region(f"wrist_{k}", "joint", side, f"{s}腕关节"),
            Region(f"hip_{k}", "joint", side, f"{s}髋关节"),
            Region(f"knee_{k}", "joint", side, f"{s}膝关节"),
            Region(f"ankle_{k}", "joint", side, f"{s}踝关节"),
            Region(f"sij_{k}", "joint", side, f"{s}骶髂关节"),
            Region(f"sternoclavicular_{k}", "joint", side, f"{s}胸锁关节"),
        ]
    return out


def _build_table() -> list[Region]:
    table = [Region("none", "none", "midline", "")]
    table.append(Region("skull", "skull", "midline", "颅骨"))
    table.append(Region("mandible", "skull", "midline", "下颌骨"))
    for seg, (cn, n) in SPINE_SEGMENTS.items():
        table += [
            Region(f"spine_{seg.lower()}{i}", "spine", "midline", f"第{i}{cn}", i)
            for i in range(1, n + 1)
        ]
    table.append(Region("sacrum", "spine", "midline", "骶骨"))
    table.append(Region("sternum", "sternum", "midline", "胸骨"))
    table += _side_regions()
    return table


REGIONS: list[Region] = _build_table()
REGION_INDEX: dict[str, int] = {r.key: i for i, r in enumerate(REGIONS)}


def region(key: str) -> Region:
    """Return the region with this key.

    Raises:
        ValueError: If the key is unknown.
    """
    try:
        return REGIONS[REGION_INDEX[key]]
    except KeyError:
        raise ValueError(f"unknown anatomical region {key!r}") from None


def code(key: str) -> int:
    """Integer code of a region as painted into region maps."""
    region(key)
    return REGION_INDEX[key]


def spine_key(index: int) -> str:
    """Key of the vertebra ``index`` counted from C1 = 0 (so T1 = 7, L1 = 19)."""
    if index < 7:
        return f"spine_c{index + 1}"
    if index < 19:
        return f"spine_t{index - 6}"
    return f"spine_l{index - 18}"
