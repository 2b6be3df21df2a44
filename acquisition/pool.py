"""Gradient-free batch proposals: greedy q-(Log)EI over a fixed candidate pool.

``optimize_acqf`` (L-BFGS-B from several restarts) costs 0.1-0.6 s per batch here, which caps an
asynchronous study at a few proposals per second. When many workers ask at once (see
``hyperpilot.methods.bo``'s background fitting), a ``CandidatePool`` proposes from the same
acquisition in milliseconds: it scores a pool of Sobol points plus Gaussian perturbations of the
best observed points (a local search around the incumbents, as in SMAC's) and picks greedily,
each pick joining ``X_pending`` before the next.

For ensembles (``EnsemblePosterior``: every member is one equally weighted sample) the pool's
member values are computed once per pool, and q-EI with pending points is exact and cheap:
``EI(x | P) = mean_s max(0, max(v_s(x), max_{p in P} v_s(p)) - best_f)``. q-LogEI is a smoothed
log of the same quantity with the same arg-max, except where EI is exactly zero on every
remaining candidate; there the candidate whose best member value comes closest to improving is
taken. Other models (a GP) are scored with the BoTorch acquisition function at every pick.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from botorch.models.ensemble import EnsembleModel
from botorch.models.model import Model
from botorch.utils.sampling import draw_sobol_samples
from torch import Tensor

from acquisition.core import (
    WRAPPED_ERRORS,
    AcqName,
    ProposalError,
    Setup,
    build_acqf,
    incumbent_value,
    make_setup,
    snap,
)
from acquisition.discrete import RoundFn

logger = logging.getLogger(__name__)


class CandidatePool:
    """A candidate pool for one fitted model, reused across asks until the model is refitted.

    The pool remembers what it proposed and never proposes it again; points given as
    ``exclude`` at construction are removed once, so a later ask only needs its pending points.

    Args:
        model: A fitted single-output BoTorch model (as for ``propose_batch``).
        bounds: ``2 x d`` bounds; None means the unit cube of ``model.train_X``.
        seed: Seeds the pool (and the MC sampler of non-ensemble models).
        acqf: ``"qlogei"``, ``"qei"`` or ``"qlognei"`` (for ensembles all three rank by q-EI
            against ``best_f``).
        best_f: Incumbent; None means ``model.train_Y.max()``.
        cat_groups: One-hot column groups (snapped by arg-max when ``round_fn`` is None).
        round_fn: Maps ``k x d`` relaxed points to valid encodings.
        pool_size: Sobol points in the pool.
        n_local: Perturbed copies of the five best training points in the pool.
        local_sd: Perturbation sd as a fraction of each bound's width.
        mc_samples: MC samples for non-ensemble models.
        tol: Max-norm distance under which two points are the same.
        exclude: ``n x d`` evaluated points, removed from the pool.

    Raises:
        ProposalError: if the model cannot be evaluated on the pool.
    """

    def __init__(self, model: Model, bounds: Tensor | None = None, seed: int = 0,
                 acqf: AcqName = "qlogei", best_f: float | None = None,
                 cat_groups: list[list[int]] | None = None, round_fn: RoundFn | None = None,
                 pool_size: int = 512, n_local: int = 256, local_sd: float = 0.05,
                 mc_samples: int = 128, tol: float = 1e-6,
                 exclude: Tensor | None = None) -> None:
        self.model, self.seed, self.acqf, self.mc_samples, self.tol = (
            model, seed, acqf, mc_samples, tol)
        self.setup: Setup = make_setup(model, bounds, cat_groups=cat_groups, round_fn=round_fn)
        self.ensemble = isinstance(self.setup.acq_model, EnsembleModel)
        try:
            self.best_f = (incumbent_value(model, self.setup.acq_model) if best_f is None
                           else float(best_f))
            self.X = snap(_pool(model, self.setup.bounds, seed, pool_size, n_local, local_sd),
                          self.setup)
            self.values = self._member_values(self.X) if self.ensemble else None  # s x N
            if self.values is not None and not bool(torch.isfinite(self.values).all()):
                raise ProposalError("the ensemble predicts non-finite values on the pool")
            self.free = torch.ones(self.X.shape[0], dtype=torch.bool)
            if exclude is not None and exclude.numel():
                self.free &= _far(self.X, exclude.to(self.X).reshape(-1, self.X.shape[-1]), tol)
        except WRAPPED_ERRORS as e:
            raise ProposalError(f"pool proposal failed: {e}") from e

    def _member_values(self, X: Tensor) -> Tensor:
        """``s x k`` member values of the ensemble at ``k x d`` points."""
        with torch.no_grad():
            out = self.setup.acq_model.forward(X.unsqueeze(0))  # type: ignore[operator]
        return out[0, ..., 0]  # forward: batch x s x k x 1

    def propose(self, q: int, pending: Tensor | None = None,
                exclude: Tensor | None = None) -> tuple[Tensor, dict[str, Any]]:
        """``q`` distinct pool points, greedily by q-EI with ``pending`` and earlier picks.

        Args:
            q: Batch size.
            pending: ``p x d`` running trials (never re-proposed).
            exclude: ``n x d`` further points not to propose (besides the construction's
                ``exclude`` and the pool's own earlier proposals).

        Returns:
            ``k x d`` points (``k < q`` only if the pool runs out of new points) and
            ``{"fallback": False, "reason": None, "n_replaced": 0, "pool": pool size}``.

        Raises:
            ProposalError: if the acquisition cannot be evaluated.
        """
        if q < 1:
            raise ValueError(f"q must be >= 1, got {q}")
        X = self.X
        free = self.free.clone()
        for t in (pending, exclude):
            if t is not None and t.numel():
                free &= _far(X, t.to(X).reshape(-1, X.shape[-1]), self.tol)
        try:
            picks = (self._greedy_ensemble(q, pending, free) if self.ensemble
                     else self._greedy_botorch(q, pending, free))
        except ProposalError:
            raise
        except WRAPPED_ERRORS as e:
            raise ProposalError(f"{self.acqf} pool proposal failed: {e}") from e
        if len(picks) < q:
            logger.warning("only %d of %d distinct new points in the pool", len(picks), q)
        for i in picks:  # a pool never proposes the same point twice
            self.free &= _far(X, X[i : i + 1], self.tol)
        out = X[picks] if picks else X[:0]
        return out, {"fallback": False, "reason": None, "n_replaced": 0, "pool": int(X.shape[0])}

    def _greedy_ensemble(self, q: int, pending: Tensor | None, free: Tensor) -> list[int]:
        assert self.values is not None
        V = self.values
        level = torch.full((V.shape[0],), -float("inf"), dtype=V.dtype)
        if pending is not None and pending.numel():
            level = self._member_values(pending.to(self.X).reshape(-1, self.X.shape[-1])).amax(-1)
        closest = V.amax(0)  # tie-break where no member improves
        picks: list[int] = []
        while len(picks) < q and bool(free.any()):
            ei = (torch.maximum(V, level[:, None]) - self.best_f).clamp_min(0).mean(0)
            key = ei if bool((ei[free] > 0).any()) else closest
            i = int(torch.where(free, key, -float("inf")).argmax())
            picks.append(i)
            level = torch.maximum(level, V[:, i])
            free &= _far(self.X, self.X[i : i + 1], self.tol)
        return picks

    def _greedy_botorch(self, q: int, pending: Tensor | None, free: Tensor) -> list[int]:
        s = self.setup
        af = build_acqf(self.model, s, self.acqf, self.best_f, pending, self.seed,
                        self.mc_samples)
        base = pending.to(self.X) if pending is not None else self.X[:0]
        picks: list[int] = []
        while len(picks) < q and bool(free.any()):
            both = torch.cat([base, self.X[picks]])
            af.set_X_pending(both if both.shape[0] else None)
            with torch.no_grad():
                vals = af(self.X[free].unsqueeze(1))
            if not torch.isfinite(vals).any():
                raise ProposalError("the acquisition is non-finite on the whole pool")
            idx = free.nonzero().squeeze(-1)
            i = int(idx[vals.nan_to_num(nan=-float("inf")).argmax()])
            picks.append(i)
            free &= _far(self.X, self.X[i : i + 1], self.tol)
        return picks


def propose_from_pool(model: Model, bounds: Tensor | None = None, q: int = 1,
                      pending: Tensor | None = None, seed: int = 0,
                      exclude: Tensor | None = None,
                      **pool_options: Any) -> tuple[Tensor, dict[str, Any]]:
    """One-shot ``CandidatePool(model, bounds, seed, **pool_options).propose(q, pending, exclude)``.

    Returns:
        ``k x d`` distinct points and the info dict of ``CandidatePool.propose``.

    Raises:
        ProposalError: if the acquisition cannot be built or evaluated.
    """
    return CandidatePool(model, bounds, seed, exclude=exclude, **pool_options).propose(q, pending)


def _far(X: Tensor, taken: Tensor, tol: float) -> Tensor:
    """``N`` mask: rows of ``X`` farther than ``tol`` (max-norm) from every row of ``taken``."""
    if taken.shape[0] == 0:
        return torch.ones(X.shape[0], dtype=torch.bool)
    return (X[:, None, :] - taken[None, :, :]).abs().amax(-1).amin(-1) > tol


def _pool(model: Model, bounds: Tensor, seed: int, pool_size: int, n_local: int,
          local_sd: float) -> Tensor:
    """``pool_size`` Sobol points plus ``n_local`` perturbations of the best training points."""
    lo, hi = bounds
    parts = [draw_sobol_samples(bounds, n=pool_size, q=1, seed=seed).squeeze(1).to(lo)]
    train_X: Tensor | None = getattr(model, "train_X", None)
    train_Y: Tensor | None = getattr(model, "train_Y", None)
    if n_local and train_X is not None and train_Y is not None and train_X.shape[0]:
        top = train_Y.reshape(-1).argsort(descending=True)[:5]
        centres = train_X[top].to(lo)[:, : lo.shape[-1]]
        gen = torch.Generator().manual_seed(seed + 7)
        pick = torch.randint(centres.shape[0], (n_local,), generator=gen)
        noise = torch.randn(n_local, lo.shape[-1], generator=gen, dtype=lo.dtype)
        local = centres[pick] + local_sd * (hi - lo) * noise
        parts.append(torch.minimum(torch.maximum(local, lo), hi))
    return torch.cat(parts)
