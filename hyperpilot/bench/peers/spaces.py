"""Our ``SearchSpace`` in each peer's own terms: Optuna define-by-run calls and a ConfigSpace."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import numpy as np

from hyperpilot.configspace_io import to_configspace_dict
from hyperpilot.space import Categorical, Config, Float, Int, SearchSpace


def suggest_optuna(trial: Any, space: SearchSpace) -> Config:
    """Sample a config through ``trial.suggest_*`` (an ``optuna.Trial``), active parameters only.

    Parents precede children in ``space.params``, so a child is suggested only when its parent's
    sampled value makes it active (Optuna's define-by-run view of conditions).
    """
    conds = {c.child: c for c in space.conditions}
    cfg: dict[str, Any] = {}
    for name, p in space.params.items():
        c = conds.get(name)
        if c is not None and (c.parent not in cfg or cfg[c.parent] not in c.values):
            continue
        if isinstance(p, Float):
            cfg[name] = trial.suggest_float(name, p.low, p.high, log=p.log)
        elif isinstance(p, Int):
            cfg[name] = trial.suggest_int(name, int(p.low), int(p.high), log=p.log)
        else:
            assert isinstance(p, Categorical)
            cfg[name] = trial.suggest_categorical(name, list(p.choices))
    return space.validate(cfg)


def to_configspace(space: SearchSpace, seed: int) -> Any:
    """A seeded ``ConfigSpace.ConfigurationSpace`` equal to ``space`` (via its JSON form)."""
    from ConfigSpace import ConfigurationSpace

    cs = ConfigurationSpace.from_json(StringIO(json.dumps(to_configspace_dict(space))))
    cs.seed(seed)
    return cs


def from_configuration(cfg: Any, space: SearchSpace) -> Config:
    """A ConfigSpace ``Configuration`` (a mapping of active values) as our validated config."""
    out = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in dict(cfg).items()}
    for name, p in space.params.items():
        if name in out and isinstance(p, Int):
            out[name] = int(round(out[name]))
    return space.validate(out)
