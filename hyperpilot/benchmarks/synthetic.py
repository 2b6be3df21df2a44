"""Synthetic multi-fidelity Branin and Hartmann-6 with known optima.

Both follow Kandasamy et al. (2017), "Multi-fidelity Bayesian Optimisation with Continuous
Approximations" (BOCA, ICML), Appendix: with a scalar fidelity ``z`` in ``[0, 1]``,

* Branin: ``f(x, z) = a (x2 - b(z) x1^2 + c(z) x1 - r)^2 + s (1 - t(z)) cos(x1) + s`` with
  ``a = 1, r = 6, s = 10``, ``b(z) = 5.1 / (4 pi^2) - 0.01 (1 - z)``, ``c(z) = 5 / pi - 0.1 (1 - z)``,
  ``t(z) = 1 / (8 pi) + 0.05 (1 - z)``; ``x1`` in ``[-5, 10]``, ``x2`` in ``[0, 15]``.
* Hartmann-6: ``f(x, z) = -sum_i alpha'_i(z) exp(-sum_j A_ij (x_j - P_ij)^2)`` with
  ``alpha'(z) = alpha - 0.1 (1 - z)``, ``alpha = (1.0, 1.2, 3.0, 3.2)``; ``x`` in ``[0, 1]^6``.

At ``z = 1`` these are the standard functions: Branin's minimum is 0.397887 (at ``(-pi, 12.275)``,
``(pi, 2.275)``, ``(9.42478, 2.475)``), Hartmann-6's is -3.32237 (at
``(0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)``).

Fidelity: budget in ``[1, 81]`` (``eta = 3``, five Hyperband rungs), mapped to
``z = log(budget / min) / log(max / min)`` (log scale, so each Hyperband rung is an equal step in z).
Cost = budget units (``budget - resume_budget``). Observation noise: Gaussian with std
``noise_std`` (0 for the registered benchmarks), seeded by ``(seed, budget)`` so a repeated call,
and the same budget on the curve, give the same noisy value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hyperpilot.benchmarks.base import Benchmark, Evaluation
from hyperpilot.space import Config, Float, SearchSpace
from hyperpilot.trial import Fidelity

SYNTHETIC_FIDELITY = Fidelity(min=1, max=81, eta=3)
BRANIN_OPTIMUM = 0.397887
BRANIN_ARGMIN = ((-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475))
HARTMANN6_OPTIMUM = -3.32237
HARTMANN6_ARGMIN = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)

_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]], dtype=float)
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]],
                        dtype=float)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def branin_mf(x: np.ndarray, z: float | np.ndarray) -> np.ndarray:
    """Multi-fidelity Branin (BOCA). ``x``: ``n x 2``; ``z``: scalar or ``n`` in ``[0, 1]``; returns ``n``."""
    x1, x2 = x[:, 0], x[:, 1]
    w = 1.0 - np.asarray(z, dtype=float)
    b = 5.1 / (4 * math.pi**2) - 0.01 * w
    c = 5 / math.pi - 0.1 * w
    t = 1 / (8 * math.pi) + 0.05 * w
    return (x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1 - t) * np.cos(x1) + 10.0


def hartmann6_mf(x: np.ndarray, z: float | np.ndarray) -> np.ndarray:
    """Multi-fidelity Hartmann-6 (BOCA). ``x``: ``n x 6``; ``z``: scalar or ``n``; returns ``n``."""
    alpha = _H6_ALPHA[None, :] - 0.1 * (1.0 - np.asarray(z, dtype=float)).reshape(-1, 1)
    inner = np.einsum("ij,nij->ni", _H6_A, (x[:, None, :] - _H6_P[None]) ** 2)
    return -np.sum(alpha * np.exp(-inner), axis=1)


@dataclass
class SyntheticBenchmark(Benchmark):
    """A closed-form ``fn(x, z)`` over a box of ``Float`` parameters (in the space's order).

    ``fn`` maps an ``n x d`` array and fidelities ``z`` (scalar or ``n``) in ``[0, 1]`` to ``n``
    values to minimize.
    """

    fn: Callable[[np.ndarray, float | np.ndarray], np.ndarray] = branin_mf
    noise_std: float = 0.0
    n_curve_points: int = 4

    def z(self, budget: float | np.ndarray) -> np.ndarray:
        """Fidelity in ``[0, 1]``: ``log(budget / min) / log(max / min)``, clipped."""
        f = self.fidelity
        b = np.maximum(np.asarray(budget, dtype=float), f.min)
        return np.clip(np.log(b / f.min) / math.log(f.max / f.min), 0.0, 1.0)

    @property
    def noisy(self) -> bool:
        return self.noise_std > 0

    def _evaluate(self, config: Config, budget: float, resume_budget: float, seed: int) -> Evaluation:
        budgets = curve_budgets(resume_budget, budget, self.fidelity.min, self.n_curve_points)
        x = np.array([[config[n] for n in self.space.names]], dtype=float)
        vals = self.fn(np.repeat(x, len(budgets), axis=0), self.z(budgets))
        if self.noise_std > 0:
            vals = vals + self.noise_std * np.array([_noise(seed, b) for b in budgets])
        curve = [(float(b), float(v)) for b, v in zip(budgets, vals, strict=True) if b > resume_budget]
        return float(vals[-1]), curve, budget - resume_budget


def curve_budgets(resume_budget: float, budget: float, min_budget: float, k: int) -> np.ndarray:
    """Up to ``k`` geometrically spaced budgets in ``(resume_budget, budget]``, ending at ``budget``."""
    lo = max(resume_budget, min(min_budget, budget))
    if budget <= lo:
        return np.array([budget])
    # from scratch the curve starts at min_budget; when resuming, strictly after resume_budget
    pts = np.geomspace(lo, budget, k + 1)[1:] if resume_budget >= lo else np.geomspace(lo, budget, k)
    pts[-1] = budget
    return np.unique(pts[pts > resume_budget])


def _noise(seed: int, budget: float) -> float:
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(round(budget * 1e6))])
    return float(np.random.default_rng(ss).standard_normal())


def make_branin(noise_std: float = 0.0, seed: int = 0) -> SyntheticBenchmark:
    """Multi-fidelity Branin on ``x1 in [-5, 10], x2 in [0, 15]``, budget 1..81."""
    space = SearchSpace({"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)})
    return SyntheticBenchmark("branin", space, SYNTHETIC_FIDELITY, BRANIN_OPTIMUM,
                              "known analytic minimum of Branin at z = 1 (budget 81)", False,
                              seed, branin_mf, noise_std)


def make_hartmann6(noise_std: float = 0.0, seed: int = 0) -> SyntheticBenchmark:
    """Multi-fidelity Hartmann-6 on ``[0, 1]^6``, budget 1..81."""
    space = SearchSpace({f"x{i}": Float(0.0, 1.0) for i in range(1, 7)})
    return SyntheticBenchmark("hartmann6", space, SYNTHETIC_FIDELITY, HARTMANN6_OPTIMUM,
                              "known analytic minimum of Hartmann-6 at z = 1 (budget 81)", False,
                              seed, hartmann6_mf, noise_std)
