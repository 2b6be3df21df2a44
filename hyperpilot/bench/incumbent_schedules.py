"""The incumbents' schedules in a bench: a tidy table and one figure (hyperparameter vs budget).

A cell's incumbent config is its last ``incumbent_config``; a parameter whose value is a schedule
(``hyperpilot.schedule``; population-based methods) gives one row per segment. Static configs
have no rows, so a bench without schedules has an empty table and no figure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from hyperpilot.schedule import is_schedule, points

COLUMNS = ["method", "benchmark", "seed", "param", "start", "end", "value"]


def incumbent_schedules(df: pd.DataFrame, max_budget: dict[str, float]) -> pd.DataFrame:
    """Rows ``(method, benchmark, seed, param, start, end, value)`` of each cell's final incumbent.

    Args:
        df: the bench's trials (``hyperpilot.bench.records`` columns).
        max_budget: the max budget per benchmark (the last segment ends there).
    """
    if "incumbent_config" not in df or not len(df):
        return pd.DataFrame(columns=COLUMNS)
    last = df.sort_values("trial_index").groupby(["method", "benchmark", "seed"]).tail(1)
    rows = []
    for r in last.itertuples():
        if not isinstance(r.incumbent_config, str):
            continue
        config = json.loads(r.incumbent_config)
        top = float(max_budget.get(str(r.benchmark), r.budget))
        for name, v in config.items():
            if not is_schedule(v):
                continue
            pts = points(v)
            ends = [s for s, _ in pts[1:]] + [top]
            rows += [(r.method, r.benchmark, r.seed, name, s, e, x)
                     for (s, x), e in zip(pts, ends, strict=True)]
    return pd.DataFrame(rows, columns=COLUMNS)


def schedule_figure(table: pd.DataFrame, path: Path, palette: dict[str, str],
                    columns: int = 4) -> Path | None:
    """Step plots: one panel per (benchmark, parameter), one line per method and seed.

    Panels fill rows of ``columns`` (a PPO space schedules seven parameters; one row of seven
    panels is too wide to read).

    Returns:
        The PNG written (a PDF beside it), or None for an empty table.
    """
    if not len(table):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(table.groupby(["benchmark", "param"]).groups)
    ncol = max(1, min(columns, len(panels)))
    nrow = -(-len(panels) // ncol)
    fig, grid = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    axes = list(grid.flat)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax, (bench, param) in zip(axes, panels, strict=False):
        sub = table[(table["benchmark"] == bench) & (table["param"] == param)]
        for (method, seed), g in sub.groupby(["method", "seed"]):
            xs = [*g["start"], g["end"].iloc[-1]]
            ys = [*g["value"], g["value"].iloc[-1]]
            ax.step(xs, ys, where="post", color=palette.get(str(method)), alpha=0.8,
                    label=str(method) if seed == sub[sub["method"] == method]["seed"].min() else None)
        if all(float(v) > 0 for v in sub["value"]) and sub["value"].max() / sub["value"].min() > 20:
            ax.set_yscale("log")
        ax.set_title(f"{bench}: {param}", fontsize=9)
        ax.set_xlabel("budget")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    fig.savefig(path.with_suffix(".pdf"))
    plt.close(fig)
    return path
