"""Fitted toy models for the acquisition tests (small, so the suite stays fast)."""

from __future__ import annotations

import pytest
import torch

from surrogates import GP, DeepEnsemble


def quadratic(X: torch.Tensor) -> torch.Tensor:
    """``n x d`` -> ``n x 1``, maximum 0 at ``x = 0.7`` in every coordinate."""
    return -((X - 0.7) ** 2).sum(-1, keepdim=True)


@pytest.fixture(scope="session")
def models() -> dict[str, torch.nn.Module]:
    """A GP and a small deep ensemble fitted on 25 points of ``quadratic`` in 2-D."""
    X = torch.rand(25, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    Y = quadratic(X)
    return {
        "gp": GP(seed=0).fit(X, Y),
        "ensemble": DeepEnsemble(n_members=4, width=32, max_steps=300, seed=0).fit(X, Y),
    }
