"""The results API: its numbers are the engine's on the same data; access; bad input; exports
(de-identified, and they round-trip into the statistics command line); the PDF."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from analysis.simulation import reader_study_simulate
from analysis.tables import study_tables
from boneread_ml.stats.accuracy import accuracy_table
from boneread_ml.stats.mrmc import mrmc_analysis
from boneread_ml.stats.timing import time_analysis

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def simulated(django_db_setup, django_db_blocker):
    """One finished simulated study for the whole module (replaying it through the services
    takes a while), made inside a transaction that is rolled back after the module's tests,
    each of which runs in its own savepoint (Django's setUpTestData pattern)."""
    with django_db_blocker.unblock(), transaction.atomic():
        admin = user_create(username="boss", password="Pw-123456789", role=Role.STUDY_ADMIN)
        study = reader_study_simulate(
            admin=admin, n_readers=4, n_cases=12, seed=7, flag_one_reading=True
        ).reader_study
        yield study, admin
        transaction.set_rollback(True)


@pytest.fixture
def finished(simulated):
    return simulated[0]


@pytest.fixture
def study_admin(simulated):
    return simulated[1]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(study, tail="results/") -> str:
    return f"/api/reader-studies/{study.pk}/{tail}"


def test_results_are_the_engines_numbers_on_the_same_data(finished, study_admin):
    response = client_for(study_admin).get(url(finished))
    assert response.status_code == 200, response.content
    results = response.json()

    tables = study_tables(reader_study=finished)
    time = time_analysis(tables.times[["reader", "arm", "session", "case", "seconds"]])
    assert results["time"]["ratio"] == pytest.approx(time["ratio"], abs=1e-12)
    assert results["time"]["ratio_ci"] == pytest.approx(time["ratio_ci"], abs=1e-12)
    assert results["time"]["mean_unaided_minutes"] == pytest.approx(
        time["totals"]["mean_minutes_unaided"], abs=1e-12
    )
    by_reader = {row["reader"]: row for row in time["totals"]["per_reader"]}
    tests = {row["reader"]: row for row in time["paired_tests"]}
    for row in results["time"]["per_reader"]:
        assert row["aided_minutes"] == pytest.approx(by_reader[row["reader"]]["minutes_aided"])
        # each reader's own time ratio with its CI
        assert row["ratio"] == pytest.approx(tests[row["reader"]]["ratio"], abs=1e-12)
        assert row["ratio_ci"] == pytest.approx(tests[row["reader"]]["ratio_ci"], abs=1e-12)

    mrmc = mrmc_analysis(
        tables.answers.rename(columns={"arm": "treatment"}), treatments=["aided", "unaided"]
    ).as_dict()
    assert results["mrmc"]["difference"] == pytest.approx(mrmc["difference"], abs=1e-12)
    assert results["mrmc"]["ci"] == pytest.approx(mrmc["ci"], abs=1e-12)
    assert results["mrmc"]["df_denominator"] == pytest.approx(mrmc["df_denominator"], abs=1e-9)

    accuracy = accuracy_table(tables.answers, arms=["aided", "unaided"])
    expected = {(r["reader"], r["arm"]): r["auc"]["auc"] for r in accuracy["per_reader"]}
    got = {(r["reader"], r["arm"]): r["auc"] for r in results["accuracy"]["per_reader"]}
    assert got == pytest.approx(expected)
    assert results["design"]["n_readers"] == 4
    assert results["design"]["complete"] is True
    # De-identified: pseudonyms only.
    assert {r["reader"] for r in results["time"]["per_reader"]} == {"R1", "R2", "R3", "R4"}


def test_only_the_studys_admins_and_admins_may_read_results(finished):
    reader = user_create(username="rd", password="Pw-123456789", role=Role.READER)
    other_admin = user_create(username="other", password="Pw-123456789", role=Role.STUDY_ADMIN)
    admin = user_create(username="root", password="Pw-123456789", role=Role.ADMIN)
    assert client_for(reader).get(url(finished)).status_code == 403
    assert client_for(other_admin).get(url(finished)).status_code == 404
    assert client_for(other_admin).get(url(finished, "exports/answers.csv")).status_code == 404
    assert client_for(admin).get(url(finished)).status_code == 200
    assert APIClient().get(url(finished)).status_code in (401, 403)


def test_bad_options_are_4xx_naming_the_problem(finished, study_admin):
    client = client_for(study_admin)
    response = client.get(url(finished), {"time": "forever"})
    assert response.status_code == 400
    assert "time" in response.json()["message"]
    response = client.get(url(finished, "results/plots/pie.png"))
    assert response.status_code == 404
    assert "paired-times" in response.json()["message"]
    response = client.get(url(finished, "exports/everything.csv"))
    assert response.status_code == 404
    assert "case-times" in response.json()["message"]
    response = client.get(url(finished, "exports/answers.csv"), {"identified": "1"})
    assert response.status_code == 403
    assert "admins" in response.json()["message"]


def _csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_exports_are_deidentified_by_default(finished, study_admin):
    client = client_for(study_admin)
    usernames = set(finished.readers.values_list("reader__username", flat=True))
    accessions = set(finished.cases.values_list("study__accession_number", flat=True))
    for kind in ("events", "case-times", "answers", "lesions", "results"):
        response = client.get(url(finished, f"exports/{kind}.csv"))
        assert response.status_code == 200, (kind, response.content[:200])
        assert response["Content-Type"].startswith("text/csv")
        text = response.content.decode("utf-8-sig")
        assert not any(name in text for name in usernames), kind
        assert not any(acc in text for acc in accessions), kind
        assert "SIMULATED" not in text and "SIM-READER-STUDY" not in text
    answers = _csv_rows(client.get(url(finished, "exports/answers.csv")))
    assert len(answers) == 4 * 12 * 2
    assert {row["reader"] for row in answers} == {"R1", "R2", "R3", "R4"}
    events = _csv_rows(client.get(url(finished, "exports/events.csv")))
    assert {row["type"] for row in events} >= {"opened", "submitted"}

    admin = user_create(username="root", password="Pw-123456789", role=Role.ADMIN)
    identified = client_for(admin).get(url(finished, "exports/answers.csv"), {"identified": "1"})
    assert identified.status_code == 200
    assert any(name in identified.content.decode() for name in usernames)


REPO = Path(__file__).resolve().parents[3]


def _cli(*args: str) -> dict:
    # This checkout's ml package first (the shared virtualenv's editable install may point at
    # another checkout).
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "ml"), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "boneread_ml", "stats", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_exports_round_trip_into_the_stats_command_line(finished, study_admin, tmp_path):
    client = client_for(study_admin)
    results = client.get(url(finished)).json()
    times = tmp_path / "case-times.csv"
    times.write_bytes(client.get(url(finished, "exports/case-times.csv")).content)
    answers = tmp_path / "answers.csv"
    answers.write_bytes(client.get(url(finished, "exports/answers.csv")).content)

    time = _cli("time", "--csv", str(times))
    assert time["ratio"] == pytest.approx(results["time"]["ratio"], rel=1e-9)
    assert time["ratio_ci"] == pytest.approx(results["time"]["ratio_ci"], rel=1e-9)
    cli_readers = {row["reader"]: row for row in time["paired_tests"]}
    for row in results["time"]["per_reader"]:
        assert cli_readers[row["reader"]]["ratio"] == pytest.approx(row["ratio"], rel=1e-9)
        assert cli_readers[row["reader"]]["ratio_ci"] == pytest.approx(row["ratio_ci"], rel=1e-9)
    exported = {
        (r["section"], r["reader"], r["statistic"]): r
        for r in csv.DictReader(
            io.StringIO(
                client.get(url(finished, "exports/results.csv")).content.decode("utf-8-sig")
            )
        )
    }
    for row in results["time"]["per_reader"]:
        line = exported[("time", row["reader"], "ratio_reader")]
        assert float(line["value"]) == pytest.approx(row["ratio"], rel=1e-9)
        assert float(line["ci_low"]) == pytest.approx(row["ratio_ci"][0], rel=1e-9)

    mrmc = _cli("mrmc", "--csv", str(answers))
    # The CLI orders treatments alphabetically ("aided" first), as the page does.
    assert mrmc["difference"] == pytest.approx(results["mrmc"]["difference"], abs=1e-12)
    assert mrmc["ci"] == pytest.approx(results["mrmc"]["ci"], abs=1e-12)
    assert mrmc["p"] == pytest.approx(results["mrmc"]["p"], abs=1e-12)

    exported = pd.read_csv(tmp_path / "answers.csv", encoding="utf-8-sig")
    assert list(exported.columns[:5]) == ["reader", "treatment", "arm", "session", "case"]


def test_pdf_report_endpoint_carries_the_page_numbers(finished, study_admin, tmp_path):
    from analysis.report import fmt, fmt_ci

    client = client_for(study_admin)
    results = client.get(url(finished)).json()
    response = client.get(url(finished, "results/report.pdf"), {"lang": "en"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "r.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert fmt(results["time"]["ratio"], 2) in text
    assert fmt_ci(results["time"]["ratio_ci"], 2) in text
    for row in results["time"]["per_reader"]:
        assert f"{fmt(row['ratio'], 2)} ({fmt_ci(row['ratio_ci'], 2)})" in text
    assert fmt_ci(results["mrmc"]["ci"]) in text
    png = client.get(url(finished, "results/plots/forest.png"))
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_flagged_readings_are_listed_and_left_out_of_time_unless_asked(finished, study_admin):
    client = client_for(study_admin)
    results = client.get(url(finished)).json()
    assert results["design"]["flagged_excluded"] == 1
    (flagged,) = results["flagged"]
    assert flagged["seconds"] > 3600 and "3600" in flagged["reason"]
    times = _csv_rows(client.get(url(finished, "exports/case-times.csv")))
    assert len(times) == 4 * 12 * 2 - 1
    assert (flagged["reader"], flagged["case"], flagged["arm"]) not in {
        (row["reader"], row["case"], row["arm"]) for row in times
    }
    # Its answer still counts for accuracy.
    assert len(_csv_rows(client.get(url(finished, "exports/answers.csv")))) == 4 * 12 * 2

    included = client.get(url(finished), {"include_flagged": "1"}).json()
    assert included["design"]["flagged_excluded"] == 0
    assert included["time"]["ratio"] != results["time"]["ratio"]
    times = _csv_rows(client.get(url(finished, "exports/case-times.csv"), {"include_flagged": "1"}))
    assert len(times) == 4 * 12 * 2


def test_a_study_without_readings_answers_with_empty_sections_and_reasons(study_admin):
    from readerstudies.services.design import reader_study_create

    draft = reader_study_create(user=study_admin, title="Not started")
    client = client_for(study_admin)
    response = client.get(url(draft))
    assert response.status_code == 200
    results = response.json()
    assert results["time"] is None and results["mrmc"] is None
    assert results["design"]["complete"] is False
    assert any("no submitted" in note for note in results["notes"])
    png = client.get(url(draft, "results/plots/roc.png"))
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert client.get(url(draft, "results/report.pdf")).status_code == 200
