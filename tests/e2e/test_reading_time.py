"""Reading time of a reader-study reading, checked against an outside clock.

The outside clock is this test's own ``time.monotonic()`` taken around the actions that drive
the browser (the first image appearing, input, hiding the page, the submit click), never the
browser's event times. The server's numbers are the reading's (``reading_times_output``: unions
over its case views, ended at the answer's submit). Tolerance: 0.6 s (a few polls and requests).

Covered: a plain read, a hidden page, a silence past the idle threshold (2 s here, set through
the timer's test setting), a browser quit (no end event ever arrives: the heartbeat bounds the
loss, and the resumed case adds the rest once), the same case in two tabs, offline replay and a
poison event in the outbox.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from reader_study_support import (  # noqa: F401 (fixtures)
    OUTBOX,
    QUARANTINE,
    login,
    make_user,
    new_page,
    rs_phantom_root,
    rs_studies,
    set_confidence,
    set_visibility,
    wait_outbox_empty,
)

from accounts.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOLERANCE = 0.6
IDLE_MS = 2000
HEARTBEAT_MS = 2000
FIRST_IMAGE = (
    "performance.getEntriesByType('mark').some(m => m.name === 'boneread:planar-first-image')"
)


@pytest.fixture
def reader_study(rs_studies):  # noqa: F811 (the imported fixture)
    """A started crossover study of the two phantom cases; reader1 reads session 1 unaided."""
    from inference.models import InferenceJob, JobState, ModelVersion
    from readerstudies.models import ReaderStudyCase
    from readerstudies.services.ai import reader_study_ai_freeze
    from readerstudies.services.design import (
        case_truth_set,
        reader_study_cases_add,
        reader_study_create,
        reader_study_reader_add,
        reader_study_start,
    )

    admin = make_user("sadmin", Role.STUDY_ADMIN)
    reader = make_user("reader1", Role.READER)
    study = reader_study_create(user=admin, title="timing", washout_days=0, seed=5)
    reader_study_cases_add(reader_study=study, user=admin, study_ids=[s.id for s in rs_studies])
    model = ModelVersion.objects.create(
        name="mt_unet", task="planar", version="t", path="planar", checksum="c" * 64
    )
    for case in ReaderStudyCase.objects.filter(reader_study=study).select_related("study"):
        case_truth_set(case=case, user=admin, metastasis_present=False)
        # The aided session is not read here: a succeeded job without images is enough.
        case.ai_job = InferenceJob.objects.create(
            study=case.study,
            model_version=model,
            state=JobState.SUCCEEDED,
            progress=1.0,
            trigger="reader_study",
            finished_at=timezone.now() - timedelta(minutes=1),
        )
        case.save()
    reader_study_ai_freeze(reader_study=study, user=admin)
    reader_study_reader_add(reader_study=study, user=admin, reader=reader)
    return reader_study_start(reader_study=study, user=admin)


def times_of(reading_id: str) -> dict:
    from readerstudies.models import CaseReading
    from readerstudies.selectors.progress import reading_times_output

    return reading_times_output(CaseReading.objects.get(id=reading_id))


@dataclass
class Opened:
    """When a case was opened, on the outside clock: the browser's `opened` lies in [clicked, seen]."""

    reading_id: str
    clicked: float
    seen: float
    first_image: float


def open_next_case(page) -> Opened:
    clicked = time.monotonic()
    page.get_by_test_id("next-case").click()
    page.wait_for_selector("[data-testid=reading]", timeout=20_000)
    seen = time.monotonic()
    reading_id = page.get_by_test_id("reading").get_attribute("data-reading-id")
    page.wait_for_function(f"() => {FIRST_IMAGE}", polling=50, timeout=60_000)
    return Opened(reading_id, clicked, seen, time.monotonic())


def keep_busy(page, seconds: float) -> float:
    """Input (pointer moves over the image) for `seconds`; returns the outside time of the last."""
    box = page.get_by_test_id("viewport-anterior").bounding_box()
    end = time.monotonic() + seconds
    last = time.monotonic()
    step = 0
    while time.monotonic() < end:
        page.mouse.move(box["x"] + 50 + step % 40, box["y"] + 60 + step % 30)
        last = time.monotonic()
        step += 7
        page.wait_for_timeout(250)
    return last


@dataclass
class Submitted:
    """The server's end of the reading (its submit call) lies in [clicked, answered]."""

    clicked: float
    answered: float


def answer_and_submit(page) -> Submitted:
    page.get_by_test_id("metastasis-no").check()
    set_confidence(page, 10)
    with page.expect_response(lambda r: r.url.endswith("/submit/")):
        clicked = time.monotonic()
        page.get_by_test_id("submit-answer").click()
    answered = time.monotonic()
    expect(page.get_by_test_id("submit-answer")).to_have_count(0, timeout=20_000)
    return Submitted(clicked, answered)


def assert_within(measured: float, low: float, high: float, what: str) -> None:
    """`measured` inside the outside clock's bracket [low, high], give or take the tolerance."""
    assert low - TOLERANCE <= measured <= high + TOLERANCE, (
        f"{what}: server {measured:.2f} s, outside {low:.2f}..{high:.2f} s"
    )


def reader_page(browser, live_server, **timer):
    page = new_page(browser, **timer)
    login(page, live_server, "reader1", "/reading")
    return page


def close(page) -> None:
    page.context.close()
    time.sleep(0.5)  # let the live server finish the closing beacon


def assert_close(measured: float, expected: float, what: str) -> None:
    assert abs(measured - expected) <= TOLERANCE, (
        f"{what}: server {measured:.2f} s, outside {expected:.2f} s"
    )


def test_plain_read_matches_the_outside_clock(live_server, browser, reader_study):
    page = reader_page(browser, live_server)
    opened = open_next_case(page)
    keep_busy(page, 4)
    end = answer_and_submit(page)
    wait_outbox_empty(page)
    times = times_of(opened.reading_id)
    assert_close(times["image_seconds"], end.clicked - opened.first_image, "first image to submit")
    low, high = end.clicked - opened.seen, end.answered - opened.clicked
    assert_within(times["open_seconds"], low, high, "open to submit")
    assert_within(times["active_seconds"], low, high, "active")
    assert times["image_seconds"] < times["open_seconds"]  # loading is not reading
    close(page)


def test_a_hidden_page_is_not_active(live_server, browser, reader_study):
    page = reader_page(browser, live_server)
    opened = open_next_case(page)
    keep_busy(page, 1.5)
    hidden_at = time.monotonic()
    set_visibility(page, "hidden")
    page.wait_for_timeout(3000)
    set_visibility(page, "visible")
    shown_at = time.monotonic()
    keep_busy(page, 1.5)
    end = answer_and_submit(page)
    wait_outbox_empty(page)
    times = times_of(opened.reading_id)
    low, high = end.clicked - opened.seen, end.answered - opened.clicked
    assert_within(times["open_seconds"], low, high, "open to submit")
    hidden = shown_at - hidden_at
    assert_within(times["active_seconds"], low - hidden, high - hidden, "active")
    close(page)


def test_a_silence_past_the_idle_threshold_is_cut_back_to_the_last_input(
    live_server, browser, reader_study
):
    page = reader_page(browser, live_server, idle_ms=IDLE_MS)
    opened = open_next_case(page)
    last_input = keep_busy(page, 1.5)
    page.wait_for_timeout(IDLE_MS + 3000)  # a silence well past the threshold
    back = time.monotonic()
    box = page.get_by_test_id("viewport-anterior").bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    keep_busy(page, 1.0)
    end = answer_and_submit(page)
    wait_outbox_empty(page)
    times = times_of(opened.reading_id)
    # The old timer counted the threshold itself (+2 s here) as reading.
    assert_within(
        times["active_seconds"],
        (last_input - opened.seen) + (end.clicked - back),
        (last_input - opened.clicked) + (end.answered - back),
        "active",
    )
    close(page)


def test_a_browser_quit_loses_at_most_one_heartbeat_and_the_resumed_case_counts_once(
    live_server, browser, reader_study
):
    from readerstudies.models import CaseView

    page = reader_page(browser, live_server, heartbeat_ms=HEARTBEAT_MS)
    opened = open_next_case(page)
    keep_busy(page, 5)
    wait_outbox_empty(page)
    # The browser is quit (or crashes) without its last events reaching the server: the
    # connection is gone first, then the browser with its stored outbox.
    page.context.set_offline(True)
    quit_at = time.monotonic()
    close(page)

    (view,) = CaseView.objects.filter(reading_id=opened.reading_id)
    assert view.ended_by != "closed"
    heartbeat = HEARTBEAT_MS / 1000
    # The old timer left a 0-second view with only `opened`.
    assert_within(
        view.total_seconds, quit_at - opened.seen - heartbeat, quit_at - opened.clicked, "lost end"
    )

    # The reader comes back to the same case and finishes it.
    page = reader_page(browser, live_server, heartbeat_ms=HEARTBEAT_MS)
    again = open_next_case(page)
    assert again.reading_id == opened.reading_id
    keep_busy(page, 2)
    end = answer_and_submit(page)
    wait_outbox_empty(page)
    times = times_of(opened.reading_id)
    assert times["views"] == 2
    assert_within(
        times["open_seconds"],
        (quit_at - opened.seen - heartbeat) + (end.clicked - again.seen),
        (quit_at - opened.clicked) + (end.answered - again.clicked),
        "open, resumed",
    )
    close(page)


def test_the_same_case_in_two_tabs_is_one_reading(live_server, browser, reader_study):
    first = reader_page(browser, live_server)
    opened = open_next_case(first)
    keep_busy(first, 2)
    second = first.context.new_page()  # a second tab of the same browser
    second.goto(f"{live_server.url}/reading/{opened.reading_id}")
    expect(second.get_by_test_id("planar-viewer")).to_have_attribute(
        "data-state", "ready", timeout=60_000
    )
    keep_busy(second, 3)
    first.bring_to_front()
    keep_busy(first, 2)
    end = answer_and_submit(first)
    wait_outbox_empty(first)
    times = times_of(opened.reading_id)
    low, high = end.clicked - opened.seen, end.answered - opened.clicked
    assert times["views"] == 2
    assert_within(times["open_seconds"], low, high, "open (two tabs)")
    assert_within(times["active_seconds"], low, high, "active (two tabs)")  # not their sum
    close(first)


def test_offline_events_are_replayed_in_their_place(live_server, browser, reader_study):
    page = reader_page(browser, live_server)
    opened = open_next_case(page)
    keep_busy(page, 1.5)
    wait_outbox_empty(page)
    page.context.set_offline(True)
    hidden_at = time.monotonic()
    set_visibility(page, "hidden")
    page.wait_for_timeout(2000)
    set_visibility(page, "visible")
    shown_at = time.monotonic()
    page.wait_for_timeout(1500)
    queued = page.evaluate(f"{OUTBOX}.map((e) => e.type)")
    assert "hidden" in queued and "visible" in queued, queued
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_outbox_empty(page)
    keep_busy(page, 1)
    end = answer_and_submit(page)
    wait_outbox_empty(page)
    times = times_of(opened.reading_id)
    low, high = end.clicked - opened.seen, end.answered - opened.clicked
    assert_within(times["open_seconds"], low, high, "open to submit")
    hidden = shown_at - hidden_at
    assert_within(times["active_seconds"], low - hidden, high - hidden, "active")
    close(page)


def test_a_poison_event_is_set_aside_and_does_not_block_reading_time(
    live_server, browser, reader_study
):
    page = reader_page(browser, live_server)
    # An event the server can never accept (a case view of a study that does not exist), left in
    # the outbox by an earlier page: the old outbox retried it before everything else, forever.
    poison = {
        "id": str(uuid.uuid4()),
        "view_id": str(uuid.uuid4()),
        "study_id": str(uuid.uuid4()),
        "type": "opened",
        "client_time": timezone.now().isoformat(),
        "sequence": 0,
    }
    page.evaluate(
        "(e) => localStorage.setItem('boneread.readingEvents.outbox', JSON.stringify([e]))",
        poison,
    )
    opened = open_next_case(page)
    expect(page.get_by_test_id("outbox-quarantine")).to_be_visible(timeout=20_000)
    quarantined = page.evaluate(f"{QUARANTINE}.map((q) => q.event.id)")
    assert quarantined == [poison["id"]]
    keep_busy(page, 2)
    end = answer_and_submit(page)
    wait_outbox_empty(page)
    assert page.evaluate(f"{QUARANTINE}.length") == 1
    times = times_of(opened.reading_id)
    assert_within(
        times["open_seconds"], end.clicked - opened.seen, end.answered - opened.clicked, "open"
    )
    close(page)
