"""``transfer``'s kernel in an exact GP (``surrogates.transfer_gp``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from surrogates import GP, make_surrogate
from surrogates.transfer import fit_shared_features
from surrogates.transfer_gp import FeatureKernel, TransferGP
from tests.surrogates.conftest import bumpy_related, shifted_bumps


@pytest.fixture(scope="module")
def features():
    return fit_shared_features(bumpy_related(n=200), seed=0)


def test_related_tasks_teach_the_target_what_its_few_points_cannot(features) -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(8, 2, generator=g, dtype=torch.float64)
    Xt = torch.rand(300, 2, generator=g, dtype=torch.float64)
    Y, yt = shifted_bumps(X, 0.02), shifted_bumps(Xt, 0.02).squeeze(-1)
    tg = TransferGP(features, seed=0).fit(X, Y)
    gp = GP(seed=0).fit(X, Y)
    with torch.no_grad():
        rho_t = spearmanr(tg.posterior(Xt).mean.squeeze(-1), yt)[0]
        rho_gp = spearmanr(gp.posterior(Xt).mean.squeeze(-1), yt)[0]
    assert rho_t > 0.8 and rho_t > rho_gp + 0.1
    assert tg.fit_info["transfer_scale"] > 0.05  # the evidence uses the network's block


def test_the_kernel_is_the_scaled_feature_inner_product(features) -> None:
    X1 = torch.rand(5, 2, dtype=torch.float64)
    X2 = torch.rand(3, 2, dtype=torch.float64)
    k = FeatureKernel(features).to(torch.float64)
    k._set_log_scale(torch.tensor(0.7))
    with torch.no_grad():
        P1, P2 = features.to(torch.float64)(X1), features(X2)
        want = np.exp(0.7) * P1 @ P2.T
        assert torch.allclose(k(X1, X2).to_dense(), want)
        assert torch.allclose(k(X1, X1, diag=True), np.exp(0.7) * (P1 * P1).sum(-1))
    assert not any(p.requires_grad for p in features.parameters())  # the map stays frozen


def test_joint_posterior_in_the_callers_units(features) -> None:
    X = torch.rand(15, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Y = 100.0 + 50.0 * shifted_bumps(X, 0.0)
    tg = TransferGP(features, seed=0).fit(X, Y)
    with torch.no_grad():
        assert torch.allclose(tg.posterior(X).mean, Y, atol=0.1 * float(Y.std()))
        cov = tg.posterior(X[:4].unsqueeze(0)).mvn.covariance_matrix
    assert cov.shape == (1, 4, 4)
    assert (cov - torch.diag_embed(torch.diagonal(cov, dim1=-2, dim2=-1))).abs().max() > 0


def test_bad_input_is_refused_with_the_reason(features) -> None:
    X = torch.rand(8, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="the shared features take 2 inputs, got 3"):
        TransferGP(features).fit(X, X.sum(-1, keepdim=True))


def test_without_related_tasks_the_registered_name_is_the_gp() -> None:
    assert type(make_surrogate("transfer-gp", seed=0, options={"related": []})) is GP
    related = bumpy_related(n=200)
    assert isinstance(make_surrogate("transfer-gp", seed=0, options={"related": related}),
                      TransferGP)
