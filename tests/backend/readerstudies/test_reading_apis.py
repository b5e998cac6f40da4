"""A reader's "My reading": next case only, autosave, submit locks, the admin's reopen and
correction keep the previous answer, a paused study stops reading; nothing leaks."""

import pytest

from readerstudies.models import AnswerRevision, CaseReading

pytestmark = pytest.mark.django_db
MY = "/api/reader-studies/my-reading/"
ANSWER = {"metastasis_present": True, "confidence": 80, "comment": "左侧第5肋",
          "lesions": [{"label": "metastatic", "shape": "point",
                       "location": {"kind": "planar", "view": "anterior", "x": 100, "y": 240}}]}  # fmt: skip


def _setup(build_study, readers, rs):
    reader_study = build_study()
    reader = readers[0]
    return reader_study, reader, rs.client_for(reader), rs.session_of(reader_study, reader, 1)


def test_my_reading_shows_the_current_session_and_next_case_only(build_study, readers, rs):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    body = api.get(MY)
    assert body.status_code == 200
    entry = body.json()["studies"][0]
    assert entry["reader_study"]["id"] == str(reader_study.id)
    assert entry["session"]["number"] == 1 and entry["session"]["arm"] == session.arm
    assert entry["session"]["cases_total"] == 4 and entry["session"]["cases_done"] == 0
    first = CaseReading.objects.get(session=session, position=1)
    assert entry["next_reading"]["id"] == str(first.id)
    text = body.content.decode()
    assert "truth" not in text and "metastasis_present" not in text and "seed" not in text


def test_only_the_next_case_opens_and_a_reading_is_never_anothers(build_study, readers, rs):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    second = CaseReading.objects.get(session=session, position=2)
    response = api.post(f"{MY}readings/{second.id}/open/")
    assert response.status_code == 409 and response.json()["extra"]["code"] == "not_next_case"
    others = CaseReading.objects.filter(session__assignment__reader=readers[1]).first()
    assert api.get(f"{MY}readings/{others.id}/").status_code == 404
    assert api.post(f"{MY}readings/{others.id}/open/").status_code == 404


def test_answer_autosaves_then_submit_locks(build_study, readers, rs):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    reading = CaseReading.objects.get(session=session, position=1)
    opened = api.post(f"{MY}readings/{reading.id}/open/")
    assert opened.status_code == 200, opened.content
    assert opened.json()["arm"] == session.arm
    assert (opened.json()["ai"] is None) == (session.arm == "unaided")
    draft = api.put(f"{MY}readings/{reading.id}/answer/", {"confidence": 55}, format="json")
    assert draft.status_code == 200 and draft.json()["answer"]["confidence"] == 55
    incomplete = api.post(f"{MY}readings/{reading.id}/submit/", {}, format="json")
    assert incomplete.status_code == 400
    assert incomplete.json()["extra"]["code"] == "answer_incomplete"
    assert "metastasis_present" in incomplete.json()["message"]
    submitted = api.post(f"{MY}readings/{reading.id}/submit/", ANSWER, format="json")
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["reading"]["state"] == "submitted" and body["session_completed"] is False
    assert body["next_reading_id"] == str(CaseReading.objects.get(session=session, position=2).id)
    locked = api.put(f"{MY}readings/{reading.id}/answer/", {"confidence": 10}, format="json")
    assert locked.status_code == 409 and locked.json()["extra"]["code"] == "answer_locked"
    again = api.post(f"{MY}readings/{reading.id}/submit/", {}, format="json")
    assert again.status_code == 409
    reading.refresh_from_db()
    assert reading.confidence == 80 and reading.lesions[0]["location"]["x"] == 100.0


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [({"confidence": 101}, "confidence"), ({"metastasis_present": "perhaps"}, "metastasis_present"),
     ({"lesions": [{"label": "cyst", "location": {}}]}, "label"),
     ({"lesions": [{"label": "benign", "shape": "box",
                    "location": {"kind": "planar", "view": "anterior", "x": 1, "y": 1}}]}, "x2")],
)  # fmt: skip
def test_bad_answers_name_the_field(build_study, readers, rs, answer, fragment):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    reading = CaseReading.objects.get(session=session, position=1)
    api.post(f"{MY}readings/{reading.id}/open/")
    response = api.put(f"{MY}readings/{reading.id}/answer/", answer, format="json")
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_ai_lesion_links_only_in_the_aided_arm(build_study, readers, rs):
    reader_study = build_study()
    for reader in readers[:2]:
        session = rs.session_of(reader_study, reader, 1)
        api = rs.client_for(reader)
        reading = CaseReading.objects.get(session=session, position=1)
        api.post(f"{MY}readings/{reading.id}/open/")
        lesion = {**ANSWER["lesions"][0], "ai_lesion_id": 2}
        response = api.put(
            f"{MY}readings/{reading.id}/answer/", {"lesions": [lesion]}, format="json"
        )
        assert response.status_code == (200 if session.arm == "aided" else 400), response.content
        bad = {**lesion, "ai_lesion_id": 99}
        response = api.put(f"{MY}readings/{reading.id}/answer/", {"lesions": [bad]}, format="json")
        assert response.status_code == 400


def test_admin_reopen_and_correction_keep_the_previous_answer(build_study, readers, rs, admin_api):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    reading = CaseReading.objects.get(session=session, position=1)
    api.post(f"{MY}readings/{reading.id}/open/")
    api.post(f"{MY}readings/{reading.id}/submit/", ANSWER, format="json")
    base = f"/api/reader-studies/{reader_study.id}/readings/{reading.id}/"
    no_reason = admin_api.put(f"{base}answer/", {"answer": {"confidence": 20}}, format="json")
    assert no_reason.status_code == 400
    corrected = admin_api.put(
        f"{base}answer/", {"answer": {"confidence": 20}, "reason": "typo: 20, not 80"},
        format="json",
    )  # fmt: skip
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["answer"]["confidence"] == 20
    assert corrected.json()["history"][0]["answer"]["confidence"] == 80
    assert corrected.json()["history"][0]["reason"] == "typo: 20, not 80"
    reopened = admin_api.post(f"{base}reopen/", {"reason": "reader asked"}, format="json")
    assert reopened.status_code == 200 and reopened.json()["state"] == "open"
    assert AnswerRevision.objects.filter(reading=reading).count() == 2
    # Reopened: it is the reader's next case again and may be changed and resubmitted.
    assert api.get(MY).json()["studies"][0]["next_reading"]["id"] == str(reading.id)
    changed = api.put(f"{MY}readings/{reading.id}/answer/", {"confidence": 30}, format="json")
    assert changed.status_code == 200
    assert admin_api.post(f"{base}reopen/", {"reason": "x"}).status_code == 409


def test_a_paused_study_stops_reading(build_study, readers, rs, admin_api):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    reading = CaseReading.objects.get(session=session, position=1)
    api.post(f"{MY}readings/{reading.id}/open/")
    admin_api.post(f"/api/reader-studies/{reader_study.id}/pause/", {"reason": "maintenance"})
    response = api.put(f"{MY}readings/{reading.id}/answer/", {"confidence": 5}, format="json")
    assert response.status_code == 409 and response.json()["extra"]["code"] == "study_paused"
    assert api.get(MY).json()["studies"][0]["reader_study"]["state"] == "paused"


def test_progress_counts_cases_done_per_reader_and_session(build_study, readers, rs, admin_api):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    for position in (1, 2):
        reading = CaseReading.objects.get(session=session, position=position)
        api.post(f"{MY}readings/{reading.id}/open/")
        api.post(f"{MY}readings/{reading.id}/submit/", ANSWER, format="json")
    progress = admin_api.get(f"/api/reader-studies/{reader_study.id}/progress/").json()
    row = next(r for r in progress["readers"] if r["user"]["id"] == reader.id)
    assert row["sessions"][0]["cases_done"] == 2 and row["sessions"][0]["state"] == "active"
    assert row["sessions"][1]["state"] == "waiting"
    readings = admin_api.get(
        f"/api/reader-studies/{reader_study.id}/readings/?reader={reader.id}&session=1"
    ).json()
    assert [r["state"] for r in readings] == ["submitted", "submitted", "pending", "pending"]


def test_non_readers_have_no_reading_list(rs):
    physician = rs.client_for(rs.make_user("physician"))
    assert physician.get(MY).status_code == 403


@pytest.mark.parametrize(
    "lesion_patch",
    [{"ai_lesion_id": {"x": 1}}, {"ai_lesion_id": "2"},
     {"location": {"kind": "planar", "view": "anterior", "x": 1, "y": 1,
                   "sop_instance_uid": "1.2\x00.3"}}],
)  # fmt: skip
def test_odd_lesion_values_are_a_clear_400(build_study, readers, rs, lesion_patch):
    reader_study, reader, api, session = _setup(build_study, readers, rs)
    reading = CaseReading.objects.get(session=session, position=1)
    api.post(f"{MY}readings/{reading.id}/open/")
    lesion = {**ANSWER["lesions"][0], **lesion_patch}
    response = api.put(f"{MY}readings/{reading.id}/answer/", {"lesions": [lesion]}, format="json")
    assert response.status_code == 400
    assert "lesions[0]" in response.json()["message"]
