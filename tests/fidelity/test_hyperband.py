"""The Hyperband schedule against Li et al. (2017), Table 1, and the bracket bookkeeping."""

from __future__ import annotations

import math

import pytest

from fidelity import HyperbandScheduler, hyperband_brackets


def test_table1_of_li_et_al_2017() -> None:
    b = hyperband_brackets(1, 81, 3)
    assert [[n for n, _ in br] for br in b] == [[81, 27, 9, 3, 1], [34, 11, 3, 1], [15, 5, 1],
                                                 [8, 2], [5]]
    assert [[r for _, r in br] for br in b] == [[1, 3, 9, 27, 81], [3, 9, 27, 81], [9, 27, 81],
                                                 [27, 81], [81]]


def test_single_fidelity_is_one_rung() -> None:
    assert hyperband_brackets(52, 52, 3) == [[(1, 52.0)]]


def test_non_integer_ratio() -> None:
    b = hyperband_brackets(1, 52, 3)
    assert len(b) == 4 and b[0][-1][1] == 52 and math.isclose(b[0][0][1], 52 / 27)


@pytest.mark.parametrize("args", [(0, 81, 3), (10, 5, 3), (1, 81, 1)])
def test_bad_arguments(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        hyperband_brackets(*args)


def _run(sched: HyperbandScheduler, losses: dict[int, float], n: int) -> list:
    jobs = []
    next_id = 0
    for _ in range(n):
        job = sched.next_job()
        cid = job.config_id if job.is_promotion else next_id
        if not job.is_promotion:
            next_id += 1
        sched.start(job, cid)
        sched.report(cid, job.rung, losses.get(cid, float(cid)))
        jobs.append((job, cid))
    return jobs


def test_async_promotes_top_third_as_soon_as_ready() -> None:
    s = HyperbandScheduler(1, 9, 3, "async")
    jobs = _run(s, {}, 4)
    # after three results in rung 0, the best (config 0, loss 0) goes up at once
    assert [j.is_promotion for j, _ in jobs] == [False, False, False, True]
    assert jobs[3][0].config_id == 0 and jobs[3][0].resume_budget == 1 and jobs[3][0].budget == 3


def test_sync_waits_for_the_whole_rung() -> None:
    s = HyperbandScheduler(1, 9, 3, "sync")
    first = hyperband_brackets(1, 9, 3)[0][0][0]
    jobs = _run(s, {}, first + 1)
    assert not any(j.is_promotion for j, _ in jobs[:first])
    assert jobs[first][0].is_promotion


def test_failures_are_never_promoted() -> None:
    s = HyperbandScheduler(1, 9, 3, "async")
    jobs = _run(s, {0: math.inf, 1: math.inf, 2: math.inf}, 4)
    assert not jobs[3][0].is_promotion


def test_full_schedule_uses_table_counts() -> None:
    s = HyperbandScheduler(1, 81, 3, "sync")
    jobs = _run(s, {}, 81 + 27 + 9 + 3 + 1)
    per_budget: dict[float, int] = {}
    for j, _ in jobs:
        if j.bracket_id == 0:
            per_budget[j.budget] = per_budget.get(j.budget, 0) + 1
    assert per_budget == {1: 81, 3: 27, 9: 9, 27: 3, 81: 1}
