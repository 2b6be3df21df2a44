"""Batch proposals: q(Log)EI / qLogNEI over any BoTorch model, with pending points and mixed spaces.

``propose_batch`` raises ``ProposalError`` when it cannot propose; ``acquisition.fallback``
holds the explicit, counted fallback to random points.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import torch
from botorch.acquisition import (
    AcquisitionFunction,
    qExpectedImprovement,
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
)
from botorch.exceptions.errors import BotorchError
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model
from botorch.optim import optimize_acqf
from botorch.utils.sampling import draw_sobol_samples
from torch import Tensor

from acquisition.discrete import RoundFn, make_round_fn, select_distinct
from acquisition.samplers import make_sampler

logger = logging.getLogger(__name__)

AcqName = Literal["qlogei", "qei", "qlognei"]


class ProposalError(RuntimeError):
    """``propose_batch`` could not produce a batch (the message says why; ``__cause__`` is the
    underlying BoTorch / GPyTorch / torch error, if any)."""


#: Errors that ``propose_batch`` turns into ``ProposalError`` (linear-algebra errors from
#: GPyTorch, ``NotPSDError`` and ``NanError``, are ``RuntimeError`` subclasses).
_WRAPPED: tuple[type[Exception], ...] = (RuntimeError, ValueError, BotorchError)


@dataclass(frozen=True)
class _Setup:
    acq_model: Model
    bounds: Tensor
    taken: Tensor
    snap: RoundFn | None


def propose_batch(
    model: Model,
    bounds: Tensor | None = None,
    q: int = 1,
    pending: Tensor | None = None,
    best_f: float | None = None,
    seed: int = 0,
    acqf: AcqName = "qlogei",
    cat_groups: list[list[int]] | None = None,
    int_cols: list[int] | None = None,
    num_restarts: int = 8,
    raw_samples: int = 256,
    exclude: Tensor | None = None,
    round_fn: RoundFn | None = None,
    sequential: bool = False,
    mc_samples: int = 128,
    maxiter: int = 100,
    tol: float = 1e-6,
) -> Tensor:
    """Propose ``q`` distinct points by optimising a batch MC acquisition function.

    The relaxed optimum of ``optimize_acqf`` (joint, or sequential-greedy with ``sequential``) is
    snapped to valid encodings (``round_fn``, else arg-max of each one-hot group in
    ``cat_groups``), then de-duplicated against itself, ``pending`` and ``exclude``. Duplicates
    are replaced by the best distinct points of a seeded Sobol pool of ``raw_samples`` snapped
    points, ranked by the ``q = 1`` acquisition value with the points chosen so far as pending.

    Ensembles (``EnsemblePosterior``) are sampled with every member exactly once; other models
    with ``SobolQMCNormalSampler(mc_samples, seed)``. Initial conditions are seeded from
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
        acqf: ``"qlogei"`` (default), ``"qei"`` or ``"qlognei"`` (noisy EI for replicated or
            noisy observations: its baseline is ``model.train_X`` moved into ``bounds``, one
            point per distinct row; ``cache_root`` only for GPyTorch models).
        cat_groups: One-hot column groups, snapped by arg-max when ``round_fn`` is None.
        int_cols: Integer columns. Without ``round_fn`` they stay continuous (the caller's
            decoder rounds); pass ``round_fn`` to snap them before de-duplication.
        num_restarts: Restarts of the gradient-based optimiser.
        raw_samples: Raw Sobol samples for initial conditions and for the replacement pool.
        exclude: ``n_done x d`` already-evaluated points, never re-proposed.
        round_fn: Maps ``k x d`` relaxed points to valid encodings (e.g. the search space's
            canonicalisation).
        sequential: Sequential-greedy instead of joint optimisation.
        mc_samples: MC samples for non-ensemble models.
        maxiter: L-BFGS-B iterations per restart.
        tol: Max-norm distance under which two points are the same.

    Returns:
        A ``k x d`` tensor of distinct points in ``bounds`` (model dtype) with ``k = q`` unless
        the space holds fewer than ``q`` new points among those found (then ``k < q``, logged).

    Raises:
        ProposalError: if the acquisition cannot be built or optimised, or returns non-finite
            candidates.
    """
    X, _ = _propose(
        model,
        bounds,
        q,
        pending,
        best_f,
        seed,
        acqf,
        cat_groups,
        int_cols,
        num_restarts,
        raw_samples,
        exclude,
        round_fn,
        sequential,
        mc_samples,
        maxiter,
        tol,
    )
    return X


def _setup(
    model: Model,
    bounds: Tensor | None,
    pending: Tensor | None,
    exclude: Tensor | None,
    cat_groups: list[list[int]] | None,
    round_fn: RoundFn | None,
    int_cols: list[int] | None,
) -> _Setup:
    inner = getattr(model, "botorch_model", None)
    acq_model: Model = inner if isinstance(inner, Model) else model
    train_X: Tensor | None = getattr(model, "train_X", None)
    dtype = train_X.dtype if train_X is not None else torch.float64
    if bounds is None:
        if train_X is None or train_X.dim() != 2:
            raise ProposalError("bounds=None needs a fitted model with train_X")
        d = train_X.shape[-1]
        bounds = torch.stack([torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)])
    bounds = bounds.to(dtype)
    d = bounds.shape[-1]
    parts = [t.to(dtype).reshape(-1, d) for t in (pending, exclude) if t is not None]
    taken = torch.cat(parts) if parts else torch.empty(0, d, dtype=dtype)
    if int_cols and round_fn is None:
        logger.debug("int_cols given without round_fn: integer columns stay continuous")
    return _Setup(acq_model, bounds, taken, make_round_fn(round_fn, cat_groups))


def _best_f(model: Model, acq_model: Model) -> float:
    train_Y = getattr(model, "train_Y", None)
    if isinstance(train_Y, Tensor) and train_Y.numel() > 0:
        return float(train_Y.max())
    targets = getattr(acq_model, "train_targets", None)  # a bare BoTorch GP
    if isinstance(targets, Tensor) and targets.numel() > 0:
        tf = getattr(acq_model, "outcome_transform", None)
        y = targets.reshape(-1, 1)
        if tf is not None:
            y, _ = tf.untransform(y)
        return float(y.max())
    raise ProposalError("best_f is None and the model exposes no training targets")


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
    s = _setup(model, bounds, pending, None, None, None, None)
    return _build_acqf(model, s, acqf, best_f, pending, seed, mc_samples)


def _build_acqf(
    model: Model,
    s: _Setup,
    acqf: AcqName,
    best_f: float | None,
    pending: Tensor | None,
    seed: int,
    mc_samples: int,
) -> AcquisitionFunction:
    am, dtype = s.acq_model, s.bounds.dtype
    sampler = make_sampler(am, s.bounds.shape[-1], dtype, seed, mc_samples)
    Xp = None if pending is None or pending.numel() == 0 else pending.to(dtype)
    if acqf == "qlognei":
        with torch.random.fork_rng():  # pruning the baseline samples: seeded, the caller's
            torch.manual_seed(seed)    # generator untouched
            return qLogNoisyExpectedImprovement(
                am,
                X_baseline=_baseline(model, s.bounds),
                sampler=sampler,
                X_pending=Xp,
                prune_baseline=True,
                cache_root=isinstance(am, GPyTorchModel),
            )
    f = _best_f(model, am) if best_f is None else float(best_f)
    if acqf == "qlogei":
        return qLogExpectedImprovement(am, best_f=f, sampler=sampler, X_pending=Xp)
    if acqf == "qei":
        return qExpectedImprovement(am, best_f=f, sampler=sampler, X_pending=Xp)
    raise ProposalError(f"unknown acqf {acqf!r}; use 'qlogei', 'qei' or 'qlognei'")


def _baseline(model: Model, bounds: Tensor) -> Tensor:
    """qLogNEI's baseline: the observed points moved into ``bounds``, without repeats.

    A column the bounds fix (a fidelity input held at the max budget) takes its fixed value,
    so the noisy incumbent is judged where the acquisition looks; replicates of a point (the
    same config on several seeds) become one baseline point.
    """
    base = getattr(model, "train_X", None)
    if not isinstance(base, Tensor) or base.dim() != 2 or base.shape[0] == 0:
        raise ProposalError("qlognei needs model.train_X as the baseline")
    base = base.to(bounds).clamp(bounds[0], bounds[1])
    return torch.unique(base, dim=0)


def _propose(
    model: Model,
    bounds: Tensor | None,
    q: int,
    pending: Tensor | None,
    best_f: float | None,
    seed: int,
    acqf: AcqName,
    cat_groups: list[list[int]] | None,
    int_cols: list[int] | None,
    num_restarts: int,
    raw_samples: int,
    exclude: Tensor | None,
    round_fn: RoundFn | None,
    sequential: bool,
    mc_samples: int,
    maxiter: int,
    tol: float,
) -> tuple[Tensor, dict[str, Any]]:
    if q < 1:
        raise ValueError(f"q must be >= 1, got {q}")
    s = _setup(model, bounds, pending, exclude, cat_groups, round_fn, int_cols)
    try:
        af = _build_acqf(model, s, acqf, best_f, pending, seed, mc_samples)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            cand, _ = optimize_acqf(
                af,
                s.bounds,
                q=q,
                num_restarts=num_restarts,
                raw_samples=raw_samples,
                options={"seed": seed, "maxiter": maxiter},
                sequential=sequential,
            )
        if not torch.isfinite(cand).all():
            raise ProposalError("optimize_acqf returned non-finite candidates")
        cand = _snap(cand.detach(), s)
        X, taken = select_distinct(cand, s.taken, q, tol)
        n_replaced = q - X.shape[0]
        if n_replaced:
            X = _fill(af, s, X, taken, pending, q, seed, raw_samples, tol)
    except ProposalError:
        raise
    except _WRAPPED as e:
        raise ProposalError(f"{acqf} proposal failed: {e}") from e
    if X.shape[0] < q:
        logger.warning("only %d of %d distinct new points found", X.shape[0], q)
    return X, {"fallback": False, "reason": None, "n_replaced": n_replaced}


def _snap(X: Tensor, s: _Setup) -> Tensor:
    X = X.clamp(s.bounds[0], s.bounds[1])
    return s.snap(X).to(X) if s.snap is not None else X


def _fill(
    af: AcquisitionFunction,
    s: _Setup,
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
    pool = _snap(pool.to(s.bounds), s)
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
