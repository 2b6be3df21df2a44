"""The GP with a data cap, as Syne Tune caps its GP searchers (``max_size_data_for_model``).

An exact GP costs ``O(n^3)`` per fit, so Syne Tune fits it on at most ``max_size_data_for_model``
observations (default 500). Its single-fidelity rule (``SubsampleSingleFidelityStateConverter``,
``max_size_top_fraction`` = 0.25 by default): when there are more than ``max_points``
observations, keep the ``round(max_points * top_fraction)`` best ones and fill the rest of the
cap with a uniform sample *without replacement* of the remaining observations. Syne Tune draws a
new sample at every fit; here the sample is drawn from ``seed``, which the proposer derives
from the fit's key, so a fit is reproducible and a resumed study refits the same models.

Syne Tune's MOBSTER (multi-fidelity) searchers subsample differently by default
(``SubsampleMultiFidelityStateConverter``: keep the configs observed at the highest rung levels
with all their data and thin out the lowest levels first). That rule needs to know which input
is the budget, which a surrogate here does not; this class implements the top-fraction rule.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from surrogates._data import check_training_data
from surrogates.gp import GP


def capped_indices(Y: Tensor, max_points: int, top_fraction: float, seed: int) -> Tensor:
    """Indices of the observations kept by the cap, in ascending order.

    Args:
        Y: ``n x 1`` targets, larger is better.
        max_points: The cap; all ``n`` indices are kept when ``n <= max_points``.
        top_fraction: Share of the cap filled with the best observations (ties: the earlier).
        seed: Seeds the uniform sample of the remaining observations.

    Returns:
        A ``min(n, max_points)`` long tensor of row indices.
    """
    n = Y.shape[0]
    if n <= max_points:
        return torch.arange(n)
    order = torch.sort(Y.reshape(-1), descending=True, stable=True).indices
    n_top = int(round(max_points * top_fraction))
    rest = order[n_top:]
    picked = np.random.default_rng(seed).choice(rest.numel(), size=max_points - n_top,
                                                replace=False)
    keep = torch.cat([order[:n_top], rest[torch.as_tensor(picked, dtype=torch.long)]])
    return torch.sort(keep).values


class CappedGP(GP):
    """``GP`` fitted on at most ``max_points`` observations (the top fraction plus a sample).

    ``train_X``/``train_Y``/``train_Yvar`` hold *all* the data after ``fit`` (so the
    acquisition's ``best_f = train_Y.max()`` is the true incumbent), while the posterior comes
    from the GP fitted on the capped subset. ``fit_info`` adds ``n_data`` (all observations) and
    ``capped`` (whether the cap applied); its ``n`` is the number of points the GP was fitted on.

    Args:
        max_points: The cap (Syne Tune's ``max_size_data_for_model``).
        top_fraction: Share of the cap kept for the best observations (Syne Tune's
            ``max_size_top_fraction``).
        cat_groups: One-hot column groups of categorical parameters (see ``GP``).
        seed: Seeds the subsample and the GP's fit.
        dtype: Model dtype (see ``GP``).
        max_fit_seconds: Time limit of one optimiser run (see ``GP``).
        num_threads: ``torch.set_num_threads`` during ``fit`` (see ``GP``).
    """

    def __init__(self, max_points: int = 500, top_fraction: float = 0.25,
                 cat_groups: list[list[int]] | None = None, seed: int = 0,
                 dtype: torch.dtype = torch.float64, max_fit_seconds: float | None = None,
                 num_threads: int | None = 1) -> None:
        super().__init__(cat_groups=cat_groups, seed=seed, dtype=dtype,
                         max_fit_seconds=max_fit_seconds, num_threads=num_threads)
        if max_points < 2 or not 0.0 <= top_fraction <= 1.0:
            raise ValueError(f"need max_points >= 2 and 0 <= top_fraction <= 1, got "
                             f"{max_points} and {top_fraction}")
        self.max_points, self.top_fraction = max_points, top_fraction

    def fit(self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None) -> CappedGP:
        """Fit the GP on the capped subset of ``n x d`` inputs and ``n x 1`` targets.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²).
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        keep = capped_indices(Y, self.max_points, self.top_fraction, self.seed)
        super().fit(X[keep], Y[keep], None if Yvar is None else Yvar[keep])
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self.fit_info.update(n_data=X.shape[0], capped=keep.numel() < X.shape[0])
        return self
