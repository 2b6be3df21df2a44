"""The ``"curves"`` data rule: every curve point is an observation, with no leak from the future."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

import hyperpilot as hp
import hyperpilot.methods.fitting as fitting
from hyperpilot.methods.bo_data import Encoder, TrainingData, budget_column
from hyperpilot.study import Study
from hyperpilot.trial import Result, Status, Trial
from tests.hyperpilot.objectives import SPACE

FID = hp.Fidelity(1, 9, 3)
OPTS = {"n_init": 4, "num_restarts": 1, "raw_samples": 32,
        "surrogate_options": {"max_steps": 80, "width": 16, "tune_steps": 10}}
METHOD = "hyperpilot-nostop@laplace:curves"


def curved(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """A smooth value with one curve point per unit of budget after ``resume_budget``."""
    base = (config["x"] - 2) ** 2 + (config["y"] - 3) ** 2 / 10 + 0.1 * config["k"]
    points = [(b, base + 5.0 / b) for b in range(int(resume_budget) + 1, int(budget) + 1)]
    return points[-1][1], points


def _result(cid: int, budget: float, resume: float, curve: list, status: Status,
            value: float | None) -> Result:
    config = {"x": float(cid), "y": 1.0, "k": 1, "act": "relu"}
    trial = Trial(cid, cid, config, budget, resume, 0, 0, 0, {})
    return Result(trial, status, value, curve)


def test_curve_points_cover_whole_curves_and_skip_failures() -> None:
    data = TrainingData("curves", 1.0, 2, Encoder(SPACE))
    results = [
        _result(0, 3, 0, [(1, 5.0), (2, 4.0), (3, 3.0)], Status.COMPLETE, 3.0),
        _result(1, 9, 3, [(4, 2.5), (9, 2.0)], Status.COMPLETE, 2.0),  # a promotion continues
        _result(2, 9, 0, [(1, 6.0), (2, 7.0)], Status.STOPPED, 7.0),   # stopped at budget 2
        _result(3, 3, 0, [(1, 1.0)], Status.FAILED, None),
        _result(4, 3, 0, [(0.5, 9.0), (3, float("nan"))], Status.COMPLETE, 8.0),
    ]
    X, Y = data.curve_points(results, lambda v: -v, 9.0)  # maximise: Y = value
    assert X.shape == (8, SPACE.dim + 1) and Y.shape == (8, 1)
    # the failed trial, the point below the min budget and the NaN point are left out; the
    # complete trial's final value replaces its NaN point at budget 3
    assert Y.squeeze(-1).tolist() == [5.0, 4.0, 3.0, 2.5, 2.0, 6.0, 7.0, 8.0]
    z = X[:, -1].tolist()
    assert z[:3] == pytest.approx([budget_column(b, 1, 9) for b in (1, 2, 3)])
    assert z[-1] == pytest.approx(budget_column(3, 1, 9))


def test_fits_see_only_points_told_before_them(monkeypatch: pytest.MonkeyPatch) -> None:
    study = Study(SPACE, FID, METHOD, seed=3, method_options=OPTS)
    seen: list[tuple[int, int]] = []  # (rows fitted, rows expected from the results told)
    real = fitting.fit_surrogate

    def spy(surrogate: Any, options: Any, cats: Any, X: torch.Tensor, Y: torch.Tensor,
            *rest: Any) -> Any:
        told = [(r.trial.config_id, b) for r in study.results
                if r.status in (Status.COMPLETE, Status.STOPPED) for b, _ in r.curve]
        assert X.shape[0] <= len(told)  # never more than what was told
        seen.append((X.shape[0], len(told)))
        return real(surrogate, options, cats, X, Y, *rest)

    monkeypatch.setattr(fitting, "fit_surrogate", spy)
    while len(study.results) < 30:
        for t in study.ask(3):
            study.tell(t, *curved(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    assert len(seen) >= 2
    # curve points outnumber trials: the model sees more than one row per trial
    n_complete = sum(r.status == Status.COMPLETE for r in study.results)
    assert max(n for n, _ in seen) > n_complete


def _drive(s: Study, n: int) -> Study:
    while len(s.results) < n:
        for t in s.ask(3):
            s.tell(t, *curved(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    return s


def _traj(s: Study) -> list[tuple]:
    return [(r.trial.trial_id, r.trial.config_id, r.trial.budget, r.value) for r in s.results]


def test_curve_rule_is_deterministic_and_resume_exact(tmp_path: Path) -> None:
    full = _drive(Study(SPACE, FID, METHOD, seed=2, method_options=OPTS), 24)
    again = _drive(Study(SPACE, FID, METHOD, seed=2, method_options=OPTS), 24)
    assert _traj(full) == _traj(again)
    db = tmp_path / "c.sqlite"
    part = _drive(Study(SPACE, FID, METHOD, seed=2, storage=db, method_options=OPTS), 15)
    part.ask(3)  # asked, never told: the crash
    part.storage.close()
    resumed = _drive(Study(SPACE, FID, METHOD, seed=2, storage=db, method_options=OPTS), 24)
    assert _traj(resumed) == _traj(full)
    assert any(r.trial.info.get("source") == "model" for r in full.results)
    assert all(math.isfinite(r.value) for r in full.results if r.value is not None)
