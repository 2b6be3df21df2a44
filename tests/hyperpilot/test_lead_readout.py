"""``paper/scripts/lead_readout.py``: the lead curve, same-pair gap against seed spread, per task."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "paper" / "scripts"))

import lead_readout  # noqa: E402


def write_compact(out: Path) -> None:
    """Two methods on 2 benchmarks x 2 seeds: ``A`` leads at 10 FFE (0.1 against 0.2), ``B`` at
    30 FFE (0.005 against 0.01); seed ``s`` adds ``0.01 s`` to both, so the two-seed gap of a
    method on a task is 0.01."""
    rows = []
    for method, early, late in (("A", 0.1, 0.01), ("B", 0.2, 0.005)):
        for bench in ("hartmann6", "lcbench:3945"):
            for seed in (0, 1):
                for i, (ffe, r) in enumerate([(5.0, early), (20.0, late)]):
                    rows.append({"method": method, "benchmark": bench, "seed": seed,
                                 "trial_index": i, "ffe": ffe, "score": r + 0.01 * seed,
                                 "incumbent_value": r, "regret": r + 0.01 * seed,
                                 "config": "{}"})
    out.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(out / "incumbents.csv.gz", index=False)


def test_readout_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    write_compact(tmp_path / "c")
    monkeypatch.setattr(sys, "argv", ["lead_readout.py", str(tmp_path / "c"), "--methods", "A,B",
                                      "--points", "10,30", "--budgets", "10,30",
                                      "--after", "10"])
    lead_readout.main()
    out = capsys.readouterr().out
    assert "| 10 | 0.00 | 0.00-0.00 | 1.95x |" in out   # B loses every pair: 0.205 / 0.105
    assert "| 30 | 1.00 | 1.00-1.00 | 0.67x |" in out   # and wins every pair: 0.01 / 0.015
    assert "| 10 | 4 | 0.1 | 0.01 | 0.105 | 0.205 |" in out
    assert "| 30 | 4 | 0.005 | 0.01 | 0.015 | 0.01 |" in out
    assert "| hartmann6 | 0/2 | 2/0 |" in out
    assert "| lcbench:3945 | 0/2 | 2/0 |" in out
    # from 10 FFE to the end (20) every incumbent improves: A by 0.09, B by 0.195
    assert "## Improvement after 10 FFE (to 20 FFE)" in out
    assert "| all | A | 4 | 0.105 | 1.00 | 0.09 |" in out
    assert "| all | B | 4 | 0.205 | 1.00 | 0.195 |" in out
    assert "| 0 | A | 2 | 0.1 | 1.00 | 0.09 |" in out   # the lower half of the pooled regrets is A's
    assert "| 0 | B |" not in out


def test_two_methods_are_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_compact(tmp_path / "c")
    monkeypatch.setattr(sys, "argv", ["lead_readout.py", str(tmp_path / "c"), "--methods", "A"])
    with pytest.raises(SystemExit):
        lead_readout.main()


def test_a_cell_in_two_sources_is_refused(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    write_compact(tmp_path / "a")
    write_compact(tmp_path / "b")
    monkeypatch.setattr(sys, "argv", ["lead_readout.py", str(tmp_path / "a"), str(tmp_path / "b"),
                                      "--methods", "A,B"])
    with pytest.raises(SystemExit, match="more than one folder"):
        lead_readout.main()
