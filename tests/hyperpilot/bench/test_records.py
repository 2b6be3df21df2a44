"""The tidy trials table counts budgets the way the study does."""

from __future__ import annotations

import pytest

from hyperpilot.bench.records import finish_table, rows_from_results
from hyperpilot.trial import Result, Status, Trial


def test_stopped_runs_count_up_to_their_stop_and_promotions_only_the_extra_budget() -> None:
    results = [
        Result(Trial(0, 0, {"x": 0.0}, 9.0), Status.COMPLETE, 1.0, [(9.0, 1.0)]),
        Result(Trial(1, 1, {"x": 1.0}, 9.0), Status.STOPPED, 3.0, [(1.0, 5.0), (3.0, 3.0)]),
        Result(Trial(2, 2, {"x": 2.0}, 3.0), Status.COMPLETE, 2.0, [(3.0, 2.0)]),
        Result(Trial(3, 2, {"x": 2.0}, 9.0, resume_budget=3.0), Status.COMPLETE, 0.5, [(9.0, 0.5)]),
    ]
    df = finish_table(rows_from_results(results), "m", "b", 0, "minimize", 9.0, 0.0)
    assert df["spent"].tolist() == [9.0, 3.0, 3.0, 6.0]
    assert df["ffe"].tolist() == pytest.approx([1.0, 4 / 3, 5 / 3, 7 / 3])
    assert df["incumbent_loss"].tolist() == [1.0, 1.0, 1.0, 0.5]  # stopped/low budget: no incumbent
