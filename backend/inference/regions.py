"""Lesion region codes: language-neutral names of where a lesion is, for the viewer to translate.

Grammar (agreed with the viewer, see docs/api.md): ``<site>``, ``<site>:<side>`` or
``<site>:<side>:<level>`` with side ``left``/``right``/``mid`` and level a rib number or
vertebral level. The model's lesion table names regions in Chinese as a report writes them
("右侧肋骨", "左侧第5肋", "第3腰椎"); :func:`region_code` turns those into codes, and passes a
value that already is a code through unchanged.
"""

from __future__ import annotations

import re

SITES_CN = {
    "颅骨": "skull",
    "下颌骨": "mandible",
    "颈椎": "cervical_spine",
    "胸椎": "thoracic_spine",
    "腰椎": "lumbar_spine",
    "骶骨": "sacrum",
    "胸骨": "sternum",
    "肋骨": "rib",
    "锁骨": "clavicle",
    "锁骨/肩部": "clavicle_shoulder",
    "肩胛骨": "scapula",
    "肩胛/肱骨": "scapula_humerus",
    "肱骨": "humerus",
    "上肢": "upper_limb",
    "尺桡骨": "forearm",
    "骨盆": "pelvis",
    "髂骨": "ilium",
    "耻骨": "pubis",
    "坐骨": "ischium",
    "髋臼": "acetabulum",
    "股骨": "femur",
    "胫腓骨": "tibia",
    "下肢": "lower_limb",
    "肩关节": "shoulder_joint",
    "肘关节": "elbow",
    "腕关节": "wrist",
    "髋关节": "hip",
    "膝关节": "knee",
    "踝关节": "ankle",
    "骶髂关节": "sacroiliac",
    "胸锁关节": "sternoclavicular",
}
SIDES_CN = {"左侧": "left", "右侧": "right"}
SPINE_CN = {"颈椎": "cervical_spine", "胸椎": "thoracic_spine", "腰椎": "lumbar_spine"}

CODE = re.compile(r"^[a-z_]+(:(left|right|mid)(:\d+)?)?$")
RIB_LEVEL = re.compile(r"^第(\d+)肋$")
SPINE_LEVEL = re.compile(r"^第(\d+)(颈椎|胸椎|腰椎)$")


def region_code(region: str | None) -> str | None:
    """The code of a region name (Chinese or already a code); None when it is not known."""
    text = (region or "").strip()
    if not text:
        return None
    if CODE.match(text):
        return text
    side = None
    for prefix, name in SIDES_CN.items():
        if text.startswith(prefix):
            side, text = name, text[len(prefix) :]
            break
    if match := RIB_LEVEL.match(text):
        return f"rib:{side or 'mid'}:{int(match.group(1))}"
    if match := SPINE_LEVEL.match(text):
        return f"{SPINE_CN[match.group(2)]}:{side or 'mid'}:{int(match.group(1))}"
    site = SITES_CN.get(text)
    if site is None:
        return None
    return f"{site}:{side}" if side else site
