"""Tracker overhead per trial (issue 22): MLflow (embedded SQLite), W&B (offline),
TensorBoard and the store mirror, each alone on the same study.

The study: ``hyperband`` on a 7-parameter space, budgets 1..27 (eta 3), a free objective whose
curve has one point per unit of budget (so curves up to 27 points are logged), ``--trials``
trials. Per tracker we report the time spent inside it (``TrackerSet``'s own clock): starting
it once, and per trial after that (median over repeats); and the study's wall time against the
same study with no tracker.

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python paper/scripts/tracker_overhead.py \\
        --trials 300 --out runs/bench/tracker-overhead
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import hyperpilot as hp
from hyperpilot.integrations.trackers import (
    MLflowTracker,
    StoreTracker,
    TensorBoardTracker,
    Tracker,
    WandbTracker,
)

SPACE = hp.SearchSpace({"lr": hp.Float(1e-4, 1e-1, log=True), "wd": hp.Float(1e-5, 1e-1, log=True),
                        "momentum": hp.Float(0.1, 0.99), "dropout": hp.Float(0.0, 1.0),
                        "layers": hp.Int(1, 5), "units": hp.Int(64, 1024, log=True),
                        "batch": hp.Int(16, 512, log=True)})
FID = hp.Fidelity(1, 27, 3)


def objective(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Free to evaluate: one curve point per unit of budget."""
    level = config["dropout"] + config["momentum"] / 10
    curve = [(float(b), level + 1.0 / b) for b in range(int(resume_budget) + 1, int(budget) + 1)]
    return curve[-1][1], curve


def make(kind: str, folder: Path) -> list[Tracker]:
    return {"none": lambda: [], "mlflow": lambda: [MLflowTracker(folder)],
            "wandb": lambda: [WandbTracker(folder)],
            "tensorboard": lambda: [TensorBoardTracker(folder)],
            "store": lambda: [StoreTracker(folder / "watch.sqlite")]}[kind]()


def one(kind: str, trials: int, folder: Path) -> dict[str, float]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    s = hp.Study(SPACE, FID, "hyperband", seed=0, trackers=make(kind, folder))
    t0 = time.perf_counter()
    s.run(objective, n_trials=trials)
    wall = time.perf_counter() - t0
    rep = s.tracker_report().get(kind, {"seconds": 0.0, "start_seconds": 0.0, "logged": trials,
                                        "failed": 0})
    per = (rep["seconds"] - rep["start_seconds"]) / max(rep["logged"], 1)
    return {"wall_s": wall, "start_s": rep["start_seconds"], "per_trial_ms": 1000 * per,
            "failed": rep["failed"], "logged": rep["logged"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kinds", default="none,store,tensorboard,mlflow,wandb")
    ap.add_argument("--out", type=Path, default=Path("runs/bench/tracker-overhead"))
    args = ap.parse_args()
    rows = {}
    for kind in args.kinds.split(","):
        # a fresh folder per repeat: MLflow caches its database engine per URI in the process
        got = [one(kind, args.trials, args.out / f"{kind}-{i}") for i in range(args.repeats)]
        rows[kind] = {k: round(statistics.median(g[k] for g in got), 3) for k in got[0]}
        print(kind, rows[kind], flush=True)
    base = rows.get("none", {}).get("wall_s")
    for r in rows.values():
        if base is not None:
            r["wall_ms_per_trial_over_none"] = round(1000 * (r["wall_s"] - base) / args.trials, 2)
    (args.out / "overhead.json").write_text(json.dumps({"trials": args.trials, "rows": rows},
                                                       indent=1))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
