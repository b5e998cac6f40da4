"""The reading schedule from a seed: arms per reader and session, case order per reader and
session. Pure functions (no database): the same seed, readers and cases give the same schedule.

Randomness comes from ``random.Random`` seeded with a string (hashed with SHA-512 by Python,
stable across runs and platforms), one generator per purpose, so that adding a reader does not
change another reader's case order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

UNAIDED, AIDED = "unaided", "aided"


@dataclass(frozen=True)
class SessionPlan:
    number: int
    arm: str
    case_order: tuple[str, ...]


@dataclass(frozen=True)
class ReaderPlan:
    reader_key: str
    sessions: tuple[SessionPlan, ...]


def first_arms(*, seed: int, reader_keys: Sequence[str]) -> dict[str, str]:
    """Counterbalanced arms: a seeded shuffle of the readers, the first half aided.

    With an odd number of readers the extra one starts unaided (``n // 2`` aided). Crossover:
    the arm of session 1 (session 2 is the other); parallel: the reader's only arm.
    """
    keys = sorted(reader_keys)
    random.Random(f"boneread-arms:{seed}").shuffle(keys)
    aided = set(keys[: len(keys) // 2])
    return {key: AIDED if key in aided else UNAIDED for key in keys}


def case_order(*, seed: int, reader_key: str, session: int, case_keys: Sequence[str]) -> list[str]:
    """The order in which one reader reads the cases in one session."""
    order = sorted(case_keys)
    random.Random(f"boneread-order:{seed}:{reader_key}:{session}").shuffle(order)
    return order


def schedule(
    *, seed: int, design: str, reader_keys: Sequence[str], case_keys: Sequence[str]
) -> list[ReaderPlan]:
    """Every reader's sessions: crossover 2 (opposite arms), parallel 1; every case each."""
    arms = first_arms(seed=seed, reader_keys=reader_keys)
    plans = []
    for key in sorted(reader_keys):
        first = arms[key]
        session_arms = [first]
        if design == "crossover":
            session_arms.append(AIDED if first == UNAIDED else UNAIDED)
        plans.append(
            ReaderPlan(
                reader_key=key,
                sessions=tuple(
                    SessionPlan(
                        number=number,
                        arm=arm,
                        case_order=tuple(
                            case_order(
                                seed=seed, reader_key=key, session=number, case_keys=case_keys
                            )
                        ),
                    )
                    for number, arm in enumerate(session_arms, start=1)
                ),
            )
        )
    return plans
