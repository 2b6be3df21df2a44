"""A local share of each batch: q-LogEI inside a box around the incumbent, late in a study.

Issue 18's 100-FFE grid found that the ``transfer`` network leads the GP early and then stops
improving its incumbent: after 50 FFE the GP's incumbent still improves on 62% of 90 (task,
seed) pairs, the network's on 40%, also at the same regret (``paper/scripts/lead_readout.py``).
Given the same trials, the network is surer than the GP everywhere yet proposes *farther* from
the incumbent (``paper/scripts/late_proposals.py``): it trusts the related tasks' picture of
where good configurations lie, while the GP refines around the task's own incumbent.

``LocalShare`` gives a share of the model's slots in each batch to a trust region (TuRBO,
Eriksson et al. 2019, without its adaptive side): the same acquisition, maximised inside an
axis-aligned box of side ``side`` (unit-cube units) around the incumbent, with the batch's
global points as pending. It applies only once the model is trained on at least ``after``
observations, so a study is unchanged before then (``after=256`` is ``transfer``'s cap on the
points its read-out conditions on, where its lead over the GP starts to fade). Screened on 20
pairs at 100 FFE (README, "Learning from related tasks"): 14 / 4 against ``transfer`` and
11 / 9 against the GP at 100 FFE. On 50 pairs (seeds 0-4): 28 / 14 / 8 against ``transfer`` at
100 FFE, but it is not the network's alone: the GP with the same share (``gp-bo:local``) beats
``gp-bo`` 24 / 16 / 10, and ``transfer`` and the GP, both with the share, tie (26 / 24). On all
nine seeds (90 pairs: 55 / 17 / 18 (p = 8.1e-06) against ``transfer`` at 100 FFE, ``gp-bo:local``
against ``gp-bo`` 48 / 25 / 17 (p = 0.0095), the two with the share 51 / 39 / 0 (p = 0.25)) it
became the default of ``hyperpilot`` and ``gp-bo`` where the study has related tasks
(``ModelMethod.local_related``); ``:global`` turns it off.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class LocalShare:
    """The ``local`` option of a model-based method.

    Attributes:
        after: observations the model is trained on before any local slot.
        share: fraction of the model's slots in a batch that go local (rounded down, at least
            one when there are two or more slots; a batch of one stays global).
        side: the box's side in unit-cube units (clipped to the cube).
    """

    after: int = 256
    share: float = 0.25
    side: float = 0.2

    def __post_init__(self) -> None:
        if self.after < 0 or not 0.0 < self.share < 1.0 or not 0.0 < self.side <= 1.0:
            raise ValueError(f"local needs after >= 0, 0 < share < 1 and 0 < side <= 1; "
                             f"got after={self.after}, share={self.share}, side={self.side}")

    def slots(self, q: int, n: int) -> int:
        """How many of ``q`` model slots go local when the model has ``n`` observations."""
        if n < self.after or q < 2:
            return 0
        return max(1, int(self.share * q))

    def box(self, centre: Tensor, bounds: Tensor) -> Tensor:
        """``2 x d'`` bounds: ``centre +- side / 2`` clipped to ``bounds`` (whose fixed columns,
        such as the fidelity input at the max budget, stay fixed)."""
        lo = torch.maximum(bounds[0], centre - self.side / 2)
        hi = torch.minimum(bounds[1], centre + self.side / 2)
        fixed = bounds[0] == bounds[1]
        return torch.stack([torch.where(fixed, bounds[0], lo), torch.where(fixed, bounds[1], hi)])


def incumbent_row(X: Tensor, Y: Tensor, fid: bool) -> Tensor | None:
    """The encoding of the best observation at the max budget (the fidelity column == 1 with
    ``fid``; any row without), or None when there is none. ``X``: ``n x d'``; ``Y``: ``n x 1``,
    larger is better."""
    at_max = X[:, -1] >= 1.0 - 1e-9 if fid else torch.ones(X.shape[0], dtype=torch.bool)
    if not bool(at_max.any()):
        return None
    rows = at_max.nonzero().squeeze(-1)
    return X[rows[Y[rows, 0].argmax()]].clone()
