"""StackedSurrogate: weights follow the held-out log score, the mixture, determinism, fallbacks."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor

from acquisition import make_acqf
from surrogates import SURROGATES, FitError, StackedSurrogate, SurrogateSpec, UnknownSurrogate
from surrogates.stacked import apportion, predictive_log_lik, spread
from tests.surrogates.conftest import FAST_OPTIONS

FAST_ENSEMBLE = {"ensemble": FAST_OPTIONS["ensemble"]}


class _Toy(EnsembleModel):
    """Test surrogates with a known quality: ``const`` predicts the training mean with the
    training variance times ``scale``; ``memo`` predicts the nearest training target with a
    tiny variance (perfect on its training rows, poor on new ones)."""

    _num_outputs = 1

    def __init__(self, kind: str, scale: float = 1.0, fail: bool = False) -> None:
        super().__init__()
        self.kind, self.scale, self.fail = kind, scale, fail
        self.fit_info: dict[str, Any] = {}

    def fit(self, X: Tensor, Y: Tensor, Yvar: Tensor | None = None) -> _Toy:
        if self.fail:
            raise FitError("broken on purpose")
        self.train_X, self.train_Y = X.double(), Y.double()
        self.fit_info = {"seconds": 0.0, "n": X.shape[0], "warnings": []}
        return self

    def forward(self, X: Tensor) -> Tensor:
        X = X.double()
        if self.kind == "memo":
            near = torch.cdist(X, self.train_X.expand(*X.shape[:-2], -1, -1)).argmin(-1)
            mu, half = self.train_Y.squeeze(-1)[near], 1e-3
        else:
            mu = self.train_Y.mean().expand(X.shape[:-1])
            half = math.sqrt(self.scale * float(self.train_Y.var()) / 2)
        return torch.stack([mu - half, mu + half], dim=-2).unsqueeze(-1)


def _const(seed: int, cat_groups: Any, options: dict[str, Any]) -> _Toy:
    return _Toy("const", **options)


def _memo(seed: int, cat_groups: Any, options: dict[str, Any]) -> _Toy:
    return _Toy("memo", **options)


@pytest.fixture
def toys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SURROGATES, "const", SurrogateSpec(_const))
    monkeypatch.setitem(SURROGATES, "memo", SurrogateSpec(_memo))


def _smooth(n: int = 40, seed: int = 0) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    return X, torch.sin(6 * X[:, :1]) + torch.cos(4 * X[:, 1:])


def _rough(n: int = 40, seed: int = 0) -> tuple[Tensor, Tensor]:
    """A draw of a GP prior with a lengthscale far below the points' spacing: white noise."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=g, dtype=torch.float64), torch.randn(
        n, 1, generator=g, dtype=torch.float64)


@pytest.mark.usefixtures("toys")
def test_scores_are_the_newest_blocks_log_likelihood_and_the_better_model_wins() -> None:
    X, Y = _smooth()
    model = StackedSurrogate(candidates=["const", "gp"], mode="switch", seed=0).fit(X, Y)
    info = model.fit_info
    assert info["n_train"] == 32 and info["n_holdout"] == 8  # the last 20% of the rows
    for name in ("const", "gp"):  # recomputed by hand: fitted on rows 0-31, scored on 32-39
        ref = StackedSurrogate(candidates=[name])._build(name).fit(X[:32], Y[:32])
        expected = float(predictive_log_lik(ref, X[32:], Y[32:], None).sum())
        assert info["scores"][name] == pytest.approx(expected, rel=1e-9)
    assert info["scores"]["gp"] > info["scores"]["const"] + 10
    assert info["chosen"] == "gp" and info["weights"] == {"const": 0.0, "gp": 1.0}
    assert model.botorch_model is model.models[0].botorch_model  # the GP itself is optimised
    stacked = StackedSurrogate(candidates=["const", "gp"], mode="stack", seed=0).fit(X, Y)
    assert stacked.fit_info["counts"] == {"gp": 64}  # a mixture of one is the GP itself
    assert stacked.delegates and stacked.botorch_model is stacked.models[0].botorch_model


@pytest.mark.usefixtures("toys")
@pytest.mark.parametrize("mode", ["switch", "stack"])
def test_held_out_not_in_sample_fit_decides(mode: str) -> None:
    # 'memo' reproduces every training row exactly (in-sample it wins by far) but says nothing
    # about new rows; on white noise the constant model is the right one.
    X, Y = _rough()
    memo_in_sample = float(predictive_log_lik(_Toy("memo").fit(X, Y), X, Y, None).sum())
    const_in_sample = float(predictive_log_lik(_Toy("const").fit(X, Y), X, Y, None).sum())
    assert memo_in_sample > const_in_sample
    model = StackedSurrogate(candidates=["memo", "const"], mode=mode).fit(X, Y)
    assert model.fit_info["chosen"] == "const"
    assert model.fit_info["weights"]["const"] > 0.999


@pytest.mark.usefixtures("toys")
def test_stack_weights_are_the_softmax_of_the_scores() -> None:
    X, Y = _smooth()
    opts = {"candidate_options": {"const": {"scale": 1.0}, "memo": {}}}
    for temperature in (1.0, 50.0, 1e4):
        model = StackedSurrogate(candidates=["const", "memo", "gp"], mode="stack",
                                 temperature=temperature, **opts).fit(X, Y)
        s = torch.tensor(list(model.fit_info["scores"].values()), dtype=torch.float64)
        w = torch.tensor(list(model.fit_info["weights"].values()), dtype=torch.float64)
        torch.testing.assert_close(w, torch.softmax(s / temperature, 0))
        assert torch.equal(w.argsort(), s.argsort())  # the order of the scores
        counts = [model.fit_info["counts"].get(k, 0) for k in ("const", "memo", "gp")]
        assert sum(counts) == model.n_samples  # samples in proportion to the weights
        assert all(abs(c - float(wi) * model.n_samples) < 1 for c, wi in zip(counts, w,
                                                                               strict=True))


def test_stack_mixture_mean_is_the_weighted_mean_and_gp_samples_are_joint() -> None:
    X, Y = _smooth(30)
    model = StackedSurrogate(candidates=["gp", "ensemble"], candidate_options=FAST_ENSEMBLE,
                             mode="stack", temperature=1e9, seed=1).fit(X, Y)
    assert model.fit_info["counts"] == {"gp": 32, "ensemble": 32}
    Xq = torch.rand(3, 4, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    gp, ens = model.models
    expected = 0.5 * (gp.posterior(Xq).mean + ens.posterior(Xq).mean)  # antithetic GP draws
    torch.testing.assert_close(model.posterior(Xq).mean, expected)
    values = model(Xq)  # 3 x 64 x 4 x 1: one function per sample across the 4 points
    assert values.shape == (3, 64, 4, 1)
    gp_part = values[:, :32, :, 0]
    assert (gp_part[:, :, 0] - gp_part[:, :, 1]).abs().min() > 0
    assert gp_part.std(dim=1).min() > 0
    assert torch.equal(values, model(Xq))  # fixed base samples: a deterministic surface


def test_stack_mode_is_deterministic_and_differentiable() -> None:
    X, Y = _smooth(25)
    Xq = (0.2 + 0.6 * torch.rand(4, 3, 2, generator=torch.Generator().manual_seed(0))).double()
    vals, infos = [], []
    for _ in range(2):
        model = StackedSurrogate(candidates=["ensemble", "gp"], candidate_options=FAST_ENSEMBLE,
                                 mode="stack", temperature=1e9, seed=3).fit(X, Y)
        infos.append((model.fit_info["scores"], model.fit_info["weights"]))
        vals.append(make_acqf(model, "qlogei", seed=7)(Xq))
    assert infos[0] == infos[1] and torch.equal(vals[0], vals[1])
    Xg = Xq.clone().requires_grad_(True)
    make_acqf(model, "qlogei", best_f=float(Y.median()), seed=0)(Xg).sum().backward()
    assert Xg.grad is not None and torch.isfinite(Xg.grad).all() and Xg.grad.abs().sum() > 0


@pytest.mark.usefixtures("toys")
def test_a_failing_candidate_is_skipped_and_counted() -> None:
    X, Y = _smooth(20)
    opts = {"memo": {"fail": True}}
    model = StackedSurrogate(candidates=["memo", "const"], candidate_options=opts).fit(X, Y)
    assert model.fit_info["scores"]["memo"] == -math.inf
    assert model.fit_info["chosen"] == "const"
    assert any("memo" in w and "broken" in w for w in model.fit_info["warnings"])
    with pytest.raises(FitError, match="no candidate"):
        StackedSurrogate(candidates=["memo"], candidate_options=opts).fit(X, Y)


@pytest.mark.usefixtures("toys")
def test_too_few_rows_use_the_first_candidate() -> None:
    X, Y = _smooth(5)
    model = StackedSurrogate(candidates=["const", "gp"]).fit(X, Y)
    assert model.fit_info["chosen"] == "const" and model.fit_info["n_holdout"] == 0
    assert all(math.isnan(v) for v in model.fit_info["scores"].values())
    assert "too few" in model.fit_info["warnings"][0]


def test_bad_settings_raise() -> None:
    with pytest.raises(UnknownSurrogate):
        StackedSurrogate(candidates=["gp", "nope"])
    with pytest.raises(ValueError, match="mode"):
        StackedSurrogate(mode="mix")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="itself"):
        StackedSurrogate(candidates=["stacked"])


def test_apportion_and_spread() -> None:
    w = torch.tensor([0.5, 0.3, 0.2, 0.0], dtype=torch.float64)
    assert apportion(w, 64).tolist() == [32, 19, 13, 0]
    assert int(apportion(torch.tensor([1 / 3] * 3, dtype=torch.float64), 64).sum()) == 64
    idx = spread(8, 16)  # an ensemble's mu - sd (0-7) and mu + sd (8-15) halves stay balanced
    assert (idx < 8).sum() == 4 and idx.unique().numel() == 8
    assert torch.bincount(spread(40, 16), minlength=16).tolist() in ([3, 2] * 8, [2, 3] * 8)
