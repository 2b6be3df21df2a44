"""rl-zoo's own tuner on an SB3 workload, written as a study that ``show`` and ``test-incumbent`` read.

rl-baselines3-zoo tunes an agent with Optuna (``rl_zoo3/exp_manager.py``, ``--optimize``):

* ``TPESampler(n_startup_trials=10, multivariate=True, seed=seed)`` and ``MedianPruner(
  n_startup_trials=10, n_warmup_steps=n_evaluations // 3)``;
* each trial trains one config once, on one seed (rl-zoo does not seed its trials; here each
  trial gets a seed of its own, ``hyperpilot.seeds.config_seed``, so a run repeats), for
  ``n_timesteps`` steps, evaluating it every ``n_timesteps // n_evaluations`` steps on
  ``eval_episodes`` (5) deterministic episodes; each evaluation's mean return is reported to the
  pruner (step = the evaluation's 1-based index) and the trial's value is the last one;
  ``n_evaluations`` defaults to ``max(1, n_timesteps // 100_000)``;
* the answer is the trial with the best value; pruned and crashed trials are not candidates.

:func:`run_rlzoo` runs this protocol over HyperPilot's search space for the algorithm, with the
trial length ``max_steps`` and a budget in full-fidelity equivalents (``budget * max_steps`` env
steps, counted as our studies count them, so a pruned trial costs the steps it trained), and
records every trial in a HyperPilot store (method ``optuna-tpe-median``; pruned trials as
``stopped``). A run that was killed resumes: the Optuna study is rebuilt from the store (each
stored trial is told again with its parameters, reports and outcome), the trial that was running
is asked again and rerun from its start, and since the sampler is seeded per trial
(:func:`sampler_seed`) the resumed run proposes what the unbroken one would have.

    python -m hyperpilot.bench.peers.rlzoo --algo ppo --env Acrobot-v1 --max-steps 100000 \\
        --budget 15 --seed 0 --storage runs/rl/acrobot/optuna-tpe-median-s0.sqlite
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hyperpilot.seeds import config_seed
from hyperpilot.trial import Context, Result, Status, Trial, parse_objective_output, spent

NAME = "optuna-tpe-median"


def protocol(max_steps: int, n_evaluations: int | None = None, eval_episodes: int = 5,
             n_startup: int = 10) -> dict[str, Any]:
    """rl-zoo's settings for trials of ``max_steps`` steps (see the module docstring)."""
    n_eval = n_evaluations if n_evaluations is not None else max(1, max_steps // 100_000)
    if n_eval < 1 or eval_episodes < 1 or n_startup < 0:
        raise ValueError("n_evaluations and eval_episodes must be >= 1, n_startup >= 0")
    return {"n_evaluations": n_eval, "eval_every": max_steps // n_eval,
            "eval_episodes": eval_episodes, "n_startup_trials": n_startup,
            "n_warmup_steps": n_eval // 3}


def run_rlzoo(algo: str, env: str, max_steps: int, budget: float, seed: int, storage: Path,
              n_evaluations: int | None = None, eval_episodes: int = 5,
              n_startup: int = 10, normalize: str = "off") -> dict[str, Any]:
    """Tune ``algo`` on ``env`` the rl-zoo way until ``budget`` FFE are spent; returns a summary.

    ``normalize``: the SB3 workload's option (``"tune"`` searches it like any parameter).

    Raises:
        ValueError: for settings the protocol cannot run, or an existing, finished store.
    """
    import optuna

    from hyperpilot.problems import resolve_problem
    from hyperpilot.storage import Storage

    p = protocol(max_steps, n_evaluations, eval_episodes, n_startup)
    opts = {"algo": algo, "env": env, "min_steps": p["eval_every"], "max_steps": max_steps,
            "eval_every": p["eval_every"], "eval_episodes": eval_episodes, "last_k": 1,
            **({"normalize": normalize} if normalize != "off" else {})}  # older stores' options
    problem = resolve_problem(workload="sb3", workload_options=opts)
    spec = {"benchmark": None, "workload": "sb3", "workload_options": opts}
    store = Storage(storage)
    definition = {"space": problem.space.to_dict(), "fidelity": problem.fidelity.to_dict(),
                  "method": NAME, "method_options": {"protocol": "rl-zoo", **p},
                  "direction": "minimize", "problem": spec}
    sid = store.open_study("default", definition, seed)  # refuses another protocol or seed
    store.set_meta("budget:default", repr(float(budget)))
    optuna.logging.set_verbosity(logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=n_startup,
                                           n_warmup_steps=p["n_warmup_steps"]),
        study_name=f"rlzoo-{seed}")
    rows = store.load_trials(sid)
    done = [r.result for r in rows if r.result is not None]
    if any(r.result is None for r in rows[:len(done)]) or len(rows) > len(done) + 1:
        raise ValueError(f"{storage}: more than one unfinished trial, or one before a finished "
                         f"trial; it was not written by this protocol")
    used = 0.0
    for result in done:  # a resumed run: Optuna's study is rebuilt from the store
        _replay(study, problem.space, result)
        used += spent(result) / max_steps
    n, seq = len(done), store.max_seq(sid) + 1
    pending = rows[n].trial if len(rows) > n else None  # asked, then killed before its tell
    while used < budget - 1e-12:
        study.sampler = optuna.samplers.TPESampler(
            n_startup_trials=n_startup, seed=sampler_seed(seed, n), multivariate=True)
        seq, steps = _trial(study, problem, store, sid, seed, n, seq, n_startup, pending)
        pending = None
        used += steps / max_steps
        n += 1
    store.close()
    return {"trials": n, "ffe": used}


def sampler_seed(master: int, n: int) -> int:
    """The seed of the TPE sampler that proposes trial ``n``.

    rl-zoo seeds one sampler for the whole run. Here the sampler is seeded afresh for each trial,
    from the master seed and the trial's number, so that a run rebuilt from its store after a kill
    proposes exactly what the unbroken run would have.
    """
    return int(np.random.SeedSequence([master, 31337, n]).generate_state(1)[0] % (2**31 - 1))


def _replay(study: Any, space: Any, result: Result) -> None:
    """Tell ``study`` a stored trial again: the same parameters, reports and outcome."""
    import optuna

    from hyperpilot.bench.peers.spaces import suggest_optuna

    study.sampler = optuna.samplers.RandomSampler(seed=0)  # its draws are overridden below
    study.enqueue_trial(result.trial.config)
    ot = study.ask()
    config = suggest_optuna(ot, space)
    if config != result.trial.config:
        raise ValueError(f"stored trial {result.trial.trial_id} does not replay: the search space "
                         f"changed since it ran")
    for i, (_, v) in enumerate(result.curve, start=1):
        ot.report(v, i)
    if result.status == Status.COMPLETE:
        study.tell(ot, result.value)
    else:
        study.tell(ot, state=optuna.trial.TrialState.PRUNED)


def _trial(study: Any, problem: Any, store: Any, sid: int, seed: int, n: int, seq: int,
           n_startup: int, pending: Trial | None = None) -> tuple[int, float]:
    """Run trial ``n`` (ask, train with pruning, tell) and store it; returns ``(seq, steps spent)``.

    ``pending``: trial ``n`` as stored before a kill; its config must be the one asked again.
    """
    import optuna

    from hyperpilot.bench.peers.spaces import suggest_optuna

    t0 = time.perf_counter()
    ot = study.ask()
    config = suggest_optuna(ot, problem.space)
    source = "random" if n < n_startup else "model"
    trial = Trial(n, n, config, problem.fidelity.max, 0.0, None, None, config_seed(seed, n),
                  {"source": source})
    if pending is None:
        store.add_trials(sid, [trial], seq, time.perf_counter() - t0)
        seq += 1
    elif pending.config != config or pending.trial_id != n:
        raise ValueError(f"trial {n} asked again after a kill is not the stored one; the store "
                         f"was written by other code")
    reports: list[tuple[float, float]] = []

    def report(budget: float, value: float) -> bool:
        reports.append((budget, value))
        ot.report(value, len(reports))
        return bool(ot.should_prune())

    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rlzoo-") as d:
        ctx = Context(trial, trial.seed, Path(d), report)
        try:
            value, curve, _ = parse_objective_output(
                problem.objective(config, trial.budget, 0.0, ctx))
        except Exception as e:  # noqa: BLE001 - rl-zoo prunes a trial that raises; recorded
            # the evaluations it reported stay in its curve, so that a resumed run replays them
            result = Result(trial, Status.FAILED, None, list(reports), f"{type(e).__name__}: {e}",
                            None, time.perf_counter() - t1)
            study.tell(ot, state=optuna.trial.TrialState.PRUNED)
        else:
            pruned = bool((ctx.extras.get("workload_info") or {}).get("stopped_early"))
            result = Result(trial, Status.STOPPED if pruned else Status.COMPLETE, value, curve,
                            None, None, time.perf_counter() - t1)
            if pruned:
                study.tell(ot, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(ot, value)
    store.finish_trial(sid, result, seq)
    return seq + 1, spent(result)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--algo", default="ppo")
    ap.add_argument("--env", required=True)
    ap.add_argument("--max-steps", type=int, required=True, help="env steps per trial")
    ap.add_argument("--budget", type=float, required=True, help="full-fidelity equivalents")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--storage", type=Path, required=True)
    ap.add_argument("--n-evaluations", type=int, help="default: max(1, max_steps // 100000)")
    ap.add_argument("--eval-episodes", type=int, default=5)
    ap.add_argument("--normalize", choices=["off", "on", "tune"], default="off",
                    help="the SB3 workload's VecNormalize option")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    out = run_rlzoo(a.algo, a.env, a.max_steps, a.budget, a.seed, a.storage, a.n_evaluations,
                    a.eval_episodes, normalize=a.normalize)
    print(f"{NAME}: {out['trials']} trials, {out['ffe']:.2f} FFE -> {a.storage}")


if __name__ == "__main__":
    main()
