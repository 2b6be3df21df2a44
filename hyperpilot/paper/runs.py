"""Run experiments (bench grids and measurement scripts) and find their compact results.

Layout: ``<out>/<scale>/<name>/`` holds a run (bench: the runner's resumable ``cells/``; script:
``result.csv``, ``log.txt``, ``meta.json``) and its compact files under ``compact/``;
``runs/reference/<scale>/<name>/`` holds committed compact files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from hyperpilot.paper import compact
from hyperpilot.paper.experiments import Experiment


def run_dir(out: Path, e: Experiment) -> Path:
    return out / e.scale / e.name


def reference_dir(reference: Path, e: Experiment) -> Path:
    return reference / e.scale / e.name


def run_experiment(e: Experiment, out: Path, root: Path, data_dir: str | None,
                   progress: bool = False) -> Path:
    """Run what is missing of ``e`` under ``out`` and write its compact files; returns them."""
    d = run_dir(out, e)
    if e.kind == "bench":
        _run_bench(e, d, data_dir, progress)
        return compact.compact_bench(d, d / "compact")
    _run_script(e, d, root, data_dir)
    return d / "compact"


def _run_bench(e: Experiment, d: Path, data_dir: str | None, progress: bool) -> None:
    from hyperpilot.bench.__main__ import check_methods
    from hyperpilot.bench.grid import BenchConfig, run_bench
    from hyperpilot.bench.targets import expand_benchmarks

    methods = e.bench_methods()
    check_methods(methods)
    cfg = BenchConfig(methods=methods, benchmarks=expand_benchmarks(e.benchmarks), seeds=e.seeds,
                      budget=e.budget, out=str(d), workers=e.workers, batch_size=e.batch_size,
                      data_dir=data_dir)
    meta = run_bench(cfg, progress=progress)
    failed = meta["runs"][-1]["failed"]
    if failed:
        raise RuntimeError(f"experiment {e.name}: {failed} cell(s) failed; see {d}/cells/*.error.json")


def _run_script(e: Experiment, d: Path, root: Path, data_dir: str | None) -> None:
    """Run ``e.script`` once (skipped when ``result.csv`` exists); compact = result + meta."""
    res = d / "result.csv"
    d.mkdir(parents=True, exist_ok=True)
    if not res.exists():
        cmd = [sys.executable, str(root / e.script), *e.args]
        if e.result == "csv":
            cmd += ["--out", str(res.resolve())]
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
        if data_dir:
            env["HYPERPILOT_DATA"] = data_dir
        t0 = time.time()
        p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
        (d / "log.txt").write_text(f"$ {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
        if p.returncode != 0:
            raise RuntimeError(f"experiment {e.name}: {e.script} exited {p.returncode}; "
                               f"see {d / 'log.txt'}")
        if e.result == "stdout":
            parse_whitespace_table(p.stdout, e.columns).to_csv(res, index=False)
        _script_meta(e, d, cmd, t0, time.time())
    dest = d / "compact"
    compact.write_csv(pd.read_csv(res), dest / "result.csv.gz")
    summary = res.with_name("result_summary.csv")
    if summary.exists():
        compact.write_csv(pd.read_csv(summary), dest / "summary.csv")
    shutil.copyfile(d / "meta.json", dest / "meta.json")


def _script_meta(e: Experiment, d: Path, cmd: list[str], start: float, end: float) -> None:
    import platform

    from hyperpilot.bench.meta import versions
    from hyperpilot.storage import environment_info

    env = environment_info()
    meta = {"versions": versions(), "git_commit": env.get("git_commit"), "python": env.get("python"),
            "machine": {"platform": platform.platform(), "machine": platform.machine(),
                        "cpu_count": os.cpu_count(),
                        "omp_num_threads": "1"},
            "command": [Path(c).name if i == 0 else c for i, c in enumerate(cmd)],
            "runs": [{"start": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start)),
                      "end": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(end)),
                      "wall_s": round(end - start, 2)}]}
    (d / "meta.json").write_text(json.dumps(meta, indent=2))


def parse_whitespace_table(text: str, columns: list[str]) -> pd.DataFrame:
    """The trailing rows of ``len(columns)`` whitespace-separated fields printed by a script."""
    lines = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
    start = len(lines)
    while start > 0 and len(lines[start - 1]) == len(columns):
        start -= 1
    if start == len(lines):
        raise ValueError(f"no rows of {len(columns)} fields in the script's output")
    df = pd.DataFrame(lines[start:], columns=columns)
    for c in df.columns:
        try:
            df[c] = pd.to_numeric(df[c])
        except ValueError:
            continue
    return df


def export_reference(src: Path, dest: Path) -> Path:
    """Copy compact files ``src`` to ``dest`` (replacing it); returns ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    return dest
