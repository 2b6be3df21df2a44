"""``HyperPilotSampler`` and ``CurvePruner`` in Optuna, after Optuna's own sampler-conformance
patterns (``tests/samplers_tests/test_samplers.py``): every distribution, conditional
parameters, failed and pruned trials, ``enqueue_trial``, batch asks, RDB storage with two
processes; and rl-zoo3's tuner with our sampler."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")

from hyperpilot.integrations.optuna import CurvePruner, HyperPilotSampler, decisions  # noqa: E402
from hyperpilot.integrations.optuna.history import ladder  # noqa: E402

optuna.logging.set_verbosity(logging.WARNING)
REPO = Path(__file__).resolve().parents[3]
FAST_MODEL = {"n_init": 3, "num_restarts": 1, "raw_samples": 32,
              "surrogate_options": {"n_features": 64, "fit_features": 64, "max_iter": 30}}  # the default rff-kev, small

DISTS: dict[str, Any] = {
    "f": optuna.distributions.FloatDistribution(-2.0, 3.0),
    "flog": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
    "fstep": optuna.distributions.FloatDistribution(0.0, 1.0, step=0.25),
    "i": optuna.distributions.IntDistribution(-3, 7),
    "ilog": optuna.distributions.IntDistribution(1, 1000, log=True),
    "istep": optuna.distributions.IntDistribution(2, 20, step=3),
    "cat": optuna.distributions.CategoricalDistribution([None, "a", 2.5, True]),
    "one": optuna.distributions.FloatDistribution(1.0, 1.0),
}


def _suggest(trial: Any) -> dict[str, Any]:
    return {n: trial._suggest(n, d) for n, d in DISTS.items()}


def _loss(p: dict[str, Any]) -> float:
    return (p["f"] - 1) ** 2 + math.log10(p["flog"]) ** 2 / 10 + p["fstep"] + abs(p["i"]) \
        + (p["cat"] is None) + p["istep"] / 20


def _sampler(method: str = "random", seed: int = 0, **kw: Any) -> HyperPilotSampler:
    return HyperPilotSampler(method, seed=seed, method_options=FAST_MODEL if method == "hyperpilot"
                             else None, **kw)


def test_every_distribution_is_sampled_inside_it() -> None:
    study = optuna.create_study(sampler=_sampler())
    study.optimize(lambda t: _loss(_suggest(t)), n_trials=8)
    for t in study.trials:
        assert t.state == optuna.trial.TrialState.COMPLETE
        for n, d in DISTS.items():
            assert d._contains(d.to_internal_repr(t.params[n])), (n, t.params[n])
    infos = [t.system_attrs.get("hyperpilot:info", {}).get("source") for t in study.trials]
    assert infos[0] is None and all(s is not None for s in infos[1:])  # trial 0: nothing known yet


def test_the_method_proposes_from_its_model_after_the_design() -> None:
    def objective(trial: Any) -> float:
        x, k = trial.suggest_float("x", 0, 1), trial.suggest_int("k", 0, 4)
        return (x - 0.3) ** 2 + 0.1 * k

    study = optuna.create_study(sampler=_sampler("hyperpilot"))
    study.optimize(objective, n_trials=8)
    infos = [t.system_attrs.get("hyperpilot:info", {}).get("source") for t in study.trials]
    assert infos[1:3] == ["sobol"] * 2 and "model" in infos[3:]  # trial 0 used a design slot
    assert study.sampler.fallbacks == 0


def test_same_seed_same_trials() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        s = optuna.create_study(sampler=_sampler(seed=seed))
        s.optimize(lambda t: _loss(_suggest(t)), n_trials=6)
        return [t.params for t in s.trials]

    assert run(1) == run(1) and run(1) != run(2)


def test_conditional_parameters_fall_back_to_independent_sampling() -> None:
    def objective(trial: Any) -> float:
        kind = trial.suggest_categorical("kind", ["a", "b"])
        x = trial.suggest_float("x", 0, 1)
        extra = trial.suggest_float(f"{kind}_only", 0, 1)
        return x + extra

    study = optuna.create_study(sampler=_sampler())
    study.optimize(objective, n_trials=12)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    space = study.sampler.infer_relative_search_space(study, study.trials[-1])
    assert set(space) == {"kind", "x"}  # a_only / b_only are conditional: independent


def test_failed_and_pruned_trials_are_observations_or_exclusions() -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number % 4 == 1:
            raise RuntimeError("boom")
        trial.report(x + 1, 1)
        if trial.number % 4 == 2:
            raise optuna.TrialPruned()
        return x

    study = optuna.create_study(sampler=_sampler())
    study.optimize(objective, n_trials=10, catch=(RuntimeError,))
    states = {t.state.name for t in study.trials}
    assert states == {"COMPLETE", "FAIL", "PRUNED"}
    from hyperpilot.integrations.optuna.history import Budgets, to_history
    from hyperpilot.integrations.optuna.space import SpaceMap

    smap = SpaceMap.of({"x": optuna.distributions.FloatDistribution(0, 1)})
    assert smap is not None
    h = to_history(study.trials, smap, Budgets(1, 9, 3), "minimize", exclude=-1)
    by = {r.trial.config_id: r for r in h.results}
    assert by[1].status.value == "failed" and math.isinf(h.loss(by[1]))
    assert by[2].trial.budget == 1 and by[2].value == pytest.approx(study.trials[2].value or
                                                                    by[2].value)
    assert by[0].trial.budget == 9  # a complete trial counts at the max budget


def test_enqueued_trials_keep_their_values() -> None:
    study = optuna.create_study(sampler=_sampler())
    study.optimize(lambda t: _loss(_suggest(t)), n_trials=3)
    fixed = {"f": 0.5, "i": 4, "cat": "a"}
    study.enqueue_trial(fixed)
    study.optimize(lambda t: _loss(_suggest(t)), n_trials=2)
    t = study.trials[3]
    assert {k: t.params[k] for k in fixed} == fixed


def test_batch_asks_see_running_trials_as_pending() -> None:
    sampler = _sampler()
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: _loss(_suggest(t)), n_trials=3)
    seen: list[int] = []
    proposer = sampler._proposer_for  # spy on the history each proposal gets

    def spy(smap: Any, budgets: Any) -> Any:
        p = proposer(smap, budgets)
        if not hasattr(p, "spied"):
            inner = p.propose

            def propose(k: int, history: Any, rng: Any, max_budget: float) -> Any:
                seen.append(len(history.pending))
                return inner(k, history, rng, max_budget)

            p.propose, p.spied = propose, True
        return p

    sampler._proposer_for = spy  # type: ignore[method-assign]
    batch = [study.ask() for _ in range(3)]
    params = [_suggest(t) for t in batch]
    assert seen == [0, 1, 2]
    assert len({tuple(sorted(map(str, p.items()))) for p in params}) == 3
    for t, p in zip(batch, params, strict=True):
        study.tell(t, _loss(p))


def test_hyperband_pruner_and_the_sampler_learn_from_every_bracket() -> None:
    sampler = _sampler("random", max_resource=9)
    study = optuna.create_study(sampler=sampler, pruner=optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=9, reduction_factor=3), study_name="hb")

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in (1, 3, 9):
            v = x + 1 / step
            trial.report(v, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return v

    study.optimize(objective, n_trials=15)
    states = {t.state.name for t in study.trials}
    assert "PRUNED" in states and "COMPLETE" in states
    last = study.trials[-1]
    view = study.pruner._create_bracket_study(study, study.pruner._get_bracket_id(study, last))
    from hyperpilot.integrations.optuna.sampler import full_study

    assert len(full_study(view).get_trials()) == len(study.trials) > len(view.get_trials())


def test_multi_objective_studies_are_refused() -> None:
    study = optuna.create_study(sampler=_sampler(), directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="single-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


def test_bad_arguments_are_refused() -> None:
    from hyperpilot.methods import UnknownMethod

    with pytest.raises(UnknownMethod):
        HyperPilotSampler("nope")
    with pytest.raises(ValueError, match="max_resource"):
        HyperPilotSampler(max_resource=0)


WORKER = """
import logging, sys, optuna
optuna.logging.set_verbosity(logging.WARNING)
from hyperpilot.integrations.optuna import HyperPilotSampler
study = optuna.load_study(study_name="two", storage=sys.argv[1],
                          sampler=HyperPilotSampler("random", seed=int(sys.argv[2])))
study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2 + t.suggest_int("k", 0, 5),
               n_trials=6)
"""


def test_rdb_storage_with_two_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(study_name="two", storage=url)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(s)], cwd=REPO)
             for s in (0, 1)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    trials = optuna.load_study(study_name="two", storage=url).trials
    assert len(trials) == 12 and all(t.state.name == "COMPLETE" for t in trials)
    assert len({(t.params["x"], t.params["k"]) for t in trials}) == 12


def test_curve_pruner_stops_a_hopeless_run_and_keeps_its_reasons() -> None:
    study = optuna.create_study(sampler=_sampler(), pruner=CurvePruner(max_resource=30))

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1)
        level = 0.0 if trial.number == 0 else 5.0  # later runs are far worse than the first
        for step in range(1, 31):
            v = level + x + 2.0 / step
            trial.report(v, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return v

    study.optimize(objective, n_trials=3)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "PRUNED", "PRUNED"]
    kept = decisions(study.trials[1])
    assert kept[-1]["action"] == "stop" and "P(final beats the incumbent" in kept[-1]["reason"]
    assert all(d["by"] == "curve" for d in kept)
    stopped_at = max(study.trials[1].intermediate_values)
    assert stopped_at < 30
    # a fresh pruner (another process) replays the curve and reaches the same decision
    fresh = CurvePruner(max_resource=30)
    assert fresh.prune(study, study.trials[1]) is True


def test_ladder_keeps_rungs() -> None:
    assert ladder([1, 3, 9, 27, 81], 3) == [1, 3, 9, 27, 81]
    assert ladder(list(range(1, 51)), 3) == [1, 3, 9, 27, 50]
    assert ladder([], 3) == []


RECIPE = ["--algo", "a2c", "--env", "CartPole-v1", "-optimize", "--n-trials", "3", "-n", "256",
          "--n-evaluations", "2", "--n-startup-trials", "0", "--pruner", "median", "--seed", "3",
          "--no-optim-plots", "--eval-episodes", "1", "--verbose", "0",
          "--hyperparams", "n_envs:1", "--hp-method", "random"]


def test_rlzoo_recipe_hands_our_sampler_to_its_experiment_manager(tmp_path: Path) -> None:
    pytest.importorskip("rl_zoo3")
    import pickle

    from hyperpilot.integrations.rlzoo import main

    main([*RECIPE, "-f", str(tmp_path)])
    (pkl,) = tmp_path.glob("a2c/report_*.pkl")
    study = pickle.loads(pkl.read_bytes())
    assert isinstance(study.sampler, HyperPilotSampler) and study.sampler.method == "random"
    assert len(study.trials) == 3
    assert all("hyperpilot:params" in t.system_attrs for t in study.trials[1:])
