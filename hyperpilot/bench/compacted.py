"""Reading a compact bench result (``hyperpilot.paper.compact`` writes them) for ``bench report``.

A compact folder holds ``incumbents.csv.gz`` (each cell's score changes), ``overhead.csv``
(seconds per proposal, per cell and trial-index bin), ``cells.csv``, and, for pieces compacted
since 2026-12-01, ``budget.csv`` and ``false_stops.csv`` (per-cell sums that pool exactly). It is
what ``runs/reference/<scale>/<name>`` commits, so a grid run in pieces across sessions is
reported from its merged reference.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyperpilot.bench.analysis import CELL

#: Trial-index bins of ``overhead.csv`` and the index each is plotted at (its lower bound).
BIN_START = {"0-9": 0, "10-29": 10, "30-99": 30, "100-299": 100, "300-999": 300, "1000+": 1000}


def is_compact(out: Path) -> bool:
    """True for a folder of compact results (no cell files or trials table to read)."""
    return (out / "incumbents.csv.gz").exists() and not (out / "cells").is_dir() and not any(
        (out / n).exists() for n in ("trials.parquet", "trials.csv"))


def load_incumbents(out: Path) -> pd.DataFrame:
    """``incumbents.csv.gz`` sorted by cell and trial index, as ``bench.analysis`` expects."""
    df = pd.read_csv(out / "incumbents.csv.gz", keep_default_na=True)
    df["config"] = df["config"].fillna("")
    df["score"] = df["score"].astype(float)
    return df.sort_values(CELL + ["trial_index"], kind="stable").reset_index(drop=True)


def cell_table(out: Path, name: str, df: pd.DataFrame) -> pd.DataFrame | None:
    """Per-cell file ``name`` restricted to the cells of ``df`` (None when the file is absent)."""
    p = out / name
    if not p.exists():
        return None
    t = pd.read_csv(p)
    return t.merge(df[CELL].drop_duplicates(), on=CELL)


def overhead(bins: pd.DataFrame) -> pd.DataFrame:
    """Per method: ``mean`` (over all proposals) and, per trial-index bin, the median over cells
    of each cell's median seconds per proposal (``overhead.csv`` rows)."""
    t = bins.groupby(["method", "n_obs"], sort=False)["median"].median().unstack()
    t = t[[c for c in BIN_START if c in t.columns]]
    w = bins.assign(total=bins["mean"] * bins["n"]).groupby("method")[["total", "n"]].sum()
    t.insert(0, "mean", w["total"] / w["n"])
    return t.reset_index()


def overhead_curve(bins: pd.DataFrame) -> pd.DataFrame:
    """Rows ``method, trial_index, overhead_s`` (a bin's median over cells at its lower bound)."""
    d = bins.groupby(["method", "n_obs"], as_index=False, sort=False)["median"].median()
    return pd.DataFrame({"method": d["method"], "trial_index": d["n_obs"].map(BIN_START),
                         "overhead_s": d["median"]}).sort_values(["method", "trial_index"])


def fallbacks(cells: pd.DataFrame) -> pd.DataFrame:
    """``cells.csv`` rows summed over seeds: ``method, benchmark, fallbacks, trials, failed``."""
    return cells.groupby(["method", "benchmark"], as_index=False)[
        ["fallbacks", "trials", "failed"]].sum()
