"""The benchmark interface: a search space, a fidelity range, an objective and its optimum."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Context, Curve, Fidelity

Evaluation = tuple[float, Curve, float]
"""``(value, curve, cost)``: value to minimize at the budget, ``(budget, value)`` points from
``(resume_budget, budget]``, and the cost of this call (budget units or simulated seconds)."""


@dataclass
class Benchmark(ABC):
    """A multi-fidelity objective with a known or estimated optimum; direction is always minimize.

    Attributes:
        name: the registry name (e.g. ``"branin"``, ``"lcbench:3945"``).
        space: the search space.
        fidelity: the budget range and Hyperband's ``eta``.
        optimum: the best value at ``fidelity.max`` (known, or an estimate: an upper bound on the
            true minimum, so a very good optimizer can show a slightly negative regret).
        optimum_note: how ``optimum`` was obtained.
        has_cost: True when the cost is a simulated wall-clock time; False when the cost is just the
            budget spent (``budget - resume_budget``).
        seed: the seed used for the objective's noise when a call gets no ``Context``.
    """

    name: str
    space: SearchSpace
    fidelity: Fidelity
    optimum: float
    optimum_note: str
    has_cost: bool
    seed: int = 0

    def __call__(self, config: Config, budget: float, resume_budget: float = 0.0,
                 context: Context | None = None) -> Evaluation:
        """Evaluate ``config`` at ``budget``, continuing from ``resume_budget`` (0 = from scratch).

        The objective's randomness is seeded by ``context.seed`` (else ``self.seed``): the same
        seed gives the same answer.

        Raises:
            SpaceError: when ``config`` is not valid in ``space``.
            ValueError: when ``budget`` is outside ``(0, fidelity.max]`` or ``resume_budget`` is
                outside ``[0, budget]``.
        """
        cfg = self.space.validate(config)
        budget, resume_budget = float(budget), float(resume_budget)
        if not 0 < budget <= self.fidelity.max * (1 + 1e-9):
            raise ValueError(f"{self.name}: budget {budget} is outside (0, {self.fidelity.max}]")
        if not 0 <= resume_budget <= budget:
            raise ValueError(f"{self.name}: resume_budget {resume_budget} is outside [0, {budget}]")
        seed = self.seed if context is None else int(context.seed)
        return self._evaluate(cfg, min(budget, float(self.fidelity.max)), resume_budget, seed)

    @abstractmethod
    def _evaluate(self, config: Config, budget: float, resume_budget: float, seed: int) -> Evaluation:
        """The objective on a validated config; ``0 <= resume_budget <= budget <= max``."""

    @property
    def noisy(self) -> bool:
        """True when the value depends on the noise seed (then a tuning seed's value is one draw)."""
        return False

    def regret(self, value: float) -> float:
        """Simple regret ``value - optimum`` (same units as the value)."""
        return float(value) - self.optimum

