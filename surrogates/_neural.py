"""Shared machinery of the neural surrogates: scaling, the training loop, the posterior values.

A subclass says how many networks it trains (``E``), which points each one sees, and which dropout
masks (if any) it applies; this base does the rest. ``forward`` returns ``batch x s x n x 1`` member
values so BoTorch supplies ``EnsemblePosterior`` and ``IndexSampler``.

Posterior choice (``posterior_noise``): BoTorch's ``EnsemblePosterior`` only sees point values, so
with ``posterior_noise=True`` every network ``i`` contributes the two values ``mu_i - sigma_i`` and
``mu_i + sigma_i`` (a two-point Gauss-Hermite rule). The resulting ``2S``-point mixture has exactly
the mean and variance of the Gaussian mixture ``1/S sum_i N(mu_i, sigma_i^2)``: variance = epistemic
spread of the means + mean aleatoric variance. With ``False`` the posterior is the ``S`` means only
(epistemic). The calibration of both is measured in ``paper/scripts/surrogate_sweep.py``.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from typing import Any, TypeVar

import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor

from surrogates._data import check_training_data, torch_threads
from surrogates._mlp import MemberMLP, gaussian_nll

_Self = TypeVar("_Self", bound="NeuralEnsemble")


class NeuralEnsemble(EnsembleModel):
    """Base class of ``DeepEnsemble`` and ``MCDropout`` (not used directly).

    Attributes:
        train_X: ``n x d`` training inputs of the last fit (model dtype).
        train_Y: ``n x 1`` training targets of the last fit, in the caller's units (larger is
            better); the acquisition takes ``best_f = train_Y.max()`` from here.
        train_Yvar: ``n x 1`` known noise variances of the last fit, or None.
        fit_info: Diagnostics of the last fit: ``steps``, ``epochs``, ``seconds``,
            ``early_stopped``, ``warm_start``, ``warnings`` (list of str).
    """

    _num_outputs = 1

    def __init__(
        self,
        *,
        width: int,
        depth: int,
        lr: float,
        weight_decay: float,
        max_steps: int,
        batch_size: int,
        posterior_noise: bool,
        seed: int,
        dtype: torch.dtype,
        num_threads: int | None,
        train_dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.width, self.depth, self.lr, self.weight_decay = width, depth, lr, weight_decay
        self.max_steps, self.batch_size = max_steps, batch_size
        self.posterior_noise, self.seed, self.model_dtype = posterior_noise, seed, dtype
        self.num_threads, self.train_dtype = num_threads, train_dtype
        self.net: MemberMLP | None = None
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_info: dict[str, Any] = {}
        self._y_mean, self._y_std = 0.0, 1.0
        self._n_fits = 0

    # --- subclass hooks -------------------------------------------------------------------
    @abstractmethod
    def _n_nets(self) -> int:
        """Number of stacked networks ``E`` to train."""

    @abstractmethod
    def _split(self, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor | None]:
        """Per-network point weights for training (``E x n``) and validation (``E x n`` or None)."""

    @abstractmethod
    def _train_masks(self, m: int, gen: torch.Generator) -> list[Tensor] | None:
        """Dropout masks for one training step on ``m`` points (or None)."""

    @abstractmethod
    def _freeze(self, gen: torch.Generator) -> None:
        """Called after training: freeze whatever makes the posterior deterministic."""

    @abstractmethod
    def _eval_masks(self) -> list[Tensor] | None:
        """Masks applied in ``forward`` (or None)."""

    def _make_net(self, d: int, gen: torch.Generator) -> MemberMLP:
        """The untrained network of a cold fit: ``E`` stacked members on ``d`` inputs.

        Override to train a different network (it must take and return what ``MemberMLP``
        does); ``gen`` is the fit's generator, so draws from it change everything after.
        """
        return MemberMLP(d, self.width, self.depth, self._n_nets(), gen, self.train_dtype)

    # --- public API -----------------------------------------------------------------------
    def fit(
        self: _Self,
        train_X: Tensor,
        train_Y: Tensor,
        train_Yvar: Tensor | None = None,
        warm_start: bool = False,
        max_steps: int | None = None,
    ) -> _Self:
        """Train on ``(train_X, train_Y)`` and return ``self``.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d`` (any float dtype; cast to the model dtype).
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances of ``train_Y`` (units of Y²),
                added to the predicted variance inside the NLL.
            warm_start: Continue from the previous fit's weights (same ``d``) with a quarter of
                the step budget, so refits stay cheap as data grow. Ignored on the first fit.
            max_steps: Override the step budget of this fit.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        warm = warm_start and self.net is not None and self.train_X.shape[-1] == X.shape[-1]
        gen = torch.Generator().manual_seed(self.seed + (1_000_003 * self._n_fits if warm else 0))
        t0 = time.perf_counter()
        with torch_threads(self.num_threads):
            self._set_scaling(Y, warm)
            if not warm:
                self.net = self._make_net(X.shape[-1], gen)
            assert self.net is not None
            self.net.to(self.train_dtype)
            steps = max_steps or (self.max_steps // 4 if warm else self.max_steps)
            y = ((Y - self._y_mean) / self._y_std).squeeze(-1).to(self.train_dtype)
            yvar = None if Yvar is None else (Yvar / self._y_std**2).squeeze(-1)
            yvar = None if yvar is None else yvar.to(self.train_dtype)
            info = self._train(self._to_net(X).to(self.train_dtype), y, yvar, steps, gen)
            self.net.to(self.model_dtype)  # predict (and differentiate) in the model dtype
            self._freeze(gen)
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self._n_fits += 1
        info.update(seconds=time.perf_counter() - t0, warm_start=warm, n=X.shape[0])
        self.fit_info = info
        self.eval()
        return self

    def forward(self, X: Tensor) -> Tensor:
        """Member values at ``X``.

        Args:
            X: ``batch x n x d`` inputs in the unit cube (any float dtype).

        Returns:
            ``batch x s x n x 1`` values in the caller's units, ``s = 2S`` with
            ``posterior_noise`` (each member's mean -/+ its predicted std) and ``s = S`` without.
        """
        if self.net is None:
            raise RuntimeError("call fit() before posterior()")
        mean, var = self.net(self._to_net(X.to(self.model_dtype)), self._eval_masks())
        if self.posterior_noise:
            sd = var.sqrt()
            mean = torch.cat([mean - sd, mean + sd], dim=-2)
        return (mean * self._y_std + self._y_mean).unsqueeze(-1)

    def noise_variance(self, X: Tensor) -> Tensor:
        """Observation-noise variance at ``X`` that the posterior leaves out.

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x n x 1`` variances in the caller's units²: zero with ``posterior_noise``
            (the members' predicted variance is already inside the posterior), otherwise the
            members' mean predicted variance.
        """
        if self.net is None:
            raise RuntimeError("call fit() before noise_variance()")
        with torch.no_grad():
            _, var = self.net(self._to_net(X.to(self.model_dtype)), self._eval_masks())
        var = var.mean(-2) * self._y_std**2
        return (torch.zeros_like(var) if self.posterior_noise else var).unsqueeze(-1)

    # --- internals ------------------------------------------------------------------------
    def _to_net(self, X: Tensor) -> Tensor:
        """Unit cube -> ``[-1, 1]^d`` (the network's input scale)."""
        return 2.0 * X - 1.0

    def _set_scaling(self, Y: Tensor, warm: bool) -> None:
        mean, std = Y.mean().item(), Y.std().item()
        std = std if std > 1e-9 else 1.0
        if warm and self.net is not None:  # re-express the mean head in the new output units
            self.net.shift_output(self._y_std / std, (self._y_mean - mean) / std)
        self._y_mean, self._y_std = mean, std

    def _train(
        self, x: Tensor, y: Tensor, yvar: Tensor | None, steps: int, gen: torch.Generator
    ) -> dict[str, Any]:
        assert self.net is not None
        n = x.shape[0]
        w_train, w_val = self._split(n, gen)
        w_train = w_train.to(x.dtype)
        w_val = None if w_val is None else w_val.to(x.dtype)
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        stopper = _EarlyStopper(self.net, w_val)
        warnings: list[str] = []
        self.train()
        step = 0
        for step in range(1, steps + 1):
            idx = (
                torch.randint(n, (self.batch_size,), generator=gen) if n > self.batch_size else None
            )
            xb, yb = (x, y) if idx is None else (x[idx], y[idx])
            vb = None if yvar is None else (yvar if idx is None else yvar[idx])
            wb = w_train if idx is None else w_train[:, idx]
            mean, var = self.net(xb, self._train_masks(xb.shape[0], gen))
            nll = gaussian_nll(mean, var, yb, vb)
            loss = ((nll * wb).sum(-1) / wb.sum(-1).clamp_min(1.0)).sum()
            if not torch.isfinite(loss):
                warnings.append(f"non-finite loss at step {step}; restored best weights")
                stopper.restore(force=True)
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            if stopper.active and step % stopper.every == 0:
                # no stopping in the first quarter: NLL training plateaus early while the
                # variance head settles
                if stopper.update(x, y, yvar) and step >= steps // 4:
                    break
        stopper.restore()
        return {
            "steps": step,
            "epochs": step * min(n, self.batch_size) / n,
            "early_stopped": step < steps and not warnings,
            "warnings": warnings,
        }


class _EarlyStopper:
    """Per-network early stopping on held-out points, keeping each network's best weights."""

    def __init__(self, net: MemberMLP, w_val: Tensor | None, every: int = 25, patience: int = 8):
        self.net, self.w_val, self.every, self.patience = net, w_val, every, patience
        self.active = w_val is not None and bool((w_val.sum(-1) > 0).all())
        e = next(iter(net.parameters())).shape[0]
        self.best = torch.full((e,), float("inf"), dtype=torch.float64)
        self.snapshot = [p.detach().clone() for p in net.parameters()]
        self.since, self.stopped = 0, False

    def update(self, x: Tensor, y: Tensor, yvar: Tensor | None) -> bool:
        """Evaluate held-out NLL; snapshot improved networks. Returns True when training should stop."""
        assert self.w_val is not None
        with torch.no_grad():
            mean, var = self.net(x)
            nll = gaussian_nll(mean, var, y, yvar)
            val = ((nll * self.w_val).sum(-1) / self.w_val.sum(-1)).to(torch.float64)
            better = val < self.best - 1e-4
            for snap, p in zip(self.snapshot, self.net.parameters(), strict=True):
                snap[better] = p.detach()[better]
            self.best = torch.where(better, val, self.best)
        self.since = 0 if bool(better.any()) else self.since + 1
        self.stopped = self.since >= self.patience
        return self.stopped

    def restore(self, force: bool = False) -> None:
        """Load the best snapshot (always with early stopping, or when ``force``)."""
        if not (self.active or force):
            return
        with torch.no_grad():
            for snap, p in zip(self.snapshot, self.net.parameters(), strict=True):
                p.copy_(snap)
        if force:
            self.active = False
