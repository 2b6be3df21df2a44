"""Figures and tables of bench experiments, from their compact files (``compact.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis, tables
from hyperpilot.paper import findings, latex, plotting
from hyperpilot.paper.compact import budget_of, load_incumbents
from hyperpilot.paper.experiments import Experiment

BOOTSTRAP_SEED = 0
FRACTIONS = findings.FRACTIONS


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


def family(benchmark: str) -> str:
    """``lcbench:3945`` -> ``lcbench``: a figure shows a family, not each of its tasks."""
    return benchmark.partition(":")[0]


def regret_figure(src: Path, e: Experiment, figs: Path, name: str) -> list[Path]:
    """One panel per benchmark family: median score over its (task, seed) pairs with the 25-75%
    band against FFE, log axes where the scores span decades, one shared legend.

    Pooling the tasks of a family keeps the figure readable at column width in print (a dozen
    small panels are not); per-task numbers are in the final table.
    """
    _, curves = _curves(src)
    curves = curves.assign(benchmark=curves["benchmark"].map(family))
    # each (task, seed) of a family is one sample of its panel
    summary = analysis.summarize(curves, np.random.default_rng(BOOTSTRAP_SEED), ci=False)
    plt = plotting.pyplot()
    fams = list(dict.fromkeys(summary["benchmark"]))
    fig, axes = plt.subplots(1, len(fams), figsize=(2.4 * len(fams) + 0.4, 2.5), squeeze=False)
    for ax, b in zip(axes[0], fams, strict=True):
        s = summary[summary["benchmark"] == b]
        for m in plotting.ordered(s["method"]):
            g = s[s["method"] == m]
            ax.plot(g["ffe"], g["median"], label=m, color=plotting.colour(m), lw=1.4,
                    ls=plotting.linestyle(m))
            ax.fill_between(g["ffe"], g["q25"], g["q75"], alpha=0.12, color=plotting.colour(m), lw=0)
        ax.set_xscale("log")
        y = s["median"].dropna()
        if len(y) and (y > 0).all() and y.max() / y.min() > 10:
            ax.set_yscale("log")
        n = int(s["n_seeds"].max()) if len(s) else 0
        ax.set_title(f"{b} ({n} runs)", fontsize=9)
        ax.set_xlabel("full-fidelity equivalents", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("regret (median, IQR)", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 4), fontsize=7.5,
               bbox_to_anchor=(0.5, 0.0), frameon=False)
    fig.tight_layout()
    return plotting.save(fig, figs, name)


def rank_figure(src: Path, e: Experiment, figs: Path, name: str) -> list[Path]:
    """Mean rank over benchmarks x seeds against FFE (1 = best)."""
    _, curves = _curves(src)
    ranks = analysis.mean_ranks(curves)
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    for m in plotting.ordered(ranks["method"]):
        g = ranks[ranks["method"] == m]
        ax.plot(g["ffe"], g["mean_rank"], label=m, color=plotting.colour(m), lw=1.4,
                ls=plotting.linestyle(m))
    ax.set_xscale("log")
    ax.set_xlabel("full-fidelity equivalents", fontsize=9)
    ax.set_ylabel("mean rank (1 = best)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
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


def rank_columns(ci: dict[tuple[str, float], findings.RankCI], methods: list[str],
                 at: list[float], names: list[str] | None = None, prefix: str = ""
                 ) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """Rows ``method`` (or ``names``), one ``<prefix>@<budget> FFE`` column per budget with the
    mean rank and its interval (``findings.rank_intervals``), and the (row, column) of each
    budget's lowest mean rank, for ``latex.table``'s ``bold``."""
    t = pd.DataFrame({"method": names or methods,
                      **{f"{prefix}@{latex.num(f)} FFE": [ci[(m, f)].text() for m in methods]
                         for f in at}})
    means = np.array([[ci[(m, f)].mean for f in at] for m in methods])
    return t, [(int(np.nanargmin(means[:, j])), j + 1) for j in range(len(at))]


def rank_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Mean rank of each method at 10%, 30% and 100% of the budget, with 95% intervals."""
    inc, _ = _curves(src)
    budget = budget_of(src)
    at = [round(budget * x, 6) for x in FRACTIONS]
    ci = findings.rank_intervals(inc, at)
    methods = plotting.ordered({m for m, _ in ci})
    focus = analysis.focus_method(methods)
    methods = [focus, *(m for m in methods if m != focus)]  # the method the paper is about first
    t, bold = rank_columns(ci, methods, at)
    cap = (f"Mean rank (1 = best) over benchmarks and {seeds_text(inc)} at 10\\%, 30\\% and "
           "100\\% of the budget, with a 95\\% percentile-bootstrap interval over the (benchmark, "
           f"seed) pairs (experiment \\texttt{{{latex.tex(e.name)}}}). Best in bold.")
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
    w.columns = [f"{c[1:]} FFE" if c.startswith("@") else c for c in w.columns]
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
