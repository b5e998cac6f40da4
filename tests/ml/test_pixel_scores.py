"""benchmarks/experiment/pixel_scores.py: the pixel-AUC breakdown, worked by hand."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("benchmarks/experiment/pixel_scores.py")


def probs_for(lesion_score, metastatic_share):
    """(3, n) probabilities with 1 - p(background) = lesion_score, split between the classes."""
    s = np.asarray(lesion_score, float)
    m = s * np.asarray(metastatic_share, float)
    return np.stack([1.0 - s, s - m, m])


def test_lesion_pixels_left_at_zero_pull_the_auc_down_by_hand(script):
    # 4 background pixels (0, 0, 0.02, 0.6) and 4 lesion pixels: two found, two left at zero
    truth = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    score = [0.0, 0.0, 0.02, 0.6, 0.9, 0.0, 0.95, 0.0]
    described = np.array([0, 0, 0, 0, 1, 0, 1, 0], bool)
    r = script.breakdown(truth, probs_for(score, [0, 0, 0, 0, 0, 0, 1, 1]), described)
    # lesion vs background by Mann-Whitney with mid-ranks: each found lesion pixel beats all 4
    # background pixels (4 + 4), each one at zero ties two zeros (2 x 0.5) and loses to 2
    assert r["auc"]["lesion_vs_background"] == pytest.approx((4 + 4 + 1 + 1) / 16)
    assert r["auc"]["described_vs_background"] == pytest.approx(1.0)  # the two found ones
    assert r["auc"]["undescribed_vs_background"] == pytest.approx(0.25)  # the two at zero
    assert r["lesion_share"]["below_0.001"] == pytest.approx(0.5)
    assert r["lesion_share"]["above_0.5"] == pytest.approx(0.5)
    assert r["background_share"]["above_0.01"] == pytest.approx(0.5)
    assert r["background_share"]["above_0.5"] == pytest.approx(0.25)
    assert r["pixels"] == {"lesion": 4, "background": 4, "described": 2, "undescribed": 2}


def test_classes_inside_lesions_are_ranked_apart_from_detection(script):
    truth = np.array([0, 1, 1, 2, 2])
    score = [0.0, 0.9, 0.8, 0.9, 0.7]
    share = [0.0, 0.1, 0.2, 0.9, 0.8]  # metastatic share higher in the metastatic pixels
    r = script.breakdown(truth, probs_for(score, share), np.zeros(5, bool))
    assert r["auc"]["metastatic_vs_benign_in_lesions"] == pytest.approx(1.0)
    swapped = script.breakdown(
        truth, probs_for(score, [0.0, 0.9, 0.8, 0.1, 0.2]), np.zeros(5, bool)
    )
    assert swapped["auc"]["metastatic_vs_benign_in_lesions"] == pytest.approx(0.0)
    assert swapped["auc"]["lesion_vs_background"] == pytest.approx(1.0)  # detection unchanged


def test_a_malformed_model_or_a_spectct_release_is_refused(script, tmp_path, capsys):
    out = tmp_path / "o.json"
    with pytest.raises(SystemExit):
        script.main(["--data-root", str(tmp_path), "--model", "bad", "--out", str(out)])
    assert "NAME=RELEASE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main(["--data-root", str(tmp_path), "--model", "a=x", "--model", "a=y",
                     "--out", str(out)])  # fmt: skip
    assert "each NAME once" in capsys.readouterr().err
    spectct = str(script.REPO / "ml" / "checkpoints" / "spectct")
    with pytest.raises(SystemExit):
        script.main(["--data-root", str(tmp_path), "--model", f"s={spectct}", "--out", str(out)])
    assert "planar releases only" in capsys.readouterr().err
    assert not out.exists()
