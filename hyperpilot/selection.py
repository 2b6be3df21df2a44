"""Which config a study returns: the incumbent rule.

On one noisy seed the best single run is often a lucky one (the winner's curse; Eimer et al.
2023), so a study that runs configs on several seeds (racing, ``fidelity.racing``) judges them by
their seeds together:

* ``"best-run"``: the best single complete run at the highest budget any run reached. The rule
  of every study without racing, unchanged, so stored studies and committed results keep their
  incumbents.
* ``"mean"``: the best mean over a config's seeds at that budget, among the configs with at
  least ``min_seeds`` seeds (or, while none has that many, with the most seeds any has).
* ``"mean-std"``: the same configs ranked by mean minus one standard deviation (for a loss:
  mean plus one sd), a pessimistic rule for configs that fail on some seeds.
* ``"worst"``: ranked by their worst seed.
* ``"model"``: Ax's rule: the config whose posterior mean at that budget is best, a surrogate
  (``surrogate``, seeded with the study's seed) fitted on every complete run at every budget
  with the budget as an input (``hyperpilot.posterior_incumbent``), among the configs with at
  least ``min_seeds`` seeds and no failed one. The model pools a run with its neighbours and the
  config's lower-budget runs, so a lucky draw is shrunk. It needs the study's space and fidelity
  (:class:`ModelContext`), fits on the results told up to the last run at that budget (so its
  answer changes only when a run arrives there), and fits only with two or more candidates.

A run that failed (crashed, NaN) at that budget counts as a seed with the worst possible value;
runs stopped early do not count. Ties go to the config with more seeds, then to the earliest.
The reported value is the mean over the seeds (the best run's value under ``"best-run"``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Fidelity, Result, Status

Statistic = Literal["best-run", "mean", "mean-std", "worst", "model"]
STATISTICS = ("best-run", "mean", "mean-std", "worst", "model")
DEFAULT_SURROGATE = "gp-capped"
"""The surrogate of the ``"model"`` rule, ``Study.posterior_incumbent`` and ``test-incumbent
--by-model`` unless named: the GP on at most 500 points (measured best on the bandit and
Hyperband, README "Noisy objectives")."""


class ModelContext(NamedTuple):
    """What the ``"model"`` rule fits on besides the results: the study's space, fidelity and
    (master) seed, which seeds the surrogate."""

    space: SearchSpace
    fidelity: Fidelity
    seed: int

    @classmethod
    def of_definition(cls, definition: dict[str, Any], seed: int) -> ModelContext:
        """The context of a stored study (its definition and its seed)."""
        return cls(SearchSpace.from_dict(definition["space"]),
                   Fidelity(**definition["fidelity"]), int(seed))

    @classmethod
    def needed(cls, rule: IncumbentRule, definition: dict[str, Any],
               seed: int) -> ModelContext | None:
        """The context a stored study's ``rule`` needs: only the ``"model"`` rule reads the
        space, so other studies never parse it."""
        return cls.of_definition(definition, seed) if rule.statistic == "model" else None


@dataclass(frozen=True)
class IncumbentRule:
    """How the incumbent is chosen (see the module docstring).

    Attributes:
        statistic: ``"best-run"``, ``"mean"``, ``"mean-std"``, ``"worst"`` or ``"model"``.
        min_seeds: seeds a config needs to be eligible (not for ``"best-run"``).
        surrogate: the ``"model"`` rule's surrogate (a key of ``surrogates.SURROGATES``).
    """

    statistic: Statistic = "best-run"
    min_seeds: int = 1
    surrogate: str = DEFAULT_SURROGATE

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"incumbent statistic must be one of {', '.join(STATISTICS)}, got "
                             f"{self.statistic!r}")
        if isinstance(self.min_seeds, bool) or not isinstance(self.min_seeds, int) or self.min_seeds < 1:
            raise ValueError(f"incumbent min_seeds must be an integer >= 1, got {self.min_seeds!r}")
        if self.statistic == "model":
            from surrogates import SURROGATES

            if self.surrogate not in SURROGATES:
                raise ValueError(f"incumbent surrogate must be one of "
                                 f"{', '.join(sorted(SURROGATES))}, got {self.surrogate!r}")

    def options(self) -> dict[str, Any]:
        """The rule as stored in a study's method options (``surrogate`` only for
        ``"model"``, so the definitions of studies stored before it existed are unchanged)."""
        out: dict[str, Any] = {"statistic": self.statistic, "min_seeds": self.min_seeds}
        if self.statistic == "model":
            out["surrogate"] = self.surrogate
        return out

    def cheap(self) -> IncumbentRule:
        """The rule without a model fit: ``"model"`` becomes the best mean over ``min_seeds``
        seeds (the best single run with one seed); what a stopping rule compares with, since it
        asks before every trial."""
        if self.statistic != "model":
            return self
        return IncumbentRule("mean", self.min_seeds) if self.min_seeds > 1 else IncumbentRule()

    def describe(self) -> str:
        """The rule in words, as ``show`` and ``test-incumbent`` print it."""
        if self.statistic == "best-run":
            return "best single run at the highest budget"
        if self.statistic == "model":
            return (f"best posterior mean of {self.surrogate} among the configs with >= "
                    f"{self.min_seeds} seed(s) at the highest budget")
        what = {"mean": "mean", "mean-std": "mean - 1 sd", "worst": "worst seed"}[self.statistic]
        return f"best {what} over >= {self.min_seeds} seed(s) at the highest budget"


@dataclass(frozen=True)
class Incumbent:
    """The chosen config and what its seeds say (values in the study's direction).

    Attributes:
        config, config_id: the config.
        value: what ``Study.best`` reports: the mean over its seeds (the run's value for
            ``"best-run"``).
        budget: the budget its runs reached.
        values: its value on each seed, in seed order (``nan`` for a failed run).
        seed_indices: which of the study's seeds they are.
        trial_id: its best run.
        rule: :meth:`IncumbentRule.describe` of the rule that chose it.
    """

    config: Config
    config_id: int
    value: float
    budget: float
    values: tuple[float, ...]
    seed_indices: tuple[int, ...]
    trial_id: int
    rule: str

    @property
    def n_seeds(self) -> int:
        return len(self.values)

    @property
    def std(self) -> float:
        """Standard deviation over seeds (0 for one seed; ``nan`` if a seed failed)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0


def rule_of(definition: dict[str, Any]) -> IncumbentRule:
    """The rule of a stored study, from its definition's method options.

    ``incumbent`` options win (with racing, ``min_seeds`` defaults to ``max_seeds``); racing
    without them means ``"mean"`` over ``max_seeds`` seeds; anything else is ``"best-run"``.
    """
    opts = definition.get("method_options") or {}
    racing = opts.get("racing")
    seeds = 1
    if racing is not None:
        from fidelity.racing import RaceRule

        seeds = RaceRule(**racing).max_seeds
    if opts.get("incumbent"):
        return IncumbentRule(**{"min_seeds": seeds, **opts["incumbent"]})
    return IncumbentRule("mean", seeds) if racing is not None else IncumbentRule()


def choose(results: Iterable[Result], direction: str, rule: IncumbentRule,
           budget: float | None = None, context: ModelContext | None = None) -> Incumbent | None:
    """The incumbent among ``results`` under ``rule``, or None without a complete run.

    Args:
        results: finished trials (the ``"model"`` rule fits on all of them, at every budget).
        direction: ``"minimize"`` or ``"maximize"``.
        rule: the incumbent rule.
        budget: judge runs at this budget only (None: the highest budget a complete run reached).
        context: the study's space, fidelity and seed; required by the ``"model"`` rule.

    Raises:
        ValueError: the ``"model"`` rule without a ``context``.
    """
    if rule.statistic == "model" and context is None:
        raise ValueError("the 'model' incumbent rule needs the study's space, fidelity and seed "
                         "(a ModelContext)")
    results = list(results)
    done = [r for r in results if r.status == Status.COMPLETE and r.value is not None]
    if budget is None:
        if not done:
            return None
        budget = max(r.trial.budget for r in done)
    sign = 1.0 if direction == "minimize" else -1.0
    top = [r for r in results if r.trial.budget == budget and r.status != Status.STOPPED]
    if not any(r.status == Status.COMPLETE for r in top):
        return None
    if rule.statistic == "best-run":
        best = min((r for r in top if r.status == Status.COMPLETE),
                   key=lambda r: (sign * float(r.value or 0.0), r.trial.trial_id))
        return _record([best], sign, rule)
    if rule.statistic == "model":
        assert context is not None
        return _by_model(results, top, direction, rule, context, budget)
    return _by_seeds(top, sign, rule)


def _eligible(top: list[Result], rule: IncumbentRule) -> dict[int, list[Result]]:
    """Configs with a complete run and at least ``min_seeds`` runs (or the most any has)."""
    runs: dict[int, list[Result]] = {}
    for r in top:
        runs.setdefault(r.trial.config_id, []).append(r)
    ok = {c: rs for c, rs in runs.items() if any(r.status == Status.COMPLETE for r in rs)}
    need = min(rule.min_seeds, max(len(rs) for rs in ok.values()))
    return {c: rs for c, rs in ok.items() if len(rs) >= need}


def _by_model(results: list[Result], top: list[Result], direction: str, rule: IncumbentRule,
              context: ModelContext, budget: float) -> Incumbent:
    eligible = _eligible(top, rule)
    clean = [c for c, rs in eligible.items() if all(r.status == Status.COMPLETE for r in rs)]
    ids = clean or list(eligible)  # a failed seed disqualifies, unless every config has one
    if len(ids) == 1:
        return record(eligible[ids[0]], direction, rule.describe())
    from hyperpilot.posterior_incumbent import posterior_incumbent

    # fit on the results told up to the last run at the budget, so that the answer changes only
    # when a run arrives there, whenever it is asked (trace, Study.incumbent and show agree)
    last = max(i for i, r in enumerate(results)
               if r.trial.budget == budget and r.status != Status.STOPPED)
    out = posterior_incumbent(results[:last + 1], context.space, context.fidelity, direction,
                              rule.surrogate, context.seed, budget, candidates=ids)
    assert out is not None  # the candidates have complete runs at budget
    return replace(out[0], rule=rule.describe())


def _by_seeds(top: list[Result], sign: float, rule: IncumbentRule) -> Incumbent:
    ok = _eligible(top, rule)
    eligible = list(ok)
    best = min(eligible, key=lambda c: (_score([_loss(r, sign) for r in ok[c]], rule),
                                        -len(ok[c]), min(r.trial.trial_id for r in ok[c])))
    inc = _record(ok[best], sign, rule)
    n = min(len(rs) for rs in ok.values())
    if n < rule.min_seeds:  # say so: the rule fell back to the configs with the most seeds
        inc = replace(inc, rule=f"{inc.rule}; no config has {rule.min_seeds} yet, so among "
                                f"those with {n}")
    return inc


def _loss(r: Result, sign: float) -> float:
    return sign * float(r.value) if r.status == Status.COMPLETE and r.value is not None else math.inf


def _score(losses: Sequence[float], rule: IncumbentRule) -> float:
    if rule.statistic == "worst":
        return max(losses)
    mean = sum(losses) / len(losses)
    if rule.statistic == "mean-std" and len(losses) > 1 and math.isfinite(mean):
        return mean + statistics.stdev(losses)
    return mean


def _record(runs: list[Result], sign: float, rule: IncumbentRule) -> Incumbent:
    runs = sorted(runs, key=lambda r: (r.trial.seed_index, r.trial.trial_id))
    values = tuple(float(r.value) if r.status == Status.COMPLETE and r.value is not None
                   else math.nan for r in runs)
    finite = [v for v in values if not math.isnan(v)]
    mean = sum(values) / len(values) if len(finite) == len(values) else sign * math.inf
    best = min((r for r in runs if r.status == Status.COMPLETE),
               key=lambda r: (sign * float(r.value or 0.0), r.trial.trial_id))
    t = best.trial
    return Incumbent(dict(t.config), t.config_id, mean, t.budget, values,
                     tuple(r.trial.seed_index for r in runs), t.trial_id, rule.describe())


def record(runs: list[Result], direction: str, rule: str) -> Incumbent:
    """The :class:`Incumbent` of one config from its ``runs`` at one budget (at least one
    complete), as the rules here report it, with ``rule`` as its description; for a rule
    decided elsewhere (``hyperpilot.posterior_incumbent``)."""
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    inc = _record(runs, 1.0 if direction == "minimize" else -1.0, IncumbentRule())
    return replace(inc, rule=rule)


def trace(results: Sequence[Result], direction: str, rule: IncumbentRule,
          max_budget: float, context: ModelContext | None = None) -> list[Incumbent | None]:
    """The incumbent among the runs at ``max_budget`` after each result (None before the first).

    What the bench and ``analysis.load_study`` plot: only full-budget runs define it. The
    ``"model"`` rule (which needs ``context``) refits on every result so far, but only when a
    run at ``max_budget`` arrives: between them its choice is kept.
    """
    out: list[Incumbent | None] = []
    top: list[Result] = []
    current: Incumbent | None = None
    for i, r in enumerate(results):
        if r.trial.budget >= max_budget and r.status != Status.STOPPED:
            top.append(r)
            pool = list(results[:i + 1]) if rule.statistic == "model" else top
            current = choose(pool, direction, rule, r.trial.budget, context) or current
        out.append(current)
    return out
