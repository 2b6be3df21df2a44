"""Small objectives shared by the study tests (importable, so worker processes can use them)."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import hyperpilot as hp

SPACE = hp.SearchSpace({"x": hp.Float(-5, 10), "y": hp.Float(0, 15),
                        "k": hp.Int(1, 4), "act": hp.Categorical(["relu", "tanh"])})
FIDELITY = hp.Fidelity(1, 27, 3)


def branin_mf(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Branin plus a bias that vanishes at the max budget, with a short curve."""
    x, y = config["x"], config["y"]
    v = (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2
    v += 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10 + 0.1 * config["k"]
    v += (0.5 if config["act"] == "tanh" else 0.0) + 3.0 * (1 - budget / 27)
    sleep = float(os.environ.get("HP_TEST_SLEEP", "0"))
    if sleep:
        time.sleep(sleep)
    log = os.environ.get("HP_TEST_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{ctx.trial.trial_id}\n")
    return v, [(budget, v)]


def noisy_branin(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """``branin_mf`` plus noise of sd 3 that depends on the seed only (the same along a curve)."""
    v, curve = branin_mf(config, budget, resume_budget, ctx)
    e = 3.0 * math.sin(12.9898 * ctx.seed + 78.233 * config["x"])
    return v + e, [(b, y + e) for b, y in curve]


def nan_objective(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    return float("nan")


def raising_objective(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    raise RuntimeError("boom")


def hanging_objective(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    time.sleep(60)
    return 0.0


def reporting_curve(config: dict[str, Any], budget: float, resume_budget: float,
                    ctx: Any) -> Any:
    """A curve reported at every unit of budget, so a pruner can stop it; its level is
    ``10 x`` (smaller is better), approached as ``2 / b``."""
    curve = []
    for b in range(int(resume_budget) + 1, int(budget) + 1):
        v = 10 * config["x"] + 2.0 / b
        curve.append((float(b), v))
        if ctx.report(b, v):
            break
    return curve[-1][1], curve
