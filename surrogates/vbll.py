"""Variational Bayesian last layers (Harrison et al. 2024; Brunzema et al. 2025) as a BoTorch model.

An MLP ``phi: [0, 1]^d -> R^D`` (the features) is followed by a Bayesian linear last layer
``f(x) = w^T phi(x)`` with a Gaussian variational posterior ``q(w) = N(mu, L L^T)`` (dense
``L``), a prior ``w ~ N(0, prior_scale / D * I)`` and Gaussian noise ``sigma^2`` under a Wishart
(here: Gamma on ``1 / sigma^2``) prior. Features, ``q`` and ``sigma^2`` are trained jointly on
the VBLL objective, a deterministic lower bound of the marginal likelihood (no sampling)::

    loss = mean_i [ -log N(y_i | mu^T phi_i, s_i^2) + phi_i^T L L^T phi_i / (2 s_i^2) ]
           + (KL(q || prior) - log Wishart(1 / sigma^2)) / n,      s_i^2 = sigma^2 + yvar_i

With ``exact_head`` the last layer is then set to its optimum under that objective for the final
features, which is the exact Bayesian linear-regression posterior
``Sigma = (Phi^T W Phi + D / prior_scale I)^-1``, ``mu = Sigma Phi^T W y``, ``W = diag(1/s_i^2)``.

The posterior is represented by ``S`` last-layer samples ``w_s ~ N(mu, Sigma)`` drawn once per
fit (antithetic pairs, so their mean is exactly ``mu``), and ``forward`` returns
``phi(x)^T w_s`` for every ``s``. A sample is one function shared by all ``q`` points of a batch,
so the q-batch posterior is joint (botorch_community's ``VBLLModel.posterior`` is diagonal across
points), and every BoTorch MC acquisition works unchanged.

With ``posterior_noise`` every sample contributes the two functions ``phi^T w_s -/+ sigma``
(the two-point rule of ``surrogates._neural``): the posterior variance becomes VBLL's
predictive variance ``phi^T Sigma phi + sigma^2``, and each member is still one function across
the ``q`` points. On a noise-free function ``sigma^2`` holds model error, not observation noise.

Calibration comes from the step budget, as in the reference implementations (vbll and
botorch_community start ``sigma^2`` at 1 or more and stop early): ``log sigma^2`` starts at 0 and
falls at Adam's pace while the features fit. Trained to convergence (a 10x faster rate for the
noise), ``sigma^2`` shrank to the training residual and the posterior became badly overconfident
on Hartmann-6 (n = 50: held-out NLL 224, 90% coverage 0.22); evidence or leave-one-out tuning of
``sigma^2`` on the trained features was as overconfident (the features have seen every point).
With the default 400 steps: NLL 0.46 / -0.12 and coverage 0.84 / 0.94 at n = 50 / 200 (seeds
100-102, 500 held out); without ``posterior_noise`` the same fits gave coverage 0.41 / 0.55.

No warm start: Brunzema et al. continue training from the previous fit's weights as data grow.
That makes a fit depend on the history of earlier fits, not only on its data and seed, and the
proposer builds a fresh model for each fit (``hyperpilot.methods.fitting``), so a fit here is a
pure function of ``(train_X, train_Y, train_Yvar, seed)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Literal

import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor

from surrogates._data import check_training_data, torch_threads
from surrogates._flat import jittered_cholesky, linear_init

Activation = Literal["elu", "tanh", "silu", "relu"]


class VBLL(EnsembleModel):
    """MLP features with a variational Bayesian last layer; joint last-layer samples.

    Defaults (Hartmann-6, n = 50 and 200, 500 held out, seeds 100-102; ``paper/scripts/
    surrogate_quality.py``-style): 400 steps balance ranking and calibration (300: Spearman
    0.75 / 0.90, NLL 0.39 / -0.07; 600: 0.78 / 0.91, NLL 0.70 / -0.18); width 64, depth 2,
    lr 1e-3 with 800 steps, minibatches of 64, prior scale 3 and the variational (not exact)
    head were no better; ``wishart_scale`` (0.01 .. 1) made no difference at this budget; tanh
    features ranked far worse than ELU (Spearman 0.60 vs 0.80 at n = 50).

    Args:
        width: Hidden units per layer (the feature dimension ``D``).
        depth: Hidden layers.
        activation: ``"elu"``, ``"tanh"``, ``"silu"`` or ``"relu"``.
        n_samples: Last-layer samples ``S`` of the posterior (even: antithetic pairs).
        max_steps: Adam steps on the VBLL objective.
        lr: Adam learning rate (cosine-decayed to 1% over the steps).
        weight_decay: Decoupled weight decay of the feature network (not the last layer).
        batch_size: Minibatch size; full batch when ``n <= batch_size``.
        prior_scale: Prior variance of the last-layer weights times ``D`` (standardised
            output units).
        wishart_scale: Scale of the Wishart prior on the noise precision; its mode is at
            ``sigma^2 = wishart_scale / 3`` (standardised units), with the weight of about one
            observation.
        exact_head: After training, set ``q(w)`` to the exact conjugate posterior for the final
            features and noise.
        posterior_noise: Add the learned noise to the posterior as ``-/+ sigma`` shifts of every
            sample (``2S`` members; see the module docstring).
        clip_norm: Gradient-norm clipping threshold (None: no clipping).
        seed: Seeds the initialisation, minibatches and posterior samples.
        dtype: Model dtype; inputs are cast to it, and features are evaluated in it.
        num_threads: ``torch.set_num_threads`` during ``fit``.
    """

    _num_outputs = 1

    def __init__(
        self,
        width: int = 128,
        depth: int = 3,
        activation: Activation = "elu",
        n_samples: int = 64,
        max_steps: int = 400,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 512,
        prior_scale: float = 1.0,
        wishart_scale: float = 0.01,
        exact_head: bool = True,
        posterior_noise: bool = True,
        clip_norm: float | None = 1.0,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        num_threads: int | None = 1,
    ) -> None:
        super().__init__()
        if n_samples < 2 or n_samples % 2:
            raise ValueError("n_samples must be even and >= 2 (antithetic pairs)")
        self.width, self.depth, self.activation = width, depth, activation
        self.n_samples, self.max_steps, self.lr = n_samples, max_steps, lr
        self.weight_decay, self.batch_size, self.clip_norm = weight_decay, batch_size, clip_norm
        self.prior_scale, self.wishart_scale, self.exact_head = prior_scale, wishart_scale, exact_head
        self.posterior_noise = posterior_noise
        self.seed, self.model_dtype, self.num_threads = seed, dtype, num_threads
        self.params: list[Tensor] = []  # feature network [W_1, b_1, ..., W_depth, b_depth]
        self.head_mean = torch.empty(0, dtype=dtype)  # D
        self.head_chol = torch.empty(0, 0, dtype=dtype)  # D x D lower-triangular
        self.samples = torch.empty(0, 0, dtype=dtype)  # D x S last-layer weights
        self.noise_var = float("nan")
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_info: dict[str, Any] = {}
        self._y_mean, self._y_std = 0.0, 1.0

    # ------------------------------------------------------------------ public API
    def fit(self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None) -> VBLL:
        """Train features, last layer and noise on the VBLL objective; draw the ``S`` samples.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²), added to
                ``sigma^2`` point by point.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        gen = torch.Generator().manual_seed(self.seed)
        t0 = time.perf_counter()
        warnings: list[str] = []
        with torch_threads(self.num_threads):
            self._y_mean = Y.mean().item()
            self._y_std = max(Y.std().item(), 1e-9) if Y.shape[0] > 1 else 1.0
            y = ((Y - self._y_mean) / self._y_std).squeeze(-1)
            extra = None if Yvar is None else (Yvar / self._y_std**2).squeeze(-1)
            x = 2.0 * X - 1.0
            loss = self._train(x, y, extra, gen, warnings)
            if self.exact_head:
                self._exact_head(x, y, extra)
            z = torch.randn(self.width, self.n_samples // 2, generator=gen, dtype=self.model_dtype)
            dw = self.head_chol @ z
            self.samples = self.head_mean[:, None] + torch.cat([dw, -dw], dim=1)
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self.fit_info = {
            "seconds": time.perf_counter() - t0,
            "n": X.shape[0],
            "steps": self.max_steps,
            "loss": loss,
            "noise_var": self.noise_var,
            "warnings": warnings,
        }
        self.eval()
        return self

    def forward(self, X: Tensor) -> Tensor:
        """Posterior function samples at ``X``.

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x s x n x 1`` values in the caller's units: ``s = 2S`` with
            ``posterior_noise`` (every sample -/+ ``sigma``), ``s = S`` without.
        """
        if not self.params:
            raise RuntimeError("call fit() before posterior()")
        phi = _features(self.params, 2.0 * X.to(self.model_dtype) - 1.0, self.activation)
        out = (phi @ self.samples).transpose(-1, -2)  # batch x S x n
        if self.posterior_noise:
            sd = math.sqrt(self.noise_var)
            out = torch.cat([out - sd, out + sd], dim=-2)
        return (out * self._y_std + self._y_mean).unsqueeze(-1)

    # ------------------------------------------------------------------ internals
    def _train(self, x: Tensor, y: Tensor, extra: Tensor | None, gen: torch.Generator,
               warnings: list[str]) -> float:
        """Adam on the VBLL objective (float32); leaves float64 weights in ``self``."""
        f32 = torch.float32
        n, D = x.shape[0], self.width
        params = [p.requires_grad_(True) for p in _init_params(x.shape[-1], D, self.depth, gen, f32)]
        mean = (torch.randn(D, generator=gen, dtype=f32) / math.sqrt(D)).requires_grad_(True)
        logdiag = torch.full((D,), -0.5 * math.log(D), dtype=f32, requires_grad=True)
        offdiag = torch.zeros(D, D, dtype=f32, requires_grad=True)
        log_noise = torch.tensor(0.0, dtype=f32, requires_grad=True)
        head = [mean, logdiag, offdiag, log_noise]
        opt = torch.optim.AdamW([{"params": params, "weight_decay": self.weight_decay},
                                 {"params": head, "weight_decay": 0.0}], lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.max_steps,
                                                           eta_min=self.lr * 0.01)
        xs, ys = x.to(f32), y.to(f32)
        es = None if extra is None else extra.to(f32)
        prior_var = self.prior_scale / D
        loss = torch.tensor(float("nan"))
        for step in range(self.max_steps):
            if n > self.batch_size:
                idx = torch.randint(n, (self.batch_size,), generator=gen)
                xb, yb, eb = xs[idx], ys[idx], None if es is None else es[idx]
            else:
                xb, yb, eb = xs, ys, es
            L = torch.tril(offdiag, -1) + torch.diag(logdiag.exp())
            loss = _vbll_loss(_features(params, xb, self.activation), yb, eb, mean, L, log_noise,
                              prior_var, self.wishart_scale, n)
            if not torch.isfinite(loss):
                warnings.append(f"non-finite VBLL loss at step {step}; kept the last weights")
                break
            opt.zero_grad()
            loss.backward()
            if self.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params + head, self.clip_norm)
            opt.step()
            sched.step()
        dt = self.model_dtype
        self.params = [p.detach().to(dt) for p in params]
        self.head_mean = mean.detach().to(dt)
        self.head_chol = (torch.tril(offdiag, -1) + torch.diag(logdiag.exp())).detach().to(dt)
        self.noise_var = float(log_noise.detach().exp())
        return float(loss.detach())

    def _exact_head(self, x: Tensor, y: Tensor, extra: Tensor | None) -> None:
        """The conjugate last-layer posterior for the trained features and noise (float64)."""
        phi = _features(self.params, x, self.activation)  # n x D
        noise = torch.full_like(y, self.noise_var) if extra is None else self.noise_var + extra
        A = phi.T @ (phi / noise[:, None])
        A = A + torch.eye(self.width, dtype=A.dtype) * (self.width / self.prior_scale)
        U = jittered_cholesky(A, "VBLL last-layer precision")  # A = U U^T, so Sigma = U^-T U^-1
        self.head_mean = torch.cholesky_solve((phi.T @ (y / noise))[:, None], U).squeeze(-1)
        eye = torch.eye(self.width, dtype=A.dtype)
        self.head_chol = torch.linalg.solve_triangular(U.T, eye, upper=True)  # U^-T: Sigma = C C^T


def _vbll_loss(phi: Tensor, y: Tensor, extra: Tensor | None, mean: Tensor, L: Tensor,
               log_noise: Tensor, prior_var: float, wishart_scale: float, n: int) -> Tensor:
    """The negative VBLL bound per training point (see the module docstring).

    Args:
        phi: ``m x D`` features of a minibatch; ``y``: its ``m`` targets; ``extra``: its ``m``
            known noise variances or None (standardised units).
        mean, L: The last layer's variational mean ``D`` and lower Cholesky factor ``D x D``.
        log_noise: ``log sigma^2``.
        prior_var: Prior variance of each last-layer weight.
        wishart_scale: Scale of the Wishart prior on ``1 / sigma^2``.
        n: Number of training points (weight of the KL and noise prior terms: ``1 / n``).
    """
    noise = log_noise.exp() if extra is None else log_noise.exp() + extra
    resid = y - phi @ mean
    trace = (phi @ L).pow(2).sum(-1)  # phi^T L L^T phi
    fit = 0.5 * (torch.log(noise) + (resid.pow(2) + trace) / noise).mean()
    D = mean.shape[0]
    kl = 0.5 * ((mean.pow(2).sum() + L.pow(2).sum()) / prior_var
                + D * math.log(prior_var) - 2 * torch.log(L.diagonal()).sum() - D)
    dof = 1.5  # (1 + output dim + 1) / 2, vbll's default for one output
    wishart = -dof * log_noise - 0.5 * wishart_scale * torch.exp(-log_noise)
    return fit + (kl - wishart) / n


def _init_params(d: int, width: int, depth: int, gen: torch.Generator,
                 dtype: torch.dtype) -> list[Tensor]:
    """``[W_1, b_1, ...]`` of layer widths ``[d] + [width] * depth`` (``surrogates._flat``)."""
    return linear_init([d] + [width] * depth, gen, dtype)


_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "elu": torch.nn.functional.elu, "tanh": torch.tanh, "silu": torch.nn.functional.silu,
    "relu": torch.relu}


def _features(params: list[Tensor], x: Tensor, kind: str) -> Tensor:
    """Features ``... x n x D`` at ``x`` (``... x n x d``, in ``[-1, 1]^d``)."""
    act = _ACTIVATIONS[kind]
    h = x
    for i in range(0, len(params), 2):
        h = act(h @ params[i] + params[i + 1])
    return h
