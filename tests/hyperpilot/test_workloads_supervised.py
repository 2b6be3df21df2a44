"""Supervised MLP workload: exact resume, value ranges, all three datasets, no global RNG use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperpilot.trial import Context, Trial
from hyperpilot.workloads import WORKLOADS

DATASETS = ["diabetes", "digits", "breast_cancer"]


def ctx(cfg: dict, d: Path | None = None) -> Context:
    return Context(trial=Trial(0, 0, cfg, 1.0), seed=11, checkpoint_dir=d)


@pytest.mark.parametrize("dataset", DATASETS)
def test_resume_equals_uninterrupted(dataset: str, tmp_path: Path) -> None:
    import torch

    w = WORKLOADS[f"supervised:{dataset}"]()
    assert w.fidelity.min == 1 and w.fidelity.max == 27 and w.direction == "minimize"
    cfg = dict(w.space.sample(1, np.random.default_rng(2))[0], batch_size=64, dropout=0.2)
    before = torch.get_rng_state()
    straight = w.objective(cfg, 4, 0, ctx(cfg))
    first = w.objective(cfg, 2, 0, ctx(cfg, tmp_path))
    c = ctx(cfg, tmp_path)
    second = w.objective(cfg, 4, 2, c)
    assert torch.equal(before, torch.get_rng_state())
    assert c.extras["workload_info"]["resumed"]
    assert first[1] + second[1] == straight[1] and second[0] == straight[0]
    assert [b for b, _ in straight[1]] == [1, 2, 3, 4]
    test_value = c.extras["workload_info"]["test_value"]
    for v in [y for _, y in straight[1]] + [test_value]:
        assert v >= 0 and (dataset == "diabetes" or v <= 1)


def test_learns_and_f1_option() -> None:
    w = WORKLOADS["supervised:breast_cancer"](metric="f1")
    cfg = {"learning_rate": 1e-3, "batch_size": 32, "depth": 2, "width": 64, "dropout": 0.1,
           "optimizer": "adam", "activation": "silu", "weight_decay": 1e-5}
    value, curve, cost = w.objective(cfg, 5, 0, ctx(cfg))
    assert value < 0.15 and len(curve) == 5 and cost > 0
    sgd = dict(cfg, optimizer="sgd", momentum=0.9, learning_rate=0.1)
    assert w.objective(sgd, 1, 0, ctx(sgd))[0] <= 1.0


def test_diverged_regression_is_finite_and_bad_config_raises() -> None:
    w = WORKLOADS["supervised:diabetes"]()
    cfg = {"learning_rate": 0.1, "batch_size": 16, "depth": 4, "width": 512, "dropout": 0.0,
           "optimizer": "sgd", "momentum": 0.99, "activation": "relu", "weight_decay": 1e-6}
    value, _, _ = w.objective(cfg, 2, 0, ctx(cfg))
    assert np.isfinite(value)
    with pytest.raises(ValueError, match="unknown dataset"):
        from hyperpilot.workloads.supervised import supervised_workload

        supervised_workload("iris")
    with pytest.raises(ValueError):
        w.objective(dict(cfg, optimizer="adam"), 1, 0, ctx(cfg))  # momentum inactive for adam
