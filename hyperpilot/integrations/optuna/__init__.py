"""HyperPilot inside Optuna (``pip install "hyperpilot[peers]"``).

* :class:`HyperPilotSampler`: any method of our registry (the default ``hyperpilot``) proposes
  the configs of an Optuna study, with running trials as pending points;
* :func:`CurvePruner`: our learning-curve stopping rule as an Optuna pruner;
  :class:`PrunerAdapter` makes any ``hyperpilot.pruners.Pruner`` one;
* ``optuna.pruners.HyperbandPruner`` + :class:`HyperPilotSampler` is our multi-fidelity method
  inside Optuna (the sampler learns from every bracket, budget as a model input).

    import optuna
    from hyperpilot.integrations.optuna import HyperPilotSampler, CurvePruner

    study = optuna.create_study(sampler=HyperPilotSampler(seed=0), pruner=CurvePruner())
"""

from __future__ import annotations

from hyperpilot.integrations.optuna.pruner import CurvePruner, PrunerAdapter, decisions
from hyperpilot.integrations.optuna.sampler import HyperPilotSampler

__all__ = ["CurvePruner", "HyperPilotSampler", "PrunerAdapter", "decisions"]
