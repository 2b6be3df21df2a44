"""The NNGP kernel: positive semi-definite, the wide random ReLU network's covariance, and the
surrogate built on it."""

from __future__ import annotations

import math

import pytest
import torch
from botorch.models import SingleTaskGP
from gpytorch.kernels import ScaleKernel

from surrogates import make_surrogate
from surrogates.nngp import NNGP, NNGPKernel


def _kernel(depth: int, d: int) -> NNGPKernel:
    k = NNGPKernel(depth=depth, ard_num_dims=d).double()
    k.lengthscale = torch.tensor([[0.7, 1.3, 2.0]], dtype=torch.float64)[:, :d]
    k.weight_var, k.bias_var = 1.7, 0.3
    return k


@pytest.mark.parametrize("depth", [0, 1, 3, 6])
def test_kernel_matrix_is_psd_and_diag_matches(depth: int) -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(60, 3, generator=g, dtype=torch.float64)
    X[1] = X[0]  # a duplicate: correlation exactly 1 off the diagonal
    k = _kernel(depth, 3)
    with torch.no_grad():
        K = k(X).to_dense()
        diag = k(X, diag=True)
    torch.testing.assert_close(K, K.T)
    assert float(torch.linalg.eigvalsh(K).min()) > -1e-8 * float(K.diagonal().max())
    torch.testing.assert_close(K.diagonal(), diag, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(K[0, 1], K[0, 0], rtol=1e-8, atol=1e-10)
    assert k(X[:5], X[5:9]).to_dense().shape == (5, 4)
    assert k(X.expand(2, 60, 3)).to_dense().shape == (2, 60, 60)


@pytest.mark.parametrize("depth", [1, 2])
def test_kernel_matches_a_wide_random_relu_network(depth: int) -> None:
    """The empirical covariance of the output layer of a width-4000 ReLU network with
    ``N(0, sigma_w^2 / fan_in)`` weights and ``N(0, sigma_b^2)`` biases: average over random
    networks of ``sigma_b^2 + sigma_w^2 / N * <relu(h(x)), relu(h(x'))>`` (the readout's
    covariance given the last hidden layer)."""
    d, width, draws = 3, 4000, 16
    g = torch.Generator().manual_seed(1)
    X = torch.rand(12, d, generator=g, dtype=torch.float64)
    k = _kernel(depth, d)
    with torch.no_grad():
        K = k(X).to_dense()
        z = (2 * X - 1) / k.lengthscale  # the kernel's first-layer inputs
    wv, bv = 1.7, 0.3
    est = torch.zeros_like(K)
    for _ in range(draws):
        h, fan_in = z, d
        for _layer in range(depth):
            W = torch.randn(fan_in, width, generator=g, dtype=torch.float64) * math.sqrt(wv / fan_in)
            b = torch.randn(width, generator=g, dtype=torch.float64) * math.sqrt(bv)
            h, fan_in = torch.relu(h @ W + b), width
        est += bv + wv / width * h @ h.T
    est /= draws
    # one draw's error is mostly a shared offset of ~1% (the hidden layers' finite-width
    # fluctuation); 16 draws leave ~0.3%
    scale = float(K.diagonal().max())
    assert float((est - K).abs().max()) < 0.04 * scale
    assert float((est - K).abs().mean()) < 0.015 * scale
    assert float((K - _kernel(depth + 1, d)(X).to_dense().detach()).abs().mean()) > 0.05 * scale


def test_kernel_depth_zero_is_the_linear_kernel() -> None:
    X = torch.rand(5, 2, dtype=torch.float64)
    k = _kernel(0, 2)
    with torch.no_grad():
        z = (2 * X - 1) / k.lengthscale
        torch.testing.assert_close(k(X).to_dense(), 0.3 + 1.7 * z @ z.T / 2)


def test_nngp_surrogate_uses_the_kernel_and_fits() -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 3, generator=g, dtype=torch.float64)
    Y = torch.sin(4 * X[:, :1]) + X[:, 1:2] ** 2
    model = make_surrogate("nngp", seed=0, options={"depth": 2}).fit(X, Y)
    assert isinstance(model, NNGP) and isinstance(model.botorch_model, SingleTaskGP)
    cov = model.botorch_model.covar_module
    assert isinstance(cov, ScaleKernel) and isinstance(cov.base_kernel, NNGPKernel)
    assert cov.base_kernel.depth == 2
    with torch.no_grad():
        rmse = float((model.posterior(X).mean - Y).pow(2).mean().sqrt())
    assert rmse < 0.1 * float(Y.std())
    warped = make_surrogate("nngp-warp", seed=0).fit(X, Y)
    assert warped.output_warp and torch.isfinite(warped.noise_variance(X[:3])).all()


def test_nngp_takes_categorical_columns_as_inputs() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20, 1, generator=g, dtype=torch.float64)
    cat = torch.nn.functional.one_hot(torch.randint(3, (20,), generator=g), 3).double()
    model = NNGP(cat_groups=[[1, 2, 3]]).fit(torch.cat([x, cat], -1), x.sin() + cat[:, :1])
    assert isinstance(model.botorch_model, SingleTaskGP)
    assert model.posterior(torch.cat([x, cat], -1)[:4]).mean.shape == (4, 1)
