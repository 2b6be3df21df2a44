"""The GP baseline: mixed spaces and known noise."""

from __future__ import annotations

import torch
from botorch.models import MixedSingleTaskGP, SingleTaskGP

from surrogates import GP


def test_gp_uses_mixed_kernel_for_categoricals():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20, 1, generator=g, dtype=torch.float64)
    cat = torch.nn.functional.one_hot(torch.randint(3, (20,), generator=g), 3).double()
    X = torch.cat([x, cat], -1)
    Y = x.sin() + cat[:, :1]
    model = GP(cat_groups=[[1, 2, 3]]).fit(X, Y)
    assert isinstance(model.botorch_model, MixedSingleTaskGP)
    assert model.posterior(X[:4]).mean.shape == (4, 1)


def test_gp_known_noise_widens_posterior():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(15, 2, generator=g, dtype=torch.float64)
    Y = X.sum(-1, keepdim=True)
    plain = GP().fit(X, Y)
    noisy = GP().fit(X, Y, train_Yvar=torch.full_like(Y, 0.1))
    assert isinstance(plain.botorch_model, SingleTaskGP)
    assert noisy.posterior(X).variance.mean() > plain.posterior(X).variance.mean()


def test_gp_noise_variance_is_the_learned_noise_in_callers_units():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(30, 2, generator=g, dtype=torch.float64)
    Y = 10 * torch.sin(5 * X[:, :1]) + 0.5 * torch.randn(30, 1, generator=g, dtype=torch.float64)
    model = GP().fit(X, Y)
    Xq = torch.rand(4, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        gap = model.posterior(Xq, observation_noise=True).variance - model.posterior(Xq).variance
    torch.testing.assert_close(model.noise_variance(Xq), gap)
    assert 0.05 < float(gap[0]) < 1.0  # the noise was 0.25, the signal's variance ~50


def test_warped_gp_keeps_far_outliers_from_spoiling_the_fit():


    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 2, generator=g, dtype=torch.float64)
    Y = torch.sin(5 * X[:, :1]) + X[:, 1:] ** 2
    Y[:4] = -10.0  # diverged configs far below the rest
    ok = Y.squeeze(-1) > -5
    errs = {}
    for warp in (False, True):
        model = GP(seed=0, output_warp=warp).fit(X, Y, train_Yvar=torch.full_like(Y, 1e-4))
        mean = model.posterior(X[ok]).mean.squeeze(-1)  # the caller's units either way
        errs[warp] = float(((mean - Y[ok, 0]) ** 2).mean().sqrt())
        assert torch.isfinite(model.noise_variance(X[:3].unsqueeze(0))).all()
    assert errs[True] < errs[False]
