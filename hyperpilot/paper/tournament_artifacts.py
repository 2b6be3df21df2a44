"""Tables of the surrogate tournament (issue 18): candidates in one pipeline, GP as the yardstick.

The tournament's compact result holds every candidate that ever ran on its grid, some on fewer
seeds than others (``compact.join_methods``). Each table compares a set of methods on the
(benchmark, seed) pairs that all of them finished, at a third of the budget and at the whole
budget (10 and 30 FFE at full scale):

* ``tournament_rank``: the experiment's ``methods`` (the finalists): mean rank with a 95%
  bootstrap interval, and wins / losses / ties against the GP with the sign test;
* ``tournament_regret``: the same methods' median regret per benchmark family and its ratio to
  the GP's (issue 18's goal: at most 1.25x everywhere);
* ``tournament_round1``: every method in the result, on the pairs all of them finished (the
  first round's seeds), mean rank with its interval.

``transfer_rank`` and ``transfer_regret`` are the first two for experiment
``transfer_heldout`` (the transfer surrogate on held-out tasks), under their own names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis, tables
from hyperpilot.paper import findings, latex, plotting
from hyperpilot.paper.bench_artifacts import budget_of, family, rank_columns, seeds_text
from hyperpilot.paper.compact import load_incumbents
from hyperpilot.paper.experiments import Experiment

GOAL = 1.25
"""Issue 18's goal for a candidate's median regret, as a multiple of the GP's."""


def budgets(src: Path) -> list[float]:
    """The two budgets the tables compare at: a third of the budget and all of it (FFE)."""
    b = budget_of(src)
    return [round(b / 3, 6), b]


def baseline_first(methods: list[str]) -> list[str]:
    """``methods`` with the yardstick first: ``gp-bo`` (the GP with the same stopping) when
    present, else the first method."""
    base = "gp-bo" if "gp-bo" in methods else methods[0]
    return [base, *(m for m in methods if m != base)]


def short(method: str) -> str:
    """``hyperpilot@rff-kev`` -> ``rff-kev``: a candidate by its surrogate (narrower tables)."""
    return method.removeprefix("hyperpilot@")


SHORT_NOTE = "a candidate \\texttt{x} is \\texttt{hyperpilot@x}"


def finalists(src: Path, e: Experiment) -> tuple[pd.DataFrame, list[str]]:
    """Incumbent traces of the experiment's methods present in ``src``, on their common pairs,
    and those methods (the baseline first)."""
    inc = load_incumbents(src)
    methods = [m for m in (e.methods or list(dict.fromkeys(inc["method"])))
               if m in set(inc["method"])]
    if not methods:
        raise ValueError(f"{src}: none of the experiment's methods {e.methods} ran")
    methods = baseline_first(methods)
    return analysis.select(inc, methods, complete=True), methods


def _rank_columns(inc: pd.DataFrame, methods: list[str], at: list[float]
                  ) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """Mean rank (95% CI) per method and budget, and the (row, column) of each budget's best."""
    return rank_columns(findings.rank_intervals(inc, at), methods, at,
                        names=[short(m) for m in methods], prefix="rank ")


def _pairs_text(inc: pd.DataFrame) -> str:
    n = inc.groupby(["benchmark", "seed"]).ngroups
    return f"{n} (benchmark, seed) pairs, {seeds_text(inc)}"


def rank_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Finalists: mean rank (95% CI) and the paired record against the GP at both budgets."""
    inc, methods = finalists(src, e)
    at = budgets(src)
    t, best = _rank_columns(inc, methods, at)
    base = methods[0]
    for f in at:
        t[f"vs {base} @{latex.num(f)} FFE"] = ""
    for i, m in enumerate(methods[1:], start=1):
        w = tables.wide_paired(analysis.paired(inc, at, m, [base])).set_index("against")
        for f in at:
            t.loc[i, f"vs {base} @{latex.num(f)} FFE"] = str(w.loc[base, f"@{f:g}"])
    lead = e.caption or "Surrogate tournament"
    cap = (f"{lead} (experiment \\texttt{{{latex.tex(e.name)}}}, \\resultscale{{}} "
           f"scale): every candidate inside the same pipeline, on {_pairs_text(inc)}. Mean rank "
           "among these methods (1 = best) with a 95\\% percentile-bootstrap interval, and each "
           f"candidate's wins / losses / ties against \\texttt{{{latex.tex(base)}}} (lower regret "
           f"wins) with the two-sided sign-test p ({SHORT_NOTE}). Best mean rank in bold.")
    return latex.write(latex.table(t, cap, name, bold=best,
                                   resize=True), tabs, name)


def regret_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Finalists: the GP's median regret per family and budget, the others' as ratios to it."""
    inc, methods = finalists(src, e)
    at = budgets(src)
    s = analysis.scores_at(inc, np.asarray(at, dtype=float))
    s["family"] = s["benchmark"].map(family)
    med = s.groupby(["method", "family", "ffe"])["score"].median()
    fams = list(dict.fromkeys(s["family"]))
    keys = [(fam, f) for f in at for fam in fams]  # the columns, budget-major
    base = methods[0]
    ratio = np.array([[_ratio(float(med[(m, fam, f)]), float(med[(base, fam, f)]))
                       for fam, f in keys] for m in methods[1:]]).reshape(len(methods) - 1, len(keys))
    t = pd.DataFrame({"method": [short(m) for m in methods], **{
        f"{fam} @{latex.num(f)}": [latex.num(float(med[(base, fam, f)])),
                                   *(latex.num(r) for r in ratio[:, k])]
        for k, (fam, f) in enumerate(keys)}})
    over = [(i + 1, k + 1) for i, k in zip(*np.nonzero(ratio > GOAL), strict=True)]
    bandit = " (the bandit: test regret on held-out noise seeds)" if "bandit" in fams else ""
    cap = (f"{e.caption + ': m' if e.caption else 'M'}edian regret per benchmark family over "
           f"its (task, seed) pairs at "
           f"{' and '.join(latex.num(f) for f in at)} FFE{bandit}: "
           f"\\texttt{{{latex.tex(base)}}}'s in its row, every other method's as a "
           f"ratio to it; in bold the ratios above issue 18's goal of {GOAL:g} (experiment "
           f"\\texttt{{{latex.tex(e.name)}}}, {_pairs_text(inc)}; {SHORT_NOTE}).")
    return latex.write(latex.table(t, cap, name, bold=over, resize=True), tabs, name)


def _ratio(x: float, base: float) -> float:
    """``x / base``; a zero baseline reads as a tie when ``x`` is zero too (else inf); NaN
    (no incumbent yet) when either is missing."""
    if not (np.isfinite(x) and np.isfinite(base)):
        return float("nan")
    if base > 0:
        return x / base
    return 1.0 if x <= 0 else float("inf")


def round1_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Every method in the result on the pairs all of them finished: mean rank (95% CI)."""
    inc = load_incumbents(src)
    methods = baseline_first(plotting.ordered(inc["method"].unique()))
    inc = analysis.select(inc, methods, complete=True)
    at = budgets(src)
    t, best = _rank_columns(inc, methods, at)
    cap = (f"Every candidate the tournament ran (experiment \\texttt{{{latex.tex(e.name)}}}), on "
           f"the {_pairs_text(inc)} that all of them finished: mean rank (1 = best) with a 95\\% "
           f"bootstrap interval ({SHORT_NOTE}). Best in bold.")
    return latex.write(latex.table(t, cap, name, bold=best,
                                   resize=True), tabs, name)
