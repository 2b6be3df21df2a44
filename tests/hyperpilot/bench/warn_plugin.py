"""A ``bench run --imports`` plugin for the tests: method ``warny`` is random search that emits
BoTorch's ``RuntimeWarning: Optimization failed ...`` at every proposal, as a GP fit can."""

from __future__ import annotations

import warnings
from typing import Any

from hyperpilot.methods import METHODS, Method, register_method
from hyperpilot.space import SearchSpace
from hyperpilot.trial import Fidelity


def _warny(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
    method = METHODS["random"](space, fidelity, seed, **opts)
    suggest = method.suggest

    def noisy(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("Optimization failed in `gen_candidates_scipy` with the following "
                      "warning(s): [OptimizationWarning('ABNORMAL')]", RuntimeWarning,
                      stacklevel=2)
        return suggest(*args, **kwargs)

    method.suggest = noisy  # type: ignore[method-assign]
    return method


register_method("warny", _warny)
