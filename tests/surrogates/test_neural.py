"""Behaviour specific to the neural surrogates: warm start, frozen masks, posterior choice."""

from __future__ import annotations

import pytest
import torch
from botorch.posteriors.ensemble import EnsemblePosterior

from surrogates import DeepEnsemble, FitError, MCDropout


def test_warm_start_reuses_weights_and_is_cheaper(toy):
    X, Y = toy(n=40)
    model = DeepEnsemble(n_members=3, width=16, max_steps=200, bagging="none", seed=0)
    model.fit(X[:30], Y[:30])
    before = model.posterior(X[30:]).mean
    model.fit(X, Y, warm_start=True)
    assert model.fit_info["warm_start"] and model.fit_info["steps"] <= 50
    after = model.posterior(X[30:]).mean
    assert not torch.equal(before, after)
    cold = DeepEnsemble(n_members=3, width=16, max_steps=200, seed=0).fit(X, Y, warm_start=True)
    assert not cold.fit_info["warm_start"]


def test_mc_dropout_has_variance_in_eval_mode(toy):
    X, Y = toy(n=15)
    model = MCDropout(n_samples=6, width=16, max_steps=50, posterior_noise=False).fit(X, Y)
    model.eval()
    post = model.posterior(torch.rand(5, 2, dtype=torch.float64))
    assert isinstance(post, EnsemblePosterior) and post.ensemble_size == 6
    assert (post.variance > 0).all()


@pytest.mark.parametrize("noise", [True, False])
def test_posterior_noise_doubles_members_and_adds_variance(toy, noise):
    X, Y = toy(n=15)
    model = DeepEnsemble(n_members=3, width=16, max_steps=50, posterior_noise=noise).fit(X, Y)
    post = model.posterior(X)
    assert post.ensemble_size == (6 if noise else 3)


def test_mixture_moments_match_members(toy):
    X, Y = toy(n=15)
    model = DeepEnsemble(n_members=3, width=16, max_steps=50).fit(X, Y)
    assert model.net is not None
    with torch.no_grad():
        mu, var = model.net(2 * X - 1)
    mu = mu * model._y_std + model._y_mean
    var = var * model._y_std**2
    post = model.posterior(X)
    torch.testing.assert_close(post.mean.squeeze(-1), mu.mean(0))
    s = 6  # unbiased correction of EnsemblePosterior.variance
    expected = (mu.var(0, unbiased=False) + var.mean(0)) * s / (s - 1)
    torch.testing.assert_close(post.variance.squeeze(-1), expected)


@pytest.mark.parametrize("bagging", ["subset", "bootstrap", "none"])
def test_bagging_modes_fit(toy, bagging):
    X, Y = toy(n=30)
    model = DeepEnsemble(n_members=3, width=16, max_steps=100, bagging=bagging).fit(X, Y)
    assert model.fit_info["steps"] <= 100
    assert torch.isfinite(model.posterior(X).variance).all()


def test_bad_data_raise_fit_error():
    with pytest.raises(FitError):
        DeepEnsemble().fit(torch.rand(5, 2), torch.rand(4, 1))
    with pytest.raises(FitError):
        DeepEnsemble().fit(torch.rand(5, 2), torch.tensor([[1.0], [float("nan")], [0], [0], [0]]))


def test_known_noise_downweights_points():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 1, generator=g, dtype=torch.float64)
    Y = X.clone()
    Y[:10] += 3.0  # corrupted points...
    Yvar = torch.zeros_like(Y)
    Yvar[:10] = 100.0  # ...that the caller says are very noisy
    kw = {"n_members": 3, "width": 16, "max_steps": 300, "bagging": "none", "seed": 0}
    plain = DeepEnsemble(**kw).fit(X, Y)
    told = DeepEnsemble(**kw).fit(X, Y, train_Yvar=Yvar)
    Xt = torch.linspace(0.1, 0.9, 9, dtype=torch.float64).unsqueeze(-1)
    err_plain = (plain.posterior(Xt).mean - Xt).abs().mean()
    err_told = (told.posterior(Xt).mean - Xt).abs().mean()
    assert err_told < 0.5 * err_plain


def test_mc_dropout_warm_start(toy):
    X, Y = toy(n=30)
    model = MCDropout(n_samples=4, width=16, max_steps=80, seed=0).fit(X[:20], Y[:20])
    model.fit(X, Y, warm_start=True)
    assert model.fit_info["warm_start"] and model.fit_info["steps"] <= 20
    assert (model.posterior(X).variance > 0).all()
