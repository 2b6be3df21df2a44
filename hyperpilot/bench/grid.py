"""Run the grid method x benchmark x seed; one file per finished cell, so a rerun skips it.

Layout under ``out``::

    config.json            the command's settings
    meta.json              versions, git commit, machine, seeds, start/end times, cell summaries
    cells/<cell>.parquet   one finished cell (written atomically: tmp file + rename)
    cells/<cell>.error.json  a cell that raised (retried on the next run)
    studies/<cell>.sqlite  our methods' study DB: a killed cell resumes via Study's replay
    work/<cell>/           peers' own files and objective checkpoints
    trials.parquet         all cells, concatenated (``trials.csv`` without pyarrow)

Seeds: bench seed ``s`` is the study seed of our methods and the seed of each peer, and the
benchmark's noise seed. These are tuning seeds; any held-out test seeds (e.g. RL retraining) are
a separate, disjoint set chosen by the evaluation, never by this runner.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hyperpilot.bench.records import finish_table, rows_from_results
from hyperpilot.selection import ModelContext


class BenchError(ValueError):
    """A bench request that cannot be honoured: bad settings, or a folder that holds results
    of other settings. ``bench`` prints it as one line and exits with code 2."""


@dataclass(frozen=True)
class BenchConfig:
    """What ``bench run`` was asked to do (saved as ``config.json``).

    Raises:
        BenchError: for settings a grid cannot honour: no methods, benchmarks or seeds, a
            negative seed, a budget that is not a finite number > 0, fewer than one worker, or
            a batch size below 1.
    """

    methods: list[str]
    benchmarks: list[str]  # expanded (suites replaced by their members)
    seeds: list[int]
    budget: float  # FFE per cell
    out: str
    workers: int = 1  # cells run in parallel
    batch_size: int | None = None  # q for our methods (synchronous batches)
    data_dir: str | None = None
    imports: list[str] = field(default_factory=list)  # modules that register benchmarks/methods

    def __post_init__(self) -> None:
        for name in ("methods", "benchmarks"):
            if not getattr(self, name):
                raise BenchError(f"no {name} given")
        if not self.seeds:
            raise BenchError("--seeds selects no seed: give a count >= 1 (N: seeds 0..N-1), a "
                             "comma list, or a range a-b with a <= b")
        if min(self.seeds) < 0:
            raise BenchError(f"seeds must be >= 0, got {min(self.seeds)}")
        if not (isinstance(self.budget, (int, float)) and math.isfinite(self.budget)
                and self.budget > 0):
            raise BenchError(f"--budget must be a finite number > 0 (FFE per cell), got "
                             f"{self.budget!r}")
        if self.workers < 1:
            raise BenchError(f"--workers must be >= 1, got {self.workers}")
        if self.batch_size is not None and self.batch_size < 1:
            raise BenchError(f"--batch-size must be >= 1, got {self.batch_size}")


SAME_CONFIG = ("methods", "benchmarks", "budget", "batch_size", "imports")
"""Settings that must agree for results to share one bench folder (or be merged as pieces of
one grid, ``paper.compact.merge_bench``): a cell's file name holds its method, benchmark and
seed, not these, so a rerun with another budget would take the old cells as finished. Seeds,
workers, the folder and the data directory may differ (a grid is run in pieces of seeds)."""


def config_diff(old: dict[str, Any], new: dict[str, Any],
                keys: tuple[str, ...] = SAME_CONFIG) -> list[str]:
    """The settings of ``keys`` that differ, as ``"budget 3 -> 1"`` (old -> new)."""
    return [f"{k} {_short(old.get(k))} -> {_short(new.get(k))}" for k in keys
            if old.get(k) != new.get(k)]


def _short(v: Any) -> str:
    if isinstance(v, list):
        return ",".join(map(str, v)) if v else "[]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def check_folder(cfg: BenchConfig) -> list[int]:
    """Refuse to run ``cfg`` into a folder that holds results of other settings.

    Returns:
        The seeds of the folder's earlier runs (the grid grows by seeds; ``config.json`` keeps
        them all).

    Raises:
        BenchError: naming the differing settings (``config_diff``).
    """
    p = Path(cfg.out) / "config.json"
    if not p.exists():
        return []
    old = json.loads(p.read_text())
    diff = config_diff(old, asdict(cfg))
    if diff:
        raise BenchError(f"{cfg.out} holds results run with other settings ({'; '.join(diff)}); "
                         "rerun with the folder's settings or choose a new --out")
    return [int(s) for s in old.get("seeds", [])]


def file_safe(text: str) -> str:
    """``text`` as a cell's file name spells it: ``@`` is kept (``hyperpilot@gp``), other odd
    characters -> ``-`` (``hyperpilot:full`` -> ``hyperpilot-full``)."""
    return re.sub(r"[^A-Za-z0-9_.@-]+", "-", text)


@dataclass(frozen=True)
class Cell:
    method: str
    benchmark: str
    seed: int

    @property
    def key(self) -> str:
        """The cell's file name (:func:`file_safe`)."""
        return file_safe(f"{self.method}__{self.benchmark}__s{self.seed}")


def cells(cfg: BenchConfig) -> list[Cell]:
    """The grid, seed-major: every method x benchmark of seed 0, then of seed 1, ...

    A run stopped part-way thus leaves complete seeds (all methods on all benchmarks), which
    the report can compare (``--complete``), rather than some methods with every seed.
    """
    return [Cell(m, b, s) for s in cfg.seeds for b in cfg.benchmarks for m in cfg.methods]


def cell_path(out: Path, cell: Cell) -> Path:
    return out / "cells" / f"{cell.key}.parquet"


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` atomically as parquet (CSV beside it when pyarrow is missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        path = path.with_suffix(".csv")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if path.suffix == ".csv":
        df.to_csv(tmp, index=False)
    else:
        df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def done_cells(out: Path) -> set[str]:
    """Keys of the cells that have a table under ``out/cells``."""
    d = out / "cells"
    if not d.is_dir():
        return set()
    return {p.stem for p in d.glob("*.parquet")} | {p.stem for p in d.glob("*.csv")}


def run_cell(cfg: BenchConfig, cell: Cell) -> dict[str, Any]:
    """Run one cell to ``cfg.budget`` FFE and write its table; returns a summary."""
    import torch

    torch.set_num_threads(1)
    from hyperpilot.bench.peers import PEERS, PeerEvaluator, make_peer
    from hyperpilot.bench.targets import bench_problem

    out, t0 = Path(cfg.out), time.time()
    problem = bench_problem(cell.benchmark, cfg.data_dir, cell.seed)
    work = out / "work" / cell.key
    work.mkdir(parents=True, exist_ok=True)
    if cell.method in PEERS:
        ev = PeerEvaluator(problem, cell.seed, cfg.budget, work)
        make_peer(cell.method).run(ev)
        rows, fallbacks = ev.rows, 0
    else:
        from hyperpilot.study import Direction, Study

        db = out / "studies" / f"{cell.key}.sqlite"
        db.parent.mkdir(parents=True, exist_ok=True)
        direction: Direction = "maximize" if problem.direction == "maximize" else "minimize"
        from hyperpilot.related import method_related_options

        study = Study(problem.space, problem.fidelity, cell.method, direction,
                      cell.seed, storage=db, name=cell.key,
                      method_options=method_related_options(cell.method, cell.benchmark,
                                                            cfg.data_dir) or None)
        study.run(problem.objective, budget=cfg.budget, batch_size=cfg.batch_size)
        rows = rows_from_results(study.results, direction, study.method.incumbent_rule,
                                 problem.fidelity.max,
                                 ModelContext(problem.space, problem.fidelity, cell.seed))
        fallbacks = sum(bool(r["fallback"]) for r in rows)
        study.storage.close()
    df = finish_table(rows, cell.method, cell.benchmark, cell.seed, problem.direction,
                      problem.fidelity.max, problem.optimum)
    write_table(df, cell_path(out, cell))
    err = out / "cells" / f"{cell.key}.error.json"
    err.unlink(missing_ok=True)
    return {"cell": cell.key, "trials": len(df), "ffe": float(df["ffe"].iloc[-1]) if len(df) else 0.0,
            "fallbacks": fallbacks, "wall_s": time.time() - t0}


def _safe_run_cell(cfg: BenchConfig, cell: Cell) -> dict[str, Any]:
    """``run_cell`` that records an error file instead of stopping the grid."""
    from hyperpilot.executor import quiet_optimizer_warnings

    quiet_optimizer_warnings()  # a spawned worker does not inherit the parent's filters
    for mod in cfg.imports:
        __import__(mod)
    try:
        return run_cell(cfg, cell)
    except Exception as e:  # noqa: BLE001 - one broken cell must not stop the grid; recorded
        info = {"cell": cell.key, "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc()}
        p = Path(cfg.out) / "cells" / f"{cell.key}.error.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(info, indent=2))
        return info


def collect(out: Path) -> pd.DataFrame:
    """All finished cells as one table (and write ``trials.parquet``)."""
    files = sorted((out / "cells").glob("*.parquet")) + sorted((out / "cells").glob("*.csv"))
    frames = [read_table(p) for p in files]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(df):
        write_table(df, out / "trials.parquet")
    return df


def rebuild_cells(out: Path) -> int:
    """Recompute our methods' finished cell tables from their study databases.

    For results recorded before a fix to ``hyperpilot.bench.records`` (for example the ``spent``
    column): the study database holds every result with its curve, so nothing is re-run. Peers'
    cells (no database) are left as they are. Returns the number of cells rewritten.
    """
    from hyperpilot.bench.peers import PEERS
    from hyperpilot.bench.targets import bench_problem
    from hyperpilot.selection import rule_of
    from hyperpilot.storage import Storage

    cfg = BenchConfig(**json.loads((out / "config.json").read_text()))
    n = 0
    for cell in cells(cfg):
        db, path = out / "studies" / f"{cell.key}.sqlite", cell_path(out, cell)
        if cell.method in PEERS or not db.exists() or not path.exists():
            continue
        store = Storage(db)
        try:
            study = next(s for s in store.studies() if s["name"] == cell.key)
            told = [r for r in store.load_trials(study["study_id"])
                    if r.result is not None and r.tell_seq]
        finally:
            store.close()
        results = [r.result for r in sorted(told, key=lambda r: r.tell_seq or 0)]
        problem = bench_problem(cell.benchmark, cfg.data_dir, cell.seed)
        rule = rule_of(study["definition"])
        rows = rows_from_results(results, problem.direction, rule,  # type: ignore[arg-type]
                                 problem.fidelity.max,
                                 ModelContext.needed(rule, study["definition"], study["seed"]))
        df = finish_table(rows, cell.method, cell.benchmark,
                          cell.seed, problem.direction, problem.fidelity.max, problem.optimum)
        write_table(df, path)
        n += 1
    collect(out)
    return n


def check_problems(cfg: BenchConfig) -> dict[str, dict[str, Any]]:
    """Build each registered benchmark once before any cell runs, so an unknown task or a
    missing data directory is one error now, not a failed cell per seed (workloads, which take
    seconds to build, are checked by name in ``targets.expand_benchmarks``). This also computes
    a missing LCBench optimum estimate once, before parallel cells would each want it.

    Returns:
        Per benchmark, the ``optimum`` its regrets are computed against and how it was obtained
        (``note``), for ``meta.json``.

    Raises:
        BenchError: with the benchmark's own message.
    """
    from hyperpilot.bench.targets import bench_problem, is_workload

    for mod in cfg.imports:  # modules that register benchmarks
        __import__(mod)
    optima = {}
    for b in cfg.benchmarks:
        if is_workload(b):
            continue
        try:
            problem = bench_problem(b, cfg.data_dir, 0)
        except (KeyError, ValueError, FileNotFoundError) as e:
            msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
            raise BenchError(f"benchmark {b!r}: {msg}") from None
        optima[b] = {"optimum": problem.optimum, "note": problem.optimum_note}
        _check_resumable(cfg, b, problem.objective)
    return optima


def _check_resumable(cfg: BenchConfig, benchmark: str, objective: Any) -> None:
    """Population-based methods continue other trials' checkpoints: refuse them up front on a
    benchmark whose objective cannot resume (the cell would fail with the same reason)."""
    from hyperpilot.methods import POPULATION_METHODS
    from hyperpilot.runner import resumes_from_checkpoints

    pop = [m for m in cfg.methods if m.partition("@")[0].partition(":")[0] in POPULATION_METHODS]
    if pop and not resumes_from_checkpoints(objective):
        raise BenchError(f"{', '.join(pop)} continue(s) trials from other trials' checkpoints, "
                         f"and benchmark {benchmark!r} does not resume from a checkpoint; use "
                         "schedule-toy, supervised:<dataset> or sb3:<algo>:<env>")


def budget_summary(meta: dict[str, Any], budget: float) -> str:
    """The FFE the folder's cells used against the budget (``overview.budget_range_text``)."""
    from hyperpilot.overview import budget_range_text

    used = [float(c["ffe"]) for c in meta.get("cells", {}).values() if "ffe" in c]
    return budget_range_text(used, budget) if used else "no finished cell"


def run_bench(cfg: BenchConfig, progress: bool = True) -> dict[str, Any]:
    """Run every unfinished cell (``cfg.workers`` in parallel); returns the run's summary.

    Raises:
        LockedError: when another process is running a bench into the same folder.
        BenchError: for a benchmark that cannot be built (``check_problems``), or when the
            folder holds results of other settings (``check_folder``).
    """
    from hyperpilot.locking import hold_folder_lock

    optima = check_problems(cfg)
    out = Path(cfg.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = hold_folder_lock(out, f"bench folder {out}")  # two runners would race cells
    except OSError as e:  # a read-only place, a full disk
        raise BenchError(f"cannot write the bench folder {out} ({e.strerror or e}); choose a "
                         "writable --out") from None
    try:
        seeds = sorted(set(check_folder(cfg)) | set(cfg.seeds))
        (out / "config.json").write_text(json.dumps({**asdict(cfg), "seeds": seeds}, indent=2))
        return _run_todo(cfg, out, progress, optima)
    finally:
        if lock is not None:
            lock.close()


def _run_todo(cfg: BenchConfig, out: Path, progress: bool,
              optima: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run the cells of ``cfg`` that ``out`` lacks; returns the merged ``meta.json``."""
    from hyperpilot.bench.meta import write_meta

    start = time.time()
    finished = done_cells(out)
    todo = [c for c in cells(cfg) if c.key not in finished]
    skipped = len(cells(cfg)) - len(todo)

    def done(res: list[dict[str, Any]]) -> None:  # metadata survives a run stopped part-way
        write_meta(out, cfg, start, time.time(), res, skipped=skipped, finished=False,
                   optima=optima)

    summaries = _execute(cfg, todo, progress, skipped=skipped, on_cell=done)
    collect(out)
    return write_meta(out, cfg, start, time.time(), summaries, skipped=skipped, optima=optima)


def _execute(cfg: BenchConfig, todo: list[Cell], progress: bool, skipped: int,
             on_cell: Callable[[list[dict[str, Any]]], None] | None = None) -> list[dict[str, Any]]:
    """Run ``todo``; ``on_cell(summaries so far)`` after each finished cell."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), unit="cell", disable=not progress, dynamic_ncols=True,
               desc=f"bench ({skipped} done before)")
    res: list[dict[str, Any]] = []
    try:
        if cfg.workers <= 1:
            for c in todo:
                bar.set_postfix_str(c.key)
                res.append(_safe_run_cell(cfg, c))
                bar.update()
                if on_cell:
                    on_cell(res)
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            from hyperpilot.executor import exit_with_parent

            # a killed bench takes its cells down with it (each resumes from its study)
            with ProcessPoolExecutor(cfg.workers, mp_context=mp.get_context("spawn"),
                                     initializer=exit_with_parent,
                                     initargs=(os.getpid(),)) as pool:
                futs = [pool.submit(_safe_run_cell, cfg, c) for c in todo]
                for f in as_completed(futs):
                    res.append(f.result())
                    bar.update()
                    if on_cell:
                        on_cell(res)
    finally:
        bar.close()
    return res
