"""Notebook helpers (``hyperpilot.analysis``) and the analysis notebook, executed end to end."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from hyperpilot import analysis as A

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A Hyperband study on Branin (about a second), stored in SQLite."""
    from hyperpilot.problems import resolve_problem
    from hyperpilot.study import Study

    problem = resolve_problem(benchmark="branin")
    path = tmp_path_factory.mktemp("study") / "s.sqlite"
    study = Study(problem.space, problem.fidelity, "hyperband", "minimize", seed=0,
                  storage=path, name="tiny")
    study.run(problem.objective, budget=8)
    study.storage.close()
    return path, float(problem.optimum or 0.0)


def test_load_study_rows_ffe_and_incumbent(tiny_study: tuple[Path, float]) -> None:
    path, opt = tiny_study
    df = A.load_study(path, "tiny")
    assert len(df) > 20 and {"param_x1", "param_x2", "bracket", "curve"} <= set(df.columns)
    assert np.all(np.diff(df["ffe"]) > 0) and df["ffe"].iloc[-1] >= 8
    inc = df["incumbent_loss"].dropna()
    assert len(inc) and np.all(np.diff(inc) <= 0) and inc.min() >= opt
    # defined at every row from the first max-budget result on, not only at max-budget rows
    first = int(np.argmax((df["budget"] >= df["max_budget"]) & (df["status"] == "complete")))
    assert df["incumbent_loss"].iloc[first:].notna().all() and len(inc) == len(df) - first
    at = A.anytime(df, opt)
    assert (at["regret"].dropna() >= 0).all()
    traj = A.incumbent_trajectory(df)
    assert traj["incumbent_loss"].is_monotonic_decreasing and len(A.config_table(traj).columns) == 2
    with pytest.raises(KeyError, match="no study"):
        A.load_study(path, "other")


def test_load_study_counts_budget_as_the_study_does(tiny_study: tuple[Path, float]) -> None:
    """``ffe`` is the study's own count: stopped trials cost only what they trained."""
    from hyperpilot.storage import Storage
    from hyperpilot.study import incumbent_trace
    from hyperpilot.trial import Status

    path, _ = tiny_study
    df = A.load_study(path, "tiny")
    st = Storage(path)
    rows = [r for r in st.load_trials(st.studies()[0]["study_id"]) if r.result is not None]
    st.close()
    rows.sort(key=lambda r: r.tell_seq)
    trace = incumbent_trace([r.result for r in rows], "minimize", float(df["max_budget"].iloc[0]))
    assert np.allclose(df["ffe"], [f for f, _ in trace])
    # a trial stopped half way through its rung counts the half it trained
    r0 = rows[0].result
    stopped = dataclasses.replace(r0, status=Status.STOPPED, curve=[(r0.trial.budget / 2, 1.0)])
    row = dataclasses.replace(rows[0], result=stopped)
    assert A._record(row, "minimize")["spent"] == pytest.approx(
        r0.trial.budget / 2 - r0.trial.resume_budget)


def test_learning_curves_have_brackets(tiny_study: tuple[Path, float]) -> None:
    df = A.load_study(tiny_study[0], "tiny")
    lc = A.learning_curves(df)
    assert len(lc) >= len(df) and lc["bracket"].nunique() > 1


def test_partial_dependence_covers_each_parameter(tiny_study: tuple[Path, float]) -> None:
    path, _ = tiny_study
    df = A.load_study(path, "tiny")
    pdp = A.partial_dependence(df, A.study_space(path, "tiny"), n_grid=5, max_steps=50,
                               n_members=2)
    assert sorted(pdp["param"].unique()) == ["x1", "x2"] and len(pdp) == 10
    assert np.isfinite(pdp["loss"]).all()


def test_load_bench_reads_the_tidy_table(tmp_path: Path) -> None:
    from hyperpilot.bench.grid import BenchConfig, run_bench

    run_bench(BenchConfig(["random"], ["branin"], [0], 1.0, str(tmp_path)), progress=False)
    df = A.load_bench(tmp_path)
    assert {"method", "score", "ffe"} <= set(df.columns)
    assert set(A.anytime(df).columns) == {"method", "benchmark", "seed", "ffe", "score"}


def test_notebook_runs_end_to_end(tiny_study: tuple[Path, float], tmp_path: Path) -> None:
    """Executes notebooks/analysis.ipynb with nbclient (about 15-25 s); any cell error fails.

    The bench is the committed full headline reference (compact format): issue 20 found the
    notebook failing there with "no finished cells" while ``bench report`` read it."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "notebooks" / "analysis.ipynb", as_version=4)
    env = {"HYPERPILOT_NOTEBOOK_STUDY": str(tiny_study[0]),
           "HYPERPILOT_NOTEBOOK_STUDY_NAME": "tiny", "MPLBACKEND": "Agg",
           "HYPERPILOT_NOTEBOOK_BENCH": str(ROOT / "runs" / "reference" / "full" / "headline")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "1200 cells, 10 methods, 12 benchmarks" in text


REFERENCES = sorted(p for p in (ROOT / "runs" / "reference").glob("*/*") if p.is_dir())


@pytest.mark.parametrize("ref", REFERENCES, ids=[f"{p.parent.name}/{p.name}" for p in REFERENCES])
def test_the_notebooks_bench_cell_reads_every_committed_reference(ref: Path) -> None:
    """The notebook's bench cell, run on each committed reference result (bench results in
    the compact format, measurement scripts as their table)."""
    nbformat = pytest.importorskip("nbformat")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = nbformat.read(ROOT / "notebooks" / "analysis.ipynb", as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code"
                and "A.is_bench_result(BENCH)" in c.source)
    shown: list[object] = []
    exec(cell, {"A": A, "BENCH": str(ref), "plt": plt, "display": shown.append})  # noqa: S102
    plt.close("all")
    assert bool(shown) != A.is_bench_result(ref)  # a table for scripts, plots for benches
    if A.is_bench_result(ref):
        curves = A.bench_curves(A.load_bench(ref))
        assert curves["median_scored"].notna().any() and set(curves["method"])


def test_bench_curves_of_a_fresh_bench_folder(tmp_path: Path) -> None:
    from hyperpilot.bench.grid import BenchConfig, run_bench

    run_bench(BenchConfig(["random", "hyperband"], ["branin"], [0, 1], 2.0, str(tmp_path)),
              progress=False)
    assert A.is_bench_result(tmp_path)
    curves = A.bench_curves(A.load_bench(tmp_path), n=10)
    assert set(curves["method"]) == {"random", "hyperband"} and len(curves) == 20
    assert (curves["n_seeds"] == 2).all() and curves["median"].notna().any()
