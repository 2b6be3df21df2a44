"""``python -m hyperpilot.bench run|report|list``: side-by-side benchmarking.

Examples::

    python -m hyperpilot.bench run --methods random,hyperband,dehb --benchmarks branin,lcbench-dev \\
        --seeds 5 --budget 50 --workers 2 --out runs/bench/dev
    python -m hyperpilot.bench report runs/bench/dev
    python -m hyperpilot.bench list
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surrogates import SurrogateSpec


def _csv(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


def parse_seeds(s: str) -> list[int]:
    """``"5"`` -> seeds 0..4; ``"0,3,7"`` -> those seeds; ``"2-9"`` -> 2..9 (``"2-2"``: seed 2)."""
    parts = _csv(s)
    if len(parts) == 1 and "-" not in parts[0]:
        return list(range(int(parts[0])))
    out: list[int] = []
    for p in parts:
        lo, sep, hi = p.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if sep else [int(p)]
    return out


def _load_methods(imports: list[str]) -> None:
    """Import optional method modules (ours, landing separately) and the user's plugin modules."""
    for mod in ["hyperpilot.methods.bo", *imports]:
        if mod in imports or importlib.util.find_spec(mod) is not None:
            importlib.import_module(mod)


def check_methods(methods: list[str]) -> None:
    """Raise ``BenchError`` with the known names when a method is neither ours nor a peer.

    Our names are checked by ``hyperpilot.methods.parse_method``
    (``<method>[@<surrogate>][:<variant>]``).
    """
    from hyperpilot.bench.grid import BenchError
    from hyperpilot.bench.peers import PEERS, peer_available
    from hyperpilot.methods import UnknownMethod, parse_method

    for m in methods:
        if m in PEERS:
            if not peer_available(m):
                raise BenchError(f"peer {m!r} needs the '{PEERS[m][0]}' package "
                                 "(pip install 'hyperpilot[peers]')")
            continue
        try:
            parse_method(m)
        except UnknownMethod as e:
            raise BenchError(f"{e}; peers: {', '.join(PEERS)}") from None


def cmd_run(a: argparse.Namespace) -> int:
    from hyperpilot.bench.grid import BenchConfig, budget_summary, run_bench
    from hyperpilot.bench.targets import expand_benchmarks

    imports = _csv(a.imports) if a.imports else []
    _load_methods(imports)
    methods = _csv(a.methods)
    check_methods(methods)
    data_dir = a.data_dir or os.environ.get("HYPERPILOT_DATA") or None
    cfg = BenchConfig(methods=methods, benchmarks=expand_benchmarks(_csv(a.benchmarks)),
                      seeds=parse_seeds(a.seeds), budget=a.budget, out=a.out, workers=a.workers,
                      batch_size=a.batch_size, data_dir=data_dir, imports=imports)
    meta = run_bench(cfg, progress=not a.quiet)
    last = meta["runs"][-1]
    print(f"{last['ran']} cells run, {last['skipped']} skipped, {last['failed']} failed "
          f"in {last['wall_s']:.1f} s -> {a.out}")
    print(budget_summary(meta, cfg.budget))
    return 1 if last["failed"] else 0


def cmd_report(a: argparse.Namespace) -> int:
    from hyperpilot.bench.report import make_report

    at = [float(x) for x in _csv(a.at)] if a.at else None
    try:
        out = make_report(a.out, at=at, seed=a.seed, false_stop_cap=a.false_stop_cap,
                          html=not a.no_html, figures=not a.no_figures,
                          methods=_csv(a.methods) if a.methods else None,
                          complete=a.complete, name=a.name)
    except (FileNotFoundError, ValueError) as e:
        print(f"hyperpilot.bench: error: {e}", file=sys.stderr)
        return 2
    print(f"report -> {out}")
    return 0


def cmd_rebuild(a: argparse.Namespace) -> int:
    from pathlib import Path

    from hyperpilot.bench.grid import rebuild_cells

    out = Path(a.out)
    if not (out / "config.json").exists():
        print(f"hyperpilot.bench: error: {out} is not a bench output folder (no config.json)",
              file=sys.stderr)
        return 2
    print(f"{rebuild_cells(out)} cells rebuilt from their study databases -> {out}")
    return 0


def _describe(spec: SurrogateSpec) -> str:
    """A surrogate's description and flags, for ``list``."""
    flags = ["neural"] * spec.neural + ["takes :feed"] * spec.accepts_yvar
    return ", ".join([spec.description, *flags] if spec.description else flags)


def cmd_list(a: argparse.Namespace) -> int:
    from hyperpilot.bench.peers import PEERS, peer_available
    from hyperpilot.benchmarks import SUITES, known_names
    from hyperpilot.methods import METHODS, VARIANTS
    from surrogates import SURROGATES

    _load_methods([])
    print("ours:", ", ".join(sorted(METHODS)))
    print("surrogates (<method>@<surrogate>):", "; ".join(
        f"{name} ({_describe(spec)})" for name, spec in sorted(SURROGATES.items())))
    print("variants (<method>:<variant>):", ", ".join(v for v in VARIANTS if v))
    print("peers:", ", ".join(f"{p}{'' if peer_available(p) else ' (not installed)'}" for p in PEERS))
    print("benchmarks:", ", ".join(known_names()), "supervised:<dataset>, sb3:<algo>:<env>")
    print("suites:", ", ".join(f"{k} ({len(v)})" for k, v in SUITES.items()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from hyperpilot.executor import huge_page_malloc

    huge_page_malloc()  # for the worker processes this command starts
    p = argparse.ArgumentParser(prog="python -m hyperpilot.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the grid method x benchmark x seed (resumable)")
    r.add_argument("--methods", required=True, help="comma list: ours "
                   "(<method>[@<surrogate>][:<variant>]) and peers")
    r.add_argument("--benchmarks", required=True, help="comma list of benchmarks and suites")
    r.add_argument("--seeds", default="5", help="N (seeds 0..N-1), a comma list, or a range "
                   "a-b (a piece of a grid: 2-9, or 2-2 for seed 2 alone)")
    r.add_argument("--budget", type=float, required=True, help="full-fidelity equivalents per cell")
    r.add_argument("--workers", type=int, default=1, help="cells run in parallel (processes)")
    r.add_argument("--out", required=True, help="output folder, e.g. runs/bench/NAME")
    r.add_argument("--data-dir", default=None, help="benchmark data (else $HYPERPILOT_DATA)")
    r.add_argument("--batch-size", type=int, default=None, help="q: our methods ask in batches")
    r.add_argument("--imports", default="", help="comma list of modules that register "
                                                 "benchmarks or methods")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(fn=cmd_run)
    q = sub.add_parser("report", help="analysis, tables, figures and report.html")
    q.add_argument("out", help="a bench output folder")
    q.add_argument("--at", default=None, help="FFE budgets for the final tables (default: "
                                              "10%%, 30%%, 100%% of the budget)")
    q.add_argument("--seed", type=int, default=0, help="seed of the bootstrap generator")
    q.add_argument("--false-stop-cap", type=int, default=50,
                   help="max stopped/discarded configs re-evaluated per cell")
    q.add_argument("--methods", default=None, help="comma list: report only these methods")
    q.add_argument("--complete", action="store_true",
                   help="only (benchmark, seed) pairs that every reported method has finished "
                        "(for a grid still running)")
    q.add_argument("--name", default="report", help="report folder under OUT (default: report)")
    q.add_argument("--no-html", action="store_true")
    q.add_argument("--no-figures", action="store_true")
    q.set_defaults(fn=cmd_report)
    rb = sub.add_parser("rebuild", help="recompute our cells' tables from their study databases")
    rb.add_argument("out", help="a bench output folder")
    rb.set_defaults(fn=cmd_rebuild)
    from hyperpilot.bench.schedules import add_arguments, cmd_schedules

    sc = sub.add_parser("schedules", help="in-training controllers, fitted on training tasks and "
                                          "compared on held-out tasks (resumable)")
    add_arguments(sc)
    sc.set_defaults(fn=cmd_schedules)
    li = sub.add_parser("list", help="known methods, peers, benchmarks and suites")
    li.set_defaults(fn=cmd_list)
    a = p.parse_args(argv)
    from hyperpilot.executor import quiet_optimizer_warnings
    from hyperpilot.locking import LockedError

    quiet_optimizer_warnings()  # as the hyperpilot CLI; cells in worker processes do it too
    try:
        return int(a.fn(a))
    # bad names and values (BenchError, UnknownBenchmarkError are ValueErrors), a busy folder,
    # a missing --imports module: one line and exit code 2, as the hyperpilot CLI
    except (ValueError, LockedError, ImportError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"hyperpilot.bench: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
