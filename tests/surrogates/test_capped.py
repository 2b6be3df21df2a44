"""The GP with Syne Tune's data cap: which points it keeps, and what it exposes."""

from __future__ import annotations

import pytest
import torch

from surrogates import CappedGP
from surrogates.capped import capped_indices


def test_cap_keeps_the_top_fraction_and_samples_the_rest_without_replacement() -> None:
    Y = torch.randn(100, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    keep = capped_indices(Y, max_points=20, top_fraction=0.25, seed=3)
    assert keep.numel() == 20 and keep.unique().numel() == 20
    assert torch.equal(keep, keep.sort().values)
    best5 = set(Y.reshape(-1).argsort(descending=True)[:5].tolist())
    assert best5 <= set(keep.tolist())
    assert torch.equal(keep, capped_indices(Y, 20, 0.25, seed=3))  # deterministic given the seed
    assert not torch.equal(keep, capped_indices(Y, 20, 0.25, seed=4))
    assert torch.equal(capped_indices(Y[:20], 20, 0.25, seed=3), torch.arange(20))  # no cap


@pytest.mark.parametrize("top_fraction", [0.0, 1.0])
def test_cap_extremes(top_fraction: float) -> None:
    Y = torch.arange(30, dtype=torch.float64)[:, None]
    keep = capped_indices(Y, max_points=10, top_fraction=top_fraction, seed=0)
    assert keep.numel() == 10
    if top_fraction == 1.0:
        assert keep.tolist() == list(range(20, 30))


def test_capped_gp_fits_the_subset_but_exposes_all_data() -> None:
    g = torch.Generator().manual_seed(1)
    X = torch.rand(40, 3, generator=g, dtype=torch.float64)
    Y = -((X - 0.5) ** 2).sum(-1, keepdim=True)
    Yvar = torch.full_like(Y, 1e-3)
    model = CappedGP(max_points=16, top_fraction=0.25, seed=2).fit(X, Y, Yvar)
    assert torch.equal(model.train_X, X) and torch.equal(model.train_Y, Y)
    assert model.train_Yvar is not None and model.train_Yvar.shape == (40, 1)
    assert model.fit_info["n"] == 16 and model.fit_info["n_data"] == 40
    assert model.fit_info["capped"] is True
    assert model.botorch_model is not None
    assert model.botorch_model.train_inputs[0].shape == (16, 3)
    assert float(model.train_Y.max()) == float(Y.max())  # best_f is the true incumbent
    small = CappedGP(max_points=100).fit(X, Y)
    assert small.fit_info["n"] == 40 and small.fit_info["capped"] is False


def test_capped_gp_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="max_points"):
        CappedGP(max_points=1)
    with pytest.raises(ValueError, match="top_fraction"):
        CappedGP(top_fraction=1.5)
