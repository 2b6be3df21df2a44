"""A toy run whose right learning-rate schedule is known: a quadratic whose curvature doubles.

``f(x) = 0.5 * sum_i h_i(s) x_i^2`` in ``d`` dimensions with ``h_i(s) = H(s) * 100**(-i/(d-1))``
(condition number 100). ``H(s) = 1`` for optimizer steps ``s < switch`` and 2 from then on.
Plain gradient descent with step ``lr`` (plus ``weight_decay * x``) contracts direction ``i``
by ``|1 - lr * h_i|`` per step. The best constant step for curvatures in ``[m, M]`` is
``2 / (m + M)``; ``LR0 = 2 / 1.01`` is that before the switch and twice it after, so the right
schedule keeps ``LR0`` and halves it once, at the switch. Doubling diverges at any time, and
keeping ``LR0`` after the switch diverges (``|1 - 2 * LR0| = 2.96``).

``x_0`` is drawn from ``N(0, 1)`` with the run's seed; train loss, validation loss and test loss
are all ``f(x)``; accuracy is NaN.
"""

from __future__ import annotations

import math

import numpy as np

from hyperpilot.controllers.tasks import Interval

LR0 = 2.0 / 1.01


class QuadraticLoop:
    """Gradient descent on the switching quadratic (see the module docstring)."""

    def __init__(self, seed: int, switch: int = 150, d: int = 8) -> None:
        self.x = np.random.default_rng(seed).standard_normal(d)
        self.shape = 100.0 ** (-np.arange(d) / (d - 1))
        self.switch, self.step = switch, 0
        self.lr, self.wd = LR0, 0.0

    def set_hparams(self, lr: float, weight_decay: float, batch_size: int | None = None,
                    dropout: float | None = None) -> None:
        self.lr, self.wd = lr, weight_decay

    def _h(self) -> np.ndarray:
        return self.shape * (1.0 if self.step < self.switch else 2.0)

    def _f(self) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            v = float(0.5 * np.sum(self._h() * self.x ** 2))
        return v if math.isfinite(v) else math.inf

    def run(self, n_steps: int) -> Interval:
        losses, norms = [], []
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(n_steps):
                grad = self._h() * self.x
                losses.append(self._f())
                norms.append(float(np.linalg.norm(grad)))
                self.x = self.x - self.lr * (grad + self.wd * self.x)
                self.step += 1
        return Interval(self.step, float(np.mean(losses)), float(np.mean(norms)), self._f(),
                        math.nan)

    def evaluate(self, split: str) -> tuple[float, float]:
        return self._f(), math.nan
