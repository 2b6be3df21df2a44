"""The study: ask/tell over a method, with every event stored; ``run`` is a thin loop on top."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from hyperpilot.methods import History, Method, make_method
from hyperpilot.overview import short_reason
from hyperpilot.posterior_incumbent import posterior_incumbent
from hyperpilot.seeds import trial_seed
from hyperpilot.selection import DEFAULT_SURROGATE, Incumbent, ModelContext, choose
from hyperpilot.space import Config, SearchSpace, SpaceError
from hyperpilot.storage import Storage
from hyperpilot.trial import Curve, Fidelity, Result, Status, Trial, parse_objective_output, spent

if TYPE_CHECKING:
    from hyperpilot.executor import Executor

log = logging.getLogger(__name__)

Direction = Literal["minimize", "maximize"]


class StudyError(RuntimeError):
    """Misuse of the ask/tell protocol (e.g. telling a trial twice)."""


class Study:
    """Ask/tell optimisation of ``space`` with a named method, stored in SQLite.

    Args:
        space: the search space.
        fidelity: budget range and eta; ``None`` means a single budget of 1.
        method: a name from ``hyperpilot.methods.METHODS`` (``random``, ``hyperband``,
            ``hyperpilot``, ``gp-bo``, ...), optionally with ``@<surrogate>`` and
            ``:<variant>`` (``hyperpilot@gp:full``; see ``hyperpilot.methods.parse_method``).
        direction: ``"minimize"`` or ``"maximize"`` the objective's value.
        seed: the master seed; the method, each trial and the statistics get child seeds.
        storage: a SQLite path; ``None`` keeps the study in memory. Re-opening a path with the
            same ``name`` resumes the study; a changed space, fidelity, method or seed is refused.
        name: the study's name inside the storage.
        method_options: keyword options for the method's factory (stored with the study).
        problem: how to rebuild the objective later (e.g. ``{"benchmark": "branin"}``), stored
            with the study for ``hyperpilot test-incumbent``.
        pruner: a ``hyperpilot.pruners.Pruner`` that decides when runs stop (``MedianRule()``,
            ``HumanPruner(...)``, ``LLMPruner(...)``); None: the method's own curve rule, if it
            has one. A run-time policy like the executor: not stored with the study, but every
            decision it takes is (``Storage.load_decisions``).
        trackers: experiment trackers (``hyperpilot.integrations.trackers``: MLflow, W&B,
            TensorBoard) given every finished trial; a tracker that fails never fails the
            study, its failures are counted (:meth:`tracker_report`). Not stored.
    """

    def __init__(self, space: SearchSpace, fidelity: Fidelity | None = None,
                 method: str = "hyperband", direction: Direction = "minimize", seed: int = 0,
                 storage: str | Path | None = None, name: str = "default",
                 method_options: dict[str, Any] | None = None,
                 problem: dict[str, Any] | None = None, pruner: Any = None,
                 trackers: Sequence[Any] = ()) -> None:
        if not isinstance(space, SearchSpace):
            raise SpaceError(f"space must be a hyperpilot.SearchSpace, got {type(space).__name__}")
        if direction not in ("minimize", "maximize"):
            raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.space = space
        self.fidelity = fidelity or Fidelity(1, 1)
        self.direction = direction
        self.seed = int(seed)
        self.name = name
        self.method_name = method
        self.pruner = pruner
        self.method: Method = make_method(method, space, self.fidelity, self.seed,
                                          **(method_options or {}))
        self.storage = Storage(storage if storage is not None else ":memory:")
        definition = {"space": space.to_dict(), "fidelity": self.fidelity.to_dict(),
                      "method": method, "method_options": {**self.method.options(),
                                                           **(method_options or {})},
                      "direction": direction, **({"problem": problem} if problem else {})}
        self.study_id = self.storage.open_study(name, definition, self.seed)
        self._trackers: Any = None
        self._progress: Any = None  # FFE and incumbent for the trackers, made at first use
        if trackers:
            from hyperpilot.integrations.trackers import StudyRecord, TrackerSet

            self._trackers = TrackerSet(trackers, StudyRecord(name, method, direction, self.seed,
                                                              definition))
        self._results: list[Result] = []
        self._incumbent_cache: tuple[tuple[float, int], Incumbent | None] | None = None
        """The ``"model"`` rule's last answer, keyed by (highest budget, runs there)."""
        self._pending: dict[int, Trial] = {}
        self._reissue: list[Trial] = []
        self._n_trials = 0
        self._n_configs = 0
        self._seq = 0
        self._replay()

    # ----------------------------------------------------------------- resume
    def _replay(self) -> None:
        rows = self.storage.load_trials(self.study_id)
        events: list[tuple[int, str, Any]] = [(r.ask_seq, "ask", r.trial) for r in rows]
        events += [(r.tell_seq, "tell", r.result) for r in rows if r.tell_seq is not None]
        for _, kind, obj in sorted(events, key=lambda e: e[0]):
            if kind == "ask":
                self.method.replay_ask(obj)
                self._pending[obj.trial_id] = obj
                self._n_configs = max(self._n_configs, obj.config_id + 1)
            else:
                self._pending.pop(obj.trial.trial_id)
                self._results.append(obj)
                self.method.observe(obj, self._loss(obj))
        self._n_trials = len(rows)
        self._seq = self.storage.max_seq(self.study_id) + 1
        self._reissue = sorted(self._pending.values(), key=lambda t: t.trial_id)
        if rows:
            log.info("resumed study %r: %d trials, %d to re-run", self.name, len(rows),
                     len(self._reissue))

    # ----------------------------------------------------------------- ask / tell
    def ask(self, n: int = 1) -> list[Trial]:
        """Return ``n`` trials to evaluate; trials left running by a crash come back first."""
        if n < 1:
            raise ValueError(f"ask needs n >= 1, got {n}")
        out = self._reissue[:n]
        self._reissue = self._reissue[n:]
        k = n - len(out)
        if k:
            t0 = time.perf_counter()
            history = History(list(self._results), list(self._pending.values()), self._loss,
                              self._new_config_id, self._value_loss)
            sugg = self.method.suggest(k, history, self._n_trials)
            overhead = (time.perf_counter() - t0) / k
            new = [Trial(self._n_trials + i, s.config_id, self.space.validate(s.config), s.budget,
                         s.resume_budget, s.bracket, s.rung,
                         self.trial_seed(s.config_id, s.seed_index),
                         {**s.info, "overhead_s": overhead}, s.seed_index)
                   for i, s in enumerate(sugg)]
            self.storage.add_trials(self.study_id, new, self._seq, overhead)
            self._seq += len(new)
            self._n_trials += len(new)
            for t in new:
                self._pending[t.trial_id] = t
            out += new
        return out

    def tell(self, trial: Trial | int, value: float | None = None, curve: Curve | None = None,
             cost: float | None = None, wall_time: float | None = None,
             stopped: bool = False, decisions: Sequence[dict[str, Any]] = ()) -> Result:
        """Record a finished trial. A NaN, infinite or missing value is recorded as a failure.

        Args:
            trial: the trial (or its id) returned by :meth:`ask`.
            value: the objective at ``trial.budget`` (or where it stopped), in the study's direction.
            curve: optional ``(budget, value)`` pairs observed during training.
            cost: the objective's own cost (e.g. simulated seconds), if it has one.
            wall_time: measured seconds.
            stopped: the run was stopped early by a curve-based rule; its value is kept but it
                is never promoted.
            decisions: the pruner's decisions during the run (``Decision.to_dict()``), stored
                with the result.
        """
        t = self._take(trial)
        try:
            v, pairs, _ = parse_objective_output((value, curve or []))
        except ValueError as e:
            return self._finish(Result(t, Status.FAILED, None, [], str(e), cost, wall_time),
                                decisions)
        status = Status.STOPPED if stopped else Status.COMPLETE
        return self._finish(Result(t, status, v, pairs, None, cost, wall_time), decisions)

    def tell_failure(self, trial: Trial | int, reason: str, wall_time: float | None = None) -> Result:
        """Record a crashed, invalid or timed-out trial; it never reaches a model."""
        t = self._take(trial)
        return self._finish(Result(t, Status.FAILED, None, [], str(reason), None, wall_time))

    def tell_output(self, trial: Trial, output: Any, wall_time: float | None = None) -> Result:
        """Record an objective's raw return value (number, tuple or dict; see ``parse_objective_output``)."""
        try:
            v, curve, cost = parse_objective_output(output)
        except ValueError as e:
            return self.tell_failure(trial, str(e), wall_time)
        return self.tell(trial, v, curve, cost, wall_time)

    def _take(self, trial: Trial | int) -> Trial:
        tid = trial if isinstance(trial, int) else trial.trial_id
        if tid not in self._pending:
            state = "already told" if any(r.trial.trial_id == tid for r in self._results) else "unknown"
            raise StudyError(f"trial {tid} is {state}")
        if any(t.trial_id == tid for t in self._reissue):
            self._reissue = [t for t in self._reissue if t.trial_id != tid]
        return self._pending.pop(tid)

    def _finish(self, result: Result, decisions: Sequence[dict[str, Any]] = ()) -> Result:
        self.storage.finish_trial(self.study_id, result, self._seq, decisions)
        self._seq += 1
        self._results.append(result)
        self.method.observe(result, self._loss(result))
        if result.status == Status.FAILED:
            log.warning("trial %d failed: %s", result.trial.trial_id, short_reason(result.reason))
        if self._trackers:
            self._track(result, decisions)
        return result

    def _track(self, result: Result, decisions: Sequence[dict[str, Any]]) -> None:
        from hyperpilot.integrations.trackers import Progress, from_result

        if self._progress is None:  # FFE and incumbent so far, then O(1) per trial
            self._progress = Progress(self.direction, self.fidelity.max, self._results[:-1])
        ffe, inc = self._progress.update(result)
        self._trackers.log_trial(from_result(result, ffe, inc, decisions))

    def finish_trackers(self) -> dict[str, dict[str, Any]]:
        """Finish the trackers (``run`` does it at its end) and return :meth:`tracker_report`."""
        if self._trackers:
            self._trackers.finish()
        return self.tracker_report()

    def tracker_report(self) -> dict[str, dict[str, Any]]:
        """Per tracker: trials ``logged`` and ``failed``, ``seconds`` spent, ``last_error``."""
        return self._trackers.report() if self._trackers else {}

    # ----------------------------------------------------------------- helpers
    def _loss(self, r: Result) -> float:
        """The one place where the user's direction becomes "smaller is better"."""
        if r.status != Status.COMPLETE or r.value is None:
            return math.inf
        return r.value if self.direction == "minimize" else -r.value

    def _value_loss(self, value: float) -> float:
        """A bare value (e.g. a curve point) made "smaller is better", as :meth:`_loss` does."""
        return value if self.direction == "minimize" else -value

    def _new_config_id(self) -> int:
        self._n_configs += 1
        return self._n_configs - 1

    def trial_seed(self, config_id: int, seed_index: int = 0) -> int:
        """The seed of a config's ``seed_index``-th run (paired or per config: ``hyperpilot.seeds``)."""
        return trial_seed(self.seed, config_id, seed_index, self.method.paired_seeds)

    # ----------------------------------------------------------------- views
    @property
    def results(self) -> list[Result]:
        """Finished trials (complete, failed or stopped), in the order they were told."""
        return list(self._results)

    @property
    def pending(self) -> list[Trial]:
        return sorted(self._pending.values(), key=lambda t: t.trial_id)

    @property
    def best(self) -> tuple[Config, float, float] | None:
        """``(config, value, budget)`` of the incumbent at the highest budget seen, or None.

        The method's incumbent rule picks it (``hyperpilot.selection``): the best single run,
        or with racing the best mean over the seeds (``value`` is then that mean).
        """
        inc = self.incumbent()
        return None if inc is None else (inc.config, inc.value, inc.budget)

    def incumbent(self) -> Incumbent | None:
        """The incumbent with its seeds, spread and the rule that chose it (None before any run).

        Under the ``"model"`` rule this fits a surrogate on the results up to the last run at the
        highest budget, so the answer (kept here) changes only when another run arrives there,
        as in the bench's traces (``selection.trace``); the other rules are cheap.
        """
        rule = self.method.incumbent_rule
        if rule.statistic != "model":
            return choose(self._results, self.direction, rule)
        done = [r.trial.budget for r in self._results if r.status == Status.COMPLETE]
        top = max(done, default=math.nan)
        key = (top, sum(r.trial.budget == top and r.status != Status.STOPPED
                        for r in self._results))
        if self._incumbent_cache is None or self._incumbent_cache[0] != key:
            inc = choose(self._results, self.direction, rule,
                         context=ModelContext(self.space, self.fidelity, self.seed))
            self._incumbent_cache = (key, inc)
        return self._incumbent_cache[1]

    def posterior_incumbent(self, surrogate: str = DEFAULT_SURROGATE) -> Incumbent | None:
        """The config with the best posterior mean of ``surrogate`` (fitted with the study's
        seed on every complete run) among those run at the highest budget: a second opinion
        on a noisy study (``hyperpilot.posterior_incumbent``; the method's rule is unchanged).
        None before a complete run; ValueError with fewer than 2."""
        out = posterior_incumbent(self._results, self.space, self.fidelity, self.direction,
                                  surrogate, self.seed)
        return None if out is None else out[0]

    def budget_used(self) -> float:
        """Full-fidelity equivalents spent by finished trials: sum(budget - resume_budget) / max.

        A trial stopped early counts up to the last budget of its curve.
        """
        return sum(spent(r) for r in self._results) / self.fidelity.max

    def trial_extras(self, trial: Trial) -> dict[str, Any]:
        """What the objective's context carries besides the trial: the pruner's state.

        The pruner is the study's (``pruner=``) or the method's curve rule. Race runs
        (``seed_index > 0``) are never stopped early: they decide the incumbent.
        """
        rule = self.method.stop_rule
        pruner = self.pruner
        if (rule is None and pruner is None) or trial.seed_index > 0:
            return {}
        from hyperpilot.stopping import StopperState, StopRule

        best = self._stop_incumbent()
        if best is None and (pruner is None or pruner.needs_incumbent):
            return {}
        sign = -1.0 if self.direction == "minimize" else 1.0
        prefix = [p for r in self._results if r.trial.config_id == trial.config_id
                  and r.trial.seed_index == trial.seed_index and r.status == Status.COMPLETE
                  for p in r.curve if p[0] <= trial.resume_budget]
        online = self.method.stop_curves
        model = None if online is None else online.model(self._results, sign)
        x = None if model is None else online.encode(trial.config)
        peers = self._peers() if pruner is not None and pruner.needs_peers else ()
        return {"stopper": StopperState(rule or StopRule(), best, self.fidelity.max, sign,
                                        sorted(set(prefix)), model, x, pruner, peers,
                                        trial.trial_id, dict(trial.config))}

    def _stop_incumbent(self) -> float | None:
        """The incumbent a stopping rule compares with, "larger is better" (None: none yet)."""
        losses = [self._loss(r) for r in self._results
                  if r.status == Status.COMPLETE and r.trial.budget >= self.fidelity.max]
        if not losses:
            return None
        best = -min(losses)
        rule = self.method.incumbent_rule.cheap()  # asked before every trial: never a model fit
        if rule.statistic != "best-run":  # racing: beat the mean, not a lucky seed of it
            inc = choose(self._results, self.direction, rule)
            if inc is not None and inc.budget >= self.fidelity.max and math.isfinite(inc.value):
                best = -self._value_loss(inc.value)
        return best

    def _peers(self, limit: int = 200) -> tuple[Any, ...]:
        """The newest ``limit`` finished runs' curves (failed runs have none)."""
        from hyperpilot.pruners import Peer

        runs = [r for r in self._results if r.curve and r.status != Status.FAILED][-limit:]
        return tuple(Peer(f"trial {r.trial.trial_id}", tuple(r.curve),
                          r.status == Status.COMPLETE and r.trial.budget >= self.fidelity.max)
                     for r in runs)

    def budget_committed(self) -> float:
        """Like :meth:`budget_used`, counting running trials too."""
        running = sum(t.budget - t.resume_budget for t in self._pending.values())
        return self.budget_used() + running / self.fidelity.max

    def run(self, objective: Any, n_trials: int | None = None, budget: float | None = None,
            n_workers: int = 1, batch_size: int | None = None, timeout: float | None = None,
            progress: bool = False, context_extras: dict[str, Any] | None = None,
            executor: Executor | None = None, retries: int = 0) -> Study:
        """Evaluate ``objective`` until ``n_trials`` trials or ``budget`` FFE (see ``hyperpilot.runner``).

        ``executor`` (an ``hyperpilot.executor.Executor``, e.g. Ray) and ``retries`` (re-runs of a
        trial whose worker died) pass through to ``run_study``.
        """
        from hyperpilot.runner import run_study

        try:
            run_study(self, objective, n_trials=n_trials, budget=budget, n_workers=n_workers,
                      batch_size=batch_size, timeout=timeout, progress=progress,
                      context_extras=context_extras, executor=executor, retries=retries)
        finally:
            self.finish_trackers()
        return self


def minimize(objective: Any, space: SearchSpace, fidelity: Fidelity | None = None,
             method: str = "hyperband", n_trials: int | None = None, budget: float | None = None,
             n_workers: int = 1, seed: int = 0, storage: str | Path | None = None,
             direction: Direction = "minimize", batch_size: int | None = None,
             timeout: float | None = None, method_options: dict[str, Any] | None = None,
             progress: bool = False, name: str = "default") -> Study:
    """Create (or resume) a study and run it; returns the study (``study.best`` is the answer).

    Raises:
        ValueError: for a run that could not end or start (``runner.check_run_args``): no
            ``n_trials`` or ``budget``, ``n_trials < 1``, ``budget <= 0`` or infinite, ...
    """
    from hyperpilot.runner import check_run_args

    check_run_args(n_trials, budget, n_workers, batch_size, timeout)  # before any store is made
    study = Study(space, fidelity, method, direction, seed, storage, name, method_options)
    return study.run(objective, n_trials=n_trials, budget=budget, n_workers=n_workers,
                     batch_size=batch_size, timeout=timeout, progress=progress)


def incumbent_trace(results: Sequence[Result], direction: Direction, max_budget: float) -> list[tuple[float, float]]:
    """Anytime incumbent: ``(FFE used so far, best value at max budget so far)`` after each result.

    Only results at ``max_budget`` define the incumbent (the usual convention for regret).
    """
    out, used, best = [], 0.0, math.inf
    sign = 1.0 if direction == "minimize" else -1.0
    for r in results:
        used += spent(r) / max_budget
        if r.status == Status.COMPLETE and r.value is not None and r.trial.budget >= max_budget:
            best = min(best, sign * r.value)
        out.append((used, sign * best))
    return out
