"""Related tasks: observations from other benchmarks of the same space, for a transfer surrogate.

A surrogate that learns its features on related tasks (``surrogates.transfer``, registered as
``transfer``) needs their observations in the study's own encoding. This module names the
related tasks of a benchmark and evaluates them:

* ``lcbench:<id>``: the LCBench development tasks of ``../shared/data/README.md`` other than
  ``<id>`` (all ten for a task outside them), so a development task never sees itself and a
  held-out task sees only development tasks;
* every other benchmark: none (the transfer surrogate then has only its stationary block).

The related data is a JSON-able spec in the method's options (``related_spec``), turned into
arrays when the method first fits (``related_data``), so a study's definition stays small and a
resumed study rebuilds the same arrays from the same seed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperpilot.space import SearchSpace
from hyperpilot.trial import Fidelity

RELATED_POINTS = 400
"""Configs evaluated per related task (each at one Hyperband budget, the budgets in turn)."""


def related_benchmarks(name: str) -> list[str]:
    """The benchmark names related to ``name`` (see the module docstring); ``[]`` for none."""
    from hyperpilot.benchmarks import LCBENCH_DEV_TASKS

    if name.startswith("lcbench:"):
        task = name.split(":", 1)[1]
        return [f"lcbench:{t}" for t in LCBENCH_DEV_TASKS if str(t) != task]
    return []


def related_spec(name: str, data_dir: str | None, points: int = RELATED_POINTS) -> dict[str, Any]:
    """The method option ``related`` for a study on benchmark ``name``: JSON-able."""
    return {"tasks": related_benchmarks(name), "points": points, "data_dir": data_dir}


def hyperband_budgets(fidelity: Fidelity) -> list[float]:
    """Hyperband's rung budgets ``max * eta^-k >= min``, ascending (those a study's trials get)."""
    k_max = int(math.floor(math.log(fidelity.max / fidelity.min) / math.log(fidelity.eta) + 1e-9))
    return sorted(fidelity.max * fidelity.eta ** -k for k in range(k_max + 1))


def related_data(spec: dict[str, Any], space: SearchSpace, fidelity: Fidelity, seed: int,
                 budget_input: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """Evaluate the related tasks of ``spec``: one ``(X, y)`` per task.

    Each task gets ``spec["points"]`` configs sampled uniformly from ``space`` (seeded by ``seed``
    and the task's position), the ``i``-th at the ``i mod R``-th of the ``R`` Hyperband budgets.

    Args:
        spec: ``related_spec``'s dict.
        space: The study's space; every related task must have the same one.
        fidelity: The study's fidelity (the budgets, and the budget column's scale).
        seed: The study's seed.
        budget_input: Append the budget column (``bo_data.budget_column``), as the ``fidelity``
            data rule does.

    Returns:
        ``X`` (``points x (d + 1)`` unit-cube encodings, the budget last) and ``y`` (``points``,
        larger is better: ``-value``) per task.

    Raises:
        ValueError: when a related task's space differs from ``space``.
    """
    from hyperpilot.bench.targets import bench_problem
    from hyperpilot.methods.bo_data import budget_column

    out = []
    budgets = hyperband_budgets(fidelity) if budget_input else [fidelity.max]
    for i, name in enumerate(spec.get("tasks", [])):
        problem = bench_problem(name, spec.get("data_dir"), seed)
        if problem.space.fingerprint() != space.fingerprint():
            raise ValueError(f"related task {name} has another search space than the study's")
        rng = np.random.default_rng([seed, i, 7411])
        n = int(spec.get("points", RELATED_POINTS))
        configs = space.sample(n, rng)
        b = [budgets[j % len(budgets)] for j in range(n)]
        y = np.array([-float(problem.objective(c, bj)[0]) for c, bj in zip(configs, b, strict=True)])
        X = space.encode(configs)
        if budget_input:
            z = np.array([budget_column(bj, fidelity.min, fidelity.max) for bj in b])
            X = np.column_stack([X, z])
        out.append((X, y))
    return out


def method_related_options(method: str, benchmark: str, data_dir: str | None) -> dict[str, Any]:
    """``{"related": related_spec(...)}`` when ``method`` is a model-based method whose surrogate
    learns from related tasks (registered with ``related``), or one registered with
    ``local_related`` on its own surrogate where there are related tasks (``gp-bo``: they only
    switch on the local share), else ``{}``: what the bench adds to a cell's method options
    (``ModelMethod.related_role`` is the rule, the one ``ModelMethod`` follows). ``pb2``'s
    explore model is fitted on (time, mutable hyperparameters) -> improvement, not on the configs
    the related tasks are evaluated at, so ``pb2-bnn@transfer`` gets none and its surrogate is the
    single-task ``rff-kev``."""
    from hyperpilot.methods import METHODS, ModelMethod, parse_method

    parsed = parse_method(method)
    factory = METHODS[parsed.base]
    if not isinstance(factory, ModelMethod):
        return {}
    spec = related_spec(benchmark, data_dir)
    role = factory.related_role(parsed.surrogate)
    return {"related": spec} if role == "model" or (role == "local" and spec["tasks"]) else {}
