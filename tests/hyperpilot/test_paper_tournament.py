"""The surrogate tournament in the paper: pieces joined by method, and its three tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyperpilot.bench.grid import BenchConfig, run_bench
from hyperpilot.paper import artifacts
from hyperpilot.paper.__main__ import main
from hyperpilot.paper.compact import MergeError, compact_bench, join_methods, load_incumbents
from hyperpilot.paper.experiments import resolve
from hyperpilot.paper.tournament_artifacts import lead_curves

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp: Path, name: str, methods: list[str], budget: float = 2,
         seeds: tuple[int, ...] = (0, 1)) -> Path:
    out = tmp / name
    run_bench(BenchConfig(methods=methods, benchmarks=["branin"], seeds=list(seeds), budget=budget,
                          out=str(out), workers=1))
    return compact_bench(out, tmp / f"{name}-compact")


def test_join_equals_one_run_of_all_methods_and_refuses_mixing(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", ["random"])
    b = _run(tmp_path, "b", ["hyperband"])
    whole = _run(tmp_path, "whole", ["random", "hyperband"])
    joined = join_methods([a, b], tmp_path / "joined")
    pd.testing.assert_frame_equal(load_incumbents(joined), load_incumbents(whole))
    cfg = json.loads((joined / "config.json").read_text())
    assert cfg["methods"] == ["random", "hyperband"] and cfg["seeds"] == [0, 1]
    meta = json.loads((joined / "meta.json").read_text())
    assert [p["methods"] for p in meta["pieces"]] == [["random"], ["hyperband"]]
    assert [p["source"] for p in meta["pieces"]] == ["a-compact", "b-compact"]
    # a raw bench folder is compacted in place and named by its folder
    assert main(["join", str(tmp_path / "raw"), str(tmp_path / "a"), str(b)]) == 0
    raw = json.loads((tmp_path / "raw" / "meta.json").read_text())
    assert [p["source"] for p in raw["pieces"]] == ["a", "b-compact"]
    # a renamed piece, through the CLI
    assert main(["join", str(tmp_path / "renamed"), str(a), str(b),
                 "--rename", str(a), "random", "random@old"]) == 0
    cells = pd.read_csv(tmp_path / "renamed" / "cells.csv")
    assert set(cells["method"]) == {"random@old", "hyperband"}
    # a joined result joined with a new candidate keeps its own pieces' provenance
    c = _run(tmp_path, "c", ["hyperband"], seeds=(2,))
    again = json.loads((join_methods([joined, c], tmp_path / "again") / "meta.json").read_text())
    assert [p["source"] for p in again["pieces"]] == ["a-compact", "b-compact", "c-compact"]
    with pytest.raises(MergeError, match="more than one piece"):
        join_methods([a, whole], tmp_path / "dup")
    other = _run(tmp_path, "other", ["hyperband"], budget=3)
    with pytest.raises(MergeError, match="budget"):
        join_methods([a, other], tmp_path / "budget")


def test_join_of_pieces_of_tasks_needs_union_benchmarks(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", ["random", "hyperband"])
    out = tmp_path / "h"
    run_bench(BenchConfig(methods=["random", "hyperband"], benchmarks=["hartmann6"], seeds=[2],
                          budget=2, out=str(out), workers=1))
    b = compact_bench(out, tmp_path / "h-compact")
    with pytest.raises(MergeError, match="benchmarks"):
        join_methods([a, b], tmp_path / "refused")
    joined = join_methods([a, b], tmp_path / "union", union_benchmarks=True)
    cfg = json.loads((joined / "config.json").read_text())
    assert cfg["benchmarks"] == ["branin", "hartmann6"] and cfg["seeds"] == [0, 1, 2]
    cells = pd.read_csv(joined / "cells.csv")
    assert sorted(zip(cells["benchmark"], cells["seed"], strict=True)) == sorted(
        [("branin", 0), ("branin", 1), ("hartmann6", 2)] * 2)


def test_join_keeps_only_the_chosen_benchmarks_and_seeds(tmp_path: Path) -> None:
    out = tmp_path / "grid"  # a "headline": two benchmarks, three seeds
    run_bench(BenchConfig(methods=["hyperband"], benchmarks=["branin", "hartmann6"],
                          seeds=[0, 1, 2], budget=2, out=str(out), workers=1))
    grid = compact_bench(out, tmp_path / "grid-compact")
    new = _run(tmp_path, "new", ["random"], seeds=(1,))  # a later method on one pair
    with pytest.raises(MergeError, match="benchmarks"):  # the grid has hartmann6 too
        join_methods([grid, new], tmp_path / "refused")
    assert main(["join", str(tmp_path / "kept"), str(grid), str(new), "--benchmarks", "branin",
                 "--seeds", "1-1"]) == 0
    cells = pd.read_csv(tmp_path / "kept" / "cells.csv")
    assert sorted(cells["method"]) == ["hyperband", "random"]
    assert set(cells["benchmark"]) == {"branin"} and set(cells["seed"]) == {1}
    inc = load_incumbents(tmp_path / "kept")
    assert set(zip(inc["benchmark"], inc["seed"], strict=True)) == {("branin", 1)}
    cfg = json.loads((tmp_path / "kept" / "config.json").read_text())
    assert cfg["benchmarks"] == ["branin"] and cfg["seeds"] == [1]
    kept = json.loads((tmp_path / "kept" / "meta.json").read_text())["kept"]
    assert kept == {"benchmarks": ["branin"], "seeds": [1]}
    with pytest.raises(MergeError, match="no cell"):
        join_methods([grid, new], tmp_path / "empty", benchmarks=["branin"], seeds=[2])


def _hand_made(tmp: Path) -> Path:
    """gp-bo and a candidate on two tasks of one family x 2 seeds, budget 30: the candidate has
    twice the GP's regret at 10 FFE and half of it at 30 FFE on every pair; a third method ran
    one seed only."""
    rows = []
    for bench in ("fam:1", "fam:2"):
        for seed in (0, 1):
            for method, early, late in (("gp-bo", 0.1, 0.01), ("cand", 0.2, 0.005)):
                for i, (ffe, r) in enumerate(((5.0, early), (20.0, late), (30.0, late))):
                    rows.append({"method": method, "benchmark": bench, "seed": seed,
                                 "trial_index": i, "ffe": ffe, "score": r,
                                 "incumbent_value": r, "regret": r, "config": ""})
            if seed == 0:
                rows += [{"method": "third", "benchmark": bench, "seed": 0, "trial_index": 0,
                          "ffe": 5.0, "score": 0.05, "incumbent_value": 0.05, "regret": 0.05,
                          "config": ""}]
    d = tmp / "hand"
    d.mkdir()
    pd.DataFrame(rows).to_csv(d / "incumbents.csv.gz", index=False)
    (d / "config.json").write_text(json.dumps({"budget": 30.0}))
    return d


def test_tournament_tables_read_ranks_ratios_and_pairs(tmp_path: Path) -> None:
    src = _hand_made(tmp_path)
    e = resolve({"name": "t", "kind": "bench", "methods": ["cand", "gp-bo"], "budget": 30,
                 "benchmarks": ["fam:1"], "seeds": 2, "tables": []}, "full")
    tabs = tmp_path / "tables"
    rank = artifacts.TABLES["tournament_rank"](src, e, tabs, "tournament_rank").read_text()
    lines = [x for x in rank.splitlines() if x.startswith(("gp-bo", "cand"))]
    assert lines[0].startswith("gp-bo & \\textbf{1 [1, 1]} & 2 [2, 2]")  # the GP's row first
    assert lines[1].startswith("cand & 2 [2, 2] & \\textbf{1 [1, 1]}")
    assert "0/4/0 (p = 0.12)" in lines[1] and "4/0/0 (p = 0.12)" in lines[1]
    regret = artifacts.TABLES["tournament_regret"](src, e, tabs, "tournament_regret").read_text()
    row = next(x for x in regret.splitlines() if x.startswith("cand"))
    assert row.replace(" ", "").rstrip("\\") == "cand&\\textbf{2}&0.5"  # bold: above 1.25x
    assert "4 (benchmark, seed) pairs" in regret
    r1 = artifacts.TABLES["tournament_round1"](src, e, tabs, "tournament_round1").read_text()
    assert "2 (benchmark, seed) pairs, 1 seed" in r1 and "third" in r1


def test_the_lead_over_the_gp_turns_where_the_hand_made_runs_cross(tmp_path: Path) -> None:
    """The candidate loses every pair at 10 FFE and wins every pair from 20 FFE on, at half the
    GP's regret; before any incumbent both are missing and tie."""
    src = _hand_made(tmp_path)
    inc = load_incumbents(src)
    inc = inc[inc["method"] != "third"]
    lead = lead_curves(inc, ["gp-bo", "cand"], np.array([1.0, 10.0, 25.0]),
                       np.random.default_rng(0), n_boot=200).set_index("ffe")
    assert lead.loc[1.0, "share"] == 0.5 and np.isnan(lead.loc[1.0, "ratio"])
    assert lead.loc[10.0, ["share", "share_lo", "share_hi"]].tolist() == [0.0, 0.0, 0.0]
    assert lead.loc[10.0, "ratio"] == pytest.approx(2.0)
    assert lead.loc[25.0, "share"] == 1.0 and lead.loc[25.0, "ratio"] == pytest.approx(0.5)
    e = resolve({"name": "t", "kind": "bench", "methods": ["cand", "gp-bo", "third"],
                 "budget": 30, "benchmarks": ["fam:1"], "seeds": 2, "tables": []}, "full")
    paths = artifacts.FIGURES["h100_lead"](src, e, tmp_path / "figs", "lead")
    assert [p.suffix for p in paths] == [".pdf", ".png"] and all(p.stat().st_size for p in paths)


def test_the_committed_tournament_gives_the_readme_figures(tmp_path: Path) -> None:
    """The reference's 45-pair finalist table matches what the README reports for rff-kev."""
    src = ROOT / "runs" / "reference" / "full" / "surrogate_tournament"
    if not (src / "meta.json").exists():
        pytest.fail(f"{src} is committed with the repository")
    from hyperpilot.paper.experiments import load_experiments

    e = load_experiments(ROOT / "paper" / "experiments", "full", only=["surrogate_tournament"])[0]
    tex = artifacts.TABLES["tournament_rank"](src, e, tmp_path, "tournament_rank").read_text()
    row = next(x for x in tex.splitlines() if x.startswith("rff-kev &"))
    assert "18/21/6 (p = 0.75)" in row and "45 (benchmark, seed) pairs" in tex
