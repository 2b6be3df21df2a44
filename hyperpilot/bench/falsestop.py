"""Early-stopping false stops: were stopped (or never-promoted) configs actually the best?

For benchmarks that are cheap to query (registered benchmarks, not training workloads), each
stopped config is evaluated at the max budget (objective's noise seed = the bench seed) and
compared with the cell's final incumbent. ``false_stop_rate`` is the fraction of stopped configs
whose full-budget loss beats the final incumbent loss. The same is computed for configs that a
multi-fidelity method discarded (never ran at the max budget), as ``false_discard_rate``.
"""

from __future__ import annotations

import json
import zlib

import numpy as np
import pandas as pd

from hyperpilot.bench.analysis import CELL

COLUMNS = ["method", "benchmark", "seed", "kind", "n", "evaluated", "false"]


def false_stops_by_cell(df: pd.DataFrame, data_dir: str | None, seed: int = 0,
                        cap: int = 50) -> pd.DataFrame:
    """Rows ``method, benchmark, seed, kind (stopped|discarded), n, evaluated, false`` per cell.

    Counts add up over cells, so pieces of a grid run at different times can be pooled.

    Args:
        seed: with the cell's method, benchmark and seed, seeds the sample of configs evaluated
            (each cell draws its own sample, whatever other cells are present).
        cap: at most this many configs per cell and kind are re-evaluated (a seeded sample).
    """
    from hyperpilot.bench.targets import bench_problem, is_workload

    rows = []
    for (m, b, s), c in df.groupby(CELL, sort=False):
        if is_workload(b) or c["incumbent_loss"].isna().all():
            continue
        problem = bench_problem(b, data_dir, int(s))
        sign = 1.0 if problem.direction == "minimize" else -1.0
        final = float(c["incumbent_loss"].iloc[-1])
        reached = set(c.loc[c["budget"] >= problem.fidelity.max * (1 - 1e-9), "config_id"])
        stopped = c.loc[c["stopped"], "config"].drop_duplicates()
        discarded = c.loc[~c["config_id"].isin(reached) & ~c["stopped"], "config"].drop_duplicates()
        rng = np.random.default_rng([seed, int(s), zlib.crc32(f"{m}|{b}".encode())])
        for kind, configs in (("stopped", stopped), ("discarded", discarded)):
            pick = configs.to_numpy()
            if len(pick) > cap:
                pick = rng.choice(pick, cap, replace=False)
            losses = [sign * float(problem.objective(json.loads(x), problem.fidelity.max, 0.0)[0])
                      for x in pick]
            rows.append({"method": m, "benchmark": b, "seed": s, "kind": kind, "n": len(configs),
                         "evaluated": len(pick), "false": int(np.sum(np.less(losses, final)))})
    return pd.DataFrame(rows, columns=COLUMNS)


def by_benchmark(cells: pd.DataFrame) -> pd.DataFrame:
    """``false_stops_by_cell`` rows summed over seeds: ``method, benchmark, kind, n, evaluated,
    false, rate``."""
    t = cells.groupby(["method", "benchmark", "kind"], as_index=False, sort=False)[
        ["n", "evaluated", "false"]].sum()
    t["rate"] = t["false"] / t["evaluated"].where(t["evaluated"] > 0)
    return t


def pooled(fs: pd.DataFrame) -> pd.DataFrame:
    """``false_stops`` rows pooled over benchmarks: one row per method and kind with any configs."""
    t = fs.groupby(["method", "kind"], as_index=False)[["n", "evaluated", "false"]].sum()
    t = t[t["n"] > 0].reset_index(drop=True)
    t["rate"] = t["false"] / t["evaluated"].where(t["evaluated"] > 0)
    return t
