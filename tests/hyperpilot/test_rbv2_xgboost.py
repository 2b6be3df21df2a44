"""rbv2_xgboost: the surrogate's input encoding, the conditional space, curves, optima, a study."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hyperpilot.benchmarks import RBV2_XGBOOST_DEV_TASKS, get_benchmark
from hyperpilot.benchmarks import rbv2_xgboost as rbv2
from hyperpilot.space import SpaceError

TREE = ("colsample_bylevel", "colsample_bytree", "eta", "gamma", "max_depth", "min_child_weight")
DART = ("rate_drop", "skip_drop")
LINEAR = {"alpha": 1.0, "booster": "gblinear", "lambda": 1.0, "nrounds": 144,
          "num.impute.selected.cpo": "impute.mean", "subsample": 0.55}
"""config_space.json's default config (booster gblinear)."""
GBTREE = {**LINEAR, "booster": "gbtree", "colsample_bylevel": 0.505, "colsample_bytree": 0.505,
          "eta": 0.0302, "gamma": 0.0183, "max_depth": 8, "min_child_weight": 20.09}
"""The default config's tree parameters (config_space.json's defaults, rounded)."""
DART_CFG = {**GBTREE, "booster": "dart", "rate_drop": 0.5, "skip_drop": 0.5}

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def bench(data_dir: Path) -> rbv2.RBV2XGBoost:
    b = get_benchmark("rbv2_xgboost:1489", data_dir=data_dir)
    assert isinstance(b, rbv2.RBV2XGBoost)
    return b


def test_inputs_are_built_as_yahpo_gym_builds_them(bench: rbv2.RBV2XGBoost) -> None:
    """Codes from encoding.json, raw values in yahpo-gym's column order, 0 for what the booster
    switches off, repl 10. The values were computed once through onnxruntime and agree with
    yahpo-gym 1.0.2's objective_function (acc 0.8597, 0.6941, 0.8466 and 0.7451)."""
    codes = rbv2._files(str(bench.data_dir)).codes
    x_cat, x_cont = rbv2.encode_rows([GBTREE, LINEAR, DART_CFG], [1.0, 1.0, 0.1], "1489", codes)
    assert x_cat.dtype == np.int32 and x_cont.dtype == np.float32
    assert x_cat.tolist() == [[27, 3, 2], [27, 2, 2], [27, 1, 2]]
    cols = dict(zip(rbv2.CONT_INPUTS, x_cont.T, strict=True))
    assert cols["nrounds"].tolist() == [144, 144, 144] and cols["repl"].tolist() == [10, 10, 10]
    assert cols["trainsize"] == pytest.approx([1.0, 1.0, 0.1])
    assert cols["max_depth"].tolist() == [8, 0, 8] and cols["rate_drop"].tolist() == [0, 0, 0.5]
    assert all(cols[n][1] == 0 for n in TREE + DART)  # gblinear: the tree columns are 0
    assert [bench(c, 1.0)[0] for c in (GBTREE, LINEAR, DART_CFG)] == pytest.approx(
        [0.1402712, 0.3059118, 0.1534047], abs=1e-6)
    assert bench(DART_CFG, 0.1)[0] == pytest.approx(0.2549272, abs=1e-6)
    assert bench(GBTREE, 1.0)[2] == pytest.approx(2.513194, abs=1e-5)  # timetrain, seconds
    # below YAHPO's smallest trainsize the surrogate is asked at 0.03
    assert rbv2.encode_rows([LINEAR], [0.001], "1489", codes)[1][0, -2] == pytest.approx(0.03)


def test_deterministic_curves_costs_and_fidelity(bench: rbv2.RBV2XGBoost) -> None:
    f = bench.fidelity
    assert (f.min, f.max, f.eta) == (pytest.approx(1 / 27), 1.0, 3) and bench.has_cost
    assert len(bench.space.names) == 14 and bench.space.dim == 18
    value, curve, cost = bench(GBTREE, 1.0)
    assert (value, curve, cost) == bench(GBTREE, 1.0)
    assert [b for b, _ in curve] == pytest.approx(np.geomspace(1 / 27, 1, 5).tolist())
    assert curve[-1] == (1.0, value) and cost > 0
    _, part, c2 = bench(GBTREE, 1 / 3, resume_budget=1 / 9)  # a promotion retrains
    assert all(1 / 9 < b <= 1 / 3 for b, _ in part) and part[-1][0] == pytest.approx(1 / 3)
    assert c2 == pytest.approx(bench(GBTREE, 1 / 3)[2]) and c2 < cost
    assert bench(GBTREE, 1 / 27)[1] == [(pytest.approx(1 / 27), pytest.approx(curve[0][1]))]


def test_accuracy_grows_with_trainsize_and_varies(bench: rbv2.RBV2XGBoost) -> None:
    cfgs = bench.space.sample(200, np.random.default_rng(0))
    means = [float(np.mean(bench.values_at(cfgs, t))) for t in (1 / 27, 1 / 9, 1 / 3, 1.0)]
    assert means == sorted(means, reverse=True) and means[0] - means[-1] > 0.05
    full = bench.values_at(cfgs, 1.0)
    assert 0 <= full.min() and full.max() <= 1 and full.std() > 0.05
    assert np.mean(bench.values_at(cfgs, 1 / 27) > full) > 0.8
    assert bench.optimum < full.min()  # the estimate beats 200 random configs


def test_sampling_respects_the_conditions(bench: rbv2.RBV2XGBoost) -> None:
    space = bench.space
    cfgs = space.sample(300, np.random.default_rng(1))
    for c in cfgs:
        assert space.validate(c) == c
        assert all((n in c) == (c["booster"] != "gblinear") for n in TREE)
        assert all((n in c) == (c["booster"] == "dart") for n in DART)
    assert {c["booster"] for c in cfgs} == {"gblinear", "gbtree", "dart"}


def test_inactive_parameters_are_ignored(bench: rbv2.RBV2XGBoost) -> None:
    """Unit-cube points that differ only in inactive columns are the same config and value;
    a config that names an inactive parameter is refused."""
    space, rng = bench.space, np.random.default_rng(2)
    start = dict(zip(space.names, np.cumsum([0] + [p.width for p in space.params.values()]),
                     strict=False))  # each parameter's first column
    U = rng.random((40, space.dim))
    U[:, start["booster"]:start["booster"] + 3] = [1.0, 0.0, 0.0]  # gblinear
    V = U.copy()
    off = [int(start[n]) for n in TREE + DART]
    V[:, off] = rng.random((40, len(off)))
    a, b = space.decode(U), space.decode(V)
    assert a == b and all(c["booster"] == "gblinear" for c in a)
    assert bench.values_at(a, 1.0).tolist() == bench.values_at(b, 1.0).tolist()
    assert np.allclose(space.encode(a)[:, off], 0.5)  # the neutral value of space.encode
    with pytest.raises(SpaceError, match="inactive"):
        bench({**LINEAR, "eta": 0.1}, 1.0)


def test_unknown_task_and_tasks(data_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown rbv2_xgboost task '999' \(an OpenML dataset "
                                         r"id\); known: 3, 6, 11, 12"):
        get_benchmark("rbv2_xgboost:999", data_dir=data_dir)
    tasks = rbv2.rbv2_xgboost_tasks(data_dir)
    assert len(tasks) == 119 and {str(t) for t in RBV2_XGBOOST_DEV_TASKS} <= set(tasks)


def test_packaged_optima(data_dir: Path) -> None:
    """Every task has an estimate; the development tasks' are no self-contradicting output."""
    table = json.loads(rbv2.OPTIMA_FILE.read_text())["tasks"]
    assert set(table) == set(rbv2.rbv2_xgboost_tasks(data_dir))
    for t in RBV2_XGBOOST_DEV_TASKS:
        entry = table[str(t)]
        assert not entry["artifact"] and 0 < entry["optimum"] <= entry["random_best"]
        b = get_benchmark(f"rbv2_xgboost:{t}", data_dir=data_dir)
        assert b.optimum == entry["optimum"] and "20000 random configs" in b.optimum_note
        assert b(entry["config"], 1.0)[0] == pytest.approx(entry["optimum"], abs=2e-5)
    assert rbv2.is_artifact(np.array([1.0, 0.0, 1.0, 1.99, 0, 0, 0.12, 0.02, 0]))
    assert not rbv2.is_artifact(np.array([0.98, 0.97, 0.99, 0.03, 0.98, 0.1, 5, 0.1, 300]))


def test_missing_optimum_is_estimated_once_and_cached(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERPILOT_CACHE", str(tmp_path))
    monkeypatch.setattr(rbv2, "_load_optima", lambda: {})
    calls: list[str] = []

    def fake(bench: rbv2.RBV2XGBoost, seed: int = 0) -> tuple[float, str]:
        calls.append(bench.task_id)
        return 0.0123, "estimated: fake"

    monkeypatch.setattr(rbv2, "estimate_optimum", fake)
    for _ in range(2):
        b = get_benchmark("rbv2_xgboost:46", data_dir=data_dir)
        assert b.optimum == 0.0123 and "first use" in b.optimum_note
    assert calls == ["46"] and (tmp_path / rbv2.OPTIMA_FILE.name).is_file()


def test_search_optimum_is_seeded(bench: rbv2.RBV2XGBoost) -> None:
    a = rbv2.search_optimum(bench, n_random=300, n_starts=2, n_iter=3, n_local=8)
    b = rbv2.search_optimum(bench, n_random=300, n_starts=2, n_iter=3, n_local=8)
    assert a == b and a.value <= a.random_best and bench.space.validate(a.config) == a.config


@pytest.mark.parametrize(("method", "ffe"), [("random", 3.0), ("hyperpilot", 3.0)])
def test_tiny_study(method: str, ffe: float, data_dir: Path, tmp_path: Path) -> None:
    """A few FFE of a study on the conditional space: every proposal is a valid config, and
    ``hyperpilot`` fits its surrogate on the unit-cube encoding and proposes from it."""
    from hyperpilot.bench.grid import BenchConfig, read_table, run_bench

    name = f"rbv2_xgboost:{RBV2_XGBOOST_DEV_TASKS[0]}"
    meta = run_bench(BenchConfig([method], [name], [0], ffe, str(tmp_path), data_dir=str(data_dir)),
                     progress=False)
    assert meta["runs"][-1]["failed"] == 0 and meta["optima"][name]["optimum"] > 0
    df = read_table(next((tmp_path / "cells").iterdir()))
    assert (df["status"] == "complete").all() and (df["regret"].dropna() >= 0).all()
    assert df["cost"].gt(0).all()
    bench = get_benchmark(name, data_dir=data_dir)
    for cfg in df["config"]:
        bench.space.validate(json.loads(cfg))
    if method == "random":  # at the max budget: a regret from the first trial on
        assert df["regret"].notna().all() and len(df) == 3
    else:
        assert len(df) >= 20 and (df["source"] == "model").sum() >= 3 and not df["fallback"].any()
