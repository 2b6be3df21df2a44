"""The learning-curve model interface and the curve record it is trained on.

A curve is the history of one run: budgets ``t`` (epochs, steps, training-set size; any positive
unit, increasing), values ``y`` (larger is better) and, optionally, the run's config encoding ``x``
in the unit cube. A :class:`CurveModel` predicts the distribution of ``y`` at a later budget
``t_target`` from a prefix of one curve, optionally after :meth:`CurveModel.fit` on the curves of a
study (so other runs inform each prediction).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

FloatArray = np.ndarray


@dataclass(frozen=True)
class Curve:
    """One run's learning curve.

    Attributes:
        t: ``n`` budgets, positive and strictly increasing.
        y: ``n`` values, larger is better; finite.
        x: optional ``d`` config encoding in ``[0, 1]^d``.
    """

    t: FloatArray
    y: FloatArray
    x: FloatArray | None = field(default=None)

    @classmethod
    def make(cls, t: object, y: object, x: object | None = None) -> Curve:
        """Validate and convert array-likes into a :class:`Curve`."""
        tt, yy = check_prefix(t, y)
        xx = None if x is None else np.asarray(x, dtype=float).reshape(-1)
        return cls(tt, yy, xx)


CurveLike = Curve | tuple


def as_curve(c: CurveLike) -> Curve:
    """A :class:`Curve` from a Curve or a tuple ``(t, y)`` / ``(t, y, x)``."""
    if isinstance(c, Curve):
        return c
    if len(c) == 2:
        return Curve.make(c[0], c[1])
    return Curve.make(c[0], c[1], c[2])


def check_prefix(t: object, y: object) -> tuple[FloatArray, FloatArray]:
    """Validate a curve prefix: 1-d, same length >= 1, finite, ``t > 0`` strictly increasing."""
    tt = np.asarray(t, dtype=float).reshape(-1)
    yy = np.asarray(y, dtype=float).reshape(-1)
    if tt.size == 0 or tt.size != yy.size:
        raise ValueError(f"t and y must be non-empty and of equal length, got {tt.size}, {yy.size}")
    if not (np.all(np.isfinite(tt)) and np.all(np.isfinite(yy))):
        raise ValueError("t and y must be finite")
    if np.any(tt <= 0) or np.any(np.diff(tt) <= 0):
        raise ValueError("t must be positive and strictly increasing")
    return tt, yy


class CurveModel(abc.ABC):
    """Predicts the value of a curve at a later budget from its prefix.

    Subclasses implement :meth:`_predict` (and may override :meth:`_fit`); the public methods
    validate their inputs first. Predictions are Gaussian summaries ``(mean, std)`` of a possibly
    non-Gaussian predictive distribution; :meth:`sample` draws from the full distribution.
    """

    def fit(self, curves: Sequence[CurveLike]) -> CurveModel:
        """Learn from the (complete or partial) curves of a study.

        Args:
            curves: list of :class:`Curve` or tuples ``(t, y)`` / ``(t, y, x)``.

        Returns:
            ``self``.
        """
        self._fit([as_curve(c) for c in curves])
        return self

    def _fit(self, curves: list[Curve]) -> None:  # noqa: B027 - optional hook
        """Default: a model that needs no study data."""

    def predict(self, t: object, y: object, t_target: float,
                x: object | None = None) -> tuple[float, float]:
        """Predictive mean and standard deviation of ``y(t_target)``.

        Args:
            t: ``n`` budgets of the prefix, positive, strictly increasing.
            y: ``n`` values of the prefix (larger is better).
            t_target: the budget to predict at, ``>= t[-1]``.
            x: optional ``d`` config encoding in ``[0, 1]^d``.

        Returns:
            ``(mean, std)`` in the units of ``y``; ``std > 0``.
        """
        tt, yy, xx = self._check(t, y, t_target, x)
        return self._predict(tt, yy, float(t_target), xx)

    def sample(self, t: object, y: object, t_target: float, n_samples: int,
               x: object | None = None, seed: int = 0) -> FloatArray:
        """``n_samples`` draws of ``y(t_target)``; default: from the Gaussian of :meth:`predict`."""
        tt, yy, xx = self._check(t, y, t_target, x)
        return self._sample(tt, yy, float(t_target), xx, n_samples, np.random.default_rng(seed))

    def _sample(self, t: FloatArray, y: FloatArray, t_target: float, x: FloatArray | None,
                n_samples: int, rng: np.random.Generator) -> FloatArray:
        mean, std = self._predict(t, y, t_target, x)
        return mean + std * rng.standard_normal(n_samples)

    @abc.abstractmethod
    def _predict(self, t: FloatArray, y: FloatArray, t_target: float,
                 x: FloatArray | None) -> tuple[float, float]:
        """Validated inputs; see :meth:`predict`."""

    @staticmethod
    def _check(t: object, y: object, t_target: float,
               x: object | None) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        tt, yy = check_prefix(t, y)
        if not (np.isfinite(t_target) and t_target >= tt[-1]):
            raise ValueError(f"t_target must be finite and >= t[-1] = {tt[-1]}, got {t_target}")
        xx = None if x is None else np.asarray(x, dtype=float).reshape(-1)
        return tt, yy, xx
