"""``Study.run``: the loop of ask, evaluate and tell, synchronous in batches or asynchronous."""

from __future__ import annotations

import logging
import math
import numbers
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hyperpilot.executor import Executor, InlineExecutor, Outcome, WorkerPoolExecutor
from hyperpilot.trial import Context, Status, Trial

if TYPE_CHECKING:
    from hyperpilot.methods.base import Method
    from hyperpilot.study import Study

log = logging.getLogger(__name__)


def checkpoint_root(study: Study) -> Path:
    """Where objectives keep checkpoints: beside the SQLite file, or in a temporary folder."""
    p = study.storage.path
    if str(p) == ":memory:":
        return Path(tempfile.mkdtemp(prefix="hyperpilot-ckpt-"))
    return p.parent / f"{p.stem}-checkpoints" / study.name


def make_context(study: Study, trial: Trial, root: Path, extras: dict[str, Any] | None) -> Context:
    """The trial's context: its seed, checkpoint folder and the study's stopping state.

    The folder is the config's, kept across promotions; a config's extra seeds (racing) each get
    their own (``config-<id>-seed<k>``), so a run on one seed never continues another's.
    """
    d = root / (f"config-{trial.config_id}" + (f"-seed{trial.seed_index}" if trial.seed_index else ""))
    clone = trial.info.get("clone_from")
    if clone is not None:  # start from another config's checkpoint (population-based training)
        clone_checkpoint(root / f"config-{clone}", d)
    d.mkdir(parents=True, exist_ok=True)
    return Context(trial=trial, seed=trial.seed, checkpoint_dir=d,
                   extras={**(extras or {}), **study.trial_extras(trial)})


def clone_checkpoint(src: Path, dst: Path) -> None:
    """Make ``dst`` an exact copy of ``src`` (replacing what is there), through a temporary folder.

    Done again when a trial is re-run after a kill, so a half-run trial never leaves its own
    state behind. The source is a finished trial's folder, which no trial writes again.

    Raises:
        FileNotFoundError: when ``src`` does not exist (the source trial kept no checkpoint).
    """
    if not src.is_dir():
        raise FileNotFoundError(f"no checkpoint folder {src} to start from")
    tmp = dst.with_name(dst.name + ".clone-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    shutil.rmtree(dst, ignore_errors=True)
    tmp.rename(dst)


def resumes_from_checkpoints(objective: Any) -> bool:
    """Whether ``objective`` continues from ``context.checkpoint_dir`` (a ``ResumableObjective``,
    or any objective with ``resumes_from_checkpoint = True``)."""
    from hyperpilot.workloads.base import ResumableObjective

    return isinstance(objective, ResumableObjective) or bool(
        getattr(objective, "resumes_from_checkpoint", False))


def check_method_fits(method: Method, method_name: str, objective: Any) -> None:
    """Refuse a method that continues other trials' checkpoints on an objective that cannot
    resume from one, or that hands runs over more often than the objective can stop
    (:func:`check_handover`).

    Raises:
        ValueError: with the reason and the fix.
    """
    if method.needs_checkpoints and not resumes_from_checkpoints(objective):
        raise ValueError(f"method {method_name!r} continues trials from other trials' "
                         f"checkpoints, and this objective ({type(objective).__name__}) does not "
                         "resume from a checkpoint; use a checkpointing workload (supervised:*, "
                         "sb3:*) or the 'schedule-toy' benchmark")
    check_handover(method, objective)


def check_handover(method: Method, objective: Any) -> None:
    """Refuse a population method whose ready interval is shorter than the objective's overshoot.

    PBT and PB2 hand a member over at every ``method.interval`` budget units: an objective that
    trains past a target (PPO collects whole rollouts of ``n_envs x n_steps`` steps) would let a
    member train several intervals in its first one, and compare members at different budgets.

    Raises:
        ValueError: naming the interval, the overshoot and both fixes.
    """
    interval = method.interval
    overshoot = float(getattr(objective, "overshoot", 0.0) or 0.0)
    if interval is not None and method.needs_checkpoints and overshoot >= interval:
        raise ValueError(
            f"method {method.name!r} hands members over every "
            f"{interval:g} budget units, and a run of this objective can train up to {overshoot:g} "
            "units past the budget it is asked for (PPO/A2C collect whole rollouts of n_envs x "
            "n_steps steps): members would train past their interval. Raise the interval "
            "(method option 'interval') or cap the rollouts (SB3 workload option "
            f"'max_rollout', at most {interval:g})")


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
        self.bar.n = round(done, 2) if self.budget is not None else done
        best = self.study.best
        fails = sum(r.status == Status.FAILED for r in self.study.results)
        post = {"best": f"{best[1]:.5g}" if best else "-", "failed": fails}
        if self.budget is not None and done > self.budget + 1e-9:
            # a study may pass its budget by its last batch (hyperpilot.overview): the bar
            # shows what was used and says so, rather than a reassuring 2.0/2.0
            self.bar.total = round(done, 2)
            post["limit"] = f"{self.budget:g} FFE (+{done - self.budget:.2f} over)"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(0)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def make_executor(objective: Any, kind: Literal["local", "ray"] = "local", n_workers: int = 1,
                  timeout: float | None = None, address: str | None = None,
                  cpus_per_trial: float = 1, gpus_per_trial: float = 0) -> Executor:
    """The executor the CLI asks for: in-process, local worker processes, or Ray actors.

    Args:
        objective: ``objective(config, budget, resume_budget, context)``.
        kind: ``"local"`` (this process, or worker processes when ``n_workers > 1`` or a timeout
            is set) or ``"ray"`` (persistent Ray actors; needs the ``dist`` extra).
        n_workers: parallel trials.
        timeout: seconds per trial before it is killed and recorded as failed.
        address: Ray cluster address (``"auto"``, ``"HOST:PORT"``); ``None`` starts a local one.
        cpus_per_trial: Ray CPUs reserved per trial.
        gpus_per_trial: Ray GPUs reserved per trial.
    """
    from hyperpilot.stopping import StoppableObjective

    objective = StoppableObjective(objective)  # a no-op for trials that carry no stopping state
    if kind == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ValueError("executor 'ray' needs Ray: pip install 'hyperpilot[dist]'")
        from hyperpilot.ray_executor import RayExecutor

        return RayExecutor(objective, n_workers, address=address, cpus_per_trial=cpus_per_trial,
                           gpus_per_trial=gpus_per_trial, timeout=timeout)
    if kind != "local":
        raise ValueError(f"executor must be 'local' or 'ray', got {kind!r}")
    if n_workers == 1 and timeout is None:
        return InlineExecutor(objective)
    return WorkerPoolExecutor(objective, n_workers, timeout)


def run_study(study: Study, objective: Any, n_trials: int | None = None,
              budget: float | None = None, n_workers: int = 1, batch_size: int | None = None,
              timeout: float | None = None, progress: bool = False,
              context_extras: dict[str, Any] | None = None,
              executor: Executor | None = None, retries: int = 0) -> None:
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
        context_extras: extra entries for every trial's ``Context.extras``.
        executor: a ready executor (e.g. Ray); overrides ``n_workers`` and ``timeout``.
        retries: how often a trial whose worker died under it (process or actor crash) is run
            again before it is recorded as failed. Exceptions, bad outputs and timeouts are
            properties of the config and are recorded as failed at once.
    """
    check_run_args(n_trials, budget, n_workers, batch_size, timeout, retries)
    check_method_fits(study.method, study.method_name, objective)
    if budget is not None:  # what `show` reports the budget used against
        study.storage.set_meta(f"budget:{study.name}", repr(float(budget)))
    if executor is None:
        executor = make_executor(objective, "local", n_workers, timeout)
    root = checkpoint_root(study)
    bar = _Progress(study, n_trials, budget, progress)
    slots = max(executor.n_workers, batch_size or 1) if batch_size else executor.n_workers
    attempts: dict[int, int] = {}

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
                asked = study.ask(want)
                for t in asked:
                    executor.submit(t, make_context(study, t, root, context_extras))
                if asked:
                    continue  # a method may give none until running trials finish (pbt)
            if executor.n_running == 0:
                break
            o = executor.wait()
            tid = o.trial.trial_id
            if o.crashed and attempts.get(tid, 0) < retries:
                attempts[tid] = attempts.get(tid, 0) + 1
                log.warning("trial %d lost its worker (%s); retry %d of %d", tid, o.error,
                            attempts[tid], retries)
                executor.submit(o.trial, make_context(study, o.trial, root, context_extras))
                continue
            if o.crashed and retries:
                o = replace(o, error=f"{o.error} (after {retries} retries)")
            _tell(study, o)
            bar.update()
    finally:
        executor.close()
        bar.close()


def check_run_args(n_trials: int | None, budget: float | None, n_workers: int = 1,
                   batch_size: int | None = None, timeout: float | None = None,
                   retries: int = 0) -> None:
    """Refuse a run that could not end or could not start.

    Raises:
        ValueError: when neither ``n_trials`` nor ``budget`` is given, ``n_trials`` or
            ``n_workers`` or ``batch_size`` is not an integer >= 1, ``budget`` or ``timeout``
            is not a finite number > 0 (``inf`` would never end), or ``retries`` < 0.
    """
    if n_trials is None and budget is None:
        raise ValueError("give n_trials or budget (in full-fidelity equivalents)")
    for name, v in (("n_trials", n_trials), ("n_workers", n_workers), ("batch_size", batch_size)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1):
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    for name, x in (("budget", budget), ("timeout", timeout)):
        if x is not None and (isinstance(x, bool) or not isinstance(x, numbers.Real)
                              or not math.isfinite(x) or x <= 0):
            raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    if isinstance(retries, bool) or not isinstance(retries, numbers.Integral) or retries < 0:
        raise ValueError(f"retries must be an integer >= 0, got {retries!r}")


def failure_message(study: Study) -> str | None:
    """``"all N trials failed; first reason: ..."`` when no trial succeeded, else None.

    The CLI prints it and exits non-zero; library users can check ``study.best is None``.
    """
    res = study.results
    if not res or any(r.status != Status.FAILED for r in res):
        return None
    from hyperpilot.overview import short_reason

    return f"all {len(res)} trials failed; first reason: {short_reason(res[0].reason)}"


def _tell(study: Study, o: Outcome) -> None:
    if o.error is not None:
        study.tell_failure(o.trial, o.error, o.wall_time)
    else:
        study.tell(o.trial, o.value, o.curve, o.cost, o.wall_time, stopped=o.stopped,
                   decisions=o.decisions)
