"""The study admin's results page in real Chromium: a study finished by simulated readers through
the real services shows the engine's numbers (the same strings as the PDF), its plots load, the
flagged time is listed, and the PDF and CSV downloads work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create
from analysis.report import fmt, fmt_ci
from analysis.selectors import reader_study_results
from analysis.simulation import reader_study_simulate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_results_page_shows_the_engines_numbers_and_plots(live_server, page):
    admin = user_create(
        username="lin", password="Bone-scan-2026", role=Role.STUDY_ADMIN, display_name="林研究"
    )
    study = reader_study_simulate(
        admin=admin, n_readers=4, n_cases=10, seed=11, flag_one_reading=True
    ).reader_study
    results = reader_study_results(reader_study=study)

    page.goto(f"{live_server.url}/login?next=/reader-studies/{study.pk}/results")
    page.fill("input[name=username]", "lin")
    page.fill("input[name=password]", "Bone-scan-2026")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/reader-studies/{study.pk}/results")

    expect(page.get_by_role("heading", name="阅片研究结果", exact=False)).to_be_visible()
    expect(page.get_by_test_id("design-readers")).to_have_text("4")
    time = results["time"]
    expect(page.get_by_test_id("time-ratio")).to_have_text(fmt(time["ratio"], 2))
    expect(page.get_by_test_id("time-ratio-ci")).to_have_text(fmt_ci(time["ratio_ci"], 2))
    expect(page.get_by_test_id("mean-unaided-minutes")).to_have_text(
        fmt(time["mean_unaided_minutes"], 1)
    )
    expect(page.get_by_test_id("mean-aided-minutes")).to_have_text(
        fmt(time["mean_aided_minutes"], 1)
    )
    mrmc = results["mrmc"]
    expect(page.get_by_test_id("mrmc-difference")).to_have_text(fmt(mrmc["difference"]))
    expect(page.get_by_test_id("mrmc-ci")).to_have_text(fmt_ci(mrmc["ci"]))
    # Every reader's row of the time table, in both arms.
    rows = page.get_by_test_id("time-table").locator("tbody tr")
    expect(rows).to_have_count(4 + 1)
    for row in time["per_reader"]:
        line = rows.filter(has_text=row["reader"]).first
        expect(line).to_contain_text(fmt(row["unaided_minutes"], 1))
        expect(line).to_contain_text(fmt(row["aided_minutes"], 1))
        expect(page.get_by_test_id(f"reader-ratio-{row['reader']}")).to_have_text(
            f"{fmt(row['ratio'], 2)} ({fmt_ci(row['ratio_ci'], 2)})"
        )
    # The flagged reading is listed (and excluded from the time table by default).
    flagged = results["flagged"][0]
    expect(page.get_by_test_id("flagged-table")).to_contain_text(flagged["case"])

    # The plots are real images drawn by the server.
    for name in ("paired-times", "case-times", "roc", "roc-readers", "forest"):
        image = page.get_by_test_id(f"plot-{name}")
        image.scroll_into_view_if_needed()
        expect(image).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 100", arg=image.element_handle()
        )

    # Switching to the open-to-submit time reloads the numbers from the API.
    page.get_by_test_id("time-measure").select_option("total")
    total = reader_study_results(reader_study=study, time_measure="total")["time"]
    expect(page.get_by_test_id("time-ratio")).to_have_text(fmt(total["ratio"], 2))

    pdf = page.request.get(
        live_server.url + page.get_by_test_id("report-pdf").get_attribute("href"),
        timeout=90_000,  # five plots and the PDF layout on a busy CI machine
    )
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"
    answers = page.request.get(
        f"{live_server.url}/api/reader-studies/{study.pk}/exports/answers.csv"
    )
    assert answers.status == 200
    assert "lin" not in answers.text()

    # English: the page's strings and the plots' labels follow the app's language.
    page.get_by_test_id("language-switch").click()
    expect(page.get_by_role("heading", name="Reader study results", exact=False)).to_be_visible()
    expect(page.get_by_test_id("plot-roc")).to_have_attribute("src", re.compile(r"lang=en"))
    assert page.console_errors == []
