"""A network whose features are learned on related tasks, with a Bayesian read-out per task (ABLR).

Adaptive Bayesian linear regression (Perrone et al., NeurIPS 2018): a feature map
``phi: [0, 1]^d -> R^D`` (an MLP, ``D`` tanh units of its last hidden layer plus a constant unit)
is shared by ``T`` related tasks, and each task ``t`` has its own Bayesian linear read-out,

    ``y_t = Phi_t w_t + eps``,  ``w_t ~ N(0, I / alpha_t)``,  ``eps ~ N(0, I / beta_t)``,

on standardised targets. ``phi`` and every ``(alpha_t, beta_t)`` maximise the sum of the tasks'
exact log evidences (``fit_shared_features``): the network learns the shape the tasks share,
which one task's dozen observations cannot teach a GP. On a new task the map is frozen and only
that task's ``(alpha, beta)`` are fitted by its evidence (``TransferBLR``): two numbers, so a
handful of observations suffice, and the posterior over ``w`` is exact, hence joint and Gaussian
over any ``q`` points, as q-LogEI needs. Fitting costs ``O(n D^2)``, linear in ``n``.

``TransferRFF`` (registered as ``transfer``, ``hyperpilot``'s default) puts the frozen map beside
``rff-kev``'s random-Fourier layer, so a task unlike the related ones falls back on the GP's
stationary prior through its own evidence, not through a switch. Measured (2026-12-05, a shared
2-core Xeon; README, "Learning from related tasks"): related tasks = the other LCBench
development tasks, 400 configs each; on 10 held-out LCBench tasks, 50 pairs at 30 FFE, it beat
``gp-bo`` 36 / 13 at 10 FFE and 33 / 17 at 30 FFE; held out at n = 20 its Spearman's rho was
0.72 against the GP's 0.56. Pretraining takes 27-66 s once per study.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np
import torch
from botorch.models.model import Model
from botorch.posteriors import GPyTorchPosterior, Posterior
from gpytorch.distributions import MultivariateNormal
from torch import Tensor, nn

from surrogates._data import check_training_data, standardise_targets, torch_threads
from surrogates._flat import jittered_cholesky
from surrogates.capped import capped_indices
from surrogates.rff import (
    MIN_LENGTHSCALE,
    NOISE_PRIOR,
    _chol,
    _lognormal_logpdf,
    draw_frequencies,
    kernel_matrix,
    lengthscale_prior,
    step_keeping_best,
)
from surrogates.rff import MIN_NOISE as RFF_MIN_NOISE
from surrogates.rff import features as rff_features

MIN_NOISE = 1e-4
"""Lower bound of the noise variance ``1 / beta`` (standardised units)."""


class SharedFeatures(nn.Module):
    """``phi(x)``: ``layers`` tanh layers of ``hidden`` units, then a constant unit.

    Args:
        d: Input dimensions (unit cube).
        hidden: Units per layer; the feature dimension is ``hidden + 1``.
        layers: Hidden layers.
    """

    def __init__(self, d: int, hidden: int = 50, layers: int = 3) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        for i in range(layers):
            mods += [nn.Linear(d if i == 0 else hidden, hidden), nn.Tanh()]
        self.net = nn.Sequential(*mods)
        self.d, self.dim = d, hidden + 1

    def forward(self, X: Tensor) -> Tensor:
        """``... x d`` -> ``... x (hidden + 1)``."""
        h = self.net(X)
        return torch.cat([h, torch.ones_like(h[..., :1])], dim=-1)

    def in_dtype(self, dtype: torch.dtype) -> SharedFeatures:
        """This map in ``dtype``: ``self`` when it already is, else a converted copy.

        ``nn.Module.to`` converts in place, and ``cached_shared_features`` hands one map to
        every model of a process, so a model never converts the map it was given.
        """
        if next(self.parameters()).dtype == dtype:
            return self
        return copy.deepcopy(self).to(dtype)


def blr_evidence(Phi: Tensor, y: Tensor, log_alpha: Tensor, log_beta: Tensor) -> Tensor:
    """Exact log evidence of Bayesian linear regression, ``log N(y | 0, Phi Phi^T / alpha + I /
    beta)``, in ``O(n D^2)``.

    Args:
        Phi: ``n x D`` features.
        y: ``n`` targets.
        log_alpha: Log prior precision of the weights (scalar).
        log_beta: Log noise precision (scalar).
    """
    n, D = Phi.shape
    alpha, beta = log_alpha.exp(), log_beta.exp()
    A = beta * Phi.T @ Phi + alpha * torch.eye(D, dtype=Phi.dtype)
    L = torch.linalg.cholesky(A)
    b = beta * Phi.T @ y
    m = torch.cholesky_solve(b[:, None], L).squeeze(-1)
    fit = beta * (y - Phi @ m).square().sum() + alpha * m.square().sum()
    logdet = 2 * torch.log(torch.diagonal(L)).sum()
    return 0.5 * (n * log_beta + D * log_alpha - fit - logdet - n * math.log(2 * math.pi))


def _standardise(y: np.ndarray | Tensor) -> Tensor:
    t = torch.as_tensor(np.asarray(y, dtype=float)).reshape(-1)
    return (t - t.mean()) / t.std().clamp_min(1e-9)


def fit_shared_features(tasks: list[tuple[np.ndarray, np.ndarray]], *, seed: int = 0,
                        hidden: int = 50, layers: int = 3, steps: int = 1500, lr: float = 3e-3,
                        dtype: torch.dtype = torch.float64,
                        num_threads: int | None = 1) -> SharedFeatures:
    """Learn ``phi`` on related tasks by the sum of their exact BLR log evidences (Adam, full batch).

    Args:
        tasks: ``(X_t, y_t)`` per task: ``n_t x d`` unit-cube inputs, ``n_t`` targets (any
            units; each task is standardised).
        seed: Seeds the network's initialisation (the global RNG is untouched).
        hidden: Units per hidden layer.
        layers: Hidden layers.
        steps: Adam steps.
        lr: Adam's learning rate.
        dtype: The network's dtype.
        num_threads: ``torch.set_num_threads`` while training.

    Returns:
        The trained map, frozen (``requires_grad`` off) and in eval mode; ``fit_info`` on it
        records the final mean log evidence per point and the seconds taken.
    """
    if not tasks:
        raise ValueError("fit_shared_features needs at least one related task")
    d = int(np.asarray(tasks[0][0]).shape[1])
    if any(np.asarray(X).shape[1] != d for X, _ in tasks):
        raise ValueError("every related task needs the same input dimension")
    t0 = time.perf_counter()
    with torch_threads(num_threads):
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        feats = SharedFeatures(d, hidden, layers).to(dtype)
        torch.random.set_rng_state(gen_state)
        data = [(torch.as_tensor(np.asarray(X), dtype=dtype), _standardise(y).to(dtype))
                for X, y in tasks]
        n_total = sum(len(y) for _, y in data)
        log_a = torch.zeros(len(data), dtype=dtype, requires_grad=True)
        log_b = torch.full((len(data),), math.log(10.0), dtype=dtype, requires_grad=True)
        opt = torch.optim.Adam([*feats.parameters(), log_a, log_b], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            ev = torch.stack([blr_evidence(feats(X), y, log_a[t],
                                           log_b[t].clamp(max=-math.log(MIN_NOISE)))
                              for t, (X, y) in enumerate(data)]).sum()
            loss = -ev / n_total
            loss.backward()
            opt.step()
    feats.eval()
    for p in feats.parameters():
        p.requires_grad_(False)
    feats.fit_info = {"seconds": time.perf_counter() - t0,  # type: ignore[assignment]
                      "mean_log_evidence": float(-loss.detach()), "tasks": len(data),
                      "points": n_total}
    return feats


class TransferBLR(Model):
    """The target task's Bayesian read-out on a frozen ``SharedFeatures`` map.

    ``fit`` standardises the targets, fits ``(alpha, beta)`` by the task's exact evidence
    (L-BFGS in log space from ``alpha = 1``, ``beta = 10``), and conditions the read-out;
    ``posterior`` is exact and joint over the ``q`` points.

    Args:
        features: The shared map (``fit_shared_features``); its input dimension must match.
        dtype: Model dtype; inputs are cast to it.
        num_threads: ``torch.set_num_threads`` during ``fit``.
    """

    _num_outputs = 1

    def __init__(self, features: SharedFeatures, dtype: torch.dtype = torch.float64,
                 num_threads: int | None = 1) -> None:
        super().__init__()
        self.features = features.in_dtype(dtype)
        self.model_dtype, self.num_threads = dtype, num_threads
        self.train_X = torch.empty(0, features.d, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.w_mean = torch.empty(0, dtype=dtype)
        self.w_chol = torch.empty(0, 0, dtype=dtype)  # Cholesky factor of the weights' precision
        self.noise = 1.0
        self.y_mean, self.y_std = 0.0, 1.0
        self.fit_info: dict[str, Any] = {}

    def fit(self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None) -> TransferBLR:
        """Fit ``(alpha, beta)`` and condition the read-out; return ``self``.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Ignored beyond the checks (the noise is learned); kept for the protocol.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        if X.shape[1] != self.features.d:
            raise ValueError(f"the shared features take {self.features.d} inputs, got {X.shape[1]}")
        t0 = time.perf_counter()
        with torch_threads(self.num_threads):
            y, self.y_mean, self.y_std = standardise_targets(Y)
            with torch.no_grad():
                Phi = self.features(X)
            raw = torch.tensor([0.0, math.log(10.0)], dtype=self.model_dtype, requires_grad=True)
            opt = torch.optim.LBFGS([raw], max_iter=100, line_search_fn="strong_wolfe")
            cap = -math.log(MIN_NOISE)

            def closure() -> Tensor:
                opt.zero_grad()
                loss = -blr_evidence(Phi, y, raw[0].clamp(-12, 12), raw[1].clamp(-5, cap))
                loss.backward()
                return loss

            opt.step(closure)
            log_a, log_b = float(raw.detach()[0].clamp(-12, 12)), float(raw.detach()[1].clamp(-5, cap))
            alpha, beta = math.exp(log_a), math.exp(log_b)
            D = Phi.shape[1]
            A = beta * Phi.T @ Phi + alpha * torch.eye(D, dtype=self.model_dtype)
            self.w_chol = jittered_cholesky(A, "transfer read-out")
            self.w_mean = beta * torch.cholesky_solve((Phi.T @ y)[:, None], self.w_chol).squeeze(-1)
            self.noise = 1.0 / beta
            evidence = float(blr_evidence(Phi, y, torch.tensor(log_a), torch.tensor(log_b)))
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self.fit_info = {"seconds": time.perf_counter() - t0, "n": X.shape[0], "alpha": alpha,
                         "noise_var": self.noise, "log_evidence": evidence, "warnings": []}
        return self

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(self, X: Tensor, output_indices: list[int] | None = None,
                  observation_noise: bool | Tensor = False, posterior_transform: Any = None,
                  **kwargs: Any) -> Posterior:
        """Joint posterior at ``X`` (``batch x q x d``, unit cube): a ``GPyTorchPosterior`` with
        ``.mean``/``.variance`` of shape ``batch x q x 1`` in the caller's units."""
        if self.w_mean.numel() == 0:
            raise RuntimeError("call fit() before posterior()")
        Phi = self.features(X.to(self.model_dtype))
        mean = Phi @ self.w_mean
        V = torch.linalg.solve_triangular(self.w_chol, Phi.transpose(-1, -2), upper=False)
        cov = V.transpose(-1, -2) @ V
        q = X.shape[-2]
        eye = torch.eye(q, dtype=self.model_dtype)
        cov = cov + (self.noise if observation_noise is True else 1e-10) * eye
        s = self.y_std
        return GPyTorchPosterior(MultivariateNormal(mean * s + self.y_mean, cov * s**2))


class TransferRFF(Model):
    """The GP's prior plus the related tasks' shape: a read-out over two feature blocks.

    ``f(x) = [sqrt(s_T) phi_T(x), phi_RFF(x)]^T w + c``, ``w ~ N(0, I)``: ``phi_T`` is the
    frozen ``SharedFeatures`` map learned on related tasks (scaled by ``s_T``, fitted),
    ``phi_RFF`` the random-Fourier layer of ``surrogates.rff`` (RBF, ARD lengthscales ``l``).
    The prior covariance is ``s_T phi_T(x)^T phi_T(x') + k_RBF((x - x') / l)``: a kernel that
    knows what the related tasks share, plus ``rff-kev``'s stationary kernel for what this task
    does differently. ``(s_T, l, sigma^2, c)`` maximise the exact kernel's evidence plus
    ``SingleTaskGP``'s log priors on ``l`` and ``sigma^2`` (as ``rff-kev``) and ``log s_T ~ N(0,
    2^2)``, on at most ``fit_points`` observations (the best quarter plus a seeded sample, as
    ``rff-kev``); the read-out conditions on the same subset, exactly and jointly over any ``q``
    points (the dual form: a query costs ``O(n m)`` with ``n <= fit_points``). Without related
    tasks (``features=None``) the model is the RFF block alone: ``rff-kev``'s network.

    Args:
        features: The shared map (``fit_shared_features``), or None.
        n_features: Random-Fourier units (``rff-kev``'s 2,048).
        fit_points: Cap on the points the hyperparameters are fitted on (and, by default,
            the read-out is conditioned on).
        condition_points: Cap on the points the read-out is conditioned on, the same kind of
            subset (None: ``fit_points``). Conditioning costs ``O(n m)`` per query, linear in
            ``n``; more than ``n_features`` points can starve the posterior variance.
        seed: Seeds the Fourier layer and the subsample.
        dtype: Model dtype.
        num_threads: ``torch.set_num_threads`` during ``fit``.
    """

    _num_outputs = 1

    def __init__(self, features: SharedFeatures | None, n_features: int = 2048,
                 fit_points: int = 256, condition_points: int | None = None, seed: int = 0,
                 dtype: torch.dtype = torch.float64,
                 num_threads: int | None = 1) -> None:
        super().__init__()
        if fit_points >= n_features:
            raise ValueError(f"fit_points ({fit_points}) must be below n_features ({n_features})")
        self.features = None if features is None else features.in_dtype(dtype)
        self.n_features, self.fit_points, self.seed = n_features, fit_points, seed
        self.condition_points = fit_points if condition_points is None else condition_points
        self.model_dtype, self.num_threads = dtype, num_threads
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.omega = self.phase = torch.empty(0, dtype=dtype)
        self.lengthscale = torch.empty(0, dtype=dtype)
        self.s_t, self.noise, self.constant = 0.0, 1.0, 0.0
        self.y_mean, self.y_std = 0.0, 1.0
        self.w_mean = torch.empty(0, dtype=dtype)
        self.w_root = torch.empty(0, 0, dtype=dtype)  # n x m: L^-1 Phi of the conditioning set
        self.fit_info: dict[str, Any] = {}

    def _phi(self, X: Tensor) -> Tensor:
        rff = rff_features(X, self.omega, self.phase, self.lengthscale, 1.0)
        if self.features is None:
            return rff
        return torch.cat([math.sqrt(self.s_t) * self.features(X), rff], dim=-1)

    def fit(self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None) -> TransferRFF:
        """Fit the hyperparameters by the exact evidence, condition the read-out; return ``self``.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²), added to the
                learned ``sigma^2`` point by point.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        d = X.shape[1]
        if self.features is not None and d != self.features.d:
            raise ValueError(f"the shared features take {self.features.d} inputs, got {d}")
        t0 = time.perf_counter()
        with torch_threads(self.num_threads):
            y, self.y_mean, self.y_std = standardise_targets(Y)
            extra = None if Yvar is None else Yvar.squeeze(-1) / self.y_std**2
            keep = capped_indices(Y, self.fit_points, 0.25, self.seed)
            Xf, yf = X[keep], y[keep]
            ef = torch.zeros_like(yf) if extra is None else extra[keep]
            G = torch.zeros(len(yf), len(yf), dtype=self.model_dtype)
            if self.features is not None:
                with torch.no_grad():
                    Pt = self.features(Xf)
                G = Pt @ Pt.T
            loc, scale = lengthscale_prior(d)
            start = [0.0 if self.features is not None else -10.0, math.log(1e-2), 0.0]
            raw = torch.tensor(start + [loc - scale**2] * d, dtype=self.model_dtype,
                               requires_grad=True)
            use_t = self.features is not None

            def unpack(r: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
                s_t = r[0].clamp(-10, 6).exp() if use_t else torch.zeros((), dtype=r.dtype)
                return (s_t, r[1].exp().clamp_min(RFF_MIN_NOISE), r[2],
                        r[3:].exp().clamp_min(MIN_LENGTHSCALE))

            def neg_map() -> Tensor:
                s_t, noise, c, ls = unpack(raw)
                K = s_t * G + kernel_matrix(Xf, ls, 1.0, "rbf") + torch.diag(noise + ef)
                L = _chol(K)
                r = (yf - c)[:, None]
                a = torch.cholesky_solve(r, L)
                ev = -0.5 * (r * a).sum() - torch.log(torch.diagonal(L)).sum()
                prior = _lognormal_logpdf(ls, loc, scale) + _lognormal_logpdf(noise, *NOISE_PRIOR)
                if use_t:
                    prior = prior - 0.125 * raw[0] ** 2
                return -(ev + prior)

            opt = torch.optim.LBFGS([raw], max_iter=100, line_search_fn="strong_wolfe")
            # a non-PD step: back to the best point evaluated (``rff.step_keeping_best``)
            failed = step_keeping_best(opt, neg_map, [raw])
            with torch.no_grad():
                s_t, noise, c, ls = unpack(raw.detach())
                log_map = -float(neg_map())
            self.s_t, self.noise, self.constant = float(s_t), float(noise), float(c)
            self.lengthscale = ls.clone()
            gen = torch.Generator().manual_seed(self.seed)
            self.omega, self.phase = draw_frequencies(self.n_features, d, "rbf", gen,
                                                      self.model_dtype)
            if self.condition_points != self.fit_points:
                keep_c = capped_indices(Y, self.condition_points, 0.25, self.seed)
                Xf, yf = X[keep_c], y[keep_c]
                ef = torch.zeros_like(yf) if extra is None else extra[keep_c]
            with torch.no_grad():
                Phi = self._phi(Xf)
                L = jittered_cholesky(Phi @ Phi.T + torch.diag(self.noise + ef), "transfer read-out")
                alpha = torch.cholesky_solve((yf - self.constant)[:, None], L).squeeze(-1)
                self.w_mean = Phi.T @ alpha
                self.w_root = torch.linalg.solve_triangular(L, Phi, upper=False)
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self.fit_info = {"seconds": time.perf_counter() - t0, "n": X.shape[0],
                         "n_fit": int(keep.numel()), "n_condition": int(yf.numel()),
                         "related": self.features is not None,
                         "transfer_scale": self.s_t, "noise_var": self.noise,
                         "lengthscale": [round(v, 4) for v in self.lengthscale.tolist()],
                         "log_map": log_map, "failed_steps": int(failed),
                         "warnings": ["the hyperparameter fit hit a non-positive-definite step "
                                      "and went on from the best point before it"]
                         if failed else []}
        return self

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(self, X: Tensor, output_indices: list[int] | None = None,
                  observation_noise: bool | Tensor = False, posterior_transform: Any = None,
                  **kwargs: Any) -> Posterior:
        """Joint posterior of the latent function at ``X`` (``batch x q x d``): a
        ``GPyTorchPosterior`` with ``.mean``/``.variance`` ``batch x q x 1``, caller's units
        (``observation_noise=True`` adds the learned noise)."""
        if self.w_mean.numel() == 0:
            raise RuntimeError("call fit() before posterior()")
        Phi = self._phi(X.to(self.model_dtype))
        mean = Phi @ self.w_mean + self.constant
        V = Phi @ self.w_root.T  # batch x q x n
        cov = Phi @ Phi.transpose(-1, -2) - V @ V.transpose(-1, -2)
        eye = torch.eye(X.shape[-2], dtype=self.model_dtype)
        cov = cov + (self.noise if observation_noise is True else 1e-10) * eye
        s = self.y_std
        return GPyTorchPosterior(MultivariateNormal(mean * s + self.y_mean, cov * s**2))


_FEATURE_CACHE: dict[tuple[str, int], SharedFeatures] = {}


def cached_shared_features(tasks: list[tuple[np.ndarray, np.ndarray]], seed: int = 0,
                           **kwargs: Any) -> SharedFeatures:
    """``fit_shared_features`` once per process for the same data and seed (a study refits its
    surrogate many times on the same related tasks)."""
    import hashlib

    h = hashlib.sha256()
    for X, y in tasks:
        h.update(np.ascontiguousarray(X, dtype=float).tobytes())
        h.update(np.ascontiguousarray(y, dtype=float).tobytes())
    h.update(repr(sorted(kwargs.items())).encode())
    key = (h.hexdigest(), seed)
    if key not in _FEATURE_CACHE:
        _FEATURE_CACHE[key] = fit_shared_features(tasks, seed=seed, **kwargs)
    return _FEATURE_CACHE[key]
