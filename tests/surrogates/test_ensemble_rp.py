"""RandomizedPriorEnsemble: fixed priors, beta = 0 is DeepEnsemble, joint samples over q points."""

from __future__ import annotations

import pytest
import torch

from surrogates import DeepEnsemble
from surrogates.ensemble_rp import PriorMLP, RandomizedPriorEnsemble

SMALL = {"n_members": 4, "width": 16, "max_steps": 150}


def _data(n: int = 30, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = 0.5 * torch.rand(n, 2, generator=g, dtype=torch.float64)
    return X, torch.sin(5 * X[:, :1]) + X[:, 1:] ** 2


def test_beta_zero_is_the_deep_ensemble_bit_for_bit() -> None:
    X, Y = _data()
    Xq = torch.rand(9, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    plain = DeepEnsemble(seed=3, **SMALL).fit(X, Y)
    rp = RandomizedPriorEnsemble(beta=0.0, seed=3, **SMALL).fit(X, Y)
    assert torch.equal(plain(Xq), rp(Xq))


def test_priors_are_fixed_and_standardised() -> None:
    X, Y = _data()
    model = RandomizedPriorEnsemble(seed=0, **SMALL)
    model.fit(X, Y)
    assert isinstance(model.net, PriorMLP)
    prior_names = {name for name, _ in model.net.named_buffers()}
    assert prior_names and not prior_names & {name for name, _ in model.net.named_parameters()}
    before = {k: v.clone() for k, v in model.net.named_buffers()}
    model.fit(X, Y + 1.0, warm_start=True)  # trains further; the priors must not move
    assert all(torch.equal(before[k], v) for k, v in model.net.named_buffers())
    u = 2 * torch.rand(4000, 2, generator=torch.Generator().manual_seed(5),
                       dtype=torch.float64) - 1
    p = model.net.prior(u)  # E x 4000
    assert p.shape == (4, 4000)
    torch.testing.assert_close(p.std(-1), torch.ones(4, dtype=torch.float64), atol=0.15, rtol=0)
    assert p.mean(-1).abs().max() < 0.15
    assert not torch.allclose(p[0], p[1])  # one prior per member


def test_prior_widens_the_spread_away_from_the_data() -> None:
    X, Y = _data()
    far = 0.9 + 0.1 * torch.rand(30, 2, generator=torch.Generator().manual_seed(2),
                                 dtype=torch.float64)
    spread = []
    for beta in (0.0, 3.0):
        model = RandomizedPriorEnsemble(beta=beta, seed=0, posterior_noise=False, **SMALL)
        spread.append(model.fit(X, Y).posterior(far).variance.mean())
    assert spread[1] > 2 * spread[0]


@pytest.mark.parametrize("noise", [True, False])
def test_samples_are_whole_functions_across_the_q_points(noise: bool) -> None:
    X, Y = _data()
    model = RandomizedPriorEnsemble(seed=0, posterior_noise=noise, **SMALL).fit(X, Y)
    q = torch.tensor([[0.9, 0.9], [0.9, 0.91], [0.1, 0.95]], dtype=torch.float64)
    joint = model(q.unsqueeze(0)).squeeze(0).squeeze(-1)  # s x q
    assert joint.shape == ((8 if noise else 4), 3)
    # sample s at a point does not depend on the other points of the batch: one function
    alone = torch.cat([model(q[i:i + 1].unsqueeze(0)).squeeze(0).squeeze(-1) for i in range(3)],
                      dim=-1)
    torch.testing.assert_close(joint, alone)
    # distinct values across the q points within each sample, and across samples
    assert (joint[:, 0] - joint[:, 2]).abs().min() > 0
    assert joint[:, 0].std() > 0
    # nearby points move together across samples (correlated), unlike independent draws
    assert torch.corrcoef(joint[:, :2].T)[0, 1] > 0.9


def test_bad_prior_settings_raise() -> None:
    with pytest.raises(ValueError, match="beta"):
        RandomizedPriorEnsemble(beta=-1.0)
    with pytest.raises(ValueError, match="prior_depth"):
        RandomizedPriorEnsemble(prior_depth=0)
