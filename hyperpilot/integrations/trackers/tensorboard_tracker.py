"""``TensorBoardTracker``: the study's scalars next to the per-trial TensorBoard logs.

The SB3 workload already writes one TensorBoard run per trial under ``tensorboard_dir``
(``hyperpilot.workloads.sb3``). This tracker adds a ``study`` run in the same folder:
``incumbent`` and ``ffe`` at step = trials told, ``trial/value`` and ``trial/budget``, and each
trial's curve as ``curve/trial_N`` (step = budget), so one ``tensorboard --logdir DIR`` shows
the study and its trials together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hyperpilot.integrations.trackers.base import StudyRecord, Tracker, TrialRecord


class TensorBoardTracker(Tracker):
    """Writes TensorBoard event files (torch's ``SummaryWriter``; needs ``tensorboard``).

    Args:
        logdir: the TensorBoard folder (the workload's ``tensorboard_dir``).
        curves: also write each trial's curve as its own tag.
    """

    name = "tensorboard"

    def __init__(self, logdir: str | Path, curves: bool = True) -> None:
        self.logdir, self.curves = Path(logdir), curves
        self._w: Any = None
        self._n = 0

    def _start(self, study: StudyRecord) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._w = SummaryWriter(str(self.logdir / f"study_{study.name}"))
        self._w.add_text("study", f"{study.method}, {study.direction}, seed {study.seed}")
        self._n = 0

    def _log(self, rec: TrialRecord) -> None:
        self._n += 1
        w, n = self._w, self._n
        if rec.value is not None:
            w.add_scalar("trial/value", rec.value, n)
        w.add_scalar("trial/budget", float(rec.schedule.get("budget") or 0.0), n)
        if rec.incumbent is not None:
            w.add_scalar("incumbent", rec.incumbent, n)
        if rec.ffe is not None:
            w.add_scalar("ffe", rec.ffe, n)
        if self.curves:
            for b, v in rec.curve:
                w.add_scalar(f"curve/trial_{rec.trial_id}", v, int(round(b)))

    def _finish(self) -> None:
        if self._w is not None:
            self._w.close()
        self._w = None


__all__ = ["TensorBoardTracker"]
