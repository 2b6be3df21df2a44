"""The tracker interface: what a study tells a tracker, and a set of trackers that never fails
the study.

A :class:`Tracker` receives one :class:`StudyRecord` (lazily, with the first trial) and one
:class:`TrialRecord` per finished trial, and is finished once at the end of a run.
:class:`TrackerSet` calls every tracker; an exception from a tracker (any exception: a tracker
talks to files, databases and networks we do not control) is logged, counted per tracker and
reported, and the study goes on.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudyRecord:
    """What a tracker learns about the study once.

    Attributes:
        name: the study's name.
        method: the method (or Optuna sampler/pruner) that runs it.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: the master seed.
        definition: the study's stored definition (space, fidelity, options), JSON-ready.
    """

    name: str
    method: str
    direction: str
    seed: int
    definition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial, as every tracker logs it (values in the study's direction).

    Attributes:
        trial_id: the trial's id (Optuna: its number).
        config_id: the configuration's id (the same across its promotions).
        config: hyperparameter name -> value.
        status: ``complete``, ``stopped`` (by a pruner) or ``failed``.
        value: the objective at the trial's last budget, None when it failed.
        curve: ``(budget, value)`` pairs reported during the run, budgets increasing.
        schedule: the trial's place in the multi-fidelity schedule: ``resume`` and ``budget``
            (budget units, e.g. epochs or steps), ``bracket`` and ``rung`` (None outside one).
        reason: why it failed, or None.
        wall_time: seconds the objective ran, or None.
        ffe: full-fidelity equivalents the study had spent after this trial, or None.
        incumbent: the best value at the max budget so far, or None before one.
        info: small extras (where the config came from, its proposal's overhead).
        decisions: the pruner's decisions during the run (``Decision.to_dict()``: action,
            reason, by, budget, prob), oldest first.
    """

    trial_id: int
    config_id: int
    config: dict[str, Any]
    status: str
    value: float | None
    curve: tuple[tuple[float, float], ...]
    schedule: dict[str, Any]
    reason: str | None = None
    wall_time: float | None = None
    ffe: float | None = None
    incumbent: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    decisions: tuple[dict[str, Any], ...] = ()


class Tracker(ABC):
    """An experiment tracker. Subclasses implement ``_start``, ``_log`` and ``_finish``; the
    public methods are what :class:`TrackerSet` calls."""

    name = "tracker"

    def start(self, study: StudyRecord) -> None:
        """Open the study's run (called once, before the first trial)."""
        self._start(study)

    def log_trial(self, rec: TrialRecord) -> None:
        """Log one finished trial and the study's incumbent after it."""
        if rec.status not in ("complete", "stopped", "failed"):
            raise ValueError(f"a trial record's status must be complete, stopped or failed, "
                             f"got {rec.status!r}")
        self._log(rec)

    def finish(self) -> None:
        """Close the study's run (flush, mark it finished)."""
        self._finish()

    @abstractmethod
    def _start(self, study: StudyRecord) -> None: ...

    @abstractmethod
    def _log(self, rec: TrialRecord) -> None: ...

    @abstractmethod
    def _finish(self) -> None: ...


@dataclass
class TrackerStats:
    """Per tracker: trials logged and lost, seconds spent (starting it apart from the rest),
    and the last error."""

    logged: int = 0
    failed: int = 0
    seconds: float = 0.0
    start_seconds: float = 0.0
    last_error: str | None = None


class TrackerSet:
    """Several trackers called as one; a failing tracker never fails the study.

    Args:
        trackers: the trackers, each with a distinct ``name``.
        study: the study's record, given to each tracker before its first trial.

    Raises:
        ValueError: for two trackers with the same name.
    """

    def __init__(self, trackers: Sequence[Tracker], study: StudyRecord) -> None:
        names = [t.name for t in trackers]
        if len(set(names)) != len(names):
            raise ValueError(f"tracker names must be distinct, got {names}")
        self.trackers, self.study = list(trackers), study
        self.stats = {t.name: TrackerStats() for t in self.trackers}
        self._started: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.trackers)

    def log_trial(self, rec: TrialRecord) -> None:
        """Give ``rec`` to every tracker (starting it first if needed)."""
        for t in self.trackers:
            if t.name not in self._started:
                self._started.add(t.name)
                t0 = time.perf_counter()
                ok = self._call(t, lambda t=t: t.start(self.study))  # type: ignore[misc]
                self.stats[t.name].start_seconds += time.perf_counter() - t0
                if not ok:
                    self._started.discard(t.name)  # this trial is lost (counted); retry next
                    continue
            self._call(t, lambda t=t: t.log_trial(rec), count=True)  # type: ignore[misc]

    def finish(self) -> None:
        """Finish every started tracker, then log the report (a warning when any failed)."""
        for t in self.trackers:
            if t.name in self._started:
                self._call(t, t.finish)
        self._started.clear()
        failed = {n: s for n, s in self.stats.items() if s.failed}
        if failed:
            log.warning("trackers: %s", self.summary())
        elif self.trackers:
            log.info("trackers: %s", self.summary())

    def report(self) -> dict[str, dict[str, Any]]:
        """Per tracker: ``logged`` and ``failed`` trials, ``seconds`` spent in it (all calls),
        ``start_seconds`` of them spent starting it, ``last_error``."""
        return {n: {"logged": s.logged, "failed": s.failed, "seconds": round(s.seconds, 4),
                    "start_seconds": round(s.start_seconds, 4), "last_error": s.last_error}
                for n, s in self.stats.items()}

    def summary(self) -> str:
        """One line: ``mlflow 40 logged, 0 failed; wandb 38 logged, 2 failed (last: ...)``."""
        parts = []
        for n, s in self.stats.items():
            last = f" (last: {s.last_error})" if s.failed else ""
            parts.append(f"{n} {s.logged} logged, {s.failed} failed{last}")
        return "; ".join(parts)

    def _call(self, t: Tracker, fn: Callable[[], None], count: bool = False) -> bool:
        s = self.stats[t.name]
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as e:  # noqa: BLE001  (the study must survive any tracker; counted)
            s.failed += 1
            s.last_error = f"{type(e).__name__}: {e}"[:300]
            (log.warning if s.failed == 1 else log.debug)(
                "tracker %s failed (the study goes on; failures are counted): %s", t.name,
                s.last_error)
            return False
        finally:
            s.seconds += time.perf_counter() - t0
        s.logged += count
        return True


__all__ = ["StudyRecord", "Tracker", "TrackerSet", "TrackerStats", "TrialRecord"]
