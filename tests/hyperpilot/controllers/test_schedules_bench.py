"""The ``schedules`` bench family end to end on a tiny grid, and its resume."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hyperpilot.bench.__main__ import main

TINY = ["--seeds", "2", "--tasks", "mlp:iris", "--intervals", "3", "--steps", "2",
        "--episodes", "4", "--batch", "2", "--static-configs", "2", "--quiet"]


def _run(out: Path, controllers: str) -> int:
    return main(["schedules", "--out", str(out), "--controllers", controllers, *TINY])


def test_tiny_grid_writes_tables_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert _run(out, "constant,plateau,cosine,static,reinforce-lrwd") == 0
    for f in ("policy.pt", "fit.json", "runs.csv", "summary.csv", "table.md", "schedules.png"):
        assert (out / f).exists(), f
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 5 * 2 and set(runs.task) == {"mlp:iris"}
    assert (runs.overhead_pct >= 0).all() and runs.val_loss.notna().all()
    cells = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    policy = (out / "policy.pt").read_bytes()
    assert _run(out, "constant,plateau,cosine,static,reinforce-lrwd") == 0  # all cells done
    assert {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")} == cells
    assert (out / "policy.pt").read_bytes() == policy  # the frozen policy is not retrained
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.task) == {"mlp:iris", "all"}
    assert "| all | reinforce-lrwd | plateau |" in (out / "table.md").read_text()


def test_training_tasks_cannot_be_test_tasks(tmp_path: Path) -> None:
    assert main(["schedules", "--out", str(tmp_path), "--tasks", "mlp:wine"]) == 2


@pytest.mark.slow
@pytest.mark.rl
def test_tiny_grid_with_ppo(tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert main(["schedules", "--out", str(out), "--controllers", "plateau,rl-controller",
                 "--ppo-steps", "64", *TINY]) == 0
    assert (out / "ppo.zip").exists()
    assert len(pd.read_csv(out / "runs.csv")) == 2 * 2


def test_split_train_evaluates_training_tasks_on_fresh_seeds(tmp_path: Path) -> None:
    out = tmp_path / "t"
    args = ["schedules", "--out", str(out), "--controllers", "constant,reinforce-lrwd", *TINY,
            "--split", "train"]
    assert main(args) == 0
    runs = pd.read_csv(out / "train-tasks" / "runs.csv")
    assert set(runs.task) == {"cnn:digits-lo", "mlp:breast_cancer", "mlp:wine", "mlp:diabetes",
                              "bilstm:majority-v4-l12"}
    assert set(runs.seed) == {500_000, 500_001}
    assert not (out / "cells").exists() and (out / "policy.pt").exists()


def test_rerun_with_other_settings_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "c"
    assert _run(out, "constant") == 0
    assert main(["schedules", "--out", str(out), "--controllers", "constant", *TINY,
                 "--steps", "3"]) == 2
