"""Learning-curve early stopping inside a trial, for live workloads and simulated benchmarks alike.

The study puts a :class:`StopperState` (the rule, the incumbent, the config's earlier curve) into
each trial's ``context.extras["stopper"]``. :class:`StoppableObjective` wraps the user's objective
in the worker: ``context.report(budget, value)`` asks the curve model whether the run can still
beat the incumbent, and a True answer tells a live workload (SB3, the MLP) to stop. An objective
that returns its whole curve at once (LCBench, the synthetic functions) is replayed through the
same rule afterwards and cut where the rule would have stopped it, with the cost scaled to the
budget it would have used. Stopped trials are recorded with status ``stopped`` and are never
promoted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hyperpilot.trial import Context, Curve, parse_objective_output


@dataclass(frozen=True)
class StopRule:
    """When to stop: ``P(final beats the incumbent) < threshold``, after the guards pass.

    Attributes:
        threshold: probability below which a run is stopped.
        min_fraction: never stop before this share of the max budget was seen.
        min_points: never stop with fewer curve points.
        patience: consecutive low-probability checks needed.
        growth: check again only once the budget grew by this factor (caps the model's cost).
    """

    threshold: float = 0.05
    min_fraction: float = 0.1
    min_points: int = 3
    patience: int = 2
    growth: float = 1.2

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 1 or not 0 <= self.min_fraction <= 1:
            raise ValueError("threshold and min_fraction must be in [0, 1]")
        if self.growth < 1 or self.patience < 1 or self.min_points < 1:
            raise ValueError("growth must be >= 1, patience and min_points >= 1")


@dataclass
class StopperState:
    """What a worker needs to decide (picklable). ``y = sign * value`` is "larger is better"."""

    rule: StopRule
    incumbent: float
    t_target: float
    sign: float
    prefix: Curve = field(default_factory=list)


class _Decider:
    def __init__(self, state: StopperState) -> None:
        from fidelity import CurveStopper, ParametricCurveModel

        r = state.rule
        self.state = state
        self.stopper = CurveStopper(ParametricCurveModel(seed=0), r.threshold, r.min_fraction,
                                    r.min_points, r.patience)
        self.t = [b for b, _ in state.prefix]
        self.y = [state.sign * v for _, v in state.prefix]
        self.last_check = 0.0
        self.checks = 0

    def add(self, budget: float, value: float) -> bool:
        if not math.isfinite(value):
            return False
        self.t.append(float(budget))
        self.y.append(self.state.sign * float(value))
        if budget < self.last_check * self.state.rule.growth or budget >= self.state.t_target:
            return False
        self.last_check = budget
        self.checks += 1
        stop, _ = self.stopper.should_stop(self.t, self.y, self.state.t_target, self.state.incumbent)
        return stop


class StoppableObjective:
    """Wraps an objective so that the study's stopping rule applies to it (see module docstring)."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective

    def __call__(self, config: dict[str, Any], budget: float, resume_budget: float,
                 ctx: Context) -> Any:
        state = ctx.extras.get("stopper") if ctx is not None else None
        if state is None:
            return self.objective(config, budget, resume_budget, ctx)
        decider = _Decider(state)
        live: list[float] = []

        def report(b: float, v: float) -> bool:
            if decider.add(b, v):
                live.append(b)
                return True
            return False

        ctx.report = report
        value, curve, cost = parse_objective_output(self.objective(config, budget, resume_budget, ctx))
        if live:
            ctx.extras["stopped_at"] = live[0]
            return value, curve, cost
        if decider.checks == 0 and len(curve) > 1:  # nothing reported live: replay the curve
            replay = _Decider(state)
            for j, (b, v) in enumerate(curve[:-1]):
                if replay.add(b, v):
                    span = max(budget - resume_budget, 1e-12)
                    frac = (b - resume_budget) / span
                    ctx.extras["stopped_at"] = b
                    return v, curve[: j + 1], None if cost is None else cost * frac
        return value, curve, cost
