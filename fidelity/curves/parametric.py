"""Parametric learning-curve ensemble (Domhan et al. 2015) with a Laplace approximation.

Per prefix: normalise (``u = t / t_0``; ``z = (y - y_last) / s`` with ``s`` the prefix's range), fit
every family of :mod:`fidelity.curves.families` by variable projection on coarse-to-fine grids,
approximate each member's parameter posterior by a Laplace (Gauss-Newton) Gaussian under a weak
prior, and add a "flat" member (last value plus noise and a drift that grows with
``log(t_target / t_last)``). Members are weighted by their predictive log likelihood on the held-out
last points of the prefix (uniform for short prefixes) and combined into a Gaussian mixture whose
standard deviation is multiplied by a calibration factor. No MCMC: a prediction costs milliseconds.
"""

from __future__ import annotations

import numpy as np

from fidelity.curves.base import Curve, CurveModel, FloatArray
from fidelity.curves.families import FAMILIES, Family, evaluate, zoom_fit
from fidelity.curves.mixture import Mixture

_Z90 = 1.6448536269514722
_ZMAX = 10.0  # members predicting |z| beyond this (prefix ranges from the last value) are dropped
_THETA_SD = 10.0  # weak Gaussian prior on the linear coefficients (z units)
_LOGPHI_SD = 2.0  # and on the log shape parameters


def prefix_noise(z: FloatArray) -> float:
    """Robust noise sd of a sequence from its second differences (MAD; 0 for fewer than 4 points)."""
    if z.size < 4:
        return 0.0
    d2 = np.diff(z, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


class _Fit:
    """One fitted member: parameters ``p = (theta, log phi)``, Laplace covariance, noise var."""

    def __init__(self, fam: Family, u: FloatArray, z: FloatArray, ul: float, noise2: float,
                 refine: bool) -> None:
        self.fam, self.ul = fam, ul
        theta, phi, _ = zoom_fit(fam, u, z, ul, rounds=2 if refine else 0)
        p = np.concatenate([theta, np.log(phi)])
        q = phi.size
        r = self.f(u, p) - z
        n = u.size
        self.p = p
        self.s2 = max(float(r @ r) / max(n - p.size, 1), noise2, 1e-8)
        jac = self._jac(u, p)
        prior = np.concatenate([np.full(fam.k, _THETA_SD ** -2), np.full(q, _LOGPHI_SD ** -2)])
        self.cov = np.linalg.inv(jac.T @ jac / self.s2 + np.diag(prior))

    def f(self, u: FloatArray, p: FloatArray) -> FloatArray:
        k = self.fam.k
        return evaluate(self.fam, u, p[:k], np.exp(p[k:]), self.ul)

    def _jac(self, u: FloatArray, p: FloatArray, eps: float = 1e-6) -> FloatArray:
        cols = []
        for i in range(p.size):
            dp = np.zeros_like(p)
            dp[i] = eps * max(1.0, abs(p[i]))
            cols.append((self.f(u, p + dp) - self.f(u, p - dp)) / (2 * dp[i]))
        return np.stack(cols, axis=1)

    def predict(self, u: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Predictive mean and variance (z units) at budgets ``u`` (``m``)."""
        g = self._jac(u, self.p)
        var = np.einsum("mi,ij,mj->m", g, self.cov, g) + self.s2
        return self.f(u, self.p), var


class ParametricCurveModel(CurveModel):
    """Weighted mixture of Domhan et al.'s curve families plus a flat member.

    Args:
        seed: seeds the choice of calibration curves in :meth:`fit`; predictions are deterministic.
        std_scale: factor on the mixture's standard deviation (1.0 = raw Laplace) before, or
            without, a calibrating :meth:`fit`.
        drift: sd of the flat member's drift per unit of ``log(t_target / t_last)``, in prefix ranges.
        temperature: multiplies the held-out mean log likelihood before the softmax of the weights.
        member_drift: the same for every fitted member (model misspecification).
        min_scale: the prefix scale is at least this fraction of the study's (or fallback) scale.
        min_holdout_points: prefixes of at least this many points weight members by held-out points.
        calibrate: let :meth:`fit` set the std factor from the study's curves.
        calibration_curves: at most this many curves are used to calibrate.
    """

    def __init__(self, seed: int = 0, std_scale: float = 1.3, drift: float = 0.5,
                 member_drift: float = 0.1, min_scale: float = 0.2, temperature: float = 1.0,
                 min_holdout_points: int = 6, calibrate: bool = True,
                 calibration_curves: int = 40) -> None:
        self.seed = seed
        self.calibrate, self.calibration_curves = calibrate, calibration_curves
        self.fitted_std_scale: float | None = None
        self.member_drift = member_drift
        self.min_scale = min_scale
        self.std_scale = std_scale
        self.drift = drift
        self.temperature = temperature
        self.min_holdout_points = min_holdout_points
        self.study_scale: float | None = None

    def _fit(self, curves: list[Curve]) -> None:
        """Learn the study's curve scale and, with ``calibrate``, its std calibration factor.

        The scale is the median range of a curve (used for one-point and flat prefixes). The factor
        makes 90% intervals cover 90% of the study's own curves: up to ``calibration_curves``
        curves with at least 5 points are cut at 10, 20, 30 and 50% of their length, their last
        value is predicted and the factor is the 0.9-quantile of ``|z|`` over 1.645 (``z`` with
        the factor 1), clipped to ``[0.2, 5]``; fewer than 20 such cuts keep ``std_scale``.
        """
        ranges = [float(np.ptp(c.y)) for c in curves if c.y.size > 1]
        ranges = [r for r in ranges if r > 0]
        self.study_scale = float(np.median(ranges)) if ranges else None
        self.fitted_std_scale = None
        if not self.calibrate:
            return
        rng = np.random.default_rng(self.seed)
        long = [c for c in curves if c.t.size >= 5]
        z = []
        for i in rng.permutation(len(long))[: self.calibration_curves]:
            c = long[i]
            for f in (0.1, 0.2, 0.3, 0.5):
                k = max(1, int(round(f * c.t.size)))
                mean, std = self._raw(c.t[:k], c.y[:k], float(c.t[-1])).mean_std()
                z.append(abs(c.y[-1] - mean) / std)
        if len(z) >= 20:
            self.fitted_std_scale = float(np.clip(np.quantile(z, 0.9) / _Z90, 0.2, 5.0))

    @property
    def std_factor(self) -> float:
        """The factor in use: the fitted calibration if any, else ``std_scale``."""
        return self.std_scale if self.fitted_std_scale is None else self.fitted_std_scale

    def _scale(self, y: FloatArray) -> float:
        fallback = self.study_scale if self.study_scale else 0.1 * max(abs(float(y[-1])), 1.0)
        if y.size == 1:
            return fallback
        return max(float(np.ptp(y)), self.min_scale * fallback)

    def mixture(self, t: FloatArray, y: FloatArray, t_target: float) -> Mixture:
        """The calibrated predictive mixture of ``y(t_target)`` in units of ``y`` (validated inputs)."""
        return self._raw(t, y, t_target).scaled(self.std_factor)

    def _raw(self, t: FloatArray, y: FloatArray, t_target: float) -> Mixture:
        s = self._scale(y)
        u, z, ut = t / t[0], (y - y[-1]) / s, t_target / t[0]
        means, sds, names, logw = self._members(u, z, ut)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        return Mixture(w, y[-1] + s * means, s * sds, tuple(names))

    def _members(self, u: FloatArray, z: FloatArray,
                 ut: float) -> tuple[FloatArray, FloatArray, list[str], FloatArray]:
        n, noise2 = u.size, prefix_noise(z) ** 2
        h = max(1, int(round(0.2 * n)))
        use_holdout = n >= self.min_holdout_points
        gap2 = np.log(ut / u[-1]) ** 2
        flat_var = noise2 + self.drift ** 2 * gap2 + 1e-8
        means, vars_, names = [0.0], [flat_var], ["flat"]
        logw = [self._flat_holdout(u, z, h, noise2) if use_holdout else 0.0]
        for fam in FAMILIES:
            if n < fam.n_params + 1:
                continue
            m, v = _Fit(fam, u, z, u[-1], noise2, refine=True).predict(np.array([ut]))
            if not (np.isfinite(m[0]) and np.isfinite(v[0]) and abs(m[0]) <= _ZMAX):
                continue
            lw = self._holdout(fam, u, z, h, noise2) if use_holdout else 0.0
            means.append(float(m[0]))
            vars_.append(float(min(v[0] + self.member_drift ** 2 * gap2, _ZMAX ** 2)))
            names.append(fam.name)
            logw.append(lw)
        return np.array(means), np.sqrt(vars_), names, self.temperature * np.array(logw)

    def _holdout(self, fam: Family, u: FloatArray, z: FloatArray, h: int, noise2: float) -> float:
        """Mean log likelihood of the last ``h`` points under a fit to the others."""
        if u.size - h < fam.n_params + 1:
            return -np.inf
        fit = _Fit(fam, u[:-h], z[:-h], u[-h - 1], noise2, refine=True)
        m, v = fit.predict(u[-h:])
        ll = -0.5 * (np.log(2 * np.pi * v) + (z[-h:] - m) ** 2 / v)
        return float(np.mean(ll)) if np.all(np.isfinite(ll)) else -np.inf

    def _flat_holdout(self, u: FloatArray, z: FloatArray, h: int, noise2: float) -> float:
        v = noise2 + (self.drift * np.log(u[-h:] / u[-h - 1])) ** 2 + 1e-8
        ll = -0.5 * (np.log(2 * np.pi * v) + (z[-h:] - z[-h - 1]) ** 2 / v)
        return float(np.mean(ll))

    def _predict(self, t: FloatArray, y: FloatArray, t_target: float,
                 x: FloatArray | None) -> tuple[float, float]:
        return self.mixture(t, y, t_target).mean_std()

    def _sample(self, t: FloatArray, y: FloatArray, t_target: float, x: FloatArray | None,
                n_samples: int, rng: np.random.Generator) -> FloatArray:
        return self.mixture(t, y, t_target).sample(n_samples, rng)
