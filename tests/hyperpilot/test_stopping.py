"""Curve-based early stopping: the rule inside a trial, and its accounting in a study."""

from __future__ import annotations

import math
from typing import Any

import pytest

import hyperpilot as hp
from hyperpilot.stopping import StoppableObjective, StopperState, StopRule
from hyperpilot.study import minimize, spent


def saturating(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Loss curves ``a + b / t`` over integer epochs; the final loss is ``a + b / 50``."""
    a, b = config["a"], 2.0
    ts = [t for t in range(int(resume_budget) + 1, int(budget) + 1)]
    curve = [(float(t), a + b / t) for t in ts]
    return curve[-1][1], curve, float(len(ts))


SPACE = hp.SearchSpace({"a": hp.Float(0.0, 1.0)})


def _ctx(state: StopperState | None) -> hp.Context:
    t = hp.Trial(0, 0, {"a": 0.9}, 50.0)
    return hp.Context(t, 0, extras={} if state is None else {"stopper": state})


def test_hopeless_curve_is_cut_and_cost_scaled() -> None:
    obj = StoppableObjective(saturating)
    state = StopperState(StopRule(), incumbent=-0.1, t_target=50.0, sign=-1.0)
    ctx = _ctx(state)
    value, curve, cost = obj({"a": 0.9}, 50.0, 0.0, ctx)
    stop = ctx.extras["stopped_at"]
    assert stop < 50 and curve[-1][0] == stop and math.isclose(value, 0.9 + 2 / stop)
    assert math.isclose(cost, stop)


def test_promising_curve_runs_to_the_end() -> None:
    obj = StoppableObjective(saturating)
    ctx = _ctx(StopperState(StopRule(), incumbent=-0.5, t_target=50.0, sign=-1.0))
    value, curve, _ = obj({"a": 0.1}, 50.0, 0.0, ctx)
    assert "stopped_at" not in ctx.extras and curve[-1][0] == 50


def test_no_state_means_no_stopping() -> None:
    value, curve, cost = StoppableObjective(saturating)({"a": 0.9}, 50.0, 0.0, _ctx(None))
    assert len(curve) == 50


def test_study_records_stops_and_counts_their_budget() -> None:
    s = minimize(saturating, SPACE, fidelity=hp.Fidelity(2, 50, 3), method="hyperband",
                 budget=12, seed=0, method_options={"stop_rule": {"threshold": 0.2}})
    stopped = [r for r in s.results if r.status == hp.Status.STOPPED]
    assert stopped, "a saturating benchmark with a known incumbent should stop some runs"
    for r in stopped:
        assert spent(r) < r.trial.budget - r.trial.resume_budget
    for r in stopped:  # a stopped run is never promoted afterwards
        assert not [x for x in s.results if x.trial.config_id == r.trial.config_id
                    and x.trial.trial_id > r.trial.trial_id]
    assert math.isclose(s.budget_used(), sum(spent(r) for r in s.results) / 50)


def test_stop_rule_options_keep_stored_definitions() -> None:
    """Studies stored before ``model`` and ``bounds`` existed must keep their definition."""
    assert StopRule().options() == {"threshold": 0.05, "min_fraction": 0.1, "min_points": 3,
                                    "patience": 2, "growth": 1.2}
    r = StopRule(model="bnn", bounds=(-500, 0))
    assert r.options()["model"] == "bnn" and r.options()["bounds"] == [-500.0, 0.0]
    assert StopRule(**r.options()) == r
    assert r.y_bounds(-1.0) == (0.0, 500.0) and r.y_bounds(1.0) == (-500.0, 0.0)
    with pytest.raises(ValueError, match="model"):
        StopRule(model="lcpfn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bounds"):
        StopRule(bounds=(1.0, 1.0))


def test_the_bnn_rule_trains_online_on_the_studys_curves_and_stops() -> None:
    s = minimize(saturating, SPACE, fidelity=hp.Fidelity(2, 50, 3), method="hyperband",
                 budget=12, seed=0, method_options={"stop_rule": {"threshold": 0.2,
                                                                  "model": "bnn"}})
    online = s.method.stop_curves
    assert online is not None and online.fits >= 1
    assert any(r.status == hp.Status.STOPPED for r in s.results)
    state = s.trial_extras(s.results[-1].trial)["stopper"]
    assert state.model is online.cache[1] and state.x == online.encode(s.results[-1].trial.config)
    again = minimize(saturating, SPACE, fidelity=hp.Fidelity(2, 50, 3), method="hyperband",
                     budget=12, seed=0, method_options={"stop_rule": {"threshold": 0.2,
                                                                      "model": "bnn"}})
    assert [(r.trial.config_id, r.status, r.value) for r in s.results] == \
        [(r.trial.config_id, r.status, r.value) for r in again.results]


def test_online_curve_model_refits_on_a_schedule_of_told_results() -> None:
    from hyperpilot.stopping import OnlineCurveModel

    s = minimize(saturating, SPACE, fidelity=hp.Fidelity(2, 50, 3), method="hyperband",
                 budget=6, seed=1)
    online = OnlineCurveModel(SPACE, seed=0, options={"max_steps": 50, "n_members": 2})
    res = s.results
    assert online.model(res[:3], -1.0) is None
    a = online.model(res[:9], -1.0)
    assert online.model(res[:10], -1.0) is a and online.fits == 1  # same size on the schedule
    fresh = OnlineCurveModel(SPACE, seed=0, options={"max_steps": 50, "n_members": 2})
    b = fresh.model(res[:10], -1.0)  # a resumed study refits the same model
    t, y = [2.0, 4.0, 6.0], [-1.5, -1.2, -1.1]
    assert a.predict(t, y, 50.0, [0.3]) == b.predict(t, y, 50.0, [0.3])


def test_the_gain_rule_stops_on_the_studys_finished_runs_and_names_its_fallbacks() -> None:
    """``model="gain"``: refitted at every run (nothing to train), it stops hopeless runs; before
    five runs reached the max budget the parametric model answers, and those decisions say so."""
    from hyperpilot.pruners.curve import FALLBACK_NOTE

    opts = {"stop_rule": {"threshold": 0.2, "model": "gain"}}
    s = minimize(saturating, SPACE, fidelity=hp.Fidelity(2, 50, 3), method="hyperband:gainstop",
                 budget=20, seed=0, method_options=opts)
    online = s.method.stop_curves
    assert online is not None and online.kind == "gain" and online.growth == 0.0
    assert any(r.status == hp.Status.STOPPED for r in s.results)
    decisions = s.storage.load_decisions(s.study_id)
    fell_back = [d for d in decisions if d["reason"].endswith(FALLBACK_NOTE)]
    assert decisions and 0 < len(fell_back) < len(decisions)  # a warm-up, then the gains
    state = s.trial_extras(s.results[-1].trial)["stopper"]
    assert state.model is online.cache[1] and hasattr(state.model, "prob_better")
    again = minimize(saturating, SPACE, fidelity=hp.Fidelity(2, 50, 3),
                     method="hyperband:gainstop", budget=20, seed=0, method_options=opts)
    assert [(r.trial.config_id, r.status, r.value) for r in s.results] == \
        [(r.trial.config_id, r.status, r.value) for r in again.results]
