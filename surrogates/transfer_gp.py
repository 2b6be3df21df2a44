"""``transfer``'s kernel, conditioned exactly: the related tasks' network features inside an exact GP.

``TransferRFF`` (``surrogates.transfer``) is a Bayesian read-out over two feature blocks: a
network ``phi_T`` learned on related tasks and 2,048 random-Fourier units standing for an RBF
kernel, fitted and conditioned on at most 256 points. Its prior covariance is

    ``k(x, x') = s_T phi_T(x)^T phi_T(x') + k_RBF((x - x') / l)``.

On 10 held-out LCBench tasks it beat ``gp-bo`` at 10 and 30 FFE, but at 100 FFE on the
development tasks its lead was gone (8 / 12 paired against ``gp-bo``), and held out at
``n = 1,000`` the exact GP ranked configurations better (Spearman 0.89 against 0.82). Both of its
approximations (the finite Fourier layer and the 256-point cap) bite at large ``n``.
``TransferGP`` keeps the same kernel and drops both: ``SingleTaskGP`` with the frozen network's
linear kernel (a Bayesian last layer over ``phi_T``) plus BoTorch's default RBF kernel and
priors, conditioned exactly on every point, with the GP's ``O(n^3)`` cost. Where ``s_T -> 0``
it is ``gp``; at small ``n`` the network's block carries what the related tasks share.

Measured (2026-12-06, a shared 2-core Xeon; README, "Learning from related tasks"): held out on
the LCBench development tasks it predicts at least as well as the GP at every ``n`` (NLL 0.095
against 0.13 and Spearman 0.891 against 0.892 at ``n = 1,000``; among the best 10% 0.46 against
0.43), but in the study at 100 FFE it ties ``gp-bo`` (10 / 9 / 1 over 20 pairs) and ``transfer``
(10 / 8 / 2), at the GP's cost. Registered, not the default.
"""

from __future__ import annotations

from typing import Any

import torch
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.constraints import Interval
from gpytorch.kernels import AdditiveKernel, Kernel
from gpytorch.priors import NormalPrior
from torch import Tensor

from surrogates.gp import GP
from surrogates.transfer import SharedFeatures

LOG_SCALE_BOUNDS = (-10.0, 6.0)
"""Bounds of ``log s_T`` (``TransferRFF``'s clamp)."""


class FeatureKernel(Kernel):
    """``k(x, x') = s_T phi(x)^T phi(x')``: a Bayesian linear read-out over a frozen network.

    ``phi`` maps ``... x n x d`` to ``... x n x D`` (``SharedFeatures``); its weights are frozen,
    so only ``log s_T`` is fitted, under a ``N(0, 2^2)`` prior (``TransferRFF``'s).

    Args:
        features: The frozen map (``surrogates.transfer.fit_shared_features``).
    """

    has_lengthscale = False

    def __init__(self, features: SharedFeatures, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.features = features
        for p in self.features.parameters():
            p.requires_grad_(False)
        self.register_parameter("log_scale", torch.nn.Parameter(torch.zeros(1)))
        self.register_constraint("log_scale", Interval(*LOG_SCALE_BOUNDS, transform=None,
                                                       initial_value=0.0))
        self.register_prior("log_scale_prior", NormalPrior(0.0, 2.0),
                            lambda m: m.log_scale, lambda m, v: m._set_log_scale(v))

    def _set_log_scale(self, value: Tensor) -> None:
        with torch.no_grad():
            self.log_scale.copy_(torch.as_tensor(value).reshape(1))

    @property
    def scale(self) -> Tensor:
        """``s_T`` (a 1-element tensor)."""
        return self.log_scale.clamp(*LOG_SCALE_BOUNDS).exp()

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False,
                last_dim_is_batch: bool = False, **params: Any) -> Tensor:
        """``... x n x d``, ``... x m x d`` -> ``... x n x m`` (``... x n`` with ``diag``)."""
        if last_dim_is_batch:
            raise NotImplementedError("FeatureKernel acts on whole input vectors")
        p1 = self.features(x1)
        p2 = p1 if x2 is x1 else self.features(x2)
        if diag:
            return self.scale * (p1 * p2).sum(-1)
        return self.scale * p1 @ p2.transpose(-1, -2)


class TransferGP(GP):
    """Exact GP with ``transfer``'s kernel: ``FeatureKernel(phi_T) + RBF`` (BoTorch's priors).

    Everything but the kernel is ``surrogates.gp.GP``: standardised outputs, BoTorch's noise prior,
    ``fit_gpytorch_mll``, the joint posterior for q-LogEI, known ``train_Yvar`` added to a learned
    noise. The kernel covers every column (categorical one-hot columns as continuous inputs, as
    the related tasks' network sees them).

    Args:
        features: The shared map learned on related tasks; its input dimension must match.
        seed: Seeds the fit (as ``GP``).
        **kwargs: ``GP``'s other arguments (``dtype``, ``max_fit_seconds``, ``num_threads``).
    """

    def __init__(self, features: SharedFeatures, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(cat_groups=None, seed=seed, **kwargs)
        self.features = features.in_dtype(self.model_dtype)  # once, not per kernel call
        self.feature_kernel: FeatureKernel | None = None  # the fitted model's, set by _kernel

    def fit(self, train_X: Tensor, train_Y: Tensor,
            train_Yvar: Tensor | None = None) -> TransferGP:
        """As ``GP.fit``; raises ``ValueError`` when ``train_X``'s width is not the map's."""
        if train_X.shape[-1] != self.features.d:
            raise ValueError(f"the shared features take {self.features.d} inputs, "
                             f"got {train_X.shape[-1]}")
        super().fit(train_X, train_Y, train_Yvar)
        assert self.feature_kernel is not None  # built by _kernel during the fit
        self.fit_info["transfer_scale"] = float(self.feature_kernel.scale.detach())
        return self

    def _kernel(self, d: int) -> Kernel | None:
        """``FeatureKernel(phi_T) + RBF`` with BoTorch 0.18's dimension-scaled lengthscale prior."""
        self.feature_kernel = FeatureKernel(self.features)
        return AdditiveKernel(self.feature_kernel,
                              get_covar_module_with_dim_scaled_prior(ard_num_dims=d))
