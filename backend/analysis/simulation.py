"""End-to-end simulation: simulated readers read a reader study through the real services.

The statistics engine's simulator (``boneread_ml.stats.simulate``) draws, for a known time ratio
and a known AUC gain, every reader's answer, confidence and reading time for every case in both
arms. This module replays those records through the same services the REST API calls, on the
real database: it creates the readers, the case set with its truth, the study and its frozen AI,
starts the study (the schedule is the product's own, seeded), and for each reading in the order
the product gives it opens the reading, sends the viewer's timer events (opened, first image,
submitted) and submits the answer. Time is simulated: a clock patched into
``django.utils.timezone.now`` advances by each reading's simulated seconds and by the wash-out
between sessions, so a study of weeks replays in about a minute. The patch is process-wide: run the simulator from
the management command or tests, never inside a web request.

What is simulated and not real: the cases are archive studies without images (a dedicated
patient, "SIMULATED READER STUDY"), and their "frozen AI" is a placeholder job of a model version
named ``simulation`` with no lesions; nobody looks at images in a simulation. Everything from the
study design to the answers, timer events, reading times and the analysis is the product's code.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import numpy as np
from django.db import transaction
from django.utils import timezone

from boneread_ml.stats.simulate import SimulationSpec, simulate_study

SIM_PATIENT_ID = "SIM-READER-STUDY"
SIM_MODEL_NAME = "simulation"


class SimulatedClock:
    """``timezone.now`` under the simulator's control (aware UTC datetimes)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@contextlib.contextmanager
def simulated_time(start: datetime) -> Iterator[SimulatedClock]:
    clock = SimulatedClock(start)
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


@dataclass
class SimulationResult:
    reader_study: Any
    spec: SimulationSpec
    readers: list[Any]


def _sim_studies(n_cases: int, tag: str) -> list[Any]:
    from studies.models import Patient, Study, StudyKind

    patient, _ = Patient.objects.get_or_create(
        patient_key=f"sim|{SIM_PATIENT_ID}",
        defaults={"patient_id": SIM_PATIENT_ID, "name": "SIMULATED^READER^STUDY"},
    )
    studies = []
    for k in range(1, n_cases + 1):
        study = Study(
            study_instance_uid=f"2.25.{uuid.uuid4().int}"[:64],
            patient=patient,
            accession_number=f"SIM{tag}{k:03d}"[:16],
            description="Simulated reader-study case (no images)",
            kind=StudyKind.OTHER,
        )
        study.full_clean()
        study.save()
        studies.append(study)
    return studies


def _placeholder_ai(case: Any, *, user: Any) -> None:
    """A succeeded job of the ``simulation`` model version, so the study can freeze 'AI'."""
    from inference.models import InferenceJob, JobState, ModelTask, ModelVersion

    model_version, _ = ModelVersion.objects.get_or_create(
        task=ModelTask.values[0],
        name=SIM_MODEL_NAME,
        version="1",
        defaults={"path": "", "checksum": "0" * 64, "model_card": "Simulated readers only."},
    )
    now = timezone.now()
    job = InferenceJob.objects.create(
        study=case.study,
        model_version=model_version,
        conditioning_text="",
        trigger="simulation",
        requested_by=user,
        state=JobState.SUCCEEDED,
        progress=1.0,
        queued_at=now,
        started_at=now,
        finished_at=now,
    )
    case.ai_job = job
    case.save(update_fields=["ai_job", "modified"])


#: Lesion marking of the simulated readers: chance to find each truth lesion and to label it
#: right, per arm; false marks per case (Poisson mean). A data-generating choice of the
#: simulator, not a statistic: the lesion-level analysis on the page is the engine's.
LESION_FIND = {"unaided": 0.70, "aided": 0.85}
LESION_LABEL_RIGHT = {"unaided": 0.80, "aided": 0.90}
FALSE_MARKS_PER_CASE = {"unaided": 0.30, "aided": 0.20}
ARM_INDEX = {"unaided": 0, "aided": 1}


def _truth_lesions(rng: np.random.Generator, positive: bool) -> list[dict[str, Any]]:
    """Truth lesions on the 256 x 1024 planar views: 1-3 metastases (and maybe one benign
    lesion) in a positive case, at most one benign lesion in a negative one."""
    labels = ["metastatic"] * int(rng.integers(1, 4)) if positive else []
    if rng.random() < 0.4:
        labels.append("benign")
    return [
        {
            "label": label,
            "location": {
                "kind": "planar",
                "view": str(rng.choice(["anterior", "posterior"])),
                "x": float(np.round(rng.uniform(30, 226), 1)),
                "y": float(np.round(rng.uniform(60, 960), 1)),
            },
        }
        for label in labels
    ]


def _reader_marks(
    rng: np.random.Generator, truth: list[dict[str, Any]], arm: str
) -> list[dict[str, Any]]:
    marks = []
    for lesion in truth:
        if rng.random() >= LESION_FIND[arm]:
            continue
        right = rng.random() < LESION_LABEL_RIGHT[arm]
        label = lesion["label"] if right else ({"benign", "metastatic"} - {lesion["label"]}).pop()
        location = dict(lesion["location"])
        location["x"] = float(max(0.0, location["x"] + rng.normal(0, 3)))
        location["y"] = float(max(0.0, location["y"] + rng.normal(0, 3)))
        marks.append({"label": label, "shape": "point", "location": location})
    for _ in range(int(rng.poisson(FALSE_MARKS_PER_CASE[arm]))):
        marks.append(
            {
                "label": str(rng.choice(["benign", "metastatic"])),
                "shape": "point",
                "location": {
                    "kind": "planar",
                    "view": str(rng.choice(["anterior", "posterior"])),
                    "x": float(np.round(rng.uniform(0, 255), 1)),
                    "y": float(np.round(rng.uniform(0, 1023), 1)),
                },
            }
        )
    return marks


def reader_study_simulate(
    *,
    admin: Any,
    title: str = "Simulated reader study",
    n_readers: int = 4,
    n_cases: int = 20,
    time_ratio: float = 0.62,
    auc_unaided: float = 0.80,
    auc_aided: float = 0.88,
    median_unaided_s: float = 90.0,
    washout_days: int = 28,
    seed: int = 0,
    flag_one_reading: bool = False,
) -> SimulationResult:
    """Create and finish a crossover reader study with simulated readers (see module docstring).

    Args:
        admin: the study admin who owns the study (and designs it).
        n_readers: an even number keeps the AB/BA crossover balanced.
        time_ratio, auc_unaided, auc_aided: the effects the analysis should recover.
        flag_one_reading: leave one reading's view open past ``max_case_seconds`` so that the
            flagged-time path is exercised (the demo shows it).
    """
    from accounts.models import Role
    from accounts.services import user_create
    from readerstudies.models import CaseReading, ReaderSession
    from readerstudies.services.design import (
        case_truth_set,
        reader_study_cases_add,
        reader_study_create,
        reader_study_reader_add,
        reader_study_start,
        reader_study_transition,
    )
    from readerstudies.services.events import reading_events_record
    from readerstudies.services.reading import reading_open, reading_submit

    spec = SimulationSpec(
        n_readers=n_readers,
        n_cases=n_cases,
        time_ratio=time_ratio,
        auc_unaided=auc_unaided,
        auc_aided=auc_aided,
        median_unaided_s=median_unaided_s,
        seed=seed,
    )
    records = simulate_study(spec)
    # (sim reader, arm, sim case) -> record
    by_key = {(r.reader, r.arm, r.case): r for r in records.itertuples(index=False)}
    sim_readers = sorted(records["reader"].unique())
    sim_cases = sorted(records["case"].unique())
    truth = records.groupby("case")["truth"].first().to_dict()
    tag = secrets.token_hex(2).upper()
    rng = np.random.default_rng(seed + 1)
    truth_lesions = {name: _truth_lesions(rng, bool(truth[name])) for name in sim_cases}
    max_case_seconds = 3600

    start = timezone.now() - timedelta(days=2 * washout_days + 30)
    with simulated_time(start) as clock, transaction.atomic():
        readers = [
            user_create(
                username=f"sim-{tag.lower()}-reader{j}",
                password=secrets.token_urlsafe(16),
                role=Role.READER,
                display_name=f"模拟阅片者 {j}",
            )
            for j in range(1, n_readers + 1)
        ]
        reader_study = reader_study_create(
            user=admin,
            title=title,
            description=(
                f"Simulated readers (engine seed {seed}): true time ratio {time_ratio}, "
                f"true mean AUC {auc_unaided} without AI and {auc_aided} with AI."
            ),
            washout_days=washout_days,
            max_case_seconds=max_case_seconds,
            seed=seed,
        )
        studies = _sim_studies(n_cases, tag)
        cases = reader_study_cases_add(
            reader_study=reader_study, user=admin, study_ids=[s.id for s in studies]
        )
        case_of_sim = dict(zip(sim_cases, cases, strict=True))
        sim_of_case = {case.id: name for name, case in case_of_sim.items()}
        for name, case in case_of_sim.items():
            case_truth_set(
                case=case,
                user=admin,
                metastasis_present=bool(truth[name]),
                lesions=truth_lesions[name],
            )
            _placeholder_ai(case, user=admin)
        for reader in readers:
            reader_study_reader_add(reader_study=reader_study, user=admin, reader=reader)
        reader_study_start(reader_study=reader_study, user=admin)

        # The product's schedule decides who reads aided first; pair each real reader with a
        # simulated reader of the same sequence (the engine's even readers read aided first).
        sim_first = {
            name: ("aided" if index % 2 == 0 else "unaided")
            for index, name in enumerate(sim_readers)
        }
        free = list(sim_readers)
        sim_of_reader: dict[Any, str] = {}
        for reader in readers:
            first = ReaderSession.objects.get(assignment__reader=reader, number=1).arm
            match = next((s for s in free if sim_first[s] == first), free[0])
            free.remove(match)
            sim_of_reader[reader.id] = match

        flag_left = flag_one_reading
        max_sessions = reader_study.sessions_per_reader
        for number in range(1, max_sessions + 1):
            if number > 1:
                clock.advance(washout_days * 86400 + 3600)
            for reader in readers:
                session = ReaderSession.objects.get(assignment__reader=reader, number=number)
                readings = CaseReading.objects.filter(session=session).select_related("case")
                for reading in readings.order_by("position"):
                    sim_case = sim_of_case[reading.case_id]
                    record = by_key[(sim_of_reader[reader.id], session.arm, sim_case)]
                    seconds = float(record.seconds)
                    if flag_left:
                        seconds, flag_left = max_case_seconds + 600.0, False
                    opened = clock.advance(5.0)
                    reading_open(reading=reading, user=reader)
                    view_id, ended = uuid.uuid4(), opened + timedelta(seconds=seconds)

                    def event(kind: str, at: datetime, sequence: int) -> dict[str, Any]:
                        return {
                            "id": uuid.uuid4(),
                            "view_id": view_id,  # noqa: B023 (used at once, in this loop)
                            "study_id": reading.case.study_id,  # noqa: B023
                            "type": kind,
                            "client_time": at,
                            "sequence": sequence,
                            "reading_id": reading.id,  # noqa: B023
                            "ai_shown": session.arm == "aided",  # noqa: B023
                        }

                    clock.now = ended
                    reading_events_record(
                        user=reader,
                        events=[
                            event("opened", opened, 0),
                            event("first_image", opened + timedelta(seconds=1), 1),
                            event("submitted", ended, 2),
                        ],
                        sent_at=ended,
                    )
                    reading_submit(
                        reading=reading,
                        user=reader,
                        data={
                            "metastasis_present": record.answer == "yes",
                            "confidence": int(round(record.rating)),
                            "comment": "",
                            "lesions": _reader_marks(
                                # One generator per reader, arm and case: the marks do not
                                # depend on the order the product's schedule gives.
                                np.random.default_rng(
                                    [
                                        seed,
                                        sim_readers.index(sim_of_reader[reader.id]),
                                        ARM_INDEX[session.arm],
                                        sim_cases.index(sim_case),
                                    ]
                                ),
                                truth_lesions[sim_case],
                                session.arm,
                            ),
                        },
                    )
                clock.advance(600.0)
        reader_study_transition(
            reader_study=reader_study, user=admin, action="close", reason="simulation finished"
        )
    reader_study.refresh_from_db()
    return SimulationResult(reader_study=reader_study, spec=spec, readers=readers)
