"""rff-bayes: the Laplace draws, the mixture posterior's moments and stratified samples."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
from botorch.posteriors import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal

from surrogates import make_surrogate
from surrogates.rff import MIN_LENGTHSCALE
from surrogates.rff_bayes import MixturePosterior, RFFHyperMixture, laplace_draws
from tests.surrogates.conftest import toy_data


def _mvn(mean: list[float], sd: float) -> GPyTorchPosterior:
    m = torch.tensor(mean, dtype=torch.float64)
    return GPyTorchPosterior(MultivariateNormal(m, sd**2 * torch.eye(len(mean), dtype=torch.float64)))


def test_mixture_moments_and_stratified_samples() -> None:
    post = MixturePosterior([_mvn([0.0, 1.0], 1e-4), _mvn([2.0, 5.0], 0.5)])
    assert torch.allclose(post.mean.squeeze(-1), torch.tensor([1.0, 3.0], dtype=torch.float64))
    # law of total variance: mean of variances + variance of means
    want = torch.tensor([(1e-8 + 0.25) / 2 + 1.0, (1e-8 + 0.25) / 2 + 4.0], dtype=torch.float64)
    assert torch.allclose(post.variance.squeeze(-1), want)
    base = torch.randn(torch.Size([6]) + post.base_sample_shape,
                       generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    s = post.rsample_from_base_samples(torch.Size([6]), base).squeeze(-1)  # 6 x 2
    assert s.shape == (6, 2)
    assert torch.allclose(s[0::2], torch.tensor([0.0, 1.0], dtype=torch.float64), atol=1e-3)
    assert (s[1::2] - torch.tensor([2.0, 5.0], dtype=torch.float64)).abs().max() > 0.01
    # each sample is its component's transform of the same base sample
    comp1 = post.components[1].rsample_from_base_samples(torch.Size([3]), base[1::2])
    assert torch.equal(s[1::2], comp1.squeeze(-1))
    with pytest.raises(RuntimeError, match="disagrees"):
        post.rsample_from_base_samples(torch.Size([5]), base)


def test_draws_are_antithetic_around_the_map_and_one_component_is_the_map_network() -> None:
    X, Y = toy_data(n=15, d=2)
    mix = RFFHyperMixture(components=4, n_features=256, evidence="kernel", seed=3).fit(X, Y)
    base = make_surrogate("rff", seed=3, options={"n_features": 256, "evidence": "kernel"}).fit(X, Y)
    thetas, curv = laplace_draws(base, 4, seed=5)
    star = (base.hypers.lengthscale - MIN_LENGTHSCALE).log()
    assert torch.allclose(torch.stack(thetas)[:, :2].mean(0), star, atol=1e-10)  # pairs +- z
    assert torch.stack(thetas).std(0).min() > 0.01 and math.isfinite(curv)
    log_l = torch.stack([(m.hypers.lengthscale - MIN_LENGTHSCALE).log() for m in mix.members])
    assert log_l.std(0).min() > 0.01  # the mixture's networks spread
    assert mix.fit_info["components"] == 4 and math.isfinite(mix.fit_info["min_eigenvalue"])
    one = RFFHyperMixture(components=1, n_features=256, evidence="kernel", seed=3).fit(X, Y)
    Xq = torch.rand(5, 2, dtype=torch.float64)
    assert torch.equal(one.posterior(Xq).mean, base.posterior(Xq).mean)
    with pytest.raises(ValueError, match="even"):
        RFFHyperMixture(components=3)


def test_integrating_the_scales_calibrates_the_few_point_posterior() -> None:
    """Hartmann-6-like data at n = 20: the MAP network is overconfident held out."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "paper" / "scripts"))
    from surrogate_common import hartmann_split

    X, Y, Xt, Yt = hartmann_split(20, 300, 0)
    nll = {}
    for name in ("rff-kev", "rff-bayes"):
        p = make_surrogate(name, seed=0).fit(X, Y).posterior(Xt)
        nll[name] = float((0.5 * torch.log(2 * math.pi * p.variance)
                           + 0.5 * (Yt - p.mean) ** 2 / p.variance).mean())
    assert nll["rff-bayes"] < nll["rff-kev"] - 0.5, nll
