"""Server-side blinding through every route (issue 12, point 6), generated from the URL conf.

A real crossover reader study: phantom cases ingested with their ground-truth SEGs, the AI
precomputed by a real Celery worker with the shipped model and frozen at the start, a later
re-run of the AI on a case (a job that is not the frozen one), another archive study with its
own AI result. One reader reads unaided and one aided in session 1; each has submitted their
first case (with an answer only they may see) and is at their second.

Every route of the URL conf is classified below: either how a reader asks it for a case
(``{study}``, ``{job}``, ``{reading}``... of a target) or why it carries no case data. A route
that is in neither fails ``test_every_route_is_classified``. Each request is made by each reader
for each target (the current case, the submitted case, a case to come, another study), inside a
savepoint that is rolled back, and its answer is checked:

* unaided arm: no AI job, lesion table, label map, AI status, SEG series or instance (QIDO,
  WADO-RS, WADO-URI), no SEG in ModalitiesInStudy or in series/instance counts;
* aided arm: only the frozen job of the current case;
* never ground truth, never the other reader's answers, nothing of a study other than the
  current case (UIDs, patient, accession) and no id of a case to come.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
TARGETS = ("current", "submitted", "later", "other")
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Ask:
    """One request: method, path template, body (query for GET); ``must_answer``: the status a
    reader in that arm must get for the current case (so that the test cannot pass by refusing
    everything)."""

    method: str
    template: str
    body: dict | None = None
    must_answer: dict = field(default_factory=dict)  # arm -> status (current target only)


IMAGE = "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
AI_SEG = "/dicomweb/studies/{study_uid}/series/{seg_series_uid}/instances/{seg_sop_uid}"
GT_SEG = "/dicomweb/studies/{study_uid}/series/{gt_series_uid}/instances/{gt_sop_uid}"
MY = "/api/reader-studies/my-reading/readings/{reading}"
RS = "/api/reader-studies/{rs}"
BOTH_200 = {"unaided": 200, "aided": 200}


def _instance_routes(suffix: str, *, image_ok: bool = True) -> list[Ask]:
    return [
        Ask("get", IMAGE + suffix, must_answer=BOTH_200 if image_ok else {}),
        Ask("get", AI_SEG + suffix, must_answer={"unaided": 404, "aided": 200}),
        Ask("get", GT_SEG + suffix, must_answer={"unaided": 404, "aided": 404}),
    ]


# route name -> requests (templates of a target), or a string: why it carries no case data.
ROUTES: dict[str, list[Ask] | str] = {
    "health": "service health, no archive data",
    "auth-csrf": "CSRF cookie",
    "auth-login": "signs in; no archive data",
    "auth-logout": "signs out",
    "auth-logout-everywhere": "ends the user's sessions",
    "auth-me": "the user's own account",
    "auth-tokens": "the user's own API tokens",
    "auth-token": "the user's own API token",
    "reading-events-clock": "the server's clock",
    "schema": "the OpenAPI schema",
    "api-docs": "the API's documentation page",
    "spa": "the single-page app's shell",
    "model-list": "model versions (no case, job or result)",
    "model-activate": "admins only; no case data",
    "audit-export": "admins only (the audit trail)",
    "study-upload": "ingest (readers may not); answers with what was sent",
    "report-import": "ingest of reports (readers may not)",
    "inference-job-batch": "queues jobs for a list of studies (readers may not)",
    "reading-events": [
        Ask(
            "post",
            "/api/reading-events/",
            {
                "events": [
                    {
                        "id": "{new_uuid}",
                        "view_id": "{new_uuid}",
                        "type": "opened",
                        "sequence": 1,
                        "client_time": "{now}",
                        "study_id": "{study}",
                        "reading_id": "{reading}",
                        "ai_shown": False,
                    }
                ],
                "sent_at": "{now}",
            },
        )
    ],
    "case-view-detail": [Ask("get", "/api/case-views/{view}/")],
    "my-reading": [Ask("get", "/api/reader-studies/my-reading/", must_answer=BOTH_200)],
    "my-reading-detail": [Ask("get", MY + "/", must_answer=BOTH_200)],
    "my-reading-open": [Ask("post", MY + "/open/", {}, must_answer=BOTH_200)],
    "my-reading-answer": [Ask("put", MY + "/answer/", {"comment": "draft"}, must_answer=BOTH_200)],
    "my-reading-submit": [
        Ask(
            "post",
            MY + "/submit/",
            {"metastasis_present": False, "confidence": 40},
            must_answer=BOTH_200,
        )
    ],
    "reader-studies": [Ask("get", "/api/reader-studies/"), Ask("post", "/api/reader-studies/", {})],
    "reader-study-candidate-readers": [Ask("get", "/api/reader-studies/candidate-readers/")],
    "reader-study-candidate-studies": [Ask("get", "/api/reader-studies/candidate-studies/")],
    "reader-study-sample-size": [
        Ask("get", "/api/reader-studies/sample-size/"),
        Ask("post", "/api/reader-studies/sample-size/", {"source": "pilot", "pilot_study": "{rs}"}),
    ],
    "reader-study": [Ask("get", RS + "/"), Ask("patch", RS + "/", {"title": "x"})],
    "reader-study-cases": [Ask("get", RS + "/cases/"), Ask("post", RS + "/cases/", {})],
    "reader-study-case": [Ask("get", RS + "/cases/{case}/"), Ask("delete", RS + "/cases/{case}/")],
    "reader-study-case-truth": [Ask("put", RS + "/cases/{case}/truth/", {})],
    "reader-study-case-truth-from-seg": [Ask("post", RS + "/cases/{case}/truth/from-seg/", {})],
    "reader-study-truth-import": [Ask("post", RS + "/truth/import/", {})],
    "reader-study-readers": [Ask("get", RS + "/readers/"), Ask("post", RS + "/readers/", {})],
    "reader-study-reader": [Ask("delete", RS + "/readers/{other_reader}/")],
    "reader-study-schedule": [Ask("get", RS + "/schedule/")],
    "reader-study-ai": [Ask("get", RS + "/ai/")],
    "reader-study-ai-precompute": [Ask("post", RS + "/ai/precompute/", {})],
    "reader-study-ai-freeze": [Ask("post", RS + "/ai/freeze/", {})],
    "reader-study-start": [Ask("post", RS + "/start/", {})],
    "reader-study-pause": [Ask("post", RS + "/pause/", {"reason": "x"})],
    "reader-study-resume": [Ask("post", RS + "/resume/", {})],
    "reader-study-close": [Ask("post", RS + "/close/", {"reason": "x"})],
    "reader-study-progress": [Ask("get", RS + "/progress/")],
    "reader-study-session-start": [Ask("post", RS + "/sessions/{session}/start/", {})],
    "reader-study-readings": [Ask("get", RS + "/readings/")],
    "reader-study-reading-reopen": [Ask("post", RS + "/readings/{reading}/reopen/", {})],
    "reader-study-reading-answer": [Ask("put", RS + "/readings/{reading}/answer/", {})],
    "reader-study-flags": [Ask("get", RS + "/flags/")],
    "reader-study-results": [Ask("get", RS + "/results/")],
    "reader-study-plot": [Ask("get", RS + "/results/plots/roc.png")],
    "reader-study-report": [Ask("get", RS + "/results/report.pdf")],
    "reader-study-export": [
        Ask("get", RS + "/exports/answers.csv"),
        Ask("get", RS + "/exports/times.csv"),
    ],
    "study-report": [
        Ask("get", "/api/studies/{study}/report"),
        Ask("put", "/api/studies/{study}/report", {}),
    ],  # fmt: skip
    "study-report-sign": [Ask("post", "/api/studies/{study}/report/sign", {})],
    "study-report-addenda": [Ask("post", "/api/studies/{study}/report/addenda", {})],
    "study-report-versions": [Ask("get", "/api/studies/{study}/report/versions")],
    "study-ai": [Ask("get", "/api/studies/{study}/ai", must_answer={"unaided": 404, "aided": 200})],
    "study-inference-jobs": [
        Ask("get", "/api/studies/{study}/inference-jobs"),
        Ask("post", "/api/studies/{study}/inference-jobs", {}),
    ],
    "study-segmentations": [Ask("get", "/api/studies/{study}/segmentations/")],
    "study-segmentation-labelmap": [
        Ask("get", "/api/studies/{study}/segmentations/{seg_series_uid}/labelmap"),
        Ask("get", "/api/studies/{study}/segmentations/{gt_series_uid}/labelmap"),
    ],
    "study-deidentified-export": [Ask("get", "/api/studies/{study}/deidentified-export")],
    "study-list": [
        Ask("get", "/api/studies/", must_answer=BOTH_200),
        Ask("get", "/api/studies/", {"modality": "SEG"}),
        Ask("get", "/api/studies/", {"ai_status": "succeeded"}),
        Ask("get", "/api/studies/", {"ordering": "-ai_status"}),
    ],
    "study-status": [Ask("get", "/api/studies/status", {"ids": "{all_studies}"})],
    "study-detail": [Ask("get", "/api/studies/{study}/", must_answer=BOTH_200)],
    "report-list": [Ask("get", "/api/reports/")],
    "report-export": [Ask("get", "/api/reports/export")],
    "inference-job-create": [Ask("post", "/api/inference/jobs", {"study_id": "{study}"})],
    "inference-job": [
        Ask("get", "/api/inference/jobs/{job}", must_answer={"unaided": 404, "aided": 200}),
        Ask("get", "/api/inference/jobs/{other_job}"),
    ],
    "inference-job-cancel": [Ask("post", "/api/inference/jobs/{job}/cancel", {})],
    "inference-job-labelmap": [
        Ask("get", "/api/inference/jobs/{job}/labelmap"),
        Ask("get", "/api/inference/jobs/{other_job}/labelmap"),
    ],
    "inference-job-result": [
        Ask("get", "/api/inference/jobs/{job}/result"),
        Ask("get", "/api/inference/jobs/{other_job}/result"),
    ],
    "api-not-found": [Ask("get", "/api/studies/{study}/ai/lesions")],
    "wado-uri": [
        Ask(
            "get",
            "/wado",
            {"requestType": "WADO", "objectUID": uid, "contentType": "application/dicom"},
            must_answer=ok,
        )
        for uid, ok in (
            ("{sop_uid}", BOTH_200),
            ("{seg_sop_uid}", {"unaided": 404, "aided": 200}),
            ("{gt_sop_uid}", {"unaided": 404, "aided": 404}),
        )
    ],
    "dicomweb-studies": [
        Ask("get", "/dicomweb/studies", must_answer=BOTH_200),
        Ask("get", "/dicomweb/studies", {"ModalitiesInStudy": "SEG"}),
        Ask("get", "/dicomweb/studies", {"StudyInstanceUID": "{study_uid}"}),
        Ask("post", "/dicomweb/studies", {}),  # STOW-RS: readers may not store
    ],
    "dicomweb-all-series": [
        Ask("get", "/dicomweb/series"),
        Ask("get", "/dicomweb/series", {"Modality": "SEG"}),
        Ask("get", "/dicomweb/series", {"00080061": "SEG"}),
    ],
    "dicomweb-all-instances": [
        Ask("get", "/dicomweb/instances"),
        Ask("get", "/dicomweb/instances", {"SOPClassUID": SEG_CLASS}),
    ],
    "dicomweb-study": [
        Ask("get", "/dicomweb/studies/{study_uid}", must_answer=BOTH_200),
        Ask("post", "/dicomweb/studies/{study_uid}", {}),
    ],
    "dicomweb-study-metadata": [Ask("get", "/dicomweb/studies/{study_uid}/metadata")],
    "dicomweb-study-series": [
        Ask("get", "/dicomweb/studies/{study_uid}/series", must_answer=BOTH_200),
        Ask("get", "/dicomweb/studies/{study_uid}/series", {"Modality": "SEG"}),
    ],
    "dicomweb-study-instances": [
        Ask("get", "/dicomweb/studies/{study_uid}/instances", must_answer=BOTH_200),
        Ask("get", "/dicomweb/studies/{study_uid}/instances", {"includefield": "all"}),
    ],
    "dicomweb-series": [
        Ask("get", "/dicomweb/studies/{study_uid}/series/{series_uid}", must_answer=BOTH_200),
        Ask("get", "/dicomweb/studies/{study_uid}/series/{seg_series_uid}"),
        Ask("get", "/dicomweb/studies/{study_uid}/series/{gt_series_uid}"),
    ],
    "dicomweb-series-metadata": [
        Ask("get", "/dicomweb/studies/{study_uid}/series/" + s + "/metadata")
        for s in ("{series_uid}", "{seg_series_uid}", "{gt_series_uid}")
    ],
    "dicomweb-series-instances": [
        Ask("get", "/dicomweb/studies/{study_uid}/series/" + s + "/instances")
        for s in ("{series_uid}", "{seg_series_uid}", "{gt_series_uid}")
    ],
    "dicomweb-instance": _instance_routes(""),
    "dicomweb-metadata": _instance_routes("/metadata"),
    "dicomweb-frames": _instance_routes("/frames/1"),
    "dicomweb-bulk": _instance_routes("/bulkdata/7FE00010", image_ok=False),
    "dicomweb-rendered": _instance_routes("/rendered", image_ok=False),
    "dicomweb-frame-rendered": _instance_routes("/frames/1/rendered", image_ok=False),
}


def _routes(urlconf=None):
    """(name, route, methods) of every URL pattern outside Django admin."""

    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver(urlconf)):
        if route.startswith("admin/"):
            continue
        view = getattr(pattern.callback, "view_class", None) or getattr(
            pattern.callback, "cls", None
        )
        methods = {m for m in METHODS if hasattr(view, m)} if view is not None else {"get"}
        name = pattern.name or ("api-not-found" if route.startswith("api/") else route)
        yield name, route, methods


def _unclassified(urlconf=None) -> list[str]:
    missing = []
    for name, route, methods in _routes(urlconf):
        spec = ROUTES.get(name)
        if spec is None:
            missing.append(f"{route} ({name})")
        elif not isinstance(spec, str):
            asked = {ask.method for ask in spec}
            # every method that can answer with data is asked (api-not-found: any method)
            if name != "api-not-found" and not methods <= asked:
                missing.append(f"{route} ({name}): {sorted(methods - asked)} not asked")
    return missing


def test_every_route_is_classified():
    missing = _unclassified()
    assert not missing, "routes the blinding test does not know:\n" + "\n".join(missing)
    names = {name for name, _, _ in _routes()}
    assert set(ROUTES) <= names, set(ROUTES) - names


def test_a_new_route_is_reported(monkeypatch):
    import sys
    import types

    from django.urls import path
    from rest_framework.views import APIView

    from config import urls as project_urls

    class NewApi(APIView):
        def get(self, request): ...

    extended = types.ModuleType("blinding_test_urls")
    extended.urlpatterns = [
        path("api/studies/<str:study_id>/thumbnails", NewApi.as_view(), name="thumbs"),
        *project_urls.urlpatterns,
    ]
    monkeypatch.setitem(sys.modules, "blinding_test_urls", extended)
    assert _unclassified("blinding_test_urls") == ["api/studies/<str:study_id>/thumbnails (thumbs)"]


# --- the world --------------------------------------------------------------------------------


def _uids_of(study):
    from studies.models import Instance

    image = Instance.objects.filter(series__study=study).exclude(sop_class_uid=SEG_CLASS).first()
    return image.series.series_instance_uid, image.sop_instance_uid


@pytest.fixture(scope="session")
def four_phantoms(tmp_path_factory) -> dict:
    """Four planar phantom cases (three reader-study cases and another study)."""
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("blinding-phantom")
    generate("planar", 4, 23, str(root))
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    return {"root": root, "cases": manifest["cases"]}


def _ingest(phantoms, index: int):
    """Phantom case ``index``: its images, its ground-truth SEGs and its report."""
    from reports.services import report_save
    from studies.models import IngestSource, Study
    from studies.services import instance_ingest

    case = phantoms["cases"][index]
    folder = phantoms["root"] / case["dicom_dir"]
    for name in ("NM_WB.dcm", "SEG_ANT.dcm", "SEG_POST.dcm"):
        result = instance_ingest(file=(folder / name).read_bytes(), source=IngestSource.DEMO)
        assert result.ok, result.reason
    study = Study.objects.get(study_instance_uid=case["study"]["study_instance_uid"])
    report = case["report"]
    report_save(study=study, user=None, history=report["history"], findings=report["findings"],
                impression=report["impression"], base_version=None)  # fmt: skip
    return study


@pytest.fixture
def world(start_worker, four_phantoms, shipped_model, study_admin, readers, rs):
    """The crossover study described in the module docstring (real worker, shipped model)."""
    from inference.models import InferenceJob, JobState
    from inference.services import inference_job_create
    from readerstudies.models import Arm, CaseReading, ReaderStudyCase
    from readerstudies.services.ai import reader_study_ai_precompute
    from readerstudies.services.design import (
        reader_study_cases_add,
        reader_study_create,
        reader_study_reader_add,
        reader_study_start,
    )
    from readerstudies.services.reading import next_reading, reading_open, reading_submit
    from readerstudies.services.truth import case_truth_from_seg
    from studies.models import Instance

    worker = start_worker(extra_env={"INFERENCE_TORCH_THREADS": "1"})
    studies = [_ingest(four_phantoms, i) for i in range(4)]
    cases, other = studies[:3], studies[3]
    reader_study = reader_study_create(
        user=study_admin, title="blinding", design="crossover", seed=7
    )
    reader_study_cases_add(
        reader_study=reader_study, user=study_admin, study_ids=[s.id for s in cases]
    )
    for case in ReaderStudyCase.objects.filter(reader_study=reader_study):
        case_truth_from_seg(case=case, user=study_admin)
    for reader in readers[:2]:
        reader_study_reader_add(reader_study=reader_study, user=study_admin, reader=reader)
    # the precompute's jobs, and an AI result of the other study (a physician's run)
    job_ids = [j["job_id"] for j in reader_study_ai_precompute(
        reader_study=reader_study, user=study_admin)["jobs"]]  # fmt: skip
    job_ids.append(str(inference_job_create(study=other)[0].id))

    def all_done(ids):
        done = InferenceJob.objects.filter(id__in=ids, state=JobState.SUCCEEDED).count()
        return done == len(ids)

    worker.wait_for(lambda: all_done(job_ids), timeout=900, what="the precomputed jobs")
    reader_study_start(reader_study=reader_study, user=study_admin)

    by_arm = {rs.session_of(reader_study, r).arm: r for r in readers[:2]}
    secrets = {}
    for arm, reader in by_arm.items():
        first = next_reading(rs.session_of(reader_study, reader))
        reading_open(reading=first, user=reader)
        secrets[arm] = f"only-{arm}-knows-{uuid.uuid4().hex[:8]}"
        reading_submit(
            reading=first,
            user=reader,
            data={"metastasis_present": True, "confidence": 77, "comment": secrets[arm]},
        )
        reading_open(reading=next_reading(rs.session_of(reader_study, reader)), user=reader)
    # After the start, a re-run of the AI on the readers' current cases (a new job, conditioned
    # on the full report: never the frozen one).
    current = {next_reading(rs.session_of(reader_study, r)).case.study for r in by_arm.values()}
    rerun_ids = [
        str(inference_job_create(study=s, rerun=True, trigger="api")[0].id) for s in current
    ]
    worker.wait_for(lambda: all_done(rerun_ids), timeout=900, what="the re-runs")

    frozen = {
        c.study_id: c.frozen_ai.job
        for c in ReaderStudyCase.objects.filter(reader_study=reader_study).select_related(
            "frozen_ai__job"
        )
    }
    other_job = InferenceJob.objects.get(id=job_ids[-1])
    jobs_by_study = {s.id: list(InferenceJob.objects.filter(study=s)) for s in studies}
    seg = {}  # study id -> (ai seg series, ai seg sop, gt seg series, gt seg sop)
    gt_uids: set[str] = set()
    for study in studies:
        job = frozen.get(study.id, other_job)
        ai_instance = job.seg_instances.first()
        job_instances = Instance.objects.filter(
            id__in=[i.id for j in jobs_by_study[study.id] for i in j.seg_instances.all()]
        )
        gts = list(
            Instance.objects.filter(series__study=study, sop_class_uid=SEG_CLASS)
            .exclude(id__in=job_instances)
            .select_related("series")
        )
        assert gts, "the phantom's ground-truth SEG was ingested"
        for instance in gts:
            gt_uids |= {instance.sop_instance_uid, instance.series.series_instance_uid}
        gt = gts[0]
        seg[study.id] = (
            ai_instance.series.series_instance_uid,
            ai_instance.sop_instance_uid,
            gt.series.series_instance_uid,
            gt.sop_instance_uid,
        )
    return SimpleNamespace(
        reader_study=reader_study,
        studies=studies,
        other=other,
        by_arm=by_arm,
        secrets=secrets,
        frozen=frozen,
        other_job=other_job,
        jobs_by_study=jobs_by_study,
        seg=seg,
        gt_uids=gt_uids,
        readings={
            arm: list(
                CaseReading.objects.filter(session__assignment__reader=reader)
                .select_related("session", "case")
                .order_by("session__number", "position")
            )
            for arm, reader in by_arm.items()
        },
        arms=Arm,
    )


def _targets(world, arm):
    """target name -> (study, reading or None) for the reader of ``arm``."""
    from readerstudies.models import ReadingState

    session1 = [r for r in world.readings[arm] if r.session.number == 1]
    session1 = [type(r).objects.select_related("case").get(pk=r.pk) for r in session1]
    submitted = next(r for r in session1 if r.state == ReadingState.SUBMITTED)
    current = next(r for r in session1 if r.state == ReadingState.OPEN)
    later = next(r for r in session1 if r.state == ReadingState.PENDING)
    return {
        "current": (current.case.study, current),
        "submitted": (submitted.case.study, submitted),
        "later": (later.case.study, later),
        "other": (world.other, None),
    }


# --- the checks -------------------------------------------------------------------------------


def _walk(value, path=""):
    """(key path, key, value) of every entry of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key, item
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


AI_KEYS = {"ai_status", "ai_job_id", "ai_result_job_id", "ai_progress", "latest_job", "result",
           "labelmap", "labelmap_url", "lesion_counts", "probability", "ai"}  # fmt: skip


def _forbidden(world, arm, current_study) -> list[tuple[str, str]]:
    """(text, what it is) that no answer to the reader of ``arm`` may contain."""
    out = []
    allowed_job = world.frozen[current_study.id] if arm == "aided" else None
    other_arm = "aided" if arm == "unaided" else "unaided"
    # AI jobs and their SEGs: only the frozen job of the current case, in the aided arm
    for study_id, jobs in world.jobs_by_study.items():
        for job in jobs:
            if allowed_job is not None and job.id == allowed_job.id:
                continue
            out.append((str(job.id), f"AI job {job.id} (study {study_id})"))
            for instance in job.seg_instances.select_related("series"):
                out.append((instance.sop_instance_uid, "an AI SEG instance"))
                out.append((instance.series.series_instance_uid, "an AI SEG series"))
    # ground truth: every SEG that is no job's, never
    for uid in world.gt_uids:
        out.append((uid, "a ground-truth SEG"))
    out.append((world.secrets[other_arm], "the other reader's answer"))
    # nothing of another study: UIDs, patient, accession
    for study in world.studies:
        if study.id == current_study.id:
            continue
        markers = [study.study_instance_uid, study.patient.patient_id, study.accession_number]
        out += [(m, f"study {study.id}") for m in markers if m and m not in _markers(current_study)]
    return out


def _leaks(
    world, arm, current_study, forbidden, body: bytes, content_type: str, asked: str
) -> list[str]:
    """What this answer shows that the reader of ``arm`` at ``current_study`` may not see. An
    identifier the request itself named, repeated by a refusal (``asked``: the request, for
    4xx answers only), is not a leak."""
    text = body.decode("latin-1")
    leaks = [
        f"{what}: {marker}" for marker, what in forbidden if marker in text and marker not in asked
    ]
    if content_type.startswith(("application/json", "application/dicom+json")) and body:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        leaks += _json_leaks(world, arm, current_study, document)
    return leaks


def _markers(study) -> set[str]:
    return {study.study_instance_uid, study.patient.patient_id, study.accession_number}


def _json_leaks(world, arm, current_study, document) -> list[str]:
    leaks = []
    shown_series = world.shown_series[arm]  # the images (+ the frozen SEG in the aided arm)
    for path, key, value in _walk(document):
        if key == "truth" or key == "ground_truth":
            leaks.append(f"{path}: ground truth")
        if arm == "unaided" and key in AI_KEYS and value not in (None, [], {}, "", 0):
            leaks.append(f"{path}: AI output {str(value)[:60]}")
        if key == "00080061" and arm == "unaided" and "SEG" in value.get("Value", []):
            leaks.append(f"{path}: SEG in ModalitiesInStudy")
        if key == "00080060" and arm == "unaided" and value.get("Value") == ["SEG"]:
            leaks.append(f"{path}: a SEG series")
        if key == "00080016" and arm == "unaided" and value.get("Value") == [SEG_CLASS]:
            leaks.append(f"{path}: a SEG instance")
        if key == "00201206" and value.get("Value") != [shown_series]:
            leaks.append(f"{path}: NumberOfStudyRelatedSeries {value} != {shown_series}")
        if key == "number_of_series" and value != shown_series:
            leaks.append(f"{path}: number_of_series {value} != {shown_series}")
    return leaks


def _fill(template, world, targets, arm, target):
    from django.utils import timezone

    study, reading = targets[target]
    series_uid, sop_uid = _uids_of(study)
    ai_series, ai_sop, gt_series, gt_sop = world.seg[study.id]
    job = world.frozen.get(study.id, world.other_job)
    others = [j for j in world.jobs_by_study[study.id] if j.id != job.id]
    view = reading.case_views.first() if reading is not None else None
    values = {
        "study": study.id,
        "study_uid": study.study_instance_uid,
        "series_uid": series_uid,
        "sop_uid": sop_uid,
        "seg_series_uid": ai_series,
        "seg_sop_uid": ai_sop,
        "gt_series_uid": gt_series,
        "gt_sop_uid": gt_sop,
        "job": job.id,
        "other_job": (others[0] if others else job).id,
        "reading": reading.id if reading is not None else uuid.UUID(int=5),
        "session": reading.session_id if reading is not None else uuid.UUID(int=6),
        "case": reading.case_id if reading is not None else uuid.UUID(int=7),
        "view": view.client_view_id if view is not None else uuid.UUID(int=8),
        "rs": world.reader_study.id,
        "other_reader": world.by_arm["aided" if arm == "unaided" else "unaided"].pk,
        "all_studies": ",".join(str(s.id) for s in world.studies),
        "new_uuid": uuid.uuid4(),
        "now": timezone.now().isoformat(),
    }

    def fill(value):
        if isinstance(value, str):
            return value.format(**values)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(template)


def _ask(client, ask: Ask, path: str, body):
    if ask.method == "get":
        return client.get(path, body or {})
    return getattr(client, ask.method)(path, body, format="json")


@pytest.mark.services
@pytest.mark.slow
def test_no_route_shows_a_reader_what_their_arm_hides(world, rs):
    from studies.models import Series

    targets = {arm: _targets(world, arm) for arm in world.by_arm}
    current_of = {arm: targets[arm]["current"][0] for arm in world.by_arm}
    forbidden = {arm: _forbidden(world, arm, current_of[arm]) for arm in world.by_arm}
    world.shown_series = {}
    for arm, study in current_of.items():
        images = Series.objects.filter(study=study).exclude(modality="SEG").count()
        frozen_segs = {i.series_id for i in world.frozen[study.id].seg_instances.all()}
        world.shown_series[arm] = images + (len(frozen_segs) if arm == "aided" else 0)
    problems, asked = [], 0
    for name, spec in ROUTES.items():
        if isinstance(spec, str):
            continue
        for ask in spec:
            for arm, reader in world.by_arm.items():
                client = rs.client_for(reader)
                for target in TARGETS:
                    path = _fill(ask.template, world, targets[arm], arm, target)
                    body = _fill(ask.body, world, targets[arm], arm, target)
                    with transaction.atomic():
                        response = _ask(client, ask, path, body)
                        content = (
                            b"".join(response.streaming_content)
                            if response.streaming
                            else response.content
                        )
                        transaction.set_rollback(True)
                    asked += 1
                    where = (
                        f"[{name}] {arm} reader, {target}: {ask.method.upper()} {path} {body or ''}"
                    )
                    want = ask.must_answer.get(arm) if target == "current" else None
                    if want is not None and response.status_code != want:
                        problems.append(
                            f"{where} -> {response.status_code}, expected {want}: {content[:200]!r}"
                        )
                    leaks = _leaks(
                        world,
                        arm,
                        current_of[arm],
                        forbidden[arm],
                        content,
                        response.get("Content-Type", ""),
                        asked=(
                            f"{path} {json.dumps(body, default=str)}"
                            if response.status_code >= 400
                            else ""
                        ),
                    )
                    problems += [f"{where} -> {response.status_code}: {leak}" for leak in leaks]
    assert asked > 400
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:300])
