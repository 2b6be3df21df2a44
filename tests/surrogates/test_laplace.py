"""LinearizedLaplace: joint batch posterior, evidence-tuned noise, the mean is the network."""

from __future__ import annotations

import torch

from surrogates.laplace import LinearizedLaplace, _mlp


def _data(n: int, noise: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    Y = torch.sin(5 * X[:, :1]) + X[:, 1:] ** 2
    return X, Y + noise * torch.randn(n, 1, generator=g, dtype=torch.float64)


def test_samples_are_joint_functions_across_the_q_points():
    X, Y = _data(30, 0.0)
    model = LinearizedLaplace(seed=0, max_steps=400).fit(X, Y)
    q = torch.tensor([[0.9, 0.9], [0.9, 0.91], [0.1, 0.95]], dtype=torch.float64)
    samples = model(q.unsqueeze(0)).squeeze(0).squeeze(-1)  # S x q
    assert samples.shape == (model.n_samples, 3)
    # distinct values at distinct points, within a sample and across samples
    assert (samples[:, 0] - samples[:, 2]).abs().min() > 0
    assert samples[:, 0].std() > 0
    # one function per sample: two nearby points move together, unlike independent draws
    corr = torch.corrcoef(samples[:, :2].T)[0, 1]
    assert corr > 0.95


def test_posterior_mean_is_the_trained_network():
    X, Y = _data(25, 0.0)
    model = LinearizedLaplace(seed=1, max_steps=300).fit(X, Y)
    Xq = torch.rand(7, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    net = model.warp.untransform(_mlp(model.params, model._to_net(Xq), model.activation))
    torch.testing.assert_close(model.posterior(Xq).mean.squeeze(-1), net)


def test_evidence_learns_more_noise_from_noisier_data():
    clean = LinearizedLaplace(seed=0, max_steps=500).fit(*_data(60, 0.0))
    noisy = LinearizedLaplace(seed=0, max_steps=500).fit(*_data(60, 0.5))
    assert noisy.fit_info["noise_var"] > 5 * clean.fit_info["noise_var"]


def test_embedding_gives_unit_norm_inputs():
    model = LinearizedLaplace()
    X = torch.rand(10, 4, dtype=torch.float64)
    torch.testing.assert_close(model._to_net(X).norm(dim=-1), torch.ones(10, dtype=torch.float64))


def test_ard_gives_each_input_dimension_its_own_first_layer_prior():
    X, Y = _data(30, 0.0)
    X = torch.cat([X, torch.rand(30, 1, generator=torch.Generator().manual_seed(5),
                                 dtype=torch.float64)], dim=1)  # a third, irrelevant input
    model = LinearizedLaplace(seed=0, max_steps=400, ard=True).fit(X, Y)
    # groups: 3 input dimensions + the first bias, then one per later layer (2)
    assert len(model.fit_info["prior_precision"]) == 3 + 1 + 2
    first = model.groups[0]
    assert first[0].unique().numel() == 1 and first[:, 0].unique().numel() == 3  # row -> dim
    assert torch.equal(first[0], first[3])  # cos and sin rows of a dimension share a prior


def test_output_warp_round_trips_and_keeps_order():
    from surrogates._warp import OutputWarp

    g = torch.Generator().manual_seed(0)
    y = torch.cat([-torch.rand(40, generator=g, dtype=torch.float64) * 0.1,
                   -0.9 - torch.rand(5, generator=g, dtype=torch.float64) * 0.05])  # a far tail
    w = OutputWarp().fit(y)
    assert w.lam != 1.0
    u = w.transform(y)
    torch.testing.assert_close(w.untransform(u), y)
    assert torch.equal(u.argsort(), y.argsort())  # strictly increasing
    assert abs(float(u.mean())) < 1e-9 and abs(float(u.std()) - 1) < 1e-9
    # the slope is the derivative of the transform
    h = 1e-6
    fd = (w.transform(y + h) - w.transform(y - h)) / (2 * h)
    torch.testing.assert_close(w.slope(y), fd, rtol=1e-4, atol=1e-6)


def test_warping_keeps_far_outliers_from_spoiling_the_fit():
    X, Y = _data(40, 0.0)
    Y = Y.clone()
    Y[:4] = -10.0  # diverged configs far below the rest
    ok = Y.squeeze(-1) > -5
    errs = {}
    for warp in (False, True):
        model = LinearizedLaplace(seed=0, max_steps=300, output_warp=warp).fit(X, Y)
        mean = model.posterior(X).mean.squeeze(-1)  # in the caller's units either way
        errs[warp] = float(((mean[ok] - Y[ok, 0]) ** 2).mean().sqrt())
    assert errs[True] < 0.5 * errs[False]


def test_the_inverse_warp_is_bounded_to_one_range_beyond_the_data():
    from surrogates._warp import OutputWarp

    y = torch.tensor([0.0, 0.01, 0.02, 0.05, 0.1, 1.0], dtype=torch.float64)
    w = OutputWarp().fit(y)
    far = w.untransform(torch.tensor([-1e3, 1e3], dtype=torch.float64))
    torch.testing.assert_close(far, torch.tensor([-1.0, 2.0], dtype=torch.float64))
    u = torch.tensor([50.0], dtype=torch.float64, requires_grad=True)
    w.untransform(u).sum().backward()
    assert torch.isfinite(u.grad).all()


def test_the_warp_never_saturates_the_good_end():
    """Right-skewed values (a few configs far above the rest, as Hartmann-6's) make Yeo-Johnson's
    maximum-likelihood ``lam`` negative, a transform bounded above; ``lam`` is floored at 0."""
    from scipy import stats

    from surrogates._warp import OutputWarp

    g = torch.Generator().manual_seed(0)
    y = torch.rand(400, generator=g, dtype=torch.float64) ** 6 * 3.0  # most near 0, few high
    z = (y - y.mean()) / y.std()
    assert stats.yeojohnson_normmax(z.numpy()) < 0  # what the floor guards against
    w = OutputWarp().fit(y)
    assert w.lam == 0.0
    top = w.transform(torch.tensor([float(y.max()), 2 * float(y.max())], dtype=torch.float64))
    assert float(top[1] - top[0]) > 0.5  # the range above the best keeps warped resolution


def test_lbfgs_map_fit_converges_where_a_fixed_adam_budget_stops_short():
    X, Y = _data(120, 0.0)
    Xt, Yt = _data(200, 0.0, seed=9)
    rmse = {}
    for opt in ("adam", "lbfgs"):
        model = LinearizedLaplace(seed=0, max_steps=300, optimizer=opt).fit(X, Y)
        rmse[opt] = float(((model.posterior(Xt).mean - Yt) ** 2).mean().sqrt())
    assert rmse["lbfgs"] < rmse["adam"]
