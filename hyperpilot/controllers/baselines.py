"""Hand-made controllers: the baselines a learned controller has to beat.

- ``constant``: keeps the starting hyperparameters.
- ``plateau``: ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (factor 0.5, patience 2 intervals,
  PyTorch's default threshold) stepped on the validation loss after each interval.
- ``cosine``: ``torch.optim.lr_scheduler.CosineAnnealingLR`` over the run's intervals
  (lr at interval ``i`` is ``lr0 * (1 + cos(pi * i / n)) / 2``).
- ``static``: a constant config found by random search on the training tasks
  (``tune_static``), then kept fixed on the test tasks.
- ``random``: uniform over the 9 ``reinforce-lrwd`` actions (for the toy test).

The two torch schedulers drive a one-parameter dummy optimizer whose learning rate the
controller reads, so their arithmetic is PyTorch's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import torch

from hyperpilot.controllers.base import Controller, HParams, Trainable, run_episode
from hyperpilot.controllers.policy import N_ACTIONS, action_pair
from hyperpilot.controllers.reinforce import LRWDBounds
from hyperpilot.controllers.tasks import Interval


class Constant(Controller):
    """Never changes anything."""

    name = "constant"

    def _decide(self, iv: Interval) -> HParams:
        return self.current


class _TorchScheduler(Controller):
    def reset(self, start: HParams, n_intervals: int, first: Interval) -> None:
        super().reset(start, n_intervals, first)
        self._opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=start.lr)

    def _lr(self) -> float:
        return float(self._opt.param_groups[0]["lr"])


class Plateau(_TorchScheduler):
    """Halves the learning rate after ``patience`` intervals without a new best val loss."""

    name = "plateau"

    def __init__(self, factor: float = 0.5, patience: int = 2) -> None:
        self.factor, self.patience = factor, patience

    def reset(self, start: HParams, n_intervals: int, first: Interval) -> None:
        super().reset(start, n_intervals, first)
        self._sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self._opt, mode="min", factor=self.factor, patience=self.patience)

    def _decide(self, iv: Interval) -> HParams:
        self._sched.step(iv.val_loss)
        return replace(self.current, lr=self._lr())


class Cosine(_TorchScheduler):
    """Cosine decay from ``lr0`` towards 0 over the run, one scheduler step per interval."""

    name = "cosine"

    def reset(self, start: HParams, n_intervals: int, first: Interval) -> None:
        super().reset(start, n_intervals, first)
        self._sched = torch.optim.lr_scheduler.CosineAnnealingLR(self._opt, T_max=n_intervals)

    def _decide(self, iv: Interval) -> HParams:
        self._opt.step()  # the scheduler expects an optimizer step first
        self._sched.step()
        return replace(self.current, lr=self._lr())


class RandomLRWD(Controller):
    """Uniformly random ``reinforce-lrwd`` actions, from ``np.random.default_rng(seed)``."""

    name = "random"

    def __init__(self, seed: int, bounds: LRWDBounds | None = None) -> None:
        self.rng, self.bounds = np.random.default_rng(seed), bounds or LRWDBounds()

    def _decide(self, iv: Interval) -> HParams:
        factor, step = action_pair(int(self.rng.integers(N_ACTIONS)))
        b, lr0 = self.bounds, self.start.lr
        lr = min(max(self.current.lr * factor, lr0 * b.lr_lo), lr0 * b.lr_hi)
        wd = min(max(self.current.weight_decay + step * b.wd_delta, 0.0), b.wd_max)
        return replace(self.current, lr=lr, weight_decay=wd)


class FixedLR(Controller):
    """Plays a given learning-rate multiplier per decision (for known-optimal toy schedules)."""

    name = "fixed"

    def __init__(self, factors: Sequence[float]) -> None:
        self.factors = list(factors)

    def _decide(self, iv: Interval) -> HParams:
        return replace(self.current, lr=self.current.lr * self.factors[self.t])


def tune_static(make_loop: Callable[[str, int], Trainable], tasks: Sequence[str],
                start: HParams, n_configs: int, n_intervals: int, steps_per_interval: int,
                seed: int = 0, lr_range: tuple[float, float] = (3e-3, 0.5),
                wd_range: tuple[float, float] = (1e-6, 5e-3),
                ) -> tuple[HParams, list[tuple[HParams, float]]]:
    """Random search over (lr, wd), log-uniform in the ranges, on ``tasks`` (one run each).

    A config's score is the mean over tasks of ``log(final val loss / L_0)`` (a diverged run
    counts as ``log 10``), the same unitless scale as the REINFORCE return. Run seeds are
    ``2 * 10**6 + config * 100 + task index``, apart from evaluation seeds.

    Returns:
        The best config and every ``(config, score)`` tried (smaller is better).
    """
    rng = np.random.default_rng(seed)
    tried = []
    for c in range(n_configs):
        lr = float(np.exp(rng.uniform(*np.log(lr_range))))
        wd = float(np.exp(rng.uniform(*np.log(wd_range))))
        hp = replace(start, lr=lr, weight_decay=wd)
        scores = []
        for i, task in enumerate(tasks):
            ep = run_episode(make_loop(task, 2 * 10**6 + c * 100 + i), Constant(), hp,
                             n_intervals, steps_per_interval, task)
            l0, lf = ep.intervals[0].val_loss, ep.intervals[-1].val_loss
            scores.append(math.log(10.0) if ep.diverged else math.log(max(lf, 1e-8) / l0))
        tried.append((hp, float(np.mean(scores))))
    return min(tried, key=lambda t: t[1])[0], tried
