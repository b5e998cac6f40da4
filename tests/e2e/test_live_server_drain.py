"""The e2e fixture that lets the live server finish every request before the database flush
(tests/e2e/conftest.py): it counts a request as served until the server closes its response."""

from __future__ import annotations

import threading

import pytest

from tests.e2e.conftest import _ServedRequests


def slow_app(release: threading.Event):
    def app(environ, start_response):
        start_response("204 No Content", [])
        release.wait(5)
        return [b""]

    return app


def test_a_request_in_progress_keeps_the_server_busy_until_its_response_is_closed():
    release = threading.Event()
    served = _ServedRequests(slow_app(release))
    body: list = []
    worker = threading.Thread(target=lambda: body.append(served({}, lambda *a: None)))
    worker.start()
    assert not served.wait_until_idle(quiet_s=0.05, timeout_s=0.3)  # still in the app
    release.set()
    worker.join(5)
    assert not served.wait_until_idle(quiet_s=0.05, timeout_s=0.3)  # answered, not yet closed
    body[0].close()
    assert served.wait_until_idle(quiet_s=0.05, timeout_s=1)


def test_a_failing_request_does_not_count_for_ever():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    served = _ServedRequests(broken)
    with pytest.raises(RuntimeError):
        served({}, lambda *a: None)
    assert served.wait_until_idle(quiet_s=0.05, timeout_s=1)
