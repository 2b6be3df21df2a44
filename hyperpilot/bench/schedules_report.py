"""Tables and the schedule figure of the ``schedules`` family, from ``out/cells/*.json``.

A diverged run's final validation loss counts as its step-0 loss (no better than not training);
its accuracy is the one measured at the end. Intervals: 95% percentile bootstrap over seeds
(``hyperpilot.bench.stats.bootstrap_ci``, 2,000 resamples, generator seed 0).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyperpilot.bench.stats import bootstrap_ci, paired_sign_test


def load_runs(out: Path, controllers: Sequence[str], tasks: Sequence[str]) -> list[dict[str, Any]]:
    """The cell records of ``controllers`` x ``tasks`` found under ``out/cells``."""
    recs = [json.loads(p.read_text()) for p in sorted((out / "cells").glob("*.json"))]
    return [r for r in recs if r["controller"] in controllers and r["task"] in tasks]


def run_table(recs: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: final val loss/acc, test loss/acc, steps to threshold, overhead, and
    training examples processed (sum of batch size x steps; differs only if batch size moves)."""
    rows = []
    for r in recs:
        ivs = r["intervals"]
        last = ivs[-1]
        vl = ivs[0]["val_loss"] if r["diverged"] else last["val_loss"]
        rows.append({"controller": r["controller"], "task": r["task"], "seed": r["seed"],
                     "diverged": r["diverged"], "val_loss": vl, "val_acc": last["val_acc"],
                     "test_loss": r["test_loss"], "test_acc": r["test_acc"],
                     "controller_ms": 1e3 * r["controller_s"], "total_s": r["total_s"],
                     "overhead_pct": 100 * r["controller_s"] / r["total_s"],
                     "examples": sum(h["batch_size"] * (b["step"] - a["step"]) for h, a, b in
                                     zip(r["schedule"], ivs[:-1], ivs[1:], strict=False)),
                     "curve": [(iv["step"], iv["val_loss"]) for iv in ivs]})
    df = pd.DataFrame(rows)
    thr = df[df.controller == "plateau"].groupby("task")["val_loss"].median()
    df["threshold"] = df.task.map(thr)
    df["steps_to_thr"] = [
        next((s for s, v in c if v <= t + 1e-12), math.inf) if np.isfinite(t) else math.nan
        for c, t in zip(df.curve, df.threshold, strict=True)]
    return df.drop(columns="curve")


def _ci(x: np.ndarray, stat: str, rng: np.random.Generator) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float)
    fin = x[np.isfinite(x)]
    point = (float(np.mean(fin)) if stat == "mean" else float(np.median(fin))) if fin.size else math.nan
    lo, hi = bootstrap_ci(x, rng, statistic=stat)
    return float(point), lo, hi


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per (task, controller), and over all tasks (``task == "all"``), where only the unitless
    ``log(val loss / plateau's median on the task)``, accuracies, steps and overheads pool."""
    rng = np.random.default_rng(0)
    out = []
    ref = df[df.controller == "plateau"].groupby("task")["val_loss"].median()
    df = df.assign(log_rel=np.log(df.val_loss / df.task.map(ref)))
    for (task, c), g in list(df.groupby(["task", "controller"], sort=False)) + [
            (("all", c), g) for c, g in df.groupby("controller", sort=False)]:
        row: dict[str, Any] = {"task": task, "controller": c, "n": len(g),
                               "diverged": int(g.diverged.sum())}
        for col, stat in (("val_loss", "median"), ("val_loss", "mean"), ("log_rel", "mean"),
                          ("val_acc", "mean"), ("test_acc", "mean")):
            if task == "all" and col == "val_loss":  # losses of different tasks do not pool
                row[f"{col}_{stat}"] = row[f"{col}_{stat}_lo"] = row[f"{col}_{stat}_hi"] = math.nan
                continue
            row[f"{col}_{stat}"], row[f"{col}_{stat}_lo"], row[f"{col}_{stat}_hi"] = _ci(
                g[col].to_numpy(), stat, rng)
        steps = g.steps_to_thr.to_numpy(dtype=float)
        row["steps_to_thr_median"] = float(np.quantile(steps, 0.5, method="inverted_cdf"))
        row["reached_thr"] = float(np.mean(np.isfinite(steps)))
        row["controller_ms_mean"] = float(g.controller_ms.mean())
        row["overhead_pct_mean"] = float(g.overhead_pct.mean())
        row["run_s_mean"] = float(g.total_s.mean())
        row["examples_mean"] = float(g.examples.mean())
        out.append(row)
    return pd.DataFrame(out)


def paired_vs(df: pd.DataFrame, baseline: str = "plateau") -> pd.DataFrame:
    """Each controller against ``baseline`` on final val loss, paired by seed within each task
    and over all (task, seed) pairs (``task == "all"``)."""
    piv = df.pivot_table(index=["task", "seed"], columns="controller", values="val_loss")
    rows: list[dict[str, Any]] = []
    if baseline not in piv.columns:
        return pd.DataFrame(rows, columns=["task", "controller", "vs", "wins", "losses", "ties",
                                           "p"])
    tasks = list(piv.index.get_level_values("task").unique())
    for c in piv.columns:
        if c == baseline:
            continue
        for task in [*tasks, "all"]:
            sub = piv if task == "all" else piv.xs(task, level="task")
            st = paired_sign_test(sub[c].to_numpy(), sub[baseline].to_numpy())
            rows.append({"task": task, "controller": c, "vs": baseline, **st})
    return pd.DataFrame(rows)


def _fmt(row: pd.Series, col: str, digits: int = 3) -> str:
    v, lo, hi = row[col], row[f"{col}_lo"], row[f"{col}_hi"]
    return "—" if not np.isfinite(v) else f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def markdown(summary: pd.DataFrame, paired: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The tables as markdown."""
    lines = ["| task | controller | val loss median [95% CI] | val loss mean [95% CI] | "
             "log(loss / plateau median) mean [95% CI] | val acc mean [95% CI] | "
             "test acc mean | steps to thr. (median; reached) | overhead ms/run (% of run) | "
             "examples/run (k) | diverged |", "|---" * 11 + "|"]
    for _, r in summary.iterrows():
        steps = "never" if not np.isfinite(r.steps_to_thr_median) else f"{r.steps_to_thr_median:.0f}"
        lines.append(
            f"| {r.task} | {r.controller} | {_fmt(r, 'val_loss_median')} | "
            f"{_fmt(r, 'val_loss_mean')} | {_fmt(r, 'log_rel_mean')} | {_fmt(r, 'val_acc_mean')} | "
            f"{r.test_acc_mean:.3f} | {steps}; {r.reached_thr:.0%} | "
            f"{r.controller_ms_mean:.1f} ({r.overhead_pct_mean:.1f}%) | "
            f"{r.examples_mean / 1e3:.1f} | {r.diverged}/{r.n} |")
    lines += ["", "Final validation loss, paired by seed: wins = runs with a lower loss than the "
              "reference.", "", "| task | controller | vs | wins | losses | ties | sign-test p |",
              "|---" * 7 + "|"]
    for _, r in paired.iterrows():
        lines.append(f"| {r.task} | {r.controller} | {r.vs} | {r.wins} | {r.losses} | {r.ties} | "
                     f"{r.p:.3g} |")
    lines += ["", "| fitted on the training tasks | wall time (s) |", "|---|---|"]
    lines += [f"| {k} | {v['wall_s']:.1f} |" for k, v in meta.items()]
    return "\n".join(lines) + "\n"


def plot_schedules(recs: list[dict[str, Any]], path: Path, seed: int = 0) -> None:
    """lr, weight decay, batch size and dropout against step; one column per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({r["task"] for r in recs})
    keys = ("lr", "weight_decay", "batch_size", "dropout")
    fig, axes = plt.subplots(len(keys), len(tasks), figsize=(4.2 * len(tasks), 9), squeeze=False,
                             sharex=True)
    for r in recs:
        if r["seed"] != seed:
            continue
        j = tasks.index(r["task"])
        steps = [iv["step"] for iv in r["intervals"][:-1]]  # start step of each interval
        for i, k in enumerate(keys):
            vals = [h[k] for h in r["schedule"]]
            axes[i][j].step(steps[:len(vals)], vals, where="post", label=r["controller"])
    for j, t in enumerate(tasks):
        axes[0][j].set_title(f"{t} (seed {seed})")
        axes[0][j].set_yscale("log")
        axes[-1][j].set_xlabel("optimizer step")
    for i, k in enumerate(keys):
        axes[i][0].set_ylabel(k)
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summarise(out: Path, controllers: Sequence[str], tasks: Sequence[str],
              meta: dict[str, Any], seed: int = 0) -> None:
    """Write ``runs.csv``, ``summary.csv``, ``paired.csv`` (against ``plateau`` and against
    ``static``), ``table.md`` and ``schedules.png`` under ``out``."""
    recs = load_runs(out, controllers, tasks)
    df = run_table(recs)
    df.to_csv(out / "runs.csv", index=False)
    summary = summary_table(df)
    summary.to_csv(out / "summary.csv", index=False)
    paired = pd.concat([paired_vs(df, "plateau"), paired_vs(df, "static")], ignore_index=True)
    paired.to_csv(out / "paired.csv", index=False)
    (out / "table.md").write_text(markdown(summary, paired, meta))
    plot_schedules(recs, out / "schedules.png", seed=seed)
