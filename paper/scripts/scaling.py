"""Scaling of the executors: worker utilisation and optimizer overhead, 1 to 16 workers.

The objective only sleeps (``--seconds`` per trial, whatever the budget), so the machine's two
cores are not the limit and what is measured is the driver: asking, telling, storing, dispatching.

* utilisation = busy time / (workers x wall time), busy time = the sum of the trials' own run
  times as measured inside the workers, wall time = the whole ``study.run`` (ramp-up and tail
  included; actor/process start-up before it is reported apart);
* overhead = the method's time per proposal (``trial.info["overhead_s"]``), mean and max.

Run (about 5 minutes here for hyperband on both executors)::

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/scaling.py \
        --executors local ray --methods hyperband --workers 1 2 4 8 16 --seconds 1
    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/scaling.py \
        --executors local --methods hyperpilot:bg hyperpilot --workers 1 4 16 \
        --trials-per-worker 64 hyperpilot=16 [--batch]

``hyperpilot:bg`` fits the surrogate in a background process and proposes from a candidate pool
(``hyperpilot.methods.bo``); the table's model-proposed share says how many new configs came
from the surrogate rather than the random fraction and the random proposals made before the
first fit, and how many of those came from a fit older than the refit schedule asked for.

Writes ``runs/scaling.csv`` (appending) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

import hyperpilot as hp
from hyperpilot.executor import Executor, WorkerPoolExecutor
from hyperpilot.study import Study

SPACE = hp.SearchSpace({"x": hp.Float(-5, 10), "y": hp.Float(0, 15), "k": hp.Int(1, 4),
                        "act": hp.Categorical(["relu", "tanh"])})
FIDELITY = hp.Fidelity(1, 27, 3)
FIELDS = ["executor", "method", "workers", "batch_size", "trials", "seconds", "startup_s", "wall_s", "busy_s",
          "utilisation", "overhead_mean_ms", "overhead_max_ms", "model_share", "stale_share",
          "failed"]


def sleepy_branin(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> float:
    """Branin with a bias that vanishes at the max budget, after sleeping ``HP_SLEEP`` seconds."""
    time.sleep(float(os.environ.get("HP_SLEEP", "1.0")))
    x, y = config["x"], config["y"]
    v = (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2
    v += 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10 + 0.1 * config["k"]
    return v + (0.5 if config["act"] == "tanh" else 0.0) + 3.0 * (1 - budget / 27)


def make_executor(kind: str, workers: int) -> Executor:
    if kind == "ray":
        from hyperpilot.ray_executor import RayExecutor

        ex = RayExecutor(sleepy_branin, workers)
        ex.start()  # actors up before the clock starts
        return ex
    return WorkerPoolExecutor(sleepy_branin, workers)


def measure(kind: str, method: str, workers: int, n_trials: int, seconds: float,
            batch_size: int | None = None) -> dict[str, Any]:
    """One study of ``n_trials`` sleeping trials on ``workers`` workers; one row of the table."""
    t0 = time.perf_counter()
    ex = make_executor(kind, workers)
    startup = time.perf_counter() - t0
    study = Study(SPACE, FIDELITY, method, seed=0)
    t1 = time.perf_counter()
    study.run(sleepy_branin, n_trials=n_trials, executor=ex, batch_size=batch_size)
    wall = time.perf_counter() - t1
    busy = sum(r.wall_time or 0.0 for r in study.results)
    over = [float(r.trial.info.get("overhead_s", 0.0)) for r in study.results]
    new = [r.trial.info for r in study.results if r.trial.info.get("source") != "promotion"]
    model = [i for i in new if i.get("source") == "model"]
    return {"executor": kind, "method": method, "workers": workers, "batch_size": batch_size,
            "trials": n_trials,
            "seconds": seconds, "startup_s": round(startup, 2), "wall_s": round(wall, 2),
            "busy_s": round(busy, 2), "utilisation": round(busy / (workers * wall), 4),
            "overhead_mean_ms": round(1000 * statistics.fmean(over), 2),
            "overhead_max_ms": round(1000 * max(over), 2),
            "model_share": round(len(model) / max(len(new), 1), 3),
            "stale_share": round(sum(bool(i.get("stale_fit")) for i in model) / max(len(model), 1), 3),
            "failed": sum(r.status == hp.Status.FAILED for r in study.results)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--executors", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    p.add_argument("--methods", nargs="+", default=["hyperband"])
    p.add_argument("--workers", nargs="+", type=int, default=[1, 2, 4, 8, 16])
    p.add_argument("--seconds", type=float, default=1.0, help="sleep per trial")
    p.add_argument("--trials-per-worker", nargs="+", default=["8"],
                   help="N for every method, then optional METHOD=N overrides "
                        "(e.g. 64 hyperpilot=16: the blocking method is slow)")
    p.add_argument("--batch", action="store_true",
                   help="synchronous batches of size = workers (one model fit per batch)")
    p.add_argument("--out", type=Path, default=Path("runs/scaling.csv"))
    args = p.parse_args()
    default = int(next((v for v in args.trials_per_worker if "=" not in v), "8"))
    per_worker = {m: int(n) for m, _, n in (v.rpartition("=") for v in args.trials_per_worker
                                            if "=" in v)}
    os.environ["HP_SLEEP"] = str(args.seconds)  # inherited by forked workers and local Ray
    os.environ["OMP_NUM_THREADS"] = "1"
    if "ray" in args.executors:
        import logging

        import ray

        ray.init(num_cpus=max(args.workers), include_dashboard=False,
                 logging_level=logging.WARNING)
    rows = []
    for kind in args.executors:
        for method in args.methods:
            for w in args.workers:
                row = measure(kind, method, w, per_worker.get(method, default) * w, args.seconds,
                              w if args.batch else None)
                rows.append(row)
                print(row, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    new = not args.out.exists()
    with args.out.open("a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new:
            writer.writeheader()
        writer.writerows(rows)
    print("\n| executor | method | workers | batch | trials | utilisation | overhead mean / max (ms) "
          "| model-proposed share (stale fit) | wall (s) | start-up (s) |\n"
          "|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['executor']} | {r['method']} | {r['workers']} | {r['batch_size'] or '-'} | "
              f"{r['trials']} | "
              f"{100 * r['utilisation']:.1f}% | {r['overhead_mean_ms']:.1f} / "
              f"{r['overhead_max_ms']:.1f} | {100 * r['model_share']:.0f}% "
              f"({100 * r['stale_share']:.0f}%) | {r['wall_s']:.1f} | {r['startup_s']:.1f} |")


if __name__ == "__main__":
    main()
