"""Racing inside a study: paired seeds, budget charged, resume mid-race, variants by name."""

from __future__ import annotations

from pathlib import Path

import pytest

import hyperpilot as hp
from hyperpilot import seeds
from hyperpilot.methods import make_method, parse_method
from hyperpilot.study import Study
from tests.hyperpilot.objectives import SPACE, noisy_branin

FID = hp.Fidelity(1, 9, 3)


def _tell(s: Study, trials: list[hp.Trial]) -> None:
    for t in trials:
        s.tell(t, *noisy_branin(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))


def _drive(s: Study, n: int, batch: int = 2) -> Study:
    while len(s.results) < n:
        _tell(s, s.ask(batch))
    return s


def _runs(s: Study) -> list[tuple]:
    return [(r.trial.trial_id, r.trial.config_id, r.trial.budget, r.trial.resume_budget,
             r.trial.seed_index, r.trial.seed, r.value) for r in s.results]


def test_race_runs_are_paired_from_scratch_and_charged_to_the_budget() -> None:
    s = _drive(Study(SPACE, FID, "hyperband:race", seed=1), 80)
    races = [r.trial for r in s.results if r.trial.seed_index > 0]
    assert races, "no race in 80 trials"
    for t in races:
        assert t.budget == FID.max and t.resume_budget == 0 and t.info["source"] == "race"
        assert t.bracket is None and t.rung is None
        assert t.seed == seeds.paired_seed(1, t.seed_index)
    assert {r.trial.seed for r in s.results if r.trial.seed_index == 0} == {seeds.paired_seed(1, 0)}
    spent = sum(r.trial.budget - r.trial.resume_budget for r in s.results) / FID.max
    assert s.budget_used() == pytest.approx(spent)
    racer = s.method.racer  # type: ignore[attr-defined]
    assert max(racer.n_seeds(c) for c in racer.losses) <= 3


def test_budget_run_stops_with_race_runs_counted() -> None:
    s = Study(SPACE, FID, "random:race", seed=0).run(noisy_branin, budget=12)
    assert 12 <= s.budget_used() < 13
    assert any(r.trial.seed_index > 0 for r in s.results)


def test_resume_in_the_middle_of_a_race(tmp_path: Path) -> None:
    """Crash with race runs asked and not told: they come back as they were, and the study
    continues without running any seed of a config twice."""
    db = tmp_path / "r.sqlite"
    part = Study(SPACE, FID, "hyperband:race", seed=1, storage=db)
    while not any(t.seed_index > 0 for t in part.pending):
        _tell(part, part.ask(2)[:1])  # leave one trial of each ask running
    left = part.pending
    part.storage.close()
    resumed = Study(SPACE, FID, "hyperband:race", seed=1, storage=db)
    assert resumed.pending == left
    again = resumed.ask(len(left))
    assert again == left
    _tell(resumed, again)
    _drive(resumed, 70)
    keys = [(c, b, k) for _, c, b, _, k, _, _ in _runs(resumed)]
    assert len(keys) == len(set(keys))


def test_uninterrupted_and_resumed_studies_agree(tmp_path: Path) -> None:
    full = _drive(Study(SPACE, FID, "hyperband:race", seed=1), 70)
    db = tmp_path / "r.sqlite"
    part = _drive(Study(SPACE, FID, "hyperband:race", seed=1, storage=db), 40)
    part.ask(2)  # asked, never told: the crash
    part.storage.close()
    resumed = _drive(Study(SPACE, FID, "hyperband:race", seed=1, storage=db), 70)
    assert _runs(resumed) == _runs(full)
    assert any(k > 0 for *_, k, _, _ in _runs(full))


def test_racing_options_and_names() -> None:
    assert parse_method("hyperband:race").variant == "race"
    m = make_method("gp-bo:race", SPACE, FID, 0)
    assert m.paired_seeds and m.options()["racing"] == {"max_seeds": 3, "compare": "paired"}
    m = make_method("hyperband", SPACE, FID, 0, racing={"max_seeds": 5, "compare": "both"})
    assert m.options()["racing"] == {"max_seeds": 5, "compare": "both"}
    assert "racing" not in make_method("hyperband", SPACE, FID, 0).options()
    with pytest.raises(ValueError, match="max_seeds"):
        make_method("random", SPACE, FID, 0, racing={"max_seeds": 0})


def test_a_store_of_a_racing_study_refuses_a_method_without_racing(tmp_path: Path) -> None:
    from hyperpilot.storage import StorageError

    db = tmp_path / "r.sqlite"
    _drive(Study(SPACE, FID, "hyperband:race", seed=0, storage=db), 4).storage.close()
    with pytest.raises(StorageError, match="method"):
        Study(SPACE, FID, "hyperband", seed=0, storage=db)
