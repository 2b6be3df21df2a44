"""Held-out test regret on noisy benchmarks.

A bench cell seeds its objective's noise with the bench seed, a tuning seed. On a noisy benchmark
(``Benchmark.noisy``: the bandit, synthetic functions with ``noise_std > 0``) the incumbent's
value is then one draw, selected for being low: a regret computed from it is biased low (the
winner's curse) and can even be negative. The report scores these cells instead by the
incumbent's **test regret**: its mean value at the max budget over ``TEST_SEEDS`` (disjoint from
the tuning seeds ``0..N-1``), minus the optimum. Each distinct (benchmark, config) is evaluated
once; the values are cached in ``<out>/test_scores.csv``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench.records import CELL

TEST_SEEDS: tuple[int, ...] = tuple(range(10_000, 10_016))
"""Noise seeds of the test evaluation (16; never used as bench seeds)."""

CACHE = "test_scores.csv"

log = logging.getLogger(__name__)


def incumbent_configs(df: pd.DataFrame) -> pd.Series:
    """Per row, the config (JSON) of the cell's incumbent after that row; NaN before the first.

    ``df``: one or more cells in time order, with ``incumbent_config`` as written by the runner,
    or, in cells written before it existed, ``incumbent_loss`` (it changes exactly at the row
    that set a new incumbent there: the best single run).
    """
    prev = df.groupby(CELL, sort=False)["incumbent_loss"].shift(1)
    new = df["incumbent_loss"].notna() & ~(df["incumbent_loss"] == prev)
    old = df["config"].where(new).groupby([df[c] for c in CELL], sort=False).ffill()
    if "incumbent_config" not in df.columns:
        return old
    return df["incumbent_config"].where(df["incumbent_config"].notna(), old)


def noisy_benchmarks(names: list[str], data_dir: str | None) -> list[str]:
    """The names among ``names`` whose objective is noisy (training workloads excluded).

    A data-backed benchmark whose data directory is absent cannot be built, so it is not
    checked; a warning is logged. Its test values could not be computed without the data
    anyway, and the one shipped (LCBench's surrogate) is deterministic.
    """
    from hyperpilot.bench.targets import bench_problem, is_workload
    from hyperpilot.data import DataDirError

    out = []
    for b in names:
        if is_workload(b):
            continue
        try:
            obj = bench_problem(b, data_dir, 0).objective
        except DataDirError as e:
            log.warning("%s: not checked for noise (%s)", b, e)
            continue
        if getattr(obj, "noisy", False):
            out.append(b)
    return out


def test_values(benchmark: str, configs: list[str], data_dir: str | None) -> np.ndarray:
    """Mean value (minimized) at the max budget over ``TEST_SEEDS`` for each config JSON."""
    from hyperpilot.benchmarks import get_benchmark

    benches = [get_benchmark(benchmark, data_dir, s) for s in TEST_SEEDS]
    top = benches[0].fidelity.max
    return np.array([np.mean([b(json.loads(c), top, 0.0)[0] for b in benches]) for c in configs])


def apply_test_scores(df: pd.DataFrame, out: Path, data_dir: str | None) -> pd.DataFrame:
    """Score noisy benchmarks' cells by test regret (see the module docstring).

    Adds ``tuning_score`` (the score from the tuning seed's own values, kept for comparison) and
    ``test_scored`` (bool); ``score`` becomes the test regret on the noisy benchmarks' rows.
    Returns ``df`` unchanged apart from these columns when no benchmark in it is noisy.
    """
    df = df.assign(tuning_score=df["score"], test_scored=False)
    noisy = [b for b in noisy_benchmarks(sorted(df["benchmark"].unique()), data_dir)
             if df.loc[df["benchmark"] == b, "regret"].notna().any()]
    if not noisy:
        return df
    rows = df["benchmark"].isin(noisy)
    inc = incumbent_configs(df[rows])
    cache_path = out / CACHE
    cache = (pd.read_csv(cache_path, dtype={"benchmark": str, "config": str})
             if cache_path.exists() else pd.DataFrame(columns=["benchmark", "config", "test_value"]))
    want = pd.DataFrame({"benchmark": df.loc[rows, "benchmark"], "config": inc}).dropna().drop_duplicates()
    new = want.merge(cache[["benchmark", "config"]], how="left", indicator=True)
    new = new[new["_merge"] == "left_only"]
    if len(new):
        parts = [pd.DataFrame({"benchmark": b, "config": g["config"].to_numpy(),
                               "test_value": test_values(b, list(g["config"]), data_dir)})
                 for b, g in new.groupby("benchmark")]
        cache = pd.concat([cache, *parts], ignore_index=True)
        cache.to_csv(cache_path, index=False, float_format="%.10g")
    value = pd.DataFrame({"benchmark": df.loc[rows, "benchmark"], "config": inc}).merge(
        cache, how="left", on=["benchmark", "config"])["test_value"].to_numpy(dtype=float)
    optimum = (df.loc[rows, "incumbent_value"] - df.loc[rows, "regret"]).to_numpy(dtype=float)
    df.loc[rows, "score"] = value - optimum
    df.loc[rows, "test_scored"] = True
    return df
