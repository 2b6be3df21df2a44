"""TFPBNN: joint batch posterior from HMC weight samples, determinism, learned noise, the extra."""

from __future__ import annotations

import sys
from importlib.util import find_spec

import pytest
import torch

from surrogates import FitError, make_surrogate
from surrogates.tfp_bnn import TFPBNN, _sampler

needs_tfp = pytest.mark.skipif(
    find_spec("jax") is None or find_spec("tensorflow_probability") is None,
    reason='needs the tfp extra: pip install "hyperpilot[tfp]"')

# one sampler shape for the whole file (data padded to 32 or 64 points, d = 2): compiled once
SMALL = {"width": 16, "n_chains": 4, "map_steps": 300, "n_burnin": 40, "n_results": 4,
         "thin": 2, "n_leapfrog": 5}


def _data(n: int, noise: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    Y = torch.sin(5 * X[:, :1]) + X[:, 1:] ** 2
    return X, Y + noise * torch.randn(n, 1, generator=g, dtype=torch.float64)


@needs_tfp
def test_samples_are_joint_functions_across_the_q_points():
    X, Y = _data(30, 0.0)
    model = TFPBNN(seed=0, **SMALL).fit(X, Y)  # type: ignore[arg-type]
    q = torch.tensor([[0.9, 0.9], [0.9, 0.91], [0.1, 0.95]], dtype=torch.float64)
    samples = model(q.unsqueeze(0)).squeeze(0).squeeze(-1)  # S x q
    assert samples.shape == (16, 3)
    assert (samples[:, 0] - samples[:, 2]).abs().min() > 0
    assert samples[:, 0].std() > 0
    # one network per sample: two nearby points move together, unlike independent draws
    assert torch.corrcoef(samples[:, :2].T)[0, 1] > 0.95


@needs_tfp
def test_fixed_seed_is_deterministic_and_seeds_differ():
    X, Y = _data(20, 0.0)
    Xq = torch.rand(1, 3, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    a = TFPBNN(seed=5, **SMALL).fit(X, Y)(Xq)  # type: ignore[arg-type]
    b = TFPBNN(seed=5, **SMALL).fit(X, Y)(Xq)  # type: ignore[arg-type]
    c = TFPBNN(seed=6, **SMALL).fit(X, Y)(Xq)  # type: ignore[arg-type]
    assert torch.equal(a, b) and not torch.equal(a, c)


@needs_tfp
def test_learns_more_noise_from_noisier_data():
    clean = TFPBNN(seed=0, **SMALL).fit(*_data(60, 0.0))  # type: ignore[arg-type]
    noisy = TFPBNN(seed=0, **SMALL).fit(*_data(60, 0.5))  # type: ignore[arg-type]
    assert noisy.fit_info["noise_var"] > 5 * clean.fit_info["noise_var"]
    assert clean.fit_info["acceptance"] > 0.2


def test_without_the_extra_the_error_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # makes ``import jax`` fail
    _sampler.cache_clear()
    model = make_surrogate("tfp-bnn", seed=0, options={"width": 3})
    with pytest.raises(ImportError, match=r'pip install "hyperpilot\[tfp\]"'):
        model.fit(*_data(10, 0.0))
    _sampler.cache_clear()
    with pytest.raises(FitError):  # bad data is reported before any import
        model.fit(torch.rand(1, 2), torch.rand(1, 1))
