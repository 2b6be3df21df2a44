"""The controller interface and the loop that lets one steer a training run.

A run is ``n_intervals`` intervals of ``steps_per_interval`` optimizer steps. Before the first
interval the loop measures the untrained network (step 0); after each interval but the last it
hands the interval's ``Interval`` to the controller, which returns the hyperparameters for the
next one. Time spent inside the controller is measured apart from training time: that is the
controller's overhead.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Protocol

from hyperpilot.controllers.tasks import Interval


@dataclass(frozen=True)
class HParams:
    """The hyperparameters a controller may move (SGD learning rate, L2 weight decay,
    minibatch size in examples, dropout probability)."""

    lr: float
    weight_decay: float
    batch_size: int = 32
    dropout: float = 0.1


class Trainable(Protocol):
    """What the loop needs from a run (``TrainLoop``, or the toy ``QuadraticLoop``)."""

    def set_hparams(self, lr: float, weight_decay: float, batch_size: int | None = None,
                    dropout: float | None = None) -> None: ...

    def run(self, n_steps: int) -> Interval: ...

    def evaluate(self, split: str) -> tuple[float, float]: ...


class Controller(ABC):
    """Decides the next interval's hyperparameters from what the last interval showed."""

    name: str = "controller"

    def reset(self, start: HParams, n_intervals: int, first: Interval) -> None:
        """Start a new run at ``start``; ``first`` is the step-0 measurement."""
        self.start, self.n_intervals, self.current, self.t = start, n_intervals, start, 0

    def decide(self, iv: Interval) -> HParams:
        """The hyperparameters for the next interval, after the ``self.t``-th (0-based) one."""
        self.current = self._decide(iv)
        self.t += 1
        return self.current

    @abstractmethod
    def _decide(self, iv: Interval) -> HParams: ...

    def end(self, last: Interval) -> None:  # noqa: B027  (optional hook, no-op by default)
        """Called with the final interval (used by learning controllers to close the episode)."""


@dataclass
class Episode:
    """One controlled run: per-interval records, the schedule applied, and wall times (s).

    ``schedule[i]`` holds the hyperparameters used during interval ``i``; ``intervals[0]`` is
    the step-0 measurement, ``intervals[i + 1]`` the end of interval ``i``. ``diverged`` runs
    stop early.
    """

    task: str
    controller: str
    seed: int
    intervals: list[Interval] = field(default_factory=list)
    schedule: list[HParams] = field(default_factory=list)
    controller_s: float = 0.0
    total_s: float = 0.0
    diverged: bool = False
    test_loss: float = math.nan
    test_acc: float = math.nan


def run_episode(loop: Trainable, controller: Controller, start: HParams, n_intervals: int,
                steps_per_interval: int, task: str = "", seed: int = 0) -> Episode:
    """Train ``loop`` for ``n_intervals * steps_per_interval`` steps under ``controller``."""
    t0 = time.perf_counter()
    vl, va = loop.evaluate("val")
    first = Interval(0, vl, math.nan, vl, va)
    ep = Episode(task, controller.name, seed, intervals=[first])
    c0 = time.perf_counter()
    controller.reset(start, n_intervals, first)
    ep.controller_s += time.perf_counter() - c0
    hp = start
    for i in range(n_intervals):
        loop.set_hparams(hp.lr, hp.weight_decay, hp.batch_size, hp.dropout)
        ep.schedule.append(hp)
        iv = loop.run(steps_per_interval)
        ep.intervals.append(iv)
        if not (math.isfinite(iv.val_loss) and math.isfinite(iv.train_loss)):
            ep.diverged = True
            break
        if i < n_intervals - 1:
            c0 = time.perf_counter()
            hp = controller.decide(iv)
            ep.controller_s += time.perf_counter() - c0
    c0 = time.perf_counter()
    controller.end(ep.intervals[-1])
    ep.controller_s += time.perf_counter() - c0
    ep.test_loss, ep.test_acc = loop.evaluate("test")
    if ep.diverged:
        ep.test_loss = math.inf
    ep.total_s = time.perf_counter() - t0
    return ep


def clip_hparams(hp: HParams, lo: HParams, hi: HParams) -> HParams:
    """``hp`` with every field clipped to ``[lo, hi]``."""
    return replace(hp, lr=min(max(hp.lr, lo.lr), hi.lr),
                   weight_decay=min(max(hp.weight_decay, lo.weight_decay), hi.weight_decay),
                   batch_size=min(max(hp.batch_size, lo.batch_size), hi.batch_size),
                   dropout=min(max(hp.dropout, lo.dropout), hi.dropout))
