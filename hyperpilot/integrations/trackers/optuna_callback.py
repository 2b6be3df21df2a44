"""``OptunaTrackerCallback``: trackers for an Optuna study (``study.optimize(callbacks=[...])``).

Optuna calls it after each trial finishes; it turns the ``FrozenTrial`` into a tracker record
(``records.from_optuna``: params, intermediate values as the curve, state, our pruner's
decisions, our sampler's proposal info) and hands it to a :class:`TrackerSet`, so a failing
tracker never fails the Optuna study either. With a ``StoreTracker`` the dashboard watches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hyperpilot.integrations.trackers.base import StudyRecord, Tracker, TrackerSet
from hyperpilot.integrations.trackers.records import from_optuna


class OptunaTrackerCallback:
    """An Optuna callback logging every finished trial to ``trackers``.

    Args:
        trackers: the trackers.
        max_resource: the study's largest step (one FFE; the incumbent counts only trials that
            reached it), or None for a study that reports no steps.
        method: how the study is run, for the record (e.g. ``"optuna:HyperPilotSampler"``).
        seed: the study's seed, for the record.
    """

    def __init__(self, trackers: Sequence[Tracker], max_resource: float | None = None,
                 method: str = "optuna", seed: int = 0) -> None:
        self.trackers, self.max_resource, self.method, self.seed = trackers, max_resource, method, seed
        self.set: TrackerSet | None = None
        self._ffe = 0.0

    def __call__(self, study: Any, trial: Any) -> None:
        if self.set is None:
            self.set = TrackerSet(self.trackers, self._study_record(study, trial))
        inc = self._incumbent(study)
        rec = from_optuna(trial, inc)
        if rec is None:
            return
        if self.max_resource:
            top = rec.schedule["budget"] if rec.schedule["budget"] is not None else self.max_resource
            self._ffe += float(top) / self.max_resource
        self.set.log_trial(replace(rec, ffe=self._ffe) if self.max_resource else rec)

    def finish(self) -> None:
        """Finish every tracker and log the failure report (call after ``optimize``)."""
        if self.set is not None:
            self.set.finish()

    def _incumbent(self, study: Any) -> float | None:
        from optuna.trial import TrialState

        vals = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.value is not None and (not self.max_resource or not t.intermediate_values
                                            or max(t.intermediate_values) >= self.max_resource)]
        if not vals:
            return None
        return float(min(vals) if study.direction.name == "MINIMIZE" else max(vals))

    def _study_record(self, study: Any, trial: Any) -> StudyRecord:
        from hyperpilot.integrations.optuna.space import SpaceMap

        smap = SpaceMap.of(trial.distributions)
        space = smap.space.to_dict() if smap is not None else {"params": {}}
        for name, p in space["params"].items():  # the map's categoricals are choice indices
            if p["type"] == "categorical":
                p["choices"] = [c if isinstance(c, (str, int, float, bool)) else str(c)
                                for c in trial.distributions[name].choices]
        fmax = float(self.max_resource or 1)
        definition = {"space": space, "fidelity": {"min": 1.0, "max": fmax, "eta": 3.0},
                      "sampler": type(study.sampler).__name__,
                      "pruner": type(study.pruner).__name__}
        return StudyRecord(study.study_name, self.method, study.direction.name.lower(),
                           self.seed, definition)


__all__ = ["OptunaTrackerCallback"]
