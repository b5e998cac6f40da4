"""Bad arguments give clear errors, from the library and from the command line."""

from __future__ import annotations

import pytest

from boneread_ml.cli.main import main
from boneread_ml.data.manifest import generate, load_case_arrays, load_manifest


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "xray"}, "kind must be one of"),
        ({"cases": 0}, "cases must be a positive integer"),
        ({"cases": 2.5}, "cases must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"informativeness": 1.2}, "informativeness must be a number within"),
        ({"informativeness": "high"}, "informativeness must be a number within"),
        ({"workers": 0}, "workers must be a positive integer"),
    ],
)
def test_generate_rejects_bad_arguments(tmp_path, kwargs, match):
    args = {"kind": "planar", "cases": 1, "seed": 0, "out": tmp_path / "x", **kwargs}
    with pytest.raises(ValueError, match=match):
        generate(**args)
    assert not (tmp_path / "x" / "manifest.json").exists()


def test_out_must_not_be_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        generate("planar", 1, 0, f)


def test_missing_manifest_and_unknown_case_are_reported(tmp_path):
    with pytest.raises(ValueError, match="no manifest.json"):
        load_manifest(tmp_path)
    root = generate("planar", 1, 0, tmp_path / "d", dicom=False)
    with pytest.raises(ValueError, match="not in"):
        load_case_arrays(root, "nope")
    assert load_case_arrays(root, "planar-s0-0000")["image"].shape == (2, 1024, 256)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kind", "ct", "--cases", "1"], "invalid choice"),
        (["--kind", "planar", "--cases", "0"], "expected a positive integer"),
        (["--kind", "planar", "--cases", "1", "--seed", "-3"], "non-negative integer seed"),
        (["--kind", "planar", "--cases", "1", "--informativeness", "2"], "within [0, 1]"),
    ],
)
def test_cli_rejects_bad_arguments(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["synth", *argv, "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_writes_a_data_set(tmp_path):
    assert (
        main(
            [
                "synth",
                "--kind",
                "planar",
                "--cases",
                "2",
                "--seed",
                "4",
                "--out",
                str(tmp_path / "o"),
                "--no-dicom",
                "--no-progress",
            ]
        )
        == 0
    )
    m = load_manifest(tmp_path / "o")
    assert len(m["cases"]) == 2 and m["seed"] == 4 and m["params"]["informativeness"] == 0.7


def test_regenerating_into_a_folder_replaces_the_previous_set(tmp_path):
    out = tmp_path / "d"
    generate("planar", 3, 0, out)
    (out / "notes.txt").write_text("mine")
    generate("planar", 1, 0, out)
    assert sorted(p.name for p in (out / "arrays").iterdir()) == ["planar-s0-0000.npz"]
    assert sorted(p.name for p in (out / "dicom").iterdir()) == ["planar-s0-0000"]
    assert (out / "notes.txt").read_text() == "mine"


def test_follow_up_studies_keep_the_patient(tmp_path):
    """About 10 % of cases are a later scan of an earlier patient: same identity, one year older."""
    m = load_manifest(generate("planar", 30, 2, tmp_path / "f", dicom=False))
    by_patient: dict[str, list[dict]] = {}
    for c in m["cases"]:
        by_patient.setdefault(c["patient_id"], []).append(c)
        assert c["study"]["age"] == c["age"]
    repeats = [cs for cs in by_patient.values() if len(cs) > 1]
    assert repeats, "seed 2 should give at least one follow-up"
    for cs in repeats:
        assert len({c["study"]["patient_name"] for c in cs}) == 1
        assert len({c["study"]["birth_date"] for c in cs}) == 1
        assert len({c["fold"] for c in cs}) == 1
        cs = sorted(cs, key=lambda c: c["visit"])
        assert [c["age"] - cs[0]["age"] for c in cs] == [c["visit"] for c in cs]
        assert sorted(c["study"]["study_date"] for c in cs) == [
            c["study"]["study_date"] for c in cs
        ]
    accessions = [c["study"]["accession_number"] for c in m["cases"]]
    assert len(set(accessions)) == len(accessions)
