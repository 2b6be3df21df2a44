"""The explicit, counted fallback: ``propose_batch`` (or ``propose_from_pool``) or, if it raises
``ProposalError``, random points."""

from __future__ import annotations

import logging
from typing import Any

import torch
from botorch.models.model import Model
from torch import Tensor

from acquisition.core import ProposalError, make_setup
from acquisition.discrete import RoundFn, select_distinct
from acquisition.pool import propose_from_pool
from acquisition.propose import ProposeOptions, propose_with_info

logger = logging.getLogger(__name__)


def propose_or_random(
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
    """``propose_batch`` with an explicit, logged fallback to random points.

    Same arguments as ``propose_batch``. On ``ProposalError`` it logs a warning and returns
    distinct random points in ``bounds`` (snapped like the proposals, seeded from ``seed``).

    Returns:
        ``k x d`` points and ``info``: ``{"fallback": bool, "reason": str | None,
        "n_replaced": int}`` (``n_replaced``: relaxed optima replaced because they duplicated).
        Count ``info["fallback"]`` in results so a benchmark cannot silently become random search.
    """
    try:
        return propose_with_info(model, bounds, q, pending=pending, best_f=best_f, seed=seed,
                                 cat_groups=cat_groups, exclude=exclude, round_fn=round_fn,
                                 options=options)
    except ProposalError as e:
        tol = (options or ProposeOptions()).tol
        return random_fallback(e, model, bounds, q, pending, exclude, cat_groups, round_fn,
                               seed, tol)


def pool_or_random(model: Model, bounds: Tensor | None = None, q: int = 1,
                   pending: Tensor | None = None, seed: int = 0,
                   cat_groups: list[list[int]] | None = None, exclude: Tensor | None = None,
                   round_fn: RoundFn | None = None, tol: float = 1e-6,
                   **pool_options: Any) -> tuple[Tensor, dict[str, Any]]:
    """``propose_from_pool`` with the same explicit, logged fallback as ``propose_or_random``.

    ``pool_options`` go to ``propose_from_pool`` (``acqf``, ``best_f``, ``pool_size``, ...).
    """
    try:
        return propose_from_pool(model, bounds, q, pending, seed=seed, cat_groups=cat_groups,
                                 exclude=exclude, round_fn=round_fn, tol=tol, **pool_options)
    except ProposalError as e:
        return random_fallback(e, model, bounds, q, pending, exclude, cat_groups, round_fn,
                                seed, tol)


def random_fallback(e: ProposalError, model: Model, bounds: Tensor | None, q: int,
                     pending: Tensor | None, exclude: Tensor | None,
                     cat_groups: list[list[int]] | None, round_fn: RoundFn | None, seed: int,
                     tol: float) -> tuple[Tensor, dict[str, Any]]:
    """The fallback for a failed proposal: ``q`` distinct random points in ``bounds``.

    Snapped like proposals, new w.r.t. ``pending`` and ``exclude``, seeded from ``seed``; logs
    ``e`` and returns it as ``info["reason"]`` with ``info["fallback"] = True``.
    """
    reason = f"{type(e.__cause__ or e).__name__}: {e}"
    logger.warning("proposal failed, proposing random points instead (%s)", reason)
    setup = make_setup(model, bounds, pending, exclude, cat_groups, round_fn)
    gen = torch.Generator().manual_seed(seed)
    lo, hi = setup.bounds
    pool = lo + (hi - lo) * torch.rand(64 * q, lo.shape[-1], generator=gen, dtype=lo.dtype)
    pool = setup.snap(pool) if setup.snap else pool
    X, _ = select_distinct(pool, setup.taken, q, tol)
    return X, {"fallback": True, "reason": reason, "n_replaced": 0}
