"""Records that flow through a study: the fidelity range, trials, and the objective's context."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from hyperpilot.space import Config, SpaceError

Curve = list[tuple[float, float]]
"""A learning curve: ``(budget, value)`` pairs in the study's direction, budgets increasing."""


@dataclass(frozen=True)
class Fidelity:
    """The fidelity (budget) range and Hyperband's reduction factor.

    Args:
        min: the smallest budget a trial runs for (e.g. epochs or environment steps), ``> 0``.
        max: the full-fidelity budget, ``>= min``.
        eta: the successive-halving reduction factor, ``> 1``.
    """

    min: float = 1.0
    max: float = 1.0
    eta: float = 3.0

    def __post_init__(self) -> None:
        for k in ("min", "max", "eta"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise SpaceError(f"Fidelity.{k} must be a finite number, got {v!r}")
        if self.min <= 0 or self.max < self.min:
            raise SpaceError(f"Fidelity needs 0 < min <= max, got min={self.min}, max={self.max}")
        if self.eta <= 1:
            raise SpaceError(f"Fidelity.eta must be > 1, got {self.eta}")

    @property
    def single(self) -> bool:
        """True when there is only one fidelity (plain full-fidelity optimization)."""
        return self.min == self.max

    def to_dict(self) -> dict[str, float]:
        return {"min": self.min, "max": self.max, "eta": self.eta}


class Status(str, Enum):
    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"
    STOPPED = "stopped"  # stopped early by the curve model; its partial value is kept


@dataclass(frozen=True)
class Trial:
    """One evaluation of a config at a budget.

    Attributes:
        trial_id: unique, increasing in the order trials were asked.
        config_id: the same config at several budgets (Hyperband promotions) shares a config_id.
        config: the parameter values (active parameters only).
        budget: the fidelity to train to.
        resume_budget: the budget this ``config_id`` was already trained to (0 if none); an
            objective that checkpoints continues from there.
        bracket: the Hyperband bracket (None for single-fidelity methods).
        rung: the rung inside the bracket.
        seed: the seed the objective gets (``Context.seed``), derived from the study's master
            seed and ``seed_index`` (``hyperpilot.seeds``).
        info: proposer details (e.g. ``{"source": "model"}`` or ``{"source": "fallback", ...}``).
        seed_index: which run of the config this is: 0 for its first run and every promotion of
            it, ``k`` for its ``k``-th extra seed (racing); with paired seeds every config's
            ``k``-th run uses the study's ``k``-th tuning seed.
    """

    trial_id: int
    config_id: int
    config: Config
    budget: float
    resume_budget: float = 0.0
    bracket: int | None = None
    rung: int | None = None
    seed: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    seed_index: int = 0


@dataclass(frozen=True)
class Result:
    """A finished trial as the study keeps it (values are in the user's direction)."""

    trial: Trial
    status: Status
    value: float | None
    curve: Curve
    reason: str | None = None
    cost: float | None = None  # the objective's own cost where it reports one (e.g. simulated seconds)
    wall_time: float | None = None  # seconds the objective ran, as measured by the study


@dataclass
class Context:
    """What an objective gets besides ``config``, ``budget`` and ``resume_budget``.

    Attributes:
        trial: the trial being run.
        seed: a seed for the objective's own randomness.
        checkpoint_dir: a directory private to this ``config_id``, kept across promotions.
        report: call ``report(budget, value)`` for intermediate results; returns True when the
            study wants the run stopped early (a learning-curve stopping rule).
    """

    trial: Trial
    seed: int
    checkpoint_dir: Path | None = None
    report: Callable[[float, float], bool] = field(default_factory=lambda: never_stop)
    extras: dict[str, Any] = field(default_factory=dict)


def never_stop(budget: float, value: float) -> bool:
    """The default ``Context.report``: never asks the run to stop."""
    return False


def spent(r: Result) -> float:
    """Budget a finished trial used: ``budget - resume_budget``, or up to where it was stopped."""
    if r.status == Status.STOPPED and r.curve:
        return max(r.curve[-1][0] - r.trial.resume_budget, 0.0)
    return r.trial.budget - r.trial.resume_budget


def parse_objective_output(out: Any) -> tuple[float, Curve, float | None]:
    """Normalise an objective's return value to ``(value, curve, cost)``.

    Accepted forms: a number; ``(value, curve)``; ``(value, curve, cost)``; or a dict with keys
    ``value`` and optional ``curve``/``cost``.

    Raises:
        ValueError: when the output is not one of these forms or the value is not a finite number.
    """
    curve: Sequence[Any] = ()
    cost = None
    if isinstance(out, dict):
        if "value" not in out:
            raise ValueError(f"objective returned a dict without 'value': keys {sorted(out)}")
        value, curve, cost = out["value"], out.get("curve") or (), out.get("cost")
    elif isinstance(out, tuple):
        if len(out) not in (2, 3):
            raise ValueError(f"objective returned a tuple of length {len(out)}; expected (value, curve[, cost])")
        value, curve = out[0], out[1] or ()
        cost = out[2] if len(out) == 3 else None
    else:
        value = out
    v = _finite(value, "value")
    pairs = [(float(b), _finite(y, "curve value")) for b, y in curve]
    return v, pairs, (None if cost is None else float(cost))


def _finite(x: Any, what: str) -> float:
    if isinstance(x, (bool, str, bytes)) or x is None:
        raise ValueError(f"objective {what} is {x!r}, not a number")
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"objective {what} is {x!r}, not a number") from None
    if not math.isfinite(f):
        raise ValueError(f"objective {what} is {f}, not finite")
    return f
