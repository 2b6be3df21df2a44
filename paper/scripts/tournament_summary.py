"""Issue 18's tournament table: candidate x family x budget, mean rank and median regret.

Usage::

    python paper/scripts/tournament_summary.py runs/bench/tournament [more folders] --at 10,30 \\
        [--methods hyperpilot@laplace,gp-bo,...] [--paired hyperpilot@laplace,gp-bo] \\
        [--rename FOLDER OLD NEW]

Reads bench folders of one grid (raw cells or compact references; a method added later in a
folder of its own joins the others) through ``hyperpilot.bench.analysis``,
so the noisy ``bandit`` is scored by held-out test regret as in the bench report. Only the
(benchmark, seed) pairs that every listed method has finished are used. Ranks are among the
listed methods, per benchmark and seed, then averaged over a family's pairs (``lcbench:3945``
-> ``lcbench``) or over all pairs; regret is the median over a family's pairs. Markdown on
stdout; ``--paired A,B`` adds wins/losses/ties of A against B with a two-sided sign test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis, compacted
from hyperpilot.bench.stats import bootstrap_ci, paired_sign_test, rank_methods


def family(benchmark: str) -> str:
    """``lcbench:3945`` -> ``lcbench``; a benchmark without a task is its own family."""
    return benchmark.split(":")[0]


def scored(df: pd.DataFrame, budgets: list[float]) -> pd.DataFrame:
    """Scores at each budget with the rank among the methods and the family column."""
    at = analysis.scores_at(df, np.asarray(budgets, dtype=float))
    at["rank"] = rank_methods(at, ["benchmark", "seed", "ffe"])
    at["family"] = at["benchmark"].map(family)
    return at


def table(at: pd.DataFrame, seed: int) -> str:
    """Markdown: one row per method; per budget the mean rank (95% CI) over all pairs, then
    per family the mean rank and the median regret."""
    budgets = sorted(at["ffe"].unique())
    fams = sorted(at["family"].unique())
    rng = np.random.default_rng(seed)
    head = [f"rank @{b:g} (95% CI)" for b in budgets]
    head += [f"{f} @{b:g}: rank / median" for b in budgets for f in fams]
    rows = ["| method | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    last = at[at["ffe"] == budgets[-1]].groupby("method")["rank"].mean().sort_values()
    for m in last.index:
        g = at[at["method"] == m]
        cells = []
        for b in budgets:
            r = g.loc[g["ffe"] == b, "rank"].to_numpy(dtype=float)
            lo, hi = bootstrap_ci(r, rng, "mean")
            cells.append(f"{r.mean():.2f} ({lo:.2f}-{hi:.2f})")
        for b in budgets:
            for f in fams:
                s = g[(g["ffe"] == b) & (g["family"] == f)]
                cells.append(f"{s['rank'].mean():.2f} / {s['score'].median():.3g}")
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    n = at.groupby(["benchmark", "seed"]).ngroups
    return "\n".join(rows) + f"\n({n} benchmark-seed pairs.)\n"


def paired_lines(at: pd.DataFrame, a: str, b: str) -> str:
    """Wins/losses/ties of ``a`` against ``b`` (lower score wins) at each budget and family."""
    out = [f"**{a} vs {b}** (wins / losses / ties, two-sided sign test p):"]
    for ffe, g in at.groupby("ffe"):
        for fam, h in [("all", g)] + list(g.groupby("family")):
            piv = h.pivot_table(index=["benchmark", "seed"], columns="method", values="score")
            if a not in piv or b not in piv:
                continue
            piv = piv[[a, b]].dropna()
            t = paired_sign_test(piv[a].to_numpy(), piv[b].to_numpy())
            out.append(f"- @{ffe:g} {fam}: {t['wins']:.0f} / {t['losses']:.0f} / "
                       f"{t['ties']:.0f}, p = {t['p']:.3g}")
    return "\n".join(out) + "\n"


def load(src: Path, renames: list[list[str]]) -> pd.DataFrame:
    """One folder's trials (a compact reference: its incumbent rows, already test-scored), with
    its methods renamed as ``--rename`` says."""
    df = compacted.load_incumbents(src) if compacted.is_compact(src) else analysis.load_trials(src)
    for folder, old, new in renames:
        if Path(folder).resolve() == src.resolve():
            df.loc[df["method"] == old, "method"] = new
    return df


def check_disjoint(df: pd.DataFrame) -> None:
    """Refuse a (method, benchmark, seed) cell that two folders both hold: never mix silently."""
    cells = df.groupby(["method", "benchmark", "seed"])["src"].nunique()
    both = cells[cells > 1]
    if len(both):
        raise SystemExit(f"cells in more than one folder (use --rename): {list(both.index)[:5]}")


def load_sources(srcs: list[Path], renames: list[list[str]] | None = None) -> pd.DataFrame:
    """Every folder's rows joined (:func:`load`; a folder named twice is read once), each cell
    from one folder only (:func:`check_disjoint`)."""
    srcs = list(dict.fromkeys(srcs))
    df = pd.concat([load(src, renames or []).assign(src=str(src)) for src in srcs],
                   ignore_index=True)
    check_disjoint(df)
    return df


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, nargs="+", help="bench folders (same grid, other methods)")
    ap.add_argument("--at", default="10,30")
    ap.add_argument("--methods", default=None)
    ap.add_argument("--paired", nargs="*", default=[], help="A,B pairs")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    ap.add_argument("--rename", nargs=3, action="append", default=[],
                    metavar=("FOLDER", "OLD", "NEW"),
                    help="read FOLDER's method OLD as NEW (a method rerun after a change)")
    a = ap.parse_args()
    methods = a.methods.split(",") if a.methods else None
    df = analysis.select(load_sources(a.src, a.rename), methods, complete=True)
    at = scored(df, [float(v) for v in a.at.split(",")])
    print(table(at, a.seed))
    for pair in a.paired:
        x, y = pair.split(",")
        print(paired_lines(at, x, y))


if __name__ == "__main__":
    main()
