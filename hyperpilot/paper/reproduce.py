"""``reproduce``: run the missing experiments, then regenerate every figure and table.

For each experiment (``paper/experiments/*.yaml``) at the requested scale:

* ``full`` with committed results in ``runs/reference/full/<name>`` -> use them, run nothing;
* otherwise run what is missing under ``<out>/<scale>/<name>`` (finished bench cells and script
  results are kept, so a rerun resumes) and compact the results.

Then every figure and table the experiments name is rebuilt from the compact results, together
with the generated ``results.tex`` (scale macros), ``hardware.tex``, ``search_spaces.tex``,
``incumbents.tex``, ``checklist.tex`` and ``findings.tex`` (the abstract's sentences,
``hyperpilot.paper.findings``), and the tables and findings that span two experiments
(``hyperpilot.paper.current``: the default on every headline benchmark at 100 FFE).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from hyperpilot.paper import artifacts, checklist, compact, current, findings, runs
from hyperpilot.paper.experiments import Experiment, ExperimentError, Scale, load_experiments

log = logging.getLogger("hyperpilot.paper")


@dataclass(frozen=True)
class Paths:
    """Where configs, runs, committed references and the paper live (relative to ``root``)."""

    root: Path
    experiments: Path
    out: Path
    reference: Path
    paper: Path

    @classmethod
    def default(cls, root: Path, out: Path | None = None) -> Paths:
        return cls(root, root / "paper" / "experiments", out or root / "runs" / "paper",
                   root / "runs" / "reference", root / "paper")


def reproduce(paths: Paths, scale: Scale, only: list[str] | None = None,
              data_dir: str | None = None, export: bool = False, run: bool = True,
              progress: bool = False, merge: bool = False) -> list[checklist.Source]:
    """Run (if needed) and build the artifacts of the experiments; returns their sources.

    Args:
        only: experiment names (default: all); the generated checklist covers only these.
        export: copy the compact results used into ``runs/reference/<scale>/<name>``.
        run: when False, use only existing results (reference or earlier runs), never run; a
            bench experiment's cells (even of a grid still running) are compacted first, keeping
            the seeds that every method has finished.
        merge: never run; add the seeds of a bench run under ``<out>`` to the committed
            reference (a grid run in pieces across sessions, ``bench run --seeds 2-3``): pairs
            the run has replace the reference's, the others are kept (``compact.merge_bench``).
    """
    sources = []
    for e in load_experiments(paths.experiments, scale, only):
        ref = runs.reference_dir(paths.reference, e)
        t0 = time.time()
        if merge:
            _merge_run(e, runs.run_dir(paths.out, e), ref)
        if (scale == "full" or not run or merge) and (ref / "meta.json").exists():
            src = checklist.Source(e, ref, "reference")
        elif run and not merge:
            src = checklist.Source(e, runs.run_experiment(e, paths.out, paths.root, data_dir,
                                                            progress), "run")
        else:
            d = runs.run_dir(paths.out, e)
            if e.kind == "bench" and (d / "cells").is_dir():  # a grid maybe still running
                compact.compact_bench(d, d / "compact")
            src = checklist.Source(e, d / "compact", "run")
            if not src.path.is_dir():
                raise FileNotFoundError(f"{e.name}: no results in {ref} or {src.path}; "
                                        "run without --no-run")
        if export and src.origin == "run":
            runs.export_reference(src.path, ref)
        artifacts.build(e, src.path, paths.paper)
        log.info("%s: %s results from %s (%.1f s)", e.name, src.origin, src.path, time.time() - t0)
        sources.append(src)
    full = {e.name: e for e in load_experiments(paths.experiments, "full", only)}
    checklist.write_all(sources, scale, paths.paper / "tables", data_dir, full)
    joined = current.write(sources, paths.paper / "tables")  # spans two experiments
    findings.write(list(sources), scale, paths.paper / "tables", joined)
    return sources


def _merge_run(e: Experiment, d: Path, ref: Path) -> None:
    """Compact the bench run in ``d`` and merge it into the reference ``ref`` (or start it)."""
    if e.kind != "bench":
        raise ExperimentError(f"{e.name}: only bench experiments are run in pieces (--merge)")
    if not (d / "cells").is_dir():
        raise FileNotFoundError(f"{e.name}: no bench run in {d} to merge")
    compact.compact_bench(d, d / "compact")
    if (ref / "meta.json").exists():
        compact.merge_bench(ref, d / "compact", ref)
    else:
        runs.export_reference(d / "compact", ref)
