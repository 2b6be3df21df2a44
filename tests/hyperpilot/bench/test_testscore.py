"""Held-out test regret on noisy benchmarks, and the report's method/complete-seed selection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyperpilot.bench import analysis, testscore
from hyperpilot.bench.records import finish_table, rows_from_results
from hyperpilot.benchmarks import get_benchmark
from hyperpilot.trial import Result, Status, Trial

GOOD = {"epsilon": 0.002, "update": "constant", "step_size": 0.03, "initial_value": 3.0}
BAD = {"epsilon": 0.4, "update": "sample_average", "initial_value": 0.0}


def _cell(benchmark: str, method: str, seed: int, configs: list[dict]) -> pd.DataFrame:
    """A cell evaluating ``configs`` at the max budget on the tuning seed ``seed``."""
    b = get_benchmark(benchmark, seed=seed)
    top = b.fidelity.max
    results = [Result(Trial(i, i, c, top), Status.COMPLETE, b(c, top)[0], [])
               for i, c in enumerate(configs)]
    df = finish_table(rows_from_results(results), method, benchmark, seed, "minimize", top,
                      b.optimum)
    has_opt = df["regret"].notna()
    return df.assign(score=np.where(has_opt, df["regret"], df["incumbent_loss"]))


def test_incumbent_configs_follow_the_incumbent_changes() -> None:
    df = pd.DataFrame({"method": "m", "benchmark": "b", "seed": 0,
                       "config": ["a", "b", "c", "d"],
                       "incumbent_loss": [np.nan, 2.0, 2.0, 1.0]})
    assert testscore.incumbent_configs(df).tolist()[1:] == ["b", "b", "d"]
    assert pd.isna(testscore.incumbent_configs(df).iloc[0])


def test_bandit_is_scored_by_the_mean_over_held_out_seeds(tmp_path: Path) -> None:
    df = _cell("bandit", "m", 0, [BAD, GOOD])
    out = testscore.apply_test_scores(df, tmp_path, None)
    bench = [get_benchmark("bandit", seed=s) for s in testscore.TEST_SEEDS]
    want = [np.mean([b(c, 2430)[0] for b in bench]) - bench[0].optimum for c in (BAD, GOOD)]
    assert out["score"].tolist() == pytest.approx(want)
    assert out["tuning_score"].tolist() == df["score"].tolist()
    assert out["test_scored"].all()
    assert not set(testscore.TEST_SEEDS) & {0}  # disjoint from the tuning seed
    cache = pd.read_csv(tmp_path / testscore.CACHE)
    assert sorted(cache["config"]) == sorted(json.dumps(c, sort_keys=True) for c in (BAD, GOOD))


def test_cached_values_are_not_recomputed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    df = _cell("bandit", "m", 1, [GOOD])
    first = testscore.apply_test_scores(df, tmp_path, None)["score"].tolist()

    def boom(*a: object) -> None:
        raise AssertionError("recomputed a cached config")

    monkeypatch.setattr(testscore, "test_values", boom)
    assert testscore.apply_test_scores(df, tmp_path, None)["score"].tolist() == first


def test_noise_free_benchmarks_keep_their_regret(tmp_path: Path) -> None:
    df = _cell("hartmann6", "m", 0, [{f"x{i}": 0.5 for i in range(1, 7)}])
    out = testscore.apply_test_scores(df, tmp_path, None)
    assert out["score"].tolist() == df["score"].tolist()
    assert not out["test_scored"].any()
    assert not (tmp_path / testscore.CACHE).exists()


def test_select_complete_keeps_pairs_every_method_finished() -> None:
    rows = [("a", "b1", 0), ("b", "b1", 0), ("a", "b1", 1), ("a", "b2", 0), ("b", "b2", 0)]
    df = pd.DataFrame([{"method": m, "benchmark": b, "seed": s, "trial_index": 0}
                       for m, b, s in rows])
    got = analysis.select(df, complete=True)
    assert set(zip(got["benchmark"], got["seed"], strict=True)) == {("b1", 0), ("b2", 0)}
    only_a = analysis.select(df, methods=["a"], complete=True)
    assert len(only_a) == 3
    with pytest.raises(ValueError, match="not in the results"):
        analysis.select(df, methods=["c"])


def test_versus_finds_the_best_rival_and_the_ratio() -> None:
    final = {("hp", 0): 1.0, ("hp", 1): 4.0, ("p1", 0): 2.0, ("p1", 1): 2.0,
             ("p2", 0): 3.0, ("p2", 1): 3.0, ("rs", 0): 0.5, ("rs", 1): 0.5}
    df = pd.DataFrame([{"method": m, "benchmark": "b", "seed": s, "trial_index": 0, "ffe": 1.0,
                        "score": v} for (m, s), v in final.items()])
    v = analysis.versus(df, [1.0], "hp", ["p1", "p2"]).iloc[0]
    assert v["best_rival"] == "p1" and v["place"] == 3 and v["of"] == 4  # rs 1.0, p1 2.5, hp 3.0, p2 3.5
    assert v["ratio"] == pytest.approx(2.5 / 2.0) and v["win_rate"] == 0.5
    assert analysis.versus(df, [1.0], "hp", ["absent"]).empty


def test_family_ranks_pool_the_tasks_of_a_family() -> None:
    final = pd.DataFrame({"benchmark": ["lc:1", "lc:1", "lc:2", "lc:2", "h", "h"],
                          "method": ["a", "b"] * 3, "ffe": 10.0,
                          "mean_rank": [1.0, 2.0, 2.0, 1.0, 1.5, 1.5],
                          "n_seeds": [3, 3, 1, 1, 2, 2]})
    t = analysis.family_ranks(final).set_index("method")
    assert list(t.columns) == ["h@10", "lc@10"]
    assert t.loc["a", "lc@10"] == pytest.approx((3 * 1.0 + 1 * 2.0) / 4)
    assert t.loc["b", "h@10"] == 1.5


def test_false_stops_pool_over_benchmarks() -> None:
    from hyperpilot.bench.falsestop import pooled

    fs = pd.DataFrame({"method": ["m", "m", "m"], "benchmark": ["a", "b", "a"],
                       "kind": ["stopped", "stopped", "discarded"], "n": [10, 30, 0],
                       "evaluated": [10, 20, 0], "false": [1, 2, 0]})
    t = pooled(fs)
    assert t[["kind", "n", "evaluated", "false"]].values.tolist() == [["stopped", 40, 30, 3]]
    assert t["rate"].iloc[0] == pytest.approx(0.1)


def test_data_backed_benchmarks_without_data_are_not_checked(monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("HYPERPILOT_DATA", raising=False)
    assert testscore.noisy_benchmarks(["lcbench:3945", "bandit", "hartmann6"], None) == ["bandit"]
    assert "lcbench:3945: not checked for noise" in caplog.text
