"""``HyperPilotSampler``: any method of our registry as an ``optuna.samplers.BaseSampler``.

The relative search space is the intersection of the parameters of the finished trials
(Optuna's ``intersection_search_space``, pruned trials included). For it the sampler builds our
``SearchSpace`` (``space.SpaceMap``), turns the study's trials into our ``History``
(``history.to_history``: every bracket's trials, intermediate values as lower-budget
observations, running trials as pending points) and asks the method's proposer for one config:
the same proposer, surrogate and acquisition as ``Study(method=...)``. Parameters outside the
relative space (conditional ones, or all of them before the first trial finished) are sampled
independently by a seeded ``RandomSampler``.

Budgets: an Optuna trial's ``step`` is its budget. With ``max_resource="auto"`` the max budget
is the last step of the complete trials; a study that reports no step is single-fidelity BO.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study as OptunaStudy
from optuna.trial import FrozenTrial, TrialState

from hyperpilot.integrations.optuna.history import (
    CONFIG_ATTR,
    Budgets,
    max_step,
    to_history,
)
from hyperpilot.integrations.optuna.space import SpaceMap
from hyperpilot.trial import Fidelity

log = logging.getLogger(__name__)

INFO_ATTR = "hyperpilot:info"
"""Trial system attribute: where the sampler's proposal came from (``source``, ``fallback``)."""


def full_study(study: OptunaStudy) -> OptunaStudy:
    """The whole study behind the bracket view Optuna's ``HyperbandPruner`` gives samplers.

    Our surrogate takes the budget as an input, so it learns from every bracket's trials.
    """
    inner = getattr(study, "_study", None)
    return inner if isinstance(inner, OptunaStudy) else study


class HyperPilotSampler(optuna.samplers.BaseSampler):
    """A HyperPilot method's proposer inside Optuna (see the module docstring).

    Args:
        method: a name of ``hyperpilot.methods`` (``"hyperpilot"``, ``"gp-bo"``,
            ``"hyperpilot@gp"``, ``"random"``, ...); only its proposer is used (Optuna's
            pruner, if any, decides budgets).
        seed: the master seed (the proposer's and the independent sampler's).
        method_options: options of the method's factory (``{"surrogate_options": {...}}``).
        max_resource: the max budget in steps, or ``"auto"`` (see the module docstring).
        min_resource: the smallest budget; lower steps count as it.
        eta: the ratio of the ladder intermediate values are thinned to (``history.ladder``).

    Raises:
        hyperpilot.methods.UnknownMethod: for an unknown method name (at construction).
    """

    def __init__(self, method: str = "hyperpilot", seed: int = 0,
                 method_options: dict[str, Any] | None = None,
                 max_resource: int | str = "auto", min_resource: int = 1,
                 eta: float = 3.0) -> None:
        from hyperpilot.methods import parse_method

        parse_method(method)
        if max_resource != "auto" and (not isinstance(max_resource, int) or max_resource < 1):
            raise ValueError(f"max_resource must be 'auto' or an integer >= 1, got {max_resource!r}")
        if min_resource < 1 or eta <= 1:
            raise ValueError(f"need min_resource >= 1 and eta > 1, got {min_resource}, {eta}")
        self.method, self.seed = method, int(seed)
        self.method_options = dict(method_options or {})
        self.max_resource, self.min_resource, self.eta = max_resource, min_resource, eta
        self._independent = optuna.samplers.RandomSampler(seed=self.seed)
        self._proposer: tuple[tuple[Any, ...], Any] | None = None
        self.fallbacks = 0
        """Proposals that fell back to random points because a fit or the acquisition failed."""

    def reseed_rng(self) -> None:
        self._independent.reseed_rng()

    def infer_relative_search_space(self, study: OptunaStudy,
                                    trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if study._is_multi_objective():
            raise ValueError("HyperPilotSampler supports single-objective studies only")
        from optuna.search_space import intersection_search_space

        done = full_study(study).get_trials(deepcopy=False,
                                            states=(TrialState.COMPLETE, TrialState.PRUNED))
        space = intersection_search_space(done, include_pruned=True)
        return {n: d for n, d in space.items() if not d.single()}

    def sample_relative(self, study: OptunaStudy, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        smap = SpaceMap.of(search_space)
        if smap is None:
            return {}
        whole = full_study(study)
        trials = whole.get_trials(deepcopy=False)
        top = max_step(trials, self.max_resource)
        budgets = (Budgets(1.0, 1.0, self.eta) if top is None
                   else Budgets(float(self.min_resource), max(top, self.min_resource), self.eta))
        history = to_history(trials, smap, budgets, whole.direction.name.lower(), trial.number)
        proposer = self._proposer_for(smap, budgets)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x0b7, trial.number]))
        (config, info), = proposer.propose(1, history, rng, budgets.max)
        self.fallbacks += bool(info.get("fallback"))
        params = smap.to_params(config)
        storage = whole._storage
        storage.set_trial_system_attr(trial._trial_id, CONFIG_ATTR, params)
        storage.set_trial_system_attr(trial._trial_id, INFO_ATTR, _jsonable(info))
        return params

    def sample_independent(self, study: OptunaStudy, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        log.debug("trial %d: %r sampled independently (outside the relative space)",
                  trial.number, param_name)
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def _proposer_for(self, smap: SpaceMap, budgets: Budgets) -> Any:
        """The method's proposer for this space and budget range, built once per change."""
        key = (tuple((n, repr(d)) for n, d in smap.distributions.items()), budgets.min,
               budgets.max == budgets.min, budgets.max if self.max_resource != "auto" else 0)
        if self._proposer is None or self._proposer[0] != key:
            from hyperpilot.methods import make_method

            fid = Fidelity(budgets.min, budgets.max, self.eta)
            method = make_method(self.method, smap.space, fid, self.seed, **self.method_options)
            if method.proposer is None:
                raise ValueError(f"method {self.method!r} has no proposer to sample with")
            self._proposer = (key, method.proposer)
        return self._proposer[1]


def _jsonable(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool, type(None)))}
