"""Each peer adapter shows its documented multi-fidelity behaviour on Branin (a cheap function).

Skipped with a reason when the peer's package is not installed (``pip install 'hyperpilot[peers]'``).
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from hyperpilot.bench.peers import PeerEvaluator, make_peer, rung_budgets
from hyperpilot.problems import resolve_problem


def _run(name: str, tmp_path: Path, budget: float, bench: str = "branin") -> PeerEvaluator:
    pkg = {"optuna": "optuna", "dehb": "dehb", "smac": "smac"}[name.split("-")[0]]
    if importlib.util.find_spec(pkg) is None:
        pytest.skip(f"peer package '{pkg}' is not installed (pip install 'hyperpilot[peers]')")
    ev = PeerEvaluator(resolve_problem(benchmark=bench, seed=0), 0, budget, tmp_path)
    make_peer(name).run(ev)
    return ev


def test_rung_budgets_follow_eta() -> None:
    assert rung_budgets(1, 81, 3) == [1, 3, 9, 27, 81]
    assert rung_budgets(30, 2430, 3)[0] == 30


def test_optuna_hyperband_pruner_prunes_at_low_budgets(tmp_path: Path) -> None:
    ev = _run("optuna-tpe-hyperband", tmp_path, 8.0)
    stopped = [r for r in ev.rows if r["stopped"]]
    assert stopped, "HyperbandPruner should prune some trials"
    assert all(r["budget"] < 81 for r in stopped)
    assert 8.0 <= ev.used < 8.0 + 1.0  # stops at the FFE budget (one call may overshoot)
    # a trial's later rungs continue from the previous budget (same FFE accounting as ours)
    assert any(r["resume_budget"] > 0 and r["source"] == "promotion" for r in ev.rows)


def test_optuna_median_pruner_warms_up_like_rl_zoo(tmp_path: Path) -> None:
    ev = _run("optuna-tpe-median", tmp_path, 20.0)
    # the first 10 trials are never pruned (n_startup_trials=10), then some are
    first = {r["config_id"] for r in ev.rows[:50]}
    assert not any(r["stopped"] for r in ev.rows if r["config_id"] in first)
    assert any(r["stopped"] for r in ev.rows)  # afterwards the median rule prunes


def test_dehb_brackets_follow_its_eta(tmp_path: Path) -> None:
    ev = _run("dehb", tmp_path, 2.0)
    budgets = Counter(r["budget"] for r in ev.rows)
    assert set(budgets) <= {1.0, 3.0, 9.0, 27.0, 81.0}
    assert budgets[1.0] == 81  # DEHB's first bracket starts with eta**4 configs at the min budget
    assert budgets[3.0] >= 27


def test_smac_mf_evaluates_several_budgets(tmp_path: Path) -> None:
    ev = _run("smac-mf", tmp_path, 1.5)
    budgets = {r["budget"] for r in ev.rows}
    assert len(budgets) >= 2 and min(budgets) == pytest.approx(1.0)
    assert all(r["overhead_s"] >= 0 for r in ev.rows)
