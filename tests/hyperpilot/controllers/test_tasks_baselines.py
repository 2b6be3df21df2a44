"""Tasks load offline and stay apart; runs are reproducible; the baselines' arithmetic."""

from __future__ import annotations

import math

import pytest
import torch

from hyperpilot.controllers.base import HParams, run_episode
from hyperpilot.controllers.baselines import Constant, Cosine, Plateau
from hyperpilot.controllers.ppo_controller import act
from hyperpilot.controllers.tasks import TEST_TASKS, TRAIN_TASKS, Interval, TrainLoop, load_task

START = HParams(lr=0.05, weight_decay=5e-4)


def test_train_and_test_tasks_are_apart() -> None:
    assert not set(TRAIN_TASKS) & set(TEST_TASKS)
    assert {t.partition(":")[0] for t in TEST_TASKS} == {"cnn", "mlp", "bilstm"}


@pytest.mark.parametrize("name", TRAIN_TASKS + TEST_TASKS)
def test_every_task_loads_and_trains(name: str) -> None:
    d = load_task(name)
    n = {k: len(v) for k, v in d.y.items()}
    assert n["train"] > n["val"] > 0 and n["test"] > 0
    loop = TrainLoop(d, 0, 0.05, 5e-4, batch_size=16)
    iv = loop.run(3)
    assert iv.step == 3 and math.isfinite(iv.val_loss) and iv.grad_norm > 0
    assert math.isnan(iv.val_acc) == d.regression


def test_runs_are_reproducible_and_hparams_apply() -> None:
    d = load_task("mlp:wine")
    a, b = TrainLoop(d, 7, 0.05, 0.0), TrainLoop(d, 7, 0.05, 0.0)
    assert a.run(10) == b.run(10)
    a.set_hparams(0.01, 1e-3, batch_size=8, dropout=0.3)
    assert a.opt.param_groups[0]["lr"] == 0.01 and a.opt.param_groups[0]["weight_decay"] == 1e-3
    assert a.batch_size == 8 and a.drop.p == 0.3
    assert a.run(5) != b.run(5)


def test_digits_halves_do_not_share_classes() -> None:
    lo, hi = load_task("cnn:digits-lo"), load_task("cnn:digits-hi")
    assert lo.x["train"].shape[1:] == (1, 8, 8) and lo.n_out == hi.n_out == 5
    assert not torch.equal(lo.x["train"][:10], hi.x["train"][:10])


def _iv(loss: float) -> Interval:
    return Interval(0, loss, 1.0, loss, math.nan)


def test_plateau_halves_after_patience() -> None:
    p = Plateau(factor=0.5, patience=2)
    p.reset(START, 10, _iv(2.0))
    lrs = [p.decide(_iv(v)).lr for v in [1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6]]
    assert lrs == pytest.approx([0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.0125])


def test_cosine_follows_the_formula() -> None:
    c = Cosine()
    c.reset(START, 10, _iv(1.0))
    lrs = [c.decide(_iv(1.0)).lr for _ in range(9)]
    assert lrs == pytest.approx([0.05 * (1 + math.cos(math.pi * i / 10)) / 2 for i in range(1, 10)])


def test_episode_schedule_and_overhead_recorded() -> None:
    ep = run_episode(TrainLoop(load_task("mlp:iris"), 0, 0.05, 5e-4), Cosine(), START, 4, 5)
    assert len(ep.schedule) == 4 and len(ep.intervals) == 5
    assert ep.schedule[0].lr == 0.05 and ep.schedule[-1].lr < 0.05
    assert 0 < ep.controller_s < ep.total_s and not ep.diverged
    const = run_episode(TrainLoop(load_task("mlp:iris"), 0, 0.05, 5e-4), Constant(), START, 4, 5)
    assert {h.lr for h in const.schedule} == {0.05}


def test_divergence_stops_the_run() -> None:
    ep = run_episode(TrainLoop(load_task("mlp:diabetes"), 0, 1e4, 0.0), Constant(),
                     HParams(lr=1e4, weight_decay=0.0), 10, 10)
    assert ep.diverged and len(ep.intervals) < 11 and ep.test_loss == math.inf


def test_ppo_action_stays_in_bounds() -> None:
    hp = HParams(lr=0.05, weight_decay=5e-4, batch_size=128, dropout=0.5)
    up = act(hp, [2, 2, 2], lr0=0.05)
    assert (up.lr, up.batch_size, up.dropout) == (0.1, 128, 0.5)
    lo = HParams(lr=0.05 / 64, weight_decay=5e-4, batch_size=8, dropout=0.0)
    down = act(lo, [0, 0, 0], lr0=0.05)
    assert (down.lr, down.batch_size, down.dropout) == (0.05 / 64, 8, 0.0)
    assert act(hp, [1, 0, 0], lr0=0.05) == HParams(0.05, 5e-4, 64, 0.4)
