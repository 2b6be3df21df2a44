"""Summaries of a learning curve into one objective value."""

from __future__ import annotations

import numpy as np

from hyperpilot.trial import Curve


def curve_value(curve: Curve, mode: str = "last", last_k: int = 3) -> float:
    """Summarise ``curve`` (``(budget, value)`` pairs, budgets increasing) into one value.

    Args:
        mode: ``"last"``: mean of the last ``last_k`` values; ``"auc"``: the trapezoid area under
            the curve divided by its budget span (a mean value over the budget; the single value
            when there is one point).
        last_k: number of trailing points averaged by ``"last"``.

    Raises:
        ValueError: on an empty curve or an unknown mode.
    """
    if not curve:
        raise ValueError("empty learning curve: the run was never evaluated")
    b = np.array([p[0] for p in curve], dtype=float)
    v = np.array([p[1] for p in curve], dtype=float)
    if mode == "last":
        return float(v[-max(1, last_k):].mean())
    if mode == "auc":
        if len(v) == 1 or b[-1] == b[0]:
            return float(v.mean())
        return float(np.sum((v[1:] + v[:-1]) / 2 * np.diff(b)) / (b[-1] - b[0]))
    raise ValueError(f"unknown curve summary {mode!r}; use 'last' or 'auc'")
