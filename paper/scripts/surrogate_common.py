"""Helpers for the surrogate scripts: Hartmann-6, held-out metrics, markdown tables."""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def hartmann_split(n: int, n_test: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Random train and held-out sets on Hartmann-6 (uniform in the unit cube)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n + n_test, 6, generator=g, dtype=torch.float64)
    Y = hartmann6(X)
    return X[:n], Y[:n], X[n:], Y[n:]


def metrics(mean: torch.Tensor, var: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """RMSE, Gaussian NLL (moment-matched), 90% central-interval coverage and Spearman rho."""
    mean, var, y = (t.detach().reshape(-1).double() for t in (mean, var, y))
    var = var.clamp_min(1e-12)
    nll = 0.5 * (torch.log(2 * math.pi * var) + (y - mean) ** 2 / var)
    cover = ((y - mean).abs() <= 1.6448536 * var.sqrt()).double().mean()
    rho = spearmanr(mean.numpy(), y.numpy()).statistic
    return {
        "rmse": float(((y - mean) ** 2).mean().sqrt()),
        "nll": float(nll.mean()),
        "cov90": float(cover),
        "spearman": float(rho),
    }


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
