"""``meta.json``: package versions, git commit, machine, seeds, times and per-cell summaries."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperpilot.storage import environment_info

if TYPE_CHECKING:
    from hyperpilot.bench.runner import BenchConfig

PACKAGES = ("hyperpilot", "torch", "botorch", "gpytorch", "numpy", "scipy", "pandas", "pyarrow",
            "onnxruntime", "optuna", "dehb", "smac", "ConfigSpace", "stable-baselines3",
            "gymnasium", "seaborn", "plotly")


def versions() -> dict[str, str]:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_meta(out: Path, cfg: BenchConfig, start: float, end: float,
               summaries: list[dict[str, Any]], skipped: int) -> dict[str, Any]:
    """Merge this run into ``out/meta.json`` (earlier runs' cell summaries are kept)."""
    path = out / "meta.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    cells = {**old.get("cells", {}), **{s["cell"]: s for s in summaries}}
    env = environment_info()
    meta = {"versions": versions(), "git_commit": env.get("git_commit"),
            "python": env.get("python"),
            "machine": {"platform": platform.platform(), "machine": platform.machine(),
                        "cpu_count": os.cpu_count(),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
            "seeds": cfg.seeds, "config": asdict(cfg),
            "runs": old.get("runs", []) + [{
                "start": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start)),
                "end": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(end)),
                "wall_s": round(end - start, 2), "ran": len(summaries), "skipped": skipped,
                "failed": sum("error" in s for s in summaries)}],
            "cells": cells,
            "fallbacks": {k: s.get("fallbacks", 0) for k, s in cells.items()}}
    path.write_text(json.dumps(meta, indent=2, default=str))
    return meta
