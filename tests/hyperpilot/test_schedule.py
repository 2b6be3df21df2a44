"""Schedules as config values: the representation, validation, and exact kill-and-resume."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import hyperpilot as hp
from hyperpilot.schedule import (
    ScheduleError,
    change_points,
    config_at,
    extend,
    make_schedule,
    value_at,
)
from hyperpilot.space import SpaceError
from hyperpilot.trial import Context, Trial
from hyperpilot.workloads import WORKLOADS, InvalidConfig


def test_a_schedule_is_plain_json_and_piecewise_constant() -> None:
    s = make_schedule([(0, 0.1), (5, 0.1), (10, 0.01)])
    assert s == {"schedule": [[0.0, 0.1], [10.0, 0.01]]}  # equal neighbours merged
    assert json.loads(json.dumps(s)) == s
    assert [value_at(s, b) for b in (0, 9.9, 10, 99)] == [0.1, 0.1, 0.01, 0.01]
    assert value_at(0.3, 7) == 0.3  # a plain value is a constant
    cfg = {"lr": s, "depth": 2, "wd": {"schedule": [[0, 1e-4], [3, 1e-3]]}}
    assert config_at(cfg, 4) == {"lr": 0.1, "depth": 2, "wd": 1e-3}
    assert change_points(cfg, 0, 27) == [3.0, 10.0] and change_points(cfg, 3, 10) == []
    assert extend(s, 10, 0.05) == {"schedule": [[0.0, 0.1], [10.0, 0.05]]}  # replaces from 10 on
    assert extend(0.2, 0, 0.3) == {"schedule": [[0.0, 0.3]]}
    for bad in ([], [(1, 0.1)], [(0, 0.1), (0, 0.2)], [(0, 1), (float("nan"), 2)]):
        with pytest.raises(ScheduleError):
            make_schedule(bad)


def test_the_space_validates_each_value_of_a_schedule() -> None:
    space = hp.SearchSpace({"lr": hp.Float(1e-4, 1e-1, log=True),
                            "opt": hp.Categorical(["adam", "sgd"]), "mom": hp.Float(0, 0.99)},
                           conditions={"mom": ("opt", ["sgd"])})
    ok = space.validate({"lr": {"schedule": [[0, np.float64(0.01)], [3, 0.001]]}, "opt": "adam"})
    assert ok["lr"] == {"schedule": [[0.0, 0.01], [3.0, 0.001]]}
    assert type(ok["lr"]["schedule"][0][1]) is float
    with pytest.raises(SpaceError, match="outside"):
        space.validate({"lr": {"schedule": [[0, 0.01], [3, 0.5]]}, "opt": "adam"})
    with pytest.raises(SpaceError, match="starts at budget 0"):
        space.validate({"lr": {"schedule": [[2, 0.01]]}, "opt": "adam"})
    with pytest.raises(SpaceError, match="decides conditions"):
        space.validate({"lr": 0.01, "opt": {"schedule": [[0, "sgd"]]}})


def _mlp_config(space: hp.SearchSpace) -> dict:
    cfg = dict(space.sample(1, np.random.default_rng(5))[0], optimizer="sgd", momentum=0.5)
    cfg["learning_rate"] = {"schedule": [[0, 0.05], [2, 0.01], [5, 0.002]]}
    cfg["weight_decay"] = {"schedule": [[0, 1e-4], [3, 1e-2]]}
    cfg["dropout"] = {"schedule": [[0, 0.3], [4, 0.0]]}
    cfg["momentum"] = {"schedule": [[0, 0.5], [3, 0.9]]}
    cfg["batch_size"] = {"schedule": [[0, 32], [2, 128]]}
    return space.validate(cfg)


def _straight_then_resumed(run: Callable[[float, float, Path], tuple], tmp: Path, cut: float,
                           full: float) -> tuple:
    """Run to ``full`` in ``tmp/a``; to ``cut`` then on to ``full`` in ``tmp/b`` (a fresh objective
    each time: only the checkpoint carries state); assert equal curves and values; the straight run."""
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    straight = run(full, 0, tmp / "a")
    first = run(cut, 0, tmp / "b")
    second = run(full, cut, tmp / "b")
    assert first[1] + second[1] == straight[1] and second[0] == straight[0]
    return straight


def test_mlp_schedule_survives_kill_and_resume_exactly(tmp_path: Path) -> None:
    """Train to 3 epochs (changes at 2 inside), checkpoint, restore, continue to 6 == straight."""
    import torch

    w = WORKLOADS["supervised:breast_cancer"](max_epochs=6)
    cfg = _mlp_config(w.space)

    def run(budget: float, resume: float, d: Path) -> tuple:
        return w.objective(cfg, budget, resume, Context(Trial(0, 0, cfg, budget, resume), 9, d))

    straight = _straight_then_resumed(run, tmp_path, 3, 6)
    a = torch.load(tmp_path / "a" / "run" / "mlp.pt", weights_only=False)
    b = torch.load(tmp_path / "b" / "run" / "mlp.pt", weights_only=False)
    assert all(torch.equal(a["net"][k], b["net"][k]) for k in a["net"])
    group = b["opt"]["param_groups"][0]  # the values in force in the last epoch
    assert (group["lr"], group["weight_decay"], group["momentum"]) == (0.002, 1e-2, 0.9)
    (tmp_path / "c").mkdir()
    assert run(6, 0, tmp_path / "c")[0] == straight[0]  # same config, same seed: same run


def test_mlp_schedule_changes_training_and_refuses_architecture(tmp_path: Path) -> None:
    w = WORKLOADS["supervised:breast_cancer"](max_epochs=4)
    cfg = _mlp_config(w.space)
    const = config_at(cfg, 0)

    def curve(c: dict) -> list:
        return w.objective(c, 4, 0, Context(Trial(0, 0, c, 4, 0), 9, None))[1]

    a, b = curve(cfg), curve(const)
    assert a[:2] == b[:2] and a != b  # identical until the first change (epoch 2), then not
    bad = dict(cfg, depth={"schedule": [[0, 1], [2, 2]]})
    with pytest.raises(InvalidConfig, match="cannot change"):
        curve(bad)


@pytest.mark.rl
def test_sb3_schedule_survives_kill_and_resume_exactly(tmp_path: Path) -> None:
    """PPO with a learning-rate and clip-range schedule: 256 steps, checkpoint, restore, 512
    steps == 512 straight; the optimizer ends with the last scheduled learning rate."""
    from stable_baselines3 import PPO as SB3PPO

    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=256, max_steps=512,
                         eval_every=256, eval_episodes=2)
    ppo = {"learning_rate": 3e-4, "one_minus_gamma": 0.01, "n_envs": 4, "n_steps": 32,
           "batch_size": 64, "n_epochs": 3, "gae_lambda": 0.95, "clip_range": 0.2,
           "ent_coef": 1e-3, "vf_coef": 0.5, "max_grad_norm": 0.5, "net_arch": "tiny",
           "activation": "tanh"}
    cfg = w.space.validate(dict(ppo, learning_rate={"schedule": [[0, 3e-3], [128, 1e-3],
                                                                 [384, 1e-4]]},
                                clip_range={"schedule": [[0, 0.3], [300, 0.1]]}))

    def run(budget: float, resume: float, d: Path) -> tuple:
        return w.objective(cfg, budget, resume, Context(Trial(0, 0, cfg, budget, resume), 3, d))

    straight = _straight_then_resumed(run, tmp_path, 256, 512)
    a = SB3PPO.load(tmp_path / "a" / "run" / "seed0" / "model.zip")
    b = SB3PPO.load(tmp_path / "b" / "run" / "seed0" / "model.zip")
    sa, sb = a.policy.state_dict(), b.policy.state_dict()
    assert all(np.array_equal(sa[k].numpy(), sb[k].numpy()) for k in sa)
    assert b.policy.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert b.clip_range(1.0) == pytest.approx(0.1)
    const = w.space.validate(config_at(cfg, 0))
    other = w.objective(const, 512, 0, Context(Trial(0, 0, const, 512, 0), 3, None))
    assert other[1] != straight[1]  # the schedule changed the run
    bad = dict(cfg, n_epochs={"schedule": [[0, 3], [256, 5]]})
    with pytest.raises(InvalidConfig, match="cannot change"):
        w.objective(bad, 512, 0, Context(Trial(0, 0, bad, 512, 0), 3, None))


@pytest.mark.rl
def test_sb3_dqn_epsilon_schedule_is_applied() -> None:
    from hyperpilot.workloads.sb3 import SB3Settings, _SeedRun
    from hyperpilot.workloads.sb3_spaces import SPACES

    space = SPACES["dqn"]()
    cfg = dict(space.sample(1, np.random.default_rng(0))[0], learning_starts=50, train_freq=4,
               buffer_size=10_000, exploration_fraction=0.05)
    cfg["exploration_final_eps"] = {"schedule": [[0, 0.2], [500, 0.01]]}
    cfg["learning_rate"] = {"schedule": [[0, 1e-3], [500, 1e-4]]}
    run = _SeedRun(SB3Settings("dqn", "CartPole-v1", 1000, 1000, 1), space.validate(cfg), 5, None)
    run.learn_to(400)
    assert run.model.exploration_rate == pytest.approx(0.2)
    run.learn_to(1000)
    assert run.model.exploration_rate == pytest.approx(0.01)
    assert run.model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
