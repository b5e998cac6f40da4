"""Inference jobs in-process (the real model, the real database, no broker): creation and its
4xx errors, one result per study + report version + model version, running twice, the SEG
read back with highdicom, cancel, recovery of dead workers' jobs, checksum verification."""

from __future__ import annotations

import copy
import gzip
import threading
import uuid
from datetime import timedelta

import highdicom as hd
import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from core.exceptions import ApplicationError, ConflictError
from inference import services
from inference.imaging import read_model_input
from inference.models import InferenceJob, JobState, Lesion, ModelVersion
from inference.results import labelmap_read
from inference.runner import inference_job_run, model_load
from studies.models import IngestSource, Instance
from studies.selectors import instance_file_open

pytestmark = pytest.mark.django_db


def ai_instances(study):
    return Instance.objects.filter(series__study=study, source=IngestSource.AI)


def test_job_runs_once_and_writes_seg_lesions_and_labelmap(ingest_case, model_version):
    study = ingest_case(0)
    job, created = services.inference_job_create(study=study)
    assert created and job.state == JobState.QUEUED and job.report_version.number == 1

    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    assert inference_job_run(job_id=str(job.id)) == "skipped"  # run it twice, one result

    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 1 and job.progress == 1.0
    assert {"load_model", "read_images", "predict", "write_results", "store"} <= set(job.timings)
    assert ai_instances(study).count() == 2  # one SEG per planar view, one series
    assert len({i.series_id for i in ai_instances(study)}) == 1
    assert job.labelmap_shape == [2, 1024, 256]
    lesions = list(Lesion.objects.filter(job=job))
    assert sum(job.summary["lesion_counts"].values()) == len(lesions)
    for lesion in lesions:
        assert lesion.class_name in ("benign", "metastatic") and 0 <= lesion.probability <= 1
        assert lesion.area_px > 0 and lesion.area_mm2 > 0
        assert set(lesion.locations) == {"anterior", "posterior"}


def test_the_job_records_which_runtime_ran_the_network_also_after_a_fallback(
    ingest_case, model_version, monkeypatch, api
):
    from boneread_ml.models import onnx_runtime
    from inference import runner

    first = ingest_case(0)
    job, _ = services.inference_job_create(study=first)
    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    job.refresh_from_db()
    assert job.summary["runtime"] == "onnxruntime"

    # a worker whose ONNX export fails falls back to torch: the job record must say so
    def failing_export(network):
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(onnx_runtime, "export_onnx", failing_export)
    monkeypatch.setattr(runner, "_MODEL_CACHE", {})
    second = ingest_case(1)
    fallback, _ = services.inference_job_create(study=second)
    assert inference_job_run(job_id=str(fallback.id)) == "succeeded"
    fallback.refresh_from_db()
    assert fallback.summary["runtime"] == "torch"
    answer = api.get(f"/api/inference/jobs/{fallback.id}")
    assert answer.status_code == 200 and answer.json()["runtime"] == "torch"


def _with_site_gate(copy_to, release, gate):
    """``release`` copied to ``copy_to`` with ``gate`` as its report-site gate, loaded."""
    import json
    import shutil

    from boneread_ml.predict import load_model

    shutil.copytree(release, copy_to)
    config = json.loads((copy_to / "config.json").read_text(encoding="utf-8"))
    config.setdefault("postprocess", {})["site_gate"] = gate
    (copy_to / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return load_model(copy_to)


def test_the_job_stores_what_the_releases_report_site_gate_removed(
    ingest_case, tampered_model_dir, db, api
):
    """A release with a report-site gate: the job's lesions are predict's gated lesions and
    the job says how many the gate removed; without a gate the count is null."""
    import json

    from boneread_ml.predict import predict
    from inference.services import _latest_report_version

    config_file = tampered_model_dir / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    post = config.setdefault("postprocess", {})
    post.pop("site_gate", None)
    post.pop("lesion_floor", None)  # the gate alone (the shipped planar release has a floor)
    config_file.write_text(json.dumps(config), encoding="utf-8")
    services.model_version_register(path=tampered_model_dir, activate=True)
    gate = {"min_cover": 0.5, "min_probability": 0.999}  # all but near-certain lesions outside
    gated_model = _with_site_gate(tampered_model_dir.parent / "probe", tampered_model_dir, gate)
    for index in range(3):  # the first phantom case where the gate has something to remove
        study = ingest_case(index)
        model_input = read_model_input(study)
        expected = predict(
            model_input.images, _latest_report_version(study).text, gated_model,
            spacing_mm=model_input.spacing_mm,
        )  # fmt: skip
        if expected.meta["suppressed_outside_report"]:
            break
    removed = expected.meta["suppressed_outside_report"]
    assert removed > 0, "no phantom case gave the gate anything to remove; pick other cases"
    plain, _ = services.inference_job_create(study=study)
    assert inference_job_run(job_id=str(plain.id)) == "succeeded"
    plain.refresh_from_db()
    assert plain.summary["suppressed_outside_report"] is None

    # the same weights given the gate, registered: a new model version (its post-processing
    # differs), so the job is a new one without asking for a rerun, and it runs with the gate
    gated, created = services.model_version_register(
        path=tampered_model_dir.parent / "probe", activate=True
    )
    assert created and gated.checksum == plain.model_version.checksum
    assert gated.postprocess_sha256 != plain.model_version.postprocess_sha256
    assert gated.version == f"{plain.model_version.version}-post-{gated.postprocess_sha256[:8]}"
    job, created_job = services.inference_job_create(study=study)
    assert created_job and job.id != plain.id and job.model_version == gated
    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    job.refresh_from_db()
    assert job.report_version.text == plain.report_version.text
    assert job.summary["suppressed_outside_report"] == removed
    assert Lesion.objects.filter(job=job).count() == len(expected.lesions)
    assert Lesion.objects.filter(job=plain).count() == len(expected.lesions) + removed
    assert sorted(Lesion.objects.filter(job=job).values_list("number", flat=True)) == list(
        range(1, len(expected.lesions) + 1)
    )
    answer = api.get(f"/api/inference/jobs/{job.id}")
    assert answer.status_code == 200 and answer.json()["suppressed_outside_report"] == removed
    # what the viewer's lesion panel reads (it says how many the gate left out)
    viewer = api.get(f"/api/studies/{study.id}/ai")
    assert viewer.status_code == 200
    assert viewer.json()["result"]["job_id"] == str(job.id)
    assert viewer.json()["result"]["suppressed_outside_report"] == removed
    # the gated lesions are held back, not lost: the plain job listed them with the same class
    # and probability (the gate and the floor only remove)
    held = viewer.json()["result"]["held_back"]
    assert [h["held_back"] for h in held] == ["outside_report"] * removed
    listed = {
        (les.class_name, round(les.probability, 4), tuple(les.bbox))
        for les in Lesion.objects.filter(job=plain)
    }
    assert {(h["class_name"], h["probability"], tuple(h["bbox"])) for h in held} <= listed


def test_the_job_stores_what_the_releases_lesion_floor_removed(
    ingest_case, tampered_model_dir, db, api
):
    """A release with a lesion-probability floor: the job's lesions are predict's, and the job,
    the job API and the viewer's result say how many the floor left out."""
    import json

    from boneread_ml.predict import load_model, predict
    from inference.services import _latest_report_version

    config_file = tampered_model_dir / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config.setdefault("postprocess", {})["lesion_floor"] = {"min_probability": 0.6}
    config_file.write_text(json.dumps(config), encoding="utf-8")
    version, _ = services.model_version_register(path=tampered_model_dir, activate=True)
    floored = load_model(tampered_model_dir)
    for index in range(3):  # the first phantom case where the floor has something to remove
        study = ingest_case(index)
        model_input = read_model_input(study)
        expected = predict(
            model_input.images, _latest_report_version(study).text, floored,
            spacing_mm=model_input.spacing_mm,
        )  # fmt: skip
        if expected.meta["suppressed_below_floor"]:
            break
    removed = expected.meta["suppressed_below_floor"]
    assert removed > 0, "no phantom case gave the floor anything to remove; pick other cases"
    job, _ = services.inference_job_create(study=study)
    assert job.model_version == version
    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    job.refresh_from_db()
    assert job.summary["suppressed_below_floor"] == removed
    stored = sorted(Lesion.objects.filter(job=job).values_list("probability", flat=True))
    assert stored == pytest.approx(sorted(les["probability"] for les in expected.lesions))
    assert min(stored, default=1.0) >= 0.6
    answer = api.get(f"/api/inference/jobs/{job.id}")
    assert answer.status_code == 200 and answer.json()["suppressed_below_floor"] == removed
    viewer = api.get(f"/api/studies/{study.id}/ai")
    assert viewer.status_code == 200
    assert viewer.json()["result"]["suppressed_below_floor"] == removed
    # the held-back findings come with the result, where predict put them, numbered on after
    # the listed lesions (before, the viewer could only say how many there were)
    held = viewer.json()["result"]["held_back"]
    assert len(held) == removed
    assert [h["held_back"] for h in held] == ["below_floor"] * removed
    assert [h["id"] for h in held] == list(range(len(stored) + 1, len(stored) + removed + 1))
    assert [h["probability"] for h in held] == pytest.approx(
        [les["probability"] for les in expected.held_back], abs=1e-4
    )
    assert all(h["probability"] < 0.6 for h in held)
    assert [h["bbox"] for h in held] == [
        [int(v) for v in les["bbox"]] for les in expected.held_back
    ]
    for finding in held:  # where the viewer jumps: a view frame of the stored images
        assert finding["locations"]["anterior"]["frame"] == 0
        assert finding["locations"]["posterior"]["frame"] == 1
    # nothing held back is a lesion row, counted, or in the label map
    assert Lesion.objects.filter(job=job).count() == len(stored)
    assert sum(job.summary["lesion_counts"].values()) == len(stored)


def test_seg_reads_back_with_highdicom_and_matches_the_predicted_mask(ingest_case, model_version):
    from boneread_ml.predict import predict

    study = ingest_case(1)
    job, _ = services.inference_job_create(study=study)
    inference_job_run(job_id=str(job.id))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_detail

    # The mask predicted independently here, from the archive's images and the report.
    model_input = read_model_input(study)
    expected = predict(
        model_input.images, job.report_version.text, model_load(model_version)
    ).label_map
    stored = np.frombuffer(gzip.decompress(labelmap_read(job.labelmap_file)), np.uint8)
    stored = stored.reshape(job.labelmap_shape)
    np.testing.assert_array_equal(stored[0], expected)
    np.testing.assert_array_equal(stored[1], expected[:, ::-1])  # posterior as stored

    nm = Instance.objects.get(series__study=study, series__modality="NM")
    views = {f["view"]: f for f in job.labelmap_frames}
    assert views["anterior"]["sop_instance_uid"] == nm.sop_instance_uid
    seen = set()
    for instance in job.seg_instances.all():
        seg = hd.seg.segread(instance_file_open(instance))
        assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
        assert seg.StudyInstanceUID == study.study_instance_uid
        assert seg.get_segment_numbers() == [1, 2]
        assert seg.get_segment_description(2).segment_label == "metastatic lesion"
        assert seg.get_source_image_uids()[0][2] == nm.sop_instance_uid
        view = "anterior" if "anterior" in seg.SeriesDescription else "posterior"
        frame = views[view]["frame"]
        pixels = seg.get_pixels_by_source_frame(
            source_sop_instance_uid=nm.sop_instance_uid,
            source_frame_numbers=[frame],
            combine_segments=True,
        )[0]
        np.testing.assert_array_equal(pixels, expected if view == "anterior" else expected[:, ::-1])
        seen.add(view)
    assert seen == {"anterior", "posterior"}


def test_same_study_report_and_model_give_one_job_unless_rerun(ingest_case, model_version):
    from reports.services import report_save

    study = ingest_case(0)
    first, created = services.inference_job_create(study=study)
    again, created_again = services.inference_job_create(study=study)
    assert created and not created_again and again.id == first.id
    rerun, created_rerun = services.inference_job_create(study=study, rerun=True)
    assert created_rerun and rerun.id != first.id and rerun.is_rerun
    report = study.report
    report_save(
        study=study,
        user=None,
        history=report.history,
        findings=report.findings + "补充。",
        impression=report.impression,
        base_version=report.version,
    )
    new_report, created_new = services.inference_job_create(study=study)
    assert created_new and new_report.report_version.number == 2
    services.inference_job_cancel(job=first)
    replacement, created_replacement = services.inference_job_create(study=study)
    assert replacement.id == new_report.id  # still the newest report's job
    assert not created_replacement


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_the_same_job_make_one_job(ingest_case, model_version):
    study = ingest_case(0)
    barrier = threading.Barrier(4)
    ids, errors = [], []

    def request():
        try:
            barrier.wait()
            job, _ = services.inference_job_create(study=study)
            ids.append(job.id)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(ids)) == 1
    assert InferenceJob.objects.filter(study=study).count() == 1


def test_clear_errors_for_bad_input(ingest_case, model_version, make_empty_study):
    with pytest.raises(ApplicationError, match="no whole-body planar or SPECT/CT"):
        services.inference_job_create(study=make_empty_study())
    study = ingest_case(0)
    with pytest.raises(ApplicationError, match="No model version"):
        services.inference_job_create(study=study, model_version_id=uuid.uuid4())
    model_version.is_active = False
    model_version.save()
    with pytest.raises(ApplicationError, match="No active planar model"):
        services.inference_job_create(study=study)


def test_cancel_queued_job_then_a_late_delivery_does_nothing(ingest_case, model_version):
    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    cancelled = services.inference_job_cancel(job=job)
    assert cancelled.state == JobState.CANCELLED and cancelled.finished_at
    assert inference_job_run(job_id=str(job.id)) == "skipped"
    assert not ai_instances(study).exists()
    with pytest.raises(ConflictError):
        services.inference_job_cancel(job=job)


def test_cancel_requested_while_running_stops_at_the_next_stage(ingest_case, model_version):
    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    InferenceJob.objects.filter(id=job.id).update(
        state=JobState.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    job.refresh_from_db()
    services.inference_job_cancel(job=job)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.cancel_requested
    assert inference_job_run(job_id=str(job.id)) == "skipped"
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert not ai_instances(study).exists() and not Lesion.objects.filter(job=job).exists()


def test_recovery_requeues_a_dead_workers_job_and_gives_up_after_max_attempts(
    ingest_case, model_version, settings
):
    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    old = timezone.now() - timedelta(seconds=settings.INFERENCE_LEASE_SECONDS + 5)
    InferenceJob.objects.filter(id=job.id).update(
        state=JobState.RUNNING, heartbeat_at=old, attempts=1, run_token=uuid.uuid4()
    )
    assert services.inference_jobs_recover()["requeued"] == 1
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.run_token is None
    # a live heartbeat is left alone
    InferenceJob.objects.filter(id=job.id).update(
        state=JobState.RUNNING, heartbeat_at=timezone.now()
    )
    assert services.inference_jobs_recover()["requeued"] == 0
    InferenceJob.objects.filter(id=job.id).update(
        heartbeat_at=old, attempts=settings.INFERENCE_MAX_ATTEMPTS
    )
    assert services.inference_jobs_recover()["failed"] == 1
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "stopped" in job.error


def test_changed_model_files_fail_the_job_with_a_clear_error(ingest_case, tampered_model_dir):
    model_version, _ = services.model_version_register(path=tampered_model_dir, activate=True)
    weights = tampered_model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-16] + bytes(16))
    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    assert inference_job_run(job_id=str(job.id)) == "failed"
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "could not be loaded" in job.error
    assert "checksum" in job.error and not ai_instances(study).exists()


def test_registering_verifies_checksum_and_is_idempotent(planar_model_dir, tampered_model_dir, db):
    first, created = services.model_version_register(path=planar_model_dir)
    again, created_again = services.model_version_register(path=planar_model_dir)
    assert created and not created_again and first.id == again.id and again.is_active
    weights = tampered_model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-16] + bytes(16))
    with pytest.raises(ApplicationError, match="does not match"):
        services.model_version_register(path=tampered_model_dir)


@pytest.mark.parametrize(
    ("postprocess", "message"),
    [
        ({"site_rule": {"min_cover": "half"}}, r"site_rule\.min_cover must be a number in \(0, 1\]"),
        ({"site_rule": {"min_cover": 0.5, "cover": 0.5}}, r"site_rule has unknown keys \['cover'\]"),
        ({"site_gate": {"min_cover": 0.5}}, r"site_gate\.min_probability is missing"),
        ({"lesion_threshold": 1.5}, r"lesion_threshold must be a number in \[-1, 1\]"),
        ({"lesion_calibration": {"features": ["size"], "coef": [1.0], "intercept": 0.0}},
         r"lesion_calibration\.features must be"),
    ],
)  # fmt: skip
def test_registering_refuses_a_postprocess_section_predict_cannot_apply(
    planar_model_dir, tampered_model_dir, db, postprocess, message
):
    import json

    config_file = tampered_model_dir / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["postprocess"] = {**(config.get("postprocess") or {}), **postprocess}
    config_file.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ApplicationError, match=message) as raised:
        services.model_version_register(path=tampered_model_dir)
    assert "refusing to register" in str(raised.value)
    assert not ModelVersion.objects.filter(path__contains="tampered").exists()


def test_auto_run_queues_a_job_when_a_study_with_images_gets_a_report(
    ingest_case, model_version, settings
):
    settings.INFERENCE_AUTO_RUN = True
    study = ingest_case(2)
    job = InferenceJob.objects.get(study=study)
    assert job.trigger == "auto" and job.report_version.number == 1


def test_auto_run_on_signing_and_for_images_that_arrived_after_the_report(
    ingest_case, model_version, settings
):
    from reports.services import report_save, report_sign

    study = ingest_case(0)  # auto-run off while its report was saved: no job
    assert services.inference_auto_run_sweep() == 0  # auto-run still off
    settings.INFERENCE_AUTO_RUN = True
    assert services.inference_auto_run_sweep() == 1  # a report and images, never run
    assert services.inference_auto_run_sweep() == 0
    report = study.report
    report_save(
        study=study,
        user=None,
        history=report.history,
        findings=report.findings,
        impression="修改后的诊断意见。",
        base_version=1,
    )
    assert InferenceJob.objects.filter(study=study).count() == 1  # drafts do not re-run
    report_sign(study=study, user=None)
    jobs = InferenceJob.objects.filter(study=study).order_by("created")
    assert [j.report_version.number for j in jobs] == [1, 2]


def test_transient_errors_requeue_for_retry_and_permanent_errors_fail(
    ingest_case, model_version, monkeypatch
):
    from django.db import OperationalError

    from inference import runner

    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)

    def database_hiccup(study):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(runner, "read_model_input", database_hiccup)
    with pytest.raises(runner.TransientJobError):
        inference_job_run(job_id=str(job.id))
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and "Temporary problem" in job.error
    assert job.run_token is None and job.attempts == 1

    def broken_images(study):
        raise runner.ImagingError("the anterior and posterior views differ in size")

    monkeypatch.setattr(runner, "read_model_input", broken_images)
    assert inference_job_run(job_id=str(job.id)) == "failed"  # no retry for bad input
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == 2
    assert job.error.startswith("The study's images cannot be used")
    assert job.dedupe_key is None  # a new request may try again


def test_a_network_that_returns_nan_fails_the_job_and_stores_no_lesion_free_result(
    ingest_case, model_version, monkeypatch
):
    """Before: NaN probabilities became an empty lesion list, stored as a lesion-free study."""
    from inference import runner

    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    real_load = runner.model_load

    def nan_model(version):
        model = real_load(version)
        # the worker's cached model is shared: a copy whose image network returns NaN
        from dataclasses import replace

        broken = replace(model, ort=None)
        broken.network = copy.deepcopy(model.network)
        broken.network.register_forward_hook(lambda module, inputs, out: out * float("nan"))
        return broken

    monkeypatch.setattr(runner, "model_load", nan_model)
    assert inference_job_run(job_id=str(job.id)) == "failed"
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == 1
    assert job.error.startswith("The model returned invalid (not finite) probabilities")
    assert "non-finite probabilities" in job.error_detail
    assert not Lesion.objects.filter(job=job).exists() and ai_instances(study).count() == 0
    assert not job.labelmap_shape and job.dedupe_key is None


def test_retries_exhausted_fail_the_job(ingest_case, model_version):
    from inference.runner import inference_job_give_up

    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    inference_job_give_up(job_id=str(job.id), message="A temporary problem persisted.")
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error == "A temporary problem persisted."


def test_each_lesion_records_where_its_class_came_from(ingest_case, model_version):
    """The shipped planar model gives a lesion the class its report names at the lesion's site
    (the report-site rule); the job stores, and the API says, which lesions that applies to."""
    from boneread_ml.predict import predict
    from inference.selectors import job_result_output

    study = ingest_case(2)  # lesions of both classes, the report names their sites
    job, _ = services.inference_job_create(study=study)
    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    job.refresh_from_db()
    model = model_load(model_version)
    assert model.site_rule is not None
    predicted = predict(read_model_input(study).images, job.report_version.text, model).lesions
    expected = {les["id"]: les["class_source"] for les in predicted}
    stored = dict(Lesion.objects.filter(job=job).values_list("number", "class_source"))
    assert stored == expected and stored
    assert set(stored.values()) <= {"report_site", "image"} and "report_site" in stored.values()
    output = job_result_output(job)
    assert {les["id"]: les["class_source"] for les in output["lesions"]} == expected


def test_a_release_whose_post_processing_changed_after_registration_is_refused(
    ingest_case, tampered_model_dir, db, monkeypatch
):
    """Editing a registered release's postprocess in place would make the same model version
    give other results (and de-duplication return the old ones): the worker refuses it."""
    import json

    from inference import runner

    version, _ = services.model_version_register(path=tampered_model_dir, activate=True)
    config_file = tampered_model_dir / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    post = config.setdefault("postprocess", {})
    post["lesion_threshold"] = 0.995 if post.get("lesion_threshold") != 0.995 else 0.9
    config_file.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setattr(runner, "_MODEL_CACHE", {})  # a worker started after the edit
    job, _ = services.inference_job_create(study=ingest_case(0))
    assert inference_job_run(job_id=str(job.id)) == "failed"
    job.refresh_from_db()
    assert "post-processing settings" in job.error and version.version in job.error
    assert not Lesion.objects.filter(job=job).exists()
    # registered again, it is a new version and runs
    again, created = services.model_version_register(path=tampered_model_dir, activate=True)
    assert created and again.id != version.id and again.checksum == version.checksum
    rerun, _ = services.inference_job_create(study=job.study)
    assert rerun.model_version == again
    assert inference_job_run(job_id=str(rerun.id)) == "succeeded"
    # registering the unchanged release once more is idempotent
    assert services.model_version_register(path=tampered_model_dir) == (again, False)


def test_a_shipped_release_updated_in_place_replaces_the_active_version(
    planar_model_dir, tmp_path, settings, db
):
    """`register_models` after an update of MODEL_DIR/<task> (here a refitted threshold):
    the new version is registered and made active, since the old one's files are gone."""
    import json
    import shutil

    settings.MODEL_DIR = str(tmp_path)
    settings.MODEL_TASKS = ["planar"]
    shutil.copytree(planar_model_dir, tmp_path / "planar")
    [(old, created)] = services.models_register_shipped()
    assert created and old.is_active
    config_file = tmp_path / "planar" / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    post = config.setdefault("postprocess", {})
    post["lesion_threshold"] = 0.995 if post.get("lesion_threshold") != 0.995 else 0.9
    config_file.write_text(json.dumps(config), encoding="utf-8")
    [(new, created)] = services.models_register_shipped()
    old.refresh_from_db()
    new.refresh_from_db()
    assert created and new.id != old.id and new.is_active and not old.is_active
    assert services.models_register_shipped() == [(new, False)]  # idempotent again


def test_a_release_registered_again_after_an_in_place_update_replaces_the_active_version(
    tampered_model_dir, db
):
    """The admin's `register_models PATH` (no --activate) after editing a registered release
    in place: the old active version's files are gone, so the new one becomes active; a
    release at another path does not take over, and --activate/False still decide."""
    import json

    old, _ = services.model_version_register(path=tampered_model_dir)
    assert old.is_active
    config_file = tampered_model_dir / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    post = config.setdefault("postprocess", {})
    post["lesion_threshold"] = 0.995 if post.get("lesion_threshold") != 0.995 else 0.9
    config_file.write_text(json.dumps(config), encoding="utf-8")
    new, created = services.model_version_register(path=tampered_model_dir)
    old.refresh_from_db()
    assert created and new.is_active and not old.is_active
    # explicitly not activated: the edited release is registered, the active one stays
    post["lesion_threshold"] = 0.98
    config_file.write_text(json.dumps(config), encoding="utf-8")
    third, created = services.model_version_register(path=tampered_model_dir, activate=False)
    new.refresh_from_db()
    assert created and not third.is_active and new.is_active
    # another release (another path) registered without --activate: the active one stays
    import shutil

    other = shutil.copytree(tampered_model_dir, tampered_model_dir.parent / "other")
    post["lesion_threshold"] = 0.97
    (other / "config.json").write_text(json.dumps(config), encoding="utf-8")
    fourth, created = services.model_version_register(path=other)
    new.refresh_from_db()
    assert created and not fourth.is_active and new.is_active
