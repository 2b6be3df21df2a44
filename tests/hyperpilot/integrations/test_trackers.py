"""Experiment trackers: what each logs, and a failing tracker never failing the study."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

import hyperpilot as hp
from hyperpilot.cli import main
from hyperpilot.integrations.trackers import (
    StoreTracker,
    StudyRecord,
    Tracker,
    TrackerSet,
    TrialRecord,
    make_tracker,
)

SPACE = hp.SearchSpace({"x": hp.Float(0, 1), "k": hp.Categorical(["a", "b"])})
FID = hp.Fidelity(1, 9, 3)


def curvy(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Smaller is better; ``x > 0.9`` crashes."""
    if config["x"] > 0.9:
        raise RuntimeError("diverged")
    curve = [(float(b), config["x"] + 1.0 / b) for b in range(int(resume_budget) + 1,
                                                               int(budget) + 1)]
    return curve[-1][1], curve


class Recording(Tracker):
    name = "recording"

    def __init__(self) -> None:
        self.study: StudyRecord | None = None
        self.trials: list[TrialRecord] = []
        self.finished = 0

    def _start(self, study: StudyRecord) -> None:
        self.study = study

    def _log(self, rec: TrialRecord) -> None:
        self.trials.append(rec)

    def _finish(self) -> None:
        self.finished += 1


class Flaky(Recording):
    """Fails to start once, then on every third trial."""

    name = "flaky"

    def _start(self, study: StudyRecord) -> None:
        if self.study is None and not hasattr(self, "_tried"):
            self._tried = True
            raise ConnectionError("tracking server unreachable")
        super()._start(study)

    def _log(self, rec: TrialRecord) -> None:
        if rec.trial_id % 3 == 2:
            raise OSError("disk full")
        super()._log(rec)


def _study(tmp_path: Path, trackers: list[Tracker], name: str = "s") -> hp.Study:
    return hp.Study(SPACE, FID, "hyperband", seed=1, storage=tmp_path / "s.sqlite", name=name,
                    trackers=trackers)


def test_a_failing_tracker_never_fails_the_study_and_is_counted(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rec, flaky = Recording(), Flaky()
    with caplog.at_level(logging.WARNING):
        s = _study(tmp_path, [rec, flaky]).run(curvy, budget=3)
    n = len(s.results)
    assert len(rec.trials) == n and rec.finished == 1
    report = s.tracker_report()
    assert report["recording"] == {**report["recording"], "logged": n, "failed": 0,
                                   "last_error": None}
    lost = 1 + sum(1 for r in s.results[1:] if r.trial.trial_id % 3 == 2)
    assert report["flaky"]["failed"] == lost and report["flaky"]["logged"] == n - lost
    assert report["flaky"]["last_error"] == "OSError: disk full"
    assert "flaky" in caplog.text and "failed" in caplog.text


def test_records_carry_config_curve_schedule_ffe_and_incumbent(tmp_path: Path) -> None:
    rec = Recording()
    s = _study(tmp_path, [rec]).run(curvy, budget=3)
    assert rec.study is not None and rec.study.method == "hyperband"
    assert "space" in rec.study.definition
    by_id = {r.trial.trial_id: r for r in s.results}
    for t in rec.trials:
        r = by_id[t.trial_id]
        assert t.config == r.trial.config and t.status == r.status.value
        assert list(t.curve) == r.curve and t.value == r.value
        assert t.schedule == {"resume": r.trial.resume_budget, "budget": r.trial.budget,
                              "bracket": r.trial.bracket, "rung": r.trial.rung}
    assert rec.trials[-1].ffe == pytest.approx(s.budget_used())
    assert rec.trials[-1].incumbent == s.best[1]
    assert any(t.status == "failed" and "diverged" in (t.reason or "") for t in rec.trials)


def test_duplicate_tracker_names_and_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct"):
        TrackerSet([Recording(), Recording()], StudyRecord("s", "m", "minimize", 0))
    with pytest.raises(ValueError, match="KIND:DIR"):
        make_tracker("neptune:here")


def test_mlflow_parent_and_nested_runs(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    from hyperpilot.integrations.trackers import MLflowTracker

    s = _study(tmp_path, [MLflowTracker(tmp_path / "mlflow")]).run(curvy, budget=2)
    assert s.tracker_report()["mlflow"]["failed"] == 0
    c = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}")
    exp = c.get_experiment_by_name("hyperpilot")
    runs = c.search_runs([exp.experiment_id], max_results=1000)
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == len(s.results) and parent.info.status == "FINISHED"
    assert exp.artifact_location.startswith(str(tmp_path)), "nothing under the current folder"
    r0 = next(r for r in s.results if r.curve)
    child = next(c_ for c_ in children if c_.info.run_name == f"trial {r0.trial.trial_id}")
    assert child.data.params == {k: str(v) for k, v in r0.trial.config.items()}
    hist = c.get_metric_history(child.info.run_id, "value")
    assert sorted((m.step, m.value) for m in hist) == [(int(b), v) for b, v in r0.curve]
    assert child.data.tags["status"] == r0.status.value
    assert child.data.tags["schedule.budget"] == str(r0.trial.budget)
    inc = [m.value for m in sorted(c.get_metric_history(parent.info.run_id, "incumbent"),
                                   key=lambda m: m.step)]
    assert inc and all(b <= a for a, b in zip(inc, inc[1:], strict=False))


def test_wandb_offline_run(tmp_path: Path) -> None:
    pytest.importorskip("wandb")
    from hyperpilot.integrations.trackers import WandbTracker

    s = _study(tmp_path, [WandbTracker(tmp_path / "wb")]).run(curvy, budget=2)
    assert s.tracker_report()["wandb"] == {**s.tracker_report()["wandb"], "failed": 0,
                                           "logged": len(s.results)}
    runs = list((tmp_path / "wb" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    log, end = b"", time.monotonic() + 30  # W&B's service process writes the records late
    while b"trial/value" not in log and time.monotonic() < end:
        time.sleep(0.2)
        log = next(runs[0].glob("*.wandb")).read_bytes()
    assert b"incumbent" in log and b"trial/value" in log
    tables = runs[0] / "files" / "media" / "table"
    trials = json.loads(next(tables.glob("trials_*.table.json")).read_text())
    assert len(trials["data"]) == len(s.results)
    assert trials["columns"][:4] == ["trial_id", "config_id", "config", "status"]
    curves = json.loads(next(tables.glob("curves_*.table.json")).read_text())
    assert len(curves["data"]) == sum(len(r.curve) for r in s.results)


def test_tensorboard_joins_the_folder(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from hyperpilot.integrations.trackers import TensorBoardTracker

    s = _study(tmp_path, [TensorBoardTracker(tmp_path / "tb")]).run(curvy, budget=2)
    acc = EventAccumulator(str(tmp_path / "tb" / "study_s"))
    acc.Reload()
    assert len(acc.Scalars("ffe")) == len(s.results)
    assert acc.Scalars("incumbent")[-1].value == pytest.approx(s.best[1])


def test_the_cli_logs_to_a_tracker_and_reports_it(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    watch = tmp_path / "watch.sqlite"
    assert main(["run", "--benchmark", "branin", "--method", "random", "--budget", "2",
                 "--storage", str(tmp_path / "s.sqlite"), "--no-progress",
                 "--tracker", f"store:{watch}"]) == 0
    out = capsys.readouterr().out
    assert "tracker store:" in out and "0 failed" in out
    st = hp.storage.Storage(watch, read_only=True)
    assert st.studies()[0]["n_trials"] > 0
    st.close()


def test_an_optuna_study_in_a_store_the_dashboard_reads(tmp_path: Path) -> None:
    optuna = pytest.importorskip("optuna")
    from hyperpilot.dashboard.cache import open_studies
    from hyperpilot.dashboard.views import state
    from hyperpilot.integrations.optuna import CurvePruner
    from hyperpilot.integrations.trackers import OptunaTrackerCallback

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1) + trial.suggest_categorical("k", [16, 32]) / 1000
        v = 0.0
        for step in range(1, 10):
            v = x + 1.0 / step
            trial.report(v, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return v

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=CurvePruner(max_resource=9), study_name="opt")
    cb = OptunaTrackerCallback([StoreTracker(tmp_path / "watch.sqlite")], max_resource=9)
    study.optimize(objective, n_trials=12, callbacks=[cb])
    cb.finish()
    assert cb.set is not None and cb.set.report()["store"]["failed"] == 0
    c = open_studies([tmp_path / "watch.sqlite"])[0]
    c.refresh()
    s = state(c)
    assert s["n_told"] == 12 and s["incumbent"]["value"][-1] == pytest.approx(study.best_value)
    dims = {d["label"]: d for d in s["parcoords"]["dims"]}
    assert set(dims) == {"x", "k"} and dims["k"]["ticktext"] == ["16", "32"]
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert len(c.decisions) >= len(pruned)
