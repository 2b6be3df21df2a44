"""A random-Fourier-feature network with a Bayesian last layer, tuned by its own evidence.

The network has one hidden layer of ``m`` cosine units and a linear read-out,

    ``f(x) = phi(x)^T w``,  ``phi(x) = sqrt(2 s^2 / m) cos(Omega (x / l) + b)``,

with the first layer drawn once (from ``seed``) and never trained: the rows of ``Omega``
(``m x d``) come from the spectral density of a stationary kernel and ``b ~ U[0, 2 pi]``
(Rahimi & Recht 2007). The read-out is Bayesian, ``w ~ N(0, I)``, and the observations are
``y = f(x) + c + eps``, ``eps ~ N(0, sigma^2 + Yvar)``, so the posterior over ``w`` (and
hence over ``f`` at any ``q`` points, jointly) is exact and Gaussian. Its prior covariance is
``E[phi(x)^T phi(x')] = s^2 k((x - x') / l)``: as ``m -> oo`` the network *is* the GP with that
kernel; at finite ``m`` it is a Bayesian network whose cost is linear in ``n`` (the
weight-space, "primal" form costs ``O(n m^2)``, the function-space, "dual" form ``O(n^2 m)``,
used when ``n < m``).

The kernel's spectral density: ``"rbf"`` (the squared exponential): ``Omega ~ N(0, I)``;
``"matern52"``: the multivariate Student-t with 5 degrees of freedom,
``Omega = z / sqrt(u / 5)``, ``z ~ N(0, I)``, ``u ~ chi2_5``.

The ARD lengthscales ``l``, the noise ``sigma^2``, the constant ``c`` (and optionally the
output scale ``s^2``) maximise the network's exact log evidence (type-II maximum likelihood)
plus the log priors that BoTorch 0.18's ``SingleTaskGP`` puts on the same quantities:
``l_i ~ LogNormal(sqrt(2) + log(d) / 2, sqrt(3))``, ``l_i >= 0.025``, initialised at the
prior's mode (``get_covar_module_with_dim_scaled_prior``); ``sigma^2 ~ LogNormal(-4, 1)``,
``sigma^2 >= 1e-4`` (``get_gaussian_likelihood_with_lognormal_prior``); no output scale
(``s^2 = 1`` on standardised outputs, as the GP's kernel has none) unless
``learn_outputscale``. The installed ``SingleTaskGP``'s default kernel is the RBF, not the
Matern-5/2 of older BoTorch versions, so ``kernel="rbf"`` is the default: the network then has
the GP baseline's prior exactly, up to the finite width.

The hyperparameters are fitted on at most ``fit_points`` observations (the best quarter plus a
seeded uniform sample of the rest, as ``surrogates.capped``), then the posterior conditions on
all ``n`` with them. Outputs are standardised (or Yeo-Johnson-warped, ``output_warp``;
``surrogates._warp``), and posterior samples are mapped back to the caller's units, as
``gp-warp`` does. One-hot categorical columns are treated as continuous inputs (each with its
own lengthscale), not with a categorical kernel.

With ``path_samples = S`` the posterior is read as ``S`` networks drawn from the read-out's
posterior (pathwise conditioning, Matheron's rule in weight space; Wilson et al. 2020), an
``EnsemblePosterior``: a query point then costs ``O(S m)`` whatever ``n`` is, instead of the
exact covariance's ``O(min(n, m) m)``. That makes conditioning on many points affordable, which
matters only with noise: on 1,000 7-d points, half near the optimum
(``paper/scripts/subset_bias.py``, medians of 3 seeds), the 256-point subset (best quarter +
sample) costs nothing at noise sd 0.05 (RMSE over the 100 best points 0.021 against 0.026 on all
points), but at sd 0.3 its best quarter is a lucky one and the mean is optimistic near the top
(bias +0.11, RMSE 0.127 against 0.083; the exact GP on all points 0.078). In the loop the sampled posterior lost at 10 FFE,
where both condition on every point (README, ``rff-path``); ``path_above`` keeps the exact
posterior up to a size.

Measured (2026-12-05, the shared 2-core machine at load 12-15, medians of 3 seeds;
``surrogate_quality.py`` on Hartmann-6 and LCBench 3945/7593, ``surrogate_cost.py``):

* held out at n = 20-50 it is level with the GP (better NLL on LCBench 3945 at n = 20: -1.12
  against -0.49; worse on Hartmann-6 at n = 50: 1.39 against 0.97); at n = 200 the finite width
  shows and it trails the GP on all three tasks (NLL 0.10 / -1.99 / -1.61 against -0.24 / -2.28
  / -1.96). ``n_features=1024`` recovers part of it at n = 200 (0.01 / -2.21 / -1.78) at about
  twice the proposal cost; Sobol frequencies and the Matern-5/2 density gave mixed results;
* fit + ``propose_batch(q=8)`` in d = 7 costs 0.99 / 0.47 / 0.49 / 0.26x the capped GP's at
  n = 100 / 500 / 2,000 / 10,000 (1.10 s against 2.24 s at n = 2,000 on the quiet machine; under
  load 12-15, 17 s against 30 s); with ``fit_points=500`` it was 2.3-3.0x.
* in issue 18's tournament grid (27 benchmark-seed pairs, ``fit_points=500``),
  ``hyperpilot@rff`` against ``gp-bo``: 10 / 14 / 3 (wins / losses / ties) at 10 FFE,
  14 / 12 / 1 at 30 FFE; ``hyperpilot@rff-warp``: 11 / 14 / 2 and 9 / 17 / 1.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from botorch.models.model import Model
from botorch.posteriors import GPyTorchPosterior, Posterior
from botorch.posteriors.ensemble import EnsemblePosterior
from gpytorch.distributions import MultivariateNormal
from scipy import stats
from torch import Tensor
from torch.quasirandom import SobolEngine

from surrogates._data import check_training_data, torch_threads
from surrogates._flat import jittered_cholesky
from surrogates._warp import OutputWarp, unwarped_posterior
from surrogates.capped import capped_indices

Kernel = Literal["rbf", "matern52"]
Sampling = Literal["iid", "sobol"]
Evidence = Literal["network", "kernel"]

MIN_LENGTHSCALE = 2.5e-2
"""``SingleTaskGP``'s lower bound on a lengthscale (unit-cube inputs)."""
MIN_NOISE = 1e-4
"""``SingleTaskGP``'s lower bound on the inferred noise variance (standardised units)."""
NOISE_PRIOR = (-4.0, 1.0)
"""``sigma^2 ~ LogNormal(loc, scale)``: ``SingleTaskGP``'s default noise prior."""


def lengthscale_prior(d: int) -> tuple[float, float]:
    """``(loc, scale)`` of ``SingleTaskGP``'s LogNormal lengthscale prior in ``d`` dimensions."""
    return math.sqrt(2.0) + 0.5 * math.log(d), math.sqrt(3.0)


def _lognormal_logpdf(v: Tensor, loc: float, scale: float) -> Tensor:
    """``log p(v)`` of ``LogNormal(loc, scale)`` (a density over ``v``, as GPyTorch's), summed."""
    z = (v.log() - loc) / scale
    return (-0.5 * z**2 - v.log() - math.log(scale * math.sqrt(2 * math.pi))).sum()


def draw_frequencies(m: int, d: int, kernel: Kernel, gen: torch.Generator, dtype: torch.dtype,
                     sampling: Sampling = "iid") -> tuple[Tensor, Tensor]:
    """The fixed first layer: ``m x d`` spectral frequencies (unit lengthscale) and ``m`` phases.

    ``"iid"``: independent frequencies and phases ``b ~ U[0, 2 pi)``. ``"sobol"``: ``m / 2``
    frequencies from a scrambled Sobol sequence mapped through the inverse CDFs, each used twice,
    with phases ``0`` and ``-pi / 2`` (a ``cos`` and a ``sin`` unit): quasi-random features,
    whose kernel estimate has a smaller error at the same width (on 200 random points in 6-d,
    RBF, ``l = 0.4``, m = 512: RMS error of the Gram matrix 0.026-0.030 against 0.041-0.046).

    Args:
        m: Hidden units (even with ``"sobol"``).
        d: Input dimensions.
        kernel: ``"rbf"`` (Gaussian frequencies) or ``"matern52"`` (Student-t, 5 dof).
        gen: The generator (the model's seed).
        dtype: Output dtype.
        sampling: ``"iid"`` or ``"sobol"``.

    Returns:
        ``Omega`` (``m x d``, radians per unit of ``x / l``) and ``b`` (``m``).
    """
    if kernel not in ("rbf", "matern52"):
        raise ValueError(f"kernel must be 'rbf' or 'matern52', got {kernel!r}")
    if sampling == "sobol":
        return _sobol_frequencies(m, d, kernel, gen, dtype)
    omega = torch.randn(m, d, generator=gen, dtype=dtype)
    if kernel == "matern52":
        chi2 = (torch.randn(m, 5, generator=gen, dtype=dtype) ** 2).sum(-1, keepdim=True)
        omega = omega / (chi2 / 5.0).sqrt()
    phase = 2 * math.pi * torch.rand(m, generator=gen, dtype=dtype)
    return omega, phase


def _sobol_frequencies(m: int, d: int, kernel: Kernel, gen: torch.Generator,
                       dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """``"sobol"`` sampling of ``draw_frequencies``: cos/sin pairs of ``m / 2`` frequencies."""
    if m % 2:
        raise ValueError(f"sobol sampling needs an even number of units, got {m}")
    seed = int(torch.randint(2**31 - 1, (1,), generator=gen))
    extra = 1 if kernel == "matern52" else 0
    u = SobolEngine(d + extra, scramble=True, seed=seed).draw(m // 2, dtype=dtype)
    u = u.clamp(1e-12, 1 - 1e-12)
    omega = math.sqrt(2.0) * torch.erfinv(2 * u[:, :d] - 1)  # standard normal quantiles
    if extra:
        chi2 = torch.as_tensor(stats.chi2.ppf(u[:, d].numpy(), 5), dtype=dtype)
        omega = omega / (chi2[:, None] / 5.0).sqrt()
    zeros = torch.zeros(m // 2, dtype=dtype)
    return omega.repeat(2, 1), torch.cat([zeros, zeros - math.pi / 2])


def features(X: Tensor, omega: Tensor, phase: Tensor, lengthscale: Tensor,
             outputscale: Tensor | float) -> Tensor:
    """Hidden-layer activations ``phi(X) = sqrt(2 s^2 / m) cos(Omega (X / l) + b)``.

    Args:
        X: ``... x n x d`` inputs.
        omega: ``m x d`` frequencies; phase: ``m`` phases.
        lengthscale: ``d`` ARD lengthscales (units of ``X``).
        outputscale: ``s^2`` (standardised output units²).

    Returns:
        ``... x n x m``; ``phi(x)^T phi(x')`` estimates ``s^2 k((x - x') / l)``.
    """
    m = omega.shape[0]
    scale = (2.0 * outputscale / m) ** 0.5
    return scale * torch.cos((X / lengthscale) @ omega.T + phase)


def log_evidence(Phi: Tensor, r: Tensor, noise: Tensor) -> Tensor:
    """Exact ``log N(r; 0, Phi Phi^T + diag(noise))`` of Bayesian linear regression, ``w ~ N(0, I)``.

    The dual form (an ``n x n`` Cholesky, with the analytic gradient of ``_DualEvidence``) when
    ``n < m``, else the primal (``m x m``, through autograd).

    Args:
        Phi: ``n x m`` features; r: ``n`` residual targets (``y - c``); noise: ``n`` variances.
    """
    n, m = Phi.shape
    if n < m:
        return _DualEvidence.apply(Phi, r, noise)  # type: ignore[no-any-return]
    Pw = Phi / noise[:, None]
    A = torch.eye(m, dtype=Phi.dtype) + Phi.T @ Pw
    L = _chol(A)
    beta = torch.linalg.solve_triangular(L, (Pw.T @ r)[:, None], upper=False).squeeze(-1)
    quad = (r**2 / noise).sum() - (beta**2).sum()
    logdet = 2 * L.diagonal().log().sum() + noise.log().sum()
    return -0.5 * (quad + logdet + n * math.log(2 * math.pi))


class _DualEvidence(torch.autograd.Function):
    """``log N(r; 0, K)``, ``K = Phi Phi^T + diag(noise)``, with its gradient in closed form.

    With ``alpha = K^-1 r`` and ``G = (alpha alpha^T - K^-1) / 2`` (the gradient in ``K``), the
    gradients are ``2 G Phi`` in ``Phi``, ``-alpha`` in ``r`` and ``diag(G)`` in ``noise``: one
    ``n x n x m`` product and one Cholesky inverse, where autograd through ``Phi @ Phi.T`` and
    ``cholesky`` takes two products and several triangular solves: 5.9 ms against 9.2 ms per
    value and gradient at ``n = 256``, ``m = 512`` (one thread; the test checks it against
    autograd).
    """

    @staticmethod
    def forward(ctx: Any, Phi: Tensor, r: Tensor, noise: Tensor) -> Tensor:  # noqa: D102
        n = Phi.shape[0]
        L = _chol(Phi @ Phi.T + torch.diag(noise))
        alpha = torch.cholesky_solve(r[:, None], L).squeeze(-1)
        ctx.save_for_backward(Phi, L, alpha)
        logdet = 2 * L.diagonal().log().sum()
        return -0.5 * (r @ alpha + logdet + n * math.log(2 * math.pi))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:  # noqa: D102
        Phi, L, alpha = ctx.saved_tensors
        G = torch.outer(alpha, alpha).sub_(torch.cholesky_inverse(L)).mul_(0.5 * grad)
        return 2 * (G @ Phi), -grad * alpha, G.diagonal().clone()


def kernel_matrix(X: Tensor, lengthscale: Tensor, outputscale: Tensor | float,
                  kernel: Kernel) -> Tensor:
    """``s^2 k((x_i - x_j) / l)``, the network's prior covariance as ``m -> oo``: ``n x n``.

    Args:
        X: ``n x d`` inputs; lengthscale: ``d``; outputscale: ``s^2``; kernel: its name.
    """
    diff = (X[:, None, :] - X[None, :, :]) / lengthscale
    sq = (diff**2).sum(-1)
    if kernel == "rbf":
        return outputscale * torch.exp(-0.5 * sq)
    r = math.sqrt(5.0) * sq.clamp_min(1e-30).sqrt()
    return outputscale * (1 + r + r**2 / 3) * torch.exp(-r)


def step_keeping_best(opt: torch.optim.Optimizer, loss_fn: Callable[[], Tensor],
                      params: Sequence[Tensor]) -> bool:
    """``opt.step`` on ``loss_fn`` (a scalar to minimise, differentiable in ``params``), falling
    back to the best point it evaluated where a step fails.

    A line search can try hyperparameters whose covariance is not positive definite even with
    jitter; ``_chol`` then raises ``RuntimeError`` from inside the step, and the parameters hold
    the failed trial point. Here they go back to the evaluated point of least finite loss (the
    start at worst), so the fit goes on from a point the objective accepts. Where no step fails
    this is ``opt.step`` unchanged: the copies do not touch the iterates.

    Returns:
        Whether a step failed (the caller counts it).
    """
    best = [p.detach().clone() for p in params]
    best_loss = [math.inf]

    def closure() -> Tensor:
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()  # type: ignore[no-untyped-call]
        value = float(loss.detach())
        if value < best_loss[0]:  # NaN compares False: never kept
            best_loss[0] = value
            for keep, p in zip(best, params, strict=True):
                keep.copy_(p.detach())
        return loss

    try:
        opt.step(closure)  # type: ignore[arg-type]
    except RuntimeError:
        with torch.no_grad():
            for keep, p in zip(best, params, strict=True):
                p.copy_(keep)
        return True
    return False


def _chol(A: Tensor) -> Tensor:
    """Lower Cholesky factor with a small fixed jitter (differentiable); growing jitter if needed."""
    jitter = 1e-8 * float(A.diagonal().mean().detach())
    L, info = torch.linalg.cholesky_ex(A + jitter * torch.eye(A.shape[0], dtype=A.dtype))
    if int(info) == 0:
        return L
    return jittered_cholesky(A, "RFF evidence matrix")


@dataclass(frozen=True)
class Hypers:
    """Fitted hyperparameters, in standardised (or warped) output units.

    Attributes:
        lengthscale: ``d`` ARD lengthscales (unit-cube units).
        outputscale: ``s^2``.
        noise: ``sigma^2`` (the learned homoscedastic part).
        constant: ``c``, the prior mean.
    """

    lengthscale: Tensor
    outputscale: float
    noise: float
    constant: float


class RFFNetwork(Model):
    """Random-Fourier-feature network with an exact Bayesian last layer (module docstring).

    Args:
        n_features: Hidden units ``m``.
        kernel: The spectral density of the first layer, ``"rbf"`` or ``"matern52"``.
        sampling: ``"iid"`` or quasi-random ``"sobol"`` first-layer frequencies
            (``draw_frequencies``).
        learn_outputscale: Fit ``s^2`` by the evidence (no prior); else ``s^2 = 1``.
        output_warp: Yeo-Johnson-warp the outputs (``surrogates._warp``); else standardise.
        fit_features: The evidence (for the hyperparameters) uses the first this many units
            (None: all ``m``); the posterior uses all ``m``. Fitting on fewer units keeps the
            fit's cost while the posterior is wide.
        evidence: ``"network"``: the hyperparameters maximise the evidence of the network
            itself (its first ``fit_features`` units); ``"kernel"``: that of its infinite-width
            limit, the kernel ``E[phi phi^T]``, which the finite network estimates with noise
            (on 150 points in 7-d, four seeds of ``m = 512`` gave noise variances 0.040-0.141
            where the kernel gives 0.021, as BoTorch's GP does; ``paper/scripts/
            rff_starvation.py --evidence-spread 150``) and at ``O(n^3)`` rather than
            ``O(n^2 m)``.
        fit_points: The hyperparameters are fitted on at most this many observations.
        posterior_points: The read-out conditions on at most this many observations, the same
            kind of subset as ``fit_points`` (None: all ``n``). With ``n`` near or above ``m``
            the finite network's posterior variance falls below the GP's ("variance
            starvation": near the best point, at ``m = 512``, 0.67x the GP's at ``n = 400`` and
            0.37x at ``n = 1000``; ``paper/scripts/rff_starvation.py``); conditioning on
            ``posterior_points < m`` avoids it, at the price of the dropped points.
        path_samples: When set, the posterior is ``path_samples`` networks drawn from the
            read-out's posterior (pathwise, Matheron's rule in weight space; Wilson et al.
            2020), returned as an ``EnsemblePosterior``: each sample is one function, joint
            across any ``q`` points, and a query point costs ``O(path_samples m)`` whatever
            ``n`` is, so the read-out can condition on many more points than the exact
            covariance (``O(min(n, m) m)`` per point) affords. None: the exact Gaussian.
        path_above: With ``path_samples``, read the posterior as sampled networks only when it
            conditions on more than this many points (else the exact Gaussian, as without).
        top_fraction: Share of ``fit_points`` kept for the best observations.
        restarts: Extra L-BFGS starts (lengthscales ``4.5x`` the prior mode); the best MAP wins.
        max_iter: L-BFGS iterations per start.
        hypers: Fixed hyperparameters (standardised units): no evidence fit (for tests and
            ablations).
        seed: Seeds the first layer and the subsample; the global RNG is untouched.
        dtype: Model dtype; inputs are cast to it.
        num_threads: ``torch.set_num_threads`` during ``fit`` (restored afterwards).
    """

    _num_outputs = 1

    def __init__(
        self,
        n_features: int = 512,
        kernel: Kernel = "rbf",
        sampling: Sampling = "iid",
        learn_outputscale: bool = False,
        output_warp: bool = False,
        fit_features: int | None = None,
        evidence: Evidence = "network",
        fit_points: int = 256,
        posterior_points: int | None = None,
        path_samples: int | None = None,
        path_above: int = 0,
        top_fraction: float = 0.25,
        restarts: int = 1,
        max_iter: int = 100,
        hypers: Hypers | None = None,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        num_threads: int | None = 1,
    ) -> None:
        super().__init__()
        if n_features < 1 or fit_points < 2:
            raise ValueError(f"need n_features >= 1 and fit_points >= 2, got {n_features}, "
                             f"{fit_points}")
        if fit_features is not None and not 1 <= fit_features <= n_features:
            raise ValueError(f"fit_features must be in [1, n_features={n_features}], got "
                             f"{fit_features}")
        if posterior_points is not None and posterior_points < 2:
            raise ValueError(f"posterior_points must be >= 2 or None, got {posterior_points}")
        if path_samples is not None and path_samples < 2:
            raise ValueError(f"path_samples must be >= 2 or None, got {path_samples}")
        if fit_features is not None and fit_features < n_features and sampling == "sobol":
            raise ValueError("fit_features < n_features needs sampling='iid' (a prefix of the "
                             "Sobol layer is cos units without their sin pairs)")
        if evidence not in ("network", "kernel"):
            raise ValueError(f"evidence must be 'network' or 'kernel', got {evidence!r}")
        self.fit_features, self.posterior_points = fit_features, posterior_points
        self.path_samples, self.path_above = path_samples, path_above
        self.evidence = evidence
        self.n_features, self.kernel, self.learn_outputscale = n_features, kernel, learn_outputscale
        self.sampling = sampling
        self.output_warp, self.fit_points, self.top_fraction = output_warp, fit_points, top_fraction
        self.restarts, self.max_iter = restarts, max_iter
        self.seed, self.model_dtype, self.num_threads = seed, dtype, num_threads
        self.warp = OutputWarp(False)
        self.fixed = hypers
        self.hypers: Hypers | None = None
        self.omega = self.phase = torch.empty(0, dtype=dtype)
        self.w_mean = torch.empty(0, dtype=dtype)  # m posterior mean of the read-out
        self.w_root = torch.empty(0, 0, dtype=dtype)  # k x m: see ``_condition``
        self.w_samples: Tensor | None = None  # m x S read-outs drawn with ``path_samples``
        self.dual = False
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_index = torch.empty(0, dtype=torch.long)  # rows the hyperparameters were fitted on
        self.fit_info: dict[str, Any] = {}

    # ------------------------------------------------------------------ public API
    def fit(self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None) -> RFFNetwork:
        """Draw the first layer, fit the hyperparameters, condition the read-out; return ``self``.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²), added to the
                learned ``sigma^2`` point by point.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        gen = torch.Generator().manual_seed(self.seed)
        t0 = time.perf_counter()
        with torch_threads(self.num_threads):
            self.warp = OutputWarp(self.output_warp).fit(Y)
            y, extra = self.warp.targets(Y, Yvar)
            self.omega, self.phase = draw_frequencies(self.n_features, X.shape[-1], self.kernel,
                                                      gen, self.model_dtype, self.sampling)
            keep = capped_indices(Y, self.fit_points, self.top_fraction, self.seed)
            self.fit_index = keep
            sub_extra = None if extra is None else extra[keep]
            if self.fixed is None:
                self.hypers, map_value, failed = self._fit_hypers(X[keep], y[keep], sub_extra)
            else:
                self.hypers, map_value, failed = self.fixed, float("nan"), 0
            if self.posterior_points is None:
                post = torch.arange(X.shape[0])
            elif self.posterior_points == self.fit_points:  # the same subset (rff-wide, rff-kev)
                post = keep
            else:
                post = capped_indices(Y, self.posterior_points, self.top_fraction, self.seed)
            self._condition(X[post], y[post], None if extra is None else extra[post],
                            torch.Generator().manual_seed(self.seed + 7919))
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        h = self.hypers
        self.fit_info = {
            "seconds": time.perf_counter() - t0,
            "n": X.shape[0],
            "n_fit": int(keep.numel()),
            "n_posterior": int(post.numel()),
            "dual": self.dual,
            "path_samples": 0 if self.w_samples is None else int(self.w_samples.shape[1]),
            "lengthscale": [round(v, 4) for v in h.lengthscale.tolist()],
            "outputscale": h.outputscale,
            "noise_var": h.noise,
            "log_map": map_value,
            "failed_steps": failed,
            "warnings": [f"{failed} hyperparameter run(s) hit a non-positive-definite "
                         "step and went on from the best point before it"]
            if failed else [],
        }
        return self

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(
        self,
        X: Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | Tensor = False,
        posterior_transform: Any = None,
        **kwargs: Any,
    ) -> Posterior:
        """Joint posterior of the latent function at ``X`` (``batch x q x d``, unit cube).

        Returns:
            A ``GPyTorchPosterior`` over a ``q``-variate normal (``.mean``/``.variance``:
            ``batch x q x 1``, the caller's units); with ``output_warp`` a
            ``TransformedPosterior`` of it whose samples are mapped back exactly. With
            ``path_samples = S`` an ``EnsemblePosterior`` of the ``S`` sampled networks'
            values, ``batch x S x q x 1``.
        """
        if self.hypers is None:
            raise RuntimeError("call fit() before posterior()")
        if self.w_samples is not None:
            return EnsemblePosterior(self._paths(X.to(self.model_dtype)))
        mean, cov = self._latent(X.to(self.model_dtype))
        if not self.output_warp:  # standardisation is affine: exact in closed form
            a = self.warp.s1 * self.warp.s2
            mvn = MultivariateNormal(mean * a + self.warp.m1 + self.warp.m2 * self.warp.s1,
                                     cov * a**2)
            return GPyTorchPosterior(mvn)
        return unwarped_posterior(GPyTorchPosterior(MultivariateNormal(mean, cov)), self.warp)

    def noise_variance(self, X: Tensor) -> Tensor:
        """The learned homoscedastic noise ``sigma^2`` at ``X`` (known ``train_Yvar`` excluded).

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x n x 1`` variances in the caller's units² (with ``output_warp``, mapped back
            at the posterior mean).
        """
        if self.hypers is None:
            raise RuntimeError("call fit() before noise_variance()")
        with torch.no_grad():
            mean: Tensor = self.posterior(X).mean  # type: ignore[attr-defined]
        return self.hypers.noise / self.warp.slope(mean) ** 2

    # ------------------------------------------------------------------ internals
    def _paths(self, X: Tensor) -> Tensor:
        """The sampled networks at ``X`` (``batch x q x d``): ``batch x S x q x 1``, the caller's
        units (each sample mapped back through the output transform)."""
        assert self.hypers is not None and self.w_samples is not None
        h = self.hypers
        Phi = features(X, self.omega, self.phase, h.lengthscale, h.outputscale)
        f = (Phi @ self.w_samples + h.constant).transpose(-1, -2)  # batch x S x q
        if self.output_warp:
            f = self.warp.untransform(f)
        else:  # the same affine map as the Gaussian posterior's (no clamping)
            a = self.warp.s1 * self.warp.s2
            f = f * a + self.warp.m1 + self.warp.m2 * self.warp.s1
        return f.unsqueeze(-1)

    def _latent(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean ``batch x q`` and covariance ``batch x q x q`` (standardised units)."""
        assert self.hypers is not None
        h = self.hypers
        Phi = features(X, self.omega, self.phase, h.lengthscale, h.outputscale)
        mean = Phi @ self.w_mean + h.constant
        V = Phi @ self.w_root.T  # batch x q x k
        if self.dual:  # Sigma_w = I - G^T G
            cov = Phi @ Phi.transpose(-1, -2) - V @ V.transpose(-1, -2)
        else:  # Sigma_w = R^T R
            cov = V @ V.transpose(-1, -2)
        q = X.shape[-2]
        cov = cov + 1e-10 * torch.eye(q, dtype=X.dtype)
        return mean, cov

    def _condition(self, X: Tensor, y: Tensor, extra: Tensor | None,
                   gen: torch.Generator) -> None:
        """The read-out's posterior ``w ~ N(w_mean, Sigma_w)`` on all ``n`` points.

        Dual (``n < m``): ``G = L^-1 Phi`` with ``L L^T = Phi Phi^T + D`` and ``Sigma_w = I -
        G^T G`` (``w_root = G``, ``n x m``). Primal: ``A = I + Phi^T D^-1 Phi = L L^T`` and
        ``Sigma_w = R^T R`` with ``R = L^-1`` (``w_root = R``, ``m x m``). Either way a query
        point costs ``O(min(n, m) m)``. With ``path_samples`` the root is not formed; instead
        ``S`` read-outs are drawn from ``gen``: dual, by Matheron's rule ``w = w0 + Phi^T (Phi
        Phi^T + D)^-1 (r - Phi w0 - e0)`` with ``w0 ~ N(0, I)``, ``e0 ~ N(0, D)``; primal,
        ``w = w_mean + L^-T z``.
        """
        assert self.hypers is not None
        h = self.hypers
        Phi = features(X, self.omega, self.phase, h.lengthscale, h.outputscale)
        noise = torch.full_like(y, h.noise) if extra is None else h.noise + extra
        r = y - h.constant
        n, m = Phi.shape
        S = self.path_samples if n > self.path_above else None
        self.dual = n < m
        self.w_samples = None
        if self.dual:
            L = jittered_cholesky(Phi @ Phi.T + torch.diag(noise), "RFF posterior")
            alpha = torch.cholesky_solve(r[:, None], L).squeeze(-1)
            self.w_mean = Phi.T @ alpha
            if S is None:
                self.w_root = torch.linalg.solve_triangular(L, Phi, upper=False)
            else:
                w0 = torch.randn(m, S, generator=gen, dtype=Phi.dtype)
                e0 = noise.sqrt()[:, None] * torch.randn(n, S, generator=gen, dtype=Phi.dtype)
                B = torch.cholesky_solve(Phi @ w0 + e0, L)
                self.w_samples = self.w_mean[:, None] + w0 - Phi.T @ B
        else:
            Pw = Phi / noise[:, None]
            L = jittered_cholesky(torch.eye(m, dtype=Phi.dtype) + Phi.T @ Pw, "RFF posterior")
            self.w_mean = torch.cholesky_solve((Pw.T @ r)[:, None], L).squeeze(-1)
            if S is None:
                self.w_root = torch.linalg.solve_triangular(L, torch.eye(m, dtype=Phi.dtype),
                                                            upper=False)
            else:
                z = torch.randn(m, S, generator=gen, dtype=Phi.dtype)
                self.w_samples = self.w_mean[:, None] + torch.linalg.solve_triangular(
                    L.T, z, upper=True)

    def _fit_hypers(self, X: Tensor, y: Tensor,
                    extra: Tensor | None) -> tuple[Hypers, float, int]:
        """MAP hyperparameters by L-BFGS from the prior mode (and ``restarts`` longer starts).

        Returns:
            The best ``Hypers``, its log evidence plus log prior (nats, all points) and how many
            of the runs hit a non-positive-definite step.
        """
        d = X.shape[-1]
        loc, scale = lengthscale_prior(d)
        mode = math.exp(loc - scale**2)
        best: tuple[float, Hypers] | None = None
        failed = 0
        for k in range(1 + self.restarts):
            start = mode * (4.5 if k else 1.0)
            value, hypers, hit = self._lbfgs(X, y, extra, start)
            failed += hit
            if best is None or value > best[0]:
                best = (value, hypers)
        assert best is not None
        return best[1], best[0], failed

    def _lbfgs(self, X: Tensor, y: Tensor, extra: Tensor | None,
               start: float) -> tuple[float, Hypers, bool]:
        """One L-BFGS run of the log MAP objective from lengthscales ``start`` (all dims): the
        final log MAP value (-inf where not finite), the hyperparameters and whether a step hit
        a non-positive-definite matrix (the run then went on from the best point before it)."""
        d, dt = X.shape[-1], self.model_dtype
        raw_l = torch.full((d,), math.log(max(start - MIN_LENGTHSCALE, 1e-6)), dtype=dt)
        raw_n = torch.tensor(math.log(math.exp(NOISE_PRIOR[0] - NOISE_PRIOR[1] ** 2) - MIN_NOISE),
                             dtype=dt)
        params = [raw_l.requires_grad_(True), raw_n.requires_grad_(True),
                  torch.zeros((), dtype=dt, requires_grad=True),  # c
                  torch.zeros((), dtype=dt, requires_grad=self.learn_outputscale)]  # log s^2
        opt = torch.optim.LBFGS([p for p in params if p.requires_grad], lr=1.0,
                                max_iter=self.max_iter, history_size=20,
                                line_search_fn="strong_wolfe", tolerance_grad=1e-7,
                                tolerance_change=1e-10)
        n = X.shape[0]

        def objective() -> Tensor:
            return self._log_map(X, y, extra, *params) / n

        # a non-PD step: back to the best point evaluated (the final value is then computable)
        failed = step_keeping_best(opt, lambda: -objective(), params)
        with torch.no_grad():
            value = float(objective()) * n
            hypers = Hypers(MIN_LENGTHSCALE + params[0].exp(), float(params[3].exp()),
                            MIN_NOISE + float(params[1].exp()), float(params[2]))
        return (value if math.isfinite(value) else -math.inf), hypers, failed

    def _log_map(self, X: Tensor, y: Tensor, extra: Tensor | None, raw_l: Tensor,
                 raw_n: Tensor, c: Tensor, log_s2: Tensor) -> Tensor:
        """Log evidence (the network's, or its kernel's) plus the GP's log priors on ``l``, noise."""
        ell, s2 = MIN_LENGTHSCALE + raw_l.exp(), MIN_NOISE + raw_n.exp()
        noise = s2.expand(X.shape[0]) if extra is None else s2 + extra
        prior = (_lognormal_logpdf(ell, *lengthscale_prior(X.shape[-1]))
                 + _lognormal_logpdf(s2.reshape(1), *NOISE_PRIOR))
        if self.evidence == "kernel":
            K = kernel_matrix(X, ell, log_s2.exp(), self.kernel) + torch.diag(noise)
            L = _chol(K)
            alpha = torch.linalg.solve_triangular(L, (y - c)[:, None], upper=False).squeeze(-1)
            n = X.shape[0]
            return prior - 0.5 * ((alpha**2).sum() + 2 * L.diagonal().log().sum()
                                  + n * math.log(2 * math.pi))
        k = self.n_features if self.fit_features is None else self.fit_features
        Phi = features(X, self.omega[:k], self.phase[:k], ell, log_s2.exp())
        return log_evidence(Phi, y - c, noise) + prior
