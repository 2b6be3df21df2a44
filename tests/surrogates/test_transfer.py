"""surrogates.transfer: the BLR evidence, features learned on related tasks, the transfer network."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from surrogates import make_surrogate
from surrogates.transfer import (
    SharedFeatures,
    TransferRFF,
    blr_evidence,
    cached_shared_features,
    fit_shared_features,
)


def _shape(X: np.ndarray) -> np.ndarray:
    """The shape every related task shares (each task scales and shifts it)."""
    return np.sin(5 * X[:, 0]) * np.cos(4 * X[:, 1]) + np.exp(-8 * ((X - 0.3) ** 2).sum(-1))


def _task(rng: np.random.Generator, n: int, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    X = rng.random((n, d))
    a, b = rng.uniform(0.5, 2.0), rng.normal()
    return X, a * _shape(X) + b + 0.01 * rng.normal(size=n)


def test_blr_evidence_is_the_gaussian_marginal() -> None:
    g = torch.Generator().manual_seed(0)
    Phi = torch.randn(12, 5, generator=g, dtype=torch.float64)
    y = torch.randn(12, generator=g, dtype=torch.float64)
    la, lb = torch.tensor(math.log(0.7), dtype=torch.float64), torch.tensor(math.log(4.0),
                                                                            dtype=torch.float64)
    K = Phi @ Phi.T / 0.7 + torch.eye(12, dtype=torch.float64) / 4.0
    ref = torch.distributions.MultivariateNormal(torch.zeros(12, dtype=torch.float64), K).log_prob(y)
    assert float(blr_evidence(Phi, y, la, lb)) == pytest.approx(float(ref), rel=1e-9)


def test_shared_features_transfer_to_new_tasks_of_the_same_shape() -> None:
    """Learned on 6 related tasks, the features predict new tasks from 8 points each better than
    the stationary block alone (correlation of the mean with the shared shape, 6 new tasks),
    and the evidence gives the transfer block weight."""
    rng = np.random.default_rng(0)
    feats = fit_shared_features([_task(rng, 150) for _ in range(6)], seed=0, steps=600, lr=1e-2)
    assert all(not p.requires_grad for p in feats.parameters())
    corr: dict[str, list[float]] = {"transfer": [], "stationary": []}
    for k in range(6):
        r = np.random.default_rng(100 + k)
        (X, y), (Xt, _) = _task(r, 8), _task(r, 400)
        for name, f in (("transfer", feats), ("stationary", None)):
            m = TransferRFF(f, n_features=512, fit_points=64, seed=0).fit(
                torch.tensor(X), torch.tensor(y).unsqueeze(-1))
            with torch.no_grad():
                mu = m.posterior(torch.tensor(Xt)).mean.squeeze(-1).numpy()
            corr[name].append(float(np.corrcoef(mu, _shape(Xt))[0, 1]))
            if f is not None:
                assert m.fit_info["related"] and m.fit_info["transfer_scale"] > 0.05
    t, s = np.array(corr["transfer"]), np.array(corr["stationary"])
    assert (t > s).sum() >= 5 and np.median(t) > np.median(s) + 0.1  # measured: 6 of 6, +0.13


def test_posterior_is_joint_and_psd_and_without_features_has_no_transfer_block() -> None:
    rng = np.random.default_rng(1)
    X, y = _task(rng, 20)
    m = TransferRFF(None, n_features=256, fit_points=32, seed=3).fit(
        torch.tensor(X), torch.tensor(y).unsqueeze(-1))
    assert m.fit_info["transfer_scale"] == 0.0 and not m.fit_info["related"]
    post = m.posterior(torch.tensor(rng.random((2, 5, 4))))
    assert post.mean.shape == (2, 5, 1)
    cov = post.mvn.covariance_matrix
    assert cov.shape == (2, 5, 5) and float(torch.linalg.eigvalsh(cov).min()) > -1e-8
    with pytest.raises(ValueError, match="fit_points"):
        TransferRFF(None, n_features=64, fit_points=64)


def test_registry_passes_related_tasks_and_caches_the_features() -> None:
    rng = np.random.default_rng(2)
    related = [_task(rng, 60) for _ in range(3)]
    a = make_surrogate("transfer", seed=0, options={"related": related})
    b = make_surrogate("transfer", seed=5, options={"related": [(X.copy(), y.copy())
                                                                for X, y in related]})
    assert isinstance(a, TransferRFF) and a.features is b.features  # one pretraining per data
    assert cached_shared_features(related) is a.features
    wide = make_surrogate("transfer-c1024", seed=0, options={"related": related})
    assert isinstance(wide, TransferRFF) and wide.features is a.features
    assert (wide.condition_points, wide.fit_points, a.condition_points) == (1024, 256, 256)
    from surrogates import RFFNetwork

    plain = make_surrogate("transfer", seed=0)  # no related task: rff-kev itself
    assert isinstance(plain, RFFNetwork) and plain.evidence == "kernel" and plain.n_features == 2048
    with pytest.raises(ValueError, match="same input dimension"):
        fit_shared_features([related[0], (np.zeros((4, 2)), np.zeros(4))])
    assert SharedFeatures(3, hidden=7).dim == 8


def test_a_model_in_another_dtype_leaves_the_shared_map_alone() -> None:
    shared = SharedFeatures(3, hidden=5)  # float32, as nn.Module builds it
    X = torch.rand(4, 3)
    before = shared(X).detach().clone()
    wide = TransferRFF(shared, n_features=64, fit_points=16, dtype=torch.float64)
    assert wide.features is not shared and next(wide.features.parameters()).dtype == torch.float64
    assert next(shared.parameters()).dtype == torch.float32  # nn.Module.to would have moved it
    assert torch.equal(shared(X), before)
    same = TransferRFF(shared, n_features=64, fit_points=16, dtype=torch.float32)
    assert same.features is shared  # no copy when the dtype already matches


def test_read_out_conditions_on_condition_points_with_the_same_hyperparameters() -> None:
    rng = np.random.default_rng(4)
    X, y = _task(rng, 60)
    tX, tY = torch.tensor(X), torch.tensor(y).unsqueeze(-1)
    base = TransferRFF(None, n_features=256, fit_points=16, seed=0).fit(tX, tY)
    same = TransferRFF(None, n_features=256, fit_points=16, condition_points=16, seed=0).fit(tX, tY)
    more = TransferRFF(None, n_features=256, fit_points=16, condition_points=60, seed=0).fit(tX, tY)
    assert base.fit_info["n_condition"] == 16 and more.fit_info["n_condition"] == 60
    assert torch.equal(base.w_mean, same.w_mean)  # the default is fit_points
    assert torch.equal(base.lengthscale, more.lengthscale)  # the evidence saw the same 16 points
    with torch.no_grad():
        err_base = (base.posterior(tX).mean - tY).abs().mean()
        err_more = (more.posterior(tX).mean - tY).abs().mean()
    assert err_more < 0.5 * err_base  # conditioned on all 60, it fits the 44 it had dropped
