"""Small, fast surrogate factories shared by the surrogate and acquisition tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from surrogates import GP, DeepEnsemble, MCDropout

FACTORIES: dict[str, Callable[..., torch.nn.Module]] = {
    "ensemble": lambda **kw: DeepEnsemble(n_members=4, width=32, max_steps=300, **kw),
    "dropout": lambda **kw: MCDropout(n_samples=8, width=32, max_steps=300, **kw),
    "gp": lambda **kw: GP(**kw),
}


def toy_data(n: int = 20, d: int = 2, seed: int = 0, lo: float = 0.0, hi: float = 1.0):
    """``n`` points in ``[lo, hi]^d`` and a smooth target ``n x 1`` (maximum at 0.3)."""
    g = torch.Generator().manual_seed(seed)
    X = lo + (hi - lo) * torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = -((X - 0.3) ** 2).sum(-1, keepdim=True) + 0.1 * torch.sin(7 * X).sum(-1, keepdim=True)
    return X, Y


@pytest.fixture(scope="session")
def fitted() -> dict[str, torch.nn.Module]:
    """One fitted model per surrogate kind, on 20 points in the lower-left half of the square."""
    X, Y = toy_data(n=20, hi=0.5)
    return {name: make(seed=0).fit(X, Y) for name, make in FACTORIES.items()}


@pytest.fixture(scope="session")
def toy() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """The ``toy_data`` function, for tests that need fresh data."""
    return toy_data


@pytest.fixture(scope="session")
def factories() -> dict[str, Callable[..., torch.nn.Module]]:
    """Surrogate kind -> factory of a small, fast-to-fit instance."""
    return FACTORIES
