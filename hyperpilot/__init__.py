"""HyperPilot: multi-fidelity hyperparameter optimization with BNN surrogates in BoTorch q-LogEI.

The public API (stable names)::

    import hyperpilot as hp
    space = hp.SearchSpace({"lr": hp.Float(1e-5, 1e-1, log=True), "layers": hp.Int(1, 5),
                            "act": hp.Categorical(["relu", "tanh"])})
    study = hp.Study(space, fidelity=hp.Fidelity(min=1, max=81, eta=3), method="hyperband",
                     direction="minimize", seed=0, storage="runs/demo.sqlite")
    trials = study.ask(4)
    study.tell(trials[0], value=0.42, curve=[(1, 0.9), (3, 0.6)])
    study.tell_failure(trials[1], "reason")
    study.best
    hp.minimize(objective, space, fidelity=..., method=..., n_trials=..., n_workers=1, seed=0)
"""

from __future__ import annotations

from hyperpilot.space import Categorical, Condition, Float, Int, SearchSpace, SpaceError
from hyperpilot.trial import Context, Fidelity, Result, Status, Trial


def __getattr__(name: str) -> object:
    """``hp.Study`` and ``hp.minimize`` are imported on first use (they pull in the methods)."""
    if name in ("Study", "minimize"):
        from hyperpilot import study

        return getattr(study, name)
    raise AttributeError(f"module 'hyperpilot' has no attribute {name!r}")


__all__ = [
    "Study", "minimize", "Categorical", "Condition", "Context", "Fidelity", "Float", "Int", "Result", "SearchSpace",
    "SpaceError", "Status", "Trial",
]
__version__ = "0.1.0"
