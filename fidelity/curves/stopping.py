"""Stop a run early when its curve model says it will probably not beat the incumbent."""

from __future__ import annotations

import math

from fidelity.curves.base import CurveModel, check_prefix


def prob_better(mean: float, std: float, incumbent: float,
                bounds: tuple[float, float] | None = None) -> float:
    """``P(Y > incumbent)`` for ``Y ~ N(mean, std^2)`` (larger is better); a step for ``std = 0``.

    With ``bounds = (lo, hi)`` (a bounded metric: an accuracy, an episode return) ``Y`` is the
    Gaussian truncated to ``[lo, hi]``: no probability is given to values the metric cannot
    take, so an incumbent at ``hi`` cannot be beaten.
    """
    if not (math.isfinite(mean) and math.isfinite(incumbent)) or std < 0:
        raise ValueError(f"need finite mean/incumbent and std >= 0, got {mean}, {std}, {incumbent}")
    if bounds is not None:
        return _truncated(mean, std, incumbent, *bounds)
    if std == 0:
        return 1.0 if mean > incumbent else 0.0
    return 0.5 * math.erfc((incumbent - mean) / (std * math.sqrt(2.0)))


def _truncated(mean: float, std: float, incumbent: float, lo: float, hi: float) -> float:
    if not lo < hi:
        raise ValueError(f"bounds need lo < hi, got {lo}, {hi}")
    if incumbent >= hi:
        return 0.0
    if incumbent < lo:
        return 1.0
    cdf = [prob_better(mean, std, x) for x in (lo, incumbent, hi)]  # P(Y > x)
    mass = cdf[0] - cdf[2]
    if mass <= 1e-12:  # (almost) all of the Gaussian lies outside: its nearest bound
        return 1.0 if min(max(mean, lo), hi) > incumbent else 0.0
    return (cdf[1] - cdf[2]) / mass


class CurveStopper:
    """Stop when ``P(final better than incumbent) < threshold`` for ``patience`` checks in a row.

    Guards: never stop before ``t[-1] >= min_fraction * t_target`` and ``len(t) >= min_points``,
    and never without an incumbent. ``patience`` counts consecutive low-probability checks of the
    same run; call :meth:`reset` between runs (or use one stopper per run).

    Args:
        model: any :class:`CurveModel` (fitted if it needs to be).
        threshold: stop below this probability, in ``[0, 1]``.
        min_fraction: smallest share of the target budget seen before stopping, in ``[0, 1]``.
        min_points: fewest curve points seen before stopping.
        patience: consecutive checks below ``threshold`` needed to stop, ``>= 1``.
        bounds: ``(lo, hi)`` the metric cannot leave (larger is better), or None.
    """

    def __init__(self, model: CurveModel, threshold: float = 0.05, min_fraction: float = 0.1,
                 min_points: int = 3, patience: int = 1,
                 bounds: tuple[float, float] | None = None) -> None:
        if not 0.0 <= threshold <= 1.0 or not 0.0 <= min_fraction <= 1.0:
            raise ValueError("threshold and min_fraction must be in [0, 1]")
        if patience < 1 or min_points < 1:
            raise ValueError("patience and min_points must be >= 1")
        self.model, self.threshold = model, threshold
        self.min_fraction, self.min_points, self.patience = min_fraction, min_points, patience
        self.bounds = bounds
        self._low = 0

    def reset(self) -> None:
        """Forget the patience count (start of a new run)."""
        self._low = 0

    def should_stop(self, t: object, y: object, t_target: float,
                    incumbent: float | None, x: object | None = None) -> tuple[bool, float]:
        """Decide for one run from its curve so far.

        Args:
            t: ``n`` budgets seen so far; y: ``n`` values (larger is better).
            t_target: the run's full budget.
            incumbent: best final value so far (None: nothing to beat, never stop).
            x: optional config encoding passed to the model.

        Returns:
            ``(stop, prob)``: ``prob = P(final > incumbent)`` (``nan`` when a guard skipped the model).
        """
        tt, yy = check_prefix(t, y)
        if incumbent is None or tt.size < self.min_points or tt[-1] < self.min_fraction * t_target:
            return False, float("nan")
        mean, std = self.model.predict(tt, yy, t_target, x)
        prob = prob_better(mean, std, float(incumbent), self.bounds)
        self._low = self._low + 1 if prob < self.threshold else 0
        return bool(self._low >= self.patience), prob

__all__ = ["CurveStopper", "prob_better"]
