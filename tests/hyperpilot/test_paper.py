"""The reproducible paper: experiment configs, determinism of results and figures, references."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyperpilot.paper import artifacts
from hyperpilot.paper.__main__ import main
from hyperpilot.paper.experiments import ExperimentError, load_experiments, resolve
from hyperpilot.paper.methods import variant_name
from hyperpilot.paper.reproduce import Paths, reproduce
from hyperpilot.paper.runs import parse_whitespace_table

ROOT = Path(__file__).resolve().parents[2]

# Timing columns differ between two runs of the same config and seed: optimizer seconds per
# proposal (overhead_s), objective seconds (wall_s) and their running sum (elapsed_s). Every
# other column (configs, budgets, values, FFE, incumbents, sources, statuses) must be identical.
TIMING_COLUMNS = ["overhead_s", "wall_s", "elapsed_s"]

TINY = """
name: tiny
kind: bench
methods: [random, hyperband]
benchmarks: [branin]
seeds: 2
budget: 2
workers: 1
figures: [headline_regret, headline_rank]
tables: [headline_final, headline_rank, headline_paired, headline_overhead]
smoke: {}
full: {}
"""


def _paths(tmp: Path, out: str) -> Paths:
    exp = tmp / "experiments"
    exp.mkdir(exist_ok=True)
    (exp / "tiny.yaml").write_text(TINY)
    return Paths(ROOT, exp, tmp / out, tmp / "reference", tmp / f"paper_{out}")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("scale", ["smoke", "full"])
def test_every_experiment_config_resolves_and_names_known_artifacts(scale: str) -> None:
    exps = load_experiments(ROOT / "paper" / "experiments", scale)  # type: ignore[arg-type]
    names = {e.name for e in exps}
    assert {"headline", "full_fidelity_bo", "surrogate_quality", "curve_extrapolation",
            "space_speed", "scaling"} <= names
    for e in exps:
        assert all(f in artifacts.FIGURES for f in e.figures), e.name
        assert all(t in artifacts.TABLES for t in e.tables), e.name
        assert e.figures or e.tables, f"{e.name} produces nothing for the paper"
        if e.kind == "bench":
            assert e.seeds and e.budget > 0 and not set(e.seeds) & set(e.test_seeds)
            e.bench_methods()  # every method option has a registered variant
        else:
            assert (ROOT / e.script).is_file()


def test_every_paper_artifact_has_an_experiment() -> None:
    tex = (ROOT / "paper" / "main.tex").read_text()
    exps = load_experiments(ROOT / "paper" / "experiments", "full")
    made = {n for e in exps for n in e.figures + e.tables}
    import re

    used = set(re.findall(r"\\generated(?:table|figure)(?:\[[^\]]*\])?\{([^}]+)\}", tex))
    from hyperpilot.paper import current

    generated_by_checklist = {"hardware", "checklist", "search_spaces", "incumbents"}
    joined = {current.TABLE}  # from two experiments' results (hyperpilot.paper.current)
    assert used - generated_by_checklist - joined <= made
    assert made <= used, f"artifacts not in the paper: {made - used}"


def test_scale_blocks_override_and_seeds_must_be_disjoint() -> None:
    raw = {"name": "x", "kind": "bench", "methods": ["random"], "seeds": 10, "budget": 100,
           "smoke": {"seeds": 2, "budget": 3}}
    assert resolve(raw, "smoke").seeds == [0, 1] and resolve(raw, "smoke").budget == 3
    assert resolve(raw, "full").seeds == list(range(10))
    with pytest.raises(ExperimentError, match="overlap"):
        resolve({**raw, "test_seeds": [1]}, "full")
    with pytest.raises(ExperimentError, match="unknown keys"):
        resolve({**raw, "budgett": 1}, "full")


def test_method_options_become_bench_variants() -> None:
    from hyperpilot.bench.__main__ import check_methods

    assert variant_name("hyperpilot", {"full_fidelity": True}) == "hyperpilot:full"
    assert variant_name("random", {}) == "random"
    check_methods([variant_name("gp-bo", {"full_fidelity": True})])
    with pytest.raises(ValueError, match="no registered variant"):
        variant_name("hyperpilot", {"eta": 2})


def test_parse_whitespace_table_keeps_the_trailing_rows() -> None:
    text = "LCBench space (7 parameters), n = 500\nop ours ms CS ms\nencode 1.0 20.0\ndecode 2.5 40\n"
    df = parse_whitespace_table(text, ["op", "ours", "cs"])
    assert list(df["op"]) == ["encode", "decode"] and df["ours"].tolist() == [1.0, 2.5]


def test_same_config_and_seeds_give_identical_results_and_figures(tmp_path: Path) -> None:
    a = reproduce(_paths(tmp_path, "a"), "smoke")
    b = reproduce(_paths(tmp_path, "b"), "smoke")
    ta = pd.read_parquet(tmp_path / "a" / "smoke" / "tiny" / "trials.parquet")
    tb = pd.read_parquet(tmp_path / "b" / "smoke" / "tiny" / "trials.parquet")
    assert len(ta) > 10 and set(TIMING_COLUMNS) <= set(ta.columns)
    pd.testing.assert_frame_equal(ta.drop(columns=TIMING_COLUMNS), tb.drop(columns=TIMING_COLUMNS))
    inc = "incumbents.csv.gz"
    assert (a[0].path / inc).read_bytes() == (b[0].path / inc).read_bytes()
    # identical results -> byte-identical figures (PNG and PDF) and result tables
    fa, fb = _digest(tmp_path / "paper_a" / "figures"), _digest(tmp_path / "paper_b" / "figures")
    assert fa == fb and len(fa) == 4
    for t in ("headline_final.tex", "headline_rank.tex", "headline_paired.tex", "results.tex",
              "checklist.tex"):
        assert (tmp_path / "paper_a" / "tables" / t).read_text() == \
            (tmp_path / "paper_b" / "tables" / t).read_text(), t
    paired = (tmp_path / "paper_a" / "tables" / "headline_paired.tex").read_text()
    # no hyperpilot in this grid: the first method (ordered) is compared with the other, 2 pairs
    assert "hyperband against" in paired and paired.count("(p = ") == 3
    assert "\\texttt{hyperband}" in paired and "\t" not in paired and "100\\%" in paired
    # regenerating from the same results again gives the same bytes
    artifacts.build(a[0].experiment, a[0].path, tmp_path / "paper_c")
    assert _digest(tmp_path / "paper_c" / "figures") == fa


def test_full_scale_uses_committed_reference_without_running(tmp_path: Path) -> None:
    p = _paths(tmp_path, "a")
    reproduce(p, "smoke", export=True)
    ref = p.reference / "smoke" / "tiny"
    assert (ref / "incumbents.csv.gz").exists() and (ref / "meta.json").exists()
    shutil.copytree(ref, p.reference / "full" / "tiny")
    src = reproduce(p, "full")
    assert src[0].origin == "reference" and not (p.out / "full").exists()
    assert r"\newcommand{\resultscale}{full}" in (p.paper / "tables" / "results.tex").read_text()
    assert "incumbents" in {f.stem for f in (p.paper / "tables").iterdir()}


def test_resuming_with_another_budget_is_refused(tmp_path: Path) -> None:
    p = _paths(tmp_path, "a")
    reproduce(p, "smoke")
    (p.experiments / "tiny.yaml").write_text(TINY.replace("budget: 2", "budget: 3"))
    from hyperpilot.bench.grid import BenchError

    with pytest.raises(BenchError, match="other settings \\(budget 2 -> 3\\)"):
        reproduce(p, "smoke")  # the bench's own rule (bench.runner.check_folder)


def test_rl_tuning_table_and_figure(tmp_path: Path) -> None:
    """The RL tables: the test return with its CI per env x method (the env named once per
    block), and, for the tasks with a threshold only, steps-to-475 (``never`` beyond the budget)
    and the test AUC of the studies tuned on it."""
    src = tmp_path / "compact"
    src.mkdir()
    inf = float("inf")
    pd.DataFrame([
        {"env": "Acrobot-v1", "method": "hyperpilot", "tuning_seeds_tested": 3, "test_runs": 30,
         "test_mean": -80.25, "test_ci_low": -85.0, "test_ci_high": -76.5, "steps_to_median": None,
         "steps_to_ci_low": None, "steps_to_ci_high": None, "reached": None},
        {"env": "CartPole-v1", "method": "random", "tuning_seeds_tested": 3, "test_runs": 30,
         "test_mean": 480.0, "test_ci_low": 470.0, "test_ci_high": 490.0, "steps_to_median": 12_500,
         "steps_to_ci_low": 10_000, "steps_to_ci_high": inf, "reached": 0.9},
        {"env": "CartPole-v1", "method": "hyperpilot", "tuning_seeds_tested": 2, "test_runs": 20,
         "test_mean": 470.0, "test_ci_low": 460.0, "test_ci_high": 475.0, "steps_to_median": inf,
         "steps_to_ci_low": 20_000, "steps_to_ci_high": inf, "reached": 0.4},
    ]).to_csv(src / "summary.csv", index=False)
    pd.DataFrame({"env": ["Acrobot-v1"] * 3 + ["CartPole-v1"] * 2,
                  "method": ["hyperpilot", "hyperpilot", "random", "random", "random"],
                  "test_return": [-80.0, -90.0, -120.0, 500.0, 460.0]}
                 ).to_csv(src / "result.csv.gz", index=False)
    e = load_experiments(ROOT / "paper" / "experiments", "full", only=["rl_tuning"])[0]
    assert e.tables == ["rl_tuning", "rl_tuning_curve"]

    def tables() -> tuple[str, str]:
        return tuple(artifacts.TABLES[n](src, e, tmp_path / "tables", n).read_text()  # type: ignore[return-value]
                     for n in e.tables)

    ret, curve = tables()
    lines = [ln for ln in ret.splitlines() if " & " in ln]
    assert lines[1].startswith("Acrobot") and "-80.2 [-85, -76.5]" in lines[1] and "3 x 10" in lines[1]
    assert lines[2].startswith("CartPole") and lines[3].startswith(" & hyperpilot")  # named once
    assert "steps to" not in ret and "resizebox" not in ret  # six columns at most: no shrinking
    assert "Acrobot" not in curve  # no threshold on Acrobot: no row
    assert "12.5k [10k, never]" in curve and "90\\%" in curve and "never [20k, never]" in curve
    assert "test AUC" not in curve
    figs = artifacts.FIGURES["rl_tuning"](src, e, tmp_path / "figures", "rl_tuning")
    assert {f.suffix for f in figs} == {".pdf", ".png"} and all(f.stat().st_size > 1000 for f in figs)
    s = pd.read_csv(src / "summary.csv").assign(failed_test_runs=[5, 0, 1],
                                               extra_seed_share=[0.12, 0.0, 0.2])
    s.to_csv(src / "summary.csv", index=False)  # issue 19's columns: failures, extra seeds
    ret, curve = tables()
    acrobot = next(ln for ln in ret.splitlines() if ln.startswith("Acrobot"))
    assert "failed" in ret and acrobot.endswith("& 5 & 12\\% \\\\")
    s = s.assign(test_auc_mean=[np.nan, 412.25, np.nan], test_auc_ci_low=[np.nan, 400.0, np.nan],
                 test_auc_ci_high=[np.nan, 430.5, np.nan])
    s.to_csv(src / "summary.csv", index=False)  # CartPole tuned on the area under the curve
    ret, curve = tables()
    assert "AUC" not in ret
    rows = [ln for ln in curve.splitlines() if " & " in ln]
    assert "test AUC [95\\% CI]" in rows[0] and "412 [400, 430]" in rows[1]
    assert rows[2].startswith(" & hyperpilot & -- &")  # a method not tuned on the AUC
    (src / "summary.csv").write_text(pd.read_csv(src / "summary.csv").iloc[:1].to_csv(index=False))
    assert tables()[1].startswith("%")  # Acrobot alone: no curve table, a comment


def test_cli_list_and_unknown_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--root", str(ROOT)]) == 0
    assert "headline" in capsys.readouterr().out
    assert main(["reproduce", "--root", str(ROOT), "--only", "nope", "--no-run"]) == 2


@pytest.mark.slow
def test_smoke_paper_builds(tmp_path: Path) -> None:
    """``bash paper/build.sh``: smoke reproduce + pdflatex/bibtex (minutes; needs TeX Live)."""
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    subprocess.run(["bash", str(ROOT / "paper" / "build.sh")], check=True, cwd=ROOT)
    assert (ROOT / "paper" / "build" / "main.pdf").stat().st_size > 10_000


def test_no_run_compacts_a_partial_grid_keeping_complete_seeds(tmp_path: Path) -> None:
    p = _paths(tmp_path, "a")
    reproduce(p, "smoke")
    d = p.out / "smoke" / "tiny"
    (d / "compact").rename(tmp_path / "old_compact")
    (d / "cells" / "hyperband__branin__s1.parquet").unlink()  # a grid stopped part-way
    src = reproduce(p, "smoke", run=False)
    cells = pd.read_csv(src[0].path / "cells.csv")
    assert sorted(zip(cells["method"], cells["seed"], strict=True)) == [("hyperband", 0), ("random", 0)]
    assert "Median over 1 seed of" in (p.paper / "tables" / "headline_final.tex").read_text()


def test_merge_adds_a_later_piece_of_seeds_to_the_reference(tmp_path: Path) -> None:
    from hyperpilot.bench.grid import BenchConfig, run_bench
    from hyperpilot.bench.report import make_report
    from hyperpilot.paper.compact import MergeError, load_incumbents

    p = _paths(tmp_path, "a")
    reproduce(p, "smoke", export=True)  # seeds 0, 1 -> the reference
    ref = p.reference / "smoke" / "tiny"
    before = pd.read_csv(ref / "cells.csv")
    (ref / "budget.csv").unlink()  # as in a reference compacted before the file existed
    piece = Paths(ROOT, p.experiments, tmp_path / "b", p.reference, tmp_path / "paper_b")
    run_bench(BenchConfig(methods=["random", "hyperband"], benchmarks=["branin"], seeds=[2],
                          budget=2, out=str(piece.out / "smoke" / "tiny"), workers=1))
    src = reproduce(piece, "smoke", merge=True)
    assert src[0].origin == "reference" and src[0].path == ref
    cells = pd.read_csv(ref / "cells.csv")
    assert sorted(set(zip(cells["method"], cells["seed"], strict=True))) == [
        (m, s) for m in ("hyperband", "random") for s in (0, 1, 2)]
    pd.testing.assert_frame_equal(cells[cells["seed"] < 2].reset_index(drop=True),
                                  before.sort_values(["method", "benchmark", "seed"])
                                  .reset_index(drop=True), check_dtype=False)
    meta = json.loads((ref / "meta.json").read_text())
    assert [x["seeds"] for x in meta["pieces"]] == [[0, 1], [2]] and meta["seeds"] == [0, 1, 2]
    assert "Median over 3 seeds of" in (piece.paper / "tables" / "headline_final.tex").read_text()
    assert set(pd.read_csv(ref / "false_stops.csv")["seed"]) == {0, 1, 2}
    assert set(pd.read_csv(ref / "budget.csv")["seed"]) == {2}
    summary = (make_report(ref, html=False, figures=False) / "summary.md").read_text()
    assert "6 cells; 2 methods; seeds per benchmark 3-3" in summary
    assert "by early stopping (only the 2 of 6 cells that carry it: seeds 2 of 0, 1, 2)" in summary
    # the merged pieces equal one run of seeds 0, 1, 2 (timing columns aside)
    pc = _paths(tmp_path, "c")
    (pc.experiments / "tiny.yaml").write_text(TINY.replace("seeds: 2", "seeds: 3"))
    whole = reproduce(pc, "smoke")[0].path
    pd.testing.assert_frame_equal(load_incumbents(ref), load_incumbents(whole))
    # a piece of another experiment (here: another budget) is refused
    other = Paths(ROOT, p.experiments, tmp_path / "d", p.reference, tmp_path / "paper_d")
    run_bench(BenchConfig(methods=["random", "hyperband"], benchmarks=["branin"], seeds=[3],
                          budget=3, out=str(other.out / "smoke" / "tiny"), workers=1))
    with pytest.raises(MergeError, match="budget"):
        reproduce(other, "smoke", merge=True)


def test_surrogate_quality_artifacts_read_old_and_new_results(tmp_path: Path) -> None:
    """Results with registered names, ``status`` and ``top10_*`` columns, and the committed
    ones from before (class names in ``model``, no ``status``), give the table and figure."""
    e = load_experiments(ROOT / "paper" / "experiments", "full", only=["surrogate_quality"])[0]
    metrics = {"rmse": 0.3, "nll": 0.5, "cov90": 0.9, "spearman": 0.8, "fit_s": 1.0}
    old = pd.DataFrame([{"task": "hartmann6", "model": m, "n": n, "seed": 0, "fit_warnings": 0,
                         **metrics} for m in ("DeepEnsemble", "GP") for n in (30, 60)])
    new = pd.DataFrame([{"task": "hartmann6", "surrogate": s, "n": n, "seed": seed,
                         "status": "skipped" if s == "gp" and n == 60 else "ok", "note": "",
                         **metrics, **{f"top10_{k}": v + seed for k, v in metrics.items()}}
                        for s in ("ensemble", "gp") for n in (30, 60) for seed in (0, 1, 2)])
    new.loc[new["status"] == "skipped", "note"] = "skipped: exact GP at n > --max-gp-n 30"
    for label, df in (("old", old), ("new", new)):
        src = tmp_path / label
        src.mkdir()
        df.to_csv(src / "result.csv.gz", index=False)
        out = artifacts.build(e, src, tmp_path / f"paper_{label}")
        assert {p.suffix for p in out} == {".pdf", ".png", ".tex"}
    old_tex = (tmp_path / "paper_old" / "tables" / "surrogate_quality.tex").read_text()
    assert "hartmann6 & 30 & ensemble & 0.3" in old_tex and "top10" not in old_tex
    assert "Not in the table" not in old_tex
    tex = (tmp_path / "paper_new" / "tables" / "surrogate_quality.tex").read_text()
    assert "top10\\_nll" in tex and "median over 3 seed(s)" in tex
    assert "hartmann6 & 30 & gp & 0.3 & 0.5 & 0.9 & 0.8 & 1.3 & 1.5 & 1.9 & 1.8 & 1" in tex
    assert "hartmann6 & 60 & gp &" not in tex
    assert "Not in the table: \\texttt{gp} at n = 60 (skipped: exact GP at n > -{}-max-gp-n 30)" in tex
