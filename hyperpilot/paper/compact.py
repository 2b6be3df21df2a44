"""Compact tidy results: what the paper's figures and tables are computed from.

A bench run's full trials table grows to hundreds of MB at full scale; the paper needs only

* ``incumbents.csv.gz``: per cell, its first row, every row where the score (regret, or incumbent
  loss without a known optimum) changes, and its last row, with the incumbent's config at each
  change. ``bench.analysis.scores_at`` gives the same anytime curves from it as from all rows;
* ``overhead.csv``: optimizer seconds per proposal, per cell and trial-index bin (median, mean, n);
* ``cells.csv``: per cell, trials, FFE, fallbacks, failed and stopped trials, final score;
* ``budget.csv``: per cell, the budget sums behind the compute saved by resume and stopping;
* ``false_stops.csv``: per cell and kind, stopped/discarded configs re-evaluated at the max
  budget and how many beat the final incumbent (absent when the benchmark data is not at hand).

Figures and tables are always computed from these files, whether they come from a fresh run or
from the committed ``runs/reference``, so both give identical artifacts.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from hyperpilot.bench.analysis import CELL
from hyperpilot.bench.compacted import load_incumbents
from hyperpilot.bench.grid import SAME_CONFIG, config_diff

log = logging.getLogger("hyperpilot.paper")

__all__ = ["budget_of", "compact_bench", "join_methods", "load_incumbents", "merge_bench", "MergeError"]

INCUMBENT_COLS = ["method", "benchmark", "seed", "trial_index", "ffe", "score",
                  "incumbent_value", "regret", "config"]
BINS = (0, 10, 30, 100, 300, 1000, 10**9)
FILES = ("incumbents.csv.gz", "overhead.csv", "cells.csv", "config.json", "meta.json")
#: Per-cell files that compact runs since 2026-12-01 add; a merged reference may hold them for
#: only some of its pieces.
OPTIONAL = ("budget.csv", "false_stops.csv")


def budget_of(src: Path) -> float:
    """The study budget (FFE) a compact bench result ran with (its ``config.json``)."""
    return float(json.loads((src / "config.json").read_text())["budget"])


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
    keep = changed | first | last
    out = df.loc[keep, INCUMBENT_COLS].copy()
    if "incumbent_config" in df.columns:  # the incumbent's config, not the row's (racing)
        given = df.loc[keep, "incumbent_config"]
        out["config"] = given.where(given.notna(), out["config"])
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
    from hyperpilot.bench.analysis import budget_sums, data_dir, load_trials, select
    from hyperpilot.bench.falsestop import false_stops_by_cell
    from hyperpilot.data import DataDirError

    df = select(load_trials(run_dir), complete=True)
    write_csv(incumbents(df), dest / "incumbents.csv.gz")
    write_csv(overhead(df), dest / "overhead.csv")
    write_csv(cells(df), dest / "cells.csv")
    write_csv(budget_sums(df), dest / "budget.csv")
    try:
        write_csv(false_stops_by_cell(df, data_dir(run_dir)), dest / "false_stops.csv")
    except DataDirError as err:
        log.warning("no false_stops.csv: %s", err)
        (dest / "false_stops.csv").unlink(missing_ok=True)
    for name in ("config.json", "meta.json"):
        if (run_dir / name).exists() and run_dir != dest:
            shutil.copyfile(run_dir / name, dest / name)
    return dest


class MergeError(ValueError):
    """Two compact bench results that are not pieces of one experiment."""


def merge_bench(old: Path, new: Path, dest: Path) -> Path:
    """Merge two compact bench results of one grid (run in pieces) into ``dest``.

    A grid can be run across sessions and machines in pieces of seeds (``bench run --seeds
    2-3``). ``new`` wins for a (benchmark, seed) pair present in both; ``old`` contributes the
    pairs ``new`` lacks. ``meta.json`` keeps every piece's runs and commit under ``pieces``.

    Raises:
        MergeError: when the two configs differ in a setting of ``bench.runner.SAME_CONFIG``
            (the rule ``bench run`` applies to a folder; seeds, workers, out and data directory
            may differ).
    """
    cfg_old, cfg_new = (_json(p / "config.json") for p in (old, new))
    diff = config_diff(cfg_old, cfg_new)
    if diff:
        raise MergeError(f"cannot merge {new} into {old}: configs differ ({'; '.join(diff)})")
    meta_old, meta_new = (_json(p / "meta.json") for p in (old, new))
    pieces = (meta_old.get("pieces") or [_piece(meta_old, old)]) + [_piece(meta_new, new)]
    frames = {}
    for name in ("incumbents.csv.gz", "overhead.csv", "cells.csv", *OPTIONAL):
        a, b = (pd.read_csv(p / name, keep_default_na=True) if (p / name).exists() else None
                for p in (old, new))
        if a is not None and b is not None:
            pairs = set(zip(b["benchmark"], b["seed"], strict=True))
            keep = [(bm, s) not in pairs for bm, s in zip(a["benchmark"], a["seed"], strict=True)]
            a = a[keep]
        parts = [x for x in (a, b) if x is not None and len(x)]
        if parts:
            frames[name] = pd.concat(parts, ignore_index=True).sort_values(
                CELL, kind="stable").reset_index(drop=True)
    seeds = sorted({int(s) for s in frames["cells.csv"]["seed"]} | set(cfg_old.get("seeds", []))
                   | set(cfg_new.get("seeds", [])))
    dest.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        if "config" in df.columns:
            df["config"] = df["config"].fillna("")
        write_csv(df, dest / name)
    cfg = dict(cfg_new, seeds=seeds)
    meta = dict(meta_new, seeds=seeds, config=cfg,
                runs=meta_old.get("runs", []) + meta_new.get("runs", []),
                cells={**meta_old.get("cells", {}), **meta_new.get("cells", {})}, pieces=pieces)
    (dest / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    (dest / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return dest


#: Settings that pieces of one grid joined by method must share (``join_methods``).
JOIN_CONFIG = tuple(k for k in SAME_CONFIG if k != "methods")


def join_methods(pieces: Sequence[Path], dest: Path,
                 renames: Mapping[Path, Mapping[str, str]] | None = None,
                 union_benchmarks: bool = False, benchmarks: Sequence[str] | None = None,
                 seeds: Sequence[int] | None = None) -> Path:
    """Join compact results of one grid whose pieces ran *different methods* into ``dest``.

    A tournament adds candidates over weeks, each in a folder of its own with the grid's
    benchmarks and budget (``paper/scripts/tournament_summary.py`` reads such folders side by
    side). This makes one compact result of them, as one grid run would have written, so the
    paper reads it like any bench experiment. ``renames`` maps a piece to ``{old: new}`` method
    names (a method whose meaning changed later, e.g. ``hyperpilot`` -> ``hyperpilot@ensemble``).
    ``meta.json`` keeps every piece's commit, seeds, methods and renames under ``pieces``.

    With ``union_benchmarks`` the pieces may also cover different benchmarks (a grid run in
    pieces of tasks and seeds, e.g. five held-out tasks on three seeds, five others, then all
    ten on two more): the result's ``benchmarks`` are their union in order of appearance.

    ``benchmarks`` and ``seeds`` keep only those cells of every piece (e.g. the 100-FFE cells of
    a new method on two seeds of the LCBench tasks beside the committed headline grid's cells
    of the same pairs, not all of its 12 benchmarks x 10 seeds); the pieces' other benchmarks are
    then not compared.

    Raises:
        MergeError: when the pieces differ in a setting of ``JOIN_CONFIG`` (benchmarks unless
            ``union_benchmarks``, budget, batch size, imports), when two pieces hold the same
            (method, benchmark, seed) cell (never mixed silently), when fewer than two
            pieces are given, or when the filters leave a piece without a cell.
    """
    if len(pieces) < 2:
        raise MergeError("join_methods needs at least two pieces")
    keep_b = None if benchmarks is None else list(dict.fromkeys(benchmarks))
    keep_s = None if seeds is None else {int(x) for x in seeds}
    renames = {Path(k).resolve(): dict(v) for k, v in (renames or {}).items()}
    cfgs = [_json(p / "config.json") for p in pieces]
    keys = tuple(k for k in JOIN_CONFIG
                 if not ((union_benchmarks or keep_b is not None) and k == "benchmarks"))
    for p, cfg in zip(pieces[1:], cfgs[1:], strict=True):
        diff = config_diff(cfgs[0], cfg, keys)
        if diff:
            raise MergeError(f"cannot join {p} with {pieces[0]}: configs differ ({'; '.join(diff)})")
    frames: dict[str, list[pd.DataFrame]] = {}
    methods: list[str] = []
    info = []
    for p in pieces:
        rn = renames.get(p.resolve(), {})
        ran = []
        for name in ("incumbents.csv.gz", "overhead.csv", "cells.csv", *OPTIONAL):
            if not (p / name).exists():
                continue
            df = pd.read_csv(p / name, keep_default_na=True)
            df["method"] = df["method"].replace(rn)
            if keep_b is not None:
                df = df[df["benchmark"].isin(keep_b)]
            if keep_s is not None:
                df = df[df["seed"].astype(int).isin(keep_s)]
            frames.setdefault(name, []).append(df)
            if name == "cells.csv":
                ran = list(dict.fromkeys(df["method"]))
                if df.empty:
                    raise MergeError(f"{p}: no cell of benchmarks {keep_b} and seeds "
                                     f"{sorted(keep_s or [])}")
        methods += [m for m in ran if m not in methods]
        meta = _json(p / "meta.json")
        source = p.parent.name if p.name == "compact" else p.name  # a folder compacted in place
        if meta.get("pieces"):  # a joined result joined again: keep its pieces' provenance
            info += [{**q, "renames": {**q.get("renames", {}), **rn}} for q in meta["pieces"]]
        else:
            info.append({**_piece(meta, p), "source": source, "methods": ran, "renames": rn})
    cells_all = pd.concat(frames["cells.csv"], ignore_index=True)
    dup = cells_all[cells_all.duplicated(CELL, keep=False)]
    if len(dup):
        raise MergeError(f"cells in more than one piece: {dup[CELL].drop_duplicates().values[:5].tolist()}")
    dest.mkdir(parents=True, exist_ok=True)
    for name, parts in frames.items():
        df = pd.concat(parts, ignore_index=True).sort_values(CELL, kind="stable")
        df = df.reset_index(drop=True)
        if "config" in df.columns:
            df["config"] = df["config"].fillna("")
        write_csv(df, dest / name)
    seeds = sorted({int(s) for s in cells_all["seed"]})
    ran_b = list(dict.fromkeys(b for c in cfgs for b in c.get("benchmarks", [])))
    if keep_b is not None:
        ran_b = [b for b in ran_b if b in keep_b]
    cfg = dict(cfgs[0], methods=methods, seeds=seeds, benchmarks=ran_b)
    metas = [_json(p / "meta.json") for p in pieces]
    meta = dict(metas[-1], seeds=seeds, config=cfg, pieces=info,
                runs=[r for m in metas for r in m.get("runs", [])])
    if keep_b is not None or keep_s is not None:  # the pieces' provenance is of all their cells
        meta["kept"] = {"benchmarks": keep_b, "seeds": sorted(keep_s) if keep_s else None}
    meta.pop("cells", None)  # keyed by the pieces' own method names; cells.csv has them all
    meta.pop("fallbacks", None)
    (dest / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    (dest / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return dest


def _json(path: Path) -> dict:
    if not path.exists():
        raise MergeError(f"{path} is missing: not a compact bench result")
    return dict(json.loads(path.read_text()))


def _piece(meta: dict, src: Path) -> dict:
    """One piece of a merged grid: its commit, versions and the seeds its cells cover."""
    seeds = sorted({int(s) for s in pd.read_csv(src / "cells.csv")["seed"]})
    return {"git_commit": meta.get("git_commit"), "versions": meta.get("versions"),
            "seeds": seeds, "runs": len(meta.get("runs", []))}
