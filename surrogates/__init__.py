"""BNN surrogates as BoTorch models (deep ensemble, MC dropout) and the GP baseline.

Shared API::

    model = DeepEnsemble(seed=0).fit(train_X, train_Y)   # n x d in [0,1]^d, n x 1 (maximise)
    post = model.posterior(test_X)                        # .mean, .variance: batch x q x 1

Every model exposes ``train_X``, ``train_Y`` (caller's units), ``train_Yvar`` and ``fit_info``.
"""

from surrogates._data import FitError
from surrogates.dropout import MCDropout
from surrogates.ensemble import DeepEnsemble
from surrogates.gp import GP

__all__ = ["GP", "DeepEnsemble", "FitError", "MCDropout"]
