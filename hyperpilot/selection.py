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

A run that failed (crashed, NaN) at that budget counts as a seed with the worst possible value;
runs stopped early do not count. Ties go to the config with more seeds, then to the earliest.
The reported value is the mean over the seeds (the best run's value under ``"best-run"``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from hyperpilot.space import Config
from hyperpilot.trial import Result, Status

Statistic = Literal["best-run", "mean", "mean-std", "worst"]
STATISTICS = ("best-run", "mean", "mean-std", "worst")


@dataclass(frozen=True)
class IncumbentRule:
    """How the incumbent is chosen (see the module docstring).

    Attributes:
        statistic: ``"best-run"``, ``"mean"``, ``"mean-std"`` or ``"worst"``.
        min_seeds: seeds a config needs to be eligible (not for ``"best-run"``).
    """

    statistic: Statistic = "best-run"
    min_seeds: int = 1

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"incumbent statistic must be one of {', '.join(STATISTICS)}, got "
                             f"{self.statistic!r}")
        if isinstance(self.min_seeds, bool) or not isinstance(self.min_seeds, int) or self.min_seeds < 1:
            raise ValueError(f"incumbent min_seeds must be an integer >= 1, got {self.min_seeds!r}")

    def describe(self) -> str:
        """The rule in words, as ``show`` and ``test-incumbent`` print it."""
        if self.statistic == "best-run":
            return "best single run at the highest budget"
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

    ``incumbent`` options win; racing without them means ``"mean"`` over ``max_seeds`` seeds;
    anything else is ``"best-run"``.
    """
    opts = definition.get("method_options") or {}
    if opts.get("incumbent"):
        return IncumbentRule(**opts["incumbent"])
    racing = opts.get("racing")
    if racing is not None:
        from fidelity.racing import RaceRule

        return IncumbentRule("mean", RaceRule(**racing).max_seeds)
    return IncumbentRule()


def choose(results: Iterable[Result], direction: str, rule: IncumbentRule,
           budget: float | None = None) -> Incumbent | None:
    """The incumbent among ``results`` under ``rule``, or None without a complete run.

    Args:
        results: finished trials.
        direction: ``"minimize"`` or ``"maximize"``.
        rule: the incumbent rule.
        budget: judge runs at this budget only (None: the highest budget a complete run reached).
    """
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
    return _by_seeds(top, sign, rule)


def _by_seeds(top: list[Result], sign: float, rule: IncumbentRule) -> Incumbent:
    runs: dict[int, list[Result]] = {}
    for r in top:
        runs.setdefault(r.trial.config_id, []).append(r)
    ok = {c: rs for c, rs in runs.items() if any(r.status == Status.COMPLETE for r in rs)}
    need = min(rule.min_seeds, max(len(rs) for rs in ok.values()))
    eligible = [c for c, rs in ok.items() if len(rs) >= need]
    best = min(eligible, key=lambda c: (_score([_loss(r, sign) for r in ok[c]], rule),
                                        -len(ok[c]), min(r.trial.trial_id for r in ok[c])))
    return _record(ok[best], sign, rule)


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
          max_budget: float) -> list[Incumbent | None]:
    """The incumbent among the runs at ``max_budget`` after each result (None before the first).

    What the bench and ``analysis.load_study`` plot: only full-budget runs define it.
    """
    out: list[Incumbent | None] = []
    top: list[Result] = []
    current: Incumbent | None = None
    for r in results:
        if r.trial.budget >= max_budget and r.status != Status.STOPPED:
            top.append(r)
            current = choose(top, direction, rule, r.trial.budget) or current
        out.append(current)
    return out
