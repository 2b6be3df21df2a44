"""The method interface: a method decides which configs run next and at which budget."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyperpilot.selection import IncumbentRule
from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Fidelity, Result, Trial


@dataclass(frozen=True)
class Suggestion:
    """A trial to be, before the study gives it an id and a seed (``config_id`` is already set)."""

    config_id: int
    config: Config
    budget: float
    resume_budget: float = 0.0
    bracket: int | None = None
    rung: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    seed_index: int = 0  # the config's k-th run (``Trial.seed_index``)


@dataclass
class History:
    """What a method may look at when it suggests: finished results and running trials.

    Values in ``results`` are in the user's direction; ``loss(result)`` gives "smaller is better"
    (``inf`` for a failed trial), and ``value_loss(value)`` does the same for a bare value, such
    as a learning-curve point.
    """

    results: list[Result]
    pending: list[Trial]
    loss: Callable[[Result], float]
    new_config_id: Callable[[], int]
    value_loss: Callable[[float], float] = float


class Method(ABC):
    """Decides what runs next. Deterministic: same seed and same events give the same suggestions.

    A study calls :meth:`suggest` to get new trials, :meth:`observe` with each result, and on
    resume replays stored events through :meth:`replay_ask` and :meth:`observe` in their original
    order, so the method's state (brackets, rungs) is rebuilt without re-proposing.
    """

    name: str = "method"
    stop_rule: Any = None
    """A ``hyperpilot.stopping.StopRule`` to stop runs early from their curves, or None."""
    stop_curves: Any = None
    """The ``hyperpilot.stopping.OnlineCurveModel`` behind a ``"bnn"`` or ``"gain"`` rule, or None."""
    proposer: Any = None
    """The ``hyperpilot.methods.Proposer`` that picks new configs, for methods built on one
    (``ScheduledMethod``); ``hyperpilot.integrations.optuna.HyperPilotSampler`` samples with it."""
    paired_seeds: bool = False
    """True: a config's ``k``-th run gets the study's ``k``-th tuning seed (``hyperpilot.seeds``);
    False: each config gets its own seed."""
    needs_checkpoints: bool = False
    """True: trials continue other trials' checkpoints (PBT, PB2), so the objective must resume
    from one (``hyperpilot.runner.check_method_fits``)."""
    interval: float | None = None
    """Budget units between hand-overs of a population method (its ready interval), or None."""

    def __init__(self, space: SearchSpace, fidelity: Fidelity, seed: int) -> None:
        self.space = space
        self.fidelity = fidelity
        self.seed = seed
        self.fallbacks = 0
        self.incumbent_rule = IncumbentRule()
        """Which config the study returns (``hyperpilot.selection``): the best single run
        unless the method says otherwise (racing: the best mean over its seeds)."""

    @abstractmethod
    def suggest(self, n: int, history: History, ask_index: int) -> list[Suggestion]:
        """Return ``n`` suggestions; ``ask_index`` (the first new trial id) seeds any randomness."""

    @abstractmethod
    def replay_ask(self, trial: Trial) -> None:
        """Re-register a trial that was suggested before a restart (no proposing)."""

    @abstractmethod
    def observe(self, result: Result, loss: float) -> None:
        """Take a finished trial; ``loss`` is its value made "smaller is better" (inf if it failed)."""

    def options(self) -> dict[str, Any]:
        """The method's settings, stored with the study so a changed method is refused."""
        return {}
