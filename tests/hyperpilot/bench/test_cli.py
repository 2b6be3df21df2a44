"""``python -m hyperpilot.bench run`` and ``report`` end to end, in a subprocess, tiny budget;
and the HTML report rendered by headless Chromium (skipped when /usr/bin/chromium is absent)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyperpilot.bench.records import COLUMNS

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]


def capsys_text(fn, args: list[str]) -> str:  # type: ignore[no-untyped-def]
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert fn(args) == 0
    return buf.getvalue()


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "hyperpilot.bench", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "smoke"
    args = ["run", "--methods", "random,hyperband", "--benchmarks", "branin", "--seeds", "2",
            "--budget", "2", "--out", str(out), "--quiet"]
    first = _bench(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "4 cells run, 0 skipped" in first.stdout
    from hyperpilot.bench.__main__ import main  # the resume check runs in-process (imports cost)

    assert "0 cells run, 4 skipped" in capsys_text(main, args)
    rep = _bench("report", str(out))
    assert rep.returncode == 0, rep.stderr[-2000:]
    return out


def test_run_writes_a_tidy_table(bench_out: Path) -> None:
    for f in ("config.json", "meta.json", "trials.parquet"):
        assert (bench_out / f).exists(), f
    assert len(list((bench_out / "cells").glob("*.parquet"))) == 4
    assert len(list((bench_out / "studies").glob("*.sqlite"))) == 4
    df = pd.read_parquet(bench_out / "trials.parquet")
    assert list(df.columns) == COLUMNS
    assert set(df["method"]) == {"random", "hyperband"} and set(df["seed"]) == {0, 1}
    for _, c in df.groupby(["method", "seed"]):
        assert c["ffe"].is_monotonic_increasing and c["ffe"].iloc[-1] >= 2.0
        reg = c["regret"].to_numpy()
        first = int(np.argmax(~np.isnan(reg))) if (~np.isnan(reg)).any() else len(reg)
        assert not np.isnan(reg[first:]).any()  # once there is an incumbent, it stays
        assert (reg[first:] >= -1e-6).all() and (np.diff(reg[first:]) <= 0).all()
    assert (df["overhead_s"] >= 0).all() and (df["wall_s"] >= 0).all()
    assert set(df["source"]) <= {"random", "promotion", "model", "fallback", ""}


def test_report_files(bench_out: Path) -> None:
    rep = bench_out / "report"
    for f in ("summary.md", "report.html", "curves.csv", "tables/mean_rank.tex",
              "tables/final_regret_at_2ffe.tex", "tables/speedup.csv", "tables/overhead.md",
              "figures/regret_median.png", "figures/regret_iqm.pdf", "figures/mean_rank.png"):
        assert (rep / f).exists(), f
    html = (rep / "report.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=", html), "plotly.js must be inlined, not loaded"
    assert len(html) > 1_000_000  # plotly.js itself is inside
    assert html.count("Plotly.newPlot") >= 5
    # issue 20: a summary first, the speed-up chart, log regret axes, readable table headings
    assert html.index('<div class="summary">') < html.index("Plotly.newPlot")
    assert "<h2>Speed-up</h2>" in html and "median regret (log)" in html
    assert "final_regret_at" not in html.replace('id="final_regret_at', "") and "- [-, -]" not in html
    summary = (rep / "summary.md").read_text()
    assert "## Summary" in summary and "FFE used per cell" in summary


def _chromium(tmp_path: Path, url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    base = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900",
            "--virtual-time-budget=8000"]
    return subprocess.run(base + list(flags) + [url], capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_html_renders_in_headless_chromium(bench_out: Path, tmp_path: Path) -> None:
    url = (bench_out / "report" / "report.html").resolve().as_uri()
    png = tmp_path / "shot.png"
    _chromium(tmp_path, url, f"--screenshot={png}")
    dom = _chromium(tmp_path, url, "--dump-dom")
    assert dom.stdout.count('class="main-svg"') >= 2, "plotly did not draw its SVGs"
    from PIL import Image

    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert img.std() > 10, "the page looks blank"
    values, counts = np.unique(img.round(), return_counts=True)
    assert counts.max() / img.size < 0.97, "the page is almost one colour"


def visible_points(chart_dom: str) -> dict[str, int]:
    """Per trace uid of one rendered plotly chart, its markers drawn inside the plot area."""
    area = re.search(r'class="nsewdrag drag[^>]*width="([\d.]+)" height="([\d.]+)"', chart_dom)
    assert area, "no plot area"
    w, h = float(area.group(1)), float(area.group(2))
    out: dict[str, int] = {}
    for part in re.split(r'(?=<g class="trace scatter trace)', chart_dom)[1:]:
        head = re.match(r'<g class="trace scatter trace([^"]*)" style="([^"]*)"', part)
        assert head
        if "opacity: 0;" in head.group(2):
            continue
        pts = re.findall(r'class="point[^"]*" transform="translate\(([-\d.]+),([-\d.]+)\)"'
                         r'[^>]*style="([^"]*)"', part.split("<g class=\"trace")[1])
        out[head.group(1)] = sum(0 <= float(x) <= w and 0 <= float(y) <= h
                                 and "opacity: 0;" not in st and "fill-opacity: 0;" not in st
                                 for x, y, st in pts)
    return out


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_every_method_is_visible_in_every_regret_chart(bench_out: Path, tmp_path: Path) -> None:
    """Issue 20: Hyperband, with a full-budget result only at the end (or on some seeds only),
    was a one-point line without a marker: invisible. Rendered by Chromium, every method must
    have drawn markers inside the plot area of every regret chart."""
    from hyperpilot.bench.html import slug

    methods = sorted(pd.read_parquet(bench_out / "trials.parquet")["method"].unique())
    dom = _chromium(tmp_path, (bench_out / "report" / "report.html").resolve().as_uri(),
                    "--dump-dom").stdout
    charts = re.split(r'(?=<div id="chart-\d+")', dom)[1:]
    regret = [c for c in charts if 'class="trace scatter traceregret-' in c]
    assert len(regret) == 2 * 1  # median and IQM on the one benchmark
    for chart in regret:
        drawn = visible_points(chart)
        for m in methods:
            mine = {u: n for u, n in drawn.items() if u.split("--")[1] == slug(m)
                    and not u.endswith("--band")}
            assert sum(mine.values()) > 0, f"{m} is not visible: {mine} (all: {drawn})"
    assert "log" in dom and "Summary" in dom


def test_rebuild_reproduces_cells_from_the_study_databases(bench_out: Path) -> None:
    from hyperpilot.bench.grid import rebuild_cells

    before = pd.read_parquet(bench_out / "trials.parquet")
    assert rebuild_cells(bench_out) == 4
    after = pd.read_parquet(bench_out / "trials.parquet")
    cols = [c for c in COLUMNS if c not in ("overhead_s", "wall_s", "elapsed_s")]
    pd.testing.assert_frame_equal(before[cols], after[cols])
    assert np.allclose(before["overhead_s"], after["overhead_s"])


def test_a_second_runner_on_a_live_bench_folder_is_refused(bench_out: Path) -> None:
    from hyperpilot.locking import hold_folder_lock

    held = hold_folder_lock(bench_out, "test")  # this process plays the live runner
    (bench_out / "run.lock").unlink()  # deleting the pid note does not release the folder
    try:
        r = _bench("run", "--methods", "random", "--benchmarks", "branin", "--seeds", "1",
                   "--budget", "2", "--out", str(bench_out), "--quiet")
        assert r.returncode == 2
        assert "being run by another process" in r.stderr
    finally:
        assert held is not None
        held.close()


def test_the_folder_lock_names_its_holder_and_is_released_on_close(tmp_path: Path) -> None:
    from hyperpilot.locking import LockedError, hold_folder_lock

    held = hold_folder_lock(tmp_path, "test")
    assert held is not None
    assert (tmp_path / "run.lock").read_text() == str(os.getpid())
    with pytest.raises(LockedError, match=f"pid {os.getpid()}"):
        hold_folder_lock(tmp_path, "test")  # another open file: refused, in-process too
    held.close()
    again = hold_folder_lock(tmp_path, "test")
    assert again is not None
    again.close()


def test_meta_has_one_entry_per_run_and_every_cell(bench_out: Path) -> None:
    import json

    meta = json.loads((bench_out / "meta.json").read_text())
    assert [r["finished"] for r in meta["runs"]] == [True, True]  # first run, then the resume
    assert [r["ran"] for r in meta["runs"]] == [4, 0]
    assert len(meta["cells"]) == 4
    cpu = meta["machine"]["cpu"]  # float paths depend on the CPU: recorded per run
    assert cpu["torch_capability"] in ("DEFAULT", "AVX2", "AVX512", "ZVECTOR", "VSX", "SVE256")


def test_meta_keeps_two_runs_that_start_within_one_second(tmp_path: Path) -> None:
    """Runs are told apart by a sub-second id, not the printed start (CI resumes fast)."""
    from hyperpilot.bench.grid import BenchConfig
    from hyperpilot.bench.meta import write_meta

    cfg = BenchConfig(methods=["random"], benchmarks=["branin"], seeds=[0], budget=1.0,
                      out=str(tmp_path))
    write_meta(tmp_path, cfg, 1000.1, 1000.2, [], skipped=0, finished=False)
    write_meta(tmp_path, cfg, 1000.1, 1000.3, [], skipped=0)  # same run: replaced
    meta = write_meta(tmp_path, cfg, 1000.6, 1000.7, [], skipped=1)  # a resume, same second
    assert [(r["finished"], r["skipped"]) for r in meta["runs"]] == [(True, 0), (True, 1)]
    assert meta["runs"][0]["start"] == meta["runs"][1]["start"]


def test_report_from_compact_results_matches_the_trials(bench_out: Path, tmp_path: Path) -> None:
    """A compact result (what runs/reference commits) gives the report's tables unchanged."""
    from hyperpilot.bench.report import make_report
    from hyperpilot.paper.compact import compact_bench

    src = compact_bench(bench_out, tmp_path / "compact")
    assert {"budget.csv", "false_stops.csv"} <= {p.name for p in src.iterdir()}
    rep = make_report(src, html=False)
    raw = bench_out / "report" / "tables"
    for name in ("mean_rank", "final_regret_long", "family_rank", "speedup", "fallbacks",
                 "compute_saved", "false_stops"):  # hyperband promotes and discards here
        pd.testing.assert_frame_equal(pd.read_csv(rep / "tables" / f"{name}.csv"),
                                      pd.read_csv(raw / f"{name}.csv"), obj=name)
    over = pd.read_csv(rep / "tables" / "overhead.csv").set_index("method")
    assert set(over.index) == {"random", "hyperband"} and (over["mean"] > 0).all()
    assert (rep / "figures" / "overhead.png").exists()


def test_headline_summary_script_prints_the_readme_tables(bench_out: Path) -> None:
    p = subprocess.run([sys.executable, str(REPO / "paper" / "scripts" / "headline_summary.py"),
                        str(bench_out), "--at", "0.2,0.6,2", "--pieces", "0-0", "1-1",
                        "--paired", "hyperband,random"], cwd=REPO,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 0, p.stderr[-2000:]
    ranks = pd.read_csv(bench_out / "report" / "tables" / "mean_rank.csv").set_index("method")
    line = next(x for x in p.stdout.splitlines() if x.startswith("| hyperband |"))
    assert f"{ranks.loc['hyperband', 'rank@2']:.2f}" in line
    assert "(4 benchmark-seed pairs.)" not in p.stdout and "(2 benchmark-seed pairs.)" in p.stdout
    assert "failed trials 0 of" in p.stdout
    # one seed per piece: the two pieces' mean ranks average to the whole run's
    pieces = [x for x in p.stdout.splitlines() if x.startswith("- Seeds ")]
    assert [x.split(" alone")[0] for x in pieces] == ["- Seeds 0-0", "- Seeds 1-1"]
    hb = [float(re.search(r"hyperband [\d.]+ / [\d.]+ / ([\d.]+)", x).group(1)) for x in pieces]
    assert np.isclose(np.mean(hb), ranks.loc["hyperband", "rank@2"], atol=0.006)
    # the paired line counts every benchmark-seed pair once per budget
    line = next(x for x in p.stdout.splitlines() if x.startswith("- hyperband against random"))
    counts = re.findall(r"@(\S+) (\d+)/(\d+)/(\d+) \(p = ([\d.e-]+)\)", line)
    assert [c[0] for c in counts] == ["0.2", "0.6", "2", "2"]  # the last: branin's family
    assert "branin @2" in line and all(sum(map(int, c[1:4])) == 2 for c in counts)


def test_seed_arguments_count_list_and_range() -> None:
    from hyperpilot.bench.__main__ import parse_seeds

    assert parse_seeds("3") == [0, 1, 2] and parse_seeds("0,3") == [0, 3]
    assert parse_seeds("2-2") == [2] and parse_seeds("2-4,7") == [2, 3, 4, 7]


def _bench_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from hyperpilot.bench.__main__ import main

    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("change, needle", [
    ({"--methods": "nope"}, "unknown method 'nope'"),
    ({"--benchmarks": "nope"}, "unknown benchmark or suite 'nope'"),
    ({"--benchmarks": "branin:x"}, "takes no ':<variant>'"),
    ({"--budget": "-1"}, "--budget must be a finite number > 0"),
    ({"--budget": "inf"}, "--budget must be a finite number > 0"),
    ({"--seeds": "0"}, "--seeds selects no seed"),
    ({"--seeds": "3-1"}, "--seeds selects no seed"),
    ({"--batch-size": "0"}, "--batch-size must be >= 1"),
])
def test_bench_run_refuses_bad_input_in_one_line(change: dict[str, str], needle: str,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 20: these exited 1 with a traceback, or recorded empty cells as finished."""
    flags = {"--methods": "random", "--benchmarks": "branin", "--budget": "1", "--seeds": "1",
             "--out": str(tmp_path / "b"), **change}
    code, _, err = _bench_main(["run", "--quiet", *[x for kv in flags.items() for x in kv]],
                               capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("hyperpilot.bench: error:") and needle in lines[0], err
    assert not (tmp_path / "b" / "cells").exists()


def test_bench_run_into_a_folder_of_other_settings_is_refused(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    """Issue 20's silent mixing: a second run with another budget took the old cells as
    finished and overwrote config.json. Now it is refused naming the difference; more seeds
    at the same settings extend the grid."""
    import json

    out = tmp_path / "b"
    run = ["run", "--quiet", "--methods", "random", "--benchmarks", "branin", "--out", str(out)]
    assert _bench_main([*run, "--budget", "2", "--seeds", "1"], capsys)[0] == 0
    before = (out / "config.json").read_text()
    code, _, err = _bench_main([*run, "--budget", "1", "--seeds", "1"], capsys)
    assert code == 2 and "other settings (budget 2 -> 1)" in err and "new --out" in err, err
    code, _, err = _bench_main([*run[:3], "random,hyperband", "--benchmarks", "branin",
                                "--out", str(out), "--budget", "2"], capsys)
    assert code == 2 and "methods random -> random,hyperband" in err, err
    assert (out / "config.json").read_text() == before  # untouched by a refused run
    code, stdout, _ = _bench_main([*run, "--budget", "2", "--seeds", "1-1"], capsys)
    assert code == 0 and "1 cells run, 0 skipped" in stdout
    assert json.loads((out / "config.json").read_text())["seeds"] == [0, 1]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_bench_run_filters_botorchs_optimization_failed_warning(workers: str,
                                                                tmp_path: Path) -> None:
    """Issue 20: `bench run` leaked BoTorch's warning to stderr (the hyperpilot CLI filters it);
    with 2 workers the cells run in spawned processes, which must filter it too."""
    r = _bench("run", "--methods", "warny", "--benchmarks", "branin", "--seeds", workers,
               "--budget", "1", "--workers", workers, "--quiet", "--out", str(tmp_path / "w"),
               "--imports", "tests.hyperpilot.bench.warn_plugin")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Optimization failed" not in r.stderr, r.stderr[-2000:]
