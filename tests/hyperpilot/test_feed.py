"""Feeding partial curves into the surrogate: the predicted rows, and a study that uses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hyperpilot as hp
from hyperpilot.methods import UnknownMethod
from hyperpilot.methods.feed import fed_rows, merged_curves
from hyperpilot.study import Study
from hyperpilot.trial import Result, Status, Trial
from tests.hyperpilot.objectives import SPACE, branin_mf

FID = hp.Fidelity(1, 9, 3)
OPTS = {"n_init": 4, "num_restarts": 1, "raw_samples": 32,
        "surrogate_options": {"n_features": 64, "fit_features": 64, "max_iter": 30}}  # the default rff-kev, small


def _result(tid: int, cid: int, budget: float, curve: list[tuple[float, float]],
            status: Status = Status.COMPLETE) -> Result:
    t = Trial(tid, cid, {"x": float(cid)}, budget, seed=0)
    return Result(t, status, curve[-1][1] if status == Status.COMPLETE else None, curve)


def test_fed_rows_merge_promotions_flip_sign_and_skip_short_or_finished_curves() -> None:
    rs = [
        _result(0, 0, 3, [(1, 5.0), (2, 4.0), (3, 3.0)]),
        _result(1, 0, 9, [(4, 2.5), (9, 2.0)]),  # promoted: config 0 reached the level
        _result(2, 1, 3, [(1, 6.0), (2, 5.0), (3, 4.5)]),
        _result(3, 2, 1, [(1, 7.0)]),  # one point: too short
        _result(4, 3, 3, [(1, 1.0), (2, 1.0), (3, 1.0)], Status.FAILED),
    ]
    assert merged_curves(rs)[0] == [(1.0, 5.0), (2.0, 4.0), (3.0, 3.0), (4.0, 2.5), (9.0, 2.0)]
    seen: list[tuple[list[float], list[float], float]] = []

    def predict(t: list[float], y: list[float], target: float) -> tuple[float, float]:
        seen.append((t, y, target))
        return y[-1] + 0.5, 0.2

    rows = fed_rows(rs, loss=lambda r: float(r.value), level=9, predict=predict)  # minimising
    assert [r.config_id for r in rows] == [1]
    assert seen == [([1.0, 2.0, 3.0], [-6.0, -5.0, -4.5], 9)]  # larger is better for the model
    assert rows[0].y == pytest.approx(-4.0) and rows[0].var == pytest.approx(0.04)


def curvy(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Branin at the max budget, approached linearly along a curve with a point per unit."""
    final, _ = branin_mf(config, FID.max, 0, ctx)
    curve = [(float(t), final + 3.0 * (1 - t / FID.max)) for t in range(1, int(budget) + 1)]
    return curve[-1][1], curve


def _drive(s: Study, n: int) -> Study:
    while len(s.results) < n:
        for t in s.ask(3):
            s.tell(t, *curvy(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    return s


def _traj(s: Study) -> list[tuple]:
    return [(r.trial.config_id, r.trial.budget, r.value) for r in s.results]


def test_feed_study_uses_predictions_and_resumes_exactly(tmp_path: Path) -> None:
    full = _drive(Study(SPACE, FID, "hyperpilot-nostop:feed", seed=3, method_options=OPTS), 60)
    model = [r.trial.info for r in full.results if r.trial.info.get("source") == "model"]
    assert model and max(i["n_fed"] for i in model) > 0
    assert all(i["n_train"] >= 4 for i in model)
    db = tmp_path / "f.sqlite"
    part = _drive(Study(SPACE, FID, "hyperpilot-nostop:feed", seed=3, storage=db,
                        method_options=OPTS), 40)
    part.storage.close()
    resumed = _drive(Study(SPACE, FID, "hyperpilot-nostop:feed", seed=3, storage=db,
                           method_options=OPTS), 60)
    assert _traj(resumed) == _traj(full)


def test_feed_needs_the_bohb_rule_and_a_neural_surrogate() -> None:
    with pytest.raises(UnknownMethod, match="feed"):
        Study(SPACE, FID, "gp-bo:feed", seed=0)
    from hyperpilot.methods.bo import BOProposer

    with pytest.raises(ValueError, match="feed_curves"):
        BOProposer(SPACE, FID.min, feed_curves=True, data_rule="fidelity")
    with pytest.raises(ValueError, match="feed_curves"):
        BOProposer(SPACE, FID.min, feed_curves=True, data_rule="bohb", surrogate="gp")
