"""Loading and summarising results for notebooks: bench folders and study databases.

::

    from hyperpilot import analysis as A
    df = A.load_study("runs/demo.sqlite")           # one row per trial, curves included
    A.learning_curves(df)                            # one row per curve point (with bracket)
    A.anytime(df)                                    # incumbent at the max budget vs FFE
    A.incumbent_trajectory(df)                       # the configs that became incumbent
    A.partial_dependence(df, A.study_space("runs/demo.sqlite"))   # from a DeepEnsemble
    bench = A.load_bench("runs/bench/dev")           # a bench folder or runs/reference/...
    A.bench_curves(bench)                            # median regret per method vs FFE

Plotting is left to the caller (pandas/seaborn), so this module imports no plotting library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyperpilot.space import Categorical, SearchSpace


def is_bench_result(path: str | Path) -> bool:
    """True for a bench folder (``runs/bench/NAME``) or a compact bench result
    (``runs/reference/<scale>/<name>`` with ``incumbents.csv.gz``); False for a measurement
    script's result (``result.csv.gz``), which ``load_result_table`` reads."""
    p = Path(path)
    return any((p / n).exists() for n in ("incumbents.csv.gz", "cells", "trials.parquet",
                                          "trials.csv"))


def load_bench(path: str | Path) -> pd.DataFrame:
    """A bench's results with a ``score`` column (regret where the optimum is known, else the
    incumbent loss; smaller is better), one row per trial, ``method, benchmark, seed, ffe``.

    ``path`` is a bench folder (its tidy trials table) or a compact result as committed under
    ``runs/reference`` (its ``incumbents.csv.gz``: the rows where a cell's score changes, which
    give the same anytime curves, as ``bench report`` reads them).
    """
    from hyperpilot.bench.analysis import load_trials
    from hyperpilot.bench.compacted import is_compact, load_incumbents

    p = Path(path)
    return load_incumbents(p) if is_compact(p) else load_trials(p)


def bench_curves(df: pd.DataFrame, n: int = 40) -> pd.DataFrame:
    """Median anytime score per benchmark and method at ``n`` log-spaced FFE points.

    Args:
        df: ``load_bench``'s frame.

    Returns:
        Rows ``benchmark, method, ffe, median, q25, q75, n_seeds, n_scored, median_scored``
        (``bench.analysis.summarize`` without bootstrap: ``median`` needs every seed scored,
        ``median_scored`` uses the seeds scored so far).
    """
    from hyperpilot.bench import analysis as BA

    grid = BA.ffe_grid(df, float(df["ffe"].max()), n)
    out = BA.summarize(BA.scores_at(df, grid), np.random.default_rng(0), ci=False)
    return out[["benchmark", "method", "ffe", "median", "q25", "q75", "n_seeds", "n_scored",
                "median_scored"]]


def load_result_table(path: str | Path) -> pd.DataFrame:
    """A measurement script's committed result: ``summary.csv`` if there is one, else
    ``result.csv.gz`` (``runs/reference/<scale>/<name>`` of a script experiment)."""
    p = Path(path)
    for name in ("summary.csv", "result.csv.gz", "result.csv"):
        if (p / name).exists():
            return pd.read_csv(p / name)
    raise FileNotFoundError(f"no bench results, summary.csv or result.csv.gz under {p}")


def _study_row(storage: Any, name: str) -> dict[str, Any]:
    studies = storage.studies()
    for s in studies:
        if s["name"] == name:
            return s
    raise KeyError(f"no study {name!r} in {storage.path}; studies: {[s['name'] for s in studies]}")


def study_space(storage: str | Path, name: str = "default") -> SearchSpace:
    """The search space a stored study was created with."""
    from hyperpilot.storage import Storage

    st = Storage(storage)
    try:
        return SearchSpace.from_dict(_study_row(st, name)["definition"]["space"])
    finally:
        st.close()


def load_study(storage: str | Path, name: str = "default") -> pd.DataFrame:
    """One row per told trial of study ``name``, in the order results were told.

    Returns:
        Columns ``trial_id, config_id, bracket, rung, budget, resume_budget, status, value,
        loss, curve`` (list of ``(budget, value)``), ``config`` (dict), one column per parameter,
        ``overhead_s, wall_s``, ``spent`` (budget trained: up to the stop for a stopped trial),
        ``ffe`` (cumulative full-fidelity equivalents, ``cumsum(spent) / max_budget``), ``max_budget``,
        ``incumbent_loss`` (the incumbent's loss at the max budget so far, under the study's
        incumbent rule, ``hyperpilot.selection``: the best loss, with racing the best mean
        over seeds, or the best posterior mean), ``seed_index`` and ``direction``.
    """
    from hyperpilot.selection import ModelContext, rule_of, trace
    from hyperpilot.storage import Storage

    st = Storage(storage)
    try:
        info = _study_row(st, name)
        rows = [r for r in st.load_trials(info["study_id"]) if r.result is not None]
    finally:
        st.close()
    d = info["definition"]
    direction, max_budget = d["direction"], float(d["fidelity"]["max"])
    rows.sort(key=lambda r: (r.tell_seq if r.tell_seq is not None else 0))
    recs = [_record(r, direction) for r in rows]
    df = pd.DataFrame(recs)
    if df.empty:
        return df
    df["ffe"] = (df["spent"] / max_budget).cumsum()
    df["max_budget"] = max_budget
    rule = rule_of(d)
    if rule.statistic == "best-run":
        at_max = df["loss"].where((df["budget"] >= max_budget) & (df["status"] == "complete"))
        df["incumbent_loss"] = at_max.cummin().ffill()  # cummin leaves NaN where not at max
    else:
        sign = -1.0 if direction == "maximize" else 1.0
        df["incumbent_loss"] = [np.nan if inc is None else sign * inc.value for inc in
                                trace([r.result for r in rows if r.result is not None],
                                      direction, rule, max_budget,
                                      ModelContext.needed(rule, d, info["seed"]))]
    df["direction"] = direction
    params = pd.DataFrame(list(df["config"]), index=df.index)
    return pd.concat([df, params.add_prefix("param_")], axis=1)


def _record(r: Any, direction: str) -> dict[str, Any]:
    from hyperpilot.trial import spent

    t, res = r.trial, r.result
    v = res.value
    loss = np.nan if v is None else (-float(v) if direction == "maximize" else float(v))
    return {"trial_id": t.trial_id, "config_id": t.config_id, "bracket": t.bracket,
            "rung": t.rung, "budget": float(t.budget), "resume_budget": float(t.resume_budget),
            "status": str(res.status.value), "value": np.nan if v is None else float(v),
            "loss": loss, "curve": list(res.curve), "config": dict(t.config),
            "overhead_s": r.overhead, "wall_s": res.wall_time, "source": t.info.get("source"),
            "spent": spent(res), "seed_index": t.seed_index}


def learning_curves(df: pd.DataFrame) -> pd.DataFrame:
    """One row per curve point: ``trial_id, config_id, bracket, rung, budget, value``.

    A trial without a curve contributes its final ``(budget, value)``.
    """
    out = []
    for r in df.itertuples(index=False):
        pts = list(r.curve) or ([(r.budget, r.value)] if np.isfinite(r.value) else [])
        out += [{"trial_id": r.trial_id, "config_id": r.config_id, "bracket": r.bracket,
                 "rung": r.rung, "budget": float(b), "value": float(v)} for b, v in pts]
    return pd.DataFrame(out, columns=["trial_id", "config_id", "bracket", "rung", "budget", "value"])


def anytime(df: pd.DataFrame, optimum: float | None = None) -> pd.DataFrame:
    """Incumbent loss (or regret, given the optimum in the objective's units) against FFE.

    Works for a study frame (``load_study``) and, per method, for a bench frame (``load_bench``).
    """
    if "method" in df.columns:  # a bench table: one curve per cell
        return df[["method", "benchmark", "seed", "ffe", "score"]].copy()
    out = df[["ffe", "incumbent_loss"]].copy()
    if optimum is not None:
        sign = -1.0 if (df["direction"].iloc[0] == "maximize") else 1.0
        out["regret"] = out["incumbent_loss"] - sign * optimum
    return out


def incumbent_trajectory(df: pd.DataFrame) -> pd.DataFrame:
    """The rows where the incumbent at the max budget improved: FFE, loss and config."""
    change = df["incumbent_loss"].notna() & (df["incumbent_loss"] != df["incumbent_loss"].shift(1))
    return df.loc[change, ["trial_id", "ffe", "incumbent_loss", "config"]].reset_index(drop=True)


def partial_dependence(df: pd.DataFrame, space: SearchSpace, params: list[str] | None = None,
                       n_grid: int = 12, seed: int = 0, n_members: int = 4,
                       max_steps: int = 300) -> pd.DataFrame:
    """Partial dependence of the loss on each parameter, from a ``DeepEnsemble``.

    The ensemble is fitted on the unit-cube encoding of the configs evaluated at the max budget
    (``-loss`` as the target, since the surrogates maximise); for each parameter and grid value,
    the parameter is set in every observed config and the predicted loss is averaged.

    Args:
        df: a ``load_study`` frame.
        params: parameter names (default: all).
        n_grid: grid points per numeric parameter (categoricals use their choices).

    Returns:
        Rows ``param, value, loss, std`` (``std``: spread of the ensemble members' averages).
    """
    import torch

    from surrogates import DeepEnsemble

    top = df[(df["budget"] >= df["max_budget"]) & np.isfinite(df["loss"])]
    if len(top) < 3:
        top = df[np.isfinite(df["loss"])].sort_values("budget").tail(max(3, len(df) // 3))
    configs = list(top["config"])
    X = torch.tensor(space.encode(configs), dtype=torch.float64)
    Y = torch.tensor(-top["loss"].to_numpy(float), dtype=torch.float64).unsqueeze(-1)
    model = DeepEnsemble(n_members=n_members, max_steps=max_steps, seed=seed).fit(X, Y)
    rows = []
    for name in params or space.names:
        for g in _grid(space, name, n_grid):
            Xg = torch.tensor(space.encode([{**c, name: g} for c in configs]), dtype=torch.float64)
            with torch.no_grad():
                members = -model(Xg.unsqueeze(0)).squeeze(0).squeeze(-1).mean(dim=-1)
            rows.append({"param": name, "value": g, "loss": float(members.mean()),
                         "std": float(members.std()) if members.numel() > 1 else 0.0})
    return pd.DataFrame(rows)


def _grid(space: SearchSpace, name: str, n: int) -> list[Any]:
    p = space.params[name]
    if isinstance(p, Categorical):
        return list(p.choices)
    u = np.linspace(0.0, 1.0, n)
    return [c[name] for c in space.decode(_unit_column(space, name, u))]


def _unit_column(space: SearchSpace, name: str, u: np.ndarray) -> np.ndarray:
    """An ``n x dim`` array with ``u`` in ``name``'s column and 0.5 elsewhere."""
    X = np.full((len(u), space.dim), 0.5)
    col = space.names.index(name)
    widths = [space.params[n].width for n in space.names]
    X[:, sum(widths[:col])] = u
    return X


def config_table(df: pd.DataFrame) -> pd.DataFrame:
    """The ``config`` column expanded to one column per parameter (JSON strings are parsed)."""
    cfg = [json.loads(c) if isinstance(c, str) and c else (c or {}) for c in df["config"]]
    return pd.DataFrame(cfg, index=df.index)
