"""Small, fast surrogates shared by the surrogate tests: every registered name, by the registry."""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

import numpy as np
import pytest
import torch

from surrogates import SURROGATES, SurrogateModel, make_surrogate

# Settings that make a fit take a second or so; a surrogate not listed runs with its defaults.
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "ensemble": {"n_members": 4, "width": 32, "max_steps": 300},
    "mcdropout": {"n_samples": 8, "width": 32, "max_steps": 300},
    "ensemble-rp": {"n_members": 4, "width": 32, "max_steps": 300},
    "gp-capped": {"max_points": 12},  # below the 20 points of ``fitted``: the cap applies
    "vbll": {"n_samples": 16},  # the defaults fit 20 points in < 1 s
    # the first fit compiles the sampler (~5 s); the suite's other fits (same shapes) reuse it
    "tfp-bnn": {"width": 16, "n_chains": 4, "map_steps": 300, "n_burnin": 40, "n_results": 4,
                "thin": 2, "n_leapfrog": 5},
}
FAST_OPTIONS["stacked"] = {"candidate_options": {"ensemble": FAST_OPTIONS["ensemble"]}}

# Registered surrogates whose optional extra is not installed: their tests skip with the reason.
UNAVAILABLE: dict[str, str] = {}
if find_spec("jax") is None or find_spec("tensorflow_probability") is None:
    UNAVAILABLE["tfp-bnn"] = 'needs the tfp extra: pip install "hyperpilot[tfp]"'


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the parametrized cases (``kind``) of surrogates in ``UNAVAILABLE``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("kind") if callspec is not None else None
        if kind in UNAVAILABLE:
            item.add_marker(pytest.mark.skip(reason=f"{kind} {UNAVAILABLE[kind]}"))


def build(name: str, seed: int = 0) -> SurrogateModel:
    """An unfitted small instance of the surrogate registered as ``name``."""
    return make_surrogate(name, seed=seed, cat_groups=None, options=FAST_OPTIONS.get(name, {}))


def toy_data(n: int = 20, d: int = 2, seed: int = 0, lo: float = 0.0, hi: float = 1.0):
    """``n`` points in ``[lo, hi]^d`` and a smooth target ``n x 1`` (maximum at 0.3)."""
    g = torch.Generator().manual_seed(seed)
    X = lo + (hi - lo) * torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = -((X - 0.3) ** 2).sum(-1, keepdim=True) + 0.1 * torch.sin(7 * X).sum(-1, keepdim=True)
    return X, Y


def toy_related(tasks: int = 2, n: int = 40) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Related tasks for a surrogate registered with ``related``: ``toy_data``'s shape, shifted
    and rescaled per task, in the same lower-left half square as ``fitted``'s data."""
    out = []
    for t in range(tasks):
        X, Y = toy_data(n=n, hi=0.5, seed=100 + t)
        out.append((X, (2.0 + t) * Y.squeeze(-1) + t))
    return out

def shifted_bumps(X: torch.Tensor, shift: float) -> torch.Tensor:
    """A bumpy 2-d function whose optimum moves with ``shift``; ``n x 1``."""
    Z = X - 0.3 - shift
    return (-(Z**2).sum(-1) + 0.2 * torch.sin(9 * X[:, 0]) * torch.cos(7 * X[:, 1]))[:, None]


def bumpy_related(tasks: int = 3, n: int = 60) -> list[tuple[np.ndarray, np.ndarray]]:
    """``tasks`` related tasks of ``n`` uniform points each: ``shifted_bumps`` with the optimum
    moved by ``0.01 t``, rescaled by 3 and offset by ``10 t`` (numpy, as the registry takes them)."""
    g = torch.Generator().manual_seed(5)
    out = []
    for t in range(tasks):
        X = torch.rand(n, 2, generator=g, dtype=torch.float64)
        out.append((X.numpy(), (3.0 * shifted_bumps(X, 0.01 * t) + 10 * t).squeeze(-1).numpy()))
    return out


FAST_OPTIONS["mtgp"] = {"related": toy_related(), "related_points": 30}
FAST_OPTIONS["transfer-gp"] = {"related": toy_related()}


@pytest.fixture(scope="session")
def fitted() -> dict[str, SurrogateModel]:
    """One fitted model per registered surrogate, on 20 points in the lower-left half square."""
    X, Y = toy_data(n=20, hi=0.5)
    return {name: build(name).fit(X, Y) for name in SURROGATES if name not in UNAVAILABLE}


@pytest.fixture(scope="session")
def small() -> Callable[..., SurrogateModel]:
    """The ``build`` function: ``small(name, seed=0)`` is a small unfitted surrogate."""
    return build


@pytest.fixture(scope="session")
def toy() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """The ``toy_data`` function, for tests that need fresh data."""
    return toy_data
