"""The reader's marks on the image, in real Chromium against the live server.

A reader marks lesions on a planar case whose anterior frame holds two hot squares at known
pixels (reader_marks_support). Where the squares are on the page is measured in screenshots;
a box dragged from one to the other must be stored as those two pixels (image coordinates, not
screen ones), at the fitted view and after zoom and pan; the mark is drawn on the image where it
was made, again after a reload (pixel checks of what is on screen); reclassifying and removing
a mark change what is stored and what is drawn.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from reader_marks_support import (  # noqa: F401 (fixtures)
    MARKER_A,
    MARKER_B,
    box_edges,
    colour_near,
    count_colour,
    drag,
    find_markers,
    is_blue,
    is_red,
    marks_study,
    open_first_case,
    view_pixels,
    wait_case_shown,
    wait_marks_drawn,
    wait_stored,
)
from reader_study_support import new_page, rs_phantom_root  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

A_XY = (MARKER_A[1], MARKER_A[0])  # (x = column, y = row)
B_XY = (MARKER_B[1], MARKER_B[0])


def assert_near(location: dict, expected: tuple[float, float], tolerance: float, corner=1):
    x, y = ("x", "y") if corner == 1 else ("x2", "y2")
    assert abs(location[x] - expected[0]) <= tolerance, (location, expected, tolerance)
    assert abs(location[y] - expected[1]) <= tolerance, (location, expected, tolerance)


def assert_box_drawn(page, test, *, absent=None) -> dict:
    """The box between the two markers is drawn (all four edges, in `test`'s colour), its inside
    is not; with `absent`, no pixel of that colour anywhere on the view."""
    markers = find_markers(page)
    img, box = view_pixels(page)
    for edge in box_edges(markers["a"], markers["b"]):
        assert colour_near(img, box, edge, test), ("edge not drawn", edge, markers)
    centre = ((markers["a"][0] + markers["b"][0]) / 2, (markers["a"][1] + markers["b"][1]) / 2)
    assert not colour_near(img, box, centre, test, radius=4), "inside of the box painted"
    if absent is not None:
        assert count_colour(img, absent) == 0
    return markers


def test_marks_stored_in_image_coordinates_and_drawn_after_zoom_pan_and_reload(
    live_server,
    browser,
    marks_study,  # noqa: F811 (the imported fixture)
):
    page = new_page(browser)
    reading_id = open_first_case(page, live_server)

    # Nothing drawn before a mark.
    fit = find_markers(page)
    img, _ = view_pixels(page)
    assert count_colour(img, is_red) == 0
    # One screen pixel, in image pixels, at the fitted view (the click's own resolution).
    fit_tolerance = max(1.0, 1.0 / fit["scale"])

    # A metastatic box dragged from marker A to marker B at the fitted view.
    page.get_by_test_id("mark-metastatic").click()
    drag(page, fit["a"], fit["b"])
    reading = wait_stored(reading_id, lambda r: len(r.lesions) == 1)
    lesion = reading.lesions[0]
    assert lesion["shape"] == "box" and lesion["label"] == "metastatic", lesion
    location = lesion["location"]
    assert location["kind"] == "planar" and location["view"] == "anterior"
    assert location.get("frame") == 1, location
    assert_near(location, A_XY, fit_tolerance)
    assert_near(location, B_XY, fit_tolerance, corner=2)
    wait_marks_drawn(page, 1)
    assert_box_drawn(page, is_red)

    # Reload: the saved mark is drawn again at the same place on the image.
    page.reload()
    wait_case_shown(page)
    wait_marks_drawn(page, 1)
    assert_box_drawn(page, is_red)
    expect(page.get_by_test_id("answer-lesion")).to_have_count(1)

    # Zoom (wheel) and pan (middle button): the drawn box follows the image.
    view = page.get_by_test_id("viewport-anterior").bounding_box()
    assert view is not None
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    for _ in range(20):  # about 3.5 % per notch
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(60)
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    page.mouse.down(button="middle")
    page.mouse.move(
        view["x"] + view["width"] / 2 + 30, view["y"] + view["height"] / 2 - 40, steps=6
    )
    page.mouse.up(button="middle")
    page.wait_for_timeout(300)
    zoomed = assert_box_drawn(page, is_red)
    assert zoomed["scale"] > 1.5 * fit["scale"], (fit["scale"], zoomed["scale"])
    moved = abs(zoomed["a"][0] - fit["a"][0]) + abs(zoomed["a"][1] - fit["a"][1])
    assert moved > 20, "the view did not move: zoom/pan not exercised"

    # In the zoomed view: a benign point on marker A and a benign box dragged from B back to A
    # (the stored box keeps its smaller corner first); one image pixel of tolerance.
    page.get_by_test_id("mark-benign").click()
    page.mouse.click(*zoomed["a"])
    reading = wait_stored(reading_id, lambda r: len(r.lesions) == 2)
    point = reading.lesions[1]
    assert point["shape"] == "point" and point["label"] == "benign", point
    assert_near(point["location"], A_XY, 1.0)

    page.get_by_test_id("mark-benign").click()
    drag(page, zoomed["b"], zoomed["a"])
    reading = wait_stored(reading_id, lambda r: len(r.lesions) == 3)
    box = reading.lesions[2]
    assert box["shape"] == "box" and box["label"] == "benign", box
    assert_near(box["location"], A_XY, 1.0)
    assert_near(box["location"], B_XY, 1.0, corner=2)
    wait_marks_drawn(page, 3)

    # Reclassify the first (metastatic) box: stored benign, drawn blue, no red left on screen.
    page.get_by_test_id("answer-lesion").nth(0).get_by_test_id("reclassify-lesion").click()
    wait_stored(reading_id, lambda r: [lesion["label"] for lesion in r.lesions] == ["benign"] * 3)
    page.wait_for_timeout(200)
    assert_box_drawn(page, is_blue, absent=is_red)

    # Remove the point and the second box: one mark left, stored and drawn.
    page.get_by_test_id("answer-lesion").nth(2).get_by_test_id("remove-lesion").click()
    page.get_by_test_id("answer-lesion").nth(1).get_by_test_id("remove-lesion").click()
    reading = wait_stored(reading_id, lambda r: len(r.lesions) == 1)
    assert reading.lesions[0]["shape"] == "box"
    wait_marks_drawn(page, 1)
    # The point drew a ring around marker A; with it gone nothing blue is left there but the
    # box's own corner (checked on the edges, away from the corner).
    assert_box_drawn(page, is_blue)

    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_a_press_off_the_image_places_no_mark(
    live_server,
    browser,
    marks_study,  # noqa: F811 (the imported fixture)
):
    page = new_page(browser)
    reading_id = open_first_case(page, live_server)
    fit = find_markers(page)
    view = fit["box"]
    # The image (256 columns at the fitted scale) is centred: its left edge is well inside the
    # view; the view's own left edge is off the image.
    image_left = fit["a"][0] - (A_XY[0] + 0.5) * fit["scale"]
    assert image_left - view["x"] > 20
    page.get_by_test_id("mark-metastatic").click()
    page.mouse.click(view["x"] + 5, view["y"] + view["height"] / 2)
    expect(page.get_by_test_id("marking")).to_be_visible()
    page.wait_for_timeout(1200)  # longer than the autosave delay
    expect(page.get_by_test_id("answer-lesion")).to_have_count(0)
    img, _ = view_pixels(page)
    assert count_colour(img, is_red) == 0
    # Escape gives the pending mark up: a press on the image then marks nothing.
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("marking")).to_have_count(0)
    page.mouse.click(*fit["a"])
    page.wait_for_timeout(1200)
    expect(page.get_by_test_id("answer-lesion")).to_have_count(0)
    # A box started on the image and dragged off it ends on the image's edge pixel.
    page.get_by_test_id("mark-metastatic").click()
    drag(page, fit["a"], (view["x"] + 5, fit["b"][1]))
    reading = wait_stored(reading_id, lambda r: len(r.lesions) == 1)
    location = reading.lesions[0]["location"]
    assert location["x"] == 0, location
    assert abs(location["x2"] - A_XY[0]) <= max(1.0, 1.0 / fit["scale"])
    page.context.close()
