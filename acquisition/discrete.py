"""Snapping relaxed candidates to valid encodings, and keeping proposals distinct."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

RoundFn = Callable[[Tensor], Tensor]


def make_round_fn(round_fn: RoundFn | None, cat_groups: list[list[int]] | None) -> RoundFn | None:
    """The caller's ``round_fn`` if given, else arg-max snapping of one-hot groups, else None.

    Integer columns are left continuous by the default: the caller's decoder rounds them, and
    the caller can pass its canonicalisation as ``round_fn`` to snap them before de-duplication.
    """
    if round_fn is not None:
        return round_fn
    if not cat_groups:
        return None
    groups = [list(g) for g in cat_groups]

    def snap_one_hot(X: Tensor) -> Tensor:
        X = X.clone()
        for g in groups:
            cols = X[..., g]
            X[..., g] = torch.nn.functional.one_hot(cols.argmax(-1), len(g)).to(X)
        return X

    return snap_one_hot


def is_new(x: Tensor, taken: Tensor, tol: float) -> bool:
    """True if ``x`` (``d``) differs from every row of ``taken`` (``k x d``) by more than ``tol``
    in max-norm."""
    if taken.shape[0] == 0:
        return True
    return bool(((taken - x).abs().amax(-1) > tol).all())


def select_distinct(candidates: Tensor, taken: Tensor, q: int, tol: float) -> tuple[Tensor, Tensor]:
    """Greedily keep candidates (in order) that are new w.r.t. ``taken`` and each other.

    Args:
        candidates: ``k x d`` snapped candidates, best first.
        taken: ``t x d`` points that must not be proposed (pending, evaluated).
        q: Maximum number to keep.
        tol: Max-norm distance below which two points count as the same.

    Returns:
        ``j x d`` kept candidates (``j <= q``) and ``taken`` extended by them.
    """
    kept: list[Tensor] = []
    for x in candidates:
        if len(kept) >= q:
            break
        if is_new(x, taken, tol):
            kept.append(x)
            taken = torch.cat([taken, x.unsqueeze(0)])
    out = torch.stack(kept) if kept else candidates[:0]
    return out, taken
