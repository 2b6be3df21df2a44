"""A Bayesian MLP sampled by Hamiltonian Monte Carlo in TensorFlow Probability (JAX substrate).

The network ``f(x; theta)`` has ``depth`` tanh layers of ``width`` units, a Gaussian prior
``N(0, prior_scale^2 / fan_in)`` on every weight and ``N(0, 1)`` on every bias, and a Gaussian
likelihood whose noise ``sigma^2`` is learned: ``log sigma^2 ~ N(log noise_prior, 2^2)``
(standardised output units). The known noise ``yvar_i`` of a point is added to ``sigma^2``.

Sampling: ``n_chains`` chains, each warm-started at its own MAP estimate (Adam from its own random
initialisation, all chains vectorised), then ``tfp.mcmc.HamiltonianMonteCarlo`` with dual-averaging
step-size adaptation over ``n_burnin`` steps and ``n_results`` kept states per chain,
``thin`` steps apart: ``S = n_chains * n_results`` posterior networks. Independent MAP starts give
the posterior its between-mode spread (as a deep ensemble does); the chains add the local spread
around each mode. FACTS.md measured NUTS at 42 s for 200 points; a BO loop refits often, so the
defaults keep a fit at ``n = 200`` to a few seconds (see the class docstring).

The ``S`` weight samples are copied into stacked torch tensors (``S x fan_in x fan_out``), and
``forward`` evaluates the ``S`` networks in torch: BoTorch differentiates the acquisition through
them, and each sample is one function shared by the ``q`` points of a batch (a joint posterior).

JAX and TFP are imported lazily inside ``fit`` (the optional extra ``hyperpilot[tfp]``): importing
``surrogates`` does not need them. All JAX randomness comes from ``seed``. Compiled samplers are
cached per process by shape; the data are padded to the next power of two (at least 32 points),
so a growing data set recompiles only when ``n`` crosses a power of two.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor

from surrogates._data import check_training_data, torch_threads

EXTRA_HINT = 'the "tfp-bnn" surrogate needs the tfp extra: pip install "hyperpilot[tfp]"'


class TFPBNN(EnsembleModel):
    """Bayesian MLP (tanh) sampled by HMC from MAP-initialised chains; ``S`` networks in torch.

    Budget: a BO loop refits often, so a fit at ``n = 200`` should take a few seconds. With the
    defaults (8 chains x 1000 Adam steps, then 100 + 8 x 5 HMC steps of 10 leapfrogs, S = 64) it
    took 3.3 s at n = 200 (padded to 256) plus ~7 s to compile the sampler once per process and
    data size bucket. 300 burn-in steps improved held-out NLL on Hartmann-6 (0.63 / 0.28 against
    1.48 / 0.55 at n = 50 / 200, seeds 100-102) at about twice the sampling time; NUTS
    (FACTS.md: 42 s at n = 200) was not tried for the same reason.
    ``prior_scale`` 3 ranked best at n = 50 (Spearman 0.71, against 0.68 with 10 and 0.63 with 1);
    10 was better calibrated at n = 200 (NLL 0.25 against 0.55); 1 made the MAP fits collapse
    towards a constant (the prior outweighs 50 points). 16 chains x 4 results were no better than
    8 x 8.

    Args:
        width: Hidden units per layer.
        depth: Hidden layers.
        prior_scale: Prior standard deviation of a weight times ``sqrt(fan_in)``.
        noise_prior: Prior median of ``sigma^2`` (standardised output units).
        n_chains: Chains, each from its own MAP fit.
        map_steps: Adam steps of each MAP fit.
        map_lr: Adam learning rate of the MAP fits.
        n_burnin: HMC steps before the first kept state (the step size adapts over 80% of them).
        n_results: States kept per chain.
        thin: HMC steps between kept states.
        n_leapfrog: Leapfrog steps per HMC step.
        step_size: Initial leapfrog step size (then adapted to 75% acceptance).
        seed: Seeds the JAX random keys (initialisations and chains).
        dtype: Model dtype of the torch networks; sampling runs in float32.
        num_threads: ``torch.set_num_threads`` during ``fit``; with 1, XLA is also asked for one
            thread if JAX is not yet imported and ``XLA_FLAGS`` is unset.
    """

    _num_outputs = 1

    def __init__(
        self,
        width: int = 50,
        depth: int = 2,
        prior_scale: float = 3.0,
        noise_prior: float = 0.01,
        n_chains: int = 8,
        map_steps: int = 1000,
        map_lr: float = 1e-2,
        n_burnin: int = 100,
        n_results: int = 8,
        thin: int = 5,
        n_leapfrog: int = 10,
        step_size: float = 1e-3,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        num_threads: int | None = 1,
    ) -> None:
        super().__init__()
        self.width, self.depth, self.prior_scale, self.noise_prior = width, depth, prior_scale, noise_prior
        self.n_chains, self.map_steps, self.map_lr = n_chains, map_steps, map_lr
        self.n_burnin, self.n_results, self.thin = n_burnin, n_results, thin
        self.n_leapfrog, self.step_size = n_leapfrog, step_size
        self.seed, self.model_dtype, self.num_threads = seed, dtype, num_threads
        self.weights: list[Tensor] = []  # per layer: S x fan_in x fan_out
        self.biases: list[Tensor] = []  # per layer: S x 1 x fan_out
        self.noise_var = torch.empty(0, dtype=dtype)  # S samples of sigma^2 (standardised)
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_info: dict[str, Any] = {}
        self._y_mean, self._y_std = 0.0, 1.0

    def fit(self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None) -> TFPBNN:
        """MAP-fit ``n_chains`` networks, run HMC from each, keep ``S`` weight samples.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²), added to
                ``sigma^2`` point by point.

        Raises:
            ImportError: naming the ``tfp`` extra when JAX or TFP is missing.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        t0 = time.perf_counter()
        with torch_threads(self.num_threads):
            self._y_mean = Y.mean().item()
            self._y_std = max(Y.std().item(), 1e-9) if Y.shape[0] > 1 else 1.0
            y = ((Y - self._y_mean) / self._y_std).squeeze(-1)
            extra = None if Yvar is None else (Yvar / self._y_std**2).squeeze(-1)
            x, y_np, e_np, mask = _padded(2.0 * X - 1.0, y, extra)
            sampler = _sampler(self._config(X.shape[-1]), self.num_threads)
            states, accept, map_loss = sampler(x, y_np, e_np, mask, self.seed)
            parts = [torch.as_tensor(np.array(s), dtype=self.model_dtype) for s in states]
        S = self.n_chains * self.n_results
        parts = [p.transpose(0, 1).reshape(S, *p.shape[2:]) for p in parts]  # chain-major
        self.weights = parts[0:-1:2]
        self.biases = [b.unsqueeze(-2) for b in parts[1:-1:2]]
        self.noise_var = parts[-1].exp()
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        acc = float(np.asarray(accept).mean())
        info_warnings = [] if acc > 0.2 else [f"low HMC acceptance rate {acc:.2f}"]
        if not all(torch.isfinite(p).all() for p in parts):
            raise RuntimeError("HMC produced non-finite weights")
        self.fit_info = {
            "seconds": time.perf_counter() - t0,
            "n": X.shape[0],
            "n_samples": S,
            "acceptance": acc,
            "map_neg_log_post": float(np.asarray(map_loss).mean()),
            "noise_var": float(self.noise_var.mean()),
            "warnings": info_warnings,
        }
        self.eval()
        return self

    def forward(self, X: Tensor) -> Tensor:
        """The ``S`` sampled networks at ``X``.

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x S x n x 1`` values in the caller's units.
        """
        if not self.weights:
            raise RuntimeError("call fit() before posterior()")
        h = (2.0 * X.to(self.model_dtype) - 1.0).unsqueeze(-3)  # batch x 1 x n x d
        for i, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ W + b
            if i < len(self.weights) - 1:
                h = torch.tanh(h)
        return h * self._y_std + self._y_mean

    def _config(self, d: int) -> _Config:
        return _Config(d, self.width, self.depth, self.prior_scale, self.noise_prior,
                       self.n_chains, self.map_steps, self.map_lr, self.n_burnin, self.n_results,
                       self.thin, self.n_leapfrog, self.step_size)


@dataclass(frozen=True)
class _Config:
    """The sampler's static settings (hashable: compiled samplers are cached by them)."""

    d: int
    width: int
    depth: int
    prior_scale: float
    noise_prior: float
    n_chains: int
    map_steps: int
    map_lr: float
    n_burnin: int
    n_results: int
    thin: int
    n_leapfrog: int
    step_size: float


def _padded(x: Tensor, y: Tensor, extra: Tensor | None) -> tuple[np.ndarray, ...]:
    """float32 arrays padded to ``max(32, 2^ceil(log2 n))`` points, and the ``0/1`` mask."""
    n = x.shape[0]
    m = max(32, 1 << math.ceil(math.log2(n)))
    xp = np.zeros((m, x.shape[1]), np.float32)
    yp, ep, mask = np.zeros(m, np.float32), np.zeros(m, np.float32), np.zeros(m, np.float32)
    xp[:n], yp[:n], mask[:n] = x.numpy(), y.numpy(), 1.0
    if extra is not None:
        ep[:n] = extra.numpy()
    return xp, yp, ep, mask


@functools.lru_cache(maxsize=8)
def _sampler(config: _Config, num_threads: int | None) -> Any:
    """The jitted ``(x, y, extra, mask, seed) -> (states, accepted, map_loss)`` for ``config``."""
    if num_threads == 1 and "jax" not in sys.modules:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                           "intra_op_parallelism_threads=1")
    try:
        import jax
        from tensorflow_probability.substrates import jax as tfp
    except ImportError as e:
        raise ImportError(f"{EXTRA_HINT} ({e})") from e
    fn = jax.jit(_build(config, jax, tfp))

    def run(x: np.ndarray, y: np.ndarray, e: np.ndarray, mask: np.ndarray, seed: int) -> Any:
        with warnings.catch_warnings():
            # TFP's step-size adaptation requests float64 constants; JAX keeps float32
            warnings.filterwarnings("ignore", message="Explicitly requested dtype")
            return fn(x, y, e, mask, jax.random.PRNGKey(seed))

    return run


def _build(c: _Config, jax: Any, tfp: Any) -> Callable[..., Any]:
    """The sampler ``(x, y, extra, mask, key) -> (states, accepted, map_loss)`` in JAX.

    ``states`` are ``[W_1, b_1, ..., W_L, b_L, log sigma^2]``, each ``n_results x n_chains x
    shape``; ``accepted`` is ``n_results x n_chains``; ``map_loss`` the negative log posterior
    of each chain's MAP start.
    """
    jnp, tfd = jax.numpy, tfp.distributions
    sizes = [c.d] + [c.width] * c.depth + [1]
    shapes: list[tuple[int, ...]] = []
    fans: list[int] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        shapes += [(fan_in, fan_out), (fan_out,)]
        fans += [fan_in, fan_in]
    stds = [c.prior_scale / math.sqrt(f) if len(s) == 2 else 1.0 for s, f in zip(shapes, fans, strict=True)]

    def log_post(x: Any, y: Any, e: Any, mask: Any, params: list[Any]) -> Any:
        h = x
        for i in range(0, len(shapes), 2):
            h = h @ params[i] + params[i + 1]
            h = jnp.tanh(h) if i < len(shapes) - 2 else h
        var = jnp.exp(params[-1]) + e
        ll = jnp.sum(mask * tfd.Normal(h[..., 0], jnp.sqrt(var)).log_prob(y))
        lp = sum(jnp.sum(tfd.Normal(0.0, s).log_prob(p)) for p, s in zip(params[:-1], stds, strict=True))
        return ll + lp + tfd.Normal(math.log(c.noise_prior), 2.0).log_prob(params[-1])

    def init(key: Any) -> list[Any]:
        keys = jax.random.split(key, len(shapes))
        parts = [jax.random.uniform(k, (c.n_chains, *s), minval=-1.0, maxval=1.0) / math.sqrt(f)
                 for k, s, f in zip(keys, shapes, fans, strict=True)]
        return parts + [jnp.full((c.n_chains,), math.log(c.noise_prior))]

    def map_fit(x: Any, y: Any, e: Any, mask: Any, params: list[Any]) -> tuple[list[Any], Any]:
        batched = jax.vmap(lambda *p: log_post(x, y, e, mask, list(p)))
        grad = jax.value_and_grad(lambda ps: -jnp.sum(batched(*ps)))

        def step(carry: Any, t: Any) -> Any:  # Adam
            ps, m, v = carry
            loss, g = grad(ps)
            m = [0.9 * a + 0.1 * b for a, b in zip(m, g, strict=True)]
            v = [0.999 * a + 0.001 * b * b for a, b in zip(v, g, strict=True)]
            ps = [p - c.map_lr * (a / (1 - 0.9**t)) / (jnp.sqrt(b / (1 - 0.999**t)) + 1e-8)
                  for p, a, b in zip(ps, m, v, strict=True)]
            return (ps, m, v), loss

        zeros = [jnp.zeros_like(p) for p in params]
        steps = jnp.arange(1, c.map_steps + 1, dtype=jnp.float32)
        (params, _, _), _ = jax.lax.scan(step, (params, zeros, zeros), steps)
        return params, -batched(*params)

    def sample(x: Any, y: Any, e: Any, mask: Any, key: Any) -> Any:
        k_init, k_chain = jax.random.split(key)
        start, map_loss = map_fit(x, y, e, mask, init(k_init))
        target = jax.vmap(lambda *p: log_post(x, y, e, mask, list(p)))
        kernel = tfp.mcmc.HamiltonianMonteCarlo(target, step_size=c.step_size,
                                                num_leapfrog_steps=c.n_leapfrog)
        kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
            kernel, num_adaptation_steps=max(1, int(0.8 * c.n_burnin)))
        states, accepted = tfp.mcmc.sample_chain(
            c.n_results, start, kernel=kernel, num_burnin_steps=c.n_burnin,
            num_steps_between_results=c.thin - 1, seed=k_chain,
            trace_fn=lambda _, results: results.inner_results.is_accepted)
        return states, accepted, map_loss

    return sample
