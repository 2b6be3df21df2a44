"""Where one method's lead over another turns, and whether the end point can separate them.

Issue 18's 100-FFE readout of ``transfer`` against the stopping GP, as one command over a
compact reference (or raw bench folder) of finished cells:

* the *lead curve*: at each FFE point, the share of (task, seed) pairs the challenger wins (ties
  count half) with a 95% percentile-bootstrap interval over pairs, and its median regret as a
  multiple of the baseline's (``hyperpilot.paper.tournament_artifacts.lead_curves``, which also
  draws the paper's Figure ``h100_lead``);
* *same pair against seed spread*: the median over pairs of ``|challenger - baseline|`` at a
  budget, next to the median over tasks of ``|a - b|`` for one method's end points on two seeds
  of the same task (both methods pooled). When the first is no larger than the second, the two
  methods differ on a pair no more than one method differs from itself across seeds;
* *per task*: wins / losses of the challenger at each budget, one row per task;
* *improvement after a budget* (``--after``, default 50 FFE): the share of (task, seed) pairs
  on which each method's incumbent still improves between that budget and the last one, and its
  median gain, overall and within quartiles of the regret both methods had reached there
  (pooled), so that a method is compared with the other at the same level of regret.

Usage::

    python paper/scripts/lead_readout.py runs/reference/full/headline100_lcbench \\
        --methods gp-bo,hyperpilot@transfer --points 5,10,20,30,40,50,60,70,80,100 \\
        --budgets 10,33.333333,100

Regret is the bench's score (held-out test regret on the noisy ``bandit``); only pairs both
methods finished are used. Markdown on stdout; ``--seed`` seeds the bootstrap.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis
from hyperpilot.paper.tournament_artifacts import lead_curves

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tournament_summary import load_sources  # noqa: E402


def floats(text: str) -> np.ndarray:
    """``"10,33.3"`` -> ``array([10., 33.3])``."""
    return np.asarray([float(t) for t in text.split(",") if t], dtype=float)


def wide_scores(inc: pd.DataFrame, budget: float) -> pd.DataFrame:
    """Scores at ``budget``: one row per ``(benchmark, seed)``, one column per method."""
    s = analysis.scores_at(inc, np.asarray([budget], dtype=float))
    return s.pivot_table(index=["benchmark", "seed"], columns="method", values="score")


def spread(wide: pd.DataFrame, base: str, other: str) -> dict[str, float]:
    """Median same-pair gap ``|other - base|`` and median two-seed gap of one method on a task."""
    pair = float((wide[other] - wide[base]).abs().median())
    gaps: list[float] = []
    for _, g in wide.groupby(level="benchmark"):
        for m in (base, other):
            gaps += [abs(a - b) for a, b in itertools.combinations(g[m].to_numpy(float), 2)]
    return {"pairs": float(len(wide)), "same_pair": pair,
            "seed_spread": float(np.median(gaps)) if gaps else float("nan")}


def per_task(wides: dict[float, pd.DataFrame], base: str, other: str) -> pd.DataFrame:
    """``wins/losses`` of ``other`` against ``base`` per task (rows) and budget (columns), from
    :func:`wide_scores` at each budget."""
    cols = {}
    for b, w in wides.items():
        sign = np.sign(w[base] - w[other])  # regret: lower is better, +1 = other wins
        cols[f"{b:.3g} FFE"] = sign.groupby(level="benchmark").agg(
            lambda s: f"{int((s > 0).sum())}/{int((s < 0).sum())}")
    return pd.DataFrame(cols)


def improvement_after(inc: pd.DataFrame, methods: list[str], after: float,
                      end: float) -> pd.DataFrame:
    """Per method and quartile of the pooled regret at ``after`` (0 = lowest; "all" = every
    pair): pairs, median regret at ``after``, share of pairs whose regret at ``end`` is lower,
    and the median gain (regret at ``after`` minus at ``end``)."""
    a = wide_scores(inc, after)[methods].stack().rename("at").reset_index()
    e = wide_scores(inc, end)[methods].stack().rename("end").reset_index()
    df = a.merge(e, on=["benchmark", "seed", "method"])
    df["gain"] = df["at"] - df["end"]
    df["quartile"] = pd.qcut(df["at"].rank(method="first"), 4, labels=False).astype(str)
    rows = []
    for q, g in [("all", df), *df.groupby("quartile")]:
        for m in methods:
            h = g[g["method"] == m]
            if h.empty:
                continue
            rows.append({"quartile": q, "method": m, "pairs": len(h),
                         "regret_at": h["at"].median(), "improved": (h["gain"] > 1e-12).mean(),
                         "gain": h["gain"].median()})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("src", type=Path, nargs="+",
                    help="compact references or bench folders (their cells joined)")
    ap.add_argument("--methods", default="gp-bo,hyperpilot@transfer",
                    help="BASELINE,CHALLENGER")
    ap.add_argument("--points", default="5,10,20,30,40,50,60,70,80,100",
                    help="FFE points of the lead curve")
    ap.add_argument("--budgets", default="10,33.333333,100",
                    help="FFE budgets of the spread and per-task tables")
    ap.add_argument("--after", type=float, default=50.0,
                    help="FFE from which the improvement table counts")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    a = ap.parse_args()
    methods = [m for m in a.methods.split(",") if m]
    if len(methods) != 2:
        ap.error(f"--methods takes BASELINE,CHALLENGER; got {a.methods!r}")
    base, other = methods
    inc = analysis.select(load_sources(a.src), methods, complete=True)
    budgets = floats(a.budgets)

    lead = lead_curves(inc, methods, floats(a.points), np.random.default_rng(a.seed))
    print(f"## {other} against {base}: lead curve\n")
    print("| FFE | share won | 95% interval | median regret ratio |\n|---|---|---|---|")
    for r in lead.itertuples():
        print(f"| {r.ffe:g} | {r.share:.2f} | {r.share_lo:.2f}-{r.share_hi:.2f} | {r.ratio:.2f}x |")

    print("\n## Same pair against seed spread\n")
    print("| FFE | pairs | median gap on a pair | median two-seed gap | median regret "
          f"{base} | median regret {other} |\n|---|---|---|---|---|---|")
    wides = {float(b): wide_scores(inc, float(b)) for b in budgets}
    for b, w in wides.items():
        s = spread(w, base, other)
        print(f"| {b:.3g} | {s['pairs']:.0f} | {s['same_pair']:.3g} | {s['seed_spread']:.3g} "
              f"| {w[base].median():.3g} | {w[other].median():.3g} |")

    print(f"\n## Per task: wins/losses of {other}\n")
    table = per_task(wides, base, other)
    print("| task | " + " | ".join(table.columns) + " |\n|---" + "|---" * len(table.columns) + "|")
    for task, row in table.iterrows():
        print(f"| {task} | " + " | ".join(row) + " |")

    end = float(inc["ffe"].max())
    print(f"\n## Improvement after {a.after:.3g} FFE (to {end:.3g} FFE)\n")
    print(f"| quartile of regret at {a.after:.3g} FFE | method | pairs | median regret there "
          "| share improved | median gain |\n|---|---|---|---|---|---|")
    for r in improvement_after(inc, methods, a.after, end).itertuples():
        print(f"| {r.quartile} | {r.method} | {r.pairs} | {r.regret_at:.3g} | {r.improved:.2f} "
              f"| {r.gain:.3g} |")


if __name__ == "__main__":
    main()
