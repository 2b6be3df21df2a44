"""``python -m hyperpilot``: run a study, show a store. Bad input gets one line and exit code 2."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the commands import the package inside their bodies
    from hyperpilot.selection import Incumbent
    from hyperpilot.trial import Result

DEFAULTS: dict[str, Any] = {
    "benchmark": None, "workload": None, "method": "hyperpilot", "budget": None, "n_trials": None,
    "workers": 1, "batch_size": None, "seed": 0, "storage": None, "name": "default",
    "timeout": None, "data_dir": None, "method_options": None, "workload_options": None,
    "algo": None, "env": None, "min_steps": None, "max_steps": None, "eta": None,
    "n_seeds": None, "eval_episodes": None, "eval_every": None, "min_epochs": None,
    "max_epochs": None, "executor": "local", "ray_address": None, "cpus_per_trial": 1,
    "gpus_per_trial": 0, "retries": 0, "pruner": None,
}
WORKLOAD_KEYS = ("algo", "env", "min_steps", "max_steps", "eta", "n_seeds", "eval_episodes",
                 "eval_every", "min_epochs", "max_epochs")
DEFAULT_STUDY = {"benchmark": "hartmann6", "method": "hyperpilot", "budget": 10.0, "batch_size": 4}
"""What ``make run`` does with no arguments: multi-fidelity Hartmann-6 with the deep-ensemble
surrogate in q-LogEI (batches of 4), 10 full-fidelity equivalents: about 110 s of CPU here."""


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    from hyperpilot.selection import DEFAULT_SURROGATE

    p = argparse.ArgumentParser(prog="hyperpilot", description=__doc__)
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("run", help="run (or resume) a study")
    r.add_argument("--config", type=Path, help="a YAML study file (command-line flags override it)")
    r.add_argument("--benchmark", help="branin | hartmann6 | bandit | lcbench:<task_id> | "
                   "rbv2_xgboost:<task_id>")
    r.add_argument("--workload", help="sb3 | supervised:diabetes | supervised:digits | ...")
    r.add_argument("--algo", help="SB3 algorithm for --workload sb3 (ppo, a2c, dqn, sac, td3)")
    r.add_argument("--env", help="Gymnasium id for --workload sb3")
    r.add_argument("--min-steps", type=int, dest="min_steps")
    r.add_argument("--max-steps", type=int, dest="max_steps")
    r.add_argument("--eta", type=float)
    r.add_argument("--n-seeds", type=int, dest="n_seeds",
                   help="SB3: training seeds per config, aggregated by the mean")
    r.add_argument("--eval-every", type=int, dest="eval_every",
                   help="SB3: env steps between evaluations (the learning curve's spacing)")
    r.add_argument("--eval-episodes", type=int, dest="eval_episodes",
                   help="SB3: episodes per evaluation")
    r.add_argument("--workload-options", type=_json_object, dest="workload_options",
                   help='other workload settings as JSON, e.g. \'{"value": "auc"}\'')
    r.add_argument("--method", help="random | hyperband | hyperpilot | hyperpilot-mcdropout | "
                   "gp-bo | ..., optionally @<surrogate> and :<variant> (hyperpilot@gp:full)")
    r.add_argument("--method-options", type=_json_object, dest="method_options",
                   help='method options as JSON, e.g. \'{"racing": {"max_seeds": 5}}\'')
    r.add_argument("--tracker", action="append", default=[], metavar="KIND:DIR",
                   help="log every trial to mlflow:DIR, wandb:DIR (offline), tensorboard:DIR or "
                   "store:FILE; repeatable; a failing tracker never fails the run")
    r.add_argument("--pruner", help="who stops runs early: curve | median | human (answer in "
                   "`dashboard --allow-actions`) | llm-scripted (default: the method's rule)")
    r.add_argument("--budget", type=float, help="full-fidelity equivalents (sum of budgets / max)")
    r.add_argument("--n-trials", type=int, dest="n_trials")
    r.add_argument("--workers", type=int)
    r.add_argument("--batch-size", type=int, dest="batch_size")
    r.add_argument("--seed", type=int)
    r.add_argument("--storage", help="SQLite file (default runs/<problem>-<method>-s<seed>.sqlite)")
    r.add_argument("--name", help="study name inside the storage")
    r.add_argument("--timeout", type=float, help="seconds per trial")
    r.add_argument("--executor", choices=["local", "ray"], help="local processes or Ray actors")
    r.add_argument("--ray-address", dest="ray_address", help="auto | HOST:PORT (default: local Ray)")
    r.add_argument("--cpus-per-trial", type=float, dest="cpus_per_trial")
    r.add_argument("--gpus-per-trial", type=float, dest="gpus_per_trial")
    r.add_argument("--retries", type=int, help="re-runs of a trial whose worker died")
    r.add_argument("--data-dir", dest="data_dir", help="benchmark data (else $HYPERPILOT_DATA)")
    r.add_argument("--resume", action="store_true", help="continue a study found in --storage")
    r.add_argument("--no-progress", action="store_true")
    ti = sub.add_parser("test-incumbent",
                        help="retrain the best config on fresh test seeds never used in tuning")
    ti.add_argument("storage", type=Path)
    ti.add_argument("--name", default="default", help="study name inside the storage")
    ti.add_argument("--seeds", type=int, default=10, help="number of fresh test seeds")
    ti.add_argument("--data-dir", dest="data_dir", help="benchmark data (else $HYPERPILOT_DATA)")
    ti.add_argument("--eval-every", type=int, dest="eval_every",
                    help="SB3: also evaluate every N env steps and keep each seed's curve")
    ti.add_argument("--out", type=Path, help="also write the result as JSON to this file")
    ti.add_argument("--workers", type=int, default=1,
                    help="SB3: train this many test seeds at once, one process each (same result)")
    ti.add_argument("--by-model", dest="by_model", nargs="?", const=DEFAULT_SURROGATE,
                    metavar="SURROGATE",
                    help=f"test the config with the best posterior mean of SURROGATE (default "
                         f"{DEFAULT_SURROGATE}) instead of the study's incumbent rule: for noisy "
                         "studies")
    d = sub.add_parser("dashboard", help="watch studies live in a browser (read-only unless "
                       "--allow-actions)")
    d.add_argument("storage", type=Path, nargs="+", help="stores, or folders of stores")
    d.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    d.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    d.add_argument("--allow-actions", action="store_true", dest="allow_actions",
                   help="answer HumanPruner requests; every action needs the printed token")
    d.add_argument("--refresh", type=float, default=1.0, help="seconds between the page's polls")
    s = sub.add_parser("show", help="list the studies and trials of a store")
    s.add_argument("storage", type=Path)
    s.add_argument("--trials", type=int, default=20, help="how many trials to list per study")
    return p


def _json_object(text: str) -> dict[str, Any]:
    """argparse type: a JSON object (bad JSON is a usage error naming the flag's value)."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not JSON ({e.msg}): {text!r}") from None
    if not isinstance(d, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return d


def load_config(path: Path) -> dict[str, Any]:
    """Read a YAML study file; unknown keys and malformed YAML are usage errors."""
    import yaml

    if not path.exists():
        raise UsageError(f"config file {path} does not exist")
    try:
        d = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(f"{path}: malformed YAML{where}") from None
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise UsageError(f"{path}: expected a mapping of study settings, got {type(d).__name__}")
    bad = [k for k in d if not isinstance(k, str)]
    if bad:
        raise UsageError(f"{path}: setting names must be text, got {bad!r}")
    d = {k.replace("-", "_"): v for k, v in d.items()}
    if "workers" not in d and "n_workers" in d:
        d["workers"] = d.pop("n_workers")
    unknown = sorted(set(d) - set(DEFAULTS))
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {unknown}; known: {sorted(DEFAULTS)}")
    return d


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults, then the YAML file, then command-line flags."""
    cfg = dict(DEFAULTS)
    from_file = load_config(args.config) if args.config else {}
    cfg.update(from_file)
    flags = {k: v for k, v in vars(args).items() if k in DEFAULTS and v is not None}
    cfg.update(flags)
    if cfg["benchmark"] is None and cfg["workload"] is None:
        for k, v in DEFAULT_STUDY.items():
            if k not in from_file and k not in flags:
                cfg[k] = v
    if cfg["budget"] is None and cfg["n_trials"] is None:
        cfg["budget"] = 20.0
    check_numbers(cfg)
    if cfg["benchmark"] is not None:
        extra = [k for k in WORKLOAD_KEYS if k != "eta" and cfg[k] is not None]
        if extra or cfg["workload_options"]:
            names = ", ".join(f"--{k.replace('_', '-')}" for k in extra or ["workload_options"])
            raise UsageError(f"{names} set(s) a workload; benchmark {cfg['benchmark']!r} takes "
                             "none (only --eta applies to a benchmark)")
    return cfg


INTEGERS = {"workers": 1, "seed": 0, "n_trials": 1, "batch_size": 1, "retries": 0}
"""Integer settings and their smallest allowed value."""
POSITIVE = ("budget", "timeout", "cpus_per_trial")
"""Settings that must be finite numbers > 0 (``inf`` would never end a study)."""
REQUIRED = ("workers", "seed", "retries", "cpus_per_trial")
"""Settings with a default that a study file may not unset (``workers: null``)."""


def check_numbers(cfg: dict[str, Any]) -> None:
    """Refuse numeric settings a study cannot honour (``None`` means unset and passes).

    Raises:
        UsageError: naming the setting, its allowed range and the value given.
    """
    for k, low in INTEGERS.items():
        v = cfg[k]
        if (v is not None or k in REQUIRED) and (
                isinstance(v, bool) or not isinstance(v, int) or v < low):
            raise UsageError(f"{k} must be an integer >= {low}, got {v!r}")
    for k in POSITIVE:
        if (cfg[k] is not None or k in REQUIRED) and not (_finite(cfg[k]) and cfg[k] > 0):
            raise UsageError(f"{k} must be a finite number > 0, got {cfg[k]!r}")
    if not (_finite(cfg["gpus_per_trial"]) and cfg["gpus_per_trial"] >= 0):
        raise UsageError(f"gpus_per_trial must be a finite number >= 0, got {cfg['gpus_per_trial']!r}")
    if cfg["eta"] is not None and not (_finite(cfg["eta"]) and cfg["eta"] > 1):
        raise UsageError(f"eta must be a finite number > 1 (Hyperband keeps 1/eta of each rung), "
                         f"got {cfg['eta']!r}")


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _workload_options(cfg: dict[str, Any]) -> dict[str, Any]:
    opts = dict(cfg["workload_options"] or {})
    for k in WORKLOAD_KEYS:
        if cfg[k] is not None:
            opts[k] = cfg[k]
    return opts


def cmd_run(args: argparse.Namespace) -> int:
    from hyperpilot.errors import SetupError
    from hyperpilot.problems import resolve_problem
    from hyperpilot.runner import check_method_fits, failure_message, make_executor
    from hyperpilot.study import Study

    cfg = settings(args)
    try:
        problem = resolve_problem(cfg["benchmark"], cfg["workload"],
                                  _workload_options(cfg) if cfg["workload"] else None,
                                  cfg["data_dir"], cfg["seed"])
        if cfg["benchmark"] is not None and cfg["eta"] is not None:  # a workload applies its own
            problem = with_eta(problem, float(cfg["eta"]))
        slug = problem.name.replace(":", "-").replace("/", "-")
        storage = Path(cfg["storage"] or f"runs/{slug}-{cfg['method']}-s{cfg['seed']}.sqlite")
        lock = lock_store(storage)  # held until this process exits (released even on SIGKILL)
        existed = storage.exists() and storage.stat().st_size > 0
        spec = {"benchmark": cfg["benchmark"], "workload": cfg["workload"],
                "workload_options": _workload_options(cfg) if cfg["workload"] else None}
        trackers = _trackers(args.tracker)
        options = cfg["method_options"]
        if cfg["benchmark"] is not None:  # a transfer surrogate learns from related benchmarks
            from hyperpilot.related import method_related_options

            related = method_related_options(cfg["method"], cfg["benchmark"], cfg["data_dir"])
            options = {**related, **(options or {})} or None
        study = Study(problem.space, problem.fidelity, cfg["method"], problem.direction,  # type: ignore[arg-type]
                      cfg["seed"], storage, cfg["name"], options, problem=spec,
                      trackers=trackers)
        if cfg["pruner"] is not None:
            from hyperpilot.pruners import make_pruner

            study.pruner = make_pruner(cfg["pruner"], storage, cfg["name"], study.method.stop_rule)
        check_method_fits(study.method, cfg["method"], problem.objective)
        executor = make_executor(problem.objective, cfg["executor"], cfg["workers"], cfg["timeout"],
                                 cfg["ray_address"], cfg["cpus_per_trial"], cfg["gpus_per_trial"])
    except (ValueError, KeyError, TypeError) as e:
        raise SetupError(str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)) from e
    if existed and study.results and not args.resume:
        raise UsageError(f"{storage} already holds study '{cfg['name']}' with "
                         f"{len(study.results)} trials; pass --resume to continue it")
    if problem.optimum is not None:  # what regrets are measured against, for `show`
        study.storage.set_meta(f"optimum:{cfg['name']}", json.dumps(
            {"optimum": problem.optimum, "note": problem.optimum_note}))
    print(f"study '{cfg['name']}': {problem.name}, method {cfg['method']}, seed {cfg['seed']}, "
          f"budget {cfg['budget'] or '-'} FFE, {cfg['workers']} worker(s) -> {storage}", flush=True)
    t0 = time.perf_counter()
    try:
        study.run(problem.objective, n_trials=cfg["n_trials"], budget=cfg["budget"],
                  n_workers=cfg["workers"], batch_size=cfg["batch_size"], timeout=cfg["timeout"],
                  progress=not args.no_progress, executor=executor, retries=cfg["retries"])
    finally:
        if lock is not None:
            lock.close()
    print_summary(study, problem.optimum, time.perf_counter() - t0, cfg["budget"], spec)
    for name, r in study.tracker_report().items():
        print(f"tracker {name}: {r['logged']} trials logged, {r['failed']} failed, "
              f"{r['seconds']:.2f} s" + (f" (last error: {r['last_error']})" if r["failed"]
                                        else ""))
    failed = failure_message(study)
    if failed:
        print(f"hyperpilot: {failed}", file=sys.stderr)
        return 1
    return 0


def _trackers(specs: Sequence[str]) -> list[Any]:
    """Trackers from ``--tracker KIND:DIR`` options (none: no import of the trackers)."""
    if not specs:
        return []
    from hyperpilot.integrations.trackers import make_tracker

    return [make_tracker(s) for s in specs]


def with_eta(problem: Any, eta: float) -> Any:
    """``problem`` with Hyperband's reduction factor set to ``eta`` (the budget range is kept)."""
    from dataclasses import replace

    from hyperpilot.trial import Fidelity

    f = problem.fidelity
    return replace(problem, fidelity=Fidelity(f.min, f.max, eta))


def lock_store(storage: Path) -> Any:
    """Take an exclusive lock on the store file itself so that two runs never drive one store.

    A second ``hyperpilot run`` on the same store (say, a resume started while the first still
    runs) would re-run its pending trials and race it for results (``hyperpilot.locking``).
    The holder's pid is in ``<storage>.lock``; deleting that file releases nothing. Returns the
    lock, which must stay referenced while the run lasts.

    Raises:
        UsageError: when another process holds the lock (its pid is in the message).
    """
    from hyperpilot.locking import LockedError, hold_file_lock

    try:
        return hold_file_lock(storage, str(storage))
    except LockedError as e:
        raise UsageError(str(e)) from None
    except OSError as e:  # a read-only or missing directory, a full disk
        raise UsageError(f"cannot write beside {storage} ({e.strerror or e}); choose a writable "
                         "--storage") from None


def print_summary(study: Any, optimum: float | None, seconds: float,
                  budget: float | None = None, problem: dict[str, Any] | None = None) -> None:
    """The closing summary of ``run`` (``hyperpilot.overview.study_lines``, as ``show`` prints)."""
    from hyperpilot.overview import format_rows, study_lines

    rows = study_lines(study.results, study.direction, study.budget_used(), budget, problem,
                       optimum, study.method.incumbent_rule, study.incumbent())
    rows.insert(4, ("wall time", f"{seconds:.1f} s"))
    print(format_rows(rows))


def cmd_show(args: argparse.Namespace) -> int:
    """Each study of a store: its summary (as ``run`` ends with) and its last trials."""
    from hyperpilot.storage import Storage

    if not args.storage.exists():
        raise UsageError(f"{args.storage} does not exist")
    if args.trials < 0:
        raise UsageError(f"--trials must be >= 0, got {args.trials}")
    st = Storage(args.storage, read_only=True)
    try:
        for s in st.studies():
            _show_study(st, s, args.trials)
    finally:
        st.close()
    return 0


def _show_study(st: Any, s: dict[str, Any], n_rows: int) -> None:
    from hyperpilot.overview import format_rows, study_lines, value_view
    from hyperpilot.selection import ModelContext, choose, rule_of
    from hyperpilot.trial import spent

    d = s["definition"]
    rows = st.load_trials(s["study_id"])
    told = sorted((r for r in rows if r.result is not None), key=lambda r: r.tell_seq or 0)
    results = [r.result for r in told]
    used = sum(spent(r) for r in results) / float(d["fidelity"]["max"])
    limit = st.get_meta(f"budget:{s['name']}")
    opt = json.loads(st.get_meta(f"optimum:{s['name']}") or "{}").get("optimum")
    print(f"study '{s['name']}' (id {s['study_id']}): method {d['method']}, seed {s['seed']}, "
          f"{s['n_trials']} trials, direction {d['direction']}, fidelity {d['fidelity']}")
    rule = rule_of(d)
    inc = choose(results, d["direction"], rule, context=ModelContext.needed(rule, d, s["seed"]))
    print(format_rows(study_lines(results, d["direction"], used,
                                  None if limit is None else float(limit), d.get("problem"),
                                  opt, rule, inc)))
    from hyperpilot.decisions import decision_lines

    for line in decision_lines(st.load_decisions(s["study_id"])):
        print(line)
    from hyperpilot.schedule import schedule_lines

    for i, line in enumerate(schedule_lines(inc.config) if inc is not None else []):
        print(f"  {'incumbent schedule' if i == 0 else '':<18} {line}")
    sign, label = value_view(d.get("problem"))
    print(f"  {'trial':>5} {'config':>6} {'seed':>4} {'budget':>8} {'resume':>8} {'status':>9} "
          f"{label:>12}")
    for r in rows[max(len(rows) - n_rows, 0):] if n_rows else []:
        v = r.result.value if r.result is not None else None
        st_ = r.result.status.value if r.result is not None else "pending"
        vs = "-" if v is None else f"{sign * v:.6g}"
        print(f"  {r.trial.trial_id:>5} {r.trial.config_id:>6} {r.trial.seed_index:>4} "
              f"{r.trial.budget:>8g} {r.trial.resume_budget:>8g} {st_:>9} {vs:>12}")


def cmd_dashboard(args: argparse.Namespace) -> int:
    from hyperpilot.dashboard import serve
    from hyperpilot.storage import StorageError

    missing = [str(p) for p in args.storage if not p.exists()]
    if missing:
        raise UsageError(f"{', '.join(missing)} does not exist")
    if not 0 <= args.port <= 65535 or not args.refresh > 0:
        raise UsageError(f"--port must be in 0..65535 and --refresh > 0, got {args.port}, "
                         f"{args.refresh}")
    try:
        serve(args.storage, args.host, args.port, args.allow_actions, args.refresh)
    except (StorageError, ValueError, OSError) as e:
        raise UsageError(str(e)) from None
    except KeyboardInterrupt:
        pass
    return 0


def cmd_test_incumbent(args: argparse.Namespace) -> int:
    from hyperpilot.incumbent import evaluate_incumbent
    from hyperpilot.problems import resolve_problem
    from hyperpilot.storage import Storage

    if not args.storage.exists():
        raise UsageError(f"{args.storage} does not exist")
    if args.seeds < 2:
        raise UsageError(f"--seeds must be >= 2, got {args.seeds}")
    st = Storage(args.storage, read_only=True)
    found = [s for s in st.studies() if s["name"] == args.name]
    if not found:
        raise UsageError(f"no study '{args.name}' in {args.storage}")
    d = found[0]["definition"]
    spec = d.get("problem")
    if not spec:
        raise UsageError(f"study '{args.name}' does not record its problem (made through the API?)")
    results = [r.result for r in st.load_trials(found[0]["study_id"]) if r.result is not None]
    best = _chosen(results, d, found[0]["seed"], args.by_model)
    if best is None:
        raise UsageError(f"study '{args.name}' has no complete trial yet")
    problem = resolve_problem(spec.get("benchmark"), spec.get("workload"),
                              spec.get("workload_options"), args.data_dir, found[0]["seed"])
    from hyperpilot.overview import value_view

    sign, label = value_view(spec)  # a tuning return, as the test returns below
    seeds = (f"mean of {best.n_seeds} tuning seeds, sd {best.std:.4g}" if best.n_seeds > 1
             else "1 tuning seed")
    print(f"incumbent rule: {best.rule}")
    print(f"incumbent {json.dumps(best.config, default=str)} (tuning {label} "
          f"{sign * best.value:.6g} at budget {best.budget:g}, {seeds}); retraining on "
          f"{args.seeds} fresh test seeds ...", flush=True)
    if args.eval_every is not None and args.eval_every < 1:
        raise UsageError(f"--eval-every must be >= 1, got {args.eval_every}")
    if args.eval_every is not None and spec.get("workload") != "sb3":
        raise UsageError("--eval-every records test learning curves of an SB3 workload only")
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    if args.workers > 1 and spec.get("workload") != "sb3":
        raise UsageError("--workers trains test seeds in parallel for an SB3 workload only")
    partial = None if args.out is None else args.out.with_name(args.out.name + ".partial")
    if partial is not None:  # finished test seeds, so that a killed test resumes
        partial.parent.mkdir(parents=True, exist_ok=True)
    out = evaluate_incumbent(problem, best.config, spec, args.seeds, eval_every=args.eval_every,
                             progress=partial, workers=args.workers)
    print(f"  test {out['unit']}: mean {out['mean']:.6g}, std {out['std']:.4g} over seeds "
          f"{out['seeds'][0]}..{out['seeds'][-1]}")
    if "test_mean" in out:
        print(f"  held-out test split value: mean {out['test_mean']:.6g}")
    if args.out is not None:
        record = {"storage": str(args.storage), "study": args.name, "tuning_seed": found[0]["seed"],
                  "incumbent": best.config, "tuning_value": best.value,
                  "tuning_budget": best.budget, "incumbent_rule": best.rule,
                  "tuning_values": list(best.values), **out}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1, default=str) + "\n")
        if partial is not None:
            partial.unlink(missing_ok=True)
    return 0


def _chosen(results: list[Result], definition: dict[str, Any], seed: int,
            by_model: str | None) -> Incumbent | None:
    """The incumbent ``test-incumbent`` retrains: the study's own rule, or with ``by_model``
    the best posterior mean of that surrogate (``hyperpilot.posterior_incumbent``)."""
    from hyperpilot.selection import ModelContext, choose, rule_of

    if by_model is None:
        rule = rule_of(definition)
        return choose(results, definition["direction"], rule,
                      context=ModelContext.needed(rule, definition, seed))
    from hyperpilot.posterior_incumbent import posterior_incumbent
    from hyperpilot.space import SearchSpace
    from hyperpilot.trial import Fidelity
    from surrogates import SURROGATES

    if by_model not in SURROGATES:
        raise UsageError(f"--by-model: unknown surrogate {by_model!r}; known: "
                         f"{', '.join(sorted(SURROGATES))}")
    space = SearchSpace.from_dict(definition["space"])
    fidelity = Fidelity(**definition["fidelity"])
    try:
        out = posterior_incumbent(results, space, fidelity, definition["direction"], by_model,
                                  seed)
    except ValueError as e:
        raise UsageError(f"--by-model: {e}") from None
    return None if out is None else out[0]


def default_argv(argv: list[str]) -> list[str]:
    """No arguments runs the default study, resuming it if a store already holds it (a
    finished one just prints its summary), so ``make run`` can be repeated."""
    return argv or ["run", "--resume"]


def main(argv: Sequence[str] | None = None) -> int:
    from hyperpilot.executor import huge_page_malloc, quiet_optimizer_warnings

    huge_page_malloc()  # for the worker processes this command starts
    args = _parser().parse_args(default_argv(list(sys.argv[1:] if argv is None else argv)))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_optimizer_warnings()  # BoTorch's "Optimization failed" retries (not our fallbacks)
    from hyperpilot.errors import USER_ERRORS

    try:
        if args.command == "show":
            return cmd_show(args)
        if args.command == "test-incumbent":
            return cmd_test_incumbent(args)
        if args.command == "dashboard":
            return cmd_dashboard(args)
        return cmd_run(args)
    except (UsageError, *USER_ERRORS) as e:  # type: ignore[misc]  # a tuple of exception classes
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"hyperpilot: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hyperpilot: interrupted; finished trials are saved, resume with --resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
