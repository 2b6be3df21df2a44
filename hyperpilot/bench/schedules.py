"""The ``schedules`` benchmark family: in-training controllers on held-out tasks.

``python -m hyperpilot.bench schedules --out runs/schedules/NAME --seeds 10`` runs three phases,
each resumable from files under ``out``:

1. **Fit on the training tasks** (``TRAIN_TASKS``): ``policy.pt`` (``reinforce-lrwd``),
   ``ppo.zip`` (``rl-controller``) and ``static.json`` (the tuned static config), each with its
   wall time in ``fit.json``. They are then frozen.
2. **Evaluate on the held-out tasks** (``TEST_TASKS``): every controller x task x seed, one file
   per cell in ``cells/`` (a rerun skips finished cells), with a progress bar.
3. **Summarise**: ``runs.csv`` (one row per run), ``summary.csv`` and ``table.md`` (medians and
   means with 95% percentile-bootstrap intervals over seeds), ``schedules.png`` (lr, weight decay,
   batch size and dropout against optimizer step, first seed, per controller and task).
   ``--split train`` evaluates the frozen controllers on the training tasks instead (fresh
   seeds, under ``out/train-tasks``): how well they fit where they were trained.

Steps to threshold: the first optimizer step at which the validation loss is at or below the
task's threshold, the median over seeds of ``plateau``'s final validation loss (``inf`` if never).
Overhead: wall time spent inside the controller (features, policy, scheduler) per run.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

CONTROLLERS = ("constant", "plateau", "cosine", "static", "reinforce-lrwd", "rl-controller")
START = {"lr": 0.05, "weight_decay": 5e-4, "batch_size": 32, "dropout": 0.1}


@cache
def _data(task: str) -> Any:
    from hyperpilot.controllers.tasks import load_task

    return load_task(task)


def make_loop(task: str, seed: int) -> Any:
    """A fresh ``TrainLoop`` on ``task`` at the default start, seeded by ``seed``."""
    from hyperpilot.controllers.tasks import TrainLoop

    return TrainLoop(_data(task), seed, START["lr"], START["weight_decay"],
                     int(START["batch_size"]), START["dropout"])


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    tmp.rename(path)


def fit(out: Path, a: argparse.Namespace) -> dict[str, Any]:
    """Phase 1: fit the learned controllers and the static config on the training tasks."""
    from hyperpilot.controllers.base import HParams
    from hyperpilot.controllers.baselines import tune_static
    from hyperpilot.controllers.reinforce import ReinforceSettings, train_reinforce
    from hyperpilot.controllers.tasks import TRAIN_TASKS

    start = HParams(**START)  # type: ignore[arg-type]
    meta: dict[str, Any] = json.loads((out / "fit.json").read_text()) if (
        out / "fit.json").exists() else {}
    if "static" in a.controllers and "static" not in meta:
        t0 = time.perf_counter()
        best, tried = tune_static(make_loop, TRAIN_TASKS, start, a.static_configs, a.intervals,
                                  a.steps, seed=a.fit_seed)
        meta["static"] = {"wall_s": time.perf_counter() - t0, "best": asdict(best),
                          "tried": [[asdict(h), s] for h, s in tried]}
        _write_json(out / "fit.json", meta)
    if "reinforce-lrwd" in a.controllers and "reinforce-lrwd" not in meta:
        t0 = time.perf_counter()
        s = ReinforceSettings(episodes=a.episodes, batch=a.batch, n_intervals=a.intervals,
                              steps_per_interval=a.steps, policy_lr=a.policy_lr,
                              entropy_coef=a.entropy)
        policy, hist = train_reinforce(make_loop, TRAIN_TASKS, start, s, seed=a.fit_seed,
                                       on_update=lambda u, r: print(f"  reinforce update {u}: "
                                                                    f"mean return {r:.3f}",
                                                                    flush=True))
        policy.save(out / "policy.pt", meta=asdict(s))
        meta["reinforce-lrwd"] = {"wall_s": time.perf_counter() - t0, "settings": asdict(s),
                                  "history": hist}
        _write_json(out / "fit.json", meta)
    if "rl-controller" in a.controllers and "rl-controller" not in meta:
        from hyperpilot.controllers.ppo_controller import make_env, train_ppo

        t0 = time.perf_counter()
        env = make_env(make_loop, TRAIN_TASKS, start, a.intervals, a.steps, env_seed=a.fit_seed)
        train_ppo(env, a.ppo_steps, a.fit_seed, out / "ppo.zip")
        meta["rl-controller"] = {"wall_s": time.perf_counter() - t0, "env_steps": a.ppo_steps}
        _write_json(out / "fit.json", meta)
    return meta


def _controller(name: str, out: Path, meta: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The frozen controller ``name`` and the start hyperparameters it runs from."""
    from hyperpilot.controllers import baselines as b

    if name == "static":
        return b.Constant(), meta["static"]["best"]
    if name == "reinforce-lrwd":
        from hyperpilot.controllers.policy import Policy
        from hyperpilot.controllers.reinforce import ReinforceController

        return ReinforceController(Policy.load(out / "policy.pt")), START
    if name == "rl-controller":
        from stable_baselines3 import PPO

        from hyperpilot.controllers.ppo_controller import PPOController

        return PPOController(PPO.load(out / "ppo.zip", device="cpu")), START
    ctl = {"constant": b.Constant, "plateau": b.Plateau, "cosine": b.Cosine}[name]()
    return ctl, START


def evaluate(out: Path, controllers: Sequence[str], tasks: Sequence[str], seeds: Sequence[int],
             intervals: int, steps: int, meta: dict[str, Any], progress: bool = True,
             fit_dir: Path | None = None) -> None:
    """Phase 2: one JSON file per (controller, task, seed) under ``out/cells``; the fitted
    controllers are read from ``fit_dir`` (default ``out``)."""
    from tqdm.auto import tqdm

    from hyperpilot.controllers.base import HParams, run_episode

    cells = out / "cells"
    cells.mkdir(exist_ok=True)
    todo = [(c, t, s) for c in controllers for t in tasks for s in seeds
            if not (cells / f"{c}__{t.replace(':', '-')}__{s}.json").exists()]
    for c, t, s in tqdm(todo, unit="run", disable=not progress, dynamic_ncols=True):
        ctl, start = _controller(c, fit_dir or out, meta)
        ep = run_episode(make_loop(t, s), ctl, HParams(**start), intervals, steps, t, s)
        rec = {"controller": c, "task": t, "seed": s, "diverged": ep.diverged,
               "controller_s": ep.controller_s, "total_s": ep.total_s,
               "test_loss": ep.test_loss, "test_acc": ep.test_acc,
               "intervals": [asdict(iv) for iv in ep.intervals],
               "schedule": [asdict(h) for h in ep.schedule]}
        _write_json(cells / f"{c}__{t.replace(':', '-')}__{s}.json", rec)


def cmd_schedules(a: argparse.Namespace) -> int:
    """Run the three phases for parsed arguments (see ``add_arguments``)."""
    import torch

    from hyperpilot.bench.__main__ import parse_seeds
    from hyperpilot.bench.schedules_report import summarise
    from hyperpilot.controllers.tasks import TEST_TASKS, TRAIN_TASKS

    torch.set_num_threads(1)
    a.controllers = [c for c in a.controllers.split(",") if c]
    unknown = set(a.controllers) - set(CONTROLLERS)
    if unknown:
        raise ValueError(f"unknown controllers {sorted(unknown)}; known: {', '.join(CONTROLLERS)}")
    tasks = a.tasks.split(",") if a.tasks else list(TEST_TASKS)
    seeds = parse_seeds(a.seeds)
    if a.split == "train":  # in-distribution check, on seeds disjoint from every fitting seed
        tasks, seeds = list(TRAIN_TASKS), [500_000 + s for s in seeds]
    elif set(tasks) & set(TRAIN_TASKS):
        raise ValueError(f"held-out tasks overlap the training tasks: {set(tasks) & set(TRAIN_TASKS)}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    check_settings(out, a)
    t0 = time.perf_counter()
    meta = fit(out, a)
    ev = out if a.split == "test" else out / "train-tasks"
    ev.mkdir(exist_ok=True)
    evaluate(ev, a.controllers, tasks, seeds, a.intervals, a.steps, meta, progress=not a.quiet,
             fit_dir=out)
    summarise(ev, a.controllers, tasks, meta, seed=seeds[0])
    print(f"schedules: {time.perf_counter() - t0:.1f} s this call -> {ev / 'table.md'}")
    return 0


SETTINGS = ("intervals", "steps", "episodes", "batch", "policy_lr", "entropy", "ppo_steps",
            "static_configs", "fit_seed")


def check_settings(out: Path, a: argparse.Namespace) -> None:
    """Save the fitting and run-length settings in ``out/config.json``, or check a rerun's.

    Raises:
        ValueError: when ``out`` holds results of other settings (cells would not compare).
    """
    now = {k: getattr(a, k) for k in SETTINGS} | {"start": START}
    path = out / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        diff = sorted(k for k in now if old.get(k) != now[k])
        if diff:
            raise ValueError(f"{out} holds results of other settings ({', '.join(diff)}); "
                             "use another --out")
    else:
        _write_json(path, now)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hyperpilot.bench.schedules`` (same as ``python -m hyperpilot.bench schedules``)."""
    p = argparse.ArgumentParser(prog="python -m hyperpilot.bench schedules", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return cmd_schedules(p.parse_args(argv))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder, e.g. runs/schedules/NAME")
    p.add_argument("--controllers", default=",".join(CONTROLLERS), help="comma list")
    p.add_argument("--tasks", default="", help="held-out tasks (default: TEST_TASKS)")
    p.add_argument("--seeds", default="10", help="evaluation seeds: N, a comma list or a-b")
    p.add_argument("--intervals", type=int, default=20, help="controller decisions + 1 per run")
    p.add_argument("--steps", type=int, default=15, help="optimizer steps per interval")
    p.add_argument("--episodes", type=int, default=1000, help="REINFORCE training runs")
    p.add_argument("--batch", type=int, default=10, help="REINFORCE runs per update")
    p.add_argument("--policy-lr", type=float, default=1e-2, help="Adam step for the policy")
    p.add_argument("--entropy", type=float, default=0.01, help="entropy bonus coefficient")
    p.add_argument("--ppo-steps", type=int, default=6000, help="PPO environment steps (decisions)")
    p.add_argument("--static-configs", type=int, default=16, help="random-search configs")
    p.add_argument("--fit-seed", type=int, default=0, help="seed of all fitting")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="evaluate on the held-out tasks, or (an in-distribution check, written "
                        "under OUT/train-tasks) on the training tasks with fresh seeds 500000+")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


if __name__ == "__main__":
    raise SystemExit(main())
