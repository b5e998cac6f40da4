"""The reader-study side of the study-access contract (called by the access rule and by every
AI read): a reader sees only their current case; unaided -> no AI job; aided -> only the frozen
job; users who are not readers are not restricted."""

from datetime import timedelta

import pytest

from inference.selectors import ai_access_check
from readerstudies.models import CaseReading, FrozenAiResult, ReaderStudyCase
from readerstudies.selectors import (
    ai_job_ids_allowed,
    reader_study_ids_for_user,
    study_admin_study_ids_for_user,
)
from readerstudies.services.reading import reading_open, reading_submit

pytestmark = pytest.mark.django_db


def _ids(queryset) -> set:
    return {row["id"] for row in queryset}


def _reader_in_arm(reader_study, readers, rs, arm):
    for reader in readers:
        session = rs.session_of(reader_study, reader, 1)
        if session.arm == arm:
            return reader, session
    raise AssertionError(arm)


def test_a_reader_sees_only_the_current_case_of_the_current_session(build_study, readers, rs):
    reader_study = build_study()
    reader, session = _reader_in_arm(reader_study, readers, rs, "unaided")
    readings = list(CaseReading.objects.filter(session=session).order_by("position"))
    assert _ids(reader_study_ids_for_user(user=reader)) == {readings[0].case.study_id}
    reading_open(reading=readings[0], user=reader)
    reading_submit(reading=readings[0], user=reader,
                   data={"metastasis_present": False, "confidence": 10})  # fmt: skip
    # Submitted cases are not viewable any more; the next one is.
    assert _ids(reader_study_ids_for_user(user=reader)) == {readings[1].case.study_id}


def test_no_cases_before_the_start_after_the_close_or_in_washout(build_study, readers, rs):
    build_study(stage="frozen")
    assert _ids(reader_study_ids_for_user(user=readers[0])) == set()
    started = build_study(washout_days=28)
    reader = readers[0]
    rs.finish_session(rs.session_of(started, reader, 1), ago=timedelta(days=1))
    assert _ids(reader_study_ids_for_user(user=reader)) == set()  # washout
    other = readers[1]
    assert len(_ids(reader_study_ids_for_user(user=other))) == 1
    from readerstudies.services.design import reader_study_transition

    reader_study_transition(reader_study=started, user=None, action="close")
    assert _ids(reader_study_ids_for_user(user=other)) == set()


def test_unaided_gets_no_ai_jobs_and_aided_only_the_frozen_one(
    build_study, readers, rs, make_succeeded_job
):
    reader_study = build_study()
    unaided, u_session = _reader_in_arm(reader_study, readers, rs, "unaided")
    aided, a_session = _reader_in_arm(reader_study, readers, rs, "aided")
    u_case = CaseReading.objects.get(session=u_session, position=1).case
    a_case = CaseReading.objects.get(session=a_session, position=1).case
    assert ai_job_ids_allowed(user=unaided, study=u_case.study) == frozenset()
    frozen = FrozenAiResult.objects.get(case=a_case)
    make_succeeded_job(a_case.study)  # a newer result must not be the one shown
    assert ai_job_ids_allowed(user=aided, study=a_case.study) == frozenset({frozen.job_id})
    # Not their current case: nothing, in either arm.
    other = ReaderStudyCase.objects.filter(reader_study=reader_study).exclude(id=a_case.id).first()
    assert ai_job_ids_allowed(user=aided, study=other.study) == frozenset()
    # The inference app's check refuses the unaided reader (404) and lets the aided one through.
    from core.exceptions import NotFoundError

    with pytest.raises(NotFoundError):
        ai_access_check(unaided, u_case.study)
    ai_access_check(aided, a_case.study)


def test_users_who_are_not_readers_are_not_restricted(build_study, rs):
    reader_study = build_study()
    case = ReaderStudyCase.objects.filter(reader_study=reader_study).first()
    for role in ("physician", "study_admin", "admin"):
        assert ai_job_ids_allowed(user=rs.make_user(role), study=case.study) is None


def test_a_reader_who_is_also_a_physician(build_study, readers, rs, make_archive_study):
    """Reader + another role: the reader rule applies to the cases of their reader studies that
    are not closed; other studies are unrestricted."""
    reader_study = build_study()
    reader, session = _reader_in_arm(reader_study, readers, rs, "aided")
    from accounts.services import user_roles_set

    user_roles_set(user=reader, roles=["reader", "physician"])
    clinical = make_archive_study()
    assert ai_job_ids_allowed(user=reader, study=clinical) is None
    later = CaseReading.objects.get(session=session, position=2).case
    assert ai_job_ids_allowed(user=reader, study=later.study) == frozenset()


def test_study_admin_ids_are_the_cases_of_their_studies(build_study, study_admin, rs):
    reader_study = build_study(stage="draft")
    cases = set(
        ReaderStudyCase.objects.filter(reader_study=reader_study).values_list("study_id", flat=True)
    )
    assert _ids(study_admin_study_ids_for_user(user=study_admin)) == cases
    assert _ids(study_admin_study_ids_for_user(user=rs.make_user("study_admin"))) == set()
