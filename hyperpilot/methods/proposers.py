"""Proposers choose configs; schedulers (fidelity/) choose budgets. Random sampling lives here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from hyperpilot.methods.base import History
from hyperpilot.space import Config, SearchSpace


class Proposer(ABC):
    """Picks ``k`` new configs given the history (finished and running trials)."""

    name: str = "proposer"

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    @abstractmethod
    def propose(self, k: int, history: History, rng: np.random.Generator,
                max_budget: float) -> list[tuple[Config, dict[str, Any]]]:
        """Return ``k`` ``(config, info)`` pairs; ``info["source"]`` says where each came from."""

    def options(self) -> dict[str, Any]:
        return {"proposer": self.name}


class RandomProposer(Proposer):
    """Uniform sampling in the encoding (log-uniform for log parameters)."""

    name = "random"

    def propose(self, k: int, history: History, rng: np.random.Generator,
                max_budget: float) -> list[tuple[Config, dict[str, Any]]]:
        return [(c, {"source": "random"}) for c in self.space.sample(k, rng)]
