"""Chinese reports: sites and classes agree with the ground truth; omissions are recorded."""

from __future__ import annotations

import numpy as np
import pytest

from boneread_ml.data import reports
from boneread_ml.data.manifest import generate, load_manifest


def _names_in(sentence: str) -> set[str]:
    return set(reports.expand_site_phrase(sentence))


def _lesion_named(les: dict, sentence: str) -> bool:
    return les["region"] in sentence or les["region"] in _names_in(sentence)


def _class_of(sentence: str) -> str | None:
    met = any(t in sentence for t in reports.METASTATIC_TERMS)
    ben = any(t in sentence for t in reports.BENIGN_TERMS)
    if met and not ben:
        return "metastatic"
    if ben and not met:
        return "benign"
    return None


def _check_case(case: dict) -> int:
    rep = case["report"]
    assert (
        rep["text"]
        == f"临床病史：{rep['history']}\n检查所见：{rep['findings']}\n诊断意见：{rep['impression']}"
    )
    omitted = set(rep["omitted_lesions"])
    ids = {les["id"] for les in case["lesions"]}
    assert omitted <= ids
    sentences = [s + "。" for s in rep["findings"].split("。") if s]
    checked = 0
    for les in case["lesions"]:
        naming = [s for s in sentences if _lesion_named(les, s)]
        if les["id"] in omitted:
            continue
        assert naming, (
            f"{case['case_id']}: lesion {les['id']} ({les['region']}) not in findings: {rep['findings']}"
        )
        assert any(_class_of(s) == les["class_name"] for s in naming), (
            f"{les['region']} {les['class_name']}: {naming}"
        )
        checked += 1
    # a class word in a finding sentence is never about a lesion of the other class
    for s in sentences:
        cls = _class_of(s)
        if cls is None:
            continue
        for les in case["lesions"]:
            if les["region"] in s.split("见")[0] and les["id"] not in omitted:
                assert les["class_name"] == cls or any(
                    o["region"] == les["region"] and o["class_name"] == cls for o in case["lesions"]
                )
    return checked


def test_every_reported_lesion_has_the_right_site_and_class(planar_set, spectct_set):
    checked = 0
    for root in (planar_set, spectct_set):
        for case in load_manifest(root)["cases"]:
            checked += _check_case(case)
    assert checked >= 3


def test_normal_scans_are_reported_with_a_negation(planar_set):
    normals = [c for c in load_manifest(planar_set)["cases"] if not c["lesions"]]
    assert normals
    for c in normals:
        assert "未见" in c["report"]["findings"] and "未见" in c["report"]["impression"]
        assert "转移瘤" not in c["report"]["findings"]


@pytest.fixture(scope="module")
def extremes(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    return {
        p: load_manifest(generate("planar", 12, 5, root / str(p), informativeness=p, dicom=False))
        for p in (0.0, 1.0)
    }


def test_informativeness_one_describes_everything_and_zero_nothing(extremes):
    all_ids = 0
    for case in extremes[1.0]["cases"]:
        assert case["report"]["omitted_lesions"] == []
        _check_case(case)
        all_ids += len(case["lesions"])
    assert all_ids > 0
    for case in extremes[0.0]["cases"]:
        assert case["report"]["omitted_lesions"] == sorted(les["id"] for les in case["lesions"])
        for s in case["report"]["findings"].split("。"):
            if "转移" in s:
                assert "未见" in s


def test_images_do_not_depend_on_informativeness(extremes, tmp_path):
    a = extremes[0.0]["cases"]
    b = extremes[1.0]["cases"]
    assert [c["lesions"] for c in a] == [c["lesions"] for c in b]
    assert [c["report"]["history"] for c in a] == [c["report"]["history"] for c in b]


def test_phrasing_varies():
    rng = np.random.default_rng(0)
    les = [{"id": 1, "label": 2, "kind": "sclerotic", "region": "第3腰椎", "region_key": "spine_l3", "side": "midline",
            "site": "spine", "group": 0, "centroid": [300.0, 128.0]}]  # fmt: skip
    texts = {
        reports.make_report(rng, les, {"cancer": None}, 1.0, "planar")["findings"]
        for _ in range(30)
    }
    assert len(texts) > 10
    assert all("第3腰椎" in t and "转移" in t for t in texts)


def test_rib_runs_and_bilateral_joints_are_expanded():
    assert reports.expand_site_phrase("左侧第5、6、7肋见串珠样放射性浓聚") == [
        "左侧第5肋",
        "左侧第6肋",
        "左侧第7肋",
    ]
    assert set(reports.expand_site_phrase("双侧膝关节放射性浓聚")) == {"左侧膝关节", "右侧膝关节"}


def test_bad_informativeness_is_rejected():
    with pytest.raises(ValueError, match="informativeness"):
        reports.make_report(np.random.default_rng(0), [], {}, 1.5, "planar")


def test_rewrite_report_reproduces_the_generated_report(planar_set):
    from boneread_ml.data.manifest import rewrite_report

    m = load_manifest(planar_set)
    for case in m["cases"]:
        assert rewrite_report(m, case, m["params"]["informativeness"]) == case["report"]
    lesioned = [c for c in m["cases"] if c["lesions"]]
    assert any(
        rewrite_report(m, c, 0.0)["omitted_lesions"] != c["report"]["omitted_lesions"]
        for c in lesioned
    )


def test_called_normal_is_the_phantoms_own_normal_report_of_the_case():
    """The "called normal" probe keeps what a reader who saw nothing would keep (history,
    acquisition, kidneys and bladder) and writes the phantom's normal phrases: for a lesion-free
    case whose report used the first normal phrases it changes nothing; for a lesion case it
    drops every finding and the impression."""
    from boneread_ml.data.datasets import called_normal

    les = [{"id": 1, "label": 2, "kind": "sclerotic", "region": "第3腰椎", "region_key": "spine_l3", "side": "midline",
            "site": "spine", "group": 0, "centroid": [300.0, 128.0]}]  # fmt: skip
    plan = {"cancer": ("breast", "乳腺癌"), "kidney_uptake": 1.0, "bladder_activity": 1.0}
    fixed_points = 0
    for seed in range(40):
        normal = reports.make_report(np.random.default_rng(seed), [], plan, 1.0, "planar")
        if (
            reports.NORMAL_ALL[0] in normal["text"]
            and reports.IMPRESSION_NORMAL[0] in normal["text"]
        ):
            assert called_normal(normal["text"]) == normal["text"]
            fixed_points += 1
        lesion = reports.make_report(np.random.default_rng(seed), les, plan, 1.0, "planar")
        probe = called_normal(lesion["text"])
        assert "第3腰椎" in lesion["text"] and "第3腰椎" not in probe
        assert "转移" not in probe.split("检查所见：")[1]  # the history may name it
        assert probe.startswith(lesion["text"].split("检查所见：")[0])
        assert "膀胱" in probe and probe.endswith("诊断意见：" + reports.IMPRESSION_NORMAL[0])
    assert fixed_points >= 3
    spect = reports.make_report(np.random.default_rng(0), les, {"bed": "thorax"}, 1.0, "spectct")
    probe = called_normal(spect["text"])  # the SPECT/CT acquisition sentence is kept too
    assert "胸部SPECT/CT断层融合显像。" in probe and "第3腰椎" not in probe
