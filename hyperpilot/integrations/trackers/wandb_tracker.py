"""``WandbTracker``: a study as one Weights & Biases run.

``mode="offline"`` (the default) writes the run under ``dir/wandb/`` with no network and no
account; ``wandb sync DIR/wandb/offline-run-*`` uploads it later. ``mode="online"`` needs a
login, as W&B always does.

Per trial: ``trial/value``, ``trial/budget``, ``trial/wall_time_s``, ``incumbent`` and ``ffe``
at step = trials told; at the end, two tables: ``trials`` (id, config as JSON, status, value,
schedule, reason) and ``curves`` (trial id, budget, value).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from hyperpilot.integrations.trackers.base import StudyRecord, Tracker, TrialRecord


class WandbTracker(Tracker):
    """Logs to W&B (``pip install "hyperpilot[trackers]"``; see the module docstring).

    Args:
        dir: the folder W&B writes its run into.
        project: the W&B project.
        mode: ``"offline"`` or ``"online"``.
    """

    name = "wandb"

    def __init__(self, dir: str | Path, project: str = "hyperpilot",
                 mode: Literal["offline", "online"] = "offline") -> None:
        if mode not in ("offline", "online"):
            raise ValueError(f"mode must be 'offline' or 'online', got {mode!r}")
        self.dir, self.project, self.mode = Path(dir), project, mode
        self._run: Any = None
        self._trials: list[list[Any]] = []
        self._curves: list[list[Any]] = []

    def _start(self, study: StudyRecord) -> None:
        import wandb

        self.dir.mkdir(parents=True, exist_ok=True)
        self._run = wandb.init(project=self.project, dir=str(self.dir), mode=self.mode,
                               name=study.name, reinit="create_new",
                               config={"method": study.method, "direction": study.direction,
                                       "seed": study.seed, "definition": study.definition},
                               settings=wandb.Settings(silent=True, console="off"))
        self._trials, self._curves = [], []

    def _log(self, rec: TrialRecord) -> None:
        row: dict[str, Any] = {"trial/budget": rec.schedule.get("budget"),
                               "trial/status": rec.status}
        for k, v in (("trial/value", rec.value), ("trial/wall_time_s", rec.wall_time),
                     ("incumbent", rec.incumbent), ("ffe", rec.ffe)):
            if v is not None:
                row[k] = v
        self._run.log(row, step=len(self._trials))
        self._trials.append([rec.trial_id, rec.config_id, json.dumps(rec.config, default=str),
                             rec.status, rec.value, json.dumps(rec.schedule), rec.reason or ""])
        self._curves += [[rec.trial_id, b, v] for b, v in rec.curve]

    def _finish(self) -> None:
        import wandb

        if self._run is None:
            return
        self._run.log({
            "trials": wandb.Table(columns=["trial_id", "config_id", "config", "status", "value",
                                           "schedule", "reason"], data=self._trials),
            "curves": wandb.Table(columns=["trial_id", "budget", "value"], data=self._curves)})
        self._run.finish()
        self._run = None


__all__ = ["WandbTracker"]
