"""Workloads: ready-made training problems (search space + fidelity + objective) for studies.

``WORKLOADS`` maps a name to a factory returning a :class:`Workload`; heavy libraries (SB3,
gymnasium, torch) are imported only when a factory is called::

    from hyperpilot.workloads import WORKLOADS
    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=10_000, max_steps=270_000)
    w = WORKLOADS["supervised:diabetes"](min_epochs=1, max_epochs=27)
    value, curve, cost = w.objective(config, budget, resume_budget, context)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperpilot.workloads.base import (
    CheckpointableObjective,
    InvalidConfig,
    ResumableObjective,
    Workload,
)


def _sb3(algo: str, env: str, min_steps: int, max_steps: int, eta: float = 3, n_seeds: int = 1,
         eval_every: int | None = None, eval_episodes: int = 10, last_k: int = 3,
         value: str = "last", repair: bool = True, tensorboard_dir: str | None = None,
         final_eval_episodes: int | None = None, max_rollout: int | None = None,
         normalize: str = "off") -> Workload:
    """``sb3_workload`` under the YAML/CLI key names (``env`` for the Gymnasium id)."""
    from hyperpilot.workloads.sb3 import sb3_workload

    return sb3_workload(algo, env, min_steps, max_steps, eta=eta, n_seeds=n_seeds,
                        eval_every=eval_every, eval_episodes=eval_episodes, last_k=last_k,
                        value=value, repair=repair, tensorboard_dir=tensorboard_dir,
                        final_eval_episodes=final_eval_episodes, max_rollout=max_rollout,
                        normalize=normalize)


def _supervised(dataset: str) -> Callable[..., Workload]:
    def factory(**kwargs: Any) -> Workload:
        from hyperpilot.workloads.supervised import supervised_workload

        return supervised_workload(dataset, **kwargs)

    factory.__doc__ = f"The supervised MLP workload on sklearn's {dataset} dataset."
    return factory


WORKLOADS: dict[str, Callable[..., Workload]] = {
    "sb3": _sb3,
    "supervised:diabetes": _supervised("diabetes"),
    "supervised:digits": _supervised("digits"),
    "supervised:breast_cancer": _supervised("breast_cancer"),
}

__all__ = ["WORKLOADS", "CheckpointableObjective", "InvalidConfig", "ResumableObjective", "Workload"]
