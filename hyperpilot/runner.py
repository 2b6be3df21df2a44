"""``Study.run``: the loop of ask, evaluate and tell, synchronous in batches or asynchronous."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperpilot.executor import Executor, InlineExecutor, Outcome, ProcessPoolExecutor
from hyperpilot.trial import Context, Status, Trial

if TYPE_CHECKING:
    from hyperpilot.study import Study


def checkpoint_root(study: Study) -> Path:
    """Where objectives keep checkpoints: beside the SQLite file, or in a temporary folder."""
    p = study.storage.path
    if str(p) == ":memory:":
        return Path(tempfile.mkdtemp(prefix="hyperpilot-ckpt-"))
    return p.parent / f"{p.stem}-checkpoints" / study.name


def make_context(study: Study, trial: Trial, root: Path, extras: dict[str, Any] | None) -> Context:
    d = root / f"config-{trial.config_id}"
    d.mkdir(parents=True, exist_ok=True)
    return Context(trial=trial, seed=trial.seed, checkpoint_dir=d, extras=dict(extras or {}))


class _Progress:
    """A tqdm bar over trials or FFE, showing the incumbent."""

    def __init__(self, study: Study, n_trials: int | None, budget: float | None, on: bool) -> None:
        self.study, self.budget = study, budget
        self.bar = None
        if on:
            from tqdm.auto import tqdm

            total = budget if budget is not None else n_trials
            unit = "FFE" if budget is not None else "trial"
            self.bar = tqdm(total=total, unit=unit, dynamic_ncols=True, desc=study.method_name)
            self.update()

    def update(self) -> None:
        if self.bar is None:
            return
        done = self.study.budget_used() if self.budget is not None else len(self.study.results)
        total = self.bar.total or done
        self.bar.n = min(round(done, 2) if self.budget is not None else done, total)
        best = self.study.best
        fails = sum(r.status == Status.FAILED for r in self.study.results)
        post = {"best": f"{best[1]:.5g}" if best else "-", "failed": fails}
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(0)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_study(study: Study, objective: Any, n_trials: int | None = None,
              budget: float | None = None, n_workers: int = 1, batch_size: int | None = None,
              timeout: float | None = None, progress: bool = False,
              context_extras: dict[str, Any] | None = None,
              executor: Executor | None = None) -> None:
    """Evaluate until the study holds ``n_trials`` finished trials or ``budget`` FFE are spent.

    Args:
        study: the study (possibly resumed: its unfinished trials are re-run first).
        objective: ``objective(config, budget, resume_budget, context)``.
        n_trials: stop after this many finished trials in the study.
        budget: stop once this many full-fidelity equivalents are committed.
        n_workers: worker processes (1 with no timeout runs in this process).
        batch_size: when set, ask in synchronous batches of this size (q for batch BO);
            otherwise every free worker asks for one trial at once (asynchronous).
        timeout: seconds per trial before it is killed (forces worker processes).
        progress: show a progress bar with the incumbent.
        executor: a ready executor (e.g. Ray); overrides ``n_workers`` and ``timeout``.
    """
    if n_trials is None and budget is None:
        raise ValueError("give n_trials or budget")
    if executor is None:
        executor = (InlineExecutor(objective) if n_workers == 1 and timeout is None
                    else ProcessPoolExecutor(objective, n_workers, timeout))
    root = checkpoint_root(study)
    bar = _Progress(study, n_trials, budget, progress)
    slots = max(executor.n_workers, batch_size or 1) if batch_size else executor.n_workers

    def room() -> int:
        left = slots - executor.n_running
        if n_trials is not None:
            left = min(left, n_trials - len(study.results) - executor.n_running)
        if budget is not None and study.budget_committed() >= budget:
            left = 0
        return max(left, 0)

    try:
        while True:
            k = room()
            if k and (batch_size is None or executor.n_running == 0):
                want = min(k, batch_size) if batch_size else 1
                for t in study.ask(want):
                    executor.submit(t, make_context(study, t, root, context_extras))
                continue
            if executor.n_running == 0:
                break
            _tell(study, executor.wait())
            bar.update()
    finally:
        executor.close()
        bar.close()


def _tell(study: Study, o: Outcome) -> None:
    if o.error is not None:
        study.tell_failure(o.trial, o.error, o.wall_time)
    else:
        study.tell(o.trial, o.value, o.curve, o.cost, o.wall_time, stopped=o.stopped)
