"""Small pieces shared by the flat-parameter networks (``laplace``, ``vbll``)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def linear_init(sizes: list[int], gen: torch.Generator, dtype: torch.dtype) -> list[Tensor]:
    """``[W_1, b_1, ..., W_L, b_L]`` for layer widths ``sizes``, in ``nn.Linear``'s initial range.

    ``W_k`` is ``sizes[k-1] x sizes[k]`` and ``b_k`` has ``sizes[k]`` entries, uniform in
    ``+-1/sqrt(fan_in)``, drawn from ``gen`` in this order.
    """
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1.0 / math.sqrt(fan_in)
        params.append((torch.rand(fan_in, fan_out, generator=gen, dtype=dtype) * 2 - 1) * bound)
        params.append((torch.rand(fan_out, generator=gen, dtype=dtype) * 2 - 1) * bound)
    return params


def jittered_cholesky(A: Tensor, what: str) -> Tensor:
    """Lower Cholesky factor of ``A`` (``m x m``), adding growing jitter on failure.

    Raises:
        RuntimeError: naming ``what`` when even ``1e-3`` relative jitter fails.
    """
    jitter = 1e-10 * float(A.diagonal().detach().mean().clamp_min(1e-12))
    eye = torch.eye(A.shape[0], dtype=A.dtype)
    for _ in range(8):
        L, info = torch.linalg.cholesky_ex(A + jitter * eye)
        if int(info) == 0:
            return L
        jitter *= 10
    raise RuntimeError(f"{what} is not positive definite")
