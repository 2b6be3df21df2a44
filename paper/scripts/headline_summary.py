"""The README's headline tables from a bench report of the headline grid (Markdown on stdout).

Usage::

    python -m hyperpilot.bench report runs/reference/full/headline --at 10,30,100
    python paper/scripts/headline_summary.py runs/reference/full/headline

Prints: the mean rank of every method at 10/30/100 FFE with a 95% bootstrap CI at 100 FFE (over
benchmark-seed pairs) and by benchmark family at 100 FFE; ``hyperpilot`` against the best peer
per benchmark; the speed-up to random search (median over benchmarks); pooled false stops and
compute saved; overhead per proposal. Every number is read from ``<src>/<report>/tables`` or,
for the rank CI and the per-piece ranks, from the compact ``incumbents.csv.gz``.

``--pieces 0-1 2-5`` adds the mean ranks over each piece's seeds alone (pieces of a grid run on
different machines can differ in the last bit; see the README's provenance note).
``--paired hyperpilot,gp-bo`` adds a paired comparison: on how many benchmark-seed pairs the first
method's score is lower, higher or equal, with a two-sided sign test, at each budget and per
benchmark family at the last.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis, compacted
from hyperpilot.bench.__main__ import parse_seeds
from hyperpilot.bench.stats import bootstrap_ci, rank_methods


def _fmt(x: float, nd: int = 2) -> str:
    return "-" if not np.isfinite(x) else f"{x:.{nd}f}"


def rank_table(df: pd.DataFrame, tables: Path, budgets: list[float], seed: int) -> str:
    """Mean rank at each budget, its CI at the last budget, and family ranks at the last."""
    ranks = pd.read_csv(tables / "mean_rank.csv").set_index("method")
    fam = pd.read_csv(tables / "family_rank.csv").set_index("method")
    last = budgets[-1]
    methods = set(ranks.index)
    at = analysis.scores_at(df[df["method"].isin(methods)], np.asarray([last]))
    at["rank"] = rank_methods(at, ["benchmark", "seed", "ffe"])
    rng = np.random.default_rng(seed)
    ci = {m: bootstrap_ci(g["rank"].to_numpy(), rng, "mean") for m, g in at.groupby("method")}
    fams = sorted({c.split("@")[0] for c in fam.columns})
    head = ([f"@{b:g}" for b in budgets] + [f"95% CI @{last:g}"]
            + [f"{f} @{last:g}" for f in fams])
    rows = ["| method | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    best = {c: ranks[c].min() for c in ranks.columns}
    best_f = {f: fam[f"{f}@{last:g}"].min() for f in fams}
    for m in ranks.sort_values(ranks.columns[-1]).index:
        cells = [("**" + _fmt(ranks.loc[m, c]) + "**") if np.isclose(ranks.loc[m, c], best[c])
                 else _fmt(ranks.loc[m, c]) for c in ranks.columns]
        cells.append(f"{_fmt(ci[m][0])}-{_fmt(ci[m][1])}")
        for f in fams:
            v = fam.loc[m, f"{f}@{last:g}"]
            cells.append("**" + _fmt(v) + "**" if np.isclose(v, best_f[f]) else _fmt(v))
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    n_pairs = at.groupby(["benchmark", "seed"]).ngroups
    return "\n".join(rows) + f"\n\n({n_pairs} benchmark-seed pairs.)"


def piece_ranks(df: pd.DataFrame, methods: list[str], budgets: list[float],
                pieces: list[list[int]]) -> str:
    """Mean rank at each budget over the seeds of each piece alone (``df``: incumbent rows)."""
    df = df[df["method"].isin(methods)]
    out = []
    for seeds in pieces:
        d = df[df["seed"].isin(seeds)]
        if d.empty:
            raise SystemExit(f"no cells for seeds {seeds}")
        r = analysis.mean_ranks(analysis.scores_at(d, np.asarray(budgets))).pivot(
            index="method", columns="ffe", values="mean_rank")
        r = r.sort_values(r.columns[-1])
        n = d.groupby(["benchmark", "seed"]).ngroups
        out.append(f"Seeds {seeds[0]}-{seeds[-1]} alone ({n} pairs), mean rank at "
                   + "/".join(f"{b:g}" for b in budgets) + ": "
                   + "; ".join(f"{m} " + " / ".join(_fmt(v) for v in row)
                               for m, row in r.iterrows()))
    return "\n".join(f"- {x}" for x in out)


def paired(df: pd.DataFrame, a: str, b: str, budgets: list[float]) -> str:
    """``a`` against ``b`` pair by pair (same benchmark and seed): wins/losses/ties and the
    sign-test p at each budget, and per benchmark family at the last budget."""
    if not {a, b} <= set(df["method"]):
        raise SystemExit(f"--paired {a},{b}: both methods must be in the results")
    t = analysis.paired(df, budgets, a, [b], families=True)
    t = t[(t["group"] == "all") | np.isclose(t["ffe"], budgets[-1])]
    parts = [("" if g == "all" else f"{g} ") + f"@{f:g} {w}/{lo}/{ti} (p = {p:.2g})"
             for g, f, w, lo, ti, p in t[["group", "ffe", "wins", "losses", "ties", "p"]]
             .itertuples(index=False)]
    return (f"- {a} against {b}, paired by benchmark and seed (wins/losses/ties of {a}, "
            f"two-sided sign test): " + "; ".join(parts))


def versus(tables: Path, last: float) -> str:
    vs = pd.read_csv(tables / "versus_peers.csv")
    vs = vs[np.isclose(vs["ffe"], last)]
    rows = ["| benchmark | place | best peer | hyperpilot median | peer median | ratio | win rate |",
            "|---|---|---|---|---|---|---|"]
    for _, r in vs.iterrows():
        rows.append(f"| {r['benchmark']} | {int(r['place'])} of {int(r['of'])} | {r['best_rival']} "
                    f"| {r['focus_median']:.4g} | {r['rival_median']:.4g} | "
                    f"{_fmt(r['ratio'])} | {r['win_rate']:.2f} |")
    lead = int((vs["diff"] < 0).sum())
    return "\n".join(rows) + f"\n\nhyperpilot has the lower median on {lead} of {len(vs)} benchmarks."


def _seeds_of(src: Path, name: str) -> str:
    """`` (seeds 2, 3 only)`` when a compact per-cell file covers fewer seeds than the grid."""
    p = src / name
    if not p.exists() or not (src / "cells.csv").exists():
        return ""
    have = sorted(pd.read_csv(p)["seed"].unique())
    want = sorted(pd.read_csv(src / "cells.csv")["seed"].unique())
    return "" if have == want else f" (seeds {', '.join(map(str, have))} only)"


def others(src: Path, tables: Path) -> str:
    out = []
    sp = tables / "speedup.csv"
    if sp.exists():
        s = pd.read_csv(sp).groupby("method")["speedup"].median().sort_values(ascending=False)
        out.append("Speed-up to random's final median regret (median over benchmarks): "
                   + ", ".join(f"{m} {v:.1f}x" for m, v in s.items()))
    for name, per_cell, title, fmt in (
            ("false_stops_pooled", "false_stops.csv", "False stops, pooled",
             "{method} {kind}: {false:.0f} of {evaluated:.0f} evaluated ({n:.0f} in all)"),
            ("compute_saved", "budget.csv", "Compute saved",
             "{method} resume {resume_pct:.1f}%, stop {stop_pct:.1f}% ({stopped:.0f} stopped)")):
        if (tables / f"{name}.csv").exists():
            t = pd.read_csv(tables / f"{name}.csv")
            if "resume_saved" in t:
                t = t.assign(resume_pct=100 * t["resume_saved"], stop_pct=100 * t["stop_saved"])
            out.append(f"{title}{_seeds_of(src, per_cell)}: "
                       + "; ".join(fmt.format(**r) for r in t.to_dict("records")))
    ov = pd.read_csv(tables / "overhead.csv").set_index("method")
    big = [c for c in ov.columns if c.endswith("+")]
    out.append("Overhead per proposal, mean [s]" + (f" (median at {big[0]} obs.)" if big else "")
               + ": " + ", ".join(f"{m} {r['mean']:.3g}" + (f" ({r[big[0]]:.3g})" if big and
                                                               np.isfinite(r[big[0]]) else "")
                                  for m, r in ov.sort_values("mean").iterrows()))
    fb = pd.read_csv(tables / "fallbacks.csv")
    out.append(f"Fallbacks {int(fb['fallbacks'].sum())}, failed trials {int(fb['failed'].sum())} "
               f"of {int(fb['trials'].sum()):,} trials.")
    return "\n".join(f"- {x}" for x in out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", type=Path, help="the bench folder or compact result that was reported")
    p.add_argument("--report", default="report", help="report folder name under SRC")
    p.add_argument("--at", default="10,30,100", help="the report's budgets")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--pieces", nargs="*", default=[],
                   help="seed ranges ranked apart, e.g. 0-1 2-5 (as bench run --seeds)")
    p.add_argument("--paired", nargs="*", default=[], metavar="A,B",
                   help="method pairs compared benchmark-seed pair by pair (sign test), "
                        "e.g. hyperpilot,gp-bo hyperpilot,smac-mf")
    a = p.parse_args()
    tables = a.src / a.report / "tables"
    budgets = [float(x) for x in a.at.split(",")]
    src = a.src
    df = compacted.load_incumbents(src) if compacted.is_compact(src) else analysis.load_trials(src)
    print(rank_table(df, tables, budgets, a.seed), "\n")
    if (tables / "versus_peers.csv").exists():
        print(versus(tables, budgets[-1]), "\n")
    print(others(a.src, tables))
    if a.pieces:
        methods = list(pd.read_csv(tables / "mean_rank.csv")["method"])
        print("\n" + piece_ranks(df, methods, budgets, [parse_seeds(x) for x in a.pieces]))
    for pair in a.paired:
        x, _, y = pair.partition(",")
        print("\n" + paired(df, x, y, budgets))


if __name__ == "__main__":
    main()
