"""``meta.json``: package versions, git commit, machine, seeds, times and per-cell summaries."""

from __future__ import annotations

import functools
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
    from hyperpilot.bench.grid import BenchConfig

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


@functools.lru_cache(maxsize=1)
def cpu_info() -> dict[str, Any]:
    """CPU model, the vector extensions present and the kernel path torch picked.

    Float results of BLAS, torch and onnxruntime kernels depend on the instruction set, so a
    model-based method can take another path on another CPU from the same seed (runs on one
    machine are identical); this records which CPU a piece of a grid ran on. Read once per
    process (``meta.json`` is rewritten after every cell).
    """
    info: dict[str, Any] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, val = line.partition(":")
        if key.strip() == "model name" and "model" not in info:
            info["model"] = val.strip()
        elif key.strip() == "flags" and "isa" not in info:
            flags = set(val.split())
            info["isa"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                           if f in flags]
    try:
        import torch

        info["torch_capability"] = torch.backends.cpu.get_cpu_capability()
    except (ImportError, AttributeError):
        pass
    return info


def write_meta(out: Path, cfg: BenchConfig, start: float, end: float,
               summaries: list[dict[str, Any]], skipped: int,
               finished: bool = True,
               optima: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Merge this run into ``out/meta.json`` (earlier runs' cell summaries are kept).

    The runner calls it after every finished cell with ``finished=False`` and once at the end,
    so a run that is stopped part-way still leaves its metadata; a call replaces the entry in
    ``runs`` with the same ``id`` (the start time in microseconds and the process id: two runs
    can start within one second, e.g. a resume right after a short run). ``optima``: per
    benchmark, the optimum its regrets use and how it was obtained (kept across runs).
    """
    path = out / "meta.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start))
    run_id = f"{start:.6f}-{os.getpid()}"
    old["runs"] = [r for r in old.get("runs", []) if r.get("id") != run_id]
    cells = {**old.get("cells", {}), **{s["cell"]: s for s in summaries}}
    env = environment_info()
    meta = {"versions": versions(), "git_commit": env.get("git_commit"),
            "python": env.get("python"),
            "machine": {"platform": platform.platform(), "machine": platform.machine(),
                        "cpu_count": os.cpu_count(),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                        "cpu": cpu_info()},
            "seeds": cfg.seeds, "config": asdict(cfg),
            "runs": old["runs"] + [{
                "id": run_id, "start": stamp, "end": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(end)),
                "wall_s": round(end - start, 2), "ran": len(summaries), "skipped": skipped,
                "failed": sum("error" in s for s in summaries), "finished": finished}],
            "cells": cells,
            "fallbacks": {k: s.get("fallbacks", 0) for k, s in cells.items()},
            "optima": {**old.get("optima", {}), **(optima or {})}}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=str))
    os.replace(tmp, path)  # readers (a report while the grid runs) never see half a file
    return meta
