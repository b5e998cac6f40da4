"""Chinese bone-scan reports generated from a case's ground truth.

A report has a clinical history (临床病史), findings by site (检查所见) and an
impression (诊断意见).  Phrasing varies (synonyms for uptake, shape words,
hedged and firm class statements, grouping of sites, negations such as
未见明显异常).  The ``informativeness`` knob (0..1) is the probability that a
lesion (or an event such as a run of rib fractures) is described with its site
and class; otherwise it is left out of the report and recorded in
``omitted_lesions``.  A described lesion always names its region and a phrase
of its true class, so the report never contradicts the mask; the ambiguity the
report cannot resolve is what it leaves out.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

# Words a reader (and the tests) use to recognise the class in a finding sentence.
METASTATIC_TERMS = ("转移",)
BENIGN_TERMS = ("退行性", "骨质增生", "骨折", "骨赘", "良性")

UPTAKE_WORDS = (
    "异常放射性浓聚",
    "放射性浓聚",
    "放射性摄取增高",
    "示踪剂异常浓聚",
    "骨代谢异常活跃",
    "异常浓聚灶",
)
SHAPE_MET = ("不规则形", "片状", "团块状", "斑片状", "结节状")
SHAPE_BENIGN = ("点状", "小片状", "条状", "结节状", "类圆形")
MET_CLASS = (
    "考虑骨转移",
    "符合骨转移瘤表现",
    "骨转移可能性大",
    "提示骨转移",
    "考虑转移性病变",
    "不除外骨转移",
)
BENIGN_CLASS = {
    "degenerative": ("考虑退行性变", "多系退行性改变", "考虑关节退行性病变", "良性病变可能性大"),
    "osteophyte": ("考虑骨质增生", "考虑骨赘形成", "多系退行性改变", "考虑骨质增生所致"),
    "endplate": ("考虑终板退行性变", "多系退行性改变", "考虑骨质增生"),
    "fracture": ("考虑骨折", "考虑骨折后改变", "多考虑陈旧性骨折", "骨折可能性大"),
}
NORMAL_REST = (
    "余全身骨骼显影清晰，放射性分布对称、均匀，未见明显异常放射性浓聚或稀疏缺损区。",
    "余骨骼放射性分布尚均匀，未见明显异常。",
    "其余骨骼未见明显异常放射性浓聚。",
    "余骨未见明显异常放射性浓聚灶。",
)
NORMAL_ALL = (
    "全身骨骼显影清晰，放射性分布对称、均匀，未见明显异常放射性浓聚或稀疏缺损区。",
    "全身骨骼显影清晰，左右基本对称，未见明显异常放射性浓聚灶。",
    "全身骨骼放射性分布均匀、对称，未见明确异常。",
)
IMPRESSION_NORMAL = (
    "全身骨显像未见明显异常。",
    "全身骨显像未见明确骨转移征象。",
    "全身骨骼未见明显异常放射性浓聚，未见骨转移征象。",
)
HISTORY_NONCANCER = (
    "骨痛待查。",
    "腰背部疼痛1月余，骨痛待查。",
    "体检发现碱性磷酸酶升高，骨痛待查。",
    "全身多处骨痛待查。",
)
CANCER_HISTORY = (
    "{c}术后{n}年，复查。",
    "{c}术后，评估骨转移。",
    "{c}，初诊分期。",
    "{c}化疗后，复查骨显像。",
    "确诊{c}{n}个月，了解有无骨转移。",
)
RIB_RE_SIDE = {"left": "左侧", "right": "右侧"}


def _choice(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def history_text(rng, cancer, trauma: bool, joint_pain: bool, sex: str) -> str:
    """Clinical history line (临床病史)."""
    parts = []
    if cancer is not None:
        cn = cancer[1]
        if cancer[0] == "breast" and rng.random() < 0.5:
            cn = _choice(rng, ("左侧乳腺癌", "右侧乳腺癌"))
        if cancer[0] == "prostate" and rng.random() < 0.5:
            parts.append(f"前列腺癌，PSA {float(rng.uniform(4, 180)):.1f} ng/ml。")
        else:
            parts.append(_choice(rng, CANCER_HISTORY).format(c=cn, n=int(rng.integers(1, 9))))
    else:
        parts.append(_choice(rng, HISTORY_NONCANCER))
    if trauma:
        parts.append(_choice(rng, ("外伤史。", "1月前跌倒致胸痛。", "有外伤史，胸部疼痛。")))
    if joint_pain:
        parts.append(_choice(rng, ("关节疼痛多年。", "双膝关节疼痛。", "活动后关节疼痛。")))
    return "".join(parts)


def _rib_phrase(lesions: list[dict]) -> str:
    """Name a run of ribs on one side: "左侧第5、6、7肋"."""
    nums = sorted(int(les["region_key"][5:]) for les in lesions)
    side = RIB_RE_SIDE[lesions[0]["side"]]
    return f"{side}第{'、'.join(str(n) for n in nums)}肋"


def expand_site_phrase(text: str) -> list[str]:
    """Region names written as a group in a finding text, expanded.

    Rib runs ("左侧第5、6肋") and bilateral joints ("双侧膝关节") become the single
    region names ("左侧第5肋", "左侧第6肋", "左侧膝关节", "右侧膝关节"); single regions are
    found by plain substring search.

    Used by the analysis and the tests to read sites back from a report.
    """
    import re

    names = []
    for _both, joint in re.findall(r"(双侧|两侧)([\u4e00-\u9fa5]{1,3}关节)", text):
        names += [f"左侧{joint}", f"右侧{joint}"]
    for side, nums in re.findall(r"(左侧|右侧)第((?:\d+、)*\d+)肋", text):
        names += [f"{side}第{n}肋" for n in nums.split("、")]
    return names


def _sentence(rng, phrase: str, lesions: list[dict], label: int, kind: str) -> str:
    multiple = len(lesions) > 1
    if label == 2:
        shape = _choice(rng, SHAPE_MET)
        amount = "多发" if multiple else ""
        cls = _choice(rng, MET_CLASS)
    else:
        shape = _choice(rng, SHAPE_BENIGN)
        amount = (
            ""
            if not multiple
            else _choice(rng, ("多发", "串珠样", ""))
            if kind == "fracture"
            else ""
        )
        if lesions[0]["site"] == "skull":
            cls = _choice(rng, ("良性病变可能性大", "多考虑良性病变"))
        else:
            cls = _choice(rng, BENIGN_CLASS.get(kind, BENIGN_CLASS["degenerative"]))
    up = _choice(rng, UPTAKE_WORDS)
    form = int(rng.integers(3))
    if form == 0:
        return f"{phrase}见{amount}{shape}{up}，{cls}。"
    if form == 1:
        return f"{phrase}可见{amount}{shape}{up}影，{cls}。"
    return f"{phrase}{up}，呈{shape}，{cls}。"


def make_report(
    rng: np.random.Generator,
    lesions: list[dict],
    plan_info: dict,
    informativeness: float,
    modality: str,
) -> dict:
    """Write a report for one case.

    Args:
        rng: The case's report generator (separate stream from the image's).
        lesions: Lesion records (``id``, ``label``, ``kind``, ``region``,
            ``region_key``, ``side``, ``site``, ``group``, and a position key
            ``centroid`` used to order findings head to toe).
        plan_info: ``cancer`` (tuple or None), ``trauma``, ``joint_pain``,
            ``sex`` and for planar ``kidney_uptake`` / ``bladder_activity``,
            for SPECT/CT ``bed``.
        informativeness: Probability that a lesion event is described.
        modality: ``"planar"`` or ``"spectct"``.

    Returns:
        Dict with ``history``, ``findings``, ``impression``, ``text``,
        ``omitted_lesions`` (ids) and ``mentions`` (per sentence: ``lesion_ids``,
        ``class_name``, ``sentence``).

    Raises:
        ValueError: If ``informativeness`` is outside [0, 1].
    """
    if not 0.0 <= informativeness <= 1.0:
        raise ValueError(f"informativeness must be within [0, 1], got {informativeness}")
    history = history_text(
        rng,
        plan_info.get("cancer"),
        plan_info.get("trauma", False),
        plan_info.get("joint_pain", False),
        plan_info.get("sex", "M"),
    )
    # events: benign lesions of one group are described together, metastases one by one
    events: list[list[dict]] = []
    groups: dict[int, list[dict]] = defaultdict(list)
    for les in lesions:
        if les["label"] == 1 and les["group"]:
            groups[les["group"]].append(les)
        else:
            events.append([les])
    events += [g for _, g in sorted(groups.items())]
    described, omitted = [], []
    for ev in events:
        (described if rng.random() < informativeness else omitted).append(ev)
    omitted_ids = sorted(les["id"] for ev in omitted for les in ev)
    # Metastases described together in one sentence when several (a frequent style)
    mets = [ev[0] for ev in described if ev[0]["label"] == 2]
    benign = [ev for ev in described if ev[0]["label"] == 1]
    sentences: list[tuple[float, str, list[dict], int]] = []
    if len(mets) >= 3 and rng.random() < 0.6:
        mets_sorted = sorted(mets, key=lambda d: d["centroid"][0])
        split = (
            [mets_sorted]
            if rng.random() < 0.5
            else [mets_sorted[: len(mets_sorted) // 2], mets_sorted[len(mets_sorted) // 2 :]]
        )
        for part in split:
            phrase = "、".join(d["region"] for d in part)
            sentences.append(
                (part[0]["centroid"][0], _sentence(rng, phrase, part, 2, part[0]["kind"]), part, 2)
            )
    else:
        for d in mets:
            sentences.append(
                (d["centroid"][0], _sentence(rng, d["region"], [d], 2, d["kind"]), [d], 2)
            )
    for ev in benign:
        if ev[0]["site"] == "rib" and len(ev) > 1:
            phrase = _rib_phrase(ev)
        elif (
            len(ev) == 2 and ev[0]["site"] == "joint" and ev[0]["region"][2:] == ev[1]["region"][2:]
        ):
            phrase = _choice(rng, ("双侧", "两侧")) + ev[0]["region"][2:]
        else:
            phrase = "、".join(d["region"] for d in ev)
        sentences.append(
            (ev[0]["centroid"][0], _sentence(rng, phrase, ev, 1, ev[0]["kind"]), ev, 1)
        )
    sentences.sort(key=lambda s: s[0])
    if modality == "planar":
        intro = f"静脉注射99mTc-MDP {int(rng.choice([555, 740, 814, 925]))}MBq，{int(rng.choice([2, 3, 3, 4]))}小时后行全身前、后位骨显像。"
    else:
        bed = {"thorax": "胸部", "thoracolumbar": "胸腰段", "lumbopelvic": "腰骶部及骨盆"}[
            plan_info.get("bed", "thorax")
        ]
        intro = f"静脉注射99mTc-MDP后3小时行{bed}SPECT/CT断层融合显像。"
    body = "".join(s[1] for s in sentences)
    rest = _choice(rng, NORMAL_REST) if sentences else _choice(rng, NORMAL_ALL)
    extra = ""
    if modality == "planar":
        k = plan_info.get("kidney_uptake", 1.0)
        extra = (
            "双肾显影清晰，膀胱显影。"
            if k > 0.5
            else ("双肾显影较淡，膀胱显影。" if k > 0.2 else "双肾显影不明显，膀胱显影。")
        )
    findings = intro + body + rest + extra
    # impression
    imp = []
    met_sent = [s for s in sentences if s[3] == 2]
    n_met = sum(len(s[2]) for s in met_sent)
    if n_met >= 3:
        imp.append(
            _choice(
                rng,
                ("全身多发骨转移。", "多发骨代谢异常活跃灶，考虑多发骨转移。", "多发骨转移瘤。"),
            )
        )
    elif n_met:
        sites = "、".join(d["region"] for s in met_sent for d in s[2])
        imp.append(
            f"{sites}骨代谢异常活跃，{_choice(rng, ('考虑骨转移', '骨转移可能性大', '不除外骨转移'))}，建议结合CT/MRI检查。"
        )
    benign_described = [d for s in sentences if s[3] == 1 for d in s[2]]
    kinds = {d["kind"] for d in benign_described}
    fractures = [d for d in benign_described if d["kind"] == "fracture"]
    if fractures:
        if all(d["site"] == "rib" for d in fractures):
            imp.append(
                _choice(
                    rng,
                    (
                        "肋骨骨折。",
                        "肋骨骨折后改变。",
                        "考虑多发肋骨骨折。" if len(fractures) > 1 else "考虑肋骨骨折。",
                    ),
                )
            )
        else:
            imp.append(_choice(rng, ("骨折后改变。", "考虑骨折。")))
    spine_deg = bool(kinds & {"osteophyte", "endplate"})
    joint_deg = any(d["kind"] == "degenerative" and d["site"] != "skull" for d in benign_described)
    if spine_deg and joint_deg:
        imp.append(_choice(rng, ("脊柱及关节退行性改变。", "退行性变。")))
    elif spine_deg:
        imp.append(_choice(rng, ("脊柱退行性变。", "脊柱骨质增生。", "退行性变。")))
    elif joint_deg:
        imp.append(_choice(rng, ("关节退行性变。", "骨关节退行性变。", "退行性变。")))
    if any(d["site"] == "skull" for d in benign_described):
        imp.append("颅骨良性病变可能，建议随访。")
    if not imp:
        if lesions:
            imp.append(_choice(rng, ("全身骨显像所见，请结合临床。", "建议结合临床随访复查。")))
        else:
            imp.append(_choice(rng, IMPRESSION_NORMAL))
    impression = "".join(imp)
    text = f"临床病史：{history}\n检查所见：{findings}\n诊断意见：{impression}"
    mentions = [
        {
            "lesion_ids": [d["id"] for d in s[2]],
            "class_name": "metastatic" if s[3] == 2 else "benign",
            "sentence": s[1],
        }
        for s in sentences
    ]
    return {
        "history": history,
        "findings": findings,
        "impression": impression,
        "text": text,
        "omitted_lesions": omitted_ids,
        "mentions": mentions,
    }
