"""The report's table of pruner decisions, read from a bench folder's study stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import hyperpilot as hp
from hyperpilot.bench.decisions import decisions_table
from hyperpilot.bench.grid import Cell
from tests.hyperpilot.objectives import reporting_curve


def _run_cells(out: Path, cells: list[Cell], studies: list[Cell]) -> pd.DataFrame:
    """Run ``studies`` (a bench folder's stores under ``out``); the report's cell frame of ``cells``."""
    for c in studies:
        hp.Study(hp.SearchSpace({"x": hp.Float(0, 1)}), hp.Fidelity(1, 27, 3), c.method,
                 seed=c.seed, storage=out / "studies" / f"{c.key}.sqlite",
                 name=c.key).run(reporting_curve, budget=4)
    return pd.DataFrame([{"method": c.method, "benchmark": c.benchmark, "seed": c.seed}
                         for c in cells])


def test_decisions_per_method_benchmark_and_decider(tmp_path: Path) -> None:
    cells = [Cell("hyperband:stop", "toy", s) for s in (0, 1)] + [Cell("random", "toy", 0)]
    df = _run_cells(tmp_path, cells, studies=cells[:2])
    t = decisions_table(tmp_path, df)
    assert set(t["method"]) == {"hyperband:stop"} and set(t["by"]) == {"curve"}
    stops = t[t["action"] == "stop"].iloc[0]
    assert stops["n"] > 0 and stops["cells"] == 2 and "P(final beats the incumbent" in stops["reason"]
    assert decisions_table(tmp_path, df[df["method"] == "random"]).empty


def test_decisions_the_gain_model_left_to_its_fallback_are_counted(tmp_path: Path) -> None:
    """Before five runs reached the max budget the gain rule asks the parametric model; the
    table counts those decisions per row, and the parametric rule has none."""
    cells = [Cell("hyperband:gainstop", "toy", 0), Cell("hyperband:stop", "toy", 0)]
    df = _run_cells(tmp_path, cells, studies=cells)
    t = decisions_table(tmp_path, df)
    gain = t[t["method"] == "hyperband:gainstop"]
    assert 0 < gain["fallback"].sum() <= gain["n"].sum()
    assert t.loc[t["method"] == "hyperband:stop", "fallback"].sum() == 0
