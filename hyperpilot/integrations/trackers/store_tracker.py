"""``StoreTracker``: any study's trials in a HyperPilot store, so the dashboard can watch it.

An Optuna study (through ``OptunaTrackerCallback``) has no HyperPilot store; this tracker
writes each finished trial, its curve and its pruner decisions into one through the
``Storage`` API (a trial is added and finished in two steps, as a study does), and
``python -m hyperpilot dashboard STORE`` shows it live. The study's definition must carry
``space`` (``SearchSpace.to_dict()``) and ``fidelity`` (``Fidelity.to_dict()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hyperpilot.integrations.trackers.base import StudyRecord, Tracker, TrialRecord


class StoreTracker(Tracker):
    """Mirrors finished trials into a HyperPilot SQLite store.

    Args:
        path: the store (created if missing).
    """

    name = "store"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._st: Any = None
        self._sid = -1

    def _start(self, study: StudyRecord) -> None:
        from hyperpilot.storage import Storage

        d = study.definition
        if "space" not in d or "fidelity" not in d:
            raise ValueError("StoreTracker needs a definition with 'space' and 'fidelity'")
        self._st = Storage(self.path)
        self._sid = self._st.open_study(study.name, {**d, "method": study.method,
                                                     "direction": study.direction}, study.seed)

    def _log(self, rec: TrialRecord) -> None:
        from hyperpilot.trial import Result, Status, Trial

        sch = rec.schedule
        budget = float(sch["budget"]) if sch.get("budget") is not None else 0.0
        t = Trial(rec.trial_id, rec.config_id, rec.config, budget, float(sch.get("resume") or 0.0),
                  sch.get("bracket"), sch.get("rung"), 0, dict(rec.info))
        seq = self._st.max_seq(self._sid) + 1
        self._st.add_trials(self._sid, [t], seq, float(rec.info.get("overhead_s", 0.0)))
        res = Result(t, Status(rec.status), rec.value, list(rec.curve), rec.reason, None,
                     rec.wall_time)
        self._st.finish_trial(self._sid, res, seq + 1, rec.decisions)

    def _finish(self) -> None:
        if self._st is not None:
            self._st.close()
        self._st = None


__all__ = ["StoreTracker"]
