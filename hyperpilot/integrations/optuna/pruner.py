"""Our ``Pruner`` interface inside Optuna: ``PrunerAdapter`` and ``CurvePruner``.

``PrunerAdapter(pruner)`` is an ``optuna.pruners.BasePruner``: at each ``trial.report`` it
shows our pruner the trial's curve (``trial.intermediate_values``: step = budget), the best
complete trial's value as the incumbent, and the other finished trials as peers, and prunes
when the decision is ``stop``. Every decision is kept in the trial's system attributes
(``hyperpilot:decisions``), with its reason. A pruner's per-run state lives in this process;
a trial first seen here (another process reported its earlier steps) is replayed from its
first step, so the decision does not depend on which process asks.

``CurvePruner(...)`` is the adapter around ``CurveRule``: our learning-curve stopping rule.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
from optuna.study import Study as OptunaStudy
from optuna.trial import FrozenTrial, TrialState

from hyperpilot.integrations.optuna.history import max_step
from hyperpilot.integrations.optuna.sampler import full_study
from hyperpilot.pruners.base import CurveView, Decision, Peer, Pruner

DECISIONS_ATTR = "hyperpilot:decisions"


class PrunerAdapter(optuna.pruners.BasePruner):
    """Any ``hyperpilot.pruners.Pruner`` as an Optuna pruner (see the module docstring).

    Args:
        pruner: the decision rule.
        max_resource: the target budget in steps, or ``"auto"`` (the last step of the complete
            trials; nothing is pruned before a trial completed).
        n_peers: at most this many finished trials are shown as peers (the newest).
    """

    def __init__(self, pruner: Pruner, max_resource: int | str = "auto",
                 n_peers: int = 200) -> None:
        if max_resource != "auto" and (not isinstance(max_resource, int) or max_resource < 1):
            raise ValueError(f"max_resource must be 'auto' or an integer >= 1, got {max_resource!r}")
        self.pruner, self.max_resource, self.n_peers = pruner, max_resource, n_peers
        self._seen: dict[int, int] = {}  # trial number -> steps already shown to the pruner

    def prune(self, study: OptunaStudy, trial: FrozenTrial) -> bool:
        whole = full_study(study)
        iv = sorted((s, v) for s, v in trial.intermediate_values.items()
                    if s > 0 and math.isfinite(v))
        if not iv:
            return False
        trials = whole.get_trials(deepcopy=False)
        top = max_step(trials, self.max_resource)
        if top is None:
            return False
        direction = whole.direction.name.lower()
        done = [float(t.value) for t in trials
                if t.state == TrialState.COMPLETE and t.value is not None]
        best = None if not done else (min(done) if direction == "minimize" else max(done))
        peers = tuple(Peer(f"trial {t.number}", tuple(sorted(t.intermediate_values.items())),
                           t.state == TrialState.COMPLETE)
                      for t in trials if t.state.is_finished() and t.number != trial.number
                      and t.intermediate_values)[-self.n_peers:]
        start = self._seen.get(trial.number, 0)
        decision: Decision | None = None
        for k in range(start, len(iv)):
            view = CurveView(f"trial {trial.number}", tuple(iv[: k + 1]), top, direction, best,
                             peers, dict(trial.params))
            decision = self.pruner.decide(view)
            if decision is not None and trial.state == TrialState.RUNNING:
                _record(whole, trial, decision)
        self._seen[trial.number] = len(iv)
        return decision is not None and decision.stop


def _record(study: OptunaStudy, trial: FrozenTrial, decision: Decision) -> None:
    kept = list(study._storage.get_trial(trial._trial_id).system_attrs.get(DECISIONS_ATTR, []))
    kept.append(decision.to_dict())
    study._storage.set_trial_system_attr(trial._trial_id, DECISIONS_ATTR, kept)


def decisions(trial: FrozenTrial) -> list[dict[str, Any]]:
    """The decisions a ``PrunerAdapter`` recorded for ``trial``, oldest first."""
    return list(trial.system_attrs.get(DECISIONS_ATTR, []))


def CurvePruner(threshold: float = 0.05, patience: int = 2, min_fraction: float = 0.1,
                min_points: int = 3, growth: float = 1.2, bounds: tuple[float, float] | None = None,
                max_resource: int | str = "auto") -> PrunerAdapter:
    """Our learning-curve stopping rule (``CurveRule`` with ``StopRule(threshold, ...)``) as an
    Optuna pruner; the arguments are ``hyperpilot.stopping.StopRule``'s."""
    from hyperpilot.pruners.curve import CurveRule
    from hyperpilot.stopping import StopRule

    rule = StopRule(threshold=threshold, min_fraction=min_fraction, min_points=min_points,
                    patience=patience, growth=growth, bounds=bounds)
    return PrunerAdapter(CurveRule(rule), max_resource)
