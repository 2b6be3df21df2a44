"""The infinite-width Bayesian ReLU network as a surrogate: an exact GP with the NNGP kernel.

An MLP with ``L`` hidden ReLU layers and i.i.d. Gaussian priors on its weights (variance
``sigma_w^2 / fan_in``) and biases (``sigma_b^2``) converges, as every hidden width goes to
infinity, to a GP (Neal 1996; Lee et al. 2018, "Deep neural networks as Gaussian processes").
Its kernel follows the arc-cosine recursion of Cho & Saul (2009) over the layers:

* ``K^0(x, x') = sigma_b^2 + sigma_w^2 <z, z'> / d`` with ``z_i = (2 x_i - 1) / l_i``: the unit
  cube is centred on the origin (a dot-product kernel on ``[0, 1]^d`` would see every input in one
  orthant) and scaled per dimension by learnable ARD input scales ``l_i``;
* ``K^{l+1}(x, x') = sigma_b^2 + sigma_w^2 / (2 pi) sqrt(K^l(x, x) K^l(x', x'))
  (sin t + (pi - t) cos t)``, ``t = arccos(K^l(x, x') / sqrt(K^l(x, x) K^l(x', x')))``,

applied ``L`` times, so ``K^L`` is the covariance of the network's (readout) output. The GP
posterior under this kernel is the exact posterior of the infinitely wide Bayesian network: no
sampling, no MAP training; ``sigma_w^2``, ``sigma_b^2``, the input scales, an output scale and the
noise are fitted by marginal likelihood like the GP baseline's hyperparameters. Li, Rudner &
Wilson (ICLR 2024) found the infinite-width BNN a strong BO surrogate.

Everything else (the likelihood, known noise, ``Standardize`` or the Yeo-Johnson output warp,
restarts, ``noise_variance``) is the GP baseline's (:class:`surrogates.gp.GP`).

Measured offline (2026-12-05, shared 1-core machine under load): in ``paper/scripts/mf_screen.py``
(n0 = 81, n = 120, 9 seeds, medians) it did not beat ``gp``/``gp-warp``/``laplace-warp`` on
held-out RMSE or NLL on Hartmann-6, LCBench 3945 or 7593; it had the best Spearman on LCBench 3945
(``nngp-warp`` 0.671 vs ``gp-warp`` 0.644) and the smallest best-of-5 regret on 7593 (``nngp``
0.025 vs 0.031-0.034). In ``surrogate_quality.py`` (LCBench 3945, n = 200, 3 seeds) ``nngp`` had
the best NLL (-2.37 vs ``gp`` -2.28) and top-10% Spearman (0.58 vs 0.46). A fit took 3-10x the
GP's time (1.6-4 s at n = 120).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from gpytorch.constraints import GreaterThan, Interval, Positive
from gpytorch.kernels import Kernel, ScaleKernel
from gpytorch.priors import GammaPrior, LogNormalPrior, Prior
from torch import Tensor

from surrogates.gp import GP

_TWO_PI = 2.0 * math.pi


def _arccos_step(K: Tensor, k1: Tensor, k2: Tensor, weight_var: Tensor, bias_var: Tensor,
                 eps: float) -> Tensor:
    """One ReLU layer of the recursion on broadcastable covariances (same units as ``K``).

    Args:
        K: Cross covariances ``K^l(x, x')`` of the pre-activations.
        k1: Variances ``K^l(x, x)``, broadcastable against ``K``.
        k2: Variances ``K^l(x', x')``, broadcastable against ``K``.
        weight_var: ``sigma_w^2``, broadcastable against ``K``.
        bias_var: ``sigma_b^2``, broadcastable against ``K``.
        eps: The correlation is clamped to ``[-1 + eps, 1 - eps]`` (``arccos`` has an infinite
            derivative at +-1; the clamp changes the value by ``O(eps)``).

    Returns:
        ``K^{l+1}(x, x')``, the broadcast shape.
    """
    norm = (k1 * k2).sqrt()
    rho = (K / norm).clamp(-1.0 + eps, 1.0 - eps)
    theta = torch.arccos(rho)
    j = (1.0 - rho**2).sqrt() + (math.pi - theta) * rho  # sin t + (pi - t) cos t
    return bias_var + weight_var / _TWO_PI * norm * j


class NNGPKernel(Kernel):
    """The NNGP kernel of a ReLU MLP with ``depth`` hidden layers (arc-cosine recursion).

    Inputs ``x1``: ``batch x n x d``, ``x2``: ``batch x m x d``, in the unit cube (centred to
    ``[-1, 1]`` inside when ``center``); the output is ``batch x n x m`` (``batch x n`` with
    ``diag=True``), in the units of ``sigma_w^2`` and ``sigma_b^2`` (an output scale, e.g.
    ``ScaleKernel``, multiplies it). ``lengthscale`` (``batch x 1 x d``) are the ARD input scales
    ``l_i`` (an input is divided by them); ``weight_var`` is ``sigma_w^2`` and ``bias_var``
    ``sigma_b^2`` (``batch x 1 x 1``), shared by every layer as in Lee et al. (2018).

    Args:
        depth: Number of hidden layers ``L`` (>= 0; 0 is the linear kernel ``K^0``).
        center: Map ``x`` to ``2 x - 1`` first, so the unit cube's centre is the origin.
        weight_var_prior: Prior on ``sigma_w^2`` (default LogNormal with median 2, the
            variance-preserving ("critical") value for ReLU, and a log-sd of 0.5).
        bias_var_prior: Prior on ``sigma_b^2`` (default LogNormal with median 0.1, log-sd 1.5).
        weight_var_constraint: Default ``Interval(0.05, 20)``.
        bias_var_constraint: Default ``GreaterThan(1e-4)`` (``sigma_b^2 = 0`` makes the kernel
            positively homogeneous: no function with an offset at the origin).
        **kwargs: Passed to ``gpytorch.kernels.Kernel`` (``ard_num_dims``, ``batch_shape``,
            ``lengthscale_prior``, ``lengthscale_constraint``, ``active_dims``).
    """

    has_lengthscale = True

    def __init__(self, depth: int = 3, center: bool = True,
                 weight_var_prior: Prior | None = None, bias_var_prior: Prior | None = None,
                 weight_var_constraint: Interval | None = None,
                 bias_var_constraint: Interval | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        self.depth, self.center = int(depth), bool(center)
        shape = (*self.batch_shape, 1, 1)
        self.register_parameter("raw_weight_var", torch.nn.Parameter(torch.zeros(shape)))
        self.register_parameter("raw_bias_var", torch.nn.Parameter(torch.zeros(shape)))
        self.register_constraint("raw_weight_var", weight_var_constraint or Interval(0.05, 20.0))
        self.register_constraint("raw_bias_var", bias_var_constraint or GreaterThan(1e-4))
        wp = weight_var_prior if weight_var_prior is not None else LogNormalPrior(math.log(2.0), 0.5)
        bp = bias_var_prior if bias_var_prior is not None else LogNormalPrior(math.log(0.1), 1.5)
        self.register_prior("weight_var_prior", wp, lambda m: m.weight_var,
                            lambda m, v: m._set_weight_var(v))
        self.register_prior("bias_var_prior", bp, lambda m: m.bias_var,
                            lambda m, v: m._set_bias_var(v))
        self._set_weight_var(2.0)
        self._set_bias_var(0.1)

    @property
    def weight_var(self) -> Tensor:
        """``sigma_w^2``, ``batch x 1 x 1``."""
        return self.raw_weight_var_constraint.transform(self.raw_weight_var)

    @weight_var.setter
    def weight_var(self, value: Tensor | float) -> None:
        self._set_weight_var(value)

    def _set_weight_var(self, value: Tensor | float) -> None:
        v = torch.as_tensor(value).to(self.raw_weight_var)
        self.initialize(raw_weight_var=self.raw_weight_var_constraint.inverse_transform(v))

    @property
    def bias_var(self) -> Tensor:
        """``sigma_b^2``, ``batch x 1 x 1``."""
        return self.raw_bias_var_constraint.transform(self.raw_bias_var)

    @bias_var.setter
    def bias_var(self, value: Tensor | float) -> None:
        self._set_bias_var(value)

    def _set_bias_var(self, value: Tensor | float) -> None:
        v = torch.as_tensor(value).to(self.raw_bias_var)
        self.initialize(raw_bias_var=self.raw_bias_var_constraint.inverse_transform(v))

    def _scaled(self, x: Tensor) -> Tensor:
        """``batch x n x d`` -> the first layer's inputs ``z = (2 x - 1) / l`` (same shape)."""
        if self.center:
            x = 2.0 * x - 1.0
        return x / self.lengthscale

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False, **params: Any) -> Tensor:
        """``batch x n x m`` covariances (``batch x n`` with ``diag``) of ``x1`` and ``x2``."""
        z1, z2 = self._scaled(x1), self._scaled(x2)
        d = z1.shape[-1]
        wv, bv = self.weight_var, self.bias_var  # batch x 1 x 1
        eps = 1e-10 if z1.dtype == torch.float64 else 1e-6
        if diag:
            wv, bv = wv.squeeze(-1), bv.squeeze(-1)  # batch x 1
            K = bv + wv * (z1 * z2).sum(-1) / d
            k1 = bv + wv * z1.pow(2).sum(-1) / d
            k2 = bv + wv * z2.pow(2).sum(-1) / d
        else:
            K = bv + wv * (z1 @ z2.transpose(-2, -1)) / d
            k1 = (bv + wv * z1.pow(2).sum(-1, keepdim=True) / d)  # batch x n x 1
            k2 = (bv + wv * z2.pow(2).sum(-1, keepdim=True) / d).transpose(-2, -1)  # batch x 1 x m
        for _ in range(self.depth):
            K = _arccos_step(K, k1, k2, wv, bv, eps)
            # on the diagonal the correlation is 1: sin 0 + pi cos 0 = pi, exactly
            k1, k2 = bv + 0.5 * wv * k1, bv + 0.5 * wv * k2
        return K


class NNGP(GP):
    """Exact GP with the infinite-width ReLU network's kernel (:class:`NNGPKernel`).

    The covariance is ``ScaleKernel(NNGPKernel(depth))`` with ARD input scales over every column
    (categorical one-hot columns included: centred to +-1 they are ordinary network inputs, so no
    ``MixedSingleTaskGP`` is used); the rest is :class:`surrogates.gp.GP` (``Standardize`` or
    ``output_warp``, learned noise plus known ``train_Yvar``, ``fit_gpytorch_mll``).

    Args:
        cat_groups: One-hot column groups of categorical parameters (only recorded).
        seed: Seeds the fit's restarts (the caller's global RNG state is restored).
        depth: Number of hidden layers of the infinitely wide network.
        dtype: Model dtype; inputs are cast to it.
        max_fit_seconds: Time limit of one optimiser run (None: no limit).
        num_threads: ``torch.set_num_threads`` during ``fit``.
        output_warp: Yeo-Johnson-warp the outputs (``surrogates._warp.WarpTransform``).
    """

    def __init__(
        self,
        cat_groups: list[list[int]] | None = None,
        seed: int = 0,
        depth: int = 3,
        dtype: torch.dtype = torch.float64,
        max_fit_seconds: float | None = None,
        num_threads: int | None = 1,
        output_warp: bool = False,
    ) -> None:
        super().__init__(cat_groups=cat_groups, seed=seed, dtype=dtype,
                         max_fit_seconds=max_fit_seconds, num_threads=num_threads,
                         output_warp=output_warp)
        self.depth = depth

    def _kernel(self, d: int) -> Kernel | None:
        """``ScaleKernel(NNGPKernel)`` on ``d`` input columns.

        Input scales: LogNormal prior with median 1 and log-sd 1.5 (bounded below by 0.01), so an
        irrelevant column may drift to large scales; output scale: ``GammaPrior(2, 0.15)``.
        """
        base = NNGPKernel(
            depth=self.depth,
            ard_num_dims=d,
            lengthscale_prior=LogNormalPrior(0.0, 1.5),
            lengthscale_constraint=GreaterThan(1e-2, transform=None, initial_value=1.0),
        )
        return ScaleKernel(base, outputscale_prior=GammaPrior(2.0, 0.15),
                           outputscale_constraint=Positive())
