"""benchmarks/inference.py (issue 15, item 6): the record it writes is what docs/benchmarks.md
quotes, so its ratios must be the ones its own times give, its FLOP counts the networks', its
checkpoint the shipped one, and its SPECT/CT input a phantom body (predict reads the CT)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("benchmarks/inference.py")


@pytest.mark.slow
def test_the_planar_record_is_consistent_with_its_own_measurements(tmp_path, bench):
    out = tmp_path / "inference.json"
    assert (
        bench.main(["--threads", "1", "--repeats", "2", "--tasks", "planar", "--out", str(out)])
        == 0
    )
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["benchmark"] == "inference" and "--tasks planar" in record["command"]
    [r] = [r for r in record["results"] if r["device"] == "cpu"]
    assert r["task"] == "planar" and r["threads"] == 1 and r["repeats"] == 2
    assert r["input_shape"] == [2, 1024, 256] and r["network_batch"][-2:] == [1024, 256]
    shipped = json.loads(
        (REPO / "ml" / "checkpoints" / "planar" / "config.json").read_text("utf-8")
    )
    assert r["checkpoint_sha256"] == shipped["weights_sha256"]
    for name in ("predict", "forward", "torch_forward", "eager_forward", "monai_unet"):
        times = r["times_s"][name]
        assert len(times) == 2 and all(t > 0 for t in times)
        key = f"{name}_median_s"
        assert r[key] == pytest.approx(float(np.median(times)))
    # the FLOP counts (FlopCounterMode, 2 per multiply-add): the shipped MT-UNet runs at half
    # internal resolution (input_scale 0.5), about 2.6 GFLOP on 1 x 2 x 1024 x 256 (10.5 at
    # full resolution, the release shipped before), the MONAI UNet's (strided, no
    # full-resolution convolution) about 2.3; the GEMM rate is the median of its measurements
    assert r["input_scale"] == 0.5 and r["runtime"] == "onnxruntime"
    assert 2.0 < r["gflop"] < 3.5 and 1.5 < r["monai_unet_gflop"] < 3.0
    assert r["gemm_gflops"] == pytest.approx(float(np.median(r["gemm_gflops_all"])))
    limit = r["gflop"] / r["gemm_gflops"]
    assert r["flop_limit_s"] == pytest.approx(limit)
    assert r["flop_limit_ratio"] == pytest.approx(r["forward_median_s"] / limit)
    assert r["forward_vs_monai_unet"] == pytest.approx(
        r["forward_median_s"] / r["monai_unet_median_s"]
    )
    assert r["targets"] == bench.TARGETS["planar"]
    assert r["meets_targets"] == {
        "predict_s": r["predict_median_s"] <= 0.5,
        "flop_limit_ratio": r["flop_limit_ratio"] <= 2.0,
        "vs_monai_unet": r["forward_vs_monai_unet"] <= 1.5,
    }


def test_the_spectct_input_is_a_phantom_body_on_which_predict_reads_the_ct_regions(
    monkeypatch, bench
):
    """The timed SPECT/CT predict() must include reading the stated lesions' bones and levels
    from the CT, which runs only when a lesion is stated: the case and the report timed (its
    own) give the shipped model lesions, and the CT anatomy is read (the case timed before
    2026-12-04, with a fixed report, gave none: its times left the regions out)."""
    from boneread_ml import ct_regions
    from boneread_ml.predict import load_model, predict

    images, spacing, source, report = bench.synthetic_input("spectct")
    assert images.shape[0] == 2 and images.ndim == 4 and images.shape[1] == 128
    assert len(spacing) == 3 and all(s > 0 for s in spacing)
    assert str(bench.PHANTOM_SEED) in source and "骨转移" in report
    ct = images[1]
    assert (ct > 300).mean() > 0.005, "no bone in the CT: predict would skip the CT regions"
    again, _, _, same = bench.synthetic_input("spectct")
    np.testing.assert_array_equal(again, images)  # the same case every run
    assert same == report
    reads = []
    read = ct_regions.read_ct_anatomy
    monkeypatch.setattr(ct_regions, "read_ct_anatomy", lambda *a: reads.append(1) or read(*a))
    model = load_model(REPO / "ml" / "checkpoints" / "spectct", runtime="torch")
    lesions = predict(images, report, model, spacing_mm=spacing).lesions
    assert lesions and reads == [1]
    assert all(lesion["region"] for lesion in lesions)


def test_the_planar_input_is_a_phantom_scan_whose_report_names_sites(monkeypatch, bench):
    """The timed planar predict() must include laying the atlas on the scan for the report's
    site maps, which runs only when the report names a class at a site: the scan timed until
    2026-12-06 was noise with a report that named none, so its times left the registration
    out."""
    from boneread_ml.data import report_sites
    from boneread_ml.predict import load_model, predict

    images, spacing, source, report = bench.synthetic_input("planar")
    assert images.shape == (2, 1024, 256) and spacing == pytest.approx((2.4, 2.4))
    assert str(bench.PHANTOM_SEED) in source and "planar" in source
    assert {cls for _, cls in report_sites.parse_sites(report)} == {1, 2}
    calls = []
    register = report_sites.register_atlas
    monkeypatch.setattr(
        report_sites, "register_atlas", lambda *a: calls.append(a[1:]) or register(*a)
    )
    model = load_model(REPO / "ml" / "checkpoints" / "planar", runtime="torch")
    predict(images, report, model, spacing_mm=spacing)
    assert calls == [(model.site_registration,)]


@pytest.mark.parametrize(
    ("value", "says"),
    [("planar", "expected planar=PATH"), ("ct=ml/checkpoints/spectct", "expected planar=PATH"),
     ("planar=ml/configs", "no config.json")],
)  # fmt: skip
def test_a_release_it_cannot_time_is_refused_by_name(value, says, tmp_path, bench, capsys):
    out = tmp_path / "inference.json"
    with pytest.raises(SystemExit) as exc:
        bench.main(["--release", value, "--out", str(out)])
    assert exc.value.code == 2
    assert says in capsys.readouterr().err and not out.exists()


@pytest.mark.slow
def test_a_candidate_release_is_timed_and_named(tmp_path, bench):
    """``--release`` times another release with the same harness and records which one: the
    shipped planar weights built at full internal resolution (parameters do not depend on
    input_scale) run four times the FLOPs, in ONNX Runtime as the shipped build does."""
    release = tmp_path / "full"
    shutil.copytree(REPO / "ml" / "checkpoints" / "planar", release)
    config = json.loads((release / "config.json").read_text(encoding="utf-8"))
    config["build_args"]["input_scale"] = 1.0
    (release / "config.json").write_text(json.dumps(config), encoding="utf-8")
    out = tmp_path / "inference.json"
    argv = ["--threads", "1", "--repeats", "1", "--release", f"planar={release}", "--out", str(out)]
    assert bench.main(argv) == 0
    [r] = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert r["release"] == str(release) and r["input_scale"] == 1.0
    assert r["runtime"] == "onnxruntime"
    assert r["network_batch"][-2:] == [1024, 256]
    assert 9.0 < r["gflop"] < 12.0 and 1.5 < r["monai_unet_gflop"] < 3.0
