"""Figures and tables of bench experiments, from their compact files (``compact.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis, tables
from hyperpilot.paper import latex, plotting
from hyperpilot.paper.compact import load_incumbents
from hyperpilot.paper.experiments import Experiment

BOOTSTRAP_SEED = 0
FRACTIONS = (0.1, 0.3, 1.0)


def budget_of(src: Path) -> float:
    return float(json.loads((src / "config.json").read_text())["budget"])


def _curves(src: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    inc = load_incumbents(src)
    grid = analysis.ffe_grid(inc, budget_of(src))
    return inc, analysis.scores_at(inc, grid)


def seeds_text(inc: pd.DataFrame) -> str:
    """"10 seeds", or "2-3 seeds per benchmark" when benchmarks have different counts."""
    n = inc.groupby("benchmark")["seed"].nunique()
    if n.min() == n.max():
        return f"{n.min()} seed{'' if n.min() == 1 else 's'}"
    return f"{n.min()}-{n.max()} seeds per benchmark"


def regret_figure(src: Path, e: Experiment, figs: Path, name: str) -> list[Path]:
    """One panel per benchmark: median score over seeds with its 25-75% band, log FFE axis."""
    _, curves = _curves(src)
    summary = analysis.summarize(curves, np.random.default_rng(BOOTSTRAP_SEED), ci=False)
    plt = plotting.pyplot()
    benches = list(dict.fromkeys(summary["benchmark"]))
    cols = min(len(benches), 4)
    rows = (len(benches) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.3 * rows), squeeze=False)
    for ax, b in zip(axes.flat, benches, strict=False):
        s = summary[summary["benchmark"] == b]
        for m in plotting.ordered(s["method"]):
            g = s[s["method"] == m]
            ax.plot(g["ffe"], g["median"], label=m, color=plotting.colour(m), lw=1.2,
                    ls=plotting.linestyle(m))
            ax.fill_between(g["ffe"], g["q25"], g["q75"], alpha=0.15, color=plotting.colour(m), lw=0)
        ax.set_xscale("log")
        if s["median"].notna().any() and (s["median"].dropna() > 0).all():
            ax.set_yscale("log")
        ax.set_title(b, fontsize=8)
        ax.set_xlabel("FFE", fontsize=7)
        ax.set_ylabel("regret / loss", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=7,
               bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return plotting.save(fig, figs, name)


def rank_figure(src: Path, e: Experiment, figs: Path, name: str) -> list[Path]:
    """Mean rank over benchmarks x seeds against FFE (1 = best)."""
    _, curves = _curves(src)
    ranks = analysis.mean_ranks(curves)
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.0))
    for m in plotting.ordered(ranks["method"]):
        g = ranks[ranks["method"] == m]
        ax.plot(g["ffe"], g["mean_rank"], label=m, color=plotting.colour(m), lw=1.2,
                ls=plotting.linestyle(m))
    ax.set_xscale("log")
    ax.set_xlabel("full-fidelity equivalents")
    ax.set_ylabel("mean rank (1 = best)")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return plotting.save(fig, figs, name)


def final_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Median final score per benchmark (rows) and method (columns), best in bold, mean rank."""
    inc, _ = _curves(src)
    budget = budget_of(src)
    f = analysis.final_table(inc, [budget])
    methods = plotting.ordered(f["method"])
    wide = f.pivot(index="benchmark", columns="method", values="median")[methods]
    rank = f.groupby("method")["mean_rank"].mean()[methods]
    df = wide.reset_index()
    df.loc[len(df)] = ["mean rank", *rank.to_list()]
    bold = [(i, 1 + int(np.nanargmin(r))) for i, r in enumerate(df[methods].to_numpy(float))
            if np.isfinite(r).any()]
    cap = (f"Median over {seeds_text(inc)} of the final regret (incumbent loss where the optimum "
           f"is unknown) at {budget:g} FFE, and the mean rank over benchmarks and seeds "
           f"(experiment \\texttt{{{latex.tex(e.name)}}}, \\resultscale{{}} scale). Best in bold.")
    return latex.write(latex.table(df, cap, name, bold=bold, resize=True), tabs, name)


def rank_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Mean rank of each method at 10%, 30% and 100% of the budget."""
    inc, _ = _curves(src)
    budget = budget_of(src)
    at = [round(budget * x, 6) for x in FRACTIONS]
    f = analysis.final_table(inc, at)
    t = f.groupby(["method", "ffe"])["mean_rank"].mean().unstack()
    t.columns = [f"@{c:g} FFE" for c in t.columns]
    t = t.loc[plotting.ordered(t.index)].reset_index()
    bold = [(int(np.nanargmin(t[c].to_numpy(float))), j + 1) for j, c in enumerate(t.columns[1:])]
    cap = (f"Mean rank (1 = best) over benchmarks and {seeds_text(inc)} at 10\\%, 30\\% and "
           f"100\\% of the budget (experiment \\texttt{{{latex.tex(e.name)}}}).")
    return latex.write(latex.table(t, cap, name, bold=bold), tabs, name)


def paired_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """``hyperpilot`` (else the first method) against each other method, pair by pair."""
    inc = load_incumbents(src)
    budget = budget_of(src)
    methods = plotting.ordered(inc["method"].unique())
    focus = analysis.focus_method(methods)
    t = analysis.paired(inc, [round(budget * x, 6) for x in FRACTIONS], focus,
                        [m for m in methods if m != focus])
    w = tables.wide_paired(t).rename(columns={"against": f"{focus} against"})
    w.columns = [c.replace("@", "") + (" FFE" if c.startswith("@") else "") for c in w.columns]
    cap = (f"Paired comparison over benchmarks and {seeds_text(inc)}: on how many (benchmark, "
           f"seed) pairs \\texttt{{{latex.tex(focus)}}} has the lower / higher / equal score than "
           "each method at 10\\%, 30\\% and 100\\% of the budget, with the two-sided sign-test p "
           f"(experiment \\texttt{{{latex.tex(e.name)}}}).")
    return latex.write(latex.table(w, cap, name), tabs, name)


def overhead_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Optimizer seconds per proposal: median over cells of each cell's median, by data size."""
    ov = pd.read_csv(src / "overhead.csv")
    t = ov.groupby(["method", "n_obs"], sort=False)["median"].median().unstack()
    order = [c for c in ("0-9", "10-29", "30-99", "100-299", "300-999", "1000+") if c in t.columns]
    t = t[order].loc[plotting.ordered(t.index)]
    t.columns = [f"n={c}" for c in t.columns]
    cap = ("Optimizer overhead per proposal in seconds by the number of observations so far "
           "(median over cells of each cell's median; experiment "
           f"\\texttt{{{latex.tex(e.name)}}}, hardware in Table~\\ref{{tab:hardware}}).")
    return latex.write(latex.table(t.reset_index(), cap, name), tabs, name)


def incumbent_rows(src: Path, seed: int = 0, max_benchmarks: int = 3) -> pd.DataFrame:
    """Final incumbent config of each method on the first benchmarks, for one seed."""
    inc = load_incumbents(src)
    inc = inc[(inc["seed"] == seed) & (inc["config"] != "")]
    benches = list(dict.fromkeys(inc["benchmark"]))[:max_benchmarks]
    last = inc[inc["benchmark"].isin(benches)].groupby(["benchmark", "method"], sort=False).last()
    return last.reset_index()[["benchmark", "method", "score", "config"]]
