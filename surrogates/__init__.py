"""BNN surrogates as BoTorch models (deep ensembles, MC dropout, Laplace) and the GP baselines.

Shared API::

    model = DeepEnsemble(seed=0).fit(train_X, train_Y)   # n x d in [0,1]^d, n x 1 (maximise)
    post = model.posterior(test_X)                        # .mean, .variance: batch x q x 1
    model = make_surrogate("gp-capped", seed=0).fit(train_X, train_Y)   # by registered name

Every model exposes ``train_X``, ``train_Y`` (caller's units), ``train_Yvar`` and ``fit_info``.
``SURROGATES`` maps names to :class:`SurrogateSpec`; a new surrogate is one module here plus one
``register_surrogate`` line (``surrogates.registry``).
"""

from surrogates._data import FitError
from surrogates.capped import CappedGP
from surrogates.dropout import MCDropout
from surrogates.ensemble import DeepEnsemble
from surrogates.ensemble_rp import RandomizedPriorEnsemble
from surrogates.gp import GP
from surrogates.registry import (
    SURROGATES,
    SurrogateModel,
    SurrogateSpec,
    UnknownSurrogate,
    make_surrogate,
    register_surrogate,
    surrogate_spec,
)
from surrogates.rff import RFFNetwork
from surrogates.stacked import StackedSurrogate

__all__ = ["GP", "SURROGATES", "CappedGP", "DeepEnsemble", "FitError", "MCDropout",
           "RandomizedPriorEnsemble", "RFFNetwork", "StackedSurrogate", "SurrogateModel", "SurrogateSpec", "UnknownSurrogate", "make_surrogate",
           "register_surrogate", "surrogate_spec"]
