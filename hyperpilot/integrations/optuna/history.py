"""An Optuna study's trials as the ``History`` our proposers read.

One Optuna trial is one config (``config_id = trial.number``). Its observations:

* a ``COMPLETE`` trial: its value at the max budget, and its intermediate values below it;
* a ``PRUNED`` trial: its intermediate values (the last where the pruner stopped it);
* a ``FAIL`` trial: a failed result (never reaches a model; its config is not proposed again);
* a ``RUNNING`` or ``WAITING`` trial whose values are known: a pending point at the max budget.

Intermediate values are thinned to a geometric ladder (each kept step at least ``eta`` times
the previous one, and the last), which for reports at Hyperband's rungs keeps them all and for
reports at every epoch keeps about one per rung, as our own Hyperband would have observed them.
A step below ``min_resource`` (a report at step 0) counts at ``min_resource``.
Results are ordered by completion time, so the list only grows at its end, as a study's does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hyperpilot.integrations.optuna.space import SpaceMap
from hyperpilot.methods import History
from hyperpilot.trial import Result, Status, Trial

CONFIG_ATTR = "hyperpilot:params"
"""Trial system attribute with the values our sampler chose, set when it chooses them: another
process sees a running trial's values as a pending point before they are suggested."""


@dataclass(frozen=True)
class Budgets:
    """The budget range an Optuna study's steps map to (``min == max``: single fidelity)."""

    min: float
    max: float
    eta: float

    def of(self, step: int) -> float:
        return float(min(max(step, self.min), self.max))


def max_step(trials: Sequence[Any], given: int | str) -> float | None:
    """The max budget: ``given``, or with ``"auto"`` the last step of the complete trials
    (of any trial if none completed yet); None when no trial reported a step."""
    if given != "auto":
        return float(given)
    from optuna.trial import TrialState

    done = [max(t.intermediate_values) for t in trials
            if t.state == TrialState.COMPLETE and t.intermediate_values]
    seen = done or [max(t.intermediate_values) for t in trials if t.intermediate_values]
    return float(max(seen)) if seen else None


def ladder(steps: Sequence[int], eta: float) -> list[int]:
    """``steps`` (increasing) thinned so that each kept step is ``>= eta`` times the previous,
    always keeping the last."""
    out: list[int] = []
    for s in steps:
        if not out or s >= eta * max(out[-1], 1):
            out.append(s)
    if steps and out[-1] != steps[-1]:
        out.append(steps[-1])
    return out


def to_history(trials: Sequence[Any], smap: SpaceMap, budgets: Budgets, direction: str,
               exclude: int) -> History:
    """Our ``History`` of ``trials`` (Optuna ``FrozenTrial``) in the space of ``smap``.

    Args:
        trials: every trial of the study (all brackets).
        smap: the relative search space; trials without all its values are left out.
        budgets: where steps fall (a single fidelity when ``min == max``).
        direction: the study's ``"minimize"`` or ``"maximize"``.
        exclude: the number of the trial being sampled (not a pending point).
    """
    from optuna.trial import TrialState

    results: list[Result] = []
    pending: list[Trial] = []
    finished = sorted((t for t in trials if t.state.is_finished()),
                      key=lambda t: (t.datetime_complete is None, t.datetime_complete, t.number))
    for t in finished:
        if not smap.has(t.params, t.distributions):
            continue
        cfg = smap.to_config(t.params)
        rows = _rows(t, budgets)
        if t.state == TrialState.FAIL:
            results.append(Result(Trial(len(results), t.number, cfg, budgets.max), Status.FAILED,
                                  None, [], "failed in Optuna"))
        for b, v in rows if t.state != TrialState.FAIL else []:
            results.append(Result(Trial(len(results), t.number, cfg, b), Status.COMPLETE, v,
                                  [(b, v)]))
    for t in trials:
        if t.state in (TrialState.RUNNING, TrialState.WAITING) and t.number != exclude:
            params = {**t.system_attrs.get("fixed_params", {}), **t.system_attrs.get(CONFIG_ATTR, {}),
                      **t.params}
            if smap.has(params):
                pending.append(Trial(-1 - t.number, t.number, smap.to_config(params), budgets.max))
    sign = 1.0 if direction == "minimize" else -1.0
    return History(results, pending, _loss(sign), _no_new_ids, lambda v: sign * v)


def _rows(t: Any, budgets: Budgets) -> list[tuple[float, float]]:
    """The ``(budget, value)`` observations of a finished trial (see the module docstring)."""
    from optuna.trial import TrialState

    iv = {s: v for s, v in t.intermediate_values.items() if math.isfinite(v)}
    top = budgets.max if t.state == TrialState.COMPLETE else math.inf
    steps = sorted(s for s in iv if budgets.of(s) < top)
    pts: dict[float, float] = {}
    for s in ladder(steps, budgets.eta):
        pts[budgets.of(s)] = float(iv[s])  # steps below min_resource share its budget
    if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
        pts[budgets.max] = float(t.value)
    return sorted(pts.items())


def _loss(sign: float) -> Callable[[Result], float]:
    def loss(r: Result) -> float:
        if r.status != Status.COMPLETE or r.value is None:
            return math.inf
        return sign * r.value

    return loss


def _no_new_ids() -> int:
    raise RuntimeError("a sampler's proposer never opens configs itself")
