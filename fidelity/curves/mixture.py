"""A one-dimensional Gaussian mixture: the predictive distribution of a curve's final value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mixture:
    """``sum_k weights[k] * N(means[k], sds[k]^2)``.

    Attributes:
        weights: ``K`` non-negative weights summing to 1.
        means: ``K`` component means.
        sds: ``K`` positive component standard deviations.
        names: ``K`` component labels (e.g. curve family names).
    """

    weights: np.ndarray
    means: np.ndarray
    sds: np.ndarray
    names: tuple[str, ...] = ()

    def mean_std(self) -> tuple[float, float]:
        """Mean and standard deviation of the mixture (law of total variance)."""
        mean = float(self.weights @ self.means)
        var = float(self.weights @ (self.sds ** 2 + (self.means - mean) ** 2))
        return mean, float(np.sqrt(max(var, 1e-300)))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws."""
        k = rng.choice(self.weights.size, size=n, p=self.weights)
        return self.means[k] + self.sds[k] * rng.standard_normal(n)

    def scaled(self, c: float) -> Mixture:
        """The mixture stretched by ``c > 0`` about its mean (its std is multiplied by ``c``)."""
        mean, _ = self.mean_std()
        return Mixture(self.weights, mean + c * (self.means - mean), c * self.sds, self.names)
