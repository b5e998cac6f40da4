"""Simulated readers read a study through the real services; the analysis recovers the known
time ratio and AUC gain inside its confidence intervals."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.services import user_create
from analysis.results import results_compute
from analysis.simulation import reader_study_simulate
from analysis.tables import study_tables
from readerstudies.models import CaseReading, CaseView, ReadingState

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return user_create(username="boss", password="Pw-123456789", role=Role.STUDY_ADMIN)


def test_simulated_study_is_finished_through_the_services_and_effects_are_recovered(admin):
    sim = reader_study_simulate(
        admin=admin, n_readers=4, n_cases=24, time_ratio=0.62, auc_unaided=0.75,
        auc_aided=0.87, seed=3,
    )  # fmt: skip
    study = sim.reader_study
    readings = CaseReading.objects.filter(session__assignment__reader_study=study)
    assert readings.count() == 4 * 24 * 2
    assert not readings.exclude(state=ReadingState.SUBMITTED).exists()
    # Every reading has a case view built from the timer events the services recorded.
    assert CaseView.objects.filter(reading__in=readings).count() == readings.count()

    results = results_compute(tables=study_tables(reader_study=study))
    time = results["time"]
    low, high = time["ratio_ci"]
    assert low < 0.62 < high, time["ratio_ci"]
    assert time["mean_aided_minutes"] < time["mean_unaided_minutes"]
    mrmc = results["mrmc"]
    gain = sim.spec.auc_gain
    assert mrmc["ci"][0] < gain < mrmc["ci"][1], (mrmc["difference"], mrmc["ci"])
    assert results["design"]["complete"] is True
    # Lesion level: the simulated readers find 85% of the lesions with AI and 70% without.
    lesions = results["lesions"]["per_reader"]
    assert len(lesions) == 4 * 2
    found = {
        arm: [row["localisation_sensitivity"] for row in lesions if row["arm"] == arm]
        for arm in ("unaided", "aided")
    }
    assert sum(found["aided"]) / 4 > sum(found["unaided"]) / 4
    true_rate = {"unaided": 0.70, "aided": 0.85}
    covered = [
        row["localisation_sensitivity_ci"][0]
        <= true_rate[row["arm"]]
        <= row["localisation_sensitivity_ci"][1]
        for row in lesions
    ]
    assert sum(covered) >= 6, lesions  # 95% intervals: nearly all of the 8 cover the truth
    assert results["design"]["n_readers"] == 4
