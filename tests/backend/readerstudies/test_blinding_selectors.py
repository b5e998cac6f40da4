"""Blinding leaks found by the generated test (test_blinding_routes.py), each pinned here on a
small reader study (archive rows made directly; the generated test runs the real model):

* QIDO-RS ModalitiesInStudy (0008,0061) named "SEG" to a reader whose arm hides every SEG;
* a search on ModalitiesInStudy=SEG (QIDO) or modality=SEG (worklist) found the case;
* a reader who is also a physician saw the SEG of a case to come in archive-wide lists;
* a reader's reading detail answered for a case to come (its study and frozen AI).
"""

from __future__ import annotations

import itertools

import pytest

from readerstudies.models import Arm, ReaderStudyCase

SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
NM_CLASS = "1.2.840.10008.5.1.4.1.1.20"
_uids = itertools.count(1)

pytestmark = pytest.mark.django_db


def _series(study, modality: str, sop_class: str):
    from studies.models import IngestSource, Instance, Series

    n = next(_uids)
    series = Series.objects.create(
        series_instance_uid=f"{study.study_instance_uid}.{n}", study=study, modality=modality,
        series_number=n,
    )  # fmt: skip
    instance = Instance.objects.create(
        sop_instance_uid=f"{study.study_instance_uid}.{n}.1", sop_class_uid=sop_class,
        series=series, instance_number=1, transfer_syntax_uid="1.2.840.10008.1.2.1",
        file=f"x/{n}", sha256=f"{n:064d}", size=1, source=IngestSource.DEMO,
    )  # fmt: skip
    return series, instance


@pytest.fixture
def blinded(build_study, readers, rs):
    """A started crossover study whose cases have images, the frozen job's SEG and a ground-truth
    SEG; the two readers' arms in session 1."""
    reader_study = build_study(cases=3)
    for case in ReaderStudyCase.objects.filter(reader_study=reader_study).select_related(
        "study", "ai_job"
    ):
        study = case.study
        _series(study, "NM", NM_CLASS)
        seg, seg_instance = _series(study, "SEG", SEG_CLASS)
        case.ai_job.seg_series_uid = seg.series_instance_uid
        case.ai_job.save()
        case.ai_job.seg_instances.add(seg_instance)
        _series(study, "SEG", SEG_CLASS)  # the ground truth
        study.modalities = "NM\\SEG"
        study.save()
    by_arm = {rs.session_of(reader_study, r).arm: r for r in readers[:2]}
    return reader_study, by_arm[Arm.UNAIDED], by_arm[Arm.AIDED]


def _current_study(reader_study, reader, rs):
    from readerstudies.services.reading import next_reading

    return next_reading(rs.session_of(reader_study, reader)).case.study


def _modalities(answer) -> list[list[str]]:
    return [item.get("00080061", {}).get("Value", []) for item in answer.json()]


def test_qido_modalities_in_study_hide_seg_from_the_unaided_arm(blinded, rs):
    reader_study, unaided, aided = blinded
    for path in ("/dicomweb/studies", "/dicomweb/series", "/dicomweb/instances"):
        seen = _modalities(rs.client_for(unaided).get(path))
        assert seen and all(m == ["NM"] for m in seen), (path, seen)
        # the aided arm is shown its frozen result's SEG: the modality is listed
        seen = _modalities(rs.client_for(aided).get(path))
        assert seen and all("SEG" in m for m in seen), (path, seen)
    study = _current_study(reader_study, unaided, rs)
    seen = _modalities(
        rs.client_for(unaided).get(f"/dicomweb/studies/{study.study_instance_uid}/series")
    )
    assert seen == [["NM"]]


def test_a_search_for_seg_does_not_find_the_unaided_case(blinded, rs):
    reader_study, unaided, aided = blinded
    unaided_api, aided_api = rs.client_for(unaided), rs.client_for(aided)
    for key in ("ModalitiesInStudy", "00080061"):
        assert unaided_api.get("/dicomweb/studies", {key: "SEG"}).json() == []
        assert unaided_api.get("/dicomweb/series", {key: "SEG"}).json() == []
        assert unaided_api.get("/dicomweb/instances", {key: "SEG"}).json() == []
        assert len(aided_api.get("/dicomweb/studies", {key: "SEG"}).json()) == 1
    assert unaided_api.get("/dicomweb/studies", {"ModalitiesInStudy": "NM"}).json()
    assert unaided_api.get("/api/studies/", {"modality": "SEG"}).json()["count"] == 0
    assert unaided_api.get("/api/studies/", {"modality": "NM"}).json()["count"] == 1
    assert aided_api.get("/api/studies/", {"modality": "SEG"}).json()["count"] == 1


def test_a_reader_who_is_also_a_physician_sees_no_seg_of_their_reader_study(
    build_study, readers, rs
):
    """The reader rule applies to every case of a reader study they read in (docs): an archive-
    wide list (QIDO, worklist counts) must not show the SEG of a case to come."""
    from accounts.models import Role
    from accounts.services import user_roles_set

    reader_study = build_study(cases=3)
    for case in ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study"):
        _series(case.study, "NM", NM_CLASS)
        _series(case.study, "SEG", SEG_CLASS)
        case.study.modalities = "NM\\SEG"
        case.study.save()
    both = readers[0]
    user_roles_set(user=both, roles=[Role.READER, Role.PHYSICIAN])
    api = rs.client_for(both)
    answer = api.get("/dicomweb/studies")
    assert len(answer.json()) == 3  # a physician sees the archive
    assert all(m == ["NM"] for m in _modalities(answer)), _modalities(answer)
    assert all(
        item["00201206"]["Value"] == [1] for item in answer.json()
    )  # NumberOfStudyRelatedSeries: the SEG series is not counted
    assert api.get("/dicomweb/series", {"Modality": "SEG"}).json() == []
    assert api.get("/api/studies/", {"modality": "SEG"}).json()["count"] == 0


def test_reading_detail_refuses_a_case_to_come_and_shows_ai_only_with_the_current_case(blinded, rs):
    from readerstudies.models import CaseReading
    from readerstudies.services.reading import reading_open, reading_submit

    reader_study, _, aided = blinded
    session = rs.session_of(reader_study, aided)
    first, second, third = CaseReading.objects.filter(session=session).order_by("position")
    api = rs.client_for(aided)
    base = "/api/reader-studies/my-reading/readings"
    answer = api.get(f"{base}/{third.id}/")
    assert answer.status_code == 409 and answer.json()["extra"]["code"] == "not_next_case"
    assert str(third.case.study_id) not in answer.content.decode()
    current = api.get(f"{base}/{first.id}/").json()
    assert current["ai"]["job_id"] == str(first.case.frozen_ai.job_id)
    assert current["reader_study_state"] == "open"
    reading_open(reading=first, user=aided)
    reading_submit(reading=first, user=aided, data={"metastasis_present": True, "confidence": 60})
    submitted = api.get(f"{base}/{first.id}/")
    assert submitted.status_code == 200 and submitted.json()["ai"] is None
    # session 2 (the other arm, the same cases): a case to come
    later = CaseReading.objects.filter(session=rs.session_of(reader_study, aided, 2)).first()
    assert api.get(f"{base}/{later.id}/").status_code == 409
    assert api.get(f"{base}/{second.id}/").json()["ai"] is not None
