"""The racer: SMAC's intensification on shared seeds, as pure bookkeeping."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from fidelity.racing import Racer, RaceRule


def _run_queue(r: Racer, loss: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    """Start and finish every queued job, in order, with ``loss[(config, seed)]``."""
    done = []
    while (job := r.next_job()) is not None:
        r.start(job.config_id, job.seed_index)
        r.report(job.config_id, job.seed_index, loss[job.config_id, job.seed_index])
        done.append((job.config_id, job.seed_index))
    return done


def test_a_dominated_challenger_is_rejected_after_its_first_paired_seed() -> None:
    r = Racer(RaceRule(max_seeds=3))
    r.report(0, 0, 1.0)  # the first config at the top rung is the incumbent
    assert r.incumbent == 0 and r.next_job() is None
    r.report(1, 0, 5.0)  # worse on the shared seed 0
    assert 1 in r.rejected
    assert [(j.config_id, j.seed_index, j.role) for j in r.queue] == [(0, 1, "incumbent")]


def test_an_equal_challenger_earns_its_second_seed() -> None:
    r = Racer(RaceRule(max_seeds=3))
    r.report(0, 0, 1.0)
    r.report(1, 0, 1.0)  # ties the incumbent on seed 0
    assert [(j.config_id, j.seed_index) for j in r.queue] == [(0, 1), (1, 1)]
    assert 1 not in r.rejected


def test_a_better_challenger_takes_over_once_it_has_the_incumbents_seeds() -> None:
    r = Racer(RaceRule(max_seeds=3))
    r.report(0, 0, 1.0)
    r.report(1, 0, 0.5)
    r.start(0, 1)
    r.start(1, 1)
    r.report(1, 1, 0.5)
    assert r.incumbent == 0 and 1 in r.waiting  # it waits for the incumbent's seed 1
    r.report(0, 1, 1.0)
    assert r.incumbent == 1 and 0 in r.retired
    r.report(2, 0, 0.5)  # the new incumbent gains its third seed; the challenger its second
    assert [(j.config_id, j.seed_index) for j in r.queue] == [(1, 2), (2, 1)]


def test_seeds_grow_in_doubling_steps_to_the_incumbents() -> None:
    r = Racer(RaceRule(max_seeds=8))
    loss = {(c, k): 1.0 for c in range(20) for k in range(8)}
    r.report(0, 0, 1.0)
    for c in range(1, 8):  # seven challengers, each gives the incumbent a seed: it reaches 8
        r.report(c, 0, 2.0)
        _run_queue(r, loss)
    assert r.n_seeds(0) == 8
    r.report(9, 0, 1.0)
    steps = []
    while r.queue:  # one wave at a time: every queued job runs, then all report
        wave = [r.start(j.config_id, j.seed_index) for j in list(r.queue)]
        steps.append(len(wave))
        for j in wave:
            r.report(j.config_id, j.seed_index, loss[j.config_id, j.seed_index])
    assert r.n_seeds(9) == 8 and 9 in r.retired  # raced 1 -> 2 -> 4 -> 8, then tied
    assert steps == [1, 2, 4]


@pytest.mark.parametrize("compare", ["paired", "both"])
@pytest.mark.parametrize("max_seeds", [1, 2, 3, 5])
def test_the_cap_holds_and_no_seed_is_run_twice(compare: str, max_seeds: int) -> None:
    rng = np.random.default_rng(max_seeds)
    r = Racer(RaceRule(max_seeds=max_seeds, compare=compare))  # type: ignore[arg-type]
    runs: list[tuple[int, int]] = []
    truth = rng.normal(size=40)
    loss = {(c, k): truth[c] + rng.normal() if rng.random() > 0.2 else math.inf
            for c, k in itertools.product(range(40), range(max_seeds))}
    for c in range(40):
        r.report(c, 0, loss[c, 0])
        runs.append((c, 0))
        for _ in range(int(rng.integers(0, 3))):  # finish some queued jobs, not all
            if (job := r.next_job()) is None:
                break
            r.start(job.config_id, job.seed_index)
            r.report(job.config_id, job.seed_index, loss[job.config_id, job.seed_index])
            runs.append((job.config_id, job.seed_index))
    runs += _run_queue(r, loss)
    assert len(runs) == len(set(runs))
    assert max(r.n_seeds(c) for c in range(40)) <= max_seeds
    assert all(k < max_seeds for _, k in runs)
    if max_seeds == 1:
        assert len(runs) == 40  # racing with one seed is no racing


def test_start_refuses_a_job_that_is_not_next() -> None:
    r = Racer()
    r.report(0, 0, 1.0)
    r.report(1, 0, 1.0)
    with pytest.raises(ValueError, match="not the next"):
        r.start(1, 1)


def test_a_failed_first_seed_never_races() -> None:
    r = Racer()
    r.report(0, 0, math.inf)
    assert r.incumbent is None and 0 in r.rejected
    r.report(1, 0, 2.0)
    assert r.incumbent == 1 and r.next_job() is None


def test_rule_validation() -> None:
    with pytest.raises(ValueError, match="max_seeds"):
        RaceRule(max_seeds=0)
    with pytest.raises(ValueError, match="compare"):
        RaceRule(compare="mean")  # type: ignore[arg-type]
