"""The paper's findings, generated like every other number: ``tables/findings.tex``.

Each finding is a LaTeX macro holding a sentence built from the compact results. The abstract
states ``\\findScale``, the default on the whole long-budget grid (``\\findCurrent``,
``\\findCurrentGP``, ``\\findCurrentStopping``: ``hyperpilot.paper.current``),
``\\findTransfer`` and ``\\findRL``; the body states the others.

* ``\\findScale``: what the scale of this build supports (one wording per scale);
* ``\\findHeadline``: the focus method of experiment ``headline`` (the previous default's grid):
  its mean rank with its 95% interval at 10%, 30% and 100% of the budget, and the best method at
  the final budget;
* ``\\findGP``: whether the GP in the same pipeline still leads that focus method;
* ``\\findStopping``: the share of the asked budget that curve stopping saved, and its false-stop
  rate (stopped configurations re-evaluated at the maximum budget that would have won);
* ``\\findRL``: on how many RL tasks the best HyperPilot method is behind random search, and the
  two's test returns; ``\\findRLDetail``: every HyperPilot method's;
* ``\\findTransfer``: the transfer surrogate against the GP on held-out tasks (experiment
  ``transfer_heldout``): mean ranks with their intervals and paired wins with the sign test;
  ``\\findTransferMTGP``: the same against the multi-task GP given the same related tasks;
* ``\\findTransferLong``: the same at the headline's budget on the development tasks, ranked
  among the headline's methods (experiment ``headline100_lcbench``);
* ``\\findSynthLong``: the same on the headline's synthetic families, which have no related
  tasks, so that the default is its single-task network (experiment ``headline100_synth``).

The numbers behind the sentences are macros too (``\\findFocusRankFinal``, ...), so the paper's
build test can check them against the rank tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis
from hyperpilot.bench.stats import bootstrap_ci, rank_methods
from hyperpilot.paper import latex, plotting
from hyperpilot.paper.checklist import Source
from hyperpilot.paper.compact import budget_of, load_incumbents

BOOTSTRAP_SEED = 0
FRACTIONS = (0.1, 0.3, 1.0)
"""Budget fractions of the headline rank table and of the abstract."""
EARLY_FFE = 10.0
"""Issue 18's first checkpoint (its goals are at 10, 30 and 100 FFE)."""


def comparison_budgets(budget: float) -> list[float]:
    """The budgets (FFE) a surrogate comparison is read at: 10 FFE where a third of the
    budget lies beyond it, a third of the budget, and all of it (30 FFE: 10 and 30; 100 FFE:
    10, 33.3 and 100)."""
    third = round(budget / 3, 6)
    return ([EARLY_FFE] if third > EARLY_FFE else []) + [third, budget]


@dataclass(frozen=True)
class RankCI:
    """A method's mean rank over (benchmark, seed) pairs at one budget, with a 95% interval."""

    method: str
    ffe: float
    mean: float
    low: float
    high: float

    def text(self) -> str:
        """``4.15 [3.80, 4.51]`` (3 significant digits)."""
        return f"{latex.num(self.mean)} [{latex.num(self.low)}, {latex.num(self.high)}]"


def rank_intervals(inc: pd.DataFrame, budgets: list[float], seed: int = BOOTSTRAP_SEED
                   ) -> dict[tuple[str, float], RankCI]:
    """Mean rank per (method, budget) over the (benchmark, seed) pairs, with a
    percentile-bootstrap 95% interval over the same pairs (on a grid with as many seeds per
    benchmark it equals the rank table's mean of per-benchmark means; on one without, the
    joined long-budget grid, each pair weighs the same, as in the interval).

    Args:
        inc: incumbent traces (``compact.load_incumbents``).
        budgets: FFE points.
        seed: the bootstrap's seed (fixed, so equal data give equal intervals).
    """
    at = analysis.scores_at(inc, np.asarray(budgets, dtype=float))
    at["rank"] = rank_methods(at, ["benchmark", "seed", "ffe"])
    rng = np.random.default_rng(seed)
    out = {}
    for (m, f), g in at.groupby(["method", "ffe"], sort=False):
        lo, hi = bootstrap_ci(g["rank"].to_numpy(float), rng, statistic="mean")
        out[(m, float(f))] = RankCI(m, float(f), float(g["rank"].mean()), lo, hi)
    return out


def _gp_method(methods: list[str]) -> str | None:
    """The GP baseline inside our pipeline: ``gp-bo`` (stopping) first, else any ``gp-bo*``."""
    for m in ("gp-bo", "gp-bo-nostop"):
        if m in methods:
            return m
    return next((m for m in methods if m.startswith("gp-bo")), None)


def headline_findings(src: Path, scale: str) -> dict[str, str]:
    """Macros from the headline experiment's compact results in ``src``."""
    inc = load_incumbents(src)
    budget = budget_of(src)
    budgets = [round(budget * x, 6) for x in FRACTIONS]
    methods = plotting.ordered(inc["method"].unique())
    focus = analysis.focus_method(methods)
    ci = rank_intervals(inc, budgets)
    final = budgets[-1]
    best = min(methods, key=lambda m: ci[(m, final)].mean)
    n_pairs = inc.groupby(["benchmark", "seed"]).ngroups
    mine = [ci[(focus, b)] for b in budgets]
    out = {
        "findFocus": latex.tex(focus), "findBest": latex.tex(best),
        "findFocusRankTen": latex.num(mine[0].mean), "findFocusRankThirty": latex.num(mine[1].mean),
        "findFocusRankFinal": latex.num(mine[2].mean), "findBestRankFinal": latex.num(ci[(best, final)].mean),
        "findMethods": str(len(methods)), "findPairs": str(n_pairs),
    }
    at = ", ".join(f"{r.text()} at {latex.num(b)}~FFE" for r, b in zip(mine, budgets, strict=True))
    lead = ("it ranks first at the final budget" if best == focus else
            rf"the best at the final budget is \texttt{{{latex.tex(best)}}} with "
            f"{ci[(best, final)].text()}")
    out["findHeadline"] = (rf"Among {len(methods)} methods on {n_pairs} (benchmark, seed) pairs, "
                           rf"\texttt{{{latex.tex(focus)}}} has mean rank (1 = best, 95\% interval) "
                           f"{at}; {lead}.")
    gp = _gp_method(methods)
    if gp is None:
        out["findGP"] = "This build has no GP in the same pipeline to compare with."
    else:
        g, f = ci[(gp, final)], ci[(focus, final)]
        verdict = "still leads" if g.mean < f.mean else "no longer leads"
        out["findGP"] = (rf"The GP in the same pipeline (\texttt{{{latex.tex(gp)}}}) {verdict}: "
                         f"mean rank {g.text()} against {f.text()} at {latex.num(final)}~FFE.")
        out["findGPRankFinal"] = latex.num(g.mean)
    out.update(stopping_findings(src, focus))
    out["findScale"] = scale_sentence(scale)
    return out


def stopping_findings(srcs: Path | list[Path], focus: str,
                      macro: str = "findStopping") -> dict[str, str]:
    """Share of the asked budget saved by curve stopping and the false-stop rate of ``focus``,
    pooled over the compact results ``srcs``; the sentence in ``macro``, its numbers in
    ``<macro>Saved`` and ``<macro>False``."""
    srcs = [srcs] if isinstance(srcs, Path) else srcs
    saved_key, false_key = f"{macro}Saved", f"{macro}False"
    if not all((s / "budget.csv").exists() for s in srcs):
        return {macro: "This build has no budget records to measure curve stopping."}
    sums = pd.concat([pd.read_csv(s / "budget.csv") for s in srcs], ignore_index=True)
    saved = analysis.compute_saved(sums=sums).set_index("method")
    if focus not in saved.index or saved.loc[focus, "stopped"] == 0:
        return {macro: rf"\texttt{{{latex.tex(focus)}}} stopped no run early in this build."}
    share = float(saved.loc[focus, "stop_saved"])
    text = (rf"Curve stopping saved {latex.num(100 * share)}\% of the training budget that "
            rf"\texttt{{{latex.tex(focus)}}} asked for")
    out = {saved_key: latex.num(100 * share)}
    fs = [s / "false_stops.csv" for s in srcs if (s / "false_stops.csv").exists()]
    if fs:
        f = pd.concat([pd.read_csv(x) for x in fs], ignore_index=True)
        f = f[(f["method"] == focus) & (f["kind"] == "stopped")]
        ev, bad = int(f["evaluated"].sum()), int(f["false"].sum())
        if ev:
            out[false_key] = latex.num(100 * bad / ev)
            text += (f", and {bad} of the {ev} stopped configurations re-evaluated at the maximum "
                     "budget (a sample of at most 50 per run) would have beaten the run's final "
                     rf"incumbent (a false-stop rate of "
                     rf"{latex.num(100 * bad / ev)}\%)")
    out[macro] = text + "."
    return out


def rl_findings(src: Path) -> dict[str, str]:
    """The RL sentences from the ``rl_tuning`` summary.

    ``\\findRL`` (the abstract's): on how many tasks the best HyperPilot method's test mean is
    below random search's (and how many of those with overlapping intervals), and the two, task
    by task. ``\\findRLDetail`` (the body's): every HyperPilot method against random search,
    task by task, with the value a task was tuned on where it is not the final return.
    """
    s = pd.read_csv(src / "summary.csv")
    parts, short, behind, overlap = [], [], 0, 0
    for env, g in s.groupby("env", sort=False):
        rows = {r.method: r for r in g.itertuples()}
        ours = [m for m in rows if m.startswith("hyperpilot")]
        if "random" not in rows or not ours:
            continue
        r = rows["random"]
        top = max(ours, key=lambda m: rows[m].test_mean)
        best = rows[top]
        if best.test_mean < r.test_mean:
            behind += 1
            overlap += int(best.test_ci_high >= r.test_ci_low)
        few = _fewer_seeds(s, g)
        short.append(rf"on {latex.tex(env)}{few}, \texttt{{{latex.tex(top)}}} {_ret(best)} against "
                     f"{_ret(r)}")
        mine = "; ".join(rf"\texttt{{{latex.tex(m)}}} {_ret(rows[m])}" for m in ours)
        part = rf"on {latex.tex(env)}, {mine}; random search {_ret(r)}"
        if np.isfinite(getattr(r, "test_auc_mean", np.nan)):  # tuned on the area under the curve
            mine = "; ".join(rf"\texttt{{{latex.tex(m)}}} {_ret(rows[m], 'test_auc')}" for m in ours)
            part += (rf" (by the value it was tuned on, the mean return during training: {mine}; "
                     rf"random search {_ret(r, 'test_auc')})")
        parts.append(part)
    scope = rl_scope(s)
    if not parts:
        none = "This build has no RL comparison with random search."
        return {"findRL": none, "findRLDetail": none, "findRLScope": scope}
    n = len(parts)
    verdict = ("On RL, the best HyperPilot variant's mean test return (95\\% interval) is at "
               "least random search's on every task" if not behind else
               "On RL, the best HyperPilot variant's mean test return (95\\% interval) is below "
               f"random search's on {behind} of {n} task{'s' * (n != 1)}"
               + (f" ({'all' if overlap == behind else overlap} with overlapping intervals)"
                  if overlap else ""))
    return {"findRL": f"{verdict}: {'; '.join(short)}.",
            "findRLDetail": "Mean test return of the tuned PPO agents on fresh seeds (95\\% "
                            "interval): " + "; ".join(parts) + ".",
            "findRLScope": scope}


def _fewer_seeds(s: pd.DataFrame, g: pd.DataFrame) -> str:
    """`` (1 tuning seed)`` for a task with fewer tuning seeds than the summary's most, else ``""``."""
    if "tuning_seeds_tested" not in s or not len(g):
        return ""
    n, most = int(g["tuning_seeds_tested"].min()), int(s["tuning_seeds_tested"].max())
    return f" ({n} tuning seed{'s' * (n != 1)})" if n < most else ""


RL_TASKS = {"Acrobot-v1": "classic-control", "CartPole-v1": "classic-control",
            "LunarLander-v3": "Box2D"}
"""The tasks of ``rl_tuning``'s full grid and their kind (issue 19 asks for one of another kind)."""


def rl_scope(s: pd.DataFrame) -> str:
    """The limitations' clause on what ``rl_tuning`` covers in this build (``\\findRLScope``):
    its tasks, the most tuning seeds a method has, and the tasks of the full grid it lacks.

    Args:
        s: the ``rl_tuning`` summary (columns ``env``, ``tuning_seeds_tested``; one row per
            task x method).
    """
    envs = list(dict.fromkeys(s["env"]))
    seeds = int(s["tuning_seeds_tested"].max()) if "tuning_seeds_tested" in s and len(s) else 0
    kinds = [RL_TASKS.get(e, "other") for e in envs]
    what = latex.listing([latex.tex(e) for e in envs])
    text = (rf"\texttt{{rl\_tuning}} covers {len(envs)} task{'s' * (len(envs) != 1)} ({what}; "
            f"{latex.listing(list(dict.fromkeys(kinds)))}) with one algorithm and at most {seeds} "
            "tuning seed" + "s" * (seeds != 1) + " per method (the table's second column), too "
            "few to rank tuners in general")
    missing = [e for e in RL_TASKS if e not in envs]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        text += f"; {latex.listing([latex.tex(e) for e in missing])} {verb} not in this build"
    return text


TRANSFER = "hyperpilot@transfer"
"""The method ``\\findTransfer`` reports, against ``gp-bo`` (and ``MTGP`` where it ran)."""
MTGP = "hyperpilot@mtgp"
"""The GP given the same related tasks (``surrogates.mtgp``)."""


def lead_verdict(at: list[float], ahead: list[float], significant: list[float]) -> str:
    """The verdict on ``transfer`` against the GP, budget by budget.

    Args:
        at: The budgets compared (FFE).
        ahead: Those where ``transfer`` is ahead in mean rank and in wins over losses.
        significant: Those of ``ahead`` where the sign test gives p < 0.05.

    Returns:
        ``beats the GP`` (ahead and significant at every budget), ``leads the GP (...)`` (ahead
        at every budget), ``leads the GP at A, not at B (...)`` (ahead at some) or ``does not
        beat the GP``; the parenthesis says where the lead is significant, or that it is not.
    """
    if not ahead:
        return "does not beat the GP"
    if len(ahead) == len(at) and len(significant) == len(at):
        return "beats the GP"

    def ffe(fs: list[float]) -> str:
        return latex.listing([latex.num(f) for f in fs]) + "~FFE"

    sig = (f"significantly at {ffe(significant)}" if significant else "not significantly")
    if len(ahead) == len(at):
        return f"leads the GP ({sig})"
    return (f"leads the GP at {ffe(ahead)}, not at {ffe([f for f in at if f not in ahead])} "
            f"({sig})")


def transfer_findings(src: Path, methods: list[str] | None = None, macro: str = "findTransfer",
                      heldout: bool = True, subject: str = r"\texttt{transfer}",
                      noun: str = "task") -> dict[str, str]:
    """The transfer sentence: ``hyperpilot@transfer`` against ``gp-bo`` at the
    ``comparison_budgets``, ranked among ``methods`` (default: all in ``src``) on the pairs
    all of them finished, as the experiment's rank table does.

    Args:
        src: Compact result of ``transfer_heldout`` (``heldout``) or of ``headline100_lcbench``
            (the development tasks at the headline's budget, beside the headline's methods).
        methods: The methods ranked.
        macro: Name of the sentence's macro; ``<macro>RankFinal`` and ``<macro>WinsFinal`` hold
            its numbers at the whole budget, and ``<macro>MTGP`` the sentence on the multi-task
            GP where it ran.
        heldout: Whether ``src``'s tasks are held out (the wording).
        subject: How the development-task sentence names the method.
        noun: What the development sentence calls a benchmark (``task``, ``benchmark``).
    """
    inc = load_incumbents(src)
    if not {TRANSFER, "gp-bo"} <= set(inc["method"]):
        return {macro: "This build has no comparison of the transfer surrogate with the GP here."}
    methods = [m for m in (methods or dict.fromkeys(inc["method"])) if m in set(inc["method"])]
    inc = analysis.select(inc, methods, complete=True)
    budget = budget_of(src)
    at = comparison_budgets(budget)
    ci = rank_intervals(inc, at)
    pr = analysis.paired(inc, at, TRANSFER, ["gp-bo"]).set_index("ffe")
    n_pairs = inc.groupby(["benchmark", "seed"]).ngroups
    ranks = latex.listing([f"{ci[(TRANSFER, f)].text()} against the GP's "
                           f"{ci[('gp-bo', f)].text()} at {latex.num(f)}~FFE" for f in at])
    wins = latex.listing([f"{int(pr.loc[f]['wins'])}/{int(pr.loc[f]['losses'])} at "
                          f"{latex.num(f)}~FFE (sign test p = {float(pr.loc[f]['p']):.2g})"
                          for f in at])
    parts = [f"its mean rank among {len(methods)} methods is {ranks}", f"its wins/losses over "
             f"the {n_pairs} pairs against the GP are {wins}"]
    tasks = inc["benchmark"].nunique()
    ahead = [f for f in at if ci[(TRANSFER, f)].mean < ci[("gp-bo", f)].mean
             and pr.loc[f]["wins"] > pr.loc[f]["losses"]]
    verdict = lead_verdict(at, ahead, [f for f in ahead if float(pr.loc[f]["p"]) < 0.05])
    fams = ", ".join(_families(inc))
    if heldout:
        sentence = (rf"With a feature block learned on related tasks (\texttt{{transfer}}), the "
                    rf"network {verdict} on {tasks} held-out task{'s' * (tasks != 1)} "
                    rf"({fams}), on seeds nobody tuned on: ")
    else:
        seeds = sorted(inc["seed"].unique())
        sentence = (rf"On the {tasks} development {noun}{'s' * (tasks != 1)} ({fams}) at "
                    rf"{latex.num(budget)}~FFE, on {len(seeds)} seed{'s' * (len(seeds) != 1)} "
                    rf"so far, {subject} {verdict}: ")
    sentence += "; ".join(parts) + "."
    out: dict[str, str] = {}
    if MTGP in methods:  # the GP given the same related tasks
        pm = analysis.paired(inc, at, TRANSFER, [MTGP]).set_index("ffe")
        vs = latex.listing([f"{int(pm.loc[f]['wins'])}/{int(pm.loc[f]['losses'])} (p = "
                            f"{float(pm.loc[f]['p']):.2g})" for f in at])
        out[f"{macro}MTGP"] = (
            "Given the same related tasks, a multi-task GP (\\texttt{mtgp}) ranks "
            + latex.listing([ci[(MTGP, f)].text() for f in at])
            + f"; \\texttt{{transfer}}'s wins/losses against it are {vs}.")
    out[macro] = sentence
    out[f"{macro}RankFinal"] = latex.num(ci[(TRANSFER, budget)].mean)
    out[f"{macro}WinsFinal"] = str(int(pr.loc[budget]["wins"]))
    return out


def _families(inc: pd.DataFrame) -> list[str]:
    """Benchmark families in ``inc`` (``lcbench:3945`` -> ``LCBench``), in order."""
    names = {"lcbench": "LCBench", "rbv2_xgboost": "YAHPO rbv2\\_xgboost"}
    fams = dict.fromkeys(b.partition(":")[0] for b in inc["benchmark"])
    return [names.get(f, latex.tex(f)) for f in fams]


def _ret(r: Any, col: str = "test") -> str:
    """``-88.2 [-91.9, -84.8]``: a summary row's ``<col>_mean`` and its 95% interval."""
    return (f"{latex.num(getattr(r, f'{col}_mean'))} [{latex.num(getattr(r, f'{col}_ci_low'))}, "
            f"{latex.num(getattr(r, f'{col}_ci_high'))}]")


def scale_sentence(scale: str) -> str:
    """What the results of a build at ``scale`` support: one wording per scale (the seeds and
    budgets of each experiment are in its sentences and tables)."""
    if scale == "full":
        return "All results are at the full scale."
    if scale == "smoke":
        return ("The results in this build are at the smoke scale: they show that the pipeline "
                "works end to end, not how the methods compare; that needs the full scale.")
    return ("The results in this build mix scales; only the full-scale experiments support "
            "comparisons.")


def write(sources: list[Source], scale: str, tabs: Path, extra: dict[str, str] | None = None
          ) -> Path:
    """``tabs/findings.tex`` from the sources of ``reproduce`` (``checklist.Source``), with the
    ``extra`` macros of findings that span experiments (``current.write``)."""
    macros: dict[str, str] = dict(extra or {})
    by_name = {s.experiment.name: s for s in sources}
    head = by_name.get("headline")
    macros["findScale"] = scale_sentence(scale)
    if head is not None:
        macros.update(headline_findings(head.path, scale))
    rl = by_name.get("rl_tuning")
    if rl is not None and (rl.path / "summary.csv").exists():
        macros.update(rl_findings(rl.path))
    tr = by_name.get("transfer_heldout")
    if tr is not None:
        macros.update(transfer_findings(tr.path, tr.experiment.methods))
    long = by_name.get("headline100_lcbench")
    if long is not None:
        macros.update(transfer_findings(long.path, long.experiment.methods, "findTransferLong",
                                        heldout=False))
    synth = by_name.get("headline100_synth")
    if synth is not None:
        macros.update(transfer_findings(
            synth.path, synth.experiment.methods, "findSynthLong", heldout=False,
            subject=r"\texttt{transfer} (here the single-task \texttt{rff-kev}, as no related "
                    r"task exists)", noun="benchmark"))
    for k in ("findHeadline", "findGP", "findStopping", "findRL", "findRLDetail", "findRLScope",
              "findTransfer",
              "findTransferMTGP", "findTransferLong", "findSynthLong", "findCurrent",
              "findCurrentGP", "findCurrentStopping"):
        macros.setdefault(k, "(not in this build)")
    lines = ["% generated by python -m hyperpilot.paper reproduce; do not edit"]
    lines += [rf"\newcommand{{\{k}}}{{{v}}}" for k, v in macros.items()]
    return latex.write("\n".join(lines) + "\n", tabs, "findings")
