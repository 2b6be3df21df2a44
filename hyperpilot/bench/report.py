"""``bench report``: everything under ``<out>/report/`` from the trials table.

``out`` may also be a compact result (``runs/reference/<scale>/<name>``, a grid merged from
pieces): the same tables and figures, with overhead from its per-bin medians and the compute
saved and false stops from its per-cell sums where the pieces carry them.

Writes ``summary.md`` (all tables), ``tables/*.{csv,md,tex}``, ``figures/*.{png,pdf}``,
``curves.csv`` (the summarized anytime curves) and ``report.html``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.bench import analysis, compacted, tables, verdict
from hyperpilot.bench.decisions import decisions_table
from hyperpilot.bench.falsestop import by_benchmark, false_stops_by_cell, pooled
from hyperpilot.bench.stats import speedup_to_target
from hyperpilot.bench.testscore import TEST_SEEDS
from hyperpilot.overview import budget_range_text

CELLS = analysis.CELL


def _budget(out: Path, df: pd.DataFrame) -> float:
    cfg = out / "config.json"
    return float(json.loads(cfg.read_text())["budget"]) if cfg.exists() else float(df["ffe"].max())


def make_report(out: str | Path, at: list[float] | None = None, seed: int = 0,
                false_stop_cap: int = 50, html: bool = True, figures: bool = True,
                methods: list[str] | None = None, complete: bool = False,
                name: str = "report", focus: str | None = None) -> Path:
    """Analyse ``out`` and write its report; returns the report folder (``out/<name>``).

    Args:
        methods: report only these methods (default: all in the results).
        complete: only the (benchmark, seed) pairs that every reported method has finished.
        focus: the method compared with the best peer on each benchmark (``versus_peers``) and
            with every method pair by pair (default ``analysis.focus_method``).
        at: FFE budgets for the final tables; default 10%, 30% and 100% of the bench budget.
        seed: seeds the bootstrap and the false-stop sampling (``np.random.default_rng``).
        false_stop_cap: configs re-evaluated per cell and kind for the false-stop rates.
    """
    out = Path(out)
    rep, tdir = out / name, out / name / "tables"
    is_compact = compacted.is_compact(out)
    df = analysis.select(compacted.load_incumbents(out) if is_compact else analysis.load_trials(out),
                         methods, complete)
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
    if is_compact:  # compacted from test-scored trials (``analysis.load_trials``)
        from hyperpilot.bench.testscore import noisy_benchmarks

        noisy = noisy_benchmarks(sorted(df["benchmark"].unique()), analysis.data_dir(out))
    else:
        noisy = sorted(df.loc[df["test_scored"], "benchmark"].unique()) if "test_scored" in df else []
    seeds = df.groupby("benchmark")["seed"].nunique()
    used = budget_range_text(df.groupby(CELLS)["ffe"].max().tolist(), budget)
    budget_line = f"Budget {budget:g} FFE per cell. {used}."
    scope = (f"{df.groupby(analysis.CELL).ngroups} cells; {df['method'].nunique()} methods; seeds "
             f"per benchmark {seeds.min()}-{seeds.max()}"
             f"{' (complete seeds only)' if complete else ''}; score = regret (incumbent loss "
             "where no optimum is known)"
             + (f"; on noisy benchmarks ({', '.join(noisy)}) the incumbent's test regret, its "
                f"mean over {len(TEST_SEEDS)} held-out noise seeds" if noisy else "") + ".")
    md = [f"# Bench report: {out.name}\n", f"{budget_line}\n\n{scope}\n"]
    lead = verdict.summary_lines(df, final, at)
    md += ["## Summary\n", *[f"- {x}" for x in lead], ""]
    shown: dict[str, tuple[str, pd.DataFrame]] = {}
    for b in at:
        w = tables.wide_final(final, b)
        name = f"final_regret_at_{b:g}ffe"
        title = f"Regret at {b:g} FFE: median [25%, 75%] over seeds, by benchmark"
        md += [f"\n## {title}\n", tables.write_all(w, tdir, name, f"Regret at {b:g} FFE")]
        shown[name] = (title, w)
    final.to_csv(tdir / "final_regret_long.csv", index=False)
    rank_at = final.groupby(["method", "ffe"])["mean_rank"].mean().unstack()
    rank_at.columns = [f"rank@{c:g}" for c in rank_at.columns]
    rank_at = rank_at.sort_values(rank_at.columns[-1]).reset_index()
    sp = speedup_to_target(df, score="score") if "random" in set(df["method"]) else pd.DataFrame()
    from hyperpilot.bench.peers import PEERS

    peers = [m for m in df["method"].unique() if m in PEERS]
    focus = focus or analysis.focus_method(list(dict.fromkeys(df["method"])))
    vs = analysis.versus(df, at, focus, peers) if focus in set(df["method"]) else pd.DataFrame()
    pair = analysis.paired(df, at, focus)
    fam = analysis.family_ranks(final)
    saved_of = ""
    if is_compact:
        over, ov_curve, fb, saved, fs_cells, sums = _compact_tables(out, df)
        saved_of = _coverage(sums, df)
    else:
        over, fb, saved = analysis.overhead(df), analysis.fallbacks(df), analysis.compute_saved(df)
        ov_curve = df.groupby(["method", "trial_index"], as_index=False)["overhead_s"].median()
        fs_cells = false_stops_by_cell(df, analysis.data_dir(out), seed, false_stop_cap)
    fs = by_benchmark(fs_cells) if fs_cells is not None and len(fs_cells) else pd.DataFrame()
    stops = pd.DataFrame() if is_compact else decisions_table(out, df)
    fs_of = _coverage(fs_cells, df)
    for name, t, title in (("mean_rank", rank_at, "Mean rank at each budget over benchmarks x seeds (1 = best)"),
                           ("family_rank", fam, "Mean rank by benchmark family (lcbench = the "
                            "mean over its tasks and seeds) at each budget"),
                           ("speedup", sp, "Speed-up to random search's final median regret"),
                           ("versus_peers", vs, f"{focus} against the best peer on each benchmark "
                            "(place among all methods by mean rank; diff and ratio of the median "
                            "regrets, < 0 and < 1 lead; win rate over seeds)"),
                           ("paired", tables.wide_paired(pair) if len(pair) else pair,
                            f"{focus} against each method, pair by pair: wins/losses/ties of "
                            f"{focus} over the benchmark-seed pairs, two-sided sign test"),
                           ("overhead", over, "Optimizer overhead per proposal [s], median by "
                                               "trial index" + (" (median over cells of each "
                                               "cell's median; mean over all proposals)"
                                               if is_compact else "")),
                           ("fallbacks", fb, "Model fallbacks and failed trials"),
                           ("compute_saved", saved, "Training budget saved by checkpoint resume "
                                                    "(vs retraining promotions from scratch) and "
                                                    f"by early stopping{saved_of}"),
                           ("false_stops_pooled", pooled(fs) if len(fs) else fs,
                            f"False-stop rates pooled over benchmarks{fs_of}"),
                           ("false_stops", fs, "False-stop rates (full-budget value beats the "
                                               f"final incumbent){fs_of}"),
                           ("decisions", stops, "Pruner decisions in our methods' studies, by "
                                                "who decided, with the latest reason")):
        if len(t):
            md += [f"\n## {title}\n", tables.write_all(t, tdir, name, title)]
            shown[name] = (title, t)
    md += _schedules(df, rep, tdir, figures)
    (rep / "summary.md").write_text("\n".join(md))
    palette = _palette(df["method"]) if figures or html else {}
    if figures:
        _write_figures(rep / "figures", summary, ranks, ov_curve, sp, palette)
    if html:
        from hyperpilot.bench.html import write_html

        write_html(rep / "report.html", f"HyperPilot bench: {out.name}", summary, ranks, ov_curve,
                   shown, palette, lead, [budget_line, scope], speedup=sp)
    return rep


def _schedules(df: pd.DataFrame, rep: Path, tdir: Path, figures: bool) -> list[str]:
    """The incumbents' schedules (population-based methods): a table and a figure, if any."""
    from hyperpilot.bench.incumbent_schedules import incumbent_schedules, schedule_figure

    if "incumbent_config" not in df:
        return []
    table = incumbent_schedules(df, df.groupby("benchmark")["budget"].max().to_dict())
    if not len(table):
        return []
    table.to_csv(tdir / "incumbent_schedules.csv", index=False)
    if figures:
        schedule_figure(table, rep / "figures" / "incumbent_schedules.png", _palette(df["method"]))
    return ["\n## Incumbent schedules\n", f"{table.groupby(['method', 'benchmark', 'seed']).ngroups}"
            " incumbents hold schedules (hyperparameter against budget): "
            "`tables/incumbent_schedules.csv`, `figures/incumbent_schedules.png`."]


def _palette(methods: pd.Series) -> dict[str, str]:
    from hyperpilot.bench.figures import method_palette

    return method_palette(methods.unique())


def _write_figures(fdir: Path, summary: pd.DataFrame, ranks: pd.DataFrame,
                   ov_curve: pd.DataFrame, sp: pd.DataFrame, palette: dict[str, str]) -> None:
    """The PNG/PDF figures, every one with the report's ``palette``."""
    from hyperpilot.bench import figures as F

    F.regret_curves(summary, fdir, "median", palette)
    F.regret_curves(summary, fdir, "iqm", palette)
    F.rank_curves(ranks, fdir, palette)
    F.overhead_plot(ov_curve, fdir, palette)
    if len(sp):
        F.speedup_plot(sp, fdir, palette)


def _coverage(per_cell: pd.DataFrame | None, df: pd.DataFrame) -> str:
    """`` (only the N of M cells that carry it: seeds 2 of 0, 1, 2)`` when ``per_cell`` (a
    compact per-cell file) covers fewer cells than ``df``; else ``""``."""
    if per_cell is None or not len(per_cell):
        return ""
    have, want = per_cell[CELLS].drop_duplicates(), df[CELLS].drop_duplicates()
    if len(have) >= len(want):
        return ""
    s, a = sorted(have["seed"].unique()), sorted(want["seed"].unique())
    return (f" (only the {len(have)} of {len(want)} cells that carry it: seeds "
            f"{', '.join(map(str, s))} of {', '.join(map(str, a))})")


def _compact_tables(out: Path, df: pd.DataFrame) -> tuple[
        pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame | None,
        pd.DataFrame | None]:
    """Overhead table and curve, fallbacks, compute saved, per-cell false stops and budget sums
    of a compact result, for the cells in ``df`` (empty frames / None where pieces lack a file)."""
    bins = compacted.cell_table(out, "overhead.csv", df)
    cells = compacted.cell_table(out, "cells.csv", df)
    sums = compacted.cell_table(out, "budget.csv", df)
    fs = compacted.cell_table(out, "false_stops.csv", df)
    empty = pd.DataFrame()
    over = compacted.overhead(bins) if bins is not None and len(bins) else empty
    curve = compacted.overhead_curve(bins) if bins is not None and len(bins) else empty
    fb = compacted.fallbacks(cells) if cells is not None else empty
    saved = analysis.compute_saved(sums=sums) if sums is not None and len(sums) else empty
    return over, curve, fb, saved, fs, sums
