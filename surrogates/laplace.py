"""Linearized-Laplace MLP (Kristiadi et al. 2023; Immer et al. 2021) as a BoTorch model.

One MLP ``f(x; theta)`` is trained to its MAP estimate ``theta*`` under a Gaussian prior
``N(0, 1/delta)`` on the weights and Gaussian noise ``sigma^2``. Linearised around ``theta*``,
``f(x; theta) ~ f(x; theta*) + J(x) (theta - theta*)`` with the generalised Gauss-Newton
posterior ``theta - theta* ~ N(0, H^-1)``, ``H = delta I + J^T J / sigma^2``. The function-space
posterior is a GP whose kernel is the network's empirical NTK, ``k(x, x') = J(x) J(x')^T / delta``,
and whose mean is the trained network. ``delta`` and ``sigma^2`` maximise the Laplace evidence
(closed form from the eigenvalues of ``J^T J``), and the network is refined once at the new
values.

The posterior is represented by ``S`` joint weight-space samples ``Delta_s ~ N(0, H^-1)``
(antithetic pairs, so the sample mean is exactly the network), and ``forward`` returns
``f(x; theta*) + J(x) Delta_s`` for every ``s``, computed by one forward-mode pass. A sample is
one function, shared by all ``q`` points of a batch: the batch posterior is joint, unlike a
diagonal one. Being an ``EnsembleModel``, every MC acquisition function works unchanged.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor

from surrogates._data import check_training_data, torch_threads

Activation = Literal["tanh", "silu", "relu"]


class LinearizedLaplace(EnsembleModel):
    """Linearized-Laplace MLP surrogate with an evidence-tuned prior and noise.

    Args:
        width: Hidden units per layer.
        depth: Hidden layers.
        activation: ``"tanh"``, ``"silu"`` or ``"relu"``.
        n_samples: Posterior function samples ``S`` (even: antithetic pairs).
        max_steps: Adam steps of the MAP fit (a refinement after tuning takes a quarter).
        lr: Adam learning rate (cosine-decayed to 1% over the steps).
        batch_size: Minibatch size; full batch when ``n <= batch_size``.
        prior_precision: ``delta`` before tuning (per weight, standardised output units).
        noise_var: ``sigma^2`` before tuning, in standardised output units.
        tune: Maximise the Laplace evidence over ``delta`` and ``sigma^2``.
        min_noise_var: Floor of ``sigma^2`` (standardised units).
        seed: Seeds the initialisation, minibatches and posterior samples.
        dtype: Model dtype; inputs are cast to it.
        num_threads: ``torch.set_num_threads`` during ``fit``.
    """

    _num_outputs = 1

    def __init__(
        self,
        width: int = 64,
        depth: int = 2,
        activation: Activation = "silu",
        n_samples: int = 64,
        max_steps: int = 1000,
        lr: float = 1e-2,
        batch_size: int = 512,
        prior_precision: float = 1.0,
        noise_var: float = 1e-3,
        tune: bool = True,
        embed: bool = True,
        tune_points: int = 500,
        tune_steps: int = 100,
        tune_rounds: int = 1,
        min_noise_var: float = 1e-6,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        num_threads: int | None = 1,
    ) -> None:
        super().__init__()
        if n_samples < 2 or n_samples % 2:
            raise ValueError("n_samples must be even and >= 2 (antithetic pairs)")
        self.width, self.depth, self.activation = width, depth, activation
        self.n_samples, self.max_steps, self.lr, self.batch_size = n_samples, max_steps, lr, batch_size
        self.prior_precision, self.noise_var0, self.tune = prior_precision, noise_var, tune
        self.tune_points, self.tune_steps, self.tune_rounds = tune_points, tune_steps, tune_rounds
        self.layer_prec: list[float] = [prior_precision] * (depth + 1)
        self.noise_var = noise_var
        self.min_noise_var, self.seed, self.model_dtype = min_noise_var, seed, dtype
        self.num_threads, self.embed = num_threads, embed
        self.params: list[Tensor] = []
        self.deltas: list[Tensor] = []  # per parameter: S x param.shape
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_info: dict[str, Any] = {}
        self._y_mean, self._y_std = 0.0, 1.0

    # ------------------------------------------------------------------ public API
    def fit(
        self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None
    ) -> LinearizedLaplace:
        """MAP-train the network, tune ``delta`` and ``sigma^2``, and draw the posterior samples.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²), added to
                ``sigma^2`` point by point.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        gen = torch.Generator().manual_seed(self.seed)
        t0 = time.perf_counter()
        with torch_threads(self.num_threads):
            self._y_mean = Y.mean().item()
            self._y_std = max(Y.std().item(), 1e-9) if Y.shape[0] > 1 else 1.0
            y = ((Y - self._y_mean) / self._y_std).squeeze(-1)
            extra = None if Yvar is None else (Yvar / self._y_std**2).squeeze(-1)
            x = self._to_net(X)
            fan_in = [x.shape[-1]] + [self.width] * self.depth
            self.layer_prec = [self.prior_precision * f for f in fan_in]
            self.noise_var = self.noise_var0
            self.params = _init_params(x.shape[-1], self.width, self.depth, gen, self.model_dtype)
            self._train(x, y, extra, self.max_steps, gen)
            evidence = float("nan")
            for _ in range(self.tune_rounds if self.tune else 0):
                J = self._jacobian(x)
                evidence = self._tune(J, x, y, extra)
                self._train(x, y, extra, max(1, self.max_steps // 4), gen)
            J = self._jacobian(x)
            self.deltas = self._sample(J, extra, gen)
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self.fit_info = {
            "seconds": time.perf_counter() - t0,
            "n": X.shape[0],
            "n_params": sum(p.numel() for p in self.params),
            "prior_precision": list(self.layer_prec),
            "noise_var": self.noise_var,
            "log_evidence": evidence,
            "warnings": [],
        }
        self.eval()
        return self

    def forward(self, X: Tensor) -> Tensor:
        """Posterior function samples at ``X``.

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x S x n x 1`` values in the caller's units.
        """
        if not self.params:
            raise RuntimeError("call fit() before posterior()")
        x = self._to_net(X.to(self.model_dtype))
        mean, tangent = _linearized(self.params, self.deltas, x, self.activation)
        out = mean.unsqueeze(-2) + tangent  # batch x S x n
        return (out * self._y_std + self._y_mean).unsqueeze(-1)

    def noise_variance(self, X: Tensor) -> Tensor:
        """The tuned observation noise ``sigma^2`` at ``X`` (the posterior samples leave it out).

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x n x 1`` variances in the caller's units² (the same at every point).
        """
        if not self.params:
            raise RuntimeError("call fit() before noise_variance()")
        var = self.noise_var * self._y_std**2
        return torch.full((*X.shape[:-1], 1), var, dtype=self.model_dtype)

    # ------------------------------------------------------------------ internals
    def _to_net(self, X: Tensor) -> Tensor:
        """Unit cube -> the network's input: ``[-1, 1]^d``, or with ``embed`` each coordinate
        ``u`` as ``(cos(pi u), sin(pi u)) / sqrt(d)``: every input then has unit norm, so the
        NTK's prior variance is the same everywhere instead of growing towards the corners."""
        if not self.embed:
            return 2.0 * X - 1.0
        a = math.pi * X
        return torch.cat([a.cos(), a.sin()], dim=-1) / math.sqrt(X.shape[-1])


    def _train(self, x: Tensor, y: Tensor, extra: Tensor | None, steps: int,
               gen: torch.Generator) -> None:
        params = [p.detach().to(torch.float32).requires_grad_(True) for p in self.params]
        xs, ys = x.to(torch.float32), y.to(torch.float32)
        w = None if extra is None else (self.noise_var / (self.noise_var + extra)).to(torch.float32)
        opt = torch.optim.Adam(params, lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=self.lr * 0.01)
        n = x.shape[0]
        regs = [self.noise_var * d / n for d in self.layer_prec for _ in range(2)]
        for _ in range(steps):
            if n > self.batch_size:
                idx = torch.randint(n, (self.batch_size,), generator=gen)
                xb, yb, wb = xs[idx], ys[idx], None if w is None else w[idx]
            else:
                xb, yb, wb = xs, ys, w
            err = (_mlp(params, xb, self.activation) - yb) ** 2
            mse = err.mean() if wb is None else (err * wb).mean()
            loss = mse + sum(r * (p**2).sum() for r, p in zip(regs, params, strict=True))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.params = [p.detach().to(self.model_dtype) for p in params]

    def _jacobian(self, x: Tensor) -> Tensor:
        """``n x P`` Jacobian of the network outputs at ``x`` w.r.t. the flattened weights."""
        from torch.func import jacrev, vmap

        def f(params: tuple[Tensor, ...], xi: Tensor) -> Tensor:
            return _mlp(list(params), xi.unsqueeze(0), self.activation).squeeze(0)

        jac = vmap(jacrev(f), in_dims=(None, 0))(tuple(self.params), x)
        return torch.cat([j.reshape(x.shape[0], -1) for j in jac], dim=1)

    def _tune(self, J: Tensor, x: Tensor, y: Tensor, extra: Tensor | None) -> float:
        """Maximise the Laplace log evidence over one prior precision per layer and ``sigma^2``.

        ``log Z = -RSS / (2 sigma^2) - n/2 log sigma^2 - sum_l delta_l |theta_l|^2 / 2
        - 1/2 log det(I + J Lambda^-1 J^T / sigma^2)`` (the prior's and the Hessian's
        ``log delta`` terms cancel), on at most ``tune_points`` points, by Adam in log space.
        """
        n = J.shape[0]
        if n > self.tune_points:
            idx = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed))
            idx = idx[: self.tune_points]
            J, x, y = J[idx], x[idx], y[idx]
            extra = None if extra is None else extra[idx]
        m = J.shape[0]
        rss_terms = (_mlp(self.params, x, self.activation) - y) ** 2
        sizes = [self.params[i].numel() + self.params[i + 1].numel()
                 for i in range(0, len(self.params), 2)]
        sq = torch.tensor([float((self.params[i] ** 2).sum() + (self.params[i + 1] ** 2).sum())
                           for i in range(0, len(self.params), 2)], dtype=J.dtype)
        grams = []  # per layer: m x m Gram matrix J_l J_l^T (the kernel is sum_l G_l / delta_l)
        i = 0
        for size in sizes:
            grams.append(J[:, i:i + size] @ J[:, i:i + size].T)
            i += size
        G = torch.stack(grams)
        log_d = torch.tensor([math.log(p) for p in self.layer_prec], dtype=J.dtype,
                             requires_grad=True)
        log_s = torch.tensor(math.log(self.noise_var), dtype=J.dtype, requires_grad=True)
        opt = torch.optim.Adam([log_d, log_s], lr=0.1)
        eye = torch.eye(m, dtype=J.dtype)
        lo = math.log(self.min_noise_var)
        best = (-float("inf"), list(self.layer_prec), self.noise_var)
        for _ in range(self.tune_steps):
            s2 = log_s.clamp_min(lo).exp()
            noise = s2.expand(m) if extra is None else s2 + extra
            r = noise.rsqrt()
            K = (G * (-log_d).exp()[:, None, None]).sum(0)
            L, _ = torch.linalg.cholesky_ex(eye + r[:, None] * K * r[None, :])
            ev = (-(rss_terms / (2 * noise)).sum() - 0.5 * torch.log(noise).sum()
                  - (log_d.exp() * sq).sum() / 2 - L.diagonal().log().sum())
            if float(ev.detach()) > best[0]:
                best = (float(ev.detach()), [math.exp(v) for v in log_d.tolist()],
                        math.exp(max(float(log_s.detach()), lo)))
            opt.zero_grad()
            (-ev).backward()
            opt.step()
        _, self.layer_prec, self.noise_var = best
        return best[0]

    def _prec_vector(self, dtype: torch.dtype) -> Tensor:
        """``P`` prior precisions, one per flattened weight (layer-wise values)."""
        return torch.cat([torch.full((self.params[i].numel() + self.params[i + 1].numel(),), d,
                                     dtype=dtype)
                          for i, d in zip(range(0, len(self.params), 2), self.layer_prec,
                                          strict=True)])

    def _sample(self, J: Tensor, extra: Tensor | None, gen: torch.Generator) -> list[Tensor]:
        """``S`` antithetic samples of ``theta - theta* ~ N(0, H^-1)``, split per parameter."""
        n, P = J.shape
        half = self.n_samples // 2
        noise = torch.full((n,), self.noise_var, dtype=J.dtype)
        if extra is not None:
            noise = noise + extra
        prec = self._prec_vector(J.dtype)
        z = torch.randn(P, half, generator=gen, dtype=J.dtype)
        if n <= P:  # function space: pathwise update of a prior sample (Matheron's rule)
            Jp = J / prec.sqrt()
            K = Jp @ Jp.T + torch.diag(noise)
            eps = torch.randn(n, half, generator=gen, dtype=J.dtype) * noise.sqrt()[:, None]
            prior = z / prec.sqrt()[:, None]
            L = _cholesky(K)
            resid = torch.cholesky_solve(J @ prior + eps, L)
            dtheta = prior - (J.T @ resid) / prec[:, None]
        else:  # weight space: H = Lambda + J^T diag(1/noise) J
            H = J.T @ (J / noise[:, None]) + torch.diag(prec)
            L = _cholesky(H)
            dtheta = torch.linalg.solve_triangular(L.T, z, upper=True)
        dtheta = torch.cat([dtheta, -dtheta], dim=1).T  # S x P
        out, i = [], 0
        for p in self.params:
            out.append(dtheta[:, i:i + p.numel()].reshape(-1, *p.shape))
            i += p.numel()
        return out


def _cholesky(A: Tensor) -> Tensor:
    """Cholesky factor with growing jitter on failure."""
    jitter = 1e-10 * float(A.diagonal().mean().clamp_min(1e-12))
    for _ in range(8):
        L, info = torch.linalg.cholesky_ex(A + jitter * torch.eye(A.shape[0], dtype=A.dtype))
        if int(info) == 0:
            return L
        jitter *= 10
    raise RuntimeError("Laplace posterior covariance is not positive definite")


def _init_params(d: int, width: int, depth: int, gen: torch.Generator,
                 dtype: torch.dtype) -> list[Tensor]:
    """``[W_1, b_1, ..., W_L, b_L]`` with PyTorch's ``nn.Linear`` initial range."""
    sizes = [d] + [width] * depth + [1]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1.0 / math.sqrt(fan_in)
        params.append((torch.rand(fan_in, fan_out, generator=gen, dtype=dtype) * 2 - 1) * bound)
        params.append((torch.rand(fan_out, generator=gen, dtype=dtype) * 2 - 1) * bound)
    return params


def _act(a: Tensor, kind: str) -> tuple[Tensor, Tensor]:
    """Activation value and derivative at ``a``."""
    if kind == "tanh":
        h = torch.tanh(a)
        return h, 1 - h**2
    if kind == "silu":
        s = torch.sigmoid(a)
        return a * s, s * (1 + a * (1 - s))
    return torch.relu(a), (a > 0).to(a.dtype)


def _mlp(params: list[Tensor], x: Tensor, kind: str) -> Tensor:
    """Network output ``... x n`` at ``x`` (``... x n x d``, in ``[-1, 1]^d``)."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = _act(h @ params[i] + params[i + 1], kind)[0]
    return (h @ params[-2] + params[-1]).squeeze(-1)


def _linearized(params: list[Tensor], deltas: list[Tensor], x: Tensor,
                kind: str) -> tuple[Tensor, Tensor]:
    """Network output and its directional derivatives along every sampled ``Delta_s``.

    Args:
        params: The MAP weights ``[W_1, b_1, ...]``.
        deltas: Per weight tensor, ``S x shape`` perturbations.
        x: ``batch x n x d`` inputs in ``[-1, 1]^d``.

    Returns:
        ``batch x n`` outputs and ``batch x S x n`` tangents ``J(x) Delta_s``.
    """
    h = x
    dh: Tensor | None = None  # batch x S x n x width
    n_layers = len(params) // 2
    for k in range(n_layers):
        W, b, dW, db = params[2 * k], params[2 * k + 1], deltas[2 * k], deltas[2 * k + 1]
        a = h @ W + b
        da = h.unsqueeze(-3) @ dW + db.unsqueeze(-2)
        if dh is not None:
            da = da + dh @ W
        if k == n_layers - 1:
            return a.squeeze(-1), da.squeeze(-1)
        h, g = _act(a, kind)
        dh = g.unsqueeze(-3) * da
    raise AssertionError("unreachable")
