"""Helpers for the surrogate scripts: Hartmann-6, held-out metrics, surrogate names, tables."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

_A = torch.tensor(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ],
    dtype=torch.float64,
)
_P = 1e-4 * torch.tensor(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ],
    dtype=torch.float64,
)
_ALPHA = torch.tensor([1.0, 1.2, 3.0, 3.2], dtype=torch.float64)


def hartmann6(X: torch.Tensor) -> torch.Tensor:
    """Negated Hartmann-6 (to maximise; max 3.32237 at a known point), ``n x 6`` -> ``n x 1``."""
    inner = (_A * (X.unsqueeze(-2) - _P) ** 2).sum(-1)  # n x 4
    return (_ALPHA * torch.exp(-inner)).sum(-1, keepdim=True)


def objective7(X: torch.Tensor) -> torch.Tensor:
    """Negated Hartmann-6 on the first 6 columns plus a weak linear 7th (larger is better):
    ``n x 7`` -> ``n x 1``."""
    return hartmann6(X[:, :6]) + 0.1 * X[:, 6:7]


def hartmann_split(n: int, n_test: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Random train and held-out sets on Hartmann-6 (uniform in the unit cube)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n + n_test, 6, generator=g, dtype=torch.float64)
    Y = hartmann6(X)
    return X[:n], Y[:n], X[n:], Y[n:]


def metrics(mean: torch.Tensor, var: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """RMSE, Gaussian NLL (moment-matched), 90% central-interval coverage and Spearman rho.

    Spearman is NaN for fewer than 3 points or constant predictions or targets.
    """
    mean, var, y = (t.detach().reshape(-1).double() for t in (mean, var, y))
    var = var.clamp_min(1e-12)
    nll = 0.5 * (torch.log(2 * math.pi * var) + (y - mean) ** 2 / var)
    cover = ((y - mean).abs() <= 1.6448536 * var.sqrt()).double().mean()
    constant = bool((mean == mean[0]).all() or (y == y[0]).all())
    rho = math.nan if y.numel() < 3 or constant else spearmanr(mean.numpy(), y.numpy()).statistic
    return {
        "rmse": float(((y - mean) ** 2).mean().sqrt()),
        "nll": float(nll.mean()),
        "cov90": float(cover),
        "spearman": float(rho),
    }


TOP_FRACTION = 0.1
"""Share of the held-out points, the best by true value, scored apart: where the acquisition acts."""


def top_indices(y: torch.Tensor, fraction: float = TOP_FRACTION) -> torch.Tensor:
    """Indices of the ``ceil(fraction * n)`` largest of ``n`` targets (at least one).

    Args:
        y: ``n`` or ``n x 1`` true values, larger is better.
        fraction: Share kept, in ``(0, 1]``; ties go to the earlier point.

    Returns:
        A long tensor of indices, best first.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    y = y.reshape(-1)
    k = max(1, math.ceil(fraction * y.numel() - 1e-9))  # 0.1 * 30 is 3.0000000000000004
    return torch.sort(y, descending=True, stable=True).indices[:k]


def heldout_metrics(mean: torch.Tensor, var: torch.Tensor, y: torch.Tensor,
                    fraction: float = TOP_FRACTION) -> dict[str, float]:
    """``metrics`` over all held-out points and, prefixed ``top10_`` (for 10%), over the best.

    Args:
        mean, var: Predictive mean and variance at the ``n`` held-out points (any shape of
            ``n`` elements).
        y: The ``n`` true values, larger is better.
        fraction: Share of the points, the largest ``y``, scored apart.
    """
    mean, var, y = (t.detach().reshape(-1) for t in (mean, var, y))
    idx = top_indices(y, fraction)
    top = metrics(mean[idx], var[idx], y[idx])
    prefix = f"top{round(100 * fraction)}_"
    return {**metrics(mean, var, y), **{prefix + k: v for k, v in top.items()}}


def surrogate_names(items: Sequence[str] | None) -> list[str]:
    """Registered surrogate names from comma-separated items (None or ``all``: every name).

    Raises:
        UnknownSurrogate: for a name not in ``surrogates.SURROGATES`` (lists the known ones).
    """
    from surrogates import SURROGATES, surrogate_spec

    names = [n.strip() for item in items or ["all"] for n in item.split(",") if n.strip()]
    if names == ["all"]:
        return list(SURROGATES)
    for n in names:
        surrogate_spec(n)
    return list(dict.fromkeys(names))


def summarize(rows: Sequence[dict[str, Any]], keys: Sequence[str],
              cols: Sequence[str]) -> list[dict[str, Any]]:
    """One record per group of ``keys``: the median of ``cols`` over the rows whose ``status``
    is ``ok`` (NaN when none is), ``runs`` (their number) and ``note`` (the distinct notes of
    the other rows, e.g. a timeout or a skip; empty when all are ok). Groups keep first-seen
    order. NaN values are ignored by the median."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for key, rs in groups.items():
        ok = [r for r in rs if r.get("status", "ok") == "ok"]
        rec: dict[str, Any] = dict(zip(keys, key, strict=True))
        for c in cols:
            v = np.array([float(r[c]) for r in ok], dtype=float)
            rec[c] = float(np.nanmedian(v)) if np.isfinite(v).any() else math.nan
        notes = [str(r.get("note") or r["status"]) for r in rs if r.get("status", "ok") != "ok"]
        rec.update(runs=len(ok), note="; ".join(dict.fromkeys(notes)))
        out.append(rec)
    return out


def records_markdown(recs: Sequence[dict[str, Any]], cols: Sequence[str], digits: int = 3) -> str:
    """A markdown table of ``recs`` (e.g. from ``summarize``): floats to ``digits`` decimals,
    NaN as ``-``."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.{digits}f}"
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in recs]
    return "\n".join(lines)


def write_csv(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    """``rows`` (same keys, in the first row's order) as a CSV file, creating its folder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def markdown(rows: Sequence[dict[str, object]], keys: Sequence[str], cols: Sequence[str]) -> str:
    """Group ``rows`` by ``keys`` and print mean ± std of ``cols`` as a markdown table."""
    groups: dict[tuple[object, ...], list[dict[str, object]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    lines = [
        "| " + " | ".join([*keys, *cols, "runs"]) + " |",
        "|" + "---|" * (len(keys) + len(cols) + 1),
    ]
    for key, rs in groups.items():
        cells = []
        for c in cols:
            v = np.array([float(r[c]) for r in rs])  # type: ignore[arg-type]
            cells.append(f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v.mean():.3f}")
        lines.append("| " + " | ".join([*map(str, key), *cells, str(len(rs))]) + " |")
    return "\n".join(lines)
