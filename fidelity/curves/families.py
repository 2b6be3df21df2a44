"""Curve shapes of Domhan et al. (2015), each written as ``z = B(u; phi) @ theta``.

``u = t / t_0 >= 1`` (budget over the first budget of the prefix, Domhan's "epoch") and
``v = t / t_last`` (budget over the last budget seen). Every family is linear in ``theta`` given its
shape parameters ``phi`` (all positive; optimised in log space), so a grid over ``phi`` with a batched
least-squares solve for ``theta`` gives robust starting points (variable projection).

Equivalences (so they are not listed twice): Weibull ``a - b exp(-(k u)^d)`` and exp4
``c - exp(-a u^d + b)`` are Janoschek reparametrised; log-power ``a / (1 + (u / e^b)^-c)`` is MMF
up to the constant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Basis = Callable[[np.ndarray, np.ndarray, float], np.ndarray]
"""``(u: m x n, phi: m x q, u_last) -> m x n x k`` basis columns."""


@dataclass(frozen=True)
class Family:
    """One curve shape.

    Attributes:
        name: short name (Domhan et al.'s where they exist).
        k: number of linear coefficients ``theta``.
        basis: see :data:`Basis`.
        phi_grid: ``m x q`` grid of positive shape parameters (``q = 0`` for linear families).
        phi_lo, phi_hi: ``q`` bounds of the shape parameters.
    """

    name: str
    k: int
    basis: Basis
    phi_grid: np.ndarray
    phi_lo: np.ndarray
    phi_hi: np.ndarray

    @property
    def n_params(self) -> int:
        return self.k + self.phi_grid.shape[1]


def _grid(*axes: np.ndarray) -> np.ndarray:
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)


def _one(u: np.ndarray) -> np.ndarray:
    return np.ones_like(u)


def _pow3(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), -u ** -phi[:, :1]], axis=-1)


def _pow4(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), -(u + phi[:, :1] * ul) ** -phi[:, 1:2]], axis=-1)


def _exp3(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), -np.exp(-phi[:, :1] * u / ul)], axis=-1)


def _janoschek(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), -np.exp(-phi[:, :1] * (u / ul) ** phi[:, 1:2])], axis=-1)


def _mmf(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), -1.0 / (1.0 + (phi[:, :1] * u / ul) ** phi[:, 1:2])], axis=-1)


def _loglinear(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), np.log(u)], axis=-1)


def _ilog2(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), -1.0 / np.log(u + 1.0)], axis=-1)


def _vapor(u: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    return np.stack([_one(u), 1.0 / u, np.log(u)], axis=-1)


_NONE = np.zeros((1, 0))
_E = np.zeros(0)

FAMILIES: tuple[Family, ...] = (
    Family("pow3", 2, _pow3, _grid(np.geomspace(0.02, 3.0, 24)), np.array([0.01]), np.array([5.0])),
    Family("pow4", 2, _pow4, _grid(np.geomspace(0.01, 3.0, 6), np.geomspace(0.05, 3.0, 10)),
           np.array([1e-3, 0.01]), np.array([30.0, 8.0])),
    Family("exp3", 2, _exp3, _grid(np.geomspace(0.05, 30.0, 24)), np.array([1e-3]),
           np.array([100.0])),
    Family("janoschek", 2, _janoschek, _grid(np.geomspace(0.05, 20.0, 10), np.geomspace(0.2, 3.0, 8)),
           np.array([1e-3, 0.05]), np.array([100.0, 8.0])),
    Family("mmf", 2, _mmf, _grid(np.geomspace(0.1, 30.0, 10), np.geomspace(0.2, 4.0, 8)),
           np.array([1e-3, 0.05]), np.array([300.0, 10.0])),
    Family("loglinear", 2, _loglinear, _NONE, _E, _E),
    Family("ilog2", 2, _ilog2, _NONE, _E, _E),
    Family("vapor", 3, _vapor, _NONE, _E, _E),
)
"""The members of the parametric ensemble (besides the flat "last value" member)."""


def evaluate(fam: Family, u: np.ndarray, theta: np.ndarray, phi: np.ndarray, ul: float) -> np.ndarray:
    """``z(u)`` for one parameter vector: ``u`` is ``n``, returns ``n``."""
    b = fam.basis(u[None, :], phi.reshape(1, -1), ul)[0]
    return b @ theta


def grid_fit(fam: Family, u: np.ndarray, z: np.ndarray, ul: float,
             ridge: float = 1e-8) -> tuple[np.ndarray, np.ndarray, float]:
    """Best ``(theta, phi, rss)`` of ``fam`` over its shape grid (batched least squares)."""
    grid = fam.phi_grid
    b = fam.basis(np.broadcast_to(u, (grid.shape[0], u.size)), grid, ul)  # m x n x k
    bt = np.swapaxes(b, 1, 2)
    a = bt @ b + ridge * np.eye(fam.k)
    theta = np.linalg.solve(a, bt @ z[None, :, None])[..., 0]  # m x k
    rss = np.sum((np.einsum("mnk,mk->mn", b, theta) - z) ** 2, axis=1)
    rss = np.where(np.isfinite(rss), rss, np.inf)
    i = int(np.argmin(rss))
    return theta[i], grid[i], float(rss[i])


def zoom_fit(fam: Family, u: np.ndarray, z: np.ndarray, ul: float,
             rounds: int = 2) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`grid_fit`, then ``rounds`` finer local grids (in log phi) around the best point.

    Each round uses 7 points per shape dimension spanning one coarse step either side, clipped to
    ``[phi_lo, phi_hi]``; this replaces a local optimiser at a fraction of its cost.
    """
    theta, phi, rss = grid_fit(fam, u, z, ul)
    q = phi.size
    if q == 0:
        return theta, phi, rss
    axes0 = [np.log(np.unique(fam.phi_grid[:, j])) for j in range(q)]
    step = np.array([np.ptp(a) / max(a.size - 1, 1) for a in axes0])
    for _ in range(rounds):
        axes = [np.clip(np.exp(np.log(phi[j]) + np.linspace(-step[j], step[j], 7)),
                        fam.phi_lo[j], fam.phi_hi[j]) for j in range(q)]
        local = Family(fam.name, fam.k, fam.basis, _grid(*axes), fam.phi_lo, fam.phi_hi)
        th, ph, r = grid_fit(local, u, z, ul)
        if r <= rss:
            theta, phi, rss = th, ph, r
        step = step / 3.0
    return theta, phi, rss
