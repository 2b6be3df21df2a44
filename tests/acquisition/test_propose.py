"""propose_batch: determinism, pending points, de-duplication in discrete spaces, fallbacks."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from botorch.posteriors.ensemble import EnsemblePosterior

from acquisition import (
    AllMembersSampler,
    ProposalError,
    ProposeOptions,
    propose_batch,
    propose_or_random,
)
from surrogates import GP, DeepEnsemble

FAST = ProposeOptions(num_restarts=4, raw_samples=64, maxiter=50)
NOISY = replace(FAST, acqf="qlognei")


@pytest.mark.parametrize("kind", ["gp", "ensemble"])
def test_shape_bounds_and_determinism(models, kind):
    a = propose_batch(models[kind], q=3, seed=5, options=FAST)
    b = propose_batch(models[kind], q=3, seed=5, options=FAST)
    assert a.shape == (3, 2) and torch.equal(a, b)
    assert ((a >= 0) & (a <= 1)).all()
    assert torch.cdist(a, a).add(torch.eye(3)).min() > 0


@pytest.mark.parametrize("kind", ["gp", "ensemble"])
def test_pending_point_at_optimum_moves_proposal_away(models, kind):
    x_star = propose_batch(models[kind], q=1, seed=0, options=FAST)
    moved = propose_batch(models[kind], q=1, seed=0, pending=x_star, options=FAST)
    assert torch.dist(moved, x_star) > 0.05


def test_explicit_best_f_and_acqf_choices(models):
    for acqf in ["qei", "qlognei"]:
        X = propose_batch(models["gp"], q=2, best_f=0.0, options=replace(FAST, acqf=acqf))
        assert X.shape == (2, 2)
    with pytest.raises(ProposalError):
        propose_batch(models["gp"], q=1,
                      options=replace(FAST, acqf="ucb"))  # type: ignore[arg-type]


def _tiny_space_round_fn(X: torch.Tensor) -> torch.Tensor:
    """Column 0: an int with 3 levels (cells of width 1/3); columns 1-2: a 2-way one-hot."""
    X = X.clone()
    X[..., 0] = (torch.floor(X[..., 0].clamp(0, 1 - 1e-9) * 3) + 0.5) / 3
    X[..., 1:3] = torch.nn.functional.one_hot(X[..., 1:3].argmax(-1), 2).to(X)
    return X


def _tiny_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    X = _tiny_space_round_fn(torch.rand(8, 3, generator=g, dtype=torch.float64))
    Y = -(X[:, :1] - 0.5).abs() + X[:, 1:2]
    return X, Y


@pytest.mark.parametrize(
    "make",
    [lambda: GP(cat_groups=[[1, 2]]), lambda: DeepEnsemble(n_members=3, width=16, max_steps=100)],
)
def test_no_duplicates_in_tiny_mixed_space(make):
    X, Y = _tiny_data()
    model = make().fit(X, Y)
    done = X[:2]
    out = propose_batch(
        model,
        q=4,
        exclude=done,
        round_fn=_tiny_space_round_fn,
        cat_groups=[[1, 2]],
        options=FAST,
    )
    assert out.shape == (4, 3)
    assert torch.equal(out, _tiny_space_round_fn(out))
    allx = torch.cat([out, done])
    assert torch.unique(allx, dim=0).shape[0] == allx.shape[0]
    # 6 configurations exist; with 2 excluded at most 4 remain, so q=6 yields 4 distinct points
    few = propose_batch(
        model, q=6, exclude=torch.unique(done, dim=0), round_fn=_tiny_space_round_fn, options=FAST
    )
    assert few.shape[0] == 6 - torch.unique(done, dim=0).shape[0]


def test_default_snapping_of_one_hot_groups(models):
    g = torch.Generator().manual_seed(1)
    cats = torch.nn.functional.one_hot(torch.randint(3, (12,), generator=g), 3).double()
    X = torch.cat([torch.rand(12, 1, generator=g, dtype=torch.float64), cats], -1)
    model = GP(cat_groups=[[1, 2, 3]]).fit(X, X[:, :1] + cats[:, :1])
    out = propose_batch(model, q=4, cat_groups=[[1, 2, 3]], pending=X[:2], options=FAST)
    assert torch.equal(out[:, 1:].sum(-1), torch.ones(4, dtype=out.dtype))
    assert set(out[:, 1:].unique().tolist()) <= {0.0, 1.0}


class _Broken(DeepEnsemble):
    def forward(self, X):
        raise RuntimeError("boom")


def test_failure_raises_and_fallback_is_counted(models):
    X = torch.rand(10, 2, dtype=torch.float64)
    broken = _Broken(n_members=2, width=8, max_steps=5).fit(X, X.sum(-1, keepdim=True))
    with pytest.raises(ProposalError):
        propose_batch(broken, q=3, options=FAST)
    out, info = propose_or_random(broken, q=3, seed=1, pending=X[:1], options=FAST)
    assert info["fallback"] is True and "boom" in info["reason"]
    assert out.shape == (3, 2)
    ok, info = propose_or_random(models["gp"], q=2, options=FAST)
    assert info["fallback"] is False and ok.shape == (2, 2)


def test_all_members_sampler_draws_each_member_once(models):
    post = models["ensemble"].posterior(torch.rand(5, 4, 2, dtype=torch.float64))
    assert isinstance(post, EnsemblePosterior)
    s = post.ensemble_size
    samples = AllMembersSampler(sample_shape=torch.Size([s]))(post)
    assert samples.shape == (s, 5, 4, 1)
    torch.testing.assert_close(samples.mean(0), post.mean)


def test_global_rng_untouched(models):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    propose_batch(models["ensemble"], q=2, options=FAST)
    assert torch.equal(state, torch.get_rng_state())


def test_qlognei_baseline_is_moved_into_the_bounds_without_repeats():
    """Replicates (one config on several seeds) and low-fidelity rows become one baseline point
    at the max fidelity, where the acquisition looks."""
    from types import SimpleNamespace

    from acquisition.core import qlognei_baseline

    X = torch.tensor([[0.2, 0.0], [0.2, 0.5], [0.2, 1.0], [0.2, 1.0], [0.7, 1.0]],
                     dtype=torch.float64)
    bounds = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    base = qlognei_baseline(SimpleNamespace(train_X=X), bounds)  # type: ignore[arg-type]
    assert base.tolist() == [[0.2, 1.0], [0.7, 1.0]]


@pytest.mark.parametrize("kind", ["gp", "ensemble"])
def test_qlognei_on_replicated_noisy_data(kind):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(8, 2, generator=g, dtype=torch.float64)
    X = torch.cat([x, x, x])  # three seeds of each point
    Y = -((X - 0.5) ** 2).sum(-1, keepdim=True) + 0.1 * torch.randn(24, 1, generator=g,
                                                                      dtype=torch.float64)
    model = (GP() if kind == "gp" else DeepEnsemble(n_members=3, width=16, max_steps=100)).fit(X, Y)
    a = propose_batch(model, q=2, seed=3, exclude=x, options=NOISY)
    b = propose_batch(model, q=2, seed=3, exclude=x, options=NOISY)
    assert a.shape == (2, 2) and torch.equal(a, b)
