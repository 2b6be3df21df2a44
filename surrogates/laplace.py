"""Linearized-Laplace MLP (Kristiadi et al. 2023; Immer et al. 2021) as a BoTorch model.

One MLP ``f(x; theta)`` is trained to its MAP estimate ``theta*`` under a Gaussian prior on the
weights and Gaussian noise ``sigma^2``. Linearised around ``theta*``,
``f(x; theta) ~ f(x; theta*) + J(x) (theta - theta*)`` with the generalised Gauss-Newton
posterior ``theta - theta* ~ N(0, H^-1)``, ``H = Lambda + J^T J / sigma^2``. The function-space
posterior is a GP whose kernel is the network's empirical NTK, ``k(x, x') = J(x) Lambda^-1
J(x')^T``, and whose mean is the trained network.

Choices, each measured (README, "A Bayesian neural surrogate"):

* the prior precision ``Lambda`` is one value per layer (``_prior_groups``), starting at the
  layer's fan-in; it and ``sigma^2`` maximise the Laplace evidence (Adam in log space on a
  sample of ``tune_points``), then the network is refined at the new values;
* each input coordinate enters as a point on a half circle, so every input has unit norm and the
  NTK's prior variance does not grow towards the corners of the cube (without it the
  acquisition went to the corners);
* SiLU activations (smoother than ReLU, better held-out fits than tanh);
* the covariance is conditioned on at most ``cov_points`` points (the mean trains on all);
* optionally (``output_warp``), the outputs are Yeo-Johnson-warped (``surrogates._warp``).

The posterior is represented by ``S`` joint weight-space samples ``Delta_s ~ N(0, H^-1)``
(antithetic pairs, so the samples' mean is exactly the network in the warped units), and
``forward`` returns ``f(x; theta*) + J(x) Delta_s`` for every ``s``, computed by one
forward-mode pass. A sample is one function, shared by all ``q`` points of a batch: the batch
posterior is joint, unlike a diagonal one. Being an ``EnsembleModel``, every MC acquisition
function works unchanged.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor

from surrogates._data import check_training_data, torch_threads
from surrogates._flat import jittered_cholesky, linear_init
from surrogates._warp import OutputWarp
from surrogates.capped import capped_indices

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
        embed: Feed each coordinate as a point on a half circle (see ``_to_net``).
        ard: One prior precision per input dimension in the first layer (see
            ``_prior_groups``), tuned by the evidence like the others. Off by default: on
            LCBench task 3945 (n = 50 and 200 random configs, 1000 held out, 2 seeds) it left
            RMSE unchanged (0.0636, 0.0260) and NLL slightly worse.
        tune_points: Points the evidence is computed on (a seeded sample of the ``cov_points``).
        tune_steps: Adam steps of the evidence maximisation.
        tune_rounds: Rounds of (tune the evidence, refine the network for a quarter of the steps).
        optimizer: ``"adam"`` or ``"lbfgs"`` for the MAP fit (see ``_train``).
        output_warp: Model Yeo-Johnson-warped outputs (``surrogates._warp``) and map every
            posterior sample back exactly; without it, standardised outputs.
        cov_points: The posterior covariance is conditioned on at most this many points: with
            more, the best quarter plus a seeded uniform sample of the rest (Syne Tune's cap,
            as ``gp-capped``), while the network (the mean) trains on all of them. The cost of
            the Jacobian and the solve is thus bounded; the covariance is conservative there.
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
        ard: bool = False,
        optimizer: Literal["adam", "lbfgs"] = "adam",
        output_warp: bool = False,
        tune_points: int = 300,
        tune_steps: int = 60,
        tune_rounds: int = 1,
        cov_points: int = 1000,
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
        self.groups: list[Tensor] = []  # per parameter: its entries' prior-group ids
        self.group_prec = torch.empty(0, dtype=dtype)  # G prior precisions
        self.noise_var = noise_var
        self.min_noise_var, self.seed, self.model_dtype = min_noise_var, seed, dtype
        self.num_threads, self.embed, self.cov_points = num_threads, embed, cov_points
        self.ard, self.output_warp, self.optimizer = ard, output_warp, optimizer
        self.params: list[Tensor] = []
        self.deltas: list[Tensor] = []  # per parameter: S x param.shape
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_info: dict[str, Any] = {}
        self.warp = OutputWarp(False)

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
            self.warp = OutputWarp(self.output_warp).fit(Y)
            y, extra = self.warp.targets(Y, Yvar)
            x = self._to_net(X)
            self.noise_var = self.noise_var0
            self.params = _init_params(x.shape[-1], self.width, self.depth, gen, self.model_dtype)
            self.groups, self.group_prec = self._prior_groups(X.shape[-1])
            self._train(x, y, extra, self.max_steps, gen)
            evidence = float("nan")
            keep = capped_indices(Y, self.cov_points, 0.25, self.seed)
            sub = keep[torch.randperm(keep.numel(), generator=gen)[: self.tune_points]]
            for _ in range(self.tune_rounds if self.tune else 0):
                evidence = self._tune(self._jacobian(x[sub]), x[sub], y[sub], _rows(extra, sub))
                self._train(x, y, extra, max(1, self.max_steps // 4), gen)
            self.deltas = self._sample(self._jacobian(x[keep]), _rows(extra, keep), gen)
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self.fit_info = {
            "seconds": time.perf_counter() - t0,
            "n": X.shape[0],
            "n_cov": int(keep.numel()),
            "n_params": sum(p.numel() for p in self.params),
            "prior_precision": [round(v, 4) for v in self.group_prec.tolist()],
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
        return self.warp.untransform(out).unsqueeze(-1)

    def noise_variance(self, X: Tensor) -> Tensor:
        """The tuned observation noise ``sigma^2`` at ``X`` (the posterior samples leave it out).

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x n x 1`` variances in the caller's units² (the same at every point without
            ``output_warp``; with it, ``sigma^2`` mapped back at the posterior mean).
        """
        if not self.params:
            raise RuntimeError("call fit() before noise_variance()")
        with torch.no_grad():
            mean = self.posterior(X).mean
        return self.noise_var / self.warp.slope(mean) ** 2

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
        """MAP fit in float32: ``mean((f - y)^2 w) + sum_g sigma^2 delta_g / n |theta_g|^2``.

        ``optimizer="adam"``: ``steps`` Adam steps (cosine-decayed learning rate, minibatches
        above ``batch_size`` points). ``"lbfgs"``: full-batch L-BFGS with a strong-Wolfe line
        search, ``steps / 5`` iterations (the objective is deterministic, so a quasi-Newton
        method converges where Adam's fixed budget stops short).
        """
        params = [p.detach().to(torch.float32).requires_grad_(True) for p in self.params]
        xs, ys = x.to(torch.float32), y.to(torch.float32)
        w = None if extra is None else (self.noise_var / (self.noise_var + extra)).to(torch.float32)
        n = x.shape[0]
        regs = [(self.noise_var / n * self.group_prec[g]).to(torch.float32) for g in self.groups]

        def loss_at(xb: Tensor, yb: Tensor, wb: Tensor | None) -> Tensor:
            err = (_mlp(params, xb, self.activation) - yb) ** 2
            mse = err.mean() if wb is None else (err * wb).mean()
            return mse + sum((r * p**2).sum() for r, p in zip(regs, params, strict=True))

        if self.optimizer == "lbfgs":
            lbfgs = torch.optim.LBFGS(params, lr=1.0, max_iter=max(1, steps // 5),
                                      history_size=20, line_search_fn="strong_wolfe",
                                      tolerance_grad=1e-9, tolerance_change=1e-12)

            def closure() -> Tensor:
                lbfgs.zero_grad()
                loss = loss_at(xs, ys, w)
                loss.backward()
                return loss

            lbfgs.step(closure)
        else:
            opt = torch.optim.Adam(params, lr=self.lr)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=self.lr * 0.01)
            for _ in range(steps):
                if n > self.batch_size:
                    idx = torch.randint(n, (self.batch_size,), generator=gen)
                    loss = loss_at(xs[idx], ys[idx], None if w is None else w[idx])
                else:
                    loss = loss_at(xs, ys, w)
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
        ``log delta`` terms cancel), by Adam in log space, on the given ``m`` points (the
        caller passes at most ``tune_points``): ``J`` is their ``m x P`` Jacobian.
        """
        m = J.shape[0]
        rss_terms = (_mlp(self.params, x, self.activation) - y) ** 2
        g = torch.cat([t.reshape(-1) for t in self.groups])  # P group ids
        n_groups = self.group_prec.numel()
        theta = torch.cat([p.reshape(-1) for p in self.params])
        sq = torch.zeros(n_groups, dtype=J.dtype).index_add_(0, g, theta**2)
        # per group: m x m Gram matrix J_g J_g^T; the kernel is sum_g G_g / delta_g
        G = torch.stack([J[:, g == k] @ J[:, g == k].T for k in range(n_groups)])
        log_d = self.group_prec.log().to(J.dtype).requires_grad_(True)
        log_s = torch.tensor(math.log(self.noise_var), dtype=J.dtype, requires_grad=True)
        opt = torch.optim.Adam([log_d, log_s], lr=0.15)
        eye = torch.eye(m, dtype=J.dtype)
        lo = math.log(self.min_noise_var)
        best = (-float("inf"), self.group_prec.clone(), self.noise_var)
        for _ in range(self.tune_steps):
            s2 = log_s.clamp_min(lo).exp()
            noise = s2.expand(m) if extra is None else s2 + extra
            r = noise.rsqrt()
            K = (G * (-log_d).exp()[:, None, None]).sum(0)
            L, _ = torch.linalg.cholesky_ex(eye + r[:, None] * K * r[None, :])
            ev = (-(rss_terms / (2 * noise)).sum() - 0.5 * torch.log(noise).sum()
                  - (log_d.exp() * sq).sum() / 2 - L.diagonal().log().sum())
            if float(ev.detach()) > best[0]:
                best = (float(ev.detach()), log_d.detach().exp(),
                        math.exp(max(float(log_s.detach()), lo)))
            opt.zero_grad()
            (-ev).backward()
            opt.step()
        _, self.group_prec, self.noise_var = best
        return best[0]

    def _prec_vector(self, dtype: torch.dtype) -> Tensor:
        """``P`` prior precisions, one per flattened weight (its group's value)."""
        return self.group_prec.to(dtype)[torch.cat([t.reshape(-1) for t in self.groups])]

    def _prior_groups(self, d: int) -> tuple[list[Tensor], Tensor]:
        """Prior groups of the weights and their initial precisions.

        One group per layer (weights and biases together), except with ``ard`` the first
        layer's weights, which form one group per input dimension (automatic relevance
        determination, MacKay 1994: the evidence can switch an input off). The initial
        precision of a group is ``prior_precision`` times its layer's fan-in.

        Returns:
            Per parameter, a long tensor of its entries' group ids, and the ``G`` precisions.
        """
        fan_in = [self.params[i].shape[0] for i in range(0, len(self.params), 2)]
        groups, prec, base = [], [], 0
        for k, f in enumerate(fan_in):
            W, b = self.params[2 * k], self.params[2 * k + 1]
            if k == 0 and self.ard:  # rows of W_1 -> input dimension (both angle features)
                rows = torch.arange(W.shape[0]) % d
                groups += [(base + rows)[:, None].expand(W.shape), torch.full(b.shape, base + d)]
                prec += [self.prior_precision * f] * (d + 1)
                base += d + 1
            else:
                groups += [torch.full(W.shape, base), torch.full(b.shape, base)]
                prec.append(self.prior_precision * f)
                base += 1
        return groups, torch.tensor(prec, dtype=self.model_dtype)

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
            L = jittered_cholesky(K, "Laplace posterior covariance")
            resid = torch.cholesky_solve(J @ prior + eps, L)
            dtheta = prior - (J.T @ resid) / prec[:, None]
        else:  # weight space: H = Lambda + J^T diag(1/noise) J
            H = J.T @ (J / noise[:, None]) + torch.diag(prec)
            L = jittered_cholesky(H, "Laplace posterior covariance")
            dtheta = torch.linalg.solve_triangular(L.T, z, upper=True)
        dtheta = torch.cat([dtheta, -dtheta], dim=1).T  # S x P
        out, i = [], 0
        for p in self.params:
            out.append(dtheta[:, i:i + p.numel()].reshape(-1, *p.shape))
            i += p.numel()
        return out


def _rows(t: Tensor | None, idx: Tensor) -> Tensor | None:
    return None if t is None else t[idx]


def _init_params(d: int, width: int, depth: int, gen: torch.Generator,
                 dtype: torch.dtype) -> list[Tensor]:
    """``[W_1, b_1, ...]`` of layer widths ``[d] + [width] * depth + [1]`` (``surrogates._flat``)."""
    return linear_init([d] + [width] * depth + [1], gen, dtype)


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

    Forward-mode through the layers, ``da = h dW + db + dh W``, with the batch dimensions
    flattened so that each product is one large matrix multiplication.

    Args:
        params: The MAP weights ``[W_1, b_1, ...]``.
        deltas: Per weight tensor, ``S x shape`` perturbations.
        x: ``batch x n x d`` inputs in the network's input space.

    Returns:
        ``batch x n`` outputs and ``batch x S x n`` tangents ``J(x) Delta_s``.
    """
    lead, S = x.shape[:-1], deltas[0].shape[0]
    h = x.reshape(-1, x.shape[-1])  # B x d
    dh: Tensor | None = None  # B x S x width
    n_layers = len(params) // 2
    for k in range(n_layers):
        W, b, dW, db = params[2 * k], params[2 * k + 1], deltas[2 * k], deltas[2 * k + 1]
        fan_in, fan_out = W.shape
        a = h @ W + b
        da = (h @ dW.permute(1, 0, 2).reshape(fan_in, S * fan_out)).view(-1, S, fan_out) + db
        if dh is not None:
            da = da + (dh.reshape(-1, fan_in) @ W).view(-1, S, fan_out)
        if k == n_layers - 1:
            tangent = da.squeeze(-1).reshape(*lead, S)
            return a.squeeze(-1).reshape(lead), tangent.movedim(-1, -2)
        h, g = _act(a, kind)
        dh = g.unsqueeze(-2) * da
    raise AssertionError("unreachable")
