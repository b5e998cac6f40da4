"""Sample-size planning on the study-design page in real Chromium: the study admin picks a
finished pilot study, asks for an AUC difference and a time ratio, and the tables shown are the
statistics engine's output for the same inputs; a bad power is refused in the user's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create
from analysis.report import fmt
from analysis.simulation import reader_study_simulate
from analysis.tables import study_tables
from boneread_ml.stats.mrmc import mrmc_analysis
from boneread_ml.stats.samplesize import auc_sample_size, pilot_components, time_sample_size
from boneread_ml.stats.timing import time_analysis
from readerstudies.services.design import reader_study_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(1800)]


def _engine(pilot_study):
    tables = study_tables(reader_study=pilot_study)
    mrmc = mrmc_analysis(
        tables.answers.rename(columns={"arm": "treatment"})[
            ["reader", "treatment", "case", "truth", "rating"]
        ],
        treatments=["aided", "unaided"],
    )
    auc = auc_sample_size(
        effect=0.06,
        pilot=pilot_components(mrmc.var_components, n_cases=mrmc.n_cases),
        power=0.8,
        alpha=0.05,
        readers=[4, 6],
        floor_var_tr=True,
    )
    vc = time_analysis(tables.times[["reader", "arm", "session", "case", "seconds"]])["model"][
        "variance_components"
    ]
    components = {k: float(vc.get(k, 0.0)) for k in ("reader", "case", "reader_arm")}
    components["residual"] = float(vc["residual"])
    time = time_sample_size(
        time_ratio=0.8,
        variance_components=components,
        power=0.8,
        alpha=0.05,
        readers=[4, 6],
        max_cases=1000,
        n_sim=20,
    )
    return auc, time


def test_sample_size_panel_shows_the_engines_tables(live_server, page):
    admin = user_create(username="plan", password="Bone-scan-2026", role=Role.STUDY_ADMIN)
    pilot = reader_study_simulate(
        admin=admin, title="Pilot study", n_readers=4, n_cases=10, seed=5
    ).reader_study
    draft = reader_study_create(user=admin, title="Main study")
    auc_rows, time_rows = _engine(pilot)

    page.goto(f"{live_server.url}/login?next=/reader-studies/{draft.pk}")
    page.fill("input[name=username]", "plan")
    page.fill("input[name=password]", "Bone-scan-2026")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/reader-studies/{draft.pk}")

    panel = page.get_by_test_id("samplesize-panel")
    expect(panel.get_by_role("heading", name="样本量估算")).to_be_visible()
    # the draft is listed as not finished; the simulated pilot as finished
    select = page.get_by_test_id("samplesize-pilot")
    expect(select.locator("option", has_text="Main study")).to_contain_text("未完成")
    select.select_option(str(pilot.pk))
    page.get_by_test_id("samplesize-auc-difference").fill("0.06")
    page.get_by_test_id("samplesize-time-ratio").fill("0.8")
    page.get_by_test_id("samplesize-readers").fill("4,6")
    page.get_by_test_id("samplesize-nsim").fill("20")
    page.get_by_test_id("samplesize-compute").click()
    expect(page.get_by_test_id("samplesize-result")).to_be_visible(timeout=600_000)

    for row in auc_rows:
        cases = page.get_by_test_id(f"samplesize-auc-cases-{row['readers']}")
        expect(cases).to_have_text(str(row["cases"]) if row["cases"] else "超过 2000")
        if row["power"] is not None:
            expect(page.get_by_test_id(f"samplesize-auc-power-{row['readers']}")).to_have_text(
                fmt(row["power"])
            )
    for row in time_rows:
        cases = page.get_by_test_id(f"samplesize-time-cases-{row['readers']}")
        expect(cases).to_have_text(str(row["cases"]) if row["cases"] else "超过 1000")
        if row["power"] is not None:
            expect(page.get_by_test_id(f"samplesize-time-power-{row['readers']}")).to_have_text(
                f"{fmt(row['power'], 2)} ± {fmt(row['power_se'], 2)}"
            )

    # a power above 1 is refused, in Chinese, naming the rule
    page.get_by_test_id("samplesize-power").fill("1.5")
    page.get_by_test_id("samplesize-compute").click()
    expect(page.get_by_test_id("samplesize-error")).to_have_text(
        "检验效能必须大于显著性水平（0.05）且小于1。"
    )
    # the unfinished study as pilot: refused with the readings left
    page.get_by_test_id("samplesize-power").fill("0.8")
    select.select_option(str(draft.pk))
    page.get_by_test_id("samplesize-compute").click()
    expect(page.get_by_test_id("samplesize-error")).to_contain_text("预试验研究尚未完成")
    assert page.console_errors == []
