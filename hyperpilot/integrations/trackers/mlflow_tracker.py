"""``MLflowTracker``: a study as an MLflow parent run, each trial as a nested run.

Embedded and local: MLflow's own client on a SQLite file (``sqlite:///DIR/mlflow.db``, the
default), no server. MLflow 3 keeps the plain file store (``file:./mlruns``) in maintenance
mode and refuses it unless ``MLFLOW_ALLOW_FILE_STORE=true`` is set; pass such a URI to use it.
``mlflow ui --backend-store-uri sqlite:///DIR/mlflow.db`` shows the runs.

Per trial (nested run ``trial N``): params = the config; metric ``value`` at each curve point
(step = budget) and ``final_value``; tags = status, reason, bracket, rung, resume and budget
(the schedule). On the parent run: metrics ``incumbent`` and ``ffe`` with step = trials told.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hyperpilot.integrations.trackers.base import StudyRecord, Tracker, TrialRecord


class MLflowTracker(Tracker):
    """Logs to MLflow (``pip install "hyperpilot[trackers]"``; see the module docstring).

    Args:
        tracking_uri: where MLflow stores runs: a folder (its ``mlflow.db`` is used) or any
            MLflow URI (``sqlite:///...``, ``file:...``, ``http://...``).
        experiment: the MLflow experiment's name (created if missing).
        artifact_location: where a new experiment keeps artifacts; None: ``artifacts`` in the
            folder given as ``tracking_uri`` (MLflow's own default is ``./mlruns`` in the
            current directory), or MLflow's default for a URI.
    """

    name = "mlflow"

    def __init__(self, tracking_uri: str | Path, experiment: str = "hyperpilot",
                 artifact_location: str | Path | None = None) -> None:
        uri = str(tracking_uri)
        if "://" not in uri and not uri.startswith("file:"):
            folder = Path(uri).resolve()
            uri = f"sqlite:///{folder / 'mlflow.db'}"
            if artifact_location is None:
                artifact_location = folder / "artifacts"
        self.uri, self.experiment = uri, experiment
        self.artifact_location = None if artifact_location is None else str(artifact_location)
        self._client: Any = None
        self._parent: str | None = None
        self._exp: str | None = None
        self._n = 0

    def _start(self, study: StudyRecord) -> None:
        from mlflow import MlflowClient

        if self.uri.startswith("sqlite:///"):
            Path(self.uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self._client = MlflowClient(tracking_uri=self.uri)
        got = self._client.get_experiment_by_name(self.experiment)
        self._exp = got.experiment_id if got else self._client.create_experiment(
            self.experiment, artifact_location=self.artifact_location)
        run = self._client.create_run(self._exp, run_name=study.name,
                                      tags={"hyperpilot.method": study.method,
                                            "hyperpilot.direction": study.direction})
        self._parent = run.info.run_id
        self._client.log_param(self._parent, "seed", study.seed)
        self._n = 0

    def _log(self, rec: TrialRecord) -> None:
        from mlflow.entities import Metric, Param, RunTag

        c, now = self._client, int(time.time() * 1000)
        run = c.create_run(self._exp, run_name=f"trial {rec.trial_id}",
                           tags={"mlflow.parentRunId": self._parent})
        rid = run.info.run_id
        metrics = [Metric("value", v, now, int(round(b))) for b, v in rec.curve]
        if rec.value is not None:
            metrics.append(Metric("final_value", rec.value, now, 0))
        if rec.wall_time is not None:
            metrics.append(Metric("wall_time_s", rec.wall_time, now, 0))
        params = [Param(k, str(v)[:6000]) for k, v in rec.config.items()]
        tags = [RunTag("status", rec.status), RunTag("config_id", str(rec.config_id))]
        tags += [RunTag(f"schedule.{k}", str(v)) for k, v in rec.schedule.items()]
        tags += [RunTag(f"info.{k}", str(v)[:500]) for k, v in rec.info.items()]
        if rec.decisions:
            d = rec.decisions[-1]
            tags.append(RunTag("decision", f"{d['action']} by {d['by']} at {d['budget']:g}: "
                                           f"{d['reason']}"[:4000]))
        if rec.reason:
            tags.append(RunTag("reason", rec.reason[-4000:]))
        c.log_batch(rid, metrics=metrics, params=params, tags=tags)
        c.set_terminated(rid, "FAILED" if rec.status == "failed" else "FINISHED")
        self._n += 1
        top = [Metric("ffe", rec.ffe, now, self._n)] if rec.ffe is not None else []
        if rec.incumbent is not None:
            top.append(Metric("incumbent", rec.incumbent, now, self._n))
        if top:
            c.log_batch(self._parent, metrics=top)

    def _finish(self) -> None:
        if self._client is not None and self._parent is not None:
            self._client.set_terminated(self._parent, "FINISHED")
        self._parent = None


__all__ = ["MLflowTracker"]
