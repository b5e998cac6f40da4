"""benchmarks/experiment/froc.py: lesion sensitivity against false positives per case over
probability floors, its operating points and the missed-lesion table, worked by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

#: case A: 2 true lesions; a lesion at 0.9 over lesion 1, two pieces at 0.3 and 0.7 over lesion 2,
#: a false positive at 0.5. Case B: no true lesion; false positives at 0.1 and 0.95.
CASE_A = {"case_id": "a", "n_true": 2, "lesions": [(0.9, [1]), (0.3, [2]), (0.7, [2]), (0.5, [])]}
CASE_B = {"case_id": "b", "n_true": 0, "lesions": [(0.1, []), (0.95, [])]}


@pytest.fixture(scope="module")
def froc(load_script):
    return load_script("benchmarks/experiment/froc.py")


def test_counts_and_the_curve_by_hand(froc):
    assert froc.counts_at(CASE_A, 0.0) == (2, 2, 1)
    assert froc.counts_at(CASE_A, 0.6) == (2, 2, 0)  # lesion 2 still found by its 0.7 piece
    assert froc.counts_at(CASE_A, 0.8) == (2, 1, 0)
    assert froc.counts_at(CASE_B, 0.5) == (0, 0, 1)
    table = froc.case_table([CASE_A, CASE_B], floors=(0.0, 0.6, 0.8, 0.96))
    c = froc.curve(table)
    np.testing.assert_allclose(c["sensitivity"], [1.0, 1.0, 0.5, 0.0])
    np.testing.assert_allclose(c["fp_per_case"], [3 / 2, 1 / 2, 1 / 2, 0.0])
    points = froc.operating_points(c["sensitivity"], c["fp_per_case"])
    assert points["sensitivity_at_0.5_fp"] == 1.0
    assert points["sensitivity_at_1_fp"] == 1.0
    assert points["fp_at_0.9_sensitivity"] == 0.5
    # a curve that never reaches the target says so (None), and an empty budget gives 0
    points = froc.operating_points(np.array([0.6, 0.4]), np.array([3.0, 1.5]))
    assert points["fp_at_0.9_sensitivity"] is None and points["sensitivity_at_1_fp"] == 0.0
    assert points["sensitivity_at_2_fp"] == 0.4


def test_seed_averaged_points_and_their_bootstrap(froc):
    floors = (0.0, 0.6, 0.8)
    good = froc.case_table([CASE_A, CASE_B], floors)
    worse = froc.case_table([dict(CASE_A, lesions=[(0.9, [1]), (0.5, [])]), CASE_B], floors)
    sens, fp, _ = froc.pooled_points([good, worse])
    np.testing.assert_allclose(sens, [(1.0 + 0.5) / 2, (1.0 + 0.5) / 2, 0.5])
    np.testing.assert_allclose(fp, [(1.5 + 1.5) / 2, 0.5, 0.5])
    ci = froc.bootstrap([good, worse], n_boot=200, seed=1)
    low, high = ci["sensitivity_at_1_fp"]
    assert 0.0 <= low <= high <= 1.0
    # the target (0.9) is reached in too few resamples for a CI: none is given
    assert ci["fp_at_0.9_sensitivity"] is None


def test_missed_lesions_by_the_phantoms_properties(froc):
    manifest = {"cases": [
        {"case_id": "a", "lesions": [
            {"id": 1, "class_name": "metastatic", "site": "spine", "depth_layer": "posterior",
             "uptake_ratio": 3.0, "area_px": 50},
            {"id": 2, "class_name": "benign", "site": "rib", "depth_layer": "anterior",
             "uptake_ratio": 1.8, "area_px": 10},
            {"id": 3, "class_name": "benign", "site": "rib", "depth_layer": "middle",
             "uptake_ratio": 1.2, "area_px": 20},
        ]},
        {"case_id": "b", "lesions": []},
    ]}  # fmt: skip
    per_seed = {0: [dict(CASE_A), dict(CASE_B)]}  # finds lesions 1 and 2, misses 3
    table = froc.missed_lesions(per_seed, manifest)
    assert table["all"] == {"lesions": 3, "missed": 1}
    assert table["site"] == {
        "rib": {"lesions": 2, "missed": 1},
        "spine": {"lesions": 1, "missed": 0},
    }
    assert table["class_name"]["benign"] == {"lesions": 2, "missed": 1}
    assert table["uptake_ratio"]["< 1.5"] == {"lesions": 1, "missed": 1}
    assert table["area_px"][">= 40"] == {"lesions": 1, "missed": 0}
    assert table["area_px"]["15 to < 40"] == {"lesions": 1, "missed": 1}
    # two seeds count each lesion twice
    assert froc.missed_lesions({0: [CASE_A], 1: [CASE_A]}, manifest)["all"]["lesions"] == 6


def test_refuses_a_model_without_a_path_and_a_missing_data_root(tmp_path, capsys, froc):
    with pytest.raises(SystemExit):
        froc.main(["--folds", "0", "--seeds", "0", "--model", "mt_unet", "--data-root",
                   str(tmp_path), "--out", str(tmp_path / "x.json")])  # fmt: skip
    assert "--model must be NAME=PATH" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        froc.main(["--folds", "0", "--seeds", "0", "--model", "m=x", "--data-root",
                   str(tmp_path), "--out", str(tmp_path / "x.json")])  # fmt: skip
    assert "no manifest.json" in capsys.readouterr().err


def test_a_paired_difference_draws_the_same_seeds_and_cases_for_both_models(froc):
    floors = (0.0, 0.6, 0.8)
    better = froc.case_table([CASE_A, CASE_B], floors)  # sensitivity 1.0 at <= 1 FP per case
    worse = froc.case_table([dict(CASE_A, lesions=[(0.9, [1]), (0.5, [])]), CASE_B], floors)
    diff = froc.paired_difference([better, better], [worse, worse], n_boot=300, seed=2)
    # at <= 1 FP per case: 1.0 against 0.5 on the full set
    assert diff["sensitivity_at_1_fp"]["difference"] == pytest.approx(0.5)
    low, high = diff["sensitivity_at_1_fp"]["ci"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    # a point that one model never reaches has no difference
    assert "fp_at_0.9_sensitivity" not in diff
    # against itself the paired difference is exactly zero in every resample
    same = froc.paired_difference([better, worse], [better, worse], n_boot=100, seed=2)
    assert same["sensitivity_at_1_fp"] == {"difference": 0.0, "ci": [0.0, 0.0]}
    with pytest.raises(ValueError, match="same seeds, floors and cases"):
        froc.paired_difference([better], [better, worse], n_boot=10, seed=0)


def test_a_record_to_pair_with_must_have_the_training_seeds(tmp_path, capsys, froc):
    record = {"per_case": {"0": [CASE_A, CASE_B]}, "folds": [0], "lesion_threshold": None}
    assert len(froc.tables_of(record, [0])) == 1
    with pytest.raises(ValueError, match=r"no training seed \[1\]"):
        froc.tables_of(record, [0, 1])
    (tmp_path / "manifest.json").write_text('{"cases": []}')
    other = tmp_path / "other.json"
    other.write_text(json.dumps(record))
    argv = ["--folds", "0", "--seeds", "0", "1", "--model", "m=x", "--data-root", str(tmp_path),
            "--out", str(tmp_path / "x.json"), "--paired-with", str(other)]  # fmt: skip
    with pytest.raises(SystemExit):
        froc.main(argv)
    assert "not a usable FROC record (no training seed [1]" in capsys.readouterr().err
    other.write_text(json.dumps(dict(record, folds=[1])))
    with pytest.raises(SystemExit):
        froc.main(["--folds", "0", "--seeds", "0", *argv[5:]])
    assert "it has folds [1], not [0]" in capsys.readouterr().err
    other.write_text(json.dumps(dict(record, lesion_threshold=0.5)))
    with pytest.raises(SystemExit):
        froc.main(["--folds", "0", "--seeds", "0", *argv[5:]])
    assert "another lesion threshold" in capsys.readouterr().err


def test_a_five_fold_record_pairs_with_a_run_on_some_of_its_folds(froc):
    """Before: a record was refused unless its folds were exactly the run's, so a fold-0 probe
    could not be paired with the 5-fold comparison's FROC of the same cases."""
    rows = [dict(CASE_A, fold=0), dict(CASE_B, case_id="b1", fold=1), dict(CASE_B, fold=0)]
    record = {"folds": [0, 1], "per_case": {"0": rows, "1": rows[::-1]}}
    subset = froc.fold_subset(record, [0])
    assert subset["folds"] == [0]
    assert [r["case_id"] for r in subset["per_case"]["0"]] == ["a", "b"]
    assert [r["case_id"] for r in subset["per_case"]["1"]] == ["b", "a"]
    assert record["per_case"]["0"] == rows  # the record itself is untouched
    assert froc.tables_of(subset, [0])[0].shape[1] == 2
    with pytest.raises(ValueError, match=r"it has folds \[0, 1\], not \[2\]"):
        froc.fold_subset(record, [0, 2])


def test_folds_of_an_earlier_record_are_taken_from_it_and_the_rest_evaluated(
    toy_experiment, planar_set, tmp_path, capsys, froc
):
    """--evaluated: a run over more folds than an earlier record of the same model (whose
    releases may be gone) takes that record's folds as written and evaluates only the others;
    a record of another model, of none of the folds, or of other cases is refused by name."""
    run_experiment, common = toy_experiment
    data = str(planar_set)  # the phantom's lesion properties, for the missed-lesion table
    manifest = json.loads((planar_set / "manifest.json").read_text())
    for flag, value in (
        ("--data-root", data), ("--cases", len(manifest["cases"])), ("--seed", manifest["seed"])
    ):  # fmt: skip
        common[common.index(flag) + 1] = str(value)
    assert run_experiment([*common, "--set", "train.calibrate_cases=0"]) == 0
    release = str(tmp_path / "runs/mt_unet/release")
    argv = ["--folds", "0", "1", "--seeds", "0", "--threads", "1", "--model", f"m={release}",
            "--data-root", data, "--n-boot", "20"]  # fmt: skip
    assert froc.main([*argv, "--out", str(tmp_path / "full.json")]) == 0
    full = json.loads((tmp_path / "full.json").read_text())
    assert full["evaluated_earlier"] is None
    fold0 = froc.fold_subset(full, [0])
    fold0["per_case"]["0"][0]["n_true"] += 7  # marks the row as read, not re-evaluated
    (tmp_path / "fold0.json").write_text(json.dumps(fold0))
    out = tmp_path / "joined.json"
    assert froc.main([*argv, "--evaluated", str(tmp_path / "fold0.json"), "--out", str(out)]) == 0
    joined = json.loads(out.read_text())
    assert joined["evaluated_earlier"] == {"froc": str(tmp_path / "fold0.json"), "folds": [0]}
    n0 = len(fold0["per_case"]["0"])
    assert joined["per_case"]["0"][:n0] == fold0["per_case"]["0"]
    assert joined["per_case"]["0"][n0:] == froc.fold_subset(full, [1])["per_case"]["0"]

    def refused(record: dict, message: str) -> None:
        (tmp_path / "bad.json").write_text(json.dumps(record))
        with pytest.raises(SystemExit):
            froc.main([*argv, "--evaluated", str(tmp_path / "bad.json"), "--out", str(out)])
        assert message in capsys.readouterr().err

    refused(dict(fold0, model={"other": release}), "a record of ['other'], not of m")
    refused(dict(froc.fold_subset(full, [1]), folds=[3]), "it has folds [3], none of [0, 1]")
    fold0["per_case"]["0"][1]["case_id"] = "elsewhere"
    (tmp_path / "bad.json").write_text(json.dumps(fold0))
    with pytest.raises(SystemExit, match="fold 0 seed 0 has other cases"):
        froc.main([*argv, "--evaluated", str(tmp_path / "bad.json"), "--out", str(out)])
    assert json.loads(out.read_text()) == joined  # nothing written over


@pytest.mark.slow
def test_a_spectct_release_that_reads_the_reports_sites_on_the_ct_is_swept(
    spectct_set, tmp_path, froc
):
    """The shipped SPECT/CT release reads where the report puts each finding from the CT, which
    needs the voxel spacing: the sweep passes it as the product does (it stopped with "needs the
    voxel spacing" before), and counts every case's true lesions."""
    from pathlib import Path

    manifest = json.loads((Path(spectct_set) / "manifest.json").read_text(encoding="utf-8"))
    folds = sorted({str(c["fold"]) for c in manifest["cases"]})
    release = Path(__file__).resolve().parents[2] / "ml" / "checkpoints" / "spectct"
    out = tmp_path / "froc.json"
    froc.main(["--folds", *folds, "--seeds", "0", "--model", f"shipped={release}",
               "--data-root", str(spectct_set), "--out", str(out)])  # fmt: skip
    record = json.loads(out.read_text(encoding="utf-8"))
    rows = record["per_case"]["0"]
    assert sorted(r["case_id"] for r in rows) == sorted(c["case_id"] for c in manifest["cases"])
    truth = {c["case_id"]: len(c["lesions"]) for c in manifest["cases"]}
    assert all(r["n_true"] == truth[r["case_id"]] for r in rows)
    assert any(r["lesions"] for r in rows)  # the release states lesions on them
    # missed lesions by the SPECT/CT phantom's size (voxels), not the planar one's area
    missed = record["missed_lesions"]
    assert "area_px" not in missed and sum(
        v["lesions"] for v in missed["volume_vox"].values()
    ) == sum(truth.values())


def test_floors_compared_by_hand_with_paired_differences(froc):
    """Two floors of a release read side by side (the shipped one and a refit) on the same
    cases: sensitivity, false positives per case and lesion F1 at each, by hand, and the second
    minus the first with a paired CI; a floor off the swept grid (0.35) is read as well."""
    out = froc.compare_floors([[CASE_A, CASE_B]], [0.0, 0.35, 0.8], n_boot=300, seed=2)
    at = out["at_floor"]
    # floor 0: 2 of 2 found, 3 false positives over 2 cases; F1 = 4 / (4 + 3 + 0)
    assert at["0"]["sensitivity"]["value"] == 1.0
    assert at["0"]["fp_per_case"]["value"] == 1.5
    assert at["0"]["lesion_f1"]["value"] == pytest.approx(4 / 7)
    # 0.35: CASE_A's 0.3 piece goes (lesion 2 stays found by its 0.7 piece), its 0.5 false
    # positive stays, and CASE_B's 0.95: F1 = 4 / (4 + 2)
    assert at["0.35"]["sensitivity"]["value"] == 1.0
    assert at["0.35"]["fp_per_case"]["value"] == 1.0
    assert at["0.35"]["lesion_f1"]["value"] == pytest.approx(4 / 6)
    # 0.8: lesion 1 found, lesion 2 missed, CASE_B's 0.95 left: F1 = 2 / (2 + 1 + 1)
    assert at["0.8"]["sensitivity"]["value"] == 0.5
    assert at["0.8"]["fp_per_case"]["value"] == 0.5
    assert at["0.8"]["lesion_f1"]["value"] == pytest.approx(2 / 4)
    diff = out["minus_first"]
    assert set(diff) == {"0.35", "0.8"}
    assert diff["0.35"]["lesion_f1"]["difference"] == pytest.approx(4 / 6 - 4 / 7)
    assert diff["0.8"]["sensitivity"]["difference"] == -0.5
    # paired: a floor removes only, so no resample gives it more false positives
    low, high = diff["0.35"]["fp_per_case"]["ci"]
    assert low <= high <= 0.0
    # resamples: A twice (F1 0.8), B twice (0: no lesion, two false positives), one each (2/3)
    assert at["0.35"]["lesion_f1"]["ci"] == pytest.approx([0.0, 0.8])
    # B twice has no true lesion, so no sensitivity: too few resamples for a CI
    assert at["0.35"]["sensitivity"]["ci"] is None


def test_a_floor_to_compare_must_be_a_probability(tmp_path, capsys, froc):
    with pytest.raises(SystemExit):
        froc.main(["--folds", "0", "--seeds", "0", "--model", "m=x", "--data-root",
                   str(tmp_path), "--floors", "0.6", "1.5", "--out", str(tmp_path / "x.json")])  # fmt: skip
    assert "--floors 1.5: a floor is a probability, from 0 to 1" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
