"""Multi-fidelity components: Hyperband arithmetic, bracket bookkeeping, learning-curve models.

This package knows budgets, rungs, curves (arrays of budget and value) and probabilities. It never
imports ``hyperpilot``.
"""

from fidelity.hyperband import HyperbandScheduler, Job, hyperband_brackets

__all__ = ["HyperbandScheduler", "Job", "hyperband_brackets"]
from fidelity.curves import (
    BNNCurveModel,
    CurveModel,
    CurveStopper,
    GainCurveModel,
    ParametricCurveModel,
    prob_better,
)

__all__ += ["BNNCurveModel", "CurveModel", "CurveStopper", "GainCurveModel", "ParametricCurveModel",
            "prob_better"]
