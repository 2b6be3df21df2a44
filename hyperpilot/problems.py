"""One view of what a study optimizes, whether it is a registered benchmark or a workload."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperpilot.space import SearchSpace
from hyperpilot.trial import Fidelity


@dataclass(frozen=True)
class Problem:
    """Space, fidelity and objective, plus the optimum where known (for regret)."""

    name: str
    space: SearchSpace
    fidelity: Fidelity
    objective: Any
    direction: str = "minimize"
    optimum: float | None = None
    optimum_note: str = ""
    has_cost: bool = False


def resolve_problem(benchmark: str | None = None, workload: str | None = None,
                    workload_options: dict[str, Any] | None = None,
                    data_dir: str | Path | None = None, seed: int = 0) -> Problem:
    """Build the :class:`Problem` for a benchmark name or a workload name with its options.

    Raises:
        ValueError: when both or neither are given; the registries' own errors for unknown names.
    """
    if (benchmark is None) == (workload is None):
        raise ValueError("give exactly one of a benchmark or a workload")
    if benchmark is not None:
        from hyperpilot.benchmarks import get_benchmark

        b = get_benchmark(benchmark, data_dir=data_dir, seed=seed)
        return Problem(benchmark, b.space, b.fidelity, b, "minimize", b.optimum, b.optimum_note,
                       b.has_cost)
    from hyperpilot.workloads import WORKLOADS

    assert workload is not None
    if workload not in WORKLOADS:
        raise KeyError(f"unknown workload {workload!r}; known: {', '.join(sorted(WORKLOADS))}")
    w = WORKLOADS[workload](**(workload_options or {}))
    return Problem(w.name, w.space, w.fidelity, w.objective, w.direction, None, "", True)
