"""Experiment trackers (``pip install "hyperpilot[trackers]"``): opt-in, and never able to fail
a study.

* :class:`MLflowTracker`: MLflow, embedded (a local SQLite file), a parent run per study and a
  nested run per trial;
* :class:`WandbTracker`: Weights & Biases, offline by default;
* :class:`TensorBoardTracker`: the study's scalars next to the workload's per-trial TensorBoard
  logs;
* :class:`StoreTracker`: a HyperPilot store, so the dashboard can watch any study.

``hp.Study(..., trackers=[MLflowTracker("runs/mlflow")])`` logs a HyperPilot study;
``OptunaTrackerCallback([...])`` logs an Optuna one. :class:`TrackerSet` counts each
tracker's failures; ``Study.tracker_report()`` and the end-of-run log report them.
"""

from __future__ import annotations

from pathlib import Path

from hyperpilot.integrations.trackers.base import (
    StudyRecord,
    Tracker,
    TrackerSet,
    TrackerStats,
    TrialRecord,
)
from hyperpilot.integrations.trackers.mlflow_tracker import MLflowTracker
from hyperpilot.integrations.trackers.optuna_callback import OptunaTrackerCallback
from hyperpilot.integrations.trackers.records import Progress, from_optuna, from_result
from hyperpilot.integrations.trackers.store_tracker import StoreTracker
from hyperpilot.integrations.trackers.tensorboard_tracker import TensorBoardTracker
from hyperpilot.integrations.trackers.wandb_tracker import WandbTracker

TRACKERS = ("mlflow", "wandb", "tensorboard", "store")
"""Kinds :func:`make_tracker` builds (``hyperpilot run --tracker KIND:DIR``)."""


def make_tracker(spec: str) -> Tracker:
    """A tracker from ``KIND:DIR``: ``mlflow:runs/mlflow``, ``wandb:runs/wandb`` (offline),
    ``tensorboard:runs/tb`` or ``store:watch.sqlite``.

    Raises:
        ValueError: for an unknown kind or a missing folder.
    """
    kind, _, where = spec.partition(":")
    if kind not in TRACKERS or not where:
        raise ValueError(f"a tracker is KIND:DIR with KIND one of {', '.join(TRACKERS)}, "
                         f"got {spec!r}")
    if kind == "mlflow":
        return MLflowTracker(where)
    if kind == "wandb":
        return WandbTracker(Path(where))
    if kind == "tensorboard":
        return TensorBoardTracker(Path(where))
    return StoreTracker(Path(where))


__all__ = ["MLflowTracker", "OptunaTrackerCallback", "Progress", "StoreTracker", "StudyRecord",
           "TRACKERS", "TensorBoardTracker", "Tracker", "TrackerSet", "TrackerStats",
           "TrialRecord", "WandbTracker", "from_optuna", "from_result", "make_tracker"]
