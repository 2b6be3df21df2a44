"""REINFORCE arithmetic on hand-made episodes, and a learned policy against a random one on a
toy whose right schedule is known (``hyperpilot.controllers.toy``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hyperpilot.controllers.base import HParams, run_episode
from hyperpilot.controllers.baselines import Constant, FixedLR, RandomLRWD
from hyperpilot.controllers.policy import Policy
from hyperpilot.controllers.reinforce import (
    MovingBaseline,
    ReinforceController,
    ReinforceSettings,
    reinforce_loss,
    returns_to_go,
    train_reinforce,
)
from hyperpilot.controllers.tasks import Interval
from hyperpilot.controllers.toy import LR0, QuadraticLoop

START = HParams(lr=LR0, weight_decay=0.0)
KNOWN = [1.0] * 9 + [0.5] + [1.0] * 9  # keep LR0, halve at the switch (step 150), keep


def test_returns_to_go() -> None:
    assert returns_to_go(np.array([1.0, -2.0, 3.0])).tolist() == [2.0, 1.0, 3.0]


def test_reinforce_loss_by_hand() -> None:
    lp = torch.tensor([-1.0, -2.0, -0.5], requires_grad=True)
    ent = torch.tensor([2.0, 1.0, 0.0], requires_grad=True)
    g = torch.as_tensor(returns_to_go(np.array([1.0, -2.0, 3.0])), dtype=torch.float32)
    b = torch.tensor([0.5, 0.5, 1.0], requires_grad=True)
    loss = reinforce_loss(lp, ent, g, b, entropy_coef=0.1)
    # advantages G - b = [1.5, 0.5, 2.0]; -mean(lp * adv) = 3.5 / 3; entropy term -0.1 * 1
    assert float(loss.detach()) == pytest.approx(3.5 / 3 - 0.1, abs=1e-6)
    loss.backward()
    assert lp.grad is not None and ent.grad is not None
    assert lp.grad.tolist() == pytest.approx([-0.5, -0.5 / 3, -2.0 / 3])
    assert ent.grad.tolist() == pytest.approx([-0.1 / 3] * 3)
    assert b.grad is None  # the baseline is not differentiated through


def test_moving_baseline_by_hand() -> None:
    mb = MovingBaseline(decay=0.8)
    assert mb.get("a", 3) is None
    mb.update("a", [np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0])], 3)
    assert mb.get("a", 3).tolist() == [2.0, 3.0, 3.0]  # type: ignore[union-attr]
    mb.update("a", [np.zeros(3)], 3)
    assert mb.get("a", 3).tolist() == pytest.approx([1.6, 2.4, 2.4])  # type: ignore[union-attr]
    mb.update("a", [np.array([10.0])], 3)  # a short (diverged) episode moves only its times
    assert mb.get("a", 3).tolist() == pytest.approx([3.28, 2.4, 2.4])  # type: ignore[union-attr]
    assert mb.get("b", 3) is None


def test_rewards_clip_divergence() -> None:
    ctl = ReinforceController(Policy(seed=0))
    ctl.reset(START, 3, Interval(0, 2.0, math.nan, 2.0, math.nan))
    ctl.losses = [1.0, 0.5, math.inf]
    assert ctl.rewards().tolist() == pytest.approx([math.log(2.0), math.log(0.5 / 20.0)])
    ctl.losses = [1.0, math.nan]
    assert ctl.rewards().tolist() == pytest.approx([math.log(1.0 / 20.0)])


def test_sampled_episode_records_one_logprob_per_decision() -> None:
    ctl = ReinforceController(Policy(seed=0), sample=True, generator=torch.Generator().manual_seed(0))
    ep = run_episode(QuadraticLoop(0), ctl, START, 6, 5)
    n = len(ep.intervals) - 2  # decisions: after every interval but the last
    assert len(ctl.log_probs) == len(ctl.actions) == n == len(ctl.rewards())
    assert sum(ctl.rewards()) == pytest.approx(
        math.log(ep.intervals[1].val_loss) - math.log(min(ep.intervals[-1].val_loss, 10 * ep.intervals[0].val_loss)))


def _median_final(make_ctl: object, seeds: range = range(10)) -> float:
    return float(np.median([run_episode(QuadraticLoop(s), make_ctl(s), START, 20, 15)  # type: ignore[operator]
                            .intervals[-1].val_loss for s in seeds]))


def test_toy_known_schedule_is_right() -> None:
    known = _median_final(lambda s: FixedLR(KNOWN))
    assert known < 1e-4
    assert _median_final(lambda s: Constant()) > 1e6  # keeping LR0 past the switch diverges
    assert _median_final(lambda s: FixedLR([0.5] * 19)) > 100 * known  # halving always: too slow


def test_learned_policy_beats_random_on_the_switching_quadratic() -> None:
    settings = ReinforceSettings(episodes=600, batch=10, policy_lr=1e-2, entropy_coef=0.01)
    policy, hist = train_reinforce(lambda task, s: QuadraticLoop(s), ["toy"], START, settings, seed=0)
    learned = _median_final(lambda s: ReinforceController(policy))
    random = _median_final(lambda s: RandomLRWD(seed=s))
    untrained = _median_final(lambda s: ReinforceController(Policy(seed=0)))
    known = _median_final(lambda s: FixedLR(KNOWN))
    assert random > 1.0 and untrained > 1.0  # both blow up
    assert learned < known, (learned, known)  # at least as good as the known schedule
    assert np.mean(hist[-10:]) > np.mean(hist[:10]) + 3.0  # returns rose during training
