"""When the surrogate is refitted, and where: the refit schedule, the fit cache, background fits.

A fit is identified by its key ``(training budget, number of observations)``. The schedule
(:func:`refit_size`) depends only on the number of observations, and a fit's seed only on its
key, so a resumed study refits exactly the same models. With ``background=True`` the fit runs in
a ``FitServer`` process while proposals use the newest finished fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import Tensor

from hyperpilot.methods.fit_server import FitServer

if TYPE_CHECKING:
    from surrogates import SurrogateSpec

FitKey = tuple[float, int]  # (training budget, number of observations)
FitInputs = tuple[Tensor, Tensor, Tensor | None, float]  # X, Y, Yvar, best_f


@dataclass(frozen=True)
class Fitted:
    """A fitted surrogate and the value its acquisition improves on.

    Attributes:
        model: the fitted surrogate (a BoTorch ``Model`` with ``train_X`` and ``fit_info``).
        best_f: the best observed value of the data it was fitted on, the acquisition's
            ``best_f`` (which can differ from ``model.train_Y.max()`` when the model is fitted
            on a subset or on fed predictions).
    """

    model: Any
    best_f: float


def refit_size(n: int, min_points: int, growth: float) -> int:
    """The number of (oldest) observations the model is fitted on when ``n`` are available.

    The model is refitted only when the data grew by ``growth`` (at least 4 points) since the
    last refit: thresholds ``m_0 = min_points``, ``m_(k+1) = m_k + max(4, ceil(growth m_k))``.
    ``growth = 0`` refits at every new observation (``m = n``).
    """
    if growth <= 0:
        return n
    m = min_points
    while True:
        nxt = m + max(4, math.ceil(growth * m))
        if nxt > n:
            return m
        m = nxt


def fit_surrogate(surrogate: str | SurrogateSpec, options: dict[str, Any],
                  cat_groups: list[list[int]], X: Tensor, Y: Tensor, Yvar: Tensor | None,
                  best_f: float, seed: int) -> Fitted:
    """Fit one surrogate (a module-level function, so a background process can run it).

    Args:
        surrogate: a name in ``surrogates.SURROGATES``, or its spec (what a background process
            receives: a user's registration need not be repeated in the child).
        options: keyword options of the surrogate's constructor.
        cat_groups: one-hot column groups of the encoding (the GP's categorical kernel).
        X: ``n x d`` inputs in the unit cube; Y: ``n x 1`` targets, larger is better.
        Yvar: ``n x 1`` known noise variances (surrogates that accept them), or None.
        best_f: the best observed value, returned beside the model for the acquisition.
        seed: the surrogate's seed.
    """
    from surrogates import surrogate_spec

    spec = surrogate_spec(surrogate) if isinstance(surrogate, str) else surrogate
    return Fitted(spec.factory(seed, cat_groups or None, dict(options)).fit(X, Y, Yvar), best_f)


class SurrogateFitter:
    """The fitted model to propose from: cached per key, fitted now or in the background.

    Args:
        surrogate: a name in ``surrogates.SURROGATES``.
        options: keyword options of the surrogate's constructor.
        cat_groups: one-hot column groups of the encoding.
        seed: the proposer's seed (each fit's seed derives from it and the fit's key).
        min_points: observations needed for the first fit.
        refit_growth: see :func:`refit_size`.
        background: fit in a ``FitServer`` process and propose from the last finished fit.
    """

    def __init__(self, surrogate: str, options: dict[str, Any], cat_groups: list[list[int]],
                 seed: int, min_points: int, refit_growth: float, background: bool) -> None:
        self.surrogate, self.options, self.cat_groups = surrogate, options, cat_groups
        self.seed, self.min_points, self.refit_growth = seed, min_points, refit_growth
        self.background = background
        self.cache: tuple[FitKey, Fitted] | None = None
        self.server: FitServer | None = None
        self.running: FitKey | None = None  # key of the fit the server is running
        self.stale_proposals = 0  # proposals made from an older fit than the schedule asked for

    def fit_seed(self, key: FitKey) -> int:
        """The seed of the fit with ``key`` (also seeds the candidate pool built on it)."""
        level, m = key
        seed = int(np.random.SeedSequence([self.seed, m, int(level * 1000)]).generate_state(1)[0])
        return seed % (2**31 - 1)

    def model(self, level: float, n: int,
              inputs: Callable[[int], FitInputs]) -> tuple[Fitted | None, FitKey, bool]:
        """The fit to propose from (``Fitted``), its key ``(budget, n points)``, and whether it
        is stale.

        Args:
            level: the training budget of the data.
            n: the number of observations available.
            inputs: ``m -> (X, Y, Yvar, best_f)`` of the first ``m`` observations; called only
                when a fit is needed.

        Returns:
            Without background fitting, the fit of the first ``refit_size(n)`` points (fitted
            now if not cached). With it, the newest finished fit while the scheduled one runs;
            None until the first background fit has finished.
        """
        key = (level, refit_size(n, self.min_points, self.refit_growth))
        if not self.background:
            if self.cache is None or self.cache[0] != key:
                self.cache = (key, fit_surrogate(self.surrogate, self.options, self.cat_groups,
                                                 *inputs(key[1]), self.fit_seed(key)))
            return self.cache[1], key, False
        self.collect(wait=False)
        if (self.cache is None or self.cache[0] != key) and self.running is None:
            self._submit(key, inputs(key[1]))
        if self.cache is None:
            return None, key, True
        stale = self.cache[0] != key
        self.stale_proposals += stale
        return self.cache[1], self.cache[0], stale

    def _submit(self, key: FitKey, inputs: FitInputs) -> None:
        from surrogates import surrogate_spec

        if self.server is None or not self.server.alive:
            self.server = FitServer()
        self.server.submit(fit_surrogate, surrogate_spec(self.surrogate), self.options,
                           self.cat_groups, *inputs, self.fit_seed(key))
        self.running = key

    def collect(self, wait: bool) -> None:
        """Move a finished background fit into the cache (re-raising its error, if any)."""
        if self.running is None or self.server is None:
            return
        if not (wait or self.server.ready()):
            return
        key, self.running = self.running, None
        self.cache = (key, self.server.result())

    def close(self) -> None:
        """Stop the background fitting process, if any (it also exits with the driver)."""
        if self.server is not None:
            self.server.close()
            self.server, self.running = None, None
