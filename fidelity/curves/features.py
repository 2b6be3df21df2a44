"""Fixed-length features of a curve prefix, for models trained across the curves of a study."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fidelity.curves.base import Curve, FloatArray
from fidelity.curves.parametric import prefix_noise

N_PREFIX_FEATURES = 11


@dataclass(frozen=True)
class StudyStats:
    """Scales of a study's curves, fixed at fit time.

    Attributes:
        t_min, t_max: smallest and largest budget seen (budget units).
        y_lo, y_hi: 2nd and 98th percentiles of all values (units of y).
        scale: median range of a curve (units of y), ``> 0``.
        max_points: the longest curve's number of points.
    """

    t_min: float
    t_max: float
    y_lo: float
    y_hi: float
    scale: float
    max_points: int

    @classmethod
    def of(cls, curves: list[Curve]) -> StudyStats:
        ys = np.concatenate([c.y for c in curves])
        lo, hi = np.percentile(ys, [2, 98])
        ranges = [float(np.ptp(c.y)) for c in curves if np.ptp(c.y) > 0]
        scale = float(np.median(ranges)) if ranges else max(float(hi - lo), 1e-8)
        return cls(float(min(c.t[0] for c in curves)), float(max(c.t[-1] for c in curves)),
                   float(lo), float(max(hi, lo + 1e-12)), scale, max(c.t.size for c in curves))

    def row_scale(self, y: FloatArray) -> float:
        """Unit of a prefix's targets: its range, at least a tenth of the study's curve range."""
        return max(float(np.ptp(y)), 0.1 * self.scale)

    def log_time(self, t: float) -> float:
        """``log(t / t_min) / log(t_max / t_min)`` (0 at the first budget, 1 at the largest)."""
        return float(np.log(t / self.t_min) / max(np.log(self.t_max / self.t_min), 1e-12))


def prefix_features(t: FloatArray, y: FloatArray, t_target: float, st: StudyStats) -> FloatArray:
    """``N_PREFIX_FEATURES`` numbers describing a prefix relative to its study.

    Budgets as :meth:`StudyStats.log_time` (last seen, target, their gap); values as levels
    ``(y - y_lo) / (y_hi - y_lo)`` (last, mean of last 3, max, min); the slope over the last half
    and the noise in prefix-scale units; ``log`` of the prefix scale over the study scale; the
    number of points over the longest curve's.
    """
    s = st.row_scale(y)
    span = st.y_hi - st.y_lo
    k = max(1, y.size // 2)
    dlog = max(np.log(t[-1] / t[-k - 1]), 1e-12) if y.size > 1 else 1.0
    slope = (y[-1] - y[-k - 1]) / s / dlog if y.size > 1 else 0.0
    return np.array([
        st.log_time(t[-1]), st.log_time(t_target), st.log_time(t_target) - st.log_time(t[-1]),
        (y[-1] - st.y_lo) / span, (np.mean(y[-3:]) - st.y_lo) / span,
        (y.max() - st.y_lo) / span, (y.min() - st.y_lo) / span,
        slope, prefix_noise(y / s), np.log(s / st.scale), y.size / st.max_points,
    ])
