"""pbt in the bench: it runs on the checkpointed schedule-toy, is refused on a benchmark that
cannot resume, and the report tables and plots the incumbents' schedules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyperpilot.bench.__main__ import main
from tests.hyperpilot.bench.test_cli import capsys_text


def test_pbt_runs_on_schedule_toy_and_the_report_plots_its_schedule(tmp_path: Path) -> None:
    out = tmp_path / "toy"
    args = ["run", "--methods", "pbt,random", "--benchmarks", "schedule-toy", "--seeds", "1",
            "--budget", "8", "--out", str(out), "--quiet"]
    assert "2 cells run, 0 skipped, 0 failed" in capsys_text(main, args)
    assert "report ->" in capsys_text(main, ["report", str(out), "--no-html"])
    table = pd.read_csv(out / "report" / "tables" / "incumbent_schedules.csv")
    assert set(table["method"]) == {"pbt"}  # random's incumbent is a static config
    assert set(table["param"]) == {"learning_rate", "momentum"}
    assert table["start"].min() == 0 and table["end"].max() == 27
    assert (out / "report" / "figures" / "incumbent_schedules.png").exists()
    assert "Incumbent schedules" in (out / "report" / "summary.md").read_text()


def test_pbt_is_refused_on_a_benchmark_without_checkpoints(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    args = ["run", "--methods", "pbt,random", "--benchmarks", "branin", "--seeds", "1",
            "--budget", "2", "--out", str(tmp_path / "b"), "--quiet"]
    assert main(args) == 2
    assert "does not resume from a checkpoint" in capsys.readouterr().err
