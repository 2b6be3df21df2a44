"""Input checks and the dtype contract shared by every surrogate.

Dtype contract: a surrogate owns one dtype (``float64`` unless told otherwise). ``fit`` and
``posterior`` cast whatever floating tensors they receive to that dtype, so ``float32`` inputs work
and posteriors always come back in the model's dtype.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor


class FitError(RuntimeError):
    """A surrogate could not be fitted (bad data, or training diverged with nothing to fall back on)."""


def check_training_data(
    X: Tensor, Y: Tensor, Yvar: Tensor | None, dtype: torch.dtype
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Validate and cast training data.

    Args:
        X: ``n x d`` inputs in the unit cube.
        Y: ``n x 1`` (or ``n``) targets, larger is better.
        Yvar: Optional ``n x 1`` (or ``n``) known observation-noise variances (>= 0), units of Y².
        dtype: The model dtype to cast to.

    Returns:
        ``X`` as ``n x d``, ``Y`` as ``n x 1`` and ``Yvar`` as ``n x 1`` (or None), all in ``dtype``.

    Raises:
        FitError: on wrong shapes, too few points or non-finite values.
    """
    X = X.detach().to(dtype)
    Y = Y.detach().to(dtype)
    if Y.dim() == 1:
        Y = Y.unsqueeze(-1)
    if X.dim() != 2 or Y.dim() != 2 or Y.shape[-1] != 1 or X.shape[0] != Y.shape[0]:
        raise FitError(f"expected X: n x d and Y: n x 1, got {tuple(X.shape)} and {tuple(Y.shape)}")
    if X.shape[0] < 2:
        raise FitError(f"need at least 2 training points, got {X.shape[0]}")
    if not (torch.isfinite(X).all() and torch.isfinite(Y).all()):
        raise FitError("training data contain NaN or inf")
    if Yvar is not None:
        Yvar = Yvar.detach().to(dtype).reshape(Y.shape)
        if not torch.isfinite(Yvar).all() or (Yvar < 0).any():
            raise FitError("train_Yvar must be finite and non-negative")
    return X, Y, Yvar


def standardise_targets(Y: Tensor) -> tuple[Tensor, float, float]:
    """``n x 1`` targets -> (``n`` standardised, mean, sd); sd 1 for one point or constant data."""
    mean = float(Y.mean())
    sd = float(Y.std()) if Y.shape[0] > 1 and float(Y.std()) > 1e-12 else 1.0
    return (Y.squeeze(-1) - mean) / sd, mean, sd


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(n)`` and restore the previous setting afterwards.

    On the 2-core reference machines one thread made ensemble fitting ~8x faster than two.
    ``None`` leaves the setting alone.
    """
    if n is None:
        yield
        return
    prev = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(prev)
