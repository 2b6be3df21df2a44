"""``paper/scripts/tournament_summary.py`` over compact references and folders of other methods."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "paper" / "scripts"))

import tournament_summary as summary  # noqa: E402


def write_compact(out: Path, method: str, regret_at_10: float, regret_at_30: float) -> None:
    """A compact folder of one method: 2 benchmarks x 2 seeds, incumbents improving at 5 and 20
    FFE (the shape ``hyperpilot.paper.compact`` writes)."""
    rows = []
    for bench in ("hartmann6", "lcbench:3945"):
        for seed in (0, 1):
            for i, (ffe, r) in enumerate([(5.0, regret_at_10), (20.0, regret_at_30)]):
                rows.append({"method": method, "benchmark": bench, "seed": seed,
                             "trial_index": i, "ffe": ffe, "score": r + 0.01 * seed,
                             "incumbent_value": r, "regret": r, "config": "{}"})
    out.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(out / "incumbents.csv.gz", index=False)


def test_compact_folders_are_read_and_ranked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write_compact(tmp_path / "a", "A", 0.1, 0.01)
    write_compact(tmp_path / "b", "B", 0.2, 0.005)  # worse at 10 FFE, better at 30
    monkeypatch.setattr(sys, "argv", ["tournament_summary.py", str(tmp_path / "a"),
                                      str(tmp_path / "b"), "--at", "10,30", "--paired", "A,B"])
    summary.main()
    out = capsys.readouterr().out
    assert "| A | 1.00 (1.00-1.00) | 2.00 (2.00-2.00) |" in out
    assert "| B | 2.00 (2.00-2.00) | 1.00 (1.00-1.00) |" in out
    assert "- @10 all: 4 / 0 / 0" in out
    assert "- @30 all: 0 / 4 / 0" in out
    assert "(4 benchmark-seed pairs.)" in out


def test_a_cell_in_two_folders_is_refused(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    write_compact(tmp_path / "a", "A", 0.1, 0.01)
    write_compact(tmp_path / "b", "A", 0.2, 0.005)
    monkeypatch.setattr(sys, "argv", ["tournament_summary.py", str(tmp_path / "a"),
                                      str(tmp_path / "b")])
    with pytest.raises(SystemExit, match="more than one folder"):
        summary.main()
