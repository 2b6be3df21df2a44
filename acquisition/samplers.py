"""Deterministic MC samplers: every ensemble member once, or seeded Sobol normals for GPs."""

from __future__ import annotations

import torch
from botorch.models.model import Model
from botorch.posteriors.ensemble import EnsemblePosterior
from botorch.sampling.base import MCSampler
from botorch.sampling.index_sampler import IndexSampler
from botorch.sampling.normal import SobolQMCNormalSampler


class AllMembersSampler(IndexSampler):
    """An ``IndexSampler`` whose ``s`` samples are the ``s`` ensemble members, each exactly once.

    BoTorch's default draws members with replacement (512 draws); enumerating them is exact for a
    uniformly weighted ensemble, deterministic, and 3-5x faster. ``sample_shape`` must be
    ``torch.Size([s])``.
    """

    def _construct_base_samples(self, posterior: EnsemblePosterior) -> None:  # type: ignore[override]
        s = posterior.ensemble_size
        if self.sample_shape != torch.Size([s]):
            raise ValueError(f"sample_shape {tuple(self.sample_shape)} != ensemble size ({s},)")
        target = self.sample_shape + posterior.batch_shape
        if self.base_samples is None or self.base_samples.shape != target:
            idx = torch.arange(s, device=posterior.device)
            idx = idx.view(s, *([1] * len(posterior.batch_shape))).expand(target)
            self.register_buffer("base_samples", idx.contiguous())


def ensemble_size(model: Model, d: int, dtype: torch.dtype) -> int | None:
    """Number of ensemble values ``s`` of ``model``'s posterior, or None if it is not an ensemble."""
    with torch.no_grad():
        post = model.posterior(torch.full((1, d), 0.5, dtype=dtype))
    return post.ensemble_size if isinstance(post, EnsemblePosterior) else None


def make_sampler(model: Model, d: int, dtype: torch.dtype, seed: int, mc_samples: int) -> MCSampler:
    """``AllMembersSampler`` for ensembles, ``SobolQMCNormalSampler(mc_samples, seed)`` otherwise."""
    s = ensemble_size(model, d, dtype)
    if s is not None:
        return AllMembersSampler(sample_shape=torch.Size([s]), seed=seed)
    return SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)
