"""The workload contract: a search space, a fidelity and an objective, plus resumable training.

The study calls ``objective(config, budget, resume_budget, context)`` and reads back
``(value, curve, cost)``: ``value`` is minimized when ``direction == "minimize"``, ``curve`` is a
list of ``(budget, value)`` pairs in the same sign covering ``(resume_budget, budget]``, and
``cost`` is the wall time of the call in seconds.

Workloads that can continue training subclass :class:`CheckpointableObjective` (one config's
training run: train to a budget, save, restore) and hand a factory for it to
:class:`ResumableObjective`, which owns the promotion logic once for every workload.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Context, Curve, Fidelity

log = logging.getLogger(__name__)

Objective = Callable[[Config, float, float, Context], Any]


class InvalidConfig(ValueError):
    """A config the workload cannot run (the message gives the reason); the study records a failure."""


@dataclass(frozen=True)
class Workload:
    """Everything a study needs to optimize one training problem.

    Attributes:
        name: a short identifier, e.g. ``"sb3:ppo:CartPole-v1"``.
        space: the hyperparameters.
        fidelity: the budget range (environment steps or epochs) and eta.
        objective: ``objective(config, budget, resume_budget, context) -> (value, curve, cost)``.
        direction: ``"minimize"`` (all built-in workloads negate returns/accuracies to minimize).
        info: free-form facts about the workload (units, defaults used), for reports.
    """

    name: str
    space: SearchSpace
    fidelity: Fidelity
    objective: Objective
    direction: str = "minimize"
    info: dict[str, Any] | None = None


class CheckpointableObjective(ABC):
    """One config's training run that can stop at a budget, be saved, and continue later.

    Subclasses keep their state (model, optimizer, curve) on ``self``; ``trained`` is the budget
    reached so far and ``curve`` the learning curve so far, both in the study's sign.
    """

    def __init__(self) -> None:
        self.trained: float = 0.0
        self.curve: Curve = []

    @abstractmethod
    def train_to(self, budget: float, report: Callable[[float, float], bool]) -> bool:
        """Train until ``budget``, calling ``report(budget, value)`` at each evaluation.

        Returns:
            True when ``report`` asked to stop early (training then stopped at that point).
        """

    @abstractmethod
    def checkpoint(self, path: Path) -> None:
        """Save everything needed to continue (weights, optimizer, buffers, RNG, curve) into ``path``."""

    @abstractmethod
    def restore(self, path: Path) -> None:
        """Load what :meth:`checkpoint` saved; raises ``FileNotFoundError`` if it is not there."""

    @abstractmethod
    def value(self) -> float:
        """The objective value of the run so far (to minimize)."""

    def info(self) -> dict[str, Any]:
        """Extra facts for ``context.extras["workload_info"]`` (e.g. a test value, repairs)."""
        return {}


@dataclass(frozen=True)
class ResumableObjective:
    """Adapts a factory of :class:`CheckpointableObjective` to the study's objective contract.

    A promoted trial (``resume_budget > 0``) restores its run from ``context.checkpoint_dir`` and
    pays only ``budget - resume_budget``; without a checkpoint it trains from scratch and says so
    in ``context.extras["workload_info"]`` and the log.

    Args:
        make: ``make(config, context) -> CheckpointableObjective``; raises ``InvalidConfig``.
        overshoot: the most budget units a run of any config of the space may train past the
            budget it was asked for (PPO: its longest rollout less one step, ``n_envs x n_steps
            - 1``; 0 for a run that stops exactly). Methods that hand runs over at fixed budgets
            check it (``runner.check_handover``: a PBT ready interval must exceed it).
    """

    make: Callable[[Config, Context], CheckpointableObjective]
    overshoot: float = 0.0

    def __call__(
        self, config: Config, budget: float, resume_budget: float, context: Context
    ) -> tuple[float, Curve, float]:
        t0 = time.perf_counter()
        run = self.make(config, context)
        ckpt = None if context.checkpoint_dir is None else Path(context.checkpoint_dir) / "run"
        resumed, note = False, ""
        if resume_budget > 0 and ckpt is not None:
            try:
                run.restore(ckpt)
                resumed = True
            except FileNotFoundError as e:
                note = f"no usable checkpoint ({e}); trained from scratch"
                run = self.make(config, context)
        elif resume_budget > 0:
            note = "no checkpoint_dir; trained from scratch"
        if note:
            log.warning("config %s: %s to budget %s", context.trial.config_id, note, budget)
        start = run.trained  # what the checkpoint had really reached (may exceed resume_budget)
        stopped = run.train_to(budget, context.report)
        if ckpt is not None:
            ckpt.mkdir(parents=True, exist_ok=True)
            run.checkpoint(ckpt)
        curve = [(b, v) for b, v in run.curve if b > start]
        context.extras["workload_info"] = {
            "resumed": resumed, "from_scratch": not resumed, "note": note,
            "stopped_early": stopped, "trained": run.trained, "curve_from": start, **run.info(),
        }
        return run.value(), curve, time.perf_counter() - t0
