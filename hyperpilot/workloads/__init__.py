"""Workloads: ready-made training problems (search space + fidelity + objective) for studies.

``WORKLOADS`` maps a name to a factory returning a :class:`Workload`; heavy libraries (SB3,
gymnasium, torch) are imported only when a factory is called::

    from hyperpilot.workloads import WORKLOADS
    w = WORKLOADS["sb3"](algo="ppo", env_id="CartPole-v1", min_steps=10_000, max_steps=270_000)
    w = WORKLOADS["supervised:diabetes"]()
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


def _sb3(**kwargs: Any) -> Workload:
    from hyperpilot.workloads.sb3 import sb3_workload

    return sb3_workload(**kwargs)


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
