"""YAHPO Gym's ``rbv2_xgboost`` surrogate: XGBoost on OpenML datasets, a mixed conditional space.

Called with onnxruntime alone, as LCBench is. Data:
``<data_dir>/yahpo_data/rbv2_xgboost/{model.onnx, encoding.json, config_space.json}``.

Surrogate inputs (the order of yahpo-gym 1.0.2's ``rbv2_xgboost`` config; with repl fixed, our
rows give the same outputs as its ``objective_function``, checked on 300 random configs):

* ``x_cat`` int32 ``n x 3``: the ``encoding.json`` codes of ``CAT_INPUTS`` =
  ``[task_id, booster, num.impute.selected.cpo]``;
* ``x_cont`` float32 ``n x 14``: raw values of ``CONT_INPUTS`` = ``[nrounds, eta, gamma, lambda,
  alpha, subsample, max_depth, min_child_weight, colsample_bytree, colsample_bylevel, rate_drop,
  skip_drop, trainsize, repl]``. A parameter that the booster switches off is 0.0: YAHPO filled
  the missing values of its training data with 0 and yahpo-gym sends 0 (NaN gives NaN outputs;
  any other value is outside the training data). The network applies its own log transforms.
* Output float32 ``n x 9`` = ``OUTPUTS`` = ``[acc, bac, auc, brier, f1, logloss, timetrain,
  timepredict, memory]`` (accuracies in ``[0, 1]``, times in seconds).

The benchmark:

* Tasks: the 119 ids of ``config_space.json`` (the same as ``encoding.json``'s). They are OpenML
  **dataset** ids (YAHPO calls them ``task_id``): ``rbv2_xgboost:1489`` is openml.org/d/1489.
* Space: ``config_space.json`` without ``task_id``, ``trainsize`` and ``repl``: 14 parameters,
  18 unit-cube columns. ``alpha``, ``lambda``, ``nrounds``, ``subsample``, ``booster`` (gblinear,
  gbtree, dart) and ``num.impute.selected.cpo`` are always active; ``eta``, ``gamma``,
  ``max_depth``, ``min_child_weight``, ``colsample_bytree`` and ``colsample_bylevel`` only for
  gbtree and dart; ``rate_drop`` and ``skip_drop`` only for dart.
* Fidelity: ``trainsize``, the fraction of the training set, ``Fidelity(min=1/27, max=1,
  eta=3)``: Hyperband's rungs are 1/27, 1/9, 1/3 and 1 (four, as LCBench's), inside YAHPO's
  range ``[0.03, 1]``. A smaller budget is sent to the surrogate as 0.03.
* ``repl`` (the resampling iteration of the original runs) is fixed at 10, as YAHPO's own
  experiments and mf-prior-bench fix it.
* Value: ``1 - acc`` (clipped to ``[0, 1]``): YAHPO's single-objective suite
  (``benchmark_suites/v1.0/single.json``) uses ``acc`` for rbv2_xgboost. No test metric.
* Cost: the surrogate's ``timetrain`` at the budget (seconds, at least 0). XGBoost on a larger
  fraction is a new fit, so a promotion pays its whole time again; the curve's smaller
  trainsizes are not charged.
* Curve: ``n_curve_points`` trainsizes in ``(resume_budget, budget]``, geometric from the
  fidelity's min and ending at the budget (``synthetic.curve_budgets``), one batched call.
* Optimum: ``rbv2_xgboost_optima.json`` (``python -m hyperpilot.benchmarks.rbv2_xgboost
  --estimate-optima``), estimated as LCBench's are (random + local search at trainsize 1, here
  in the unit-cube encoding); a task without an entry is estimated on first use and cached.
* Caveat: the surrogate extrapolates where YAHPO's data were thin, mostly dart with ``nrounds``
  near its upper bound 2981. On many tasks some configs get impossible outputs (``acc`` 1 with
  a balanced accuracy near 0 and a Brier score near 2); the estimate of 51 of the 119 tasks is
  such an output (``artifact`` in the optima file; ``is_artifact``), among them YAHPO's own
  suite instances 12, 16 and 40499: their optimum is 0 and a study that finds such a config
  shows no regret. On the other 68 the local search still gains over the best of 20000 random
  configs (median 0.015 in ``1 - acc``; ``random_best`` in the file), so the estimate is an
  optimistic extrapolation and regrets stay positive. ``rbv2_xgboost-dev`` takes tasks with no
  artifact and a small gain.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyperpilot.benchmarks.base import Benchmark, Evaluation
from hyperpilot.benchmarks.optima import cached_estimate, packaged_optima
from hyperpilot.benchmarks.synthetic import curve_budgets
from hyperpilot.benchmarks.yahpo import NA, onnx_session, read_encoding, scenario_folder
from hyperpilot.configspace_io import from_configspace_dict
from hyperpilot.data import resolve_data_dir
from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Fidelity

SCENARIO = "rbv2_xgboost"
RBV2_FIDELITY = Fidelity(min=1 / 27, max=1.0, eta=3)
MIN_TRAINSIZE = 0.03
"""The smallest trainsize of YAHPO's config space (and of its training data)."""
REPL = 10
CAT_INPUTS = ("task_id", "booster", "num.impute.selected.cpo")
CONT_INPUTS = ("nrounds", "eta", "gamma", "lambda", "alpha", "subsample", "max_depth",
               "min_child_weight", "colsample_bytree", "colsample_bylevel", "rate_drop",
               "skip_drop", "trainsize", "repl")
OUTPUTS = ("acc", "bac", "auc", "brier", "f1", "logloss", "timetrain", "timepredict", "memory")
_HP_CONT = CONT_INPUTS[:-2]
_FIXED = ("task_id", "trainsize", "repl")
OPTIMA_FILE = Path(__file__).with_name("rbv2_xgboost_optima.json")


@dataclass(frozen=True)
class _Files:
    folder: Path
    codes: dict[str, dict[str, int]]
    space: SearchSpace
    tasks: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def _files(data_dir: str) -> _Files:
    folder = scenario_folder(data_dir, SCENARIO, "rbv2_xgboost")
    cs = json.loads((folder / "config_space.json").read_text())
    task_hp = next(h for h in cs["hyperparameters"] if h["name"] == "task_id")
    cs["hyperparameters"] = [h for h in cs["hyperparameters"] if h["name"] not in _FIXED]
    codes = read_encoding(folder)
    listed = [str(t) for t in task_hp["choices"]]
    tasks = tuple(dict.fromkeys(listed + [t for t in codes["task_id"] if t != NA]))
    return _Files(folder, codes, from_configspace_dict(cs), tasks)


def rbv2_xgboost_tasks(data_dir: str | Path | None = None) -> list[str]:
    """The 119 OpenML dataset ids the surrogate encodes (strings, in ``config_space.json``'s order)."""
    return list(_files(str(resolve_data_dir(data_dir))).tasks)


def encode_rows(configs: Sequence[Config], trainsizes: Sequence[float] | np.ndarray, task: str,
                codes: dict[str, dict[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The surrogate's inputs for ``configs[i]`` at ``trainsizes[i]``.

    Args:
        configs: ``n`` valid configs (active parameters only).
        trainsizes: ``n`` training-set fractions (clipped to ``[0.03, 1]``).
        task: the task id.
        codes: ``encoding.json`` (see ``yahpo.read_encoding``).

    Returns:
        ``(x_cat, x_cont)``: int32 ``n x 3`` and float32 ``n x 14`` (inactive parameters 0.0,
        ``repl`` = 10).
    """
    ts = np.clip(np.asarray(trainsizes, dtype=float), MIN_TRAINSIZE, 1.0)
    task_code = codes["task_id"][task]
    x_cat = np.array([[task_code] + [codes[n][str(c[n])] for n in CAT_INPUTS[1:]] for c in configs],
                     dtype=np.int32).reshape(len(configs), len(CAT_INPUTS))
    hp = np.array([[float(c.get(n, 0.0)) for n in _HP_CONT] for c in configs],
                  dtype=float).reshape(len(configs), len(_HP_CONT))
    x_cont = np.column_stack([hp, ts, np.full(len(configs), float(REPL))]).astype(np.float32)
    return x_cat, x_cont


@dataclass
class RBV2XGBoost(Benchmark):
    """One rbv2_xgboost task; see the module docstring for value, cost, curve and fidelity."""

    task_id: str = "1489"
    data_dir: Path = field(default_factory=Path)
    n_curve_points: int = 5

    def predict(self, configs: Sequence[Config], trainsizes: Sequence[float] | np.ndarray) -> np.ndarray:
        """Raw surrogate outputs (``OUTPUTS``), ``n x 9``, for ``configs[i]`` at ``trainsizes[i]``."""
        files = _files(str(self.data_dir))
        x_cat, x_cont = encode_rows(configs, trainsizes, self.task_id, files.codes)
        sess = onnx_session(str(files.folder / "model.onnx"))
        return np.asarray(sess.run(None, {"x_cat": x_cat, "x_cont": x_cont})[0], dtype=float)

    def _evaluate(self, config: Config, budget: float, resume_budget: float, seed: int) -> Evaluation:
        budgets = curve_budgets(resume_budget, budget, self.fidelity.min, self.n_curve_points)
        out = self.predict([config] * len(budgets), budgets)
        val = 1.0 - np.clip(out[:, 0], 0.0, 1.0)
        curve = [(float(b), float(v)) for b, v in zip(budgets, val, strict=True) if b > resume_budget]
        return float(val[-1]), curve, max(float(out[-1, 6]), 0.0)

    def values_at(self, configs: Sequence[Config], trainsize: float) -> np.ndarray:
        """``1 - acc`` of ``n`` valid configs at one trainsize; returns ``n``."""
        out = self.predict(configs, np.full(len(configs), float(trainsize)))
        return 1.0 - np.clip(out[:, 0], 0.0, 1.0)


def make_rbv2_xgboost(task_id: str | int, data_dir: str | Path | None = None,
                      seed: int = 0) -> RBV2XGBoost:
    """The rbv2_xgboost benchmark for one task (an OpenML dataset id).

    Raises:
        DataDirError: when no data directory is given or found.
        ValueError: when ``task_id`` is not one of the surrogate's tasks.
    """
    bench = _bench(str(task_id), data_dir, seed)
    opt = _load_optima().get(bench.task_id) or cached_optimum(bench)
    bench.optimum, bench.optimum_note = float(opt["optimum"]), str(opt["note"])
    return bench


def _bench(tid: str, data_dir: str | Path | None, seed: int) -> RBV2XGBoost:
    """The benchmark with no optimum yet (0.0, no note)."""
    root = resolve_data_dir(data_dir)
    assert root is not None  # required=True raises instead
    files = _files(str(root))
    if tid not in files.tasks or tid not in files.codes["task_id"]:
        known = ", ".join(sorted(files.tasks, key=int))
        raise ValueError(f"unknown rbv2_xgboost task {tid!r} (an OpenML dataset id); known: {known}")
    return RBV2XGBoost(f"{SCENARIO}:{tid}", files.space, RBV2_FIDELITY, 0.0, "", True, seed,
                       task_id=tid, data_dir=root)


@functools.lru_cache(maxsize=1)
def _load_optima() -> dict[str, dict[str, Any]]:
    return packaged_optima(OPTIMA_FILE)


def cached_optimum(bench: RBV2XGBoost) -> dict[str, Any]:
    """The optimum estimate of a task that ``rbv2_xgboost_optima.json`` lacks, computed on first
    use with ``estimate_optimum``'s defaults and cached per user (``hyperpilot.benchmarks.optima``).

    Returns:
        ``{"optimum": ..., "note": ...}``; the note names the cache file.
    """
    model = _files(str(bench.data_dir)).folder / "model.onnx"
    return cached_estimate(OPTIMA_FILE.name, bench.name, bench.task_id, model,
                           lambda: estimate_optimum(bench))


# --------------------------------------------------------------------- optimum estimation
@dataclass(frozen=True)
class OptimumSearch:
    """What ``search_optimum`` found: the estimate, its config, how, and the random phase's best."""

    value: float
    config: Config
    note: str
    random_best: float


def search_optimum(bench: RBV2XGBoost, n_random: int = 20000, n_starts: int = 8, n_iter: int = 25,
                   n_local: int = 64, seed: int = 0) -> OptimumSearch:
    """Estimate ``min 1 - acc`` at trainsize 1 on the surrogate, as LCBench's optima were.

    Random search over ``n_random`` configs drawn uniformly in the unit-cube encoding
    (``space.sample``), then, from the ``n_starts`` best, a (1+``n_local``) Gaussian local search
    in the encoding (decoded to valid configs) for ``n_iter`` iterations with a step shrinking
    from 0.1 to 0.005.

    Returns:
        The estimate (``1 - acc``), its config, a note on how, and the best random value (a
        local search that gains much over it went where the surrogate extrapolates).
    """
    rng, space = np.random.default_rng(seed), bench.space
    configs = space.sample(n_random, rng)
    v = bench.values_at(configs, 1.0)
    order = np.argsort(v, kind="stable")[:n_starts]
    best = [configs[i] for i in order]
    best_v, best_u = v[order], space.encode(best)
    for step in np.geomspace(0.1, 0.005, n_iter):
        noise = step * rng.standard_normal((n_starts, n_local, space.dim))
        cand = space.decode(np.clip(best_u[:, None, :] + noise, 0, 1).reshape(-1, space.dim))
        cv = bench.values_at(cand, 1.0).reshape(n_starts, n_local)
        for s, j in enumerate(np.argmin(cv, axis=1)):
            if cv[s, j] < best_v[s]:
                best[s], best_v[s] = cand[s * n_local + j], cv[s, j]
        best_u = space.encode(best)
    k = int(np.argmin(best_v))
    note = (f"estimated: best of {n_random} random configs + local search from the {n_starts} best "
            f"({n_iter} x {n_local} Gaussian steps in the unit-cube encoding) at trainsize 1, "
            f"seed {seed}")
    return OptimumSearch(float(best_v[k]), best[k], note, float(v.min()))


def estimate_optimum(bench: RBV2XGBoost, seed: int = 0) -> tuple[float, str]:
    """``search_optimum``'s ``(estimate, note)`` with its default effort."""
    found = search_optimum(bench, seed=seed)
    return found.value, found.note


def is_artifact(outputs: np.ndarray) -> bool:
    """True for a self-contradicting surrogate output (a row in ``OUTPUTS`` order): an accuracy of
    at least 0.99 with a Brier score of at least 1 (the score of mostly wrong predictions) or a
    balanced accuracy below 0.5 (most of the classes' recall lost). A conservative flag: it
    misses optimistic extrapolations whose metrics agree with each other."""
    acc, bac, brier = float(outputs[0]), float(outputs[1]), float(outputs[3])
    return acc >= 0.99 and (brier >= 1.0 or bac < 0.5)


def main(argv: list[str] | None = None) -> None:
    """``python -m hyperpilot.benchmarks.rbv2_xgboost --estimate-optima [--data-dir DIR]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estimate-optima", action="store_true", required=True)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--tasks", default=None, help="comma list (default: all 119)")
    ap.add_argument("--out", default=str(OPTIMA_FILE))
    args = ap.parse_args(argv)
    tasks: dict[str, dict[str, Any]] = {}
    ids = args.tasks.split(",") if args.tasks else rbv2_xgboost_tasks(args.data_dir)
    for tid in ids:
        bench = _bench(tid, args.data_dir, 0)
        found = search_optimum(bench)
        out = bench.predict([found.config], [1.0])[0]
        artifact = is_artifact(out)
        note = found.note + ("; the estimate is a self-contradicting surrogate output "
                             "(is_artifact)" if artifact else "")
        tasks[tid] = {"optimum": round(found.value, 6), "note": note,
                      "random_best": round(found.random_best, 6), "artifact": artifact,
                      "config": {k: round(v, 6) if isinstance(v, float) else v
                                 for k, v in found.config.items()},
                      "outputs": dict(zip(OUTPUTS, np.round(out, 4).tolist(), strict=True))}
        print(f"{tid:>6s} {found.value:.5f} (random {found.random_best:.5f})"
              f"{'  artifact' if artifact else ''}", flush=True)
    Path(args.out).write_text(json.dumps({"objective": "1 - acc at trainsize 1 (repl 10)",
                                          "tasks": tasks}, indent=1) + "\n")


if __name__ == "__main__":
    main()
