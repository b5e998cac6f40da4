"""benchmarks/experiment/folds.py: every fold's test cases pooled per seed, then over seeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "experiment"))

COLUMNS = (
    "model,case_id,mixed_classes,mean_class_dice,n_lesions,detected,correct_class,"
    "detected_described,correct_class_described,false_positives"
)


def _fold_seed(folder: Path, cases: list[str], dice_ref: float, dice_other: float) -> None:
    """Two rows: ref and other. Mixed cases: 2 detected, 1 right, the one the report describes
    (1 of 1 described); the others 2 of 2 right. False positives: ten times the Dice."""
    import seeds

    folder.mkdir(parents=True)
    lines = [COLUMNS]
    for name, dice in (("ref", dice_ref), ("other", dice_other)):
        for i, case in enumerate(cases):
            mixed = i % 2 == 0
            right = 1 if mixed else 2
            lines.append(f"{name},{case},{mixed},{dice},3,2,{right},{right},{right},{dice * 10:g}")
    (folder / "per_case.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = dict.fromkeys(seeds.SUMMARY_KEYS, 0.5)
    (folder / "results.json").write_text(
        json.dumps({"summaries": [{"model": "ref", **summary}, {"model": "other", **summary}]}),
        encoding="utf-8",
    )


def _args(out: Path) -> list[str]:
    return [
        "--folds", "0", "1", "--seeds", "0", "1", "--model", "ref=r{fold}_{seed}",
        "--model", "other=o{fold}_{seed}", "--data-root", str(out / "data"), "--out", str(out),
        "--n-boot", "200",
    ]  # fmt: skip


@pytest.fixture
def data_root(tmp_path):
    cases = [{"case_id": f"c{i}", "fold": i % 2} for i in range(8)]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "manifest.json").write_text(json.dumps({"cases": cases}))
    return tmp_path


def test_folds_are_pooled_case_by_case_with_lesion_ratios_summed(data_root):
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            # the other row is 0.1 below the reference on every case of every fold and seed
            _fold_seed(
                data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5 + fold / 10, 0.4 + fold / 10
            )
    assert main(_args(data_root)) == 0
    record = json.loads((data_root / "pooled.json").read_text())
    assert record["test_cases"] == 8 and record["mixed_class_test_cases"] == 4
    ref = next(s for s in record["summary"] if s["model"] == "ref")
    assert ref["mean_class_dice"] == pytest.approx(0.55)  # 4 cases at 0.5, 4 at 0.6
    assert ref["lesion_detection_sensitivity"] == pytest.approx(2 / 3)
    assert ref["lesion_class_accuracy"] == pytest.approx(6 / 8)
    assert ref["mixed_case_lesion_class_accuracy"] == pytest.approx(0.5)
    assert ref["mixed_case_described_lesion_class_accuracy"] == pytest.approx(1.0)
    (other,) = record["comparison"]
    assert other["mean_class_dice"]["difference"] == pytest.approx(0.1)
    assert other["mean_class_dice"]["ci"] == pytest.approx([0.1, 0.1])
    assert (data_root / "fold1" / "pooled.json").exists()  # each fold's own pooled table too


def test_rows_stored_before_case_dice_score_lesion_free_scans_from_their_dice(data_root):
    """per_case.csv files written before the case_dice column: a lesion-free case's
    mean_class_dice is "nan" where nothing was stated, 0 with a false positive. Pooled, the
    all-case Dice counts both (1 and 0); the mean class Dice drops the pair."""
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            folder = data_root / f"fold{fold}" / f"seed{seed}"
            _fold_seed(folder, cases, 0.5, 0.5)
            csv = folder / "per_case.csv"
            lines = csv.read_text().splitlines()
            for i, line in enumerate(lines):  # c0 and c1: lesion-free; ref empty, other states one
                name, case = line.split(",")[:2]
                if case in ("c0", "c1"):
                    lines[i] = f"{name},{case},False,{'nan' if name == 'ref' else 0},0,0,0,0,0," + (
                        "0" if name == "ref" else "1"
                    )
            csv.write_text("\n".join(lines) + "\n")
            results = folder / "results.json"  # an evaluation from before the key
            old = json.loads(results.read_text())
            for entry in old["summaries"]:
                del entry["case_dice"]
            results.write_text(json.dumps(old))
    assert main(_args(data_root)) == 0
    # each fold's own table (seeds.py) takes the old evaluations' case_dice from their rows
    fold0 = json.loads((data_root / "fold0" / "pooled.json").read_text())
    ref0 = next(s for s in fold0["summary"] if s["model"] == "ref")
    assert ref0["case_dice_per_seed"] == pytest.approx([(1.0 + 3 * 0.5) / 4] * 2)  # c0 of 4
    record = json.loads((data_root / "pooled.json").read_text())
    (other,) = record["comparison"]
    assert other["mean_class_dice"]["difference"] == pytest.approx(0.0)
    assert other["case_dice"]["difference"] == pytest.approx(2 / 8)  # 2 of 8 cases, 1 - 0
    ref = next(s for s in record["summary"] if s["model"] == "ref")
    assert ref["case_dice"] == pytest.approx((2 * 1.0 + 6 * 0.5) / 8)
    assert ref["mean_class_dice"] == pytest.approx(0.5)  # the lesion-free cases left out


def test_a_row_evaluated_on_other_cases_is_refused(data_root):
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            if (fold, seed) == (1, 1):
                cases = [*cases[:-1], "elsewhere"]
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5, 0.4)
    with pytest.raises(SystemExit, match="not the reference's test cases"):
        main(_args(data_root))


def _with_earlier_keyword_rows(data_root: Path, earlier: Path, keyword_dice: float) -> Path:
    """This comparison's rows (ref 0.5, other 0.4) and an earlier one's, whose second row is
    named keyword (Dice ``keyword_dice``), on the same folds, seeds and cases."""
    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5, 0.4)
            folder = earlier / f"fold{fold}" / f"seed{seed}"
            _fold_seed(folder, cases, 0.9, keyword_dice)
            csv = folder / "per_case.csv"
            csv.write_text(csv.read_text().replace("\nother,", "\nkeyword,"))
    return earlier


def test_rows_of_another_comparison_join_when_they_cover_the_same_cases(data_root, tmp_path):
    """--reuse keyword=DIR: the rows named keyword of an earlier comparison join the pooled
    table and its paired differences; rows on other cases are refused, an absent name too."""
    from folds import main

    # the earlier comparison: its "other" row is 0.3 below the reference, renamed to keyword
    earlier = _with_earlier_keyword_rows(data_root, tmp_path / "earlier", 0.2)
    assert main([*_args(data_root), "--reuse", f"keyword={earlier}"]) == 0
    record = json.loads((data_root / "pooled.json").read_text())
    assert record["reused_rows"] == {"keyword": str(earlier)}
    assert {s["model"] for s in record["summary"]} == {"ref", "other", "keyword"}
    keyword = next(c for c in record["comparison"] if c["model"] == "keyword")
    assert keyword["mean_class_dice"]["difference"] == pytest.approx(0.3)
    with pytest.raises(SystemExit, match="no rows of that name"):
        main([*_args(data_root), "--reuse", f"absent={earlier}"])
    csv = earlier / "fold1" / "seed0" / "per_case.csv"
    csv.write_text(csv.read_text().replace("keyword,c1,", "keyword,elsewhere,"))
    with pytest.raises(SystemExit, match="not the reference's test cases"):
        main([*_args(data_root), "--reuse", f"keyword={earlier}"])


def test_a_pair_compares_two_other_rows_with_the_same_bootstrap(data_root, tmp_path, caplog):
    """--pair other=keyword: besides the reference's differences, other minus keyword (two
    rows as trained while the reference is a filtered one), logged under its own reference
    (it was logged as "ref - keyword"); an unknown row is refused."""
    import logging

    from folds import main

    earlier = _with_earlier_keyword_rows(data_root, tmp_path / "earlier", 0.25)
    argv = [*_args(data_root), "--reuse", f"keyword={earlier}", "--pair", "other=keyword"]
    with caplog.at_level(logging.INFO, logger="folds"):
        assert main(argv) == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "folds"]
    assert any(m.startswith("other - keyword") and "+0.1500" in m for m in logged)
    assert not any(m.startswith("ref - keyword") and "+0.1500" in m for m in logged)
    record = json.loads((data_root / "pooled.json").read_text())
    pair = [c for c in record["comparison"] if c["reference"] == "other"]
    assert [c["model"] for c in pair] == ["keyword"]
    assert pair[0]["mean_class_dice"]["difference"] == pytest.approx(0.15)
    assert pair[0]["mean_class_dice"]["ci"] == pytest.approx([0.15, 0.15])

    from tables import comparison_table

    lines = comparison_table(record)  # one table per reference
    assert lines[0].startswith("| ref minus |")
    second = next(i for i, line in enumerate(lines) if line.startswith("| other minus |"))
    assert lines[second + 2].startswith("| keyword | +0.150 (+0.150 to +0.150)")
    assert all(not line.startswith("| keyword | +0.150") for line in lines[:second])
    with pytest.raises(SystemExit, match="--pair other=absent: no rows named absent"):
        main([*_args(data_root), "--pair", "other=absent"])


def test_a_pair_already_compared_is_not_compared_again(data_root, tmp_path):
    """--pair ref=other is the reference's own difference and --pair given twice the same
    difference: each is in the table once (they were twice)."""
    from folds import main

    earlier = _with_earlier_keyword_rows(data_root, tmp_path / "earlier", 0.25)
    argv = [*_args(data_root), "--reuse", f"keyword={earlier}", "--pair", "ref=other"]
    argv += ["--pair", "other=keyword", "--pair", "other=keyword"]
    assert main(argv) == 0
    record = json.loads((data_root / "pooled.json").read_text())
    pairs = [(c["reference"], c["model"]) for c in record["comparison"]]
    assert sorted(pairs) == [("other", "keyword"), ("ref", "keyword"), ("ref", "other")]


def test_a_row_minus_itself_is_refused_before_any_fold_is_evaluated(data_root, monkeypatch):
    """--pair A=A was refused only after every fold had been evaluated (minutes of training
    evaluation each); now before the first."""
    import folds
    import seeds

    evaluated = []
    monkeypatch.setattr(seeds, "main", lambda argv: evaluated.append(argv) or 0)
    with pytest.raises(SystemExit, match="--pair other=other: a row minus itself"):
        folds.main([*_args(data_root), "--pair", "other=other"])
    assert evaluated == []


def test_an_earlier_evaluation_without_a_named_model_is_refused_by_name(data_root, capsys):
    """A seed's results.json is reused; when it was written for other model names the run
    stopped with a bare StopIteration. Now the reused file and the missing name are named."""
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5, 0.4)
    argv = [a.replace("other=", "renamed=") for a in _args(data_root)]
    with pytest.raises(SystemExit):
        main(argv)
    err = capsys.readouterr().err
    assert "fold0/seed0/results.json (an earlier evaluation, reused) has no rows of renamed" in err
    assert "delete it or pass --fresh" in err


def test_the_reference_may_be_a_reused_row_whose_releases_are_gone(data_root, tmp_path):
    """--reference ref --reuse ref=DIR: the reference's rows come from an earlier comparison
    (its releases were not kept) while only the other row is evaluated here. The reused rows
    win over rows of the same name in this output (a fold copied in), so no case counts twice."""
    from folds import main

    earlier = _with_earlier_keyword_rows(data_root, tmp_path / "earlier", 0.2)  # ref 0.9 there
    argv = [a for a in _args(data_root) if not a.startswith("ref=")]
    argv.remove("--model")  # the first "--model", whose value was "ref=..."
    argv += ["--reference", "ref", "--reuse", f"ref={earlier}"]
    assert main(argv) == 0
    record = json.loads((data_root / "pooled.json").read_text())
    assert record["reference"] == "ref" and record["models"] == {"other": "o{fold}_{seed}"}
    ref = next(s for s in record["summary"] if s["model"] == "ref")
    assert ref["mean_class_dice"] == pytest.approx(0.9)  # the earlier rows, not this output's 0.5
    (other,) = record["comparison"]
    assert (other["reference"], other["model"]) == ("ref", "other")
    assert other["mean_class_dice"]["difference"] == pytest.approx(0.5)

    # the false-positive table counts the rows pooled: ref's from the earlier comparison only
    # (it counted this output's ref rows and the earlier ones of every name alike)
    from tables import false_positive_table

    lines = false_positive_table(data_root, record)
    assert "| ref | 9.00 (n=16) | n/a (n=0) |" in lines
    assert "| other | 4.00 (n=16) | n/a (n=0) |" in lines
    assert not any(line.startswith("| keyword |") for line in lines)


def test_both_evaluated_and_reused_or_an_unknown_reference_is_named(data_root, tmp_path, capsys):
    """A name both evaluated and reused, or a reference that is neither, is refused by name."""
    from folds import main

    with pytest.raises(SystemExit):
        main([*_args(data_root), "--reuse", f"ref={tmp_path}"])
    assert "ref: both a --model (evaluated) and a --reuse row" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*_args(data_root), "--reference", "absent"])
    assert "--reference absent: neither a --model nor a --reuse row" in capsys.readouterr().err


def test_the_keyword_rule_source_is_passed_to_every_folds_evaluation(data_root, monkeypatch):
    import folds
    import seeds

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5, 0.4)
    passed = []
    real = seeds.main
    monkeypatch.setattr(folds.seeds, "main", lambda argv: passed.append(argv) or real(argv))
    assert folds.main([*_args(data_root), "--keyword-rule-from", "other"]) == 0
    assert len(passed) == 2
    assert all(argv[argv.index("--keyword-rule-from") + 1] == "other" for argv in passed)
    passed.clear()
    assert folds.main(_args(data_root)) == 0  # the default: the no-text MT-UNet's masks
    assert all(argv[argv.index("--keyword-rule-from") + 1] == "mt_unet_no_text" for argv in passed)


def _copy_rows(folder: Path, model: str, name: str) -> None:
    """Append a copy of ``model``'s per-case rows under another row name (an extra evaluation)."""
    csv = folder / "per_case.csv"
    copies = [
        line.replace(f"{model},", f"{name},", 1)
        for line in csv.read_text().splitlines()
        if line.startswith(f"{model},")
    ]
    csv.write_text(csv.read_text() + "\n".join(copies) + "\n")


def test_rows_that_one_fold_lacks_can_be_left_out_by_naming_the_rows_to_pool(data_root, capsys):
    """A probe row evaluated on fold 0 only (fold 1's earlier evaluation had no probes) stops the
    pooling; --rows pools the named rows and the reference without it, and names unknown rows."""
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            folder = data_root / f"fold{fold}" / f"seed{seed}"
            _fold_seed(folder, cases, 0.5, 0.4)
            if fold == 0:
                _copy_rows(folder, "ref", "ref [none]")
                results = json.loads((folder / "results.json").read_text())
                results["summaries"].append({**results["summaries"][0], "model": "ref [none]"})
                (folder / "results.json").write_text(json.dumps(results))
    with pytest.raises(SystemExit, match=r"ref \[none\] seed 0: not the reference's test cases"):
        main(_args(data_root))
    assert main([*_args(data_root), "--rows", "other"]) == 0
    pooled = json.loads((data_root / "pooled.json").read_text())
    assert [m["model"] for m in pooled["summary"]] == ["ref", "other"]
    assert pooled["rows"] == ["other"] and pooled["test_cases"] == 8
    from tables import false_positive_table

    fp_rows = [line.split(" | ")[0] for line in false_positive_table(data_root, pooled)[2:]]
    assert fp_rows == ["| ref", "| other"]  # the false-positive split pools the same rows
    with pytest.raises(SystemExit, match="--rows: no rows named elsewhere"):
        main([*_args(data_root), "--rows", "elsewhere"])


def test_a_row_one_seeds_earlier_evaluation_has_and_the_others_lack_is_left_out(data_root, caplog):
    """Seed 0 evaluated before with one more row ("old", e.g. a release since changed), seeds
    1 evaluated without it: each fold's table and the pooled one leave it out and say so (the
    per-fold pooling stopped with a bare StopIteration)."""
    import logging

    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            folder = data_root / f"fold{fold}" / f"seed{seed}"
            _fold_seed(folder, cases, 0.5, 0.4)
            if seed == 0:
                _copy_rows(folder, "other", "old")
    with caplog.at_level(logging.WARNING):
        assert main([*_args(data_root), "--rows", "ref", "other"]) == 0
    assert "rows left out, not evaluated for every seed: old" in caplog.text
    record = json.loads((data_root / "pooled.json").read_text())
    assert {s["model"] for s in record["summary"]} == {"ref", "other"}
    fold0 = json.loads((data_root / "fold0" / "pooled.json").read_text())
    assert {s["model"] for s in fold0["summary"]} == {"ref", "other"}


def test_pool_only_names_the_missing_evaluations_and_evaluates_nothing(data_root, monkeypatch):
    """A mistyped --out made folds.py evaluate every fold and seed again (10 minutes on the
    last run); --pool-only refuses instead and names what is missing."""
    import folds
    import seeds

    _fold_seed(data_root / "fold0" / "seed0", ["c0", "c2", "c4", "c6"], 0.5, 0.4)
    evaluated = []
    monkeypatch.setattr(seeds, "main", lambda argv: evaluated.append(argv) or 0)
    with pytest.raises(SystemExit) as stop:
        folds.main([*_args(data_root), "--pool-only"])
    message = str(stop.value)
    assert message.startswith("--pool-only: no evaluation at ")
    for fold, seed in ((0, 1), (1, 0), (1, 1)):
        assert str(data_root / f"fold{fold}" / f"seed{seed}" / "results.json") in message
    assert str(data_root / "fold0" / "seed0") not in message
    assert evaluated == []


def test_pool_only_pools_what_was_evaluated(data_root):
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5, 0.4)
    assert main([*_args(data_root), "--pool-only"]) == 0
    pooled = json.loads((data_root / "pooled.json").read_text())
    (other,) = pooled["comparison"]
    assert other["mean_class_dice"]["difference"] == pytest.approx(0.1)


def test_pool_only_leaves_every_folds_files_as_they_were(data_root, tmp_path):
    """Pooling other rows of committed evaluations into a file elsewhere (--pool-only --pooled)
    rewrote each fold's pooled.json under --out."""
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5, 0.4)
        (data_root / f"fold{fold}" / "pooled.json").write_text('{"as": "evaluated"}')

    def snapshot():
        return {p: p.read_bytes() for p in sorted(data_root.rglob("fold*/**/*")) if p.is_file()}

    before = snapshot()
    elsewhere = tmp_path / "elsewhere" / "pooled.json"
    assert main([*_args(data_root), "--pool-only", "--pooled", str(elsewhere)]) == 0
    assert snapshot() == before
    assert not (data_root / "pooled.json").exists()
    (other,) = json.loads(elsewhere.read_text())["comparison"]
    assert other["mean_class_dice"]["difference"] == pytest.approx(0.1)


def test_pool_only_names_an_evaluation_without_its_per_case_rows(data_root):
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5, 0.4)
    (data_root / "fold1" / "seed0" / "per_case.csv").unlink()
    with pytest.raises(SystemExit, match=r"fold1/seed0/per_case\.csv"):
        main([*_args(data_root), "--pool-only"])


def test_a_second_pooling_goes_where_pooled_says_and_leaves_the_first(data_root, tmp_path):
    """Pooling the same evaluations again (other seeds or rows) overwrote OUT/pooled.json."""
    from folds import main

    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            _fold_seed(data_root / f"fold{fold}" / f"seed{seed}", cases, 0.5 + seed / 10, 0.4)
    assert main(_args(data_root)) == 0
    first = (data_root / "pooled.json").read_text()
    second = tmp_path / "second" / "seed1.json"
    argv = _args(data_root)
    argv[argv.index("--seeds") + 1 : argv.index("--seeds") + 3] = ["1"]
    assert main([*argv, "--pooled", str(second)]) == 0
    assert (data_root / "pooled.json").read_text() == first
    record = json.loads(second.read_text())
    assert record["seeds"] == [1]
    (other,) = record["comparison"]
    assert other["mean_class_dice"]["difference"] == pytest.approx(0.2)


def _mixed_gap(data_root: Path, gap: float) -> None:
    """ref and other: equal on single-class cases, ref ``gap`` ahead on mixed-class cases."""
    for fold in (0, 1):
        cases = [f"c{i}" for i in range(8) if i % 2 == fold]
        for seed in (0, 1):
            folder = data_root / f"fold{fold}" / f"seed{seed}"
            _fold_seed(folder, cases, 0.5, 0.5)
            lines = [COLUMNS]
            for name in ("ref", "other"):
                for i, case in enumerate(cases):
                    mixed = i % 2 == 0
                    dice = 0.5 + (gap if mixed and name == "ref" else 0.0)
                    lines.append(f"{name},{case},{mixed},{dice},3,2,1,1,1,0")
            (folder / "per_case.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("cases", "n", "difference"), [("mixed", 4, 0.3), ("single", 4, 0.0),
                                                        ("all", 8, 0.15)])  # fmt: skip
def test_cases_pools_only_the_mixed_or_the_single_class_cases(data_root, cases, n, difference):
    """Before, a lead on the scans with both classes (where the report must say which lesion is
    which) was averaged with the single-class scans, where a keyword rule is right by design."""
    from folds import main

    _mixed_gap(data_root, 0.3)
    assert main([*_args(data_root), "--pool-only", "--cases", cases]) == 0
    record = json.loads((data_root / "pooled.json").read_text())
    assert record["cases"] == cases and record["test_cases"] == n
    (other,) = record["comparison"]
    assert other["mean_class_dice"]["difference"] == pytest.approx(difference)


def test_cases_refuses_rows_that_do_not_say_which_cases_are_mixed(data_root):
    from folds import main

    _mixed_gap(data_root, 0.3)
    path = data_root / "fold1" / "seed0" / "per_case.csv"
    path.write_text(path.read_text().replace(",True,", ",,"), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"--cases mixed: the rows of ref \(seed 0\) do not say"):
        main([*_args(data_root), "--pool-only", "--cases", "mixed"])
