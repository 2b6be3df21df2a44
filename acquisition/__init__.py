"""Batch proposals with q(Log)EI over any BoTorch model, with pending points and mixed spaces."""

from acquisition.fallback import propose_or_random
from acquisition.propose import ProposalError, make_acqf, propose_batch
from acquisition.samplers import AllMembersSampler

__all__ = ["AllMembersSampler", "ProposalError", "make_acqf", "propose_batch", "propose_or_random"]
