"""Output warping: standardise, Yeo-Johnson power transform, standardise again.

Hyperparameter-optimisation targets are skewed: a few diverged configs (LCBench's near-chance
error rates, failed boosters) sit far below the rest, and a Gaussian fit of the raw values spends
its capacity on them. HEBO (Cowen-Rivers et al. 2022) warps the outputs with a power transform
fitted by maximum likelihood; a surrogate then models ``u = warp(y)`` and maps its posterior
samples back with the exact inverse, so every sample is in the caller's units (the pushforward
of the warped posterior, not a moment approximation). The map is strictly increasing.

A Gaussian posterior in warped units has a heavy tail in the caller's: with ``lam`` near 0 a
sample a few standard deviations above the data maps to an astronomically large value (seen on
Hartmann-6: a posterior mean of 6e20), and such samples would dominate expected improvement. So
the inverse is bounded: a sample maps to at most one observed range beyond the observed values
(``[y_min - R, y_max + R]``, ``R = y_max - y_min``), clamped in warped units before inverting.

``lam`` is kept in ``LAMBDA_RANGE``, never below 0. With ``lam < 0`` the transform of the values
above the mean is bounded (by ``-1/lam``): it squeezes the best configurations, larger being
better, into a narrow warped band, so a small error there becomes a large one in the caller's
units. Hartmann-6 at n = 1000 fits ``lam = -0.86``; the Laplace MLP then predicted the best
held-out points at the inverse's bound, twice the best value (held-out RMSE 0.51, NLL 4e10);
with ``lam >= 0``: RMSE 0.049, NLL -1.98. LCBench fits ``lam > 1`` and is unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.models.transforms.outcome import OutcomeTransform
from botorch.posteriors import Posterior
from botorch.posteriors.transformed import TransformedPosterior
from scipy import stats
from torch import Tensor

_TINY = 1e-12
LAMBDA_RANGE = (0.0, 5.0)
"""The Yeo-Johnson ``lam`` allowed: never saturating the good end (module docstring)."""


class OutputWarp:
    """``u = (yj((y - m1) / s1; lam) - m2) / s2`` with ``lam`` by maximum likelihood.

    Args:
        enabled: With False the warp is plain standardisation (``lam = 1`` is the identity).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.m1, self.s1, self.lam, self.m2, self.s2 = 0.0, 1.0, 1.0, 0.0, 1.0
        self.u_lo, self.u_hi = -float("inf"), float("inf")  # the bounded inverse's range

    def fit(self, y: Tensor) -> OutputWarp:
        """Fit on ``n`` (or ``n x 1``) values, larger is better; returns ``self``."""
        v = y.detach().reshape(-1).to(torch.float64)
        self.m1 = float(v.mean())
        self.s1 = max(float(v.std()), 1e-9) if v.numel() > 1 else 1.0
        z = (v - self.m1) / self.s1
        self.lam = 1.0
        if self.enabled and v.numel() > 2 and float(z.std()) > 0:
            self.lam = float(np.clip(stats.yeojohnson_normmax(z.numpy()), *LAMBDA_RANGE))
        t = _yj(z, self.lam)
        self.m2 = float(t.mean())
        self.s2 = max(float(t.std()), 1e-9) if v.numel() > 1 else 1.0
        lo, hi = float(z.min()), float(z.max())
        ends = _yj(torch.tensor([2 * lo - hi, 2 * hi - lo], dtype=torch.float64), self.lam)
        self.u_lo, self.u_hi = ((ends - self.m2) / self.s2).tolist()
        return self

    def transform(self, y: Tensor) -> Tensor:
        """Caller's units -> warped, standardised units (same shape)."""
        return (_yj((y - self.m1) / self.s1, self.lam) - self.m2) / self.s2

    def untransform(self, u: Tensor) -> Tensor:
        """Warped units -> caller's units, differentiably (same shape); bounded to one observed
        range beyond the observed values (see the module docstring)."""
        u = u.clamp(self.u_lo, self.u_hi)
        return _yj_inv(u * self.s2 + self.m2, self.lam) * self.s1 + self.m1

    def targets(self, Y: Tensor, Yvar: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Fitted-model targets: ``n x 1`` outputs and known noise variances -> the warped
        outputs (``n``) and the noise variances in warped units (``n``, or None)."""
        y = self.transform(Y).squeeze(-1)
        return y, None if Yvar is None else (Yvar * self.slope(Y) ** 2).squeeze(-1)

    def slope(self, y: Tensor) -> Tensor:
        """``du/dy`` at ``y`` (for moving known variances into warped units)."""
        z = (y - self.m1) / self.s1
        lam = self.lam
        d = torch.where(z >= 0, (z.abs() + 1) ** (lam - 1), (z.abs() + 1) ** (1 - lam))
        return d / (self.s1 * self.s2)


def _yj(z: Tensor, lam: float) -> Tensor:
    pos, neg = z >= 0, z < 0
    a, b = z.clamp_min(0) + 1, (-z).clamp_min(0) + 1
    tp = torch.log(a) if abs(lam) < 1e-8 else (a**lam - 1) / lam
    tn = -torch.log(b) if abs(lam - 2) < 1e-8 else -(b ** (2 - lam) - 1) / (2 - lam)
    return torch.where(pos, tp, torch.where(neg, tn, z))


def _yj_inv(t: Tensor, lam: float) -> Tensor:
    tp, tn = t.clamp_min(0), t.clamp_max(0)
    if abs(lam) < 1e-8:
        zp = torch.expm1(tp)
    else:
        zp = (tp * lam + 1).clamp_min(_TINY) ** (1 / lam) - 1
    if abs(lam - 2) < 1e-8:
        zn = -torch.expm1(-tn)
    else:
        zn = 1 - (1 - (2 - lam) * tn).clamp_min(_TINY) ** (1 / (2 - lam))
    return torch.where(t >= 0, zp, zn)


class WarpTransform(OutcomeTransform):
    """:class:`OutputWarp` as a BoTorch outcome transform, for the GP baseline.

    Learned on the training targets at model construction (train mode), like ``Standardize``.
    Posterior samples are mapped back exactly (``TransformedPosterior``); the posterior's mean
    and variance in the caller's units are the delta-method values at the warped mean (the MC
    acquisition functions only use the samples).
    """

    def __init__(self, enabled: bool = True) -> None:
        super().__init__()
        self.warp = OutputWarp(enabled)

    def forward(self, Y: Tensor, Yvar: Tensor | None = None,
                X: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        if self.training:
            self.warp.fit(Y)
        out_var = None if Yvar is None else Yvar * self.warp.slope(Y) ** 2
        return self.warp.transform(Y), out_var

    def untransform(self, Y: Tensor, Yvar: Tensor | None = None,
                    X: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        y = self.warp.untransform(Y)
        return y, None if Yvar is None else Yvar / self.warp.slope(y) ** 2

    def untransform_posterior(self, posterior: Posterior, X: Tensor | None = None) -> Posterior:
        return unwarped_posterior(posterior, self.warp)


def unwarped_posterior(posterior: Posterior, warp: OutputWarp) -> TransformedPosterior:
    """A posterior in warped units mapped back to the caller's: samples exactly, the mean and
    variance by the warp's inverse and its slope (delta method)."""

    def mean(m: Tensor, v: Tensor) -> Tensor:
        return warp.untransform(m)

    def variance(m: Tensor, v: Tensor) -> Tensor:
        return v / warp.slope(warp.untransform(m)) ** 2

    return TransformedPosterior(posterior, sample_transform=warp.untransform,
                                mean_transform=mean, variance_transform=variance)
