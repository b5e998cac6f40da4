"""CSV exports of a reader study, de-identified by default.

* ``events``: every stored timer event (server and client time, verdict) of the study's readings;
* ``case-times``: one row per submitted reading and its time (``python -m boneread_ml stats time
  --csv``: columns reader, arm, session, case, seconds);
* ``answers``: one row per submitted answer (``stats mrmc --csv``: reader, treatment, case,
  truth, rating);
* ``lesions``: the readers' lesion marks and the truth lesions;
* ``results``: the analysis results, one statistic per row.

De-identified: readers as R1..Rn and cases as C001.. (the same pseudonyms as the results page);
no patient name or ID, accession number, study UID or user name. Identified (admins only): user
names and accession numbers (or study UIDs).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import pandas as pd

from analysis.tables import StudyTables, case_labels_for, reader_labels_for
from core.exceptions import NotFoundError
from readerstudies.models import ReaderStudy, ReadingEvent

EXPORT_KINDS = ("events", "case-times", "answers", "lesions", "results")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Spreadsheet-safe: text that would start a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return value


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _frame_csv(frame: pd.DataFrame) -> str:
    return _csv(list(frame.columns), frame.itertuples(index=False, name=None))


def _events_csv(*, reader_study: ReaderStudy, identified: bool) -> str:
    readers = reader_labels_for(reader_study=reader_study, identified=identified)
    cases = case_labels_for(reader_study=reader_study, identified=identified)
    events = (
        ReadingEvent.objects.filter(
            case_view__reading__session__assignment__reader_study=reader_study
        )
        .select_related("case_view__reading__session__assignment")
        .order_by("case_view__reading__session__assignment__created", "server_time", "sequence")
    )
    rows = []
    for event in events.iterator():
        view = event.case_view
        reading = view.reading
        session = reading.session
        rows.append(
            [
                readers.get(session.assignment.reader_id, "?"),
                session.arm,
                session.number,
                cases.get(reading.case_id, "?"),
                str(view.client_view_id),
                event.kind,
                event.sequence,
                event.client_time.isoformat(),
                event.server_time.isoformat(),
                event.received_at.isoformat(),
                "" if event.ai_shown is None else int(event.ai_shown),
                event.reject_code,
                view.flagged,
            ]
        )
    header = [
        "reader", "arm", "session", "case", "view", "type", "sequence", "client_time",
        "server_time", "received_at", "ai_shown", "reject_code", "view_flagged",
    ]  # fmt: skip
    return _csv(header, rows)


def _results_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []

    def add(section: str, reader: Any, arm: Any, statistic: str, value: Any, ci: Any = None):
        low, high = (ci or [None, None])[:2]
        rows.append([section, reader or "", arm or "", statistic, value, low, high])

    time = results.get("time") or {}
    for row in time.get("per_reader") or []:
        add("time", row["reader"], "unaided", "total_minutes", row["unaided_minutes"])
        add("time", row["reader"], "aided", "total_minutes", row["aided_minutes"])
        add("time", row["reader"], "", "paired_t_p", row["t_p"])
        add("time", row["reader"], "", "wilcoxon_p", row["wilcoxon_p"])
        add("time", row["reader"], "", "ratio_reader", row.get("ratio"), row.get("ratio_ci"))
    if time:
        add("time", "", "unaided", "mean_total_minutes", time["mean_unaided_minutes"])
        add("time", "", "aided", "mean_total_minutes", time["mean_aided_minutes"])
        add("time", "", "", "ratio_mixed_model", time["ratio"], time["ratio_ci"])
        add("time", "", "", "ratio_p", time["ratio_p"])
        if time.get("carryover"):
            add("time", "", "", "carryover_log_estimate", time["carryover"]["estimate"])
            add("time", "", "", "carryover_p", time["carryover"]["p"])
    accuracy = results.get("accuracy") or {}
    for row in [*(accuracy.get("per_reader") or []), *(accuracy.get("pooled") or [])]:
        reader = row.get("reader", "pooled")
        for stat in ("sensitivity", "specificity", "auc"):
            add("accuracy", reader, row["arm"], stat, row[stat], row[f"{stat}_ci"])
    for row in accuracy.get("delong") or []:
        add("delong", row["reader"], "", "auc_difference", row["difference"], row["ci"])
        add("delong", row["reader"], "", "p", row["p"])
    mrmc = results.get("mrmc")
    if mrmc:
        for arm, value in (mrmc.get("auc_mean") or {}).items():
            add("mrmc", "", arm, "auc_mean", value, mrmc["single_treatment"][arm]["ci"])
        add("mrmc", "", "", "auc_difference", mrmc["difference"], mrmc["ci"])
        add("mrmc", "", "", "F" if "F" in mrmc else "chi2", mrmc.get("F", mrmc.get("chi2")))
        add("mrmc", "", "", "df_denominator", mrmc["df_denominator"])
        add("mrmc", "", "", "p", mrmc["p"])
    lesions = results.get("lesions") or {}
    for row in lesions.get("per_reader") or []:
        add("lesions", row["reader"], row["arm"], "localisation_sensitivity",
            row["localisation_sensitivity"], row.get("localisation_sensitivity_ci"))  # fmt: skip
        add("lesions", row["reader"], row["arm"], "false_marks_per_case",
            row["false_marks_per_case"])  # fmt: skip
    return rows


def export_csv(
    *,
    reader_study: ReaderStudy,
    kind: str,
    tables: StudyTables | None = None,
    results: dict[str, Any] | None = None,
    identified: bool = False,
) -> str:
    """The CSV text of export ``kind`` (one of :data:`EXPORT_KINDS`)."""
    if kind == "events":
        return _events_csv(reader_study=reader_study, identified=identified)
    if kind == "case-times" and tables is not None:
        return _frame_csv(tables.times)
    if kind == "answers" and tables is not None:
        answers = tables.answers.assign(treatment=tables.answers["arm"])
        return _frame_csv(
            answers[["reader", "treatment", "arm", "session", "case", "truth", "answer", "rating"]]
        )
    if kind == "lesions" and tables is not None:
        marks = tables.marks.assign(source="reader")
        truth = tables.truth_lesions.rename(columns={"lesion": "mark"}).assign(source="truth")
        return _frame_csv(pd.concat([marks, truth], ignore_index=True))
    if kind == "results" and results is not None:
        return _csv(
            ["section", "reader", "arm", "statistic", "value", "ci_low", "ci_high"],
            _results_rows(results),
        )
    raise NotFoundError(
        f"No export named {kind!r}; the exports are: {', '.join(EXPORT_KINDS)}.",
        extra={"exports": list(EXPORT_KINDS)},
    )
