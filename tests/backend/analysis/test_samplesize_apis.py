"""Sample-size planning API: the tables are the engine's for the pilot's variance components (or
the values entered); the finished pilots are listed; each bad input is a 400 with a code; access."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from analysis.simulation import reader_study_simulate
from analysis.tables import study_tables
from boneread_ml.stats.mrmc import mrmc_analysis
from boneread_ml.stats.samplesize import auc_sample_size, pilot_components, time_sample_size
from boneread_ml.stats.timing import time_analysis
from readerstudies.models import CaseReading, ReadingState
from readerstudies.services.design import reader_study_create

# The module's pilot is a study finished through the services; on a shared 2-core machine that
# and the time table's simulations take minutes.
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(1800)]

URL = "/api/reader-studies/sample-size/"


@pytest.fixture(scope="module")
def simulated(django_db_setup, django_db_blocker):
    """One finished simulated pilot for the module (rolled back at the end)."""
    with django_db_blocker.unblock(), transaction.atomic():
        admin = user_create(username="planner", password="Pw-123456789", role=Role.STUDY_ADMIN)
        study = reader_study_simulate(
            admin=admin, title="Pilot", n_readers=4, n_cases=10, seed=3
        ).reader_study
        yield study, admin
        transaction.set_rollback(True)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(user, body):
    return client_for(user).post(URL, body, format="json")


def test_pilot_tables_are_the_engines_output_for_the_pilots_components(simulated):
    study, admin = simulated
    body = {
        "source": "pilot",
        "pilot_study": str(study.pk),
        "auc_difference": 0.06,
        "time_ratio": 0.8,
        "power": 0.8,
        "alpha": 0.05,
        "readers": [6, 4],
        "n_sim": 20,
    }
    response = post(admin, body)
    assert response.status_code == 200, response.content
    plan = response.json()

    # the same pilot analysed with the engine directly
    tables = study_tables(reader_study=study)
    mrmc = mrmc_analysis(
        tables.answers.rename(columns={"arm": "treatment"})[
            ["reader", "treatment", "case", "truth", "rating"]
        ],
        treatments=["aided", "unaided"],
    )
    pilot = pilot_components(mrmc.var_components, n_cases=mrmc.n_cases)
    assert plan["auc"]["components"] == pytest.approx(pilot, abs=1e-12)
    expected = auc_sample_size(
        effect=0.06, pilot=pilot, power=0.8, alpha=0.05, readers=[4, 6], floor_var_tr=True
    )
    assert plan["auc"]["var_tr_floored"] is (pilot["var_tr"] < 0)
    assert [(r["readers"], r["cases"]) for r in plan["auc"]["rows"]] == [
        (r["readers"], r["cases"]) for r in expected
    ]
    assert [r["power"] for r in plan["auc"]["rows"]] == pytest.approx(
        [r["power"] for r in expected], abs=1e-12
    )

    vc = time_analysis(tables.times[["reader", "arm", "session", "case", "seconds"]])["model"][
        "variance_components"
    ]
    components = {k: vc.get(k, 0.0) for k in ("reader", "case", "reader_arm")}
    components["residual"] = vc["residual"]
    assert plan["time"]["components"] == pytest.approx(components, rel=1e-9)
    expected = time_sample_size(
        time_ratio=0.8,
        variance_components=plan["time"]["components"],
        power=0.8,
        alpha=0.05,
        readers=[4, 6],
        max_cases=plan["time"]["max_cases"],
        n_sim=20,
    )
    assert plan["time"]["rows"] == expected
    assert plan["pilot"]["title"] == "Pilot" and plan["pilot"]["n_readers"] == 4
    assert plan["inputs"]["readers"] == [4, 6]


def test_entered_values_give_the_engines_table(simulated):
    _, admin = simulated
    auc = {"var_tr": 0.0002, "var": 0.0008, "cov1": 0.0004, "cov2": 0.0003, "cov3": 0.0002}
    response = post(
        admin,
        {
            "source": "values",
            "auc_difference": 0.05,
            "power": 0.9,
            "alpha": 0.05,
            "readers": [5],
            "auc_components": {**auc, "n_cases": 100},
        },
    )
    assert response.status_code == 200, response.content
    plan = response.json()
    (expected,) = auc_sample_size(
        effect=0.05, pilot={**auc, "n_cases": 100}, power=0.9, alpha=0.05, readers=[5],
        floor_var_tr=True,
    )  # fmt: skip
    assert plan["auc"]["rows"][0]["cases"] == expected["cases"]
    assert plan["time"] is None and plan["pilot"] is None


def test_pilots_list_says_which_studies_are_finished(simulated):
    study, admin = simulated
    draft = reader_study_create(user=admin, title="Not started")
    response = client_for(admin).get(URL)
    assert response.status_code == 200
    pilots = {p["id"]: p for p in response.json()["pilots"]}
    assert pilots[str(study.pk)]["finished"] is True
    assert pilots[str(draft.pk)]["finished"] is False


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"power": 1.5}, "samplesize_bad_power"),
        ({"power": 0.01}, "samplesize_bad_power"),
        ({"alpha": 0}, "samplesize_bad_alpha"),
        ({"auc_difference": None, "time_ratio": None}, "samplesize_no_target"),
        ({"auc_difference": 1.2}, "samplesize_bad_auc_difference"),
        ({"time_ratio": 1.0}, "samplesize_bad_time_ratio"),
        ({"time_ratio": "fast"}, "samplesize_not_a_number"),
        ({"readers": [1, 4]}, "samplesize_bad_readers"),
        ({"readers": list(range(2, 12))}, "samplesize_bad_readers"),
        ({"n_sim": 5}, "samplesize_bad_n_sim"),
        ({"source": "guess"}, "samplesize_bad_source"),
        ({"pilot_study": None}, "samplesize_no_pilot"),
        ({"source": "values"}, "samplesize_missing_components"),
    ],
)
def test_bad_inputs_are_400_with_a_code(simulated, change, code):
    study, admin = simulated
    body = {"source": "pilot", "pilot_study": str(study.pk), "auc_difference": 0.05}
    body.update(change)
    response = post(admin, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_an_unfinished_pilot_is_refused_naming_the_readings_left(simulated):
    study, admin = simulated
    reading = CaseReading.objects.filter(session__assignment__reader_study=study).first()
    CaseReading.objects.filter(pk=reading.pk).update(
        state=ReadingState.OPEN, modified=timezone.now()
    )
    response = post(admin, {"pilot_study": str(study.pk), "auc_difference": 0.05})
    assert response.status_code == 400
    err = response.json()
    assert err["code"] == "samplesize_pilot_not_finished"
    assert err["params"]["expected"] - err["params"]["done"] == 1


def test_only_study_admins_plan_and_only_from_their_own_studies(simulated):
    study, _ = simulated
    reader = user_create(username="rd1", password="Pw-123456789", role=Role.READER)
    other = user_create(username="sa2", password="Pw-123456789", role=Role.STUDY_ADMIN)
    body = {"pilot_study": str(study.pk), "auc_difference": 0.05}
    assert post(reader, body).status_code == 403
    assert client_for(reader).get(URL).status_code == 403
    assert post(other, body).status_code == 404
    assert str(study.pk) not in {p["id"] for p in client_for(other).get(URL).json()["pilots"]}
