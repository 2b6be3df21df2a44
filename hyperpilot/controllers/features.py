"""The 8 state features of ``reinforce-lrwd``, each bounded to [-1, 1].

Every ratio is computed as ``log(max(a, eps) / max(b, eps))`` with non-finite inputs replaced
first (NaN or +inf loss -> ``BIG``, NaN gradient norm -> ``BIG``), so no feature is ever NaN and
``tanh`` or ``clip`` bounds it. Losses are in the task's own units (cross-entropy in nats, or MSE
on a standardised target); the ratios make them unitless, so one policy serves every task.

====  =====================  ==================================================================
 i    name                   formula
====  =====================  ==================================================================
 0    val loss level         ``tanh(log(L_t / L_0))``; ``L_0`` = validation loss at step 0
 1    learning rate          ``clip(log2(lr_t / lr_0) / 4, -1, 1)``: -1 at 1/16 of the start
 2    gradient-norm level    ``tanh(log(G_t / G_1))``; ``G_1`` = mean norm in the first interval
 3    weight decay           ``2 * wd_t / wd_max - 1``, with ``wd_t`` clipped to ``[0, wd_max]``
 4    val loss trend         ``tanh(5 * log(L_t / L_{t-1}))``: > 0 when validation loss rose
 5    train loss trend       ``tanh(5 * log(T_t / T_{t-1}))`` (mean minibatch loss per interval)
 6    gradient-norm trend    ``tanh(log(G_t / G_{t-1}))``
 7    progress               ``2 * t / n - 1``: -1 at the start, 1 after the last interval
====  =====================  ==================================================================
"""

from __future__ import annotations

import math

import numpy as np

from hyperpilot.controllers.tasks import Interval

N_FEATURES = 8
EPS = 1e-12
BIG = 1e12


def _pos(x: float) -> float:
    """``x`` made finite and positive: NaN / +inf -> ``BIG``, below ``EPS`` -> ``EPS``."""
    if not math.isfinite(x):
        return BIG if (math.isnan(x) or x > 0) else EPS
    return min(max(x, EPS), BIG)


def log_ratio(a: float, b: float) -> float:
    """``log(a / b)`` on positive, finite versions of both (never NaN, |value| <= 55.3)."""
    return math.log(_pos(a)) - math.log(_pos(b))


class LRWDFeatures:
    """Turns each interval's measurements into the 8-feature state (see the module table)."""

    def __init__(self, lr0: float, wd_max: float, n_intervals: int, first: Interval) -> None:
        self.lr0, self.wd_max, self.n = lr0, wd_max, n_intervals
        self.l0 = first.val_loss
        self.g1: float | None = None
        self.prev: Interval | None = None

    def __call__(self, iv: Interval, lr: float, wd: float, t: int) -> np.ndarray:
        """Features after interval ``t`` (1-based count of finished intervals).

        Returns:
            A float32 array of shape ``(8,)`` in [-1, 1].
        """
        if self.g1 is None:
            self.g1 = iv.grad_norm
        prev = self.prev or iv
        f = [
            math.tanh(log_ratio(iv.val_loss, self.l0)),
            float(np.clip(log_ratio(lr, self.lr0) / (4 * math.log(2)), -1.0, 1.0)),
            math.tanh(log_ratio(iv.grad_norm, self.g1)),
            2.0 * min(max(wd if math.isfinite(wd) else 0.0, 0.0), self.wd_max) / self.wd_max - 1.0,
            math.tanh(5.0 * log_ratio(iv.val_loss, prev.val_loss)),
            math.tanh(5.0 * log_ratio(iv.train_loss, prev.train_loss)),
            math.tanh(log_ratio(iv.grad_norm, prev.grad_norm)),
            float(np.clip(2.0 * t / self.n - 1.0, -1.0, 1.0)),
        ]
        self.prev = iv
        return np.asarray(f, dtype=np.float32)
