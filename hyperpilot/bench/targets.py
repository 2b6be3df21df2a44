"""Bench names -> problems: registered benchmarks, suites, and small training workloads.

* ``branin``, ``hartmann6``, ``bandit``, ``lcbench:<task>``, ``rbv2_xgboost:<task>`` and
  anything added with ``hyperpilot.benchmarks.register_benchmark`` (known optimum -> regret);
* suites (``lcbench-dev``, ``rbv2_xgboost-dev``, ``synthetic``) expand to their members;
* ``supervised:<dataset>`` -> ``WORKLOADS[...]`` with ``min_epochs=1, max_epochs=9`` (small);
* ``sb3:<algo>:<env>`` -> ``WORKLOADS["sb3"]`` with ``2_000..18_000`` steps (tiny; smoke scale).

Workloads have no known optimum: the report then ranks and plots the incumbent loss instead of
the regret.
"""

from __future__ import annotations

from pathlib import Path

from hyperpilot.problems import Problem, resolve_problem

SUPERVISED_OPTIONS = {"min_epochs": 1, "max_epochs": 9}
SB3_STEPS = {"min_steps": 2_000, "max_steps": 18_000}


def is_workload(name: str) -> bool:
    return name.startswith(("supervised:", "sb3:"))


def expand_benchmarks(names: list[str]) -> list[str]:
    """Suites expanded, order kept, duplicates dropped.

    Raises:
        UnknownBenchmarkError: (a ``KeyError`` and ``ValueError``) for names that are neither.
    """
    from hyperpilot.benchmarks import UnknownBenchmarkError, expand_suite
    from hyperpilot.workloads import WORKLOADS

    out: list[str] = []
    for n in names:
        if n.startswith("supervised:"):
            if n not in WORKLOADS:
                raise UnknownBenchmarkError(
                    f"unknown workload {n!r}; known: "
                    f"{', '.join(w for w in WORKLOADS if w.startswith('supervised:'))}")
            members = [n]
        elif n.startswith("sb3:"):
            if len(n.split(":")) != 3:
                raise UnknownBenchmarkError(f"SB3 benchmarks are 'sb3:<algo>:<env>', got {n!r}")
            members = [n]
        else:
            members = expand_suite(n)
        out += [m for m in members if m not in out]
    return out


def bench_problem(name: str, data_dir: str | Path | None, seed: int) -> Problem:
    """The :class:`Problem` for one expanded bench name; ``seed`` is the objective's noise seed."""
    if name.startswith("supervised:"):
        return resolve_problem(workload=name, workload_options=dict(SUPERVISED_OPTIONS))
    if name.startswith("sb3:"):
        _, algo, env = name.split(":")
        return resolve_problem(workload="sb3", workload_options={"algo": algo, "env": env,
                                                                 **SB3_STEPS})
    return resolve_problem(benchmark=name, data_dir=data_dir, seed=seed)
