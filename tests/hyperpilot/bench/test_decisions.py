"""The report's table of pruner decisions, read from a bench folder's study stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import hyperpilot as hp
from hyperpilot.bench.decisions import decisions_table
from hyperpilot.bench.grid import Cell
from tests.hyperpilot.objectives import reporting_curve


def test_decisions_per_method_benchmark_and_decider(tmp_path: Path) -> None:
    cells = [Cell("hyperband:stop", "toy", s) for s in (0, 1)] + [Cell("random", "toy", 0)]
    for c in cells[:2]:
        hp.Study(hp.SearchSpace({"x": hp.Float(0, 1)}), hp.Fidelity(1, 27, 3), c.method,
                 seed=c.seed, storage=tmp_path / "studies" / f"{c.key}.sqlite",
                 name=c.key).run(reporting_curve, budget=4)
    df = pd.DataFrame([{"method": c.method, "benchmark": c.benchmark, "seed": c.seed}
                       for c in cells])
    t = decisions_table(tmp_path, df)
    assert set(t["method"]) == {"hyperband:stop"} and set(t["by"]) == {"curve"}
    stops = t[t["action"] == "stop"].iloc[0]
    assert stops["n"] > 0 and stops["cells"] == 2 and "P(final beats the incumbent" in stops["reason"]
    assert decisions_table(tmp_path, df[df["method"] == "random"]).empty


def test_decisions_the_gain_model_left_to_its_fallback_are_counted(tmp_path: Path) -> None:
    """Before five runs reached the max budget the gain rule asks the parametric model; the
    table counts those decisions per row, and the parametric rule has none."""
    cells = [Cell("hyperband:gainstop", "toy", 0), Cell("hyperband:stop", "toy", 0)]
    for c in cells:
        hp.Study(hp.SearchSpace({"x": hp.Float(0, 1)}), hp.Fidelity(1, 27, 3), c.method,
                 seed=c.seed, storage=tmp_path / "studies" / f"{c.key}.sqlite",
                 name=c.key).run(reporting_curve, budget=4)
    df = pd.DataFrame([{"method": c.method, "benchmark": c.benchmark, "seed": c.seed}
                       for c in cells])
    t = decisions_table(tmp_path, df)
    gain = t[t["method"] == "hyperband:gainstop"]
    assert 0 < gain["fallback"].sum() <= gain["n"].sum()
    assert t.loc[t["method"] == "hyperband:stop", "fallback"].sum() == 0
