"""``python -m hyperpilot.paper reproduce|list|join``: the paper's results from one command.

Examples::

    python -m hyperpilot.paper reproduce --scale smoke        # minutes; what CI runs
    python -m hyperpilot.paper reproduce --scale full         # the paper (uses runs/reference)
    python -m hyperpilot.paper reproduce --only headline --out runs/paper
    python -m hyperpilot.paper list --scale smoke
    python -m hyperpilot.paper join runs/reference/full/surrogate_tournament \\
        runs/bench/tournament runs/bench/tournament-rffkev \\
        --rename runs/bench/tournament hyperpilot hyperpilot@ensemble
    python -m hyperpilot.paper join runs/reference/full/headline100_lcbench \\
        runs/reference/full/headline runs/bench/h100-transfer runs/bench/h100-tgp \\
        --benchmarks lcbench-dev --seeds 0-2
    python -m hyperpilot.paper join runs/reference/full/transfer_heldout --union-benchmarks \\
        runs/bench/heldout-transfer runs/bench/heldout-transfer2 runs/bench/heldout-transfer3
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _data_dir(arg: str | None) -> str | None:
    return arg or os.environ.get("HYPERPILOT_DATA") or None


def cmd_reproduce(a: argparse.Namespace) -> int:
    from hyperpilot.paper.reproduce import Paths, reproduce

    paths = Paths.default(Path(a.root), Path(a.out) if a.out else None)
    t0 = time.time()
    only = [x.strip() for x in a.only.split(",") if x.strip()] if a.only else None
    sources = reproduce(paths, a.scale, only, _data_dir(a.data_dir), export=a.export_reference,
                        run=not a.no_run, progress=a.progress, merge=a.merge)
    for s in sources:
        print(f"{s.experiment.name:22s} {s.origin:9s} {s.path}")
    print(f"figures -> {paths.paper / 'figures'}, tables -> {paths.paper / 'tables'} "
          f"in {time.time() - t0:.0f} s")
    return 0


def cmd_list(a: argparse.Namespace) -> int:
    from hyperpilot.paper.experiments import load_experiments

    for e in load_experiments(Path(a.root) / "paper" / "experiments", a.scale):
        what = (f"{len(e.methods)} methods x {len(e.benchmarks)} benchmarks x {len(e.seeds)} seeds, "
                f"{e.budget:g} FFE" if e.kind == "bench" else f"{e.script} {' '.join(e.args)}")
        print(f"{e.name:22s} {e.kind:6s} {what}\n{'':29s}-> {', '.join(e.figures + e.tables)}")
    return 0


def cmd_join(a: argparse.Namespace) -> int:
    from hyperpilot.bench.__main__ import parse_seeds
    from hyperpilot.bench.targets import expand_benchmarks
    from hyperpilot.paper.compact import compact_bench, join_methods

    renames: dict[Path, dict[str, str]] = {}
    for folder, old, new in a.rename:
        renames.setdefault(Path(folder).resolve(), {})[old] = new
    pieces = []
    for src in a.pieces:
        if (src / "cells").is_dir():  # a raw bench folder: compact it first (complete pairs)
            compact_bench(src, src / "compact")
            renames[(src / "compact").resolve()] = renames.pop(src.resolve(), {})
            src = src / "compact"
        pieces.append(src)
    dest = join_methods(pieces, a.out, renames, union_benchmarks=a.union_benchmarks,
                        benchmarks=expand_benchmarks(a.benchmarks.split(",")) if a.benchmarks
                        else None, seeds=parse_seeds(a.seeds) if a.seeds else None)
    print(f"{dest}: {len(pieces)} pieces joined")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from hyperpilot.executor import huge_page_malloc

    huge_page_malloc()  # for the worker processes this command starts
    p = argparse.ArgumentParser(prog="python -m hyperpilot.paper", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reproduce", help="run missing experiments, regenerate figures and tables")
    r.add_argument("--scale", choices=["smoke", "full"], default="smoke")
    r.add_argument("--only", default=None, help="comma list of experiment names")
    r.add_argument("--out", default=None, help="runs folder (default runs/paper)")
    r.add_argument("--data-dir", default=None, help="benchmark data (else $HYPERPILOT_DATA)")
    r.add_argument("--export-reference", action="store_true",
                   help="copy the compact results into runs/reference/<scale>/<name>")
    r.add_argument("--no-run", action="store_true", help="never run; use existing results")
    r.add_argument("--merge", action="store_true",
                   help="never run; add the seeds of a bench grid run in pieces (bench run "
                        "--seeds 2-3 --out <out>/<scale>/<name>) to runs/reference/<scale>/<name>")
    r.add_argument("--progress", action="store_true", help="the bench's progress bars")
    r.add_argument("--root", default=".", help=argparse.SUPPRESS)
    r.set_defaults(fn=cmd_reproduce)
    li = sub.add_parser("list", help="the experiments and what they produce")
    li.add_argument("--scale", choices=["smoke", "full"], default="smoke")
    li.add_argument("--root", default=".", help=argparse.SUPPRESS)
    li.set_defaults(fn=cmd_list)
    j = sub.add_parser("join", help="join bench folders of one grid that ran different methods "
                                     "(a tournament) into one compact result")
    j.add_argument("out", type=Path, help="destination, e.g. runs/reference/full/<experiment>")
    j.add_argument("pieces", type=Path, nargs="+",
                   help="bench folders (raw, compacted first) or compact results")
    j.add_argument("--rename", nargs=3, action="append", default=[],
                   metavar=("PIECE", "OLD", "NEW"), help="read PIECE's method OLD as NEW")
    j.add_argument("--union-benchmarks", action="store_true",
                   help="the pieces may cover different benchmarks (pieces of tasks and seeds); "
                        "the result has their union")
    j.add_argument("--benchmarks", default=None,
                   help="comma list (suites such as lcbench-dev expand): keep only these "
                        "benchmarks' cells of every piece")
    j.add_argument("--seeds", default=None,
                   help="keep only these seeds' cells (as the bench's --seeds: 0-1, 0,3)")
    j.set_defaults(fn=cmd_join)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    from hyperpilot.paper.compact import MergeError
    from hyperpilot.paper.experiments import ExperimentError

    try:
        return int(a.fn(a))
    except (ExperimentError, FileNotFoundError, MergeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
