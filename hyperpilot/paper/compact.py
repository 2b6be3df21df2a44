"""Compact tidy results: what the paper's figures and tables are computed from.

A bench run's full trials table grows to hundreds of MB at full scale; the paper needs only

* ``incumbents.csv.gz``: per cell, its first row, every row where the score (regret, or incumbent
  loss without a known optimum) changes, and its last row, with the incumbent's config at each
  change. ``bench.analysis.scores_at`` gives the same anytime curves from it as from all rows;
* ``overhead.csv``: optimizer seconds per proposal, per cell and trial-index bin (median, mean, n);
* ``cells.csv``: per cell, trials, FFE, fallbacks, failed and stopped trials, final score.

Figures and tables are always computed from these files, whether they come from a fresh run or
from the committed ``runs/reference``, so both give identical artifacts.
"""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import pandas as pd

from hyperpilot.bench.analysis import CELL

INCUMBENT_COLS = ["method", "benchmark", "seed", "trial_index", "ffe", "score",
                  "incumbent_value", "regret", "config"]
BINS = (0, 10, 30, 100, 300, 1000, 10**9)
FILES = ("incumbents.csv.gz", "overhead.csv", "cells.csv", "config.json", "meta.json")


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """CSV (gzip with a zero mtime for ``.gz``, so equal frames give equal bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(index=False, float_format="%.10g", lineterminator="\n").encode()
    if path.suffix == ".gz":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
            f.write(text)
        text = buf.getvalue()
    path.write_bytes(text)
    return path


def incumbents(df: pd.DataFrame) -> pd.DataFrame:
    """First row, score changes and last row of each cell (``df`` from ``bench.analysis.load_trials``)."""
    g = df.groupby(CELL, sort=False)
    prev = g["score"].shift(1)
    changed = ~((df["score"] == prev) | (df["score"].isna() & prev.isna()))
    first = g.cumcount() == 0
    last = g.cumcount(ascending=False) == 0
    out = df.loc[changed | first | last, INCUMBENT_COLS].copy()
    out.loc[~changed.loc[out.index] | out["score"].isna(), "config"] = ""
    return out.reset_index(drop=True)


def overhead(df: pd.DataFrame) -> pd.DataFrame:
    """Per cell and trial-index bin: median, mean and count of ``overhead_s``."""
    labels = [f"{a}-{b - 1}" if b < 10**9 else f"{a}+" for a, b in zip(BINS[:-1], BINS[1:], strict=True)]
    d = df[CELL + ["trial_index", "overhead_s"]].dropna(subset=["overhead_s"])
    d = d.assign(n_obs=pd.cut(d["trial_index"], bins=list(BINS), right=False, labels=labels))
    out = d.groupby(CELL + ["n_obs"], observed=True, sort=False)["overhead_s"].agg(
        median="median", mean="mean", n="size")
    return out.reset_index()


def cells(df: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: trials, final FFE and score, fallbacks, failed and stopped trials."""
    g = df.groupby(CELL, sort=False)
    return g.agg(trials=("trial_index", "size"), ffe=("ffe", "last"),
                 final_score=("score", "last"), fallbacks=("fallback", "sum"),
                 failed=("status", lambda s: int((s == "failed").sum())),
                 stopped=("stopped", "sum"), wall_s=("wall_s", "sum"),
                 overhead_s=("overhead_s", "sum")).reset_index()


def compact_bench(run_dir: Path, dest: Path) -> Path:
    """Write the compact files of the bench results in ``run_dir`` into ``dest``.

    Only (benchmark, seed) pairs that every method has finished are kept, so a grid still
    running gives like-for-like comparisons (``cells.csv`` lists what was used).
    """
    from hyperpilot.bench.analysis import load_trials, select

    df = select(load_trials(run_dir), complete=True)
    write_csv(incumbents(df), dest / "incumbents.csv.gz")
    write_csv(overhead(df), dest / "overhead.csv")
    write_csv(cells(df), dest / "cells.csv")
    for name in ("config.json", "meta.json"):
        if (run_dir / name).exists() and run_dir != dest:
            shutil.copyfile(run_dir / name, dest / name)
    return dest


def load_incumbents(dest: Path) -> pd.DataFrame:
    """``incumbents.csv.gz`` sorted by cell and trial index, as ``bench.analysis`` expects."""
    df = pd.read_csv(dest / "incumbents.csv.gz", keep_default_na=True)
    df["config"] = df["config"].fillna("")
    df["score"] = df["score"].astype(float)
    return df.sort_values(CELL + ["trial_index"], kind="stable").reset_index(drop=True)


def is_compact(dest: Path) -> bool:
    return (dest / "incumbents.csv.gz").exists() or (dest / "result.csv.gz").exists()

