"""Seaborn figures for the paper (PNG and PDF): curves, ranks, overhead, speed-up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyperpilot.bench.peers import PEERS


def _plt():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    return plt, sns


def method_palette(methods: object) -> dict[str, str]:
    """One ``#rrggbb`` colour per method (seaborn's palette over the sorted names).

    ``bench report`` computes it once from all its methods and hands it to every PNG figure and
    every chart of ``report.html``, so a method has one colour everywhere.
    """
    import seaborn as sns

    names = sorted({str(m) for m in methods})  # type: ignore[attr-defined]
    colours = sns.color_palette(None if len(names) <= 10 else "husl", n_colors=len(names))
    return dict(zip(names, colours.as_hex(), strict=True))  # past 10 the default would repeat


def _dash(method: str) -> str:
    return "--" if method.split(":")[0] in PEERS else "-"  # peers dashed, ours solid


def _legend_right(ax) -> None:  # type: ignore[no-untyped-def]
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _save(fig, folder: Path, name: str) -> list[Path]:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def regret_curves(summary: pd.DataFrame, folder: Path, stat: str = "median",
                  palette: dict[str, str] | None = None) -> list[Path]:
    """One panel per benchmark: ``stat`` (median with 25-75% band, or IQM with its 95% CI)."""
    plt, _ = _plt()
    lo, hi = ("q25", "q75") if stat == "median" else ("iqm_lo", "iqm_hi")
    benches = list(dict.fromkeys(summary["benchmark"]))
    n = len(benches)
    cols = min(n, 3)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(4.2 * cols, 3.2 * ((n + cols - 1) // cols)),
                             squeeze=False)
    palette = palette or method_palette(summary["method"])
    for ax, b in zip(axes.flat, benches, strict=False):
        s = summary[summary["benchmark"] == b]
        for m, g in s.groupby("method"):
            ax.plot(g["ffe"], g[stat], label=m, color=palette[m], ls=_dash(m))
            ax.fill_between(g["ffe"], g[lo], g[hi], alpha=0.2, color=palette[m])
        ax.set_xscale("log")
        if (s[stat].dropna() > 0).all() and s[stat].notna().any():
            ax.set_yscale("log")
        ax.set_title(b)
        ax.set_xlabel("full-fidelity equivalents")
        ax.set_ylabel("regret" if stat == "median" else "regret (IQM)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    paths = _save(fig, folder, f"regret_{stat}")
    plt.close(fig)
    return paths


def rank_curves(ranks: pd.DataFrame, folder: Path,
                palette: dict[str, str] | None = None) -> list[Path]:
    """Mean rank against FFE (rows ``method, ffe, mean_rank``), best-ranked at the end first;
    the x axis spans the last two decades of the budget (before that, few cells have a score)."""
    plt, _ = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    palette = palette or method_palette(ranks["method"])
    last = ranks[ranks["ffe"] == ranks["ffe"].max()].set_index("method")["mean_rank"]
    for m in last.sort_values().index:
        g = ranks[ranks["method"] == m]
        ax.plot(g["ffe"], g["mean_rank"], label=m, color=palette[m], ls=_dash(m), lw=1.4)
    ax.set_xscale("log")
    ax.set_xlim(left=max(float(ranks["ffe"].min()), float(ranks["ffe"].max()) / 100))
    ax.set_xlabel("full-fidelity equivalents")
    ax.set_ylabel("mean rank (1 = best)")
    _legend_right(ax)
    paths = _save(fig, folder, "mean_rank")
    plt.close(fig)
    return paths


def overhead_plot(d: pd.DataFrame, folder: Path,
                  palette: dict[str, str] | None = None) -> list[Path]:
    """Optimizer seconds per proposal against the trial index.

    ``d``: rows ``method, trial_index, overhead_s`` (a median over cells).
    """
    plt, _ = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    palette = palette or method_palette(d["method"])
    order = d.groupby("method")["overhead_s"].median().sort_values(ascending=False).index
    for m in order:
        g = d[d["method"] == m].sort_values("trial_index")
        ax.plot(g["trial_index"], g["overhead_s"], label=m, color=palette[m], ls=_dash(m))
    ax.set_yscale("log")
    ax.set_xlabel("trial index (observations so far)")
    ax.set_ylabel("overhead per proposal [s]")
    _legend_right(ax)
    paths = _save(fig, folder, "overhead")
    plt.close(fig)
    return paths


def speedup_plot(sp: pd.DataFrame, folder: Path,
                 palette: dict[str, str] | None = None) -> list[Path]:
    """Speed-up per benchmark (dots) and its median over benchmarks (bar), methods by median.

    ``sp``: rows ``method, benchmark, speedup`` (``stats.speedup_to_target``); a method that
    never reached the target (speed-up 0) is drawn at the left edge.
    """
    plt, sns = _plt()
    med = sp.groupby("method")["speedup"].median().sort_values(ascending=False)
    fig, ax = plt.subplots(figsize=(5.5, 0.9 + 0.32 * len(med)))
    palette = palette or method_palette(sp["method"])
    floor = 0.1
    ax.barh(range(len(med)), med.clip(lower=floor).to_numpy(), left=0, height=0.6,
            color=[palette[m] for m in med.index], alpha=0.45)
    pos = {m: i for i, m in enumerate(med.index)}
    jitter = sp.groupby("method").cumcount() / max(1, sp.groupby("method").size().max())
    ax.scatter(sp["speedup"].clip(lower=floor), sp["method"].map(pos) + 0.5 * (jitter - 0.5),
               s=9, color="k", zorder=3, label="one benchmark")
    ax.set_yticks(range(len(med)), [f"{m} ({v:.1f}x)" for m, v in med.items()])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel("speed-up to random search's final median regret\n(bar: median over "
                  f"benchmarks; dots at {floor:g}: target never reached)")
    ax.legend(fontsize=7, loc="lower right")
    sns.despine(ax=ax, left=True)
    paths = _save(fig, folder, "speedup")
    plt.close(fig)
    return paths
