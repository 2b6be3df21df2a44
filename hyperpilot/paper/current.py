"""The default method on the whole long-budget grid: the abstract's headline (issue 23).

``headline100_lcbench`` (the ten LCBench development tasks) and ``headline100_synth`` (Hartmann-6
and the bandit) rank the same methods at the same budget on disjoint benchmarks. Joined, they
are every headline benchmark at the headline's budget, run with the default of today
(``hyperpilot@transfer``, ``DEFAULT``) beside the GP in the same pipeline (``gp-bo``) and the
peers. This module joins them and writes

* ``tables/h100all_rank.tex``: mean rank (95% interval) of every method at 10, 33.3 and 100
  FFE, with each one's wins / losses / ties against ``gp-bo``;
* the abstract's macros (``findings.write`` puts them in ``findings.tex``):
  ``\\findCurrent`` (the default's ranks and where it places), ``\\findCurrentGP`` (against the
  GP: ranks, paired record and sign test), ``\\findCurrentStopping`` (curve stopping's saving
  and false stops), and their numbers (``\\findCurrentRankFinal``, ``\\findCurrentGPRankFinal``,
  ``\\findCurrentWinsFinal``, ``\\findCurrentLossesFinal``) for the paper's build test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hyperpilot.bench import analysis
from hyperpilot.paper import findings, latex, plotting
from hyperpilot.paper.checklist import Source
from hyperpilot.paper.compact import budget_of, load_incumbents
from hyperpilot.paper.tournament_artifacts import paired_rank_table

PARTS = ("headline100_lcbench", "headline100_synth")
"""The experiments joined, in order."""
DEFAULT = findings.TRANSFER
GP = "gp-bo"
TABLE = "h100all_rank"


@dataclass(frozen=True)
class Joined:
    """Incumbent traces of the methods every part ran, on the pairs each part finished."""

    inc: pd.DataFrame
    methods: list[str]
    """``GP`` first, ``DEFAULT`` second, then the others in the paper's order."""
    budget: float
    srcs: list[Path]


def join(sources: Sequence[Source]) -> Joined | None:
    """The parts of ``sources`` joined; None when a part is missing from this build.

    Raises:
        ValueError: when the parts' budgets differ (their FFE points would not be comparable)
            or they lack ``DEFAULT`` or ``GP``.
    """
    by = {s.experiment.name: s.path for s in sources}
    if not all(p in by for p in PARTS):
        return None
    srcs = [by[p] for p in PARTS]
    budgets = {budget_of(s) for s in srcs}
    if len(budgets) != 1:
        raise ValueError(f"{', '.join(PARTS)} have different budgets {sorted(budgets)}; the "
                         "joined grid needs one")
    incs = [load_incumbents(s) for s in srcs]
    common = set.intersection(*(set(i["method"]) for i in incs))
    if not {DEFAULT, GP} <= common:
        raise ValueError(f"{', '.join(PARTS)} must all run {DEFAULT} and {GP}")
    methods = [GP, DEFAULT, *(m for m in plotting.ordered(common) if m not in (DEFAULT, GP))]
    inc = pd.concat([analysis.select(i, methods, complete=True) for i in incs], ignore_index=True)
    return Joined(inc, methods, budgets.pop(), srcs)


def current_findings(j: Joined) -> dict[str, str]:
    """The abstract's macros on the joined grid (the module docstring lists them)."""
    at = findings.comparison_budgets(j.budget)
    ci = findings.rank_intervals(j.inc, at)
    final = at[-1]
    order = sorted(j.methods, key=lambda m: ci[(m, final)].mean)
    place = order.index(DEFAULT) + 1
    firsts = [f for f in at if min(j.methods, key=lambda m: ci[(m, f)].mean) == DEFAULT]
    n_pairs = j.inc.groupby(["benchmark", "seed"]).ngroups
    n_bench = j.inc["benchmark"].nunique()
    if len(firsts) == len(at):
        where = "ranks first at every budget"
    elif place == 1:
        where = f"ranks first at {latex.num(final)}~FFE, not at every budget"
    else:
        where = (f"ranks {_ordinal(place)} at {latex.num(final)}~FFE (the best there is "
                 rf"\texttt{{{latex.tex(order[0])}}}, {ci[(order[0], final)].text()})")
    ranks = latex.listing([f"{ci[(DEFAULT, f)].text()} at {latex.num(f)}~FFE" for f in at])
    pr = analysis.paired(j.inc, at, DEFAULT, [GP]).set_index("ffe")
    ahead = [f for f in at if ci[(DEFAULT, f)].mean < ci[(GP, f)].mean
             and pr.loc[f]["wins"] > pr.loc[f]["losses"]]
    verdict = findings.lead_verdict(at, ahead, [f for f in ahead if float(pr.loc[f]["p"]) < 0.05])
    gp_ranks = latex.listing([ci[(GP, f)].text() for f in at])
    record = latex.listing([f"{int(pr.loc[f]['wins'])}/{int(pr.loc[f]['losses'])} (p = "
                            f"{float(pr.loc[f]['p']):.2g})" for f in at])
    out = {
        "findCurrent": (rf"On all {n_bench} benchmarks at {latex.num(j.budget)}~FFE ({n_pairs} "
                        rf"(benchmark, seed) pairs, {len(j.methods)} methods), the default "
                        rf"\texttt{{hyperpilot}} (surrogate \texttt{{transfer}}) {where}: mean "
                        rf"rank (1 = best, 95\% interval) {ranks}."),
        "findCurrentGP": (rf"It {verdict} in the same pipeline (\texttt{{{latex.tex(GP)}}}: "
                          f"{gp_ranks}), winning/losing {record} of the pairs."),
        "findCurrentRankFinal": latex.num(ci[(DEFAULT, final)].mean),
        "findCurrentGPRankFinal": latex.num(ci[(GP, final)].mean),
        "findCurrentWinsFinal": str(int(pr.loc[final]["wins"])),
        "findCurrentLossesFinal": str(int(pr.loc[final]["losses"])),
    }
    out.update(findings.stopping_findings(j.srcs, DEFAULT, "findCurrentStopping"))
    return out


def _ordinal(n: int) -> str:
    """``1`` -> ``first`` ... ``12`` -> ``12th``."""
    words = ("first", "second", "third", "fourth", "fifth")
    return words[n - 1] if n <= len(words) else f"{n}th"


def write_table(j: Joined, tabs: Path) -> Path:
    """``tabs/h100all_rank.tex``: every method's mean rank on the joined grid, and its record
    against the GP (``tournament_artifacts.paired_rank_table``)."""
    lead = (f"All {j.inc['benchmark'].nunique()} headline benchmarks at "
            f"{latex.num(j.budget)}~FFE")
    origin = "experiments " + " and ".join(rf"\texttt{{{latex.tex(p)}}}" for p in PARTS)
    return paired_rank_table(j.inc, j.methods, findings.comparison_budgets(j.budget), lead,
                             origin, tabs, TABLE)


def write(sources: Sequence[Source], tabs: Path) -> dict[str, str]:
    """Write the joined grid's table under ``tabs`` and return its macros for ``findings.tex``;
    nothing (``{}``) when a part is not in this build."""
    j = join(sources)
    if j is None:
        return {}
    write_table(j, tabs)
    return current_findings(j)
