"""Population-based training arithmetic (Jaderberg et al. 2017): who is exploited, and perturbation.

Pure functions on losses ("smaller is better"; ``inf`` for a failed member) and numbers; the
method in ``hyperpilot.methods.pbt`` holds the population and the checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NumRange:
    """A numeric hyperparameter's range: ``[low, high]``, log-scaled or not, integer or not."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


def truncation(losses: Sequence[float], quantile: float = 0.25) -> tuple[list[int], list[int]]:
    """Truncation selection: ``(bottom, top)`` member indices.

    The ``floor(quantile * n)`` (at least 1 when ``n >= 2``) worst members are the bottom, the as
    many best the top; ties go to the lower index (so the result never depends on order of
    arrival). A failed member (``inf`` or NaN loss) is always in the bottom unless it is in the
    top, which happens only when fewer than ``k`` members succeeded (the caller decides then).

    Args:
        losses: one loss per member, ``n`` of them.
        quantile: the fraction exploited and the fraction copied, in ``(0, 0.5]``.

    Returns:
        ``(bottom, top)``, each sorted by loss (worst first for the bottom, best first for the top).
    """
    if not 0 < quantile <= 0.5:
        raise ValueError(f"quantile must be in (0, 0.5], got {quantile}")
    n = len(losses)
    if n < 2:
        return [], []
    key = [x if math.isfinite(x) else math.inf for x in losses]
    order = sorted(range(n), key=lambda i: (key[i], i))
    k = max(1, int(math.floor(quantile * n)))
    top = order[:k]
    bottom = [i for i in reversed(order) if i not in top and (i in order[n - k:]
                                                              or not math.isfinite(key[i]))]
    return bottom, top


def exploit_pairs(losses: Sequence[float], rng: np.random.Generator,
                  quantile: float = 0.25) -> dict[int, int]:
    """``{bottom member: top member it copies}``; each bottom member draws a top one uniformly."""
    bottom, top = truncation(losses, quantile)
    return {i: int(top[int(rng.integers(len(top)))]) for i in bottom} if top else {}


def perturb_number(v: float, r: NumRange, factor: float) -> float:
    """``v * factor`` clipped to the range (an integer rounds, and moves by at least 1 step).

    Multiplicative for every numeric parameter (as the paper, and Ray Tune, do); on a log scale
    that is a step of ``log(factor)``. A linear parameter at 0 stays at 0 (resampling moves it).
    """
    x = v * factor
    if r.integer:
        step = round(x)
        if step == round(v):
            step = round(v) + (1 if factor > 1 else -1)
        x = float(step)
    return float(min(max(x, r.low), r.high))


def sample_number(r: NumRange, rng: np.random.Generator) -> float:
    """A uniform draw in the range (log-uniform on a log scale; integers rounded)."""
    if r.log:
        x = float(math.exp(rng.uniform(math.log(r.low), math.log(r.high))))
    else:
        x = float(rng.uniform(r.low, r.high))
    return float(min(max(round(x), r.low), r.high)) if r.integer else x


def explore(values: dict[str, float], ranges: dict[str, NumRange], rng: np.random.Generator,
            resample_probability: float = 0.25,
            factors: tuple[float, float] = (0.8, 1.2)) -> tuple[dict[str, float], dict[str, str]]:
    """PBT's explore step for numeric parameters, in the order of ``ranges``.

    Each parameter is resampled with probability ``resample_probability``, else multiplied by a
    factor drawn uniformly from ``factors`` and clipped.

    Returns:
        ``(new values, how)`` where ``how[name]`` is ``"resample"``, ``"x0.8"`` or ``"x1.2"``.
    """
    out, how = dict(values), {}
    for name, r in ranges.items():
        if name not in values:
            continue
        if rng.random() < resample_probability:
            out[name], how[name] = sample_number(r, rng), "resample"
        else:
            f = float(factors[int(rng.integers(len(factors)))])
            out[name], how[name] = perturb_number(float(values[name]), r, f), f"x{f:g}"
    return out, how


def boundaries(max_budget: float, interval: float) -> list[float]:
    """The ends of the ready intervals: ``interval, 2 * interval, ...``, the last one ``max_budget``."""
    if not (interval > 0 and math.isfinite(interval)):
        raise ValueError(f"interval must be a finite number > 0, got {interval}")
    n = max(1, math.ceil(max_budget / interval - 1e-9))
    return [min((k + 1) * interval, max_budget) for k in range(n)]
