"""Batch proposals: q(Log)EI / qLogNEI over any BoTorch model, with pending points and mixed spaces.

``propose_batch`` raises ``ProposalError`` when it cannot propose; ``acquisition.fallback``
holds the explicit, counted fallback to random points.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.models.model import Model
from botorch.optim import optimize_acqf
from botorch.utils.sampling import draw_sobol_samples
from torch import Tensor

from acquisition.core import (
    WRAPPED_ERRORS,
    AcqName,
    ProposalError,
    Setup,
    build_acqf,
    make_setup,
    snap,
)
from acquisition.discrete import RoundFn, select_distinct

logger = logging.getLogger(__name__)

__all__ = ["AcqName", "ProposalError", "ProposeOptions", "make_acqf", "propose_batch",
           "propose_with_info"]


@dataclass(frozen=True)
class ProposeOptions:
    """How ``propose_batch`` builds and optimises its acquisition.

    Attributes:
        acqf: ``"qlogei"`` (default), ``"qei"`` or ``"qlognei"`` (noisy EI for replicated or
            noisy observations: its baseline is ``model.train_X`` moved into the bounds, one
            point per distinct row; ``cache_root`` only for GPyTorch models).
        num_restarts: Restarts of the gradient-based optimiser.
        raw_samples: Raw Sobol samples for initial conditions and for the replacement pool.
        sequential: Sequential-greedy instead of joint optimisation.
        mc_samples: MC samples for non-ensemble models.
        maxiter: L-BFGS-B iterations per restart.
        tol: Max-norm distance under which two points are the same.
    """

    acqf: AcqName = "qlogei"
    num_restarts: int = 8
    raw_samples: int = 256
    sequential: bool = False
    mc_samples: int = 128
    maxiter: int = 100
    tol: float = 1e-6


def propose_batch(
    model: Model,
    bounds: Tensor | None = None,
    q: int = 1,
    *,
    pending: Tensor | None = None,
    best_f: float | None = None,
    seed: int = 0,
    cat_groups: list[list[int]] | None = None,
    exclude: Tensor | None = None,
    round_fn: RoundFn | None = None,
    options: ProposeOptions | None = None,
) -> Tensor:
    """Propose ``q`` distinct points by optimising a batch MC acquisition function.

    The relaxed optimum of ``optimize_acqf`` (joint, or sequential-greedy with
    ``options.sequential``) is snapped to valid encodings (``round_fn``, else arg-max of each
    one-hot group in ``cat_groups``), then de-duplicated against itself, ``pending`` and
    ``exclude``. Duplicates are replaced by the best distinct points of a seeded Sobol pool of
    ``options.raw_samples`` snapped points, ranked by the ``q = 1`` acquisition value with the
    points chosen so far as pending.

    Ensembles (``EnsemblePosterior``) are sampled with every member exactly once; other models
    with ``SobolQMCNormalSampler(options.mc_samples, seed)``. Initial conditions are seeded from
    ``seed`` inside ``torch.random.fork_rng``, so the result is deterministic for a fixed seed
    and the caller's global RNG is untouched.

    Args:
        model: A fitted surrogate (``DeepEnsemble``, ``MCDropout``, ``GP``) or any single-output
            BoTorch model. A ``botorch_model`` attribute, if present, is optimised instead.
        bounds: ``2 x d`` search bounds; None means the unit cube of ``model.train_X``.
        q: Batch size.
        pending: ``n_pending x d`` running trials (``X_pending``); never re-proposed.
        best_f: Incumbent value for (log) EI; None means ``model.train_Y.max()``.
        seed: Seed of the MC sampler, initial conditions and the replacement pool.
        cat_groups: One-hot column groups, snapped by arg-max when ``round_fn`` is None.
        exclude: ``n_done x d`` already-evaluated points, never re-proposed.
        round_fn: Maps ``k x d`` relaxed points to valid encodings (e.g. the search space's
            canonicalisation); integer columns stay continuous without it.
        options: The acquisition and its optimiser (None: ``ProposeOptions()``).

    Returns:
        A ``k x d`` tensor of distinct points in ``bounds`` (model dtype) with ``k = q`` unless
        the space holds fewer than ``q`` new points among those found (then ``k < q``, logged).

    Raises:
        ProposalError: if the acquisition cannot be built or optimised, or returns non-finite
            candidates.
    """
    X, _ = propose_with_info(model, bounds, q, pending=pending, best_f=best_f, seed=seed,
                             cat_groups=cat_groups, exclude=exclude, round_fn=round_fn,
                             options=options)
    return X


def propose_with_info(
    model: Model,
    bounds: Tensor | None = None,
    q: int = 1,
    *,
    pending: Tensor | None = None,
    best_f: float | None = None,
    seed: int = 0,
    cat_groups: list[list[int]] | None = None,
    exclude: Tensor | None = None,
    round_fn: RoundFn | None = None,
    options: ProposeOptions | None = None,
) -> tuple[Tensor, dict[str, Any]]:
    """``propose_batch`` and its info: ``{"fallback": False, "reason": None, "n_replaced": k}``,
    ``k`` the relaxed optima replaced because they duplicated a point."""
    if q < 1:
        raise ValueError(f"q must be >= 1, got {q}")
    o = options or ProposeOptions()
    s = make_setup(model, bounds, pending, exclude, cat_groups, round_fn)
    try:
        af = build_acqf(model, s, o.acqf, best_f, pending, seed, o.mc_samples)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            cand, _ = optimize_acqf(
                af,
                s.bounds,
                q=q,
                num_restarts=o.num_restarts,
                raw_samples=o.raw_samples,
                options={"seed": seed, "maxiter": o.maxiter},
                sequential=o.sequential,
            )
        if not torch.isfinite(cand).all():
            raise ProposalError("optimize_acqf returned non-finite candidates")
        cand = snap(cand.detach(), s)
        X, taken = select_distinct(cand, s.taken, q, o.tol)
        n_replaced = q - X.shape[0]
        if n_replaced:
            X = _fill(af, s, X, taken, pending, q, seed, o.raw_samples, o.tol)
    except ProposalError:
        raise
    except WRAPPED_ERRORS as e:
        raise ProposalError(f"{o.acqf} proposal failed: {e}") from e
    if X.shape[0] < q:
        logger.warning("only %d of %d distinct new points found", X.shape[0], q)
    return X, {"fallback": False, "reason": None, "n_replaced": n_replaced}


def make_acqf(
    model: Model,
    acqf: AcqName = "qlogei",
    best_f: float | None = None,
    pending: Tensor | None = None,
    seed: int = 0,
    bounds: Tensor | None = None,
    mc_samples: int = 128,
) -> AcquisitionFunction:
    """The acquisition function ``propose_batch`` optimises (same arguments, same seeding).

    Returns:
        A BoTorch MC acquisition function; called on ``b x q x d`` points it returns ``b``
        values, deterministic for a fixed ``seed``.
    """
    s = make_setup(model, bounds, pending)
    return build_acqf(model, s, acqf, best_f, pending, seed, mc_samples)


def _fill(
    af: AcquisitionFunction,
    s: Setup,
    X: Tensor,
    taken: Tensor,
    pending: Tensor | None,
    q: int,
    seed: int,
    raw_samples: int,
    tol: float,
) -> Tensor:
    """Top up ``X`` to ``q`` points from a Sobol pool, greedily by ``q = 1`` acquisition value."""
    pool = draw_sobol_samples(s.bounds, n=raw_samples, q=1, seed=seed + 1).squeeze(1)
    pool = snap(pool.to(s.bounds), s)
    base = pending.to(X) if pending is not None else X[:0]
    while X.shape[0] < q:
        af.set_X_pending(torch.cat([base, X]) if X.shape[0] + base.shape[0] else None)
        with torch.no_grad():
            vals = af(pool.unsqueeze(1))
        new, taken = select_distinct(pool[vals.argsort(descending=True)], taken, 1, tol)
        if new.shape[0] == 0:
            break
        X = torch.cat([X, new])
    return X
