"""VBLL: joint batch posterior from last-layer samples, determinism, learned noise."""

from __future__ import annotations

import torch

from surrogates.vbll import VBLL, _features


def _data(n: int, noise: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    Y = torch.sin(5 * X[:, :1]) + X[:, 1:] ** 2
    return X, Y + noise * torch.randn(n, 1, generator=g, dtype=torch.float64)


def _small(seed: int, max_steps: int = 300, posterior_noise: bool = True) -> VBLL:
    return VBLL(width=32, depth=2, max_steps=max_steps, n_samples=32, seed=seed,
                posterior_noise=posterior_noise)


def test_samples_are_joint_functions_across_the_q_points():
    X, Y = _data(30, 0.0)
    model = _small(seed=0, posterior_noise=False).fit(X, Y)
    q = torch.tensor([[0.9, 0.9], [0.9, 0.91], [0.1, 0.95]], dtype=torch.float64)
    samples = model(q.unsqueeze(0)).squeeze(0).squeeze(-1)  # S x q
    assert samples.shape == (model.n_samples, 3)
    assert (samples[:, 0] - samples[:, 2]).abs().min() > 0
    assert samples[:, 0].std() > 0
    # one function per sample: two nearby points move together, unlike independent draws
    assert torch.corrcoef(samples[:, :2].T)[0, 1] > 0.95


def test_posterior_noise_shifts_each_sample_by_the_learned_sd():
    X, Y = _data(30, 0.1)
    model = _small(seed=0).fit(X, Y)
    Xq = torch.rand(1, 4, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = model(Xq).squeeze(-1).squeeze(0)  # 2S x q
    S = model.n_samples
    assert out.shape == (2 * S, 4)
    gap = (out[S:] - out[:S]) / (2 * model._y_std)
    torch.testing.assert_close(gap, torch.full_like(gap, model.noise_var**0.5))


def test_mean_is_the_last_layer_mean_and_head_is_exact():
    X, Y = _data(25, 0.05)
    model = _small(seed=1, posterior_noise=False).fit(X, Y)
    Xq = torch.rand(7, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    phi = _features(model.params, 2 * Xq - 1, model.activation)
    expected = (phi @ model.head_mean) * model._y_std + model._y_mean
    torch.testing.assert_close(model.posterior(Xq).mean.squeeze(-1), expected)
    # exact head: the conjugate posterior's precision is Phi^T Phi / sigma^2 + D / prior_scale
    phi_tr = _features(model.params, 2 * X - 1, model.activation)
    prec = phi_tr.T @ phi_tr / model.noise_var + torch.eye(32, dtype=torch.float64) * 32
    cov = model.head_chol @ model.head_chol.T
    torch.testing.assert_close(cov @ prec, torch.eye(32, dtype=torch.float64), atol=1e-6, rtol=0)


def test_fixed_seed_is_deterministic_and_seeds_differ():
    X, Y = _data(20, 0.0)
    Xq = torch.rand(3, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    a = _small(seed=5).fit(X, Y)(Xq.unsqueeze(0))
    b = _small(seed=5).fit(X, Y)(Xq.unsqueeze(0))
    c = _small(seed=6).fit(X, Y)(Xq.unsqueeze(0))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_learns_more_noise_from_noisier_data():
    # long enough for sigma^2 to leave its start at 1 (the default budget stops well before)
    clean = _small(seed=0, max_steps=2000).fit(*_data(80, 0.0))
    noisy = _small(seed=0, max_steps=2000).fit(*_data(80, 0.5))
    assert noisy.fit_info["noise_var"] > 5 * clean.fit_info["noise_var"]
