"""Batch upper confidence bound over a finite candidate set, for any BoTorch model.

Greedy sequential q-UCB (Wilson et al. 2018's MC form of UCB, BoTorch's
``qUpperConfidenceBound``): the ``k``-th pick maximises the joint q-UCB of the pending points,
the ``k - 1`` picks so far and the candidate, so a candidate next to a point already chosen adds
little (the batch spreads out, as GP-BUCB's hallucinated observations make it). Samplers are the
ones ``propose_batch`` uses: every ensemble member once, or seeded Sobol normals.
"""

from __future__ import annotations

import torch
from botorch.acquisition.monte_carlo import qUpperConfidenceBound
from botorch.models.model import Model
from torch import Tensor

from acquisition.samplers import make_sampler


def propose_ucb(model: Model, candidates: Tensor, q: int, pending: Tensor | None = None,
                beta: float = 4.0, seed: int = 0, mc_samples: int = 128) -> list[int]:
    """Pick ``q`` distinct rows of ``candidates`` by greedy batch UCB (larger is better).

    Args:
        model: a fitted single-output model; a ``botorch_model`` attribute, if present, is used.
        candidates: ``n x d`` points (model dtype).
        q: how many to pick (at most ``n``).
        pending: ``m x d`` points already running or chosen, or None.
        beta: the UCB trade-off (``mean + sqrt(beta * pi / 2) * E|Y - mean|``; about
            ``mean + sqrt(beta) * sd`` for one Gaussian point).
        seed: seeds the MC sampler; the caller's global RNG is untouched.
        mc_samples: MC samples for models that are not ensembles.

    Returns:
        ``q`` row indices of ``candidates``, in the order picked.
    """
    if not 1 <= q <= candidates.shape[0]:
        raise ValueError(f"q must be in [1, {candidates.shape[0]}], got {q}")
    inner = getattr(model, "botorch_model", None)
    acq_model: Model = inner if isinstance(inner, Model) else model
    d = candidates.shape[-1]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        sampler = make_sampler(acq_model, d, candidates.dtype, seed, mc_samples)
        af = qUpperConfidenceBound(acq_model, beta=beta, sampler=sampler)
        picked: list[int] = []
        base = pending if pending is not None else candidates[:0]
        for _ in range(q):
            chosen = candidates[picked] if picked else candidates[:0]
            both = torch.cat([base.to(candidates), chosen])
            af.set_X_pending(both if both.shape[0] else None)
            with torch.no_grad():
                vals = af(candidates.unsqueeze(1))
            if picked:
                vals[picked] = -torch.inf
            picked.append(int(vals.argmax()))
    return picked
