"""``<method>@<surrogate>[:<variant>]`` names through ``bench run``, ``bench report``, ``bench
list`` and the paper's figures and tables (a tiny grid, in process)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from hyperpilot.bench.__main__ import check_methods, main
from hyperpilot.bench.grid import BenchError
from tests.hyperpilot.bench.test_cli import capsys_text

METHODS = ["hyperpilot@gp", "gp-bo-nostop@gp-capped:bohb", "random"]


@pytest.fixture(scope="module")
def at_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "at"
    args = ["run", "--methods", ",".join(METHODS), "--benchmarks", "branin", "--seeds", "1",
            "--budget", "3", "--out", str(out), "--quiet"]
    assert "3 cells run, 0 skipped, 0 failed" in capsys_text(main, args)
    assert "0 cells run, 3 skipped" in capsys_text(main, args)  # the cell keys are stable
    assert "report ->" in capsys_text(main, ["report", str(out), "--no-html"])
    return out


def test_cells_keep_the_at_sign_and_use_the_named_surrogate(at_out: Path) -> None:
    cells = sorted(p.name for p in (at_out / "cells").glob("*.parquet"))
    assert cells == ["gp-bo-nostop@gp-capped-bohb__branin__s0.parquet",
                     "hyperpilot@gp__branin__s0.parquet", "random__branin__s0.parquet"]
    df = pd.read_parquet(at_out / "trials.parquet")
    assert set(df["method"]) == set(METHODS)
    assert (df.loc[df["method"] == "hyperpilot@gp", "source"] == "model").any()
    with sqlite3.connect(at_out / "studies" / "hyperpilot@gp__branin__s0.sqlite") as db:
        (text,) = db.execute("SELECT definition FROM studies").fetchone()
    definition = json.loads(text)
    assert definition["method"] == "hyperpilot@gp"
    assert definition["method_options"]["proposer"] == "bo-gp"
    assert definition["method_options"]["stop_rule"] is not None  # hyperpilot's stopping stays


def test_report_names_the_at_methods(at_out: Path) -> None:
    summary = (at_out / "report" / "summary.md").read_text()
    assert "hyperpilot@gp" in summary and "gp-bo-nostop@gp-capped:bohb" in summary
    assert (at_out / "report" / "figures" / "regret_median.png").exists()


def test_paper_figure_and_table_take_at_methods(at_out: Path, tmp_path: Path) -> None:
    from hyperpilot.paper import plotting
    from hyperpilot.paper.bench_artifacts import final_table, regret_figure
    from hyperpilot.paper.compact import compact_bench
    from hyperpilot.paper.experiments import Experiment
    from hyperpilot.paper.methods import variant_name

    e = Experiment(name="at", kind="bench", scale="smoke", methods=METHODS)
    src = compact_bench(at_out, tmp_path / "compact")
    assert regret_figure(src, e, tmp_path / "figs", "regret")
    tex = final_table(src, e, tmp_path / "tabs", "final").read_text()
    assert "hyperpilot@gp" in tex
    assert plotting.ordered(METHODS)[0] == "random"  # listed methods first, then the rest
    assert plotting.colour("hyperpilot@gp") != plotting.colour("hyperpilot")
    assert variant_name("hyperpilot@gp", {"full_fidelity": True}) == "hyperpilot@gp:full"


def test_list_shows_surrogates_and_bad_names_exit() -> None:
    text = capsys_text(main, ["list"])
    assert "gp-bo-nostop" in text and "gp-capped" in text and "surrogates" in text
    for bad, why in [("random@gp", "uses no surrogate"), ("hyperpilot@nope", "known: ensemble"),
                     ("gp-bo:feed", "unknown method")]:
        with pytest.raises(BenchError, match=why):
            check_methods([bad])
