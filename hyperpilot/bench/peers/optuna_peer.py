"""Optuna's TPE with its HyperbandPruner, or with a MedianPruner as rl-zoo configures it; and
our own ``hyperpilot`` method inside Optuna (``HyperPilotSampler`` with the HyperbandPruner).

Each Optuna trial trains one config through the rung budgets ``max * eta**-k`` (continuing from
the previous budget), reporting the loss after each; the pruner decides after every report. The
report ``step`` is the budget in units of the minimum budget, so ``HyperbandPruner(min_resource=1,
max_resource=max/min, reduction_factor=eta)`` sees Hyperband's own rungs.
"""

from __future__ import annotations

import logging
from typing import Any

from hyperpilot.bench.peers.base import PeerAdapter, PeerEvaluator, rung_budgets
from hyperpilot.bench.peers.spaces import suggest_optuna


class OptunaAdapter(PeerAdapter):
    """TPE (``optuna.samplers.TPESampler``) plus a pruner.

    Args:
        pruner: ``"hyperband"`` (``HyperbandPruner``; TPE with Optuna's defaults, as Optuna's docs
            pair them) or ``"median"`` (rl-zoo's ``_create_pruner``: ``TPESampler(n_startup_trials=
            10, multivariate=True)`` and ``MedianPruner(n_startup_trials=10, n_warmup_steps=
            n_evaluations // 3)``, with one evaluation per rung; rl-zoo's steps are 1-based
            evaluation indices, translated here to the same rung).
    """

    package = "optuna"

    def __init__(self, pruner: str, sampler: str = "tpe") -> None:
        if pruner not in ("hyperband", "median"):
            raise ValueError(f"pruner must be 'hyperband' or 'median', got {pruner!r}")
        if sampler not in ("tpe", "hyperpilot"):
            raise ValueError(f"sampler must be 'tpe' or 'hyperpilot', got {sampler!r}")
        self.pruner, self.sampler = pruner, sampler
        self.name = f"optuna-{sampler}-{pruner}"

    def _study(self, ev: PeerEvaluator, steps: list[int]) -> Any:
        import optuna

        optuna.logging.set_verbosity(logging.WARNING)
        fid = ev.problem.fidelity
        if self.sampler == "hyperpilot":  # our default method's proposer, every bracket's data
            from hyperpilot.integrations.optuna import HyperPilotSampler

            self.n_startup = 0  # the trial's own info says where each proposal came from
            sampler: Any = HyperPilotSampler("hyperpilot", seed=ev.seed, max_resource=steps[-1],
                                             eta=fid.eta)
            pruner: Any = optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=steps[-1], reduction_factor=int(round(fid.eta)))
        elif self.pruner == "hyperband":
            self.n_startup = 10  # TPESampler's default
            sampler = optuna.samplers.TPESampler(seed=ev.seed)
            pruner = optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=steps[-1], reduction_factor=int(round(fid.eta)))
        else:
            self.n_startup = 10
            sampler = optuna.samplers.TPESampler(n_startup_trials=10, seed=ev.seed,
                                                 multivariate=True)
            warm = len(steps) // 3  # rl-zoo: n_warmup_steps = n_evaluations // 3 (1-based index)
            pruner = optuna.pruners.MedianPruner(n_startup_trials=10,
                                                 n_warmup_steps=steps[warm - 1] if warm else 0)
        # HyperbandPruner picks a trial's bracket from a hash of the study name: fix the name so
        # the same seed gives the same run (Optuna's default name is a random UUID).
        return optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner,
                                   study_name=f"hyperpilot-bench-{ev.seed}")

    def _source(self, trial: Any, study: Any) -> str:
        if self.sampler == "hyperpilot":
            info = study._storage.get_trial(trial._trial_id).system_attrs.get("hyperpilot:info")
            src = "random" if info is None else str(info.get("source", "model"))
            return {"sobol": "random"}.get(src, src)
        return "random" if trial.number < self.n_startup else "model"

    def run(self, ev: PeerEvaluator) -> None:
        import optuna

        fid = ev.problem.fidelity
        budgets = rung_budgets(fid.min, fid.max, fid.eta)
        steps = [max(1, int(round(b / fid.min))) for b in budgets]
        study = self._study(ev, steps)
        ev.start_clock()
        while not ev.exhausted():
            trial = study.ask()
            config = suggest_optuna(trial, ev.problem.space)
            source = self._source(trial, study)
            loss: float | None = None
            for b, step in zip(budgets, steps, strict=True):
                if ev.exhausted():
                    return  # out of budget mid-trial: the trial is left running, never told
                loss = ev.evaluate(config, b, source)
                if loss is None:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    break
                trial.report(loss, step)
                if b < fid.max and trial.should_prune():
                    ev.mark_stopped()
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    break
            else:
                study.tell(trial, loss)
