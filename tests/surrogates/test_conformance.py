"""One conformance suite, parametrized over every registered surrogate (``SURROGATES``).

A new ``register_surrogate`` entry is tested here without touching this file.
"""

from __future__ import annotations

import pytest
import torch

from acquisition import make_acqf
from surrogates import SURROGATES, UnknownSurrogate, make_surrogate

KINDS = sorted(SURROGATES)


@pytest.mark.parametrize("kind", KINDS)
def test_posterior_shapes(fitted, kind):
    model = fitted[kind]
    for shape in [(7, 2), (3, 5, 2), (2, 3, 4, 2)]:
        post = model.posterior(torch.rand(*shape, dtype=torch.float64))
        assert post.mean.shape == shape[:-1] + (1,)
        assert post.variance.shape == shape[:-1] + (1,)
        assert torch.isfinite(post.mean).all() and (post.variance > 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_float32_inputs_are_cast_to_model_dtype(kind, toy, small):
    X, Y = toy(n=12)
    model = small(kind, seed=0).fit(X.float(), Y.float())
    post = model.posterior(torch.rand(4, 2))  # float32 query
    assert post.mean.dtype == torch.float64
    assert model.train_X.dtype == torch.float64 and model.train_Y.dtype == torch.float64


@pytest.mark.parametrize("kind", KINDS)
def test_variance_grows_away_from_data(fitted, kind):
    model = fitted[kind]
    near = model.train_X  # training data live in [0, 0.5]^2
    far = 0.9 + 0.1 * torch.rand(
        20, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    v_near = model.posterior(near).variance.mean()
    v_far = model.posterior(far).variance.mean()
    assert v_far > 1.5 * v_near


@pytest.mark.parametrize("kind", KINDS)
def test_fit_and_acquisition_are_deterministic(kind, toy, small):
    X, Y = toy(n=15)
    Xq = torch.rand(5, 3, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    vals = []
    for _ in range(2):
        model = small(kind, seed=4).fit(X, Y)
        vals.append(make_acqf(model, "qlogei", seed=7)(Xq))
    assert torch.equal(vals[0], vals[1])
    assert torch.equal(vals[0], make_acqf(model, "qlogei", seed=7)(Xq))


@pytest.mark.parametrize("acqf", ["qlogei", "qei", "qlognei"])
@pytest.mark.parametrize("kind", KINDS)
def test_acquisition_gradients_flow(fitted, kind, acqf):
    # a median incumbent keeps plain qEI off its exactly-flat zero region (a known qEI property)
    af = make_acqf(fitted[kind], acqf, best_f=float(fitted[kind].train_Y.median()), seed=0)
    Xq = (0.2 + 0.6 * torch.rand(4, 3, 2, generator=torch.Generator().manual_seed(0))).double()
    Xq.requires_grad_(True)
    af(Xq).sum().backward()
    assert Xq.grad is not None and torch.isfinite(Xq.grad).all() and Xq.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_fit_info_train_targets_and_yvar(kind, toy, small):
    X, Y = toy(n=16)
    Yvar = torch.full_like(Y, 0.01)
    model = small(kind, seed=0).fit(X, Y, Yvar)
    assert model.train_Y.shape == (16, 1) and torch.equal(model.train_Y, Y)
    assert {"seconds", "warnings", "n"} <= set(model.fit_info)
    assert torch.isfinite(model.posterior(X).mean).all()


@pytest.mark.parametrize("kind", KINDS)
def test_global_rng_untouched(kind, toy, small):
    X, Y = toy(n=12)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    model = small(kind, seed=0).fit(X, Y)
    make_acqf(model, seed=0)(torch.rand(2, 2, 2, generator=torch.Generator(), dtype=torch.float64))
    assert torch.equal(state, torch.get_rng_state())


def test_make_surrogate_lists_known_names_on_a_typo() -> None:
    with pytest.raises(UnknownSurrogate, match="known: .*ensemble.*gp") as e:
        make_surrogate("gpp", seed=0)
    assert isinstance(e.value, KeyError) and isinstance(e.value, ValueError)


@pytest.mark.parametrize("kind", KINDS)
def test_fit_takes_yvar_third_and_accepts_yvar_means_it_counts(kind, toy, small) -> None:
    """``accepts_yvar`` means known variances change the fit (the proposer feeds predictions)."""
    X, Y = toy(n=16)
    plain = small(kind, seed=0).fit(X, Y, None)
    noisy = small(kind, seed=0).fit(X, Y, torch.full_like(Y, 0.5))
    moved = not torch.equal(plain.posterior(X).mean, noisy.posterior(X).mean)
    if SURROGATES[kind].accepts_yvar:
        assert moved


@pytest.mark.parametrize("kind", KINDS)
def test_noise_variance_if_defined_has_the_posterior_shape(fitted, kind) -> None:
    """The optional ``noise_variance(X)`` (read by ``stacked``): ``batch x n x 1``, >= 0."""
    model = fitted[kind]
    if not callable(getattr(model, "noise_variance", None)):
        pytest.skip(f"{kind} defines no noise_variance")
    for shape in [(7, 2), (3, 5, 2)]:
        var = model.noise_variance(torch.rand(*shape, dtype=torch.float64))
        assert var.shape == shape[:-1] + (1,) and var.dtype == torch.float64
        assert torch.isfinite(var).all() and (var >= 0).all()
