"""The keyword rule (the simple peer of MT-UNet): which class a report names, and the relabelling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from boneread_ml.evaluation.keyword_rule import keyword_rule_prediction, report_class
from boneread_ml.predict import Prediction

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("impression", "expected"),
    [
        ("多发骨转移瘤。", 2),
        ("左侧第5肋骨代谢异常活跃，不除外骨转移，建议结合CT/MRI检查。", 2),
        ("考虑多发肋骨骨折。", 1),
        ("脊柱退行性变。", 1),
        ("全身骨显像未见明确骨转移征象。", 0),
        ("全身骨骼未见明显异常放射性浓聚，未见骨转移征象。", 0),
        ("建议结合临床随访复查。", 0),
        ("腰椎骨转移可能性大。脊柱退行性变。", 2),
    ],
)
def test_report_class_reads_the_impression_and_skips_negations(impression, expected):
    # the history mentions metastasis in every cancer case; only the impression counts
    text = f"临床病史：乳腺癌术后，评估骨转移。\n检查所见：...\n诊断意见：{impression}"
    assert report_class(text) == expected


def _image_only_prediction() -> Prediction:
    label = np.zeros((4, 4), np.uint8)
    label[0, 0], label[3, 3] = 1, 2
    probs = np.zeros((3, 4, 4), np.float32)
    probs[0] = 0.9
    probs[1, 0, 0], probs[0, 0, 0] = 0.7, 0.1
    probs[2, 3, 3], probs[0, 3, 3] = 0.6, 0.2
    probs[1] = np.where(probs[1] == 0, 0.05, probs[1])
    probs[2] = np.where(probs[2] == 0, 0.05, probs[2])
    instances = (label > 0).astype(np.uint16) * np.array([[1, 0, 0, 0]] * 3 + [[0, 0, 0, 2]])
    lesions = [{"id": 1, "label": 1, "class_name": "benign"},
               {"id": 2, "label": 2, "class_name": "metastatic"}]  # fmt: skip
    return Prediction(label, probs, lesions, instances.astype(np.uint16))


def test_rule_gives_every_lesion_the_named_class_and_moves_the_lesion_probability():
    pred = _image_only_prediction()
    met = keyword_rule_prediction(pred, "诊断意见：考虑骨转移。")
    assert set(np.unique(met.label_map)) == {0, 2}
    assert np.array_equal(met.label_map > 0, pred.label_map > 0)
    np.testing.assert_allclose(met.probabilities[2], 1 - pred.probabilities[0])
    assert not met.probabilities[1].any()
    assert [les["class_name"] for les in met.lesions] == ["metastatic", "metastatic"]
    benign = keyword_rule_prediction(pred, "诊断意见：退行性变。")
    assert set(np.unique(benign.label_map)) == {0, 1}


def test_rule_empties_the_scan_when_the_report_names_no_class():
    out = keyword_rule_prediction(_image_only_prediction(), "诊断意见：全身骨显像未见明显异常。")
    assert not out.label_map.any() and not out.lesions and not out.instance_map.any()
    assert np.all(out.probabilities[0] == 1.0)


def test_evaluate_model_applies_the_rule_to_each_case_with_its_own_report(planar_set):
    from boneread_ml.data.datasets import case_texts, load_arrays, read_manifest
    from boneread_ml.evaluation.evaluate import evaluate_model
    from boneread_ml.predict import load_model, predict

    model = load_model(REPO / "ml" / "checkpoints" / "planar")
    cases = read_manifest(planar_set)["cases"][:3]
    rule = evaluate_model(model, planar_set, cases, name="keyword_rule", text="none",
                          keyword_rule=True)  # fmt: skip
    plain = evaluate_model(model, planar_set, cases, name="image_only", text="none")
    for case, text, rule_row, plain_row in zip(
        cases, case_texts(cases, "report"), rule.rows, plain.rows, strict=True
    ):
        pred = predict(load_arrays(planar_set, case)["image"], "", model)
        named = report_class(text)
        # the rule keeps the image-only lesion count when a class is named and finds none when not
        assert rule_row["detected"] + rule_row["false_positives"] == (
            plain_row["detected"] + plain_row["false_positives"] if named else 0
        )
        assert pred.label_map.shape == load_arrays(planar_set, case)["label"].shape


def test_probe_texts_swap_sides_and_keep_the_impression():
    from boneread_ml.data.datasets import case_texts

    case = {
        "report": {
            "text": "临床病史：肺癌。\n检查所见：左侧第5肋浓聚，右髋关节浓聚。\n诊断意见：左侧第5肋转移。"
        }
    }
    (swapped,) = case_texts([case], "sides_swapped")
    assert (
        swapped
        == "临床病史：肺癌。\n检查所见：右侧第5肋浓聚，左髋关节浓聚。\n诊断意见：右侧第5肋转移。"
    )
    assert case_texts([case], "impression_only") == ["诊断意见：左侧第5肋转移。"]
    (normal,) = case_texts([case], "called_normal")
    assert (
        normal.startswith("临床病史：肺癌。\n检查所见：全身骨骼显影清晰") and "浓聚，" not in normal
    )
    assert report_class(case["report"]["text"]) == 2 and report_class(normal) == 0
    with pytest.raises(ValueError, match="text mode must be one of"):
        case_texts([case], "sideways")


def test_evaluate_checkpoints_adds_rule_and_probe_rows(planar_set, tmp_path):
    from boneread_ml.cli.evaluate import evaluate_checkpoints

    ckpt = str(REPO / "ml" / "checkpoints" / "planar")
    results = evaluate_checkpoints(
        [ckpt, ckpt], ["mt_unet", "mt_unet_no_text"], planar_set, [0], tmp_path, n_boot=50,
        keyword_rule_from="mt_unet_no_text", probe_texts_for="mt_unet",
    )  # fmt: skip
    names = [s["model"] for s in results["summaries"]]
    assert names == ["mt_unet", "mt_unet [sides_swapped]", "mt_unet [sites_swapped]", "mt_unet [impression_only]",
                     "mt_unet [called_normal]", "mt_unet [none]", "mt_unet_no_text", "keyword_rule"]  # fmt: skip
    assert all("mixed_case_lesion_class_accuracy" in s for s in results["summaries"])
    assert "keyword_rule" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_the_rule_on_another_networks_masks_is_its_own_row(planar_set, tmp_path):
    """The rule may relabel any image-only network's masks (the strongest baseline's); its row is
    named after that network and holds the rule's values, not the network's."""
    import csv

    from boneread_ml.cli.evaluate import evaluate_checkpoints

    ckpt = str(REPO / "ml" / "checkpoints" / "planar")
    evaluate_checkpoints([ckpt], ["mt_unet_no_text"], planar_set, [0], tmp_path / "a", n_boot=20,
                         keyword_rule_from="mt_unet_no_text")  # fmt: skip
    results = evaluate_checkpoints([ckpt], ["unet"], planar_set, [0], tmp_path / "b", n_boot=20,
                                   keyword_rule_from="unet")  # fmt: skip
    assert [s["model"] for s in results["summaries"]] == ["unet", "keyword_rule_unet"]

    def dice(folder, model):
        with open(tmp_path / folder / "per_case.csv", encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        return [(r["case_id"], r["mean_class_dice"]) for r in rows if r["model"] == model]

    assert dice("b", "keyword_rule_unet") == dice("a", "keyword_rule") != []
