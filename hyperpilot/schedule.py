"""A schedule is a value: a piecewise-constant hyperparameter over the training budget.

In a config, a parameter's value is either a plain value or a schedule, stored as plain JSON so
that it goes into SQLite, ``show`` and the report exactly as it is::

    {"learning_rate": {"schedule": [[0, 0.01], [9, 0.012], [18, 0.0096]]}, "depth": 2}

``[[start, value], ...]``: the value holds from ``start`` (a budget, in the workload's units:
epochs, environment steps) until the next start; starts increase strictly and the first is 0.
A schedule's values are checked against the parameter like any plain value
(``SearchSpace.validate``). Workloads read the value at the budget they are about to train from
(:func:`config_at`) and split their training at :func:`change_points`, so a run trained to ``b``
with a change inside, checkpointed and continued, equals the same run trained straight.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

SCHEDULE_KEY = "schedule"
Schedule = dict[str, list[list[Any]]]
"""``{"schedule": [[start budget, value], ...]}``."""


class ScheduleError(ValueError):
    """A malformed schedule (the message says what is wrong)."""


def is_schedule(v: Any) -> bool:
    """True when ``v`` is a schedule (a mapping with the single key ``"schedule"``)."""
    return isinstance(v, Mapping) and set(v) == {SCHEDULE_KEY}


def make_schedule(points: Sequence[tuple[float, Any]] | Sequence[Sequence[Any]]) -> Schedule:
    """A schedule from ``(start, value)`` pairs; consecutive equal values are merged.

    Raises:
        ScheduleError: for no points, a first start other than 0, starts that do not increase
            strictly, or a start that is not a finite number.
    """
    pts = [list(p) for p in points]
    if not pts:
        raise ScheduleError("a schedule needs at least one [start, value] point")
    out: list[list[Any]] = []
    for p in pts:
        if len(p) != 2:
            raise ScheduleError(f"schedule points are [start, value] pairs, got {p!r}")
        start = p[0]
        if isinstance(start, bool) or not isinstance(start, (int, float)) or not math.isfinite(start):
            raise ScheduleError(f"schedule start {start!r} is not a finite number")
        if out and float(start) <= out[-1][0]:
            raise ScheduleError(f"schedule starts must increase strictly, got {[q[0] for q in pts]}")
        if not out and float(start) != 0.0:
            raise ScheduleError(f"a schedule starts at budget 0, got {start!r}")
        if not out or p[1] != out[-1][1]:
            out.append([float(start), p[1]])
    return {SCHEDULE_KEY: out}


def points(v: Any) -> list[tuple[float, Any]]:
    """``[(start, value), ...]`` of a schedule; a plain value is ``[(0.0, v)]``."""
    if not is_schedule(v):
        return [(0.0, v)]
    return [(float(s), x) for s, x in v[SCHEDULE_KEY]]


def value_at(v: Any, budget: float) -> Any:
    """The value in force for training from ``budget`` on (a plain value is constant)."""
    if not is_schedule(v):
        return v
    cur = v[SCHEDULE_KEY][0][1]
    for start, x in v[SCHEDULE_KEY]:
        if float(start) <= budget:
            cur = x
        else:
            break
    return cur


def config_at(config: Mapping[str, Any], budget: float) -> dict[str, Any]:
    """The plain config in force for training from ``budget`` on."""
    return {k: value_at(v, budget) for k, v in config.items()}


def change_points(config: Mapping[str, Any], lo: float, hi: float) -> list[float]:
    """Budgets in the open interval ``(lo, hi)`` where some scheduled value changes, sorted."""
    out = {s for v in config.values() if is_schedule(v) for s, _ in points(v)[1:] if lo < s < hi}
    return sorted(out)


def scheduled_names(config: Mapping[str, Any]) -> list[str]:
    """Parameters whose schedule takes more than one value."""
    return [k for k, v in config.items() if is_schedule(v) and len(v[SCHEDULE_KEY]) > 1]


def extend(v: Any, start: float, value: Any) -> Schedule:
    """``v`` (a schedule or a plain value) cut at ``start`` and continued with ``value``.

    Segments that begin at or after ``start`` are dropped: the new value replaces them.
    """
    kept = [(s, x) for s, x in points(v) if s < start]
    return make_schedule(kept + [(start, value)] if kept else [(0.0, value)])


def check_schedule(name: str, v: Any, check: Callable[[Any], Any]) -> Schedule:
    """Validate a schedule's shape and each value with ``check`` (which returns the clean value).

    Raises:
        ScheduleError: for a malformed schedule (``check`` raises its own error for a value).
    """
    raw = v[SCHEDULE_KEY]
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        raise ScheduleError(f"parameter '{name}': a schedule is a list of [start, value] pairs")
    try:
        sched = make_schedule(raw)
    except ScheduleError as e:
        raise ScheduleError(f"parameter '{name}': {e}") from None
    return {SCHEDULE_KEY: [[s, check(x)] for s, x in sched[SCHEDULE_KEY]]}


def refuse_unscheduled(config: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    """Raise ``ScheduleError`` when a parameter outside ``allowed`` changes over training.

    A one-segment schedule is a constant and always allowed.
    """
    bad = [n for n in scheduled_names(config) if n not in allowed]
    if bad:
        raise ScheduleError(f"{where} cannot change {bad} during training; schedulable: "
                            f"{sorted(allowed)}")


def schedule_lines(config: Mapping[str, Any]) -> list[str]:
    """One line per scheduled parameter: ``name: start -> value, start -> value, ...``."""
    return [f"{k}: " + ", ".join(f"{s:g} -> {x:.4g}" if isinstance(x, float) else f"{s:g} -> {x}"
                                 for s, x in points(v))
            for k, v in config.items() if is_schedule(v)]
