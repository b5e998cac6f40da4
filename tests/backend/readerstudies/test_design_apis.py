"""Study design through the API: creation, cases, truth, readers, schedule, start, states, and
every refusal with a 4xx that names the problem (nothing half-written)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from readerstudies.models import (
    CaseReading,
    ReaderAssignment,
    ReaderSession,
    ReaderStudy,
    ReaderStudyCase,
    StudyStateChange,
    TruthLesion,
)

pytestmark = pytest.mark.django_db
BASE = "/api/reader-studies/"


def test_create_add_cases_truth_readers_preview_and_start(
    admin_api, readers, make_archive_study, make_succeeded_job
):
    created = admin_api.post(BASE, {"title": "MT-UNet vs unaided", "seed": 42}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["design"] == "crossover" and body["washout_days"] == 28
    assert body["ai_text_source"] == "history" and body["max_case_seconds"] == 7200
    rs = f"{BASE}{body['id']}/"
    studies = [make_archive_study() for _ in range(3)]
    cases = admin_api.post(
        f"{rs}cases/", {"study_ids": [str(s.id) for s in studies]}, format="json"
    )
    assert cases.status_code == 201, cases.content
    for case in cases.json():
        truth = admin_api.put(
            f"{rs}cases/{case['id']}/truth/",
            {"metastasis_present": True, "lesions": [
                {"label": "metastatic",
                 "location": {"kind": "planar", "view": "posterior", "x": 12.5, "y": 300}}]},
            format="json",
        )  # fmt: skip
        assert truth.status_code == 200, truth.content
        assert truth.json()["truth"]["lesions"][0]["location"]["view"] == "posterior"
    for reader in readers[:2]:
        assert admin_api.post(f"{rs}readers/", {"username": reader.username}).status_code == 201
    preview = admin_api.get(f"{rs}schedule/").json()
    assert preview["frozen"] is False
    assert sorted(s["sessions"][0]["arm"] for s in preview["readers"]) == ["aided", "unaided"]
    for case in ReaderStudyCase.objects.filter(reader_study_id=body["id"]).select_related("study"):
        case.ai_job = make_succeeded_job(case.study)
        case.save()
    started = admin_api.post(f"{rs}start/")
    assert started.status_code == 200, started.content
    assert started.json()["state"] == "open"
    frozen = admin_api.get(f"{rs}schedule/").json()
    assert frozen["frozen"] is True
    # What was shown before the start is what was frozen.
    assert frozen["readers"] == preview["readers"]
    assert CaseReading.objects.filter(session__assignment__reader_study_id=body["id"]).count() == 12
    history = started.json()["state_history"]
    assert history[-1]["from_state"] == "draft" and history[-1]["to_state"] == "open"
    assert history[-1]["by"]["username"] == "sadmin"


def test_start_refuses_a_case_without_ground_truth(admin_api, build_study):
    reader_study = build_study(stage="frozen", truth=False)
    response = admin_api.post(f"{BASE}{reader_study.id}/start/")
    assert response.status_code == 400
    body = response.json()
    assert body["extra"]["code"] == "missing_truth"
    assert "has no ground truth" in body["message"]
    assert {p["code"] for p in body["extra"]["problems"]} == {"missing_truth"}
    reader_study.refresh_from_db()
    assert reader_study.state == "draft"
    assert not ReaderSession.objects.filter(assignment__reader_study=reader_study).exists()


def test_start_refuses_without_frozen_ai_for_every_case(admin_api, build_study):
    reader_study = build_study(stage="draft")
    response = admin_api.post(f"{BASE}{reader_study.id}/start/")
    assert response.status_code == 400
    assert response.json()["extra"]["code"] == "missing_frozen_ai"
    assert "no frozen AI result" in response.json()["message"]
    assert ReaderStudy.objects.get(id=reader_study.id).state == "draft"


def test_start_twice_is_a_conflict(admin_api, build_study):
    reader_study = build_study()
    response = admin_api.post(f"{BASE}{reader_study.id}/start/")
    assert response.status_code == 409
    assert response.json()["extra"]["code"] == "not_draft"


def test_a_reader_assigned_twice_is_refused(admin_api, build_study, readers):
    reader_study = build_study(stage="draft")
    response = admin_api.post(
        f"{BASE}{reader_study.id}/readers/", {"user_id": readers[0].id}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["extra"]["code"] == "duplicate_reader"
    assert readers[0].username in response.json()["message"]
    assert ReaderAssignment.objects.filter(reader_study=reader_study).count() == 2


def test_only_reader_role_users_can_be_readers(rs, admin_api, build_study):
    reader_study = build_study(stage="draft")
    physician = rs.make_user("physician")
    response = admin_api.post(f"{BASE}{reader_study.id}/readers/", {"user_id": physician.id})
    assert response.status_code == 400
    assert response.json()["extra"]["code"] == "not_a_reader"


@pytest.mark.parametrize(
    ("field", "value"),
    [("design", "parallel"), ("washout_days", 7), ("ai_text_source", "report"),
     ("max_case_seconds", 600), ("seed", 99)],
)  # fmt: skip
def test_design_settings_are_locked_after_the_start(admin_api, build_study, field, value):
    reader_study = build_study()
    response = admin_api.patch(f"{BASE}{reader_study.id}/", {field: value}, format="json")
    assert response.status_code == 409
    assert response.json()["extra"]["code"] == "design_locked"
    assert field in response.json()["message"]
    reader_study.refresh_from_db()
    assert getattr(reader_study, field) != value
    # The title may still change.
    ok = admin_api.patch(f"{BASE}{reader_study.id}/", {"title": "Renamed"}, format="json")
    assert ok.status_code == 200 and ok.json()["title"] == "Renamed"


def test_cases_and_readers_are_locked_after_the_start(
    rs, admin_api, build_study, make_archive_study
):
    reader_study = build_study()
    extra = make_archive_study()
    response = admin_api.post(
        f"{BASE}{reader_study.id}/cases/", {"study_ids": [str(extra.id)]}, format="json"
    )
    assert response.status_code == 409 and response.json()["extra"]["code"] == "design_locked"
    reader = rs.make_user("reader")
    response = admin_api.post(f"{BASE}{reader_study.id}/readers/", {"user_id": reader.id})
    assert response.status_code == 409


def test_unknown_and_duplicate_cases_are_refused(admin_api, build_study):
    reader_study = build_study(stage="draft")
    case = ReaderStudyCase.objects.filter(reader_study=reader_study).first()
    dup = admin_api.post(
        f"{BASE}{reader_study.id}/cases/", {"study_ids": [str(case.study_id)]}, format="json"
    )
    assert dup.status_code == 400 and dup.json()["extra"]["code"] == "duplicate_case"
    unknown = "00000000-0000-4000-8000-000000000000"
    response = admin_api.post(
        f"{BASE}{reader_study.id}/cases/", {"study_ids": [unknown]}, format="json"
    )
    assert response.status_code == 400
    assert unknown in response.json()["message"]


def test_bad_truth_location_names_the_field(admin_api, build_study):
    reader_study = build_study(stage="draft")
    case = ReaderStudyCase.objects.filter(reader_study=reader_study).first()
    response = admin_api.put(
        f"{BASE}{reader_study.id}/cases/{case.id}/truth/",
        {"metastasis_present": True,
         "lesions": [{"label": "metastatic", "location": {"kind": "planar", "x": 1, "y": 2}}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "location.view" in response.json()["message"]


def test_states_pause_resume_close_are_recorded_and_checked(admin_api, build_study):
    reader_study = build_study()
    rs = f"{BASE}{reader_study.id}/"
    assert admin_api.post(f"{rs}resume/").status_code == 409
    assert admin_api.post(f"{rs}pause/", {"reason": "scanner down"}).json()["state"] == "paused"
    assert admin_api.post(f"{rs}resume/").json()["state"] == "open"
    closed = admin_api.post(f"{rs}close/", {"reason": "done"})
    assert closed.json()["state"] == "closed"
    changes = list(StudyStateChange.objects.filter(reader_study=reader_study))
    assert [(c.from_state, c.to_state) for c in changes] == [
        ("draft", "open"), ("open", "paused"), ("paused", "open"), ("open", "closed")]  # fmt: skip
    assert changes[1].reason == "scanner down" and changes[1].by.username == "sadmin"
    assert admin_api.post(f"{rs}pause/").status_code == 409


def test_other_study_admins_and_readers_cannot_manage(rs, build_study, readers):
    reader_study = build_study(stage="draft")
    stranger = rs.client_for(rs.make_user("study_admin", "other_sadmin"))
    assert stranger.get(f"{BASE}{reader_study.id}/").status_code == 404
    assert stranger.get(BASE).json() == []
    reader = rs.client_for(readers[0])
    assert reader.get(f"{BASE}{reader_study.id}/").status_code == 403
    assert reader.post(BASE, {"title": "x"}).status_code == 403
    admin = rs.client_for(rs.make_user("admin"))
    assert admin.get(f"{BASE}{reader_study.id}/").status_code == 200


# --- washout ----------------------------------------------------------------------------------


def test_washout_blocks_session_two_until_it_ends(rs, build_study, readers):
    reader_study = build_study(washout_days=28)
    reader = readers[0]
    rs.finish_session(rs.session_of(reader_study, reader, 1), ago=timedelta(days=27))
    api = rs.client_for(reader)
    mine = api.get(f"{BASE}my-reading/").json()["studies"][0]
    assert mine["session"]["number"] == 2 and mine["session"]["state"] == "washout"
    assert mine["next_reading"] is None
    first = CaseReading.objects.filter(session=rs.session_of(reader_study, reader, 2)).order_by(
        "position"
    )[0]
    response = api.post(f"{BASE}my-reading/readings/{first.id}/open/")
    assert response.status_code == 409
    assert response.json()["extra"]["code"] == "washout"
    assert "washout of 28 days" in response.json()["message"]
    session = rs.session_of(reader_study, reader, 2)
    assert session.started_at is None

    # One day later the washout is over: the reader may start.
    session_one = rs.session_of(reader_study, reader, 1)
    session_one.completed_at = timezone.now() - timedelta(days=28, minutes=1)
    session_one.save()
    assert api.post(f"{BASE}my-reading/readings/{first.id}/open/").status_code == 200


def test_an_admin_override_of_the_washout_needs_and_records_a_reason(
    rs, admin_api, build_study, readers
):
    reader_study = build_study(washout_days=28)
    reader = readers[1]
    rs.finish_session(rs.session_of(reader_study, reader, 1), ago=timedelta(days=3))
    session = rs.session_of(reader_study, reader, 2)
    url = f"{BASE}{reader_study.id}/sessions/{session.id}/start/"
    refused = admin_api.post(url, {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["extra"]["code"] == "washout"
    assert "override_reason" in refused.json()["message"]
    session.refresh_from_db()
    assert session.started_at is None

    ok = admin_api.post(url, {"override_reason": "reader leaves the hospital"}, format="json")
    assert ok.status_code == 200, ok.content
    session.refresh_from_db()
    assert session.started_at is not None
    assert session.washout_override_reason == "reader leaves the hospital"
    assert session.washout_override_by.username == "sadmin"
    progress = admin_api.get(f"{BASE}{reader_study.id}/progress/").json()
    row = next(r for r in progress["readers"] if r["user"]["id"] == reader.id)
    assert row["sessions"][1]["washout_override"]["reason"] == "reader leaves the hospital"
    assert row["sessions"][0]["cases_done"] == 4
    # Every reader-study change is in the audit trail, the override with its reason.
    from audit.models import AuditEvent

    override = AuditEvent.objects.get(action="reader_study.washout_override")
    assert override.actor.username == "sadmin" and override.object_id == str(session.id)
    assert override.details["reason"] == "reader leaves the hospital"
    assert AuditEvent.objects.filter(action="reader_study.reading_submit").count() == 4
    assert AuditEvent.objects.filter(action="reader_study.state:open").count() == 1


# --- CSV import ---------------------------------------------------------------------------------


def _csv(admin_api, reader_study, text):
    return admin_api.generic(
        "POST", f"{BASE}{reader_study.id}/truth/import/", text.encode(), content_type="text/csv"
    )


def test_csv_import_sets_truth_and_lesions(admin_api, build_study):
    reader_study = build_study(stage="draft", truth=False)
    cases = list(ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study"))
    a, b = cases[0].study.study_instance_uid, cases[1].study.study_instance_uid
    text = (
        "study_instance_uid,metastasis_present,lesion_label,view,x,y,z\n"
        f"{a},yes,metastatic,anterior,10,20,\n"
        f"{a},yes,benign,posterior,30,40,\n"
        f"{b},no,,,,,\n"
    )
    response = _csv(admin_api, reader_study, text)
    assert response.status_code == 200, response.content
    assert response.json() == {"cases_updated": 2, "lesions": 2}
    cases[0].refresh_from_db()
    assert cases[0].truth_metastasis is True and cases[0].truth_source == "csv"
    assert TruthLesion.objects.filter(case=cases[0]).count() == 2


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("1.2.3.999,yes,metastatic,anterior,1,2", "study_instance_uid", "no archive study"),
        ("{uid},maybe,,,,", "metastasis_present", "'maybe'"),
        ("{uid},yes,tumour,anterior,1,2", "lesion_label", "'tumour'"),
        ("{uid},yes,metastatic,lateral,1,2", "view", "'lateral'"),
        ("{uid},yes,metastatic,anterior,-1,2", "x", "'-1'"),
        ("{uid},no,metastatic,anterior,1,2", "lesion_label", "without metastasis"),
    ],
)
def test_csv_errors_name_the_row_and_column_and_import_nothing(
    admin_api, build_study, row, column, fragment
):
    reader_study = build_study(stage="draft", truth=False)
    case, other = ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study")[
        :2
    ]
    good = f"{other.study.study_instance_uid},yes,,,,"
    text = "study_instance_uid,metastasis_present,lesion_label,view,x,y\n" + good + "\n"
    text += row.format(uid=case.study.study_instance_uid) + "\n"
    response = _csv(admin_api, reader_study, text)
    assert response.status_code == 400
    body = response.json()
    assert body["extra"]["code"] == "csv_invalid"
    error = body["extra"]["errors"][0]
    assert (error["row"], error["column"]) == (3, column)
    assert fragment in error["message"]
    assert f"row 3, column {column}" in body["message"]
    other.refresh_from_db()
    assert other.truth_metastasis is None  # the good row was not imported either


def test_csv_with_a_study_outside_the_reader_study(admin_api, build_study, make_archive_study):
    reader_study = build_study(stage="draft", truth=False)
    outsider = make_archive_study()
    response = _csv(
        admin_api,
        reader_study,
        f"accession_number,metastasis_present\n{outsider.accession_number},no\n",
    )
    assert response.status_code == 400
    assert "not a case of this reader study" in response.json()["message"]


def test_csv_without_the_needed_columns(admin_api, build_study):
    reader_study = build_study(stage="draft", truth=False)
    response = _csv(admin_api, reader_study, "uid,answer\n1,yes\n")
    assert response.status_code == 400
    assert response.json()["extra"]["errors"][0]["row"] == 1


def test_csv_import_as_a_multipart_upload(admin_api, build_study):
    from django.core.files.uploadedfile import SimpleUploadedFile

    reader_study = build_study(stage="draft", truth=False)
    case = ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study")[0]
    upload = SimpleUploadedFile(
        "truth.csv",
        f"accession_number,metastasis_present\n{case.study.accession_number},是\n".encode(),
    )
    response = admin_api.post(f"{BASE}{reader_study.id}/truth/import/", {"file": upload})
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert case.truth_metastasis is True
    missing = admin_api.post(f"{BASE}{reader_study.id}/truth/import/", {"other": "x"})
    assert missing.status_code == 400 and "file" in missing.json()["message"]


def test_paths_work_with_and_without_the_trailing_slash(admin_api, build_study):
    reader_study = build_study(stage="draft")
    assert admin_api.get(f"{BASE}{reader_study.id}/schedule").status_code == 200
    assert admin_api.get(f"{BASE}{reader_study.id}/schedule/").status_code == 200
    assert admin_api.get(f"{BASE}{reader_study.id}/readers/99999").status_code in (404, 405)
