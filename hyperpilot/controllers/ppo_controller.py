"""``rl-controller``: a PPO agent (Stable-Baselines3) that moves lr, batch size and dropout.

The Gymnasium environment wraps one ``TrainLoop`` per episode (a training task drawn uniformly,
a fresh run seed). Each step applies an action, trains one interval and observes:

====  =====================  ===============================================================
 i    name                   formula
====  =====================  ===============================================================
 0    learning rate          ``clip(log2(lr / lr0) / 4, -1, 1)``
 1    batch size             ``clip(log2(batch / 32) / 2, -1, 1)`` (batch in 8..128 examples)
 2    dropout                ``2 * p / 0.5 - 1`` (p in 0..0.5)
 3    val loss level         ``tanh(log(L_t / L_0))``
 4    val loss trend         ``tanh(5 * log(L_t / L_{t-1}))``
 5    progress               ``2 * t / n - 1``
====  =====================  ===============================================================

Action ``MultiDiscrete([3, 3, 3])``: lr x {0.5, 1, 2} (within ``[lr0/64, 8 lr0]``), batch
x {0.5, 1, 2} (within 8..128), dropout + {-0.1, 0, +0.1} (within 0..0.5). Reward as in
``reinforce-lrwd``: the drop in log validation loss over the interval (losses clipped to
``[1e-8, 10 L_0]``; a diverged run ends the episode). Intervals have a fixed number of optimizer
steps, so a larger batch buys more examples per interval: the comparison is at equal steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from hyperpilot.controllers.base import Controller, HParams, clip_hparams
from hyperpilot.controllers.features import log_ratio
from hyperpilot.controllers.tasks import Interval, TrainLoop

LO = HParams(lr=0.0, weight_decay=0.0, batch_size=8, dropout=0.0)
HI = HParams(lr=math.inf, weight_decay=math.inf, batch_size=128, dropout=0.5)


def observe(hp: HParams, lr0: float, l0: float, prev: float, iv: Interval, t: int,
            n: int) -> np.ndarray:
    """The 6 observations (float32, in [-1, 1]) after ``t`` of ``n`` intervals."""
    return np.asarray([
        np.clip(log_ratio(hp.lr, lr0) / (4 * math.log(2)), -1, 1),
        np.clip(math.log2(hp.batch_size / 32) / 2, -1, 1),
        2 * hp.dropout / 0.5 - 1,
        math.tanh(log_ratio(iv.val_loss, l0)),
        math.tanh(5 * log_ratio(iv.val_loss, prev)),
        np.clip(2 * t / n - 1, -1, 1),
    ], dtype=np.float32)


def act(hp: HParams, action: Sequence[int] | np.ndarray, lr0: float) -> HParams:
    """The hyperparameters after ``action`` = (lr, batch, dropout) indices in 0..2."""
    a, b, c = (int(v) for v in action)
    new = replace(hp, lr=hp.lr * (0.5, 1.0, 2.0)[a], batch_size=int(hp.batch_size * (0.5, 1, 2)[b]),
                  dropout=round(hp.dropout + (-0.1, 0.0, 0.1)[c], 10))
    new = clip_hparams(new, LO, HI)
    return replace(new, lr=min(max(new.lr, lr0 / 64), lr0 * 8))


def clipped_log(v: float, l0: float) -> float:
    cap = 10.0 * l0 if math.isfinite(l0) else 1e6
    return math.log(cap if math.isnan(v) else min(max(v, 1e-8), cap))


def make_env(make_loop: Callable[[str, int], TrainLoop], tasks: Sequence[str], start: HParams,
             n_intervals: int, steps_per_interval: int, env_seed: int) -> Any:
    """The Gymnasium environment (see the module docstring); run seeds ``3 * 10**6 + k``."""
    import gymnasium as gym
    from gymnasium import spaces

    class ScheduleEnv(gym.Env):  # type: ignore[type-arg]
        observation_space = spaces.Box(-1.0, 1.0, (6,), dtype=np.float32)
        action_space = spaces.MultiDiscrete([3, 3, 3])

        def __init__(self) -> None:
            self.rng, self.k = np.random.default_rng(env_seed), 0

        def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
                  ) -> tuple[np.ndarray, dict[str, Any]]:
            super().reset(seed=seed)
            task = tasks[int(self.rng.integers(len(tasks)))]
            self.loop = make_loop(task, 3 * 10**6 + env_seed * 10**4 + self.k)
            self.k += 1
            self.hp, self.t = start, 1
            self.l0 = self.loop.evaluate("val")[0]
            self.loop.set_hparams(start.lr, start.weight_decay, start.batch_size, start.dropout)
            iv = self.loop.run(steps_per_interval)
            self.prev = iv.val_loss
            return observe(self.hp, start.lr, self.l0, self.l0, iv, 1, n_intervals), {}

        def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
            self.hp = act(self.hp, action, start.lr)
            h = self.hp
            self.loop.set_hparams(h.lr, h.weight_decay, h.batch_size, h.dropout)
            iv = self.loop.run(steps_per_interval)
            self.t += 1
            r = clipped_log(self.prev, self.l0) - clipped_log(iv.val_loss, self.l0)
            diverged = not (math.isfinite(iv.val_loss) and math.isfinite(iv.train_loss))
            obs = observe(h, start.lr, self.l0, self.prev, iv, self.t, n_intervals)
            self.prev = iv.val_loss
            return obs, float(r), diverged or self.t >= n_intervals, False, {}

    return ScheduleEnv()


def train_ppo(env: Any, total_steps: int, seed: int, path: Path) -> Any:
    """PPO (SB3 defaults except n_steps=256, batch 64, 4 epochs, an MLP 64x64) saved to ``path``."""
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=4, gamma=1.0,
                seed=seed, verbose=0, device="cpu")
    model.learn(total_timesteps=total_steps)
    model.save(path)
    return model


class PPOController(Controller):
    """A frozen PPO model acting deterministically on the observations above."""

    name = "rl-controller"

    def __init__(self, model: Any) -> None:
        self.model = model

    def reset(self, start: HParams, n_intervals: int, first: Interval) -> None:
        super().reset(start, n_intervals, first)
        self.l0 = self.prev = first.val_loss

    def _decide(self, iv: Interval) -> HParams:
        obs = observe(self.current, self.start.lr, self.l0, self.prev, iv, self.t + 1,
                      self.n_intervals)
        self.prev = iv.val_loss
        action, _ = self.model.predict(obs, deterministic=True)
        return act(self.current, action, self.start.lr)
