"""``bench report``: everything under ``<out>/report/`` from the trials table.

Writes ``summary.md`` (all tables), ``tables/*.{csv,md,tex}``, ``figures/*.{png,pdf}``,
``curves.csv`` (the summarized anytime curves) and ``report.html``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis, tables
from hyperpilot.bench.falsestop import false_stops, pooled
from hyperpilot.bench.stats import speedup_to_target
from hyperpilot.bench.testscore import TEST_SEEDS


def _budget(out: Path, df: pd.DataFrame) -> float:
    cfg = out / "config.json"
    return float(json.loads(cfg.read_text())["budget"]) if cfg.exists() else float(df["ffe"].max())


def make_report(out: str | Path, at: list[float] | None = None, seed: int = 0,
                false_stop_cap: int = 50, html: bool = True, figures: bool = True,
                methods: list[str] | None = None, complete: bool = False,
                name: str = "report", focus: str = "hyperpilot") -> Path:
    """Analyse ``out`` and write its report; returns the report folder (``out/<name>``).

    Args:
        methods: report only these methods (default: all in the results).
        complete: only the (benchmark, seed) pairs that every reported method has finished.
        focus: the method compared with the best peer on each benchmark (``versus_peers``).
        at: FFE budgets for the final tables; default 10%, 30% and 100% of the bench budget.
        seed: seeds the bootstrap and the false-stop sampling (``np.random.default_rng``).
        false_stop_cap: configs re-evaluated per cell and kind for the false-stop rates.
    """
    out = Path(out)
    rep, tdir = out / name, out / name / "tables"
    df = analysis.select(analysis.load_trials(out), methods, complete)
    budget = _budget(out, df)
    at = sorted(at or [round(budget * f, 6) for f in (0.1, 0.3, 1.0)])
    rng = np.random.default_rng(seed)
    grid = analysis.ffe_grid(df, budget)
    curves = analysis.scores_at(df, grid)
    summary = analysis.summarize(curves, rng)
    ranks = analysis.mean_ranks(curves)
    final = analysis.final_table(df, at)
    rep.mkdir(parents=True, exist_ok=True)
    summary.to_csv(rep / "curves.csv", index=False)
    noisy = sorted(df.loc[df["test_scored"], "benchmark"].unique()) if "test_scored" in df else []
    seeds = df.groupby("benchmark")["seed"].nunique()
    md = [f"# Bench report: {out.name}\n", f"Budget {budget:g} FFE per cell; "
          f"{df.groupby(analysis.CELL).ngroups} cells; {df['method'].nunique()} methods; seeds "
          f"per benchmark {seeds.min()}-{seeds.max()}"
          f"{' (complete seeds only)' if complete else ''}; score = regret (incumbent loss where "
          "no optimum is known)"
          + (f"; on noisy benchmarks ({', '.join(noisy)}) the incumbent's test regret, its mean "
             f"over {len(TEST_SEEDS)} held-out noise seeds" if noisy else "") + ".\n"]
    shown: dict[str, pd.DataFrame] = {}
    for b in at:
        w = tables.wide_final(final, b)
        name = f"final_regret_at_{b:g}ffe"
        md += [f"\n## Final regret at {b:g} FFE: median [25%, 75%] over seeds\n",
               tables.write_all(w, tdir, name, f"Regret at {b:g} FFE")]
        shown[name] = w
    final.to_csv(tdir / "final_regret_long.csv", index=False)
    rank_at = final.groupby(["method", "ffe"])["mean_rank"].mean().unstack()
    rank_at.columns = [f"rank@{c:g}" for c in rank_at.columns]
    rank_at = rank_at.sort_values(rank_at.columns[-1]).reset_index()
    sp = speedup_to_target(df, score="score") if "random" in set(df["method"]) else pd.DataFrame()
    from hyperpilot.bench.peers import PEERS

    peers = [m for m in df["method"].unique() if m in PEERS]
    vs = analysis.versus(df, at, focus, peers) if focus in set(df["method"]) else pd.DataFrame()
    fam = analysis.family_ranks(final)
    over = analysis.overhead(df)
    fb = analysis.fallbacks(df)
    saved = analysis.compute_saved(df)
    fs = false_stops(df, analysis.data_dir(out), rng, false_stop_cap)
    for name, t, title in (("mean_rank", rank_at, "Mean rank at each budget over benchmarks x seeds (1 = best)"),
                           ("family_rank", fam, "Mean rank by benchmark family (lcbench = the "
                            "mean over its tasks and seeds) at each budget"),
                           ("speedup", sp, "Speed-up to random search's final median regret"),
                           ("versus_peers", vs, f"{focus} against the best peer on each benchmark "
                            "(place among all methods by mean rank; diff and ratio of the median "
                            "regrets, < 0 and < 1 lead; win rate over seeds)"),
                           ("overhead", over, "Optimizer overhead per proposal [s], median by "
                                               "trial index"),
                           ("fallbacks", fb, "Model fallbacks and failed trials"),
                           ("compute_saved", saved, "Training budget saved by checkpoint resume "
                                                    "(vs retraining promotions from scratch) and "
                                                    "by early stopping"),
                           ("false_stops_pooled", pooled(fs) if len(fs) else fs,
                            "False-stop rates pooled over benchmarks"),
                           ("false_stops", fs, "False-stop rates (full-budget value beats the "
                                               "final incumbent)")):
        if len(t):
            md += [f"\n## {title}\n", tables.write_all(t, tdir, name, title)]
            shown[name] = t
    (rep / "summary.md").write_text("\n".join(md))
    if figures:
        from hyperpilot.bench import figures as F

        fdir = rep / "figures"
        F.regret_curves(summary, fdir, "median")
        F.regret_curves(summary, fdir, "iqm")
        F.rank_curves(ranks, fdir)
        F.overhead_plot(df, fdir)
        if len(sp):
            F.speedup_plot(sp, fdir)
    if html:
        from hyperpilot.bench.html import write_html

        ov = df.groupby(["method", "trial_index"], as_index=False)["overhead_s"].median()
        write_html(rep / "report.html", f"HyperPilot bench: {out.name}", summary, ranks, ov,
                   shown, notes=f"Budget {budget:g} FFE per cell. Bands: 25-75% (median), "
                   "95% bootstrap CI (IQM).")
    return rep
