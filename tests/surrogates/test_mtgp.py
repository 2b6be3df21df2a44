"""The multi-task GP baseline (``surrogates.mtgp``): it learns from related tasks, as ``transfer``."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import spearmanr

from surrogates import GP, make_surrogate
from surrogates.mtgp import MultiTaskGPSurrogate
from tests.surrogates.conftest import bumpy_related, shifted_bumps


def test_related_tasks_teach_the_target_what_its_few_points_cannot() -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(6, 2, generator=g, dtype=torch.float64)
    Xt = torch.rand(300, 2, generator=g, dtype=torch.float64)
    Y, yt = shifted_bumps(X, 0.02), shifted_bumps(Xt, 0.02).squeeze(-1)
    mt = MultiTaskGPSurrogate(bumpy_related(), seed=0).fit(X, Y)
    gp = GP(seed=0).fit(X, Y)
    with torch.no_grad():
        rho_mt = spearmanr(mt.posterior(Xt).mean.squeeze(-1), yt)[0]
        rho_gp = spearmanr(gp.posterior(Xt).mean.squeeze(-1), yt)[0]
    assert rho_mt > 0.9 and rho_mt > rho_gp + 0.1
    assert mt.fit_info["task_correlation_mean"] > 0.5


def test_posterior_is_in_the_callers_units_at_the_training_points() -> None:
    X = torch.rand(12, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Y = 100.0 + 50.0 * shifted_bumps(X, 0.0)
    mt = MultiTaskGPSurrogate(bumpy_related(), seed=0).fit(X, Y)
    with torch.no_grad():
        mean = mt.posterior(X).mean
    assert torch.allclose(mean, Y, atol=0.1 * float(Y.std()))


def test_related_tasks_fill_what_the_target_leaves_of_the_cap() -> None:
    X = torch.rand(8, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    mt = MultiTaskGPSurrogate(bumpy_related(tasks=3, n=60), related_points=20, max_points=38,
                              min_related_points=4, seed=0)
    assert mt.fit(X, shifted_bumps(X, 0.0)).fit_info["n_related"] == 30  # (38 - 8) // 3 = 10 each
    assert [mt.per_task(n) for n in (0, 8, 30, 300)] == [12, 10, 4, 4]
    assert MultiTaskGPSurrogate(bumpy_related(tasks=3), related_points=20).per_task(0) == 20


def test_bad_input_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="at least one related task"):
        MultiTaskGPSurrogate([])
    with pytest.raises(ValueError, match="min_related_points <= related_points"):
        MultiTaskGPSurrogate(bumpy_related(), related_points=5, min_related_points=10)
    X = torch.rand(8, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="related task 0 has inputs of shape"):
        MultiTaskGPSurrogate(bumpy_related()).fit(X, X.sum(-1, keepdim=True))


def test_without_related_tasks_the_registered_name_is_the_gp() -> None:
    assert isinstance(make_surrogate("mtgp", seed=0, options={"related": []}), GP)
    assert isinstance(make_surrogate("mtgp", seed=0, options={"related": bumpy_related()}),
                      MultiTaskGPSurrogate)
