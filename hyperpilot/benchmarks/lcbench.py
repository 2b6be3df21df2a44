"""LCBench through YAHPO Gym's ONNX surrogate, called with onnxruntime (no yahpo-gym).

Data: ``<data_dir>/yahpo_data/lcbench/{model.onnx, encoding.json, config_space.json}`` (see the
data README). Surrogate inputs: ``x_cat`` int32 ``n x 1`` (the task's code in ``encoding.json``)
and ``x_cont`` float32 ``n x 8`` = ``[epoch, batch_size, learning_rate, momentum, weight_decay,
num_layers, max_units, max_dropout]``; output float32 ``n x 6`` = ``[time, val_accuracy (percent),
val_cross_entropy, val_balanced_accuracy (in [0, 1]), test_cross_entropy,
test_balanced_accuracy (in [0, 1])]``.

* Space: ``config_space.json`` without ``OpenML_task_id`` and ``epoch`` (7 parameters).
* Fidelity: epoch, ``Fidelity(min=1, max=52, eta=3)``; Hyperband's rungs ``52 * 3^-k`` =
  1.93, 5.78, 17.3, 52 are rounded to the nearest epoch (2, 6, 17, 52).
* Value: ``1 - val_balanced_accuracy`` (clipped to ``[0, 1]``); ``test_value`` gives
  ``1 - test_balanced_accuracy``.
* Cost: the surrogate's ``time`` (seconds to train to that epoch), made cumulative (running max
  over epochs, since the surrogate is not exactly monotone); resuming from epoch ``r`` costs
  ``time(e) - time(r)``.
* Curve: every epoch in ``(resume_budget, budget]``, from one batched surrogate call (epochs
  ``1..budget``). The float32 surrogate's outputs vary by about 1e-5 (relative) with the batch
  size, so a cost or value can differ in the fifth digit between calls at different budgets.
* Tasks: every task the surrogate encodes (``encoding.json``: 35, one more than the 34 choices
  of ``config_space.json``, which lacks 167083).
* Optimum: from ``lcbench_optima.json``, estimated by ``python -m hyperpilot.benchmarks.lcbench
  --estimate-optima --data-dir DIR`` (random search + local search on the surrogate at epoch 52;
  see ``estimate_optimum``). A task without an entry there gets the same estimate on first use,
  cached per user (``cached_optimum``), and its note says so; ``bench run`` records every
  benchmark's optimum and note in ``meta.json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyperpilot.benchmarks.base import Benchmark, Evaluation
from hyperpilot.benchmarks.optima import cached_estimate, packaged_optima
from hyperpilot.benchmarks.yahpo import NA as NA_TASK
from hyperpilot.benchmarks.yahpo import onnx_session, scenario_folder
from hyperpilot.configspace_io import from_configspace_dict
from hyperpilot.data import resolve_data_dir
from hyperpilot.space import Config, Float, Int, SearchSpace
from hyperpilot.trial import Fidelity

LCBENCH_FIDELITY = Fidelity(min=1, max=52, eta=3)
INPUT_ORDER = ("batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
               "max_dropout")
"""The surrogate's ``x_cont`` columns after ``epoch``."""
OUTPUTS = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy",
           "test_cross_entropy", "test_balanced_accuracy")
OPTIMA_FILE = Path(__file__).with_name("lcbench_optima.json")


@dataclass(frozen=True)
class _Files:
    folder: Path
    task_codes: dict[str, int]
    space: SearchSpace
    tasks: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def _files(data_dir: str) -> _Files:
    folder = scenario_folder(data_dir, "lcbench", "LCBench")
    cs = json.loads((folder / "config_space.json").read_text())
    task_hp = next(h for h in cs["hyperparameters"] if h["name"] == "OpenML_task_id")
    cs["hyperparameters"] = [h for h in cs["hyperparameters"]
                             if h["name"] not in ("OpenML_task_id", "epoch")]
    codes = json.loads((folder / "encoding.json").read_text())["OpenML_task_id"]
    listed = [str(t) for t in task_hp["choices"]]  # the config space's 34, then what it lacks
    tasks = tuple(dict.fromkeys(listed + [str(t) for t in codes if str(t) != NA_TASK]))
    return _Files(folder, {str(k): int(v) for k, v in codes.items()}, from_configspace_dict(cs),
                  tasks)


def lcbench_tasks(data_dir: str | Path | None = None) -> list[str]:
    """The 35 task ids the surrogate encodes (as strings): ``config_space.json``'s 34 choices,
    then ``encoding.json``'s others (167083)."""
    return list(_files(str(resolve_data_dir(data_dir))).tasks)


@dataclass
class LCBench(Benchmark):
    """One LCBench task; see the module docstring for value, cost, curve and fidelity."""

    task_id: str = "3945"
    data_dir: Path = field(default_factory=Path)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Raw surrogate outputs. ``x``: ``n x 8`` raw ``[epoch, *INPUT_ORDER]``; returns ``n x 6``."""
        files = _files(str(self.data_dir))
        x_cat = np.full((len(x), 1), files.task_codes[self.task_id], dtype=np.int32)
        sess = onnx_session(str(files.folder / "model.onnx"))
        out = sess.run(None, {"x_cat": x_cat, "x_cont": np.asarray(x, dtype=np.float32)})[0]
        return np.asarray(out, dtype=float)

    def _rows(self, config: Config, epochs: np.ndarray) -> np.ndarray:
        hp = np.array([float(config[n]) for n in INPUT_ORDER])
        return np.column_stack([epochs.astype(float), np.tile(hp, (len(epochs), 1))])

    def _evaluate(self, config: Config, budget: float, resume_budget: float, seed: int) -> Evaluation:
        e, r = _epoch(budget), (_epoch(resume_budget) if resume_budget >= 0.5 else 0)
        out = self.predict(self._rows(config, np.arange(1, e + 1)))
        time = np.maximum.accumulate(np.maximum(out[:, 0], 0.0))
        val = 1.0 - np.clip(out[:, 3], 0.0, 1.0)
        curve = [(float(k), float(val[k - 1])) for k in range(r + 1, e + 1)]
        cost = float(time[e - 1] - (time[r - 1] if r > 0 else 0.0))
        return float(val[e - 1]), curve, cost

    def test_value(self, config: Config, budget: float | None = None) -> float:
        """``1 - test_balanced_accuracy`` at ``budget`` (default: the max epoch), for reports."""
        cfg = self.space.validate(config)
        e = _epoch(self.fidelity.max if budget is None else budget)
        out = self.predict(self._rows(cfg, np.array([e])))
        return float(1.0 - np.clip(out[0, 5], 0.0, 1.0))

    def values_at(self, X: np.ndarray, epoch: int) -> np.ndarray:
        """``1 - val_balanced_accuracy`` for ``n x 7`` raw rows in ``INPUT_ORDER``; returns ``n``."""
        x = np.column_stack([np.full(len(X), float(epoch)), X])
        return 1.0 - np.clip(self.predict(x)[:, 3], 0.0, 1.0)


def _epoch(budget: float) -> int:
    return int(min(LCBENCH_FIDELITY.max, max(1, math.floor(budget + 0.5))))


def make_lcbench(task_id: str | int, data_dir: str | Path | None = None, seed: int = 0) -> LCBench:
    """The LCBench benchmark for one OpenML task id.

    Raises:
        DataDirError: when no data directory is given or found.
        ValueError: when ``task_id`` is not one of the surrogate's tasks.
    """
    root = resolve_data_dir(data_dir)
    assert root is not None  # required=True raises instead
    files = _files(str(root))
    tid = str(task_id)
    if tid not in files.tasks or tid not in files.task_codes:
        raise ValueError(f"unknown LCBench task {tid!r}; known: {', '.join(files.tasks)}")
    bench = LCBench(f"lcbench:{tid}", files.space, LCBENCH_FIDELITY, 0.0, "", True, seed,
                    task_id=tid, data_dir=root)
    opt = _load_optima().get(tid) or cached_optimum(bench)
    bench.optimum, bench.optimum_note = float(opt["optimum"]), str(opt["note"])
    return bench


@functools.lru_cache(maxsize=1)
def _load_optima() -> dict[str, dict[str, Any]]:
    return packaged_optima(OPTIMA_FILE)


def cached_optimum(bench: LCBench) -> dict[str, Any]:
    """The optimum estimate of a task that ``lcbench_optima.json`` lacks, computed on first use.

    The estimate is ``estimate_optimum``'s with its defaults, as for the packaged tasks (about 2 s
    on one core), and is kept in ``optima.cache_dir() / "lcbench_optima.json"`` keyed by task and by
    the surrogate file's size (see ``hyperpilot.benchmarks.optima``).

    Returns:
        ``{"optimum": ..., "note": ...}``; the note names the cache file.
    """
    model = _files(str(bench.data_dir)).folder / "model.onnx"
    return cached_estimate(OPTIMA_FILE.name, bench.name, bench.task_id, model,
                           lambda: estimate_optimum(bench))


# --------------------------------------------------------------------- optimum estimation
def _raw_from_unit(space: SearchSpace, U: np.ndarray) -> np.ndarray:
    """Unit-cube columns (one per parameter, in ``INPUT_ORDER``) -> raw values, ``n x 7``."""
    cols = []
    for j, n in enumerate(INPUT_ORDER):
        p = space.params[n]
        assert isinstance(p, (Float, Int))
        cols.append(p.from_unit(U[:, j]).astype(float))
    return np.column_stack(cols)


def estimate_optimum(bench: LCBench, n_random: int = 20000, n_starts: int = 8, n_iter: int = 25,
                     n_local: int = 64, seed: int = 0) -> tuple[float, str]:
    """Estimate ``min 1 - val_balanced_accuracy`` at epoch 52 on the surrogate.

    Random search over ``n_random`` uniform configs (log-uniform where the space is log), then,
    from the ``n_starts`` best, a (1+``n_local``) Gaussian local search in the unit cube for
    ``n_iter`` iterations with a step shrinking from 0.1 to 0.005.

    Returns:
        ``(estimate, note)``.
    """
    rng = np.random.default_rng(seed)
    d, epoch = len(INPUT_ORDER), int(LCBENCH_FIDELITY.max)
    U = rng.random((n_random, d))
    v = bench.values_at(_raw_from_unit(bench.space, U), epoch)
    best_u, best_v = U[np.argsort(v)[:n_starts]], np.sort(v)[:n_starts]
    for step in np.geomspace(0.1, 0.005, n_iter):
        cand = np.clip(best_u[:, None, :] + step * rng.standard_normal((n_starts, n_local, d)), 0, 1)
        cv = bench.values_at(_raw_from_unit(bench.space, cand.reshape(-1, d)), epoch)
        cv = cv.reshape(n_starts, n_local)
        j = np.argmin(cv, axis=1)
        better = cv[np.arange(n_starts), j] < best_v
        best_u[better] = cand[np.arange(n_starts), j][better]
        best_v[better] = cv[np.arange(n_starts), j][better]
    note = (f"estimated: best of {n_random} random configs + local search from the {n_starts} best "
            f"({n_iter} x {n_local} Gaussian steps in the unit cube) at epoch 52, seed {seed}")
    return float(best_v.min()), note


def main(argv: list[str] | None = None) -> None:
    """``python -m hyperpilot.benchmarks.lcbench --estimate-optima [--data-dir DIR]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estimate-optima", action="store_true", required=True)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(OPTIMA_FILE))
    args = ap.parse_args(argv)
    tasks: dict[str, dict[str, Any]] = {}
    for tid in lcbench_tasks(args.data_dir):
        bench = make_lcbench(tid, args.data_dir)
        value, note = estimate_optimum(bench)
        tasks[tid] = {"optimum": round(value, 6), "note": note}
        print(f"{tid:>8s} {value:.5f}", flush=True)
    Path(args.out).write_text(json.dumps({"objective": "1 - val_balanced_accuracy at epoch 52",
                                          "tasks": tasks}, indent=1) + "\n")


if __name__ == "__main__":
    main()
