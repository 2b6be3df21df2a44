"""Tracker records from a HyperPilot result, and from an Optuna trial.

:class:`Progress` keeps the study's FFE and incumbent as trials are told (each update is O(1),
so tracking a 50,000-trial study costs no more per trial than a 50-trial one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from hyperpilot.integrations.trackers.base import TrialRecord
from hyperpilot.trial import Result, Status, spent


class Progress:
    """FFE spent and the incumbent at the max budget, updated one result at a time.

    Args:
        direction: ``"minimize"`` or ``"maximize"``.
        max_budget: the study's max budget (one FFE).
        results: results told before tracking started (a resumed study).
    """

    def __init__(self, direction: str, max_budget: float, results: Iterable[Result] = ()) -> None:
        self.sign = 1.0 if direction == "minimize" else -1.0
        self.max_budget, self.ffe, self._best = max_budget, 0.0, math.inf
        for r in results:
            self.update(r)

    def update(self, r: Result) -> tuple[float, float | None]:
        """Count ``r``; returns ``(ffe, incumbent)`` after it (incumbent None before one)."""
        self.ffe += spent(r) / self.max_budget
        if r.status == Status.COMPLETE and r.value is not None and r.trial.budget >= self.max_budget:
            self._best = min(self._best, self.sign * r.value)
        return self.ffe, (self.sign * self._best if math.isfinite(self._best) else None)


def from_result(r: Result, ffe: float | None, incumbent: float | None,
                decisions: Sequence[dict[str, Any]] = ()) -> TrialRecord:
    """The record of a HyperPilot result, with its pruner's decisions."""
    t = r.trial
    info = {k: v for k, v in t.info.items() if k in ("source", "fallback", "overhead_s")}
    return TrialRecord(t.trial_id, t.config_id, dict(t.config), r.status.value, r.value,
                       tuple(r.curve), {"resume": t.resume_budget, "budget": t.budget,
                                        "bracket": t.bracket, "rung": t.rung},
                       r.reason, r.wall_time, ffe, incumbent, info, tuple(decisions))


_OPTUNA_STATUS = {"COMPLETE": "complete", "PRUNED": "stopped", "FAIL": "failed"}


def from_optuna(trial: Any, incumbent: float | None) -> TrialRecord | None:
    """The record of a finished ``optuna.trial.FrozenTrial`` (None for a running or waiting
    one); the budget is its last reported step, its curve ``intermediate_values``."""
    status = _OPTUNA_STATUS.get(trial.state.name)
    if status is None:
        return None
    curve = tuple(sorted((float(s), float(v)) for s, v in trial.intermediate_values.items()
                         if math.isfinite(v)))
    budget = curve[-1][0] if curve else None
    wall = trial.duration.total_seconds() if trial.duration is not None else None
    reason = trial.system_attrs.get("fail_reason") if status == "failed" else None
    got = trial.system_attrs.get("hyperpilot:info")  # HyperPilotSampler's proposal info
    info = dict(got) if isinstance(got, dict) else {}
    decisions = tuple(trial.system_attrs.get("hyperpilot:decisions", []))  # PrunerAdapter's
    return TrialRecord(trial.number, trial.number, dict(trial.params), status,
                       None if trial.value is None else float(trial.value), curve,
                       {"resume": 0.0, "budget": budget, "bracket": None, "rung": None},
                       reason, wall, None, incumbent, info, decisions)


__all__ = ["Progress", "from_optuna", "from_result"]
