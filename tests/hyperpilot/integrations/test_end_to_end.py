"""End to end (issue 22): an Optuna study with our sampler and pruner on an SB3 CartPole
objective (tiny budget), watched by the dashboard in headless Chromium, logged to MLflow.

``HYPERPILOT_SCREENSHOTS=docs/dashboard`` keeps the page's screenshot there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("stable_baselines3")
pytest.importorskip("starlette")
pytest.importorskip("websocket")
pytest.importorskip("mlflow")

from hyperpilot.integrations.optuna import CurvePruner, HyperPilotSampler  # noqa: E402
from hyperpilot.integrations.trackers import (  # noqa: E402
    MLflowTracker,
    OptunaTrackerCallback,
    StoreTracker,
)

from ..dashboard.browser import CHROMIUM, Browser  # noqa: E402
from ..dashboard.server import running  # noqa: E402

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium not installed")
STEPS, CHUNK = 3, 256  # budget: 3 reports of 256 environment steps each


def cartpole(trial: Any) -> float:
    """PPO on CartPole-v1: mean return of 3 deterministic episodes after each chunk."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy

    torch.set_num_threads(1)
    lr = trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True)
    gamma = trial.suggest_float("gamma", 0.9, 0.999)
    n_steps = trial.suggest_categorical("n_steps", [64, 128])
    model = PPO("MlpPolicy", "CartPole-v1", learning_rate=lr, gamma=gamma, n_steps=n_steps,
                batch_size=64, n_epochs=2, seed=trial.number, device="cpu", verbose=0)
    mean = 0.0
    for step in range(1, STEPS + 1):
        model.learn(CHUNK, reset_num_timesteps=False)
        mean, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=3, deterministic=True)
        trial.report(float(mean), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return float(mean)


def test_optuna_with_our_sampler_and_pruner_watched_and_logged(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", study_name="cartpole",
                                sampler=HyperPilotSampler("hyperpilot", seed=0,
                                                          max_resource=STEPS),
                                pruner=CurvePruner(max_resource=STEPS))
    watch, mlruns = tmp_path / "watch.sqlite", tmp_path / "mlflow"
    cb = OptunaTrackerCallback([StoreTracker(watch), MLflowTracker(mlruns)], STEPS,
                               "optuna:HyperPilotSampler+CurvePruner")
    study.optimize(cartpole, n_trials=2, callbacks=[cb])
    browser = Browser(tmp_path / "profile")
    try:
        with running([watch], refresh_s=0.3) as p:
            browser.send("Page.navigate", url=p.url.replace("localhost", "127.0.0.1"))
            browser.wait_for("window.hp && window.hp.nTold === 2", 60)
            browser.eval("window.marker = 1")
            study.optimize(cartpole, n_trials=2, callbacks=[cb])  # while the page watches
            browser.wait_for("window.hp.nTold === 4", 60)
            assert browser.eval("window.marker") == 1, "updated without a reload"
            points = browser.eval("window.hp.points")
            assert points["incumbent"] > 0 and points["curves"] > 0 and points["parcoords"] > 0
            browser.screenshot(tmp_path / "dashboard-optuna-cartpole.png")
        assert browser.errors() == []
    finally:
        browser.close()
    cb.finish()
    assert cb.set is not None
    assert {n: r["failed"] for n, r in cb.set.report().items()} == {"store": 0, "mlflow": 0}

    from mlflow import MlflowClient

    c = MlflowClient(tracking_uri=f"sqlite:///{mlruns / 'mlflow.db'}")
    runs = c.search_runs([c.get_experiment_by_name("hyperpilot").experiment_id])
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(trials) == 4
    assert {r.data.params["n_steps"] for r in trials} <= {"64", "128"}
    assert all(len(c.get_metric_history(r.info.run_id, "value")) >= 1 for r in trials)
    folder = os.environ.get("HYPERPILOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "dashboard-optuna-cartpole.png", folder)
