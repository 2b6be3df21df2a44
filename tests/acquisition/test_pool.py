"""Candidate-pool proposals: exact ensemble q-EI, pending and excluded points, the GP path."""

from __future__ import annotations

import copy

import pytest
import torch
from botorch.acquisition import qExpectedImprovement

from acquisition import AllMembersSampler, CandidatePool, pool_or_random, propose_from_pool
from acquisition.samplers import ensemble_size


def test_ensemble_scores_equal_botorch_qei(models):
    """The cached member values give exactly BoTorch's q-EI (all members, pending included)."""
    m = models["ensemble"]
    pool = CandidatePool(m, seed=3, pool_size=64, n_local=16)
    pending = torch.tensor([[0.7, 0.7], [0.2, 0.9]], dtype=torch.float64)
    s = ensemble_size(m, 2, torch.float64)  # values per point: members x 2 (mean -/+ sd)
    af = qExpectedImprovement(m, best_f=float(m.train_Y.max()),
                              sampler=AllMembersSampler(sample_shape=torch.Size([s])),
                              X_pending=pending)
    with torch.no_grad():
        want = af(pool.X.unsqueeze(1))
    X, info = pool.propose(1, pending=pending)
    assert torch.equal(X[0], pool.X[want.argmax()])
    assert info["pool"] == 80 and not info["fallback"]


@pytest.mark.parametrize("kind", ["gp", "ensemble"])
def test_distinct_new_points_in_bounds_and_deterministic(models, kind):
    m = models[kind]
    exclude = m.train_X
    pending = torch.tensor([[0.7, 0.7]], dtype=torch.float64)
    X, _ = propose_from_pool(m, q=6, pending=pending, exclude=exclude, seed=1, pool_size=64,
                             n_local=32)
    Y, _ = propose_from_pool(m, q=6, pending=pending, exclude=exclude, seed=1, pool_size=64,
                             n_local=32)
    assert X.shape == (6, 2) and torch.equal(X, Y)
    assert ((X >= 0) & (X <= 1)).all()
    taken = torch.cat([exclude, pending])
    assert ((X[:, None] - taken[None]).abs().amax(-1) > 1e-6).all()
    assert ((X[:, None] - X[None]).abs().amax(-1) + torch.eye(6, dtype=X.dtype) > 1e-6).all()


def test_pool_runs_out_and_fallback_is_counted(models):
    m = models["ensemble"]
    pool = CandidatePool(m, seed=0, pool_size=4, n_local=0)
    X, _ = pool.propose(3, exclude=pool.X[:2])
    assert X.shape[0] == 2  # only two new points left in the pool
    broken = copy.deepcopy(m)
    with torch.no_grad():
        broken.net.biases[-1].fill_(float("nan"))
    X, info = pool_or_random(broken, q=3, seed=0, pool_size=8, n_local=0)
    assert info["fallback"] and "non-finite" in info["reason"] and X.shape == (3, 2)
