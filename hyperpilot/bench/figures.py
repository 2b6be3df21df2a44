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


def _save(fig, folder: Path, name: str) -> list[Path]:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def regret_curves(summary: pd.DataFrame, folder: Path, stat: str = "median") -> list[Path]:
    """One panel per benchmark: ``stat`` (median with 25-75% band, or IQM with its 95% CI)."""
    plt, sns = _plt()
    lo, hi = ("q25", "q75") if stat == "median" else ("iqm_lo", "iqm_hi")
    benches = list(dict.fromkeys(summary["benchmark"]))
    n = len(benches)
    cols = min(n, 3)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(4.2 * cols, 3.2 * ((n + cols - 1) // cols)),
                             squeeze=False)
    palette = dict(zip(sorted(summary["method"].unique()), sns.color_palette(n_colors=summary["method"].nunique()), strict=True))
    for ax, b in zip(axes.flat, benches, strict=False):
        s = summary[summary["benchmark"] == b]
        for m, g in s.groupby("method"):
            ax.plot(g["ffe"], g[stat], label=m, color=palette[m],
                    ls="--" if m.split(":")[0] in PEERS else "-")  # peers dashed
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


def rank_curves(ranks: pd.DataFrame, folder: Path) -> list[Path]:
    plt, sns = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    sns.lineplot(data=ranks, x="ffe", y="mean_rank", hue="method", ax=ax)
    ax.set_xscale("log")
    ax.set_xlabel("full-fidelity equivalents")
    ax.set_ylabel("mean rank (1 = best)")
    paths = _save(fig, folder, "mean_rank")
    plt.close(fig)
    return paths


def overhead_plot(d: pd.DataFrame, folder: Path) -> list[Path]:
    """Optimizer seconds per proposal against the trial index.

    ``d``: rows ``method, trial_index, overhead_s`` (a median over cells).
    """
    plt, sns = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    sns.lineplot(data=d, x="trial_index", y="overhead_s", hue="method", ax=ax)
    ax.set_yscale("log")
    ax.set_xlabel("trial index (observations so far)")
    ax.set_ylabel("overhead per proposal [s]")
    paths = _save(fig, folder, "overhead")
    plt.close(fig)
    return paths


def speedup_plot(sp: pd.DataFrame, folder: Path) -> list[Path]:
    plt, sns = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    sns.barplot(data=sp, x="speedup", y="method", hue="benchmark", ax=ax)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel("speed-up to random search's final median regret")
    paths = _save(fig, folder, "speedup")
    plt.close(fig)
    return paths
