"""From the tidy trials table to the report's numbers (pandas frames; no plotting here).

The score is the regret where the benchmark has a known optimum, else the incumbent loss (both
smaller-is-better); a cell has no score until its first evaluation at the max budget.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench.records import CELL
from hyperpilot.bench.stats import bootstrap_ci, iqm, paired_sign_test, rank_methods
from hyperpilot.bench.testscore import apply_test_scores


def load_trials(out: Path, test_scores: bool = True) -> pd.DataFrame:
    """``trials.parquet`` (or ``.csv``), else the cell files; adds the ``score`` column.

    With ``test_scores``, noisy benchmarks are scored by the incumbent's held-out test regret
    (``bench.testscore``; adds ``tuning_score`` and ``test_scored``).
    """
    from hyperpilot.bench.grid import collect, read_table

    for name in ("trials.parquet", "trials.csv"):
        if (out / name).exists() and not _cells_newer(out, out / name):
            df = read_table(out / name)
            break
    else:
        df = collect(out)  # also refreshes trials.parquet (a grid may still be running)
    if df.empty:
        raise FileNotFoundError(f"no finished cells under {out}")
    if "spent" not in df:  # tables written before the column existed (see ``bench rebuild``)
        df["spent"] = np.nan
    df["spent"] = df["spent"].fillna(df["budget"] - df["resume_budget"])
    has_opt = df.groupby("benchmark")["regret"].transform(lambda s: s.notna().any())
    df["score"] = np.where(has_opt, df["regret"], df["incumbent_loss"])
    df = df.sort_values(CELL + ["trial_index"], kind="stable").reset_index(drop=True)
    if test_scores:
        df = apply_test_scores(df, out, data_dir(out))
    return df


def _cells_newer(out: Path, table: Path) -> bool:
    """True when a cell was written or removed after ``table`` was (then re-collect)."""
    cells = out / "cells"
    if not cells.is_dir():
        return False
    stamps = [cells.stat().st_mtime] + [p.stat().st_mtime for p in cells.iterdir()]
    return max(stamps) > table.stat().st_mtime


def data_dir(out: Path) -> str | None:
    """The data directory the bench at ``out`` was run with (None: ``$HYPERPILOT_DATA``)."""
    cfg = out / "config.json"
    return json.loads(cfg.read_text()).get("data_dir") if cfg.exists() else None


def select(df: pd.DataFrame, methods: list[str] | None = None, complete: bool = False
           ) -> pd.DataFrame:
    """Rows of ``methods`` (default all); with ``complete``, only the (benchmark, seed) pairs
    that every selected method has finished, so ranks and medians compare like with like on a
    grid that is still running.

    Raises:
        ValueError: for a method not in ``df``, or when nothing is left.
    """
    if methods:
        missing = sorted(set(methods) - set(df["method"]))
        if missing:
            raise ValueError(f"methods not in the results: {missing}; present: "
                             f"{sorted(df['method'].unique())}")
        df = df[df["method"].isin(methods)]
    if complete:
        n = df["method"].nunique()
        have = df.groupby(["benchmark", "seed"])["method"].nunique()
        keep = have[have == n].reset_index()[["benchmark", "seed"]]
        df = df.merge(keep, on=["benchmark", "seed"]).sort_values(
            CELL + ["trial_index"], kind="stable").reset_index(drop=True)
    if df.empty:
        raise ValueError("no cells left after selecting methods/complete seeds")
    return df


def ffe_grid(df: pd.DataFrame, budget: float, n: int = 40) -> np.ndarray:
    """``n`` log-spaced FFE points from the smallest first-trial FFE (>= budget/1000) to ``budget``."""
    lo = max(float(df.loc[df["ffe"] > 0, "ffe"].min()), budget / 1000.0)
    return np.geomspace(min(lo, budget), budget, n)


def scores_at(df: pd.DataFrame, points: np.ndarray) -> pd.DataFrame:
    """Each cell's score at each FFE point (the incumbent after the last trial done by then).

    Returns:
        Rows ``method, benchmark, seed, ffe, score`` (``len(points)`` per cell; NaN before the
        first full-budget result).
    """
    parts = []
    for (m, b, s), c in df.groupby(CELL, sort=False):
        idx = np.searchsorted(c["ffe"].to_numpy(), points, side="right") - 1
        sc = c["score"].to_numpy(dtype=float)
        vals = np.where(idx >= 0, sc[np.clip(idx, 0, None)], np.nan)
        parts.append(pd.DataFrame({"method": m, "benchmark": b, "seed": s, "ffe": points,
                                   "score": vals}))
    return pd.concat(parts, ignore_index=True)


def summarize(curves: pd.DataFrame, rng: np.random.Generator, ci: bool = True) -> pd.DataFrame:
    """Per (benchmark, method, ffe): median with 25-75% band, IQM with a 95% bootstrap CI.

    A point is NaN unless every seed of the method has a score there; ``n_scored`` counts the
    seeds that have one and ``median_scored`` is their median (NaN when none has), so a report
    can still show a method whose seeds reach the max budget at different times.
    """
    rows = []
    for (b, m, f), g in curves.groupby(["benchmark", "method", "ffe"], sort=False):
        x = g["score"].to_numpy(dtype=float)
        fin = np.isfinite(x)
        ok = fin.all()
        q = np.percentile(x, [25, 50, 75]) if ok else [np.nan] * 3
        lo, hi = bootstrap_ci(x, rng) if ok and ci else (np.nan, np.nan)
        rows.append({"benchmark": b, "method": m, "ffe": f, "median": q[1], "q25": q[0],
                     "q75": q[2], "iqm": float(iqm(x)) if ok else np.nan, "iqm_lo": lo,
                     "iqm_hi": hi, "n_seeds": len(x), "n_scored": int(fin.sum()),
                     "median_scored": float(np.median(x[fin])) if fin.any() else np.nan})
    return pd.DataFrame(rows)


def mean_ranks(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean rank over benchmark x seed at each FFE point: rows ``method, ffe, mean_rank``."""
    c = curves.copy()
    c["rank"] = rank_methods(c, ["benchmark", "seed", "ffe"])
    return c.groupby(["method", "ffe"], as_index=False)["rank"].mean().rename(
        columns={"rank": "mean_rank"})


def final_table(df: pd.DataFrame, budgets: list[float]) -> pd.DataFrame:
    """Score at each budget: rows ``benchmark, method, ffe, median, q25, q75, mean_rank,
    n_scored, n_seeds`` (quantiles over the seeds that have an incumbent by then)."""
    at = scores_at(df, np.asarray(budgets, dtype=float))
    at["rank"] = rank_methods(at, ["benchmark", "seed", "ffe"])
    g = at.groupby(["benchmark", "method", "ffe"], sort=False)
    out = g["score"].agg(median="median", q25=lambda s: s.quantile(0.25),
                         q75=lambda s: s.quantile(0.75)).reset_index()
    out["mean_rank"] = g["rank"].mean().to_numpy()
    out["n_scored"] = g["score"].count().to_numpy()  # seeds with an incumbent by then
    out["n_seeds"] = g["score"].size().to_numpy()
    return out


def family_ranks(final: pd.DataFrame) -> pd.DataFrame:
    """Mean rank per benchmark family (``lcbench:3945`` -> ``lcbench``) and budget.

    ``final``: ``final_table``'s rows. Returns one row per method with ``<family>@<ffe>`` columns,
    each the mean over the family's benchmarks and seeds (a family of one is its benchmark).
    """
    f = final.assign(family=final["benchmark"].str.partition(":")[0])
    w = (f.assign(w=f["mean_rank"] * f["n_seeds"]).groupby(["method", "family", "ffe"])[["w", "n_seeds"]]
         .sum())
    t = (w["w"] / w["n_seeds"]).unstack(["family", "ffe"])
    t.columns = [f"{fam}@{x:g}" for fam, x in t.columns]
    return t[sorted(t.columns, key=lambda c: (c.split("@")[0], float(c.split("@")[1])))].reset_index()


def versus(df: pd.DataFrame, budgets: list[float], focus: str, rivals: list[str]) -> pd.DataFrame:
    """Where ``focus`` stands on each benchmark at each budget, against the best of ``rivals``.

    Per (benchmark, ffe): ``place`` (focus's position among all methods by mean rank over seeds,
    1 = best), ``focus_rank`` (its mean rank), ``best_rival`` (the rival with the lowest mean
    rank), the medians of both, ``diff`` (focus median - rival median; < 0: focus leads),
    ``ratio`` (focus median / rival median, only where both are >= 0 and the rival's > 0: an
    estimated optimum can make regrets slightly negative) and
    ``win_rate`` (share of seeds where focus's score is lower than the rival's; ties count half).
    """
    at = scores_at(df, np.asarray(budgets, dtype=float))
    at["rank"] = rank_methods(at, ["benchmark", "seed", "ffe"])
    rows = []
    for (b, f), g in at.groupby(["benchmark", "ffe"], sort=False):
        mr = g.groupby("method")["rank"].mean().sort_values()
        present = [r for r in rivals if r in mr.index]
        if focus not in mr.index or not present:
            continue
        best = min(present, key=lambda r: mr[r])
        mine = g[g["method"] == focus].set_index("seed")["score"].astype(float)
        theirs = g[g["method"] == best].set_index("seed")["score"].astype(float)
        a, c = mine.fillna(np.inf).align(theirs.fillna(np.inf), join="inner")
        wins = float(np.mean((a < c) + 0.5 * (a == c))) if len(a) else np.nan
        m_f, m_r = float(mine.median()), float(theirs.median())
        rows.append({"benchmark": b, "ffe": f, "place": int(list(mr.index).index(focus)) + 1,
                     "of": len(mr), "focus_rank": float(mr[focus]), "best_rival": best,
                     "rival_rank": float(mr[best]), "focus_median": m_f, "rival_median": m_r,
                     "diff": m_f - m_r, "ratio": m_f / m_r if m_r > 0 and m_f >= 0 else np.nan,
                     "win_rate": wins,
                     "n_seeds": len(a)})
    return pd.DataFrame(rows)


def focus_method(methods: list[str]) -> str:
    """The method a report compares with the others: ``hyperpilot`` where it ran, else the
    default method with a named surrogate (``hyperpilot@ensemble``: a reference whose
    ``hyperpilot`` ran with an older default surrogate), else the first of the given order whose
    name starts with ``hyperpilot``, else the first.

    Raises:
        ValueError: ``methods`` is empty.
    """
    if not methods:
        raise ValueError("no methods to choose a focus from")
    if "hyperpilot" in methods:
        return "hyperpilot"
    named = [m for m in methods if m.startswith("hyperpilot@") and ":" not in m]
    if named:
        return named[0]
    return next((m for m in methods if m.startswith("hyperpilot")), methods[0])


def paired(df: pd.DataFrame, budgets: list[float], focus: str, others: list[str] | None = None,
           families: bool = False) -> pd.DataFrame:
    """``focus`` against each other method on the same (benchmark, seed) pairs, at each budget.

    Rows ``against, group, ffe, wins, losses, ties, p``: ``wins`` counts the pairs where
    ``focus``'s score is lower, ``p`` is the two-sided sign test over the decided pairs
    (``stats.paired_sign_test``; a cell without an incumbent yet scores worst, and a pair where
    either cell was not run is left out). ``group`` is ``"all"`` and, with ``families``, each
    benchmark family (``lcbench:3945`` -> ``lcbench``). Empty when ``focus`` is not in ``df``.
    """
    methods = list(dict.fromkeys(df["method"]))
    if focus not in methods:
        return pd.DataFrame(columns=["against", "group", "ffe", "wins", "losses", "ties", "p"])
    others = others or [m for m in methods if m != focus]
    at = scores_at(df[df["method"].isin([focus, *others])], np.asarray(budgets, dtype=float))
    keyed = at.set_index(["benchmark", "seed", "ffe", "method"])["score"]
    score = keyed.unstack("method")  # NaN: no incumbent yet, or the cell was not run
    ran = pd.Series(True, index=keyed.index).unstack("method", fill_value=False).loc[score.index]
    benches = score.index.get_level_values("benchmark")
    ffe = score.index.get_level_values("ffe").to_numpy(float)
    groups = [("all", np.ones(len(score), dtype=bool))]
    if families:
        fam = np.array([b.partition(":")[0] for b in benches])
        groups += [(g, fam == g) for g in dict.fromkeys(fam)]
    mine, ran_mine = score[focus].to_numpy(float), ran[focus].to_numpy()
    rows = []
    for g, in_group in groups:
        for f in dict.fromkeys(ffe):
            for m in others:
                both = in_group & (ffe == f) & ran_mine & ran[m].to_numpy()
                r = paired_sign_test(mine[both], score[m].to_numpy(float)[both])
                rows.append({"against": m, "group": g, "ffe": f, **r})
    return pd.DataFrame(rows)


def overhead(df: pd.DataFrame, bins: tuple[int, ...] = (0, 10, 30, 100, 300, 1000, 10**9)
             ) -> pd.DataFrame:
    """Median optimizer seconds per proposal by method and by trial index bin (data size)."""
    d = df[["method", "trial_index", "overhead_s"]].dropna()
    labels = [f"{a}-{b - 1}" if b < 10**9 else f"{a}+" for a, b in zip(bins[:-1], bins[1:], strict=True)]
    d = d.assign(n_obs=pd.cut(d["trial_index"], bins=list(bins), right=False, labels=labels))
    t = d.groupby(["method", "n_obs"], observed=True)["overhead_s"].median().unstack()
    t.insert(0, "all", d.groupby("method")["overhead_s"].median())
    t.insert(1, "mean", d.groupby("method")["overhead_s"].mean())
    return t.reset_index()


def budget_sums(df: pd.DataFrame) -> pd.DataFrame:
    """Per cell: ``trials``, ``promotions``, ``stopped`` (counts) and the sums of ``asked``
    (budget - resume_budget), ``spent`` and ``resume_budget`` (budget units). Sums add up over
    cells, so ``compute_saved`` can pool pieces of a grid run at different times."""
    d = df.assign(asked=df["budget"] - df["resume_budget"], promoted=df["resume_budget"] > 0)
    return d.groupby(CELL, sort=False).agg(
        trials=("trial_index", "size"), promotions=("promoted", "sum"), stopped=("stopped", "sum"),
        asked=("asked", "sum"), spent=("spent", "sum"),
        resume_budget=("resume_budget", "sum")).reset_index()


def compute_saved(df: pd.DataFrame | None = None, sums: pd.DataFrame | None = None) -> pd.DataFrame:
    """Training budget saved by checkpoint resume and by early stopping, per method.

    From the trials ``df`` or from ``budget_sums`` rows ``sums`` (the same numbers). Pooled over
    every trial of a method (budget units, so benchmarks with different budget scales are only
    compared as ratios):

    * ``resume_saved``: ``sum(resume_budget) / sum(spent + resume_budget)``: the share of the
      budget that retraining every promoted trial from scratch would have added;
    * ``stop_saved``: ``sum(budget - resume_budget - spent) / sum(budget - resume_budget)``: the
      share of the asked budget that runs stopped early did not train;
    * ``promotions`` and ``stopped``: trial counts. Methods without either are left out.
    """
    if sums is None:
        if df is None:
            raise ValueError("compute_saved needs the trials or their budget_sums")
        sums = budget_sums(df)
    g = sums.groupby("method").sum(numeric_only=True)
    out = pd.DataFrame({
        "trials": g["trials"], "promotions": g["promotions"], "stopped": g["stopped"],
        "resume_saved": g["resume_budget"] / (g["spent"] + g["resume_budget"]),
        "stop_saved": (g["asked"] - g["spent"]) / g["asked"],
    }).reset_index()
    return out[(out["promotions"] > 0) | (out["stopped"] > 0)].reset_index(drop=True)


def fallbacks(df: pd.DataFrame) -> pd.DataFrame:
    """Model fallbacks per method and benchmark (summed over seeds) with the trial counts."""
    return df.groupby(["method", "benchmark"], as_index=False).agg(
        fallbacks=("fallback", "sum"), trials=("fallback", "size"),
        failed=("status", lambda s: int((s == "failed").sum())))
