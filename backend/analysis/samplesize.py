"""Sample-size planning for a new reader study (study admins), from a finished pilot study's
variance components or from values the admin enters.

AUC: Hillis-Obuchowski power of the OR random-reader random-case test
(``boneread_ml.stats.samplesize.auc_sample_size``) from the pilot's OR variance components.
Time: simulation from the pilot's fitted mixed model of log time
(``boneread_ml.stats.samplesize.time_sample_size``). Every number is the engine's; this module
checks the inputs (each bad one a 400 with a code the browser translates), picks the pilot's
components from its results and reshapes the answer.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Count, Q

from accounts.models import Role
from accounts.permissions import has_role
from analysis.results import _clean
from analysis.selectors import reader_study_results
from boneread_ml.stats.data import StatsInputError
from boneread_ml.stats.samplesize import auc_sample_size, pilot_components, time_sample_size
from core.exceptions import ApplicationError
from readerstudies.models import CaseReading, ReadingState
from readerstudies.selectors.design import reader_studies_for_admin, reader_study_get_for_admin

DEFAULT_READERS = [4, 6, 8, 10]
MAX_READER_ROWS = 8
AUC_FIELDS = ("var_tr", "var", "cov1", "cov2", "cov3", "n_cases")
TIME_FIELDS = ("reader_arm", "residual")
MAX_CASES_AUC = 2000
MAX_CASES_TIME = 1000


def _error(code: str, message: str, **params: Any) -> ApplicationError:
    return ApplicationError(message, code=code, params=params, extra={"code": code, **params})


def _number(data: dict, key: str, default: Any = None) -> float | None:
    value = data.get(key, default)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _error("samplesize_not_a_number", f"{key} must be a number.", field=key) from None
    if not math.isfinite(number):
        raise _error("samplesize_not_a_number", f"{key} must be a finite number.", field=key)
    return number


def check_planner(*, user: Any) -> None:
    if not has_role(user, Role.ADMIN, Role.STUDY_ADMIN):
        raise ApplicationError("Only study admins and admins plan reader studies.", status_code=403)


def pilot_candidates(*, user: Any) -> list[dict[str, Any]]:
    """The reader studies this user administers, with whether each is finished (every expected
    reading submitted), for the pilot choice."""
    studies = reader_studies_for_admin(user=user).order_by("-created")
    out = []
    for study in studies:
        readings = CaseReading.objects.filter(session__assignment__reader_study=study)
        counts = readings.aggregate(
            total=Count("id"), done=Count("id", filter=Q(state=ReadingState.SUBMITTED))
        )
        out.append(
            {
                "id": str(study.id),
                "title": study.title,
                "state": study.state,
                "readings_done": counts["done"],
                "readings_expected": counts["total"],
                "finished": counts["total"] > 0 and counts["done"] == counts["total"],
            }
        )
    return out


def _inputs(data: dict) -> dict[str, Any]:
    source = data.get("source", "pilot")
    if source not in ("pilot", "values"):
        raise _error(
            "samplesize_bad_source", "source must be 'pilot' or 'values'.", source=str(source)
        )
    auc_difference = _number(data, "auc_difference")
    time_ratio = _number(data, "time_ratio")
    if auc_difference is None and time_ratio is None:
        raise _error(
            "samplesize_no_target",
            "Give the AUC difference or the time ratio to detect (or both).",
        )
    if auc_difference is not None and not 0 < abs(auc_difference) < 1:
        raise _error(
            "samplesize_bad_auc_difference",
            f"The AUC difference must be between 0 and 1 (not 0); got {auc_difference}.",
            value=auc_difference,
        )
    if time_ratio is not None and not (0 < time_ratio < 10 and time_ratio != 1):
        raise _error(
            "samplesize_bad_time_ratio",
            f"The time ratio must be positive, below 10 and not 1; got {time_ratio}.",
            value=time_ratio,
        )
    alpha = _number(data, "alpha", 0.05)
    if alpha is None or not 0 < alpha <= 0.2:
        raise _error(
            "samplesize_bad_alpha",
            f"The significance level must be above 0 and at most 0.2; got {alpha}.",
            value=alpha,
        )
    power = _number(data, "power", 0.8)
    if power is None or not alpha < power < 1:
        raise _error(
            "samplesize_bad_power",
            f"The power must be above the significance level ({alpha}) and below 1; got {power}.",
            value=power,
            alpha=alpha,
        )
    readers = data.get("readers", DEFAULT_READERS)
    if (
        not isinstance(readers, list)
        or not 1 <= len(readers) <= MAX_READER_ROWS
        or not all(isinstance(r, int) and not isinstance(r, bool) for r in readers)
        or not all(2 <= r <= 100 for r in readers)
    ):
        raise _error(
            "samplesize_bad_readers",
            f"readers must be a list of 1 to {MAX_READER_ROWS} whole numbers from 2 to 100.",
            max_rows=MAX_READER_ROWS,
        )
    n_sim = data.get("n_sim", 100)
    if not isinstance(n_sim, int) or isinstance(n_sim, bool) or not 20 <= n_sim <= 500:
        raise _error(
            "samplesize_bad_n_sim",
            "n_sim (simulated studies per design) must be a whole number from 20 to 500.",
        )
    time_measure = data.get("time_measure", "active")
    if time_measure not in ("active", "total"):
        raise _error("samplesize_bad_time_measure", "time_measure must be 'active' or 'total'.")
    return {
        "source": source,
        "auc_difference": auc_difference,
        "time_ratio": time_ratio,
        "power": power,
        "alpha": alpha,
        "readers": sorted(set(readers)),
        "n_sim": n_sim,
        "time_measure": time_measure,
    }


def _components(data: dict, key: str, fields: tuple[str, ...]) -> dict[str, float]:
    given = data.get(key)
    if not isinstance(given, dict):
        raise _error(
            "samplesize_missing_components",
            f"{key} must give {', '.join(fields)}.",
            field=key,
            fields=list(fields),
        )
    out = {}
    for name in fields:
        value = _number(given, name)
        if value is None:
            raise _error(
                "samplesize_missing_components",
                f"{key} must give {', '.join(fields)}; {name} is missing.",
                field=key,
                fields=list(fields),
            )
        out[name] = value
    return out


def _pilot(user: Any, data: dict, inputs: dict) -> tuple[dict, dict | None, dict | None]:
    pilot_id = data.get("pilot_study")
    if not pilot_id:
        raise _error("samplesize_no_pilot", "Choose the finished pilot study.")
    study = reader_study_get_for_admin(user=user, reader_study_id=pilot_id)
    results = reader_study_results(reader_study=study, time_measure=inputs["time_measure"])
    design = results["design"]
    if not design.get("complete"):
        raise _error(
            "samplesize_pilot_not_finished",
            f"The pilot study is not finished: {design.get('readings_done')} of "
            f"{design.get('readings_expected')} readings submitted.",
            done=design.get("readings_done"),
            expected=design.get("readings_expected"),
        )
    auc = time = None
    if inputs["auc_difference"] is not None:
        mrmc = results.get("mrmc")
        if not mrmc or not mrmc.get("var_components"):
            raise _error(
                "samplesize_pilot_no_auc",
                "The pilot study has no MRMC analysis of the AUC to plan from: "
                + "; ".join(n for n in results.get("notes", []) if n.startswith("MRMC")),
            )
        vc = mrmc["var_components"]
        n_cases = mrmc.get("n_cases") or design["n_cases"]
        auc = pilot_components(vc, n_cases=int(n_cases))
    if inputs["time_ratio"] is not None:
        section = results.get("time")
        vc = ((section or {}).get("model") or {}).get("variance_components")
        if not vc:
            raise _error(
                "samplesize_pilot_no_time",
                "The pilot study has no reading-time model to plan from.",
            )
        time = {name: float(vc.get(name, 0.0)) for name in ("reader", "case", "reader_arm")}
        time["residual"] = float(vc["residual"])
    pilot = {
        "id": str(study.id),
        "title": study.title,
        "n_readers": design["n_readers"],
        "n_cases": design["n_cases"],
        "observed_auc_difference": (results.get("mrmc") or {}).get("difference"),
        "observed_time_ratio": (results.get("time") or {}).get("ratio"),
        "time_measure": inputs["time_measure"],
    }
    return pilot, auc, time


def sample_size_plan(*, user: Any, data: dict) -> dict[str, Any]:
    """The readers x cases table(s) for the inputs (shape: docs/reader-study-analysis.md)."""
    inputs = _inputs(data)
    pilot = None
    if inputs["source"] == "pilot":
        pilot, auc_vc, time_vc = _pilot(user, data, inputs)
    else:
        auc_vc = (
            _components(data, "auc_components", AUC_FIELDS)
            if inputs["auc_difference"] is not None
            else None
        )
        time_vc = (
            _components(data, "time_components", TIME_FIELDS)
            if inputs["time_ratio"] is not None
            else None
        )
        if auc_vc is not None:
            if auc_vc["n_cases"] < 2 or auc_vc["n_cases"] != int(auc_vc["n_cases"]):
                raise _error(
                    "samplesize_bad_components",
                    "auc_components.n_cases (the pilot's cases) must be a whole number >= 2.",
                    field="auc_components",
                )
            auc_vc["n_cases"] = int(auc_vc["n_cases"])
    out: dict[str, Any] = {"inputs": inputs, "pilot": pilot, "auc": None, "time": None}
    try:
        if auc_vc is not None:
            out["auc"] = {
                "components": auc_vc,
                "max_cases": MAX_CASES_AUC,
                "rows": auc_sample_size(
                    effect=inputs["auc_difference"],
                    pilot=auc_vc,
                    power=inputs["power"],
                    alpha=inputs["alpha"],
                    readers=inputs["readers"],
                    max_cases=MAX_CASES_AUC,
                    floor_var_tr=True,
                ),
                # a negative reader x treatment variance estimate (common in small pilots) is
                # set to 0, as Hillis, Obuchowski & Berbaum (2011) advise for sizing
                "var_tr_floored": auc_vc["var_tr"] < 0,
            }
        if time_vc is not None:
            out["time"] = {
                "components": time_vc,
                "max_cases": MAX_CASES_TIME,
                "rows": time_sample_size(
                    time_ratio=inputs["time_ratio"],
                    variance_components=time_vc,
                    power=inputs["power"],
                    alpha=inputs["alpha"],
                    readers=inputs["readers"],
                    max_cases=MAX_CASES_TIME,
                    n_sim=inputs["n_sim"],
                ),
            }
    except StatsInputError as exc:
        raise _error("samplesize_invalid", f"{exc}.", reason=str(exc)) from exc
    return _clean(out)
