"""Lesion visibility (local CNR) and benchmarks/experiment/detectability.py, worked by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from boneread_ml.evaluation.visibility import lesion_visibility


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("benchmarks/experiment/detectability.py")


def rib_scene():
    """A horizontal 'rib' (rows 7-12) of 10 / 12 counts by column parity on an empty
    background, a 4 x 4 lesion of 15 counts on it, and a hot second lesion right beside it."""
    view = np.zeros((20, 24), np.float32)
    view[7:13] = np.where(np.arange(24) % 2, 12.0, 10.0)
    instance = np.zeros((20, 24), np.uint16)
    instance[8:12, 8:12] = 1
    view[8:12, 8:12] = 15.0
    instance[8:12, 18:20] = 2
    view[8:12, 18:20] = 100.0
    bone = np.zeros((20, 24), np.uint8)
    bone[7:13] = 1
    return view, instance, bone


def test_cnr_against_the_lesions_own_bone_by_hand():
    view, instance, bone = rib_scene()
    vis = lesion_visibility([view], instance, bone)
    # the ring on the rib: 24 pixels, half 10 and half 12 -> mean 11, std 1
    assert vis[1]["cnr"] == pytest.approx((15.0 - 11.0) / 1.0, rel=1e-5)
    assert vis[1]["contrast"] == pytest.approx(15.0 / (11.0 + 1e-3), rel=1e-5)
    assert vis[1]["area_px"] == 16
    # without the bone mask the ring also takes the empty gap above and below the rib
    plain = lesion_visibility([view], instance)
    assert plain[1]["cnr"] < 2.0


def test_the_better_view_counts_and_other_lesions_stay_out_of_the_ring():
    view, instance, bone = rib_scene()
    flat = view.copy()
    flat[8:12, 8:12] = 11.0  # the other view shows nothing at lesion 1
    vis = lesion_visibility([flat, view], instance, bone)
    assert vis[1]["cnr"] == pytest.approx(4.0, rel=1e-5)
    moved = instance.copy()
    moved[8:12, 13:15] = 2  # now right next to lesion 1, inside its ring's reach
    hot = view.copy()
    hot[8:12, 13:15] = 100.0
    near = lesion_visibility([hot], moved, bone)
    assert near[1]["cnr"] == pytest.approx(4.0, rel=1e-5)  # the 100-count neighbour stays out


def test_a_view_of_another_shape_is_refused():
    view, instance, bone = rib_scene()
    with pytest.raises(ValueError, match=r"does not match the instance map \(20, 24\)"):
        lesion_visibility([view[:10]], instance)
    with pytest.raises(ValueError, match="does not match the instance map"):
        lesion_visibility([view], instance, bone[:, :5])


@pytest.fixture()
def two_case_root(tmp_path):
    """Case a: lesion 1 bright, lesion 2 no brighter than its surroundings; case b: lesion 1 bright."""
    root = tmp_path / "data"
    (root / "arrays").mkdir(parents=True)
    rng = np.random.default_rng(0)
    cases = []
    for cid, ids in (("a", (1, 2)), ("b", (1,))):
        image = rng.normal(20.0, 1.0, (2, 48, 48)).astype(np.float32)
        instance = np.zeros((48, 48), np.uint16)
        instance[10:16, 10:16] = 1
        image[:, 10:16, 10:16] += 40.0
        if 2 in ids:
            instance[30:36, 30:36] = 2  # nothing added: CNR about 0
        np.savez(root / f"arrays/{cid}.npz", image=image, label=(instance > 0).astype(np.uint8),
                 instance=instance, bone=np.ones((48, 48), np.uint8))  # fmt: skip
        cases.append({"case_id": cid, "patient_id": cid, "fold": 0, "arrays": f"arrays/{cid}.npz",
                      "lesions": [{"id": i} for i in ids], "report": {"text": ""}})  # fmt: skip
    (root / "manifest.json").write_text(json.dumps({"cases": cases}), encoding="utf-8")
    return root


def froc_record(tmp_path, per_case, floors=(0.0, 0.4, 0.95), fp=(1.5, 0.5, 0.0)):
    record = {"folds": [0], "floors": list(floors), "sensitivity": [0.9, 0.6, 0.0],
              "fp_per_case": list(fp), "per_case": per_case}  # fmt: skip
    path = tmp_path / f"froc_{len(list(tmp_path.glob('froc_*')))}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def run_args(root, record, out, n_boot: int = 20) -> list[str]:
    """detectability.py's arguments for one record named ``m``."""
    return [
        "--data-root",
        str(root),
        "--froc",
        f"m={record}",
        "--n-boot",
        str(n_boot),
        "--out",
        str(out),
    ]


def test_detections_are_tallied_by_visibility_at_floor_0_and_at_1_fp(
    two_case_root, tmp_path, script
):
    per_case = {
        "0": [{"case_id": "a", "n_true": 2, "lesions": [[0.9, [1]], [0.2, [2]], [0.5, []]]},
              {"case_id": "b", "n_true": 1, "lesions": [[0.3, [1]]]}],
        "1": [{"case_id": "a", "n_true": 2, "lesions": [[0.9, [1]]]},
              {"case_id": "b", "n_true": 1, "lesions": []}],
    }  # fmt: skip
    record = froc_record(tmp_path, per_case)
    out = tmp_path / "out.json"
    argv = [
        "--data-root",
        str(two_case_root),
        "--froc",
        f"m={record}",
        "--n-boot",
        "50",
        "--out",
        str(out),
    ]
    assert script.main(argv) == 0
    result = json.loads(out.read_text())
    assert result["lesions"] == 3 and result["cases"] == 2
    assert result["lesions_by_bin"]["< 1"] == 1 and result["lesions_by_bin"][">= 5"] == 2
    model = result["models"]["m"]
    assert model["floor_at_1_fp"] == 0.4  # the best sensitivity with <= 1 FP per case
    bright, faint = model["by_bin"][">= 5"], model["by_bin"]["< 1"]
    # bright: a1 and b1 in 2 seeds; found a1, b1 (seed 0), a1 (seed 1); at 0.4 only the two a1
    assert bright["lesions_over_seeds"] == 4
    assert (bright["found_any"], bright["found_at_1_fp"]) == (0.75, 0.5)
    # faint: a2 in 2 seeds, touched once at 0.2, never at 0.4
    assert (faint["lesions_over_seeds"], faint["found_any"], faint["found_at_1_fp"]) == (
        2,
        0.5,
        0.0,
    )
    low, high = bright["found_any_ci"]
    assert 0.0 <= low <= 0.75 <= high <= 1.0
    assert model["by_bin"]["2 to < 3"]["found_any"] is None  # no lesion there: no share


def test_a_record_that_never_gets_within_1_fp_keeps_nothing(two_case_root, tmp_path, script):
    per_case = {"0": [{"case_id": "a", "n_true": 2, "lesions": [[0.9, [1]]]}]}
    record = froc_record(tmp_path, per_case, fp=(3.0, 2.0, 1.5))
    out = tmp_path / "out.json"
    assert script.main(run_args(two_case_root, record, out)) == 0
    model = json.loads(out.read_text())["models"]["m"]
    assert model["floor_at_1_fp"] is None
    assert (
        model["by_bin"][">= 5"]["found_at_1_fp"] == 0.0
        and model["by_bin"][">= 5"]["found_any"] == 1.0
    )


def test_records_of_other_cases_or_bad_arguments_are_refused_by_name(
    two_case_root, tmp_path, capsys, script
):
    out = tmp_path / "out.json"
    other = froc_record(tmp_path, {"0": [{"case_id": "zzz", "n_true": 0, "lesions": []}]})
    with pytest.raises(SystemExit):
        script.main(["--data-root", str(two_case_root), "--froc", f"m={other}", "--out", str(out)])
    assert "case zzz is not in" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main(["--data-root", str(two_case_root), "--froc", str(other), "--out", str(out)])
    assert "--froc must be NAME=FROC_JSON" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"per_case": {}}), encoding="utf-8")
    with pytest.raises(SystemExit):
        script.main(["--data-root", str(two_case_root), "--froc", f"m={broken}", "--out", str(out)])
    assert "not a usable FROC record" in capsys.readouterr().err
    assert not out.exists()  # nothing written on a refusal


def test_records_can_be_cut_to_the_folds_of_a_partial_run(two_case_root, tmp_path, capsys, script):
    per_case = {"0": [{"case_id": "a", "fold": 0, "n_true": 2, "lesions": [[0.9, [1]]]},
                      {"case_id": "b", "fold": 1, "n_true": 1, "lesions": [[0.9, [1]]]}]}  # fmt: skip
    record = froc_record(tmp_path, per_case)
    json_record = json.loads(record.read_text())
    record.write_text(json.dumps(dict(json_record, folds=[0, 1])))
    out = tmp_path / "out.json"
    base = run_args(two_case_root, record, out)
    assert script.main([*base, "--folds", "0"]) == 0
    result = json.loads(out.read_text())
    assert (result["cases"], result["lesions"]) == (1, 2)  # case a only
    assert result["models"]["m"]["by_bin"][">= 5"]["lesions_over_seeds"] == 1
    out.unlink()
    with pytest.raises(SystemExit):
        script.main([*base, "--folds", "2"])
    assert "it has folds [0, 1], not [2]" in capsys.readouterr().err
    assert not out.exists()
