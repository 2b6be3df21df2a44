"""Benchmarks: synthetic optima and fidelity bias, LCBench and rbv2_xgboost surrogates, bandit
noise, the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperpilot.benchmarks import (
    BENCHMARKS,
    LCBENCH_DEV_TASKS,
    RBV2_XGBOOST_DEV_TASKS,
    Benchmark,
    UnknownBenchmarkError,
    expand_suite,
    get_benchmark,
    register_benchmark,
)
from hyperpilot.benchmarks.synthetic import BRANIN_ARGMIN, HARTMANN6_ARGMIN, make_branin
from hyperpilot.data import DataDirError, resolve_data_dir
from hyperpilot.space import SpaceError
from hyperpilot.trial import Context, Trial


def ctx(seed: int) -> Context:
    return Context(trial=Trial(0, 0, {}, 1.0), seed=seed)


# --------------------------------------------------------------------- synthetic
def test_synthetic_optima_at_max_fidelity() -> None:
    branin, h6 = get_benchmark("branin"), get_benchmark("hartmann6")
    for x1, x2 in BRANIN_ARGMIN:
        value, curve, cost = branin({"x1": x1, "x2": x2}, 81)
        assert value == pytest.approx(0.397887, abs=1e-5) and cost == 81
        assert curve[-1] == (81.0, value) and branin.regret(value) == pytest.approx(0, abs=1e-5)
    value, _, _ = h6({f"x{i + 1}": v for i, v in enumerate(HARTMANN6_ARGMIN)}, 81)
    assert value == pytest.approx(-3.32237, abs=1e-4)
    for bench in (branin, h6):  # nothing random beats the optimum
        vals = [bench(c, 81)[0] for c in bench.space.sample(200, np.random.default_rng(0))]
        assert min(vals) >= bench.optimum - 1e-4


@pytest.mark.parametrize("name", ["branin", "hartmann6"])
def test_fidelity_bias_shrinks_with_budget(name: str) -> None:
    bench = get_benchmark(name)
    cfgs = bench.space.sample(100, np.random.default_rng(1))
    full = np.array([bench(c, 81)[0] for c in cfgs])
    bias = [np.mean(np.abs([bench(c, b)[0] for c in cfgs] - full)) for b in (1, 3, 9, 27, 81)]
    assert all(a > b for a, b in zip(bias, bias[1:], strict=False)) and bias[-1] == 0 and bias[0] > 0


def test_synthetic_curve_cost_and_noise() -> None:
    bench = get_benchmark("branin")
    cfg = {"x1": 1.0, "x2": 2.0}
    value, curve, cost = bench(cfg, 27, resume_budget=9)
    assert cost == 18 and all(9 < b <= 27 for b, _ in curve) and curve[-1][0] == 27
    assert [b for b, _ in bench(cfg, 81)[1]][0] == 1  # from scratch the curve starts at min
    noisy = make_branin(noise_std=0.1)
    a, b = noisy(cfg, 27, context=ctx(3))[0], noisy(cfg, 27, context=ctx(3))[0]
    assert a == b and a != noisy(cfg, 27, context=ctx(4))[0] and abs(a - value) < 1


def test_bad_calls() -> None:
    bench = get_benchmark("branin")
    with pytest.raises(SpaceError):
        bench({"x1": 100.0, "x2": 1.0}, 81)
    with pytest.raises(ValueError, match="budget"):
        bench({"x1": 1.0, "x2": 1.0}, 82)
    with pytest.raises(ValueError, match="resume_budget"):
        bench({"x1": 1.0, "x2": 1.0}, 9, resume_budget=27)


# --------------------------------------------------------------------- bandit
def test_bandit_deterministic_per_seed_noisy_across_seeds() -> None:
    bench = get_benchmark("bandit")
    cfg = {"epsilon": 0.05, "update": "constant", "step_size": 0.1, "initial_value": 1.0}
    v1, curve, cost = bench(cfg, 810, context=ctx(7))
    assert (v1, curve) == bench(cfg, 810, context=ctx(7))[:2]
    others = [bench(cfg, 810, context=ctx(s))[0] for s in range(8, 12)]
    assert len(set(others + [v1])) == 5 and np.std(others) < 0.3
    assert cost == 810 and len(curve) == 8 and curve[-1] == (810.0, v1)
    # resuming re-simulates the same trajectory: the curve continues the uninterrupted one
    _, tail, cost2 = bench(cfg, 810, resume_budget=270, context=ctx(7))
    assert cost2 == 540 and all(b > 270 for b, _ in tail) and tail[-1] == curve[-1]
    assert v1 > bench.optimum - 0.2  # the estimated optimum is not far off
    bench({"epsilon": 0.1, "update": "sample_average", "initial_value": 0.0}, 30)


def test_bandit_learns() -> None:
    bench = get_benchmark("bandit")
    cfg = {"epsilon": 0.02, "update": "constant", "step_size": 0.05, "initial_value": 3.0}
    assert bench(cfg, 2430, context=ctx(0))[0] < bench(cfg, 30, context=ctx(0))[0] - 0.3


# --------------------------------------------------------------------- noisy-brittle
def test_noisy_brittle_seeds_fail_in_the_brittle_basin_only() -> None:
    from hyperpilot.benchmarks.brittle import BRITTLE_A, BRITTLE_B, expected_value

    bench = get_benchmark("noisy-brittle")
    assert bench.noisy and bench.fidelity.max == 81
    a = {f"x{i + 1}": float(v) for i, v in enumerate(BRITTLE_A)}
    b = {f"x{i + 1}": float(v) for i, v in enumerate(BRITTLE_B)}
    va = np.array([bench(a, 81, context=ctx(s))[0] for s in range(40)])
    vb = np.array([bench(b, 81, context=ctx(s))[0] for s in range(40)])
    assert va.min() < vb.min() - 0.1  # the best single run is a brittle one
    assert 0.25 < np.mean(va > -0.3) < 0.75  # about half of the brittle seeds fail
    assert vb.max() < -0.6 and vb.mean() < va.mean() - 0.1  # the robust basin wins on average
    assert abs(vb.mean() - float(expected_value(BRITTLE_B[None])[0])) < 0.05
    assert bench.optimum <= float(expected_value(BRITTLE_B[None])[0]) + 1e-6
    # a seed's run is one function of the budget: resuming extends it exactly, failures included
    fail = next(s for s in range(40) if va[s] > -0.3)
    v, curve, cost = bench(a, 81, context=ctx(fail))
    v2, tail, cost2 = bench(a, 81, resume_budget=9, context=ctx(fail))
    assert v == v2 and cost == 81 and cost2 == 72 and all(b > 9 for b, _ in tail)
    assert all(y == bench(a, b, context=ctx(fail))[0] for b, y in tail + curve)
    assert bench(a, 3, context=ctx(fail))[0] < -0.3  # it learned before it collapsed


# --------------------------------------------------------------------- lcbench
@pytest.mark.data
def test_lcbench_values_curves_and_cost(data_dir: Path) -> None:
    bench = get_benchmark("lcbench:3945", data_dir=data_dir)
    assert bench.fidelity.max == 52 and len(bench.space.names) == 7 and bench.has_cost
    cfgs = bench.space.sample(5, np.random.default_rng(0))
    for cfg in cfgs:
        value, curve, cost = bench(cfg, 52)
        assert 0 <= value <= 1 and len(curve) == 52 and [b for b, _ in curve] == list(range(1, 53))
        assert all(0 <= v <= 1 for _, v in curve) and curve[-1][1] == value and cost > 0
        costs = [bench(cfg, e)[2] for e in (2, 6, 17, 52)]
        assert costs == sorted(costs) and costs[-1] == pytest.approx(cost)
        # resuming: epochs 7..17 only, and cost(6 -> 17) = cost(17) - cost(6)
        _, part, c = bench(cfg, 17.3, resume_budget=5.78)
        assert [b for b, _ in part] == list(range(7, 18))
        assert c == pytest.approx(costs[2] - costs[1], rel=1e-4)  # float32 varies with batch size
        assert 0 <= bench.test_value(cfg) <= 1
    assert 0 < bench.optimum < min(bench(c, 52)[0] for c in cfgs)
    assert "estimated" in bench.optimum_note


@pytest.mark.data
def test_lcbench_unknown_task(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown LCBench task '999'; known: 3945"):
        get_benchmark("lcbench:999", data_dir=data_dir)


def test_lcbench_without_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HYPERPILOT_DATA", raising=False)
    with pytest.raises(DataDirError, match="pass --data-dir or set HYPERPILOT_DATA"):
        get_benchmark("lcbench:3945")
    assert resolve_data_dir(None, required=False) is None
    monkeypatch.setenv("HYPERPILOT_DATA", str(tmp_path))
    assert resolve_data_dir() == tmp_path.resolve()
    with pytest.raises(DataDirError, match="does not exist"):
        resolve_data_dir(tmp_path / "nope")


# --------------------------------------------------------------------- registry
def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown benchmark 'nope'; known: branin, hartmann6"):
        get_benchmark("nope")
    with pytest.raises(ValueError, match="lcbench:<task_id>"):
        get_benchmark("nope")
    with pytest.raises(UnknownBenchmarkError, match="needs a task id"):
        get_benchmark("lcbench")
    with pytest.raises(UnknownBenchmarkError, match="rbv2_xgboost needs a task id"):
        get_benchmark("rbv2_xgboost")
    with pytest.raises(ValueError, match="rbv2_xgboost:<task_id>"):
        get_benchmark("nope")
    with pytest.raises(UnknownBenchmarkError, match="no ':<variant>'"):
        get_benchmark("branin:2")
    with pytest.raises(UnknownBenchmarkError, match="suite"):
        expand_suite("nope")


def test_suites_and_registration() -> None:
    assert expand_suite("lcbench-dev") == [f"lcbench:{t}" for t in LCBENCH_DEV_TASKS]
    assert expand_suite("branin") == ["branin"] and len(LCBENCH_DEV_TASKS) == 10
    assert expand_suite("rbv2_xgboost-dev") == [f"rbv2_xgboost:{t}" for t in RBV2_XGBOOST_DEV_TASKS]
    assert expand_suite("rbv2_xgboost:12") == ["rbv2_xgboost:12"]
    register_benchmark("branin2", lambda variant, data_dir, seed: make_branin(seed=seed))
    try:
        bench = get_benchmark("branin2", seed=5)
        assert isinstance(bench, Benchmark) and bench.seed == 5
    finally:
        del BENCHMARKS["branin2"]
    with pytest.raises(ValueError, match="contain no ':'"):
        register_benchmark("a:b", lambda v, d, s: make_branin())


@pytest.mark.data
def test_every_encoded_lcbench_task_runs_with_a_cached_optimum_estimate(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 20: lcbench:167083 is in the surrogate's encoding.json but not its config space.
    Its optimum is estimated on first use as the packaged ones were, cached per user (not in the
    package), read back from the cache, and recorded in a bench's meta.json."""
    import json

    from hyperpilot.bench.grid import BenchConfig, run_bench
    from hyperpilot.benchmarks import lcbench

    monkeypatch.setenv("HYPERPILOT_CACHE", str(tmp_path / "cache"))
    assert "167083" in lcbench.lcbench_tasks(data_dir) and len(lcbench.lcbench_tasks(data_dir)) == 35
    bench = get_benchmark("lcbench:167083", data_dir=data_dir)
    cache = tmp_path / "cache" / "lcbench_optima.json"
    assert cache.is_file() and str(cache) in bench.optimum_note
    assert "20000 random configs" in bench.optimum_note and "first use" in bench.optimum_note
    cfg = bench.space.sample(3, np.random.default_rng(0))
    assert 0 < bench.optimum < min(bench(c, 52)[0] for c in cfg)
    monkeypatch.setattr(lcbench, "estimate_optimum", lambda *a, **k: pytest.fail("not cached"))
    assert get_benchmark("lcbench:167083", data_dir=data_dir).optimum == bench.optimum
    assert not (Path(lcbench.__file__).parent / cache.name).read_text().count("167083")
    meta = run_bench(BenchConfig(["random"], ["lcbench:167083"], [0], 1.0, str(tmp_path / "b"),
                                 data_dir=str(data_dir)), progress=False)
    assert meta["optima"]["lcbench:167083"] == {"optimum": bench.optimum,
                                                "note": bench.optimum_note}
    assert json.loads((tmp_path / "b" / "meta.json").read_text())["optima"] == meta["optima"]


def test_noisy_brittle_is_scored_by_test_regret() -> None:
    from hyperpilot.bench.testscore import noisy_benchmarks

    assert noisy_benchmarks(["noisy-brittle", "branin", "bandit"], None) == ["noisy-brittle", "bandit"]
