"""Test the incumbent on fresh seeds that tuning never used (Eimer et al. 2023).

Tuning seeds come from the study's master seed (``hyperpilot.seeds``) and never fall in the test
range; test seeds start at :data:`TEST_SEED_START`, so the two never overlap.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from hyperpilot.problems import Problem
from hyperpilot.seeds import TEST_SEED_START
from hyperpilot.trial import Context, Trial, parse_objective_output


def evaluate_incumbent(problem: Problem, config: dict[str, Any], problem_spec: dict[str, Any],
                   n_seeds: int = 10, eval_every: int | None = None,
                   progress: Path | None = None, workers: int = 1) -> dict[str, Any]:
    """Retrain ``config`` at the max budget on ``n_seeds`` fresh seeds and summarise.

    For SB3 workloads the agent is retrained from scratch on each test seed and evaluated on
    separate evaluation episodes; other problems are re-run at the max budget with the test seeds
    as their noise/initialisation seeds, reporting ``test_value`` where the problem has one.

    Args:
        eval_every: SB3 only: also record each test seed's learning curve, evaluated every this
            many env steps (``"curves"``: one list of ``[steps, return]`` per seed).
        progress: SB3 only: record each finished test seed there, and skip the seeds it holds
            (``workloads.sb3.test_config``), so a killed test resumes at a seed boundary.
        workers: SB3 only: test seeds trained at once, one process each (same result).

    Returns:
        ``{"seeds": [...], "values": [...], "mean": ..., "std": ..., "test_values": [...]?,
        "curves": [...]?}``.

    Raises:
        ValueError: ``eval_every`` or ``workers != 1`` for a problem that is not an SB3 workload.
    """
    seeds = list(range(TEST_SEED_START, TEST_SEED_START + n_seeds))
    if problem_spec.get("workload") == "sb3":
        from hyperpilot.workloads.sb3 import test_config

        opts = problem_spec.get("workload_options") or {}
        out = test_config(opts["algo"], opts["env"], config, int(problem.fidelity.max), seeds,
                          eval_every=eval_every, progress=progress,
                          normalize=opts.get("normalize", "off"), workers=workers)
        vals = [out["per_seed"][s] for s in seeds]
        res = {"seeds": seeds, "values": vals, **_summary(vals), "unit": "mean return"}
        if "curves" in out:
            res["curves"] = [[list(p) for p in out["curves"][s]] for s in seeds]
        return res
    if eval_every is not None:
        raise ValueError("eval_every (test learning curves) needs an SB3 workload")
    if workers != 1:
        raise ValueError(f"workers={workers}: parallel test seeds need an SB3 workload")
    values, tests = [], []
    for s in seeds:
        trial = Trial(-1, -1, config, problem.fidelity.max, 0.0, seed=s)
        with tempfile.TemporaryDirectory() as d:
            ctx = Context(trial, s, Path(d))
            v, _, _ = parse_objective_output(problem.objective(config, problem.fidelity.max, 0.0, ctx))
        values.append(v)
        info = ctx.extras.get("workload_info") or {}
        if "test_value" in info:
            tests.append(float(info["test_value"]))
        elif hasattr(problem.objective, "test_value"):
            tests.append(float(problem.objective.test_value(config)))
    out = {"seeds": seeds, "values": values, **_summary(values), "unit": "objective value"}
    if tests:
        out["test_values"] = tests
        out["test_mean"] = statistics.fmean(tests)
    return out


def _summary(vals: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else 0.0}
