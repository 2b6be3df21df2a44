"""The stopping decision as a small interface: a :class:`Pruner` looks at one run's curve.

A pruner is asked at each intermediate result of a run (``context.report`` in a HyperPilot
objective, ``trial.report`` in Optuna) and answers with a :class:`Decision`: ``continue``,
``stop`` (the run ends now, its value is kept, it is never promoted) or ``promote`` (a person's
verdict that the run deserves its full budget; the study treats it as ``continue``). Each
answer carries its reason; the study stores every decision with the trial (``decisions``
table) and the report and the dashboard show them.

Implementations: ``CurveRule`` (our learning-curve rule, the default of ``hyperpilot`` and
``gp-bo``), ``MedianRule`` (Optuna's median rule), ``HumanPruner`` (a person answers in the
dashboard) and ``LLMPruner`` (a language model answers a text digest of the curves).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["continue", "stop", "promote"]
ACTIONS: tuple[str, ...] = ("continue", "stop", "promote")
Points = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Peer:
    """Another run of the study, as a pruner may compare with it.

    Attributes:
        run: its name (``"trial 7"``).
        curve: ``(budget, value)`` pairs in the study's direction, budgets increasing.
        final: True when the run reached the target budget (its last value is a final value).
    """

    run: str
    curve: Points
    final: bool = False


@dataclass(frozen=True)
class CurveView:
    """One check of one run: everything a pruner may base its decision on.

    Attributes:
        run: a name unique within the study (``"trial 12"``); pruners keep per-run state by it.
        curve: the run's ``(budget, value)`` pairs so far (user's direction), budgets
            increasing and positive, at least one pair.
        t_target: the budget the run is meant to reach (the max budget), ``> 0``.
        direction: ``"minimize"`` or ``"maximize"``.
        incumbent: the best final value so far (user's direction), None without one.
        peers: other runs' curves (finished ones, as known when the run started or now).
        config: the run's configuration.
        x: the config's unit-cube encoding (for curve models conditioned on it), or None.
        model: a fitted ``fidelity.CurveModel`` to use instead of a fresh parametric one.
        trial_id: the study's trial id, when the run is a HyperPilot trial.
    """

    run: str
    curve: Points
    t_target: float
    direction: str = "minimize"
    incumbent: float | None = None
    peers: tuple[Peer, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    x: tuple[float, ...] | None = None
    model: Any = None
    trial_id: int | None = None

    @property
    def sign(self) -> float:
        """``+1`` when larger is better, ``-1`` when smaller is: ``y = sign * value``."""
        return 1.0 if self.direction == "maximize" else -1.0

    @property
    def budget(self) -> float:
        """The budget of the newest point."""
        return self.curve[-1][0]


@dataclass(frozen=True)
class Decision:
    """A pruner's answer at one check.

    Attributes:
        action: ``"continue"``, ``"stop"`` or ``"promote"``.
        reason: one line a person can read (``"P(final beats 0.12) = 0.01 < 0.05, 2nd time"``).
        by: the pruner's name (``"curve"``, ``"median"``, ``"human"``, ``"llm"``, ...).
        budget: the budget at which it was taken.
        prob: the probability the rule computed, if it computed one.
    """

    action: Action
    reason: str
    by: str
    budget: float
    prob: float | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"a decision's action must be one of {ACTIONS}, got {self.action!r}")

    @property
    def stop(self) -> bool:
        return self.action == "stop"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "reason": self.reason, "by": self.by,
                "budget": self.budget, "prob": self.prob}


class Pruner(ABC):
    """Decides, at each check of a run, whether it goes on (see the module docstring).

    Subclasses implement :meth:`_decide`; :meth:`decide` validates the view first. A pruner may
    keep state per run (``view.run``), e.g. a patience count; it must be picklable, since the
    study ships it to worker processes with each trial.
    """

    name: str = "pruner"
    needs_incumbent: bool = False
    """True: the pruner never judges without an incumbent (the study then skips it)."""
    needs_peers: bool = False
    """True: the study gives it the finished runs' curves (``CurveView.peers``)."""

    def decide(self, view: CurveView) -> Decision | None:
        """The decision at the newest point of ``view.curve``, or None when the pruner does
        not judge at this point (too early, not a check point): the run continues."""
        check_view(view)
        return self._decide(view)

    @abstractmethod
    def _decide(self, view: CurveView) -> Decision | None:
        """A validated view; see :meth:`decide`."""

    def reset(self, run: str) -> None:  # noqa: B027 - optional hook
        """Forget what was kept about ``run`` (a run starting, or starting again)."""


def check_view(view: CurveView) -> None:
    """Refuse a view no pruner could judge: an empty or unordered curve, a bad target.

    Raises:
        ValueError: naming what is wrong.
    """
    if not view.curve:
        raise ValueError(f"{view.run}: a pruner needs at least one (budget, value) point")
    budgets = [b for b, _ in view.curve]
    if any(b <= 0 or not math.isfinite(b) for b in budgets) or any(
            b2 <= b1 for b1, b2 in zip(budgets, budgets[1:], strict=False)):
        raise ValueError(f"{view.run}: budgets must be positive and increasing, got {budgets}")
    if not (math.isfinite(view.t_target) and view.t_target > 0):
        raise ValueError(f"{view.run}: t_target must be a finite number > 0, got {view.t_target}")
    if view.direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {view.direction!r}")
