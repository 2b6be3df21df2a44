"""Benchmarks: a plain-dict registry of factories, plus named suites.

Registered names: ``branin``, ``hartmann6`` (synthetic, known optima), ``bandit`` (epsilon-greedy
agents on bandits, estimated optimum), ``noisy-brittle`` (a synthetic function whose best runs
are lucky seeds of a brittle basin, ``hyperpilot.benchmarks.brittle``), ``schedule-toy`` (SGD on a
noisy quadratic, checkpointed, where a learning-rate schedule matters:
``hyperpilot.benchmarks.schedule_toy``), ``lcbench:<task_id>`` (YAHPO's LCBench surrogate) and
``rbv2_xgboost:<task_id>`` (YAHPO's XGBoost surrogate, a mixed conditional space; the task id is
an OpenML dataset id); the last two need the data directory. ``expand_suite("lcbench-dev")``
gives LCBench's ten development tasks, ``expand_suite("rbv2_xgboost-dev")`` rbv2_xgboost's four.

A factory is called as ``factory(variant, data_dir, seed)`` where ``variant`` is the text after the
first ``:`` in the name (``"3945"`` for ``lcbench:3945``; None when absent).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hyperpilot.benchmarks.base import Benchmark, Evaluation

BenchmarkFactory = Callable[[str | None, Path | None, int], Benchmark]
"""``factory(variant, data_dir, seed) -> Benchmark``."""

LCBENCH_DEV_TASKS = [3945, 7593, 34539, 126025, 126026, 126029, 146212, 167104, 167149, 167152]
"""LCBench tasks for development and tuning; the other 25 the surrogate encodes are held out for
evaluation."""

RBV2_XGBOOST_DEV_TASKS = [1487, 46, 312, 41146]
"""rbv2_xgboost tasks (OpenML dataset ids: ozone-level-8hr, splice, scene, sylvine; 2,400-5,100
rows) for development and tuning; the other 115 the surrogate encodes, YAHPO's own suite
instances (12, 16, 1501, 40499) among them, are held out for evaluation. Chosen among the tasks
whose optimum estimate is no self-contradicting surrogate output and gains least over random
search (see ``rbv2_xgboost_optima.json``)."""

TASK_BENCHMARKS = ("lcbench", "rbv2_xgboost")
"""Registered benchmarks whose names need a ``:<task_id>``."""

SUITES: dict[str, list[str]] = {
    "lcbench-dev": [f"lcbench:{t}" for t in LCBENCH_DEV_TASKS],
    "rbv2_xgboost-dev": [f"rbv2_xgboost:{t}" for t in RBV2_XGBOOST_DEV_TASKS],
    "synthetic": ["branin", "hartmann6"],
}


class UnknownBenchmarkError(KeyError, ValueError):
    """An unknown benchmark or suite name; the message lists the known names."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _no_variant(name: str, variant: str | None) -> None:
    if variant is not None:
        raise UnknownBenchmarkError(f"benchmark '{name}' takes no ':<variant>', got '{name}:{variant}'")


def _branin(variant: str | None, data_dir: Path | None, seed: int) -> Benchmark:
    from hyperpilot.benchmarks.synthetic import make_branin

    _no_variant("branin", variant)
    return make_branin(seed=seed)


def _hartmann6(variant: str | None, data_dir: Path | None, seed: int) -> Benchmark:
    from hyperpilot.benchmarks.synthetic import make_hartmann6

    _no_variant("hartmann6", variant)
    return make_hartmann6(seed=seed)


def _bandit(variant: str | None, data_dir: Path | None, seed: int) -> Benchmark:
    from hyperpilot.benchmarks.bandit import make_bandit

    _no_variant("bandit", variant)
    return make_bandit(seed=seed)


def _noisy_brittle(variant: str | None, data_dir: Path | None, seed: int) -> Benchmark:
    from hyperpilot.benchmarks.brittle import make_noisy_brittle

    _no_variant("noisy-brittle", variant)
    return make_noisy_brittle(seed=seed)


def _schedule_toy(variant: str | None, data_dir: Path | None, seed: int) -> Benchmark:
    from hyperpilot.benchmarks.schedule_toy import make_schedule_toy

    _no_variant("schedule-toy", variant)
    return make_schedule_toy(seed=seed)


def _lcbench(variant: str | None, data_dir: Path | None, seed: int) -> Benchmark:
    from hyperpilot.benchmarks.lcbench import make_lcbench

    if not variant:
        raise UnknownBenchmarkError("LCBench needs a task id: 'lcbench:<task_id>', e.g. "
                                    f"'lcbench:{LCBENCH_DEV_TASKS[0]}'")
    return make_lcbench(variant, data_dir, seed)


def _rbv2_xgboost(variant: str | None, data_dir: Path | None, seed: int) -> Benchmark:
    from hyperpilot.benchmarks.rbv2_xgboost import make_rbv2_xgboost

    if not variant:
        raise UnknownBenchmarkError("rbv2_xgboost needs a task id (an OpenML dataset id): "
                                    "'rbv2_xgboost:<task_id>', e.g. "
                                    f"'rbv2_xgboost:{RBV2_XGBOOST_DEV_TASKS[0]}'")
    return make_rbv2_xgboost(variant, data_dir, seed)


BENCHMARKS: dict[str, BenchmarkFactory] = {
    "branin": _branin,
    "hartmann6": _hartmann6,
    "bandit": _bandit,
    "noisy-brittle": _noisy_brittle,
    "schedule-toy": _schedule_toy,  # checkpointed noisy quadratic: for pbt, pb2 (schedules)
    "lcbench": _lcbench,
    "rbv2_xgboost": _rbv2_xgboost,
}


def register_benchmark(name: str, factory: BenchmarkFactory) -> None:
    """Add (or replace) a benchmark factory under ``name`` (no ``:`` in it)."""
    if not name or ":" in name:
        raise ValueError(f"benchmark names must be non-empty and contain no ':', got {name!r}")
    BENCHMARKS[name] = factory


def known_names() -> list[str]:
    """Registered names as users type them (``lcbench`` shown as ``lcbench:<task_id>``)."""
    return [f"{n}:<task_id>" if n in TASK_BENCHMARKS else n for n in BENCHMARKS]


def get_benchmark(name: str, data_dir: str | Path | None = None, seed: int = 0) -> Benchmark:
    """Build the benchmark ``name`` (``"branin"``, ``"lcbench:3945"``, ...).

    Args:
        name: a registered name, optionally followed by ``:<variant>``.
        data_dir: the data directory for data-backed benchmarks (else ``$HYPERPILOT_DATA``).
        seed: the noise seed used when a call gets no ``Context``.

    Raises:
        UnknownBenchmarkError: (a ``KeyError`` and ``ValueError``) for an unknown name.
    """
    base, _, variant = name.partition(":")
    factory = BENCHMARKS.get(base)
    if factory is None:
        raise UnknownBenchmarkError(f"unknown benchmark {name!r}; known: {', '.join(known_names())}"
                                    f"; suites: {', '.join(SUITES)}")
    return factory(variant or None, None if data_dir is None else Path(data_dir), seed)


def expand_suite(name: str) -> list[str]:
    """A suite's benchmark names (``"lcbench-dev"`` -> ten ``lcbench:<id>``), or ``[name]``.

    Raises:
        UnknownBenchmarkError: when ``name`` is neither a suite nor a registered benchmark.
    """
    if name in SUITES:
        return list(SUITES[name])
    if name.partition(":")[0] not in BENCHMARKS:
        raise UnknownBenchmarkError(f"unknown benchmark or suite {name!r}; known: "
                                    f"{', '.join(known_names())}; suites: {', '.join(SUITES)}")
    return [name]


__all__ = [
    "BENCHMARKS", "LCBENCH_DEV_TASKS", "RBV2_XGBOOST_DEV_TASKS", "SUITES", "TASK_BENCHMARKS",
    "Benchmark", "BenchmarkFactory", "Evaluation", "UnknownBenchmarkError", "expand_suite",
    "get_benchmark", "known_names", "register_benchmark",
]
