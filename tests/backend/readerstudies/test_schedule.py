"""The seeded schedule (pure functions): reproducible, counterbalanced, every case each session."""

from collections import Counter

from readerstudies.schedule import case_order, first_arms, schedule

READERS = [str(i) for i in range(1, 9)]
CASES = [f"case-{i:02d}" for i in range(20)]


def test_same_seed_gives_the_same_schedule_and_another_seed_another():
    one = schedule(seed=7, design="crossover", reader_keys=READERS, case_keys=CASES)
    again = schedule(seed=7, design="crossover", reader_keys=list(reversed(READERS)),
                     case_keys=list(reversed(CASES)))  # fmt: skip
    other = schedule(seed=8, design="crossover", reader_keys=READERS, case_keys=CASES)
    assert one == again
    assert one != other


def test_crossover_is_counterbalanced_and_fully_crossed():
    plans = schedule(seed=3, design="crossover", reader_keys=READERS, case_keys=CASES)
    first = Counter(plan.sessions[0].arm for plan in plans)
    assert first == {"aided": 4, "unaided": 4}
    for plan in plans:
        assert [s.number for s in plan.sessions] == [1, 2]
        assert {s.arm for s in plan.sessions} == {"aided", "unaided"}
        for session in plan.sessions:
            assert sorted(session.case_order) == sorted(CASES)


def test_odd_reader_count_puts_the_extra_reader_unaided_first():
    arms = first_arms(seed=5, reader_keys=["1", "2", "3"])
    assert Counter(arms.values()) == {"aided": 1, "unaided": 2}


def test_orders_are_randomised_per_reader_and_session():
    plans = schedule(seed=11, design="crossover", reader_keys=READERS, case_keys=CASES)
    orders = {s.case_order for plan in plans for s in plan.sessions}
    assert len(orders) == 2 * len(READERS)  # 20! orders: a clash would be a bug
    assert tuple(sorted(CASES)) not in orders


def test_adding_a_reader_keeps_the_others_case_orders():
    before = case_order(seed=2, reader_key="1", session=1, case_keys=CASES)
    plans = schedule(seed=2, design="parallel", reader_keys=[*READERS, "99"], case_keys=CASES)
    assert list(next(p for p in plans if p.reader_key == "1").sessions[0].case_order) == before


def test_parallel_design_splits_readers_between_arms_with_one_session():
    plans = schedule(seed=1, design="parallel", reader_keys=READERS, case_keys=CASES)
    assert all(len(plan.sessions) == 1 for plan in plans)
    assert Counter(plan.sessions[0].arm for plan in plans) == {"aided": 4, "unaided": 4}
