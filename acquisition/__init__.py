"""Batch proposals with q(Log)EI over any BoTorch model, with pending points and mixed spaces."""

from acquisition.fallback import pool_or_random, propose_or_random, random_fallback
from acquisition.pool import CandidatePool, propose_from_pool
from acquisition.propose import ProposalError, ProposeOptions, make_acqf, propose_batch
from acquisition.samplers import AllMembersSampler

__all__ = [
    "AllMembersSampler",
    "CandidatePool",
    "ProposalError",
    "ProposeOptions",
    "make_acqf",
    "pool_or_random",
    "propose_batch",
    "propose_from_pool",
    "propose_or_random",
    "random_fallback",
]
