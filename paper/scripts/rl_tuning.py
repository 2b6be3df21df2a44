"""The ``rl_tuning`` experiment (issues 5 and 19): tuners on SB3 agents, tuned then tested on fresh seeds.

Methods: any HyperPilot method name (``hyperpilot:race`` races configs at the max budget on up
to 3 paired seeds and returns the best mean; ``hyperpilot`` runs one seed per config), and
``optuna-tpe-median``, rl-zoo's own tuner on its own single-seed protocol
(``hyperpilot.bench.peers.rlzoo``: TPE + median pruner, one evaluation per 100k steps, 5
episodes, the last evaluation as the value) with the same environment steps.

Presets:

* ``acrobot``: PPO Acrobot-v1. Each study gets 1.5M environment steps: 15 full-fidelity
  equivalents at 100k steps, the budget of rl-zoo's own tuner in ``../shared/FACTS.md`` (15 trials
  x 100k). Hyperband rungs 11.1k / 33.3k / 100k; value = mean evaluation return over the last 3
  evaluations (every 5k steps, 10 episodes).
* ``acrobot-norm``: ``acrobot`` with observation and reward normalisation as a tuned boolean
  (the SB3 workload's ``normalize: "tune"``): rl-zoo's tuned Acrobot config scores -79.8 with
  its normalisation and -84.2 without at 100k steps (``rlzoo_config_check.py``, README).
* ``cartpole``: PPO CartPole-v1, where random configs already reach 500, so the tuners are
  compared on how fast the incumbent learns: value = area under the evaluation curve (every 2.5k
  steps, 5 episodes); 500k steps per study (10 x 50k), rungs 5.6k / 16.7k / 50k; the test records
  each test seed's curve, for steps-to-475.
* ``cartpole-pop``: ``cartpole`` for the population methods of issue 21 (``pbt``, ``pb2``,
  ``pb2-bnn``) and the static tuners they are compared with: the PPO space's rollouts are capped
  at PBT's ready interval (max / 8 = 6,250 steps; ``n_steps`` <= 256 with up to 16 envs), since
  PPO trains in whole rollouts and a 32k-step rollout would run a member through five intervals
  in its first. PBT and PB2 select on the value of each interval (the area under its evaluations).
* ``lunarlander``: PPO LunarLander-v3 (the ``box2d`` extra), a task of another kind (sparse
  crashes, a longer horizon): 10 x 200k steps per study, rungs 22.2k / 66.7k / 200k, value = mean
  of the last 3 evaluations (every 10k steps, 10 episodes); a test run below 0 (it crashes) fails.
* ``pendulum``: SAC Pendulum-v1, the cheaper alternative third task: 10 x 20k steps, rungs 2.2k /
  6.7k / 20k, evaluations every 1k steps; SAC costs 160-264 s per 10k steps here (FACTS.md).

A test run *fails* below the preset's ``fail_below`` (Acrobot: -499, an agent that never swings
up in 500 steps). The report gives, per method: the test mean with its 95% interval, failed test
runs, steps to the threshold (CartPole) and the share of the study's steps spent on extra seeds
(racing).

Tuning seeds ``0..S-1`` are study master seeds (training seeds < 9000); each incumbent is then
retrained from scratch at the max budget on fresh test seeds (10000, 10001, ...) by
``hyperpilot test-incumbent``. One lane per method runs side by side, seed by seed (tune, then
test), so a stopped run leaves both methods with the same number of finished seeds. Everything
goes through the public CLI, and the run resumes: finished studies and tests are skipped.
While it runs it prints where each lane stands every ``--status-every`` seconds (10 minutes);
``--status`` prints the same lines for a job running elsewhere (e.g. ``nohup``) and exits.

Layout: ``RUNS/<preset>/<method>-s<seed>.sqlite`` (study), ``.done``, ``.log``, ``.test.json``;
``RUNS/<preset>/report.md`` and ``rl.png``/``.pdf``; where an incumbent holds schedules (the
population methods), ``schedules.csv`` and ``schedules.png``/``.pdf``. With ``--out F.csv`` (the paper's
``rl_tuning`` experiment) it also writes one row per test run to ``F.csv`` and one row per preset
x method to ``F_summary.csv``. Confidence intervals are 95% percentile bootstraps
(``scipy.stats.bootstrap``) over a method's pooled test runs.

    cd /work/main && OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/rl_tuning.py \\
        --presets acrobot cartpole --seeds 3 --runs runs/rl \\
        --methods hyperpilot:race hyperpilot random optuna-tpe-median
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyperpilot import analysis as A
from hyperpilot.bench.stats import bootstrap_ci
from hyperpilot.data import resolve_data_dir
from hyperpilot.workloads.curves import curve_value

PRESETS: dict[str, dict[str, Any]] = {
    "acrobot": {"env": "Acrobot-v1", "algo": "ppo", "min_steps": 10_000, "max_steps": 100_000,
                "budget": 15.0, "eval_every": None, "run": [], "threshold": None,
                "fail_below": -499.0},
    "acrobot-norm": {"env": "Acrobot-v1", "algo": "ppo", "min_steps": 10_000, "max_steps": 100_000,
                     "budget": 15.0, "eval_every": None, "threshold": None, "fail_below": -499.0,
                     "normalize": "tune", "run": ["--workload-options", '{"normalize": "tune"}']},
    "cartpole": {"env": "CartPole-v1", "algo": "ppo", "min_steps": 5_000, "max_steps": 50_000,
                 "budget": 10.0, "eval_every": 2_500, "threshold": 475.0, "fail_below": None,
                 "value": "auc",
                 "run": ["--eval-episodes", "5", "--workload-options", '{"value": "auc"}']},
    "cartpole-pop": {"env": "CartPole-v1", "algo": "ppo", "min_steps": 5_000, "max_steps": 50_000,
                     "budget": 10.0, "eval_every": 2_500, "threshold": 475.0, "fail_below": None,
                     "value": "auc",
                     "run": ["--eval-episodes", "5", "--workload-options",
                             '{"value": "auc", "max_rollout": 6250}']},
    "lunarlander": {"env": "LunarLander-v3", "algo": "ppo", "min_steps": 22_222,
                    "max_steps": 200_000, "budget": 10.0, "eval_every": None, "threshold": None,
                    "fail_below": 0.0, "run": ["--eval-every", "10000"]},
    "pendulum": {"env": "Pendulum-v1", "algo": "sac", "min_steps": 2_222, "max_steps": 20_000,
                 "budget": 10.0, "eval_every": None, "threshold": None, "fail_below": None,
                 "run": ["--eval-every", "1000"]},
}
PEERS = ("optuna-tpe-median",)
"""Methods that are not HyperPilot methods: run by their own module, stored as studies."""
COLOURS = {"hyperpilot": "tab:blue", "random": "tab:orange", "hyperpilot:race": "tab:green",
           "pbt": "tab:purple", "pb2": "tab:brown", "pb2-bnn": "tab:pink",
           "optuna-tpe-median": "tab:red"}


def slug(method: str) -> str:
    """A method's name in file names (``hyperpilot:race`` -> ``hyperpilot_race``)."""
    return method.replace(":", "_").replace("+", "_")


# ----------------------------------------------------------------------------------- running
def _lane(method: str, p: dict[str, Any], d: Path, seeds: int, test_seeds: int,
          errors: list[str], first: int = 0, test_workers: int = 1) -> None:
    """Tune then test tuning seeds ``first .. first + seeds - 1`` of ``method`` in turn; a
    failure ends the lane (logged). ``test_workers``: test seeds trained at once per test."""
    py, env = sys.executable, dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    every = ["--eval-every", str(p["eval_every"])] if p["eval_every"] else []
    for s in range(first, first + seeds):
        stem = d / f"{slug(method)}-s{s}"
        db = stem.with_suffix(".sqlite")
        if method in PEERS:  # rl-zoo's tuner on its own protocol, the same env steps
            tune = [py, "-m", "hyperpilot.bench.peers.rlzoo", "--algo", p["algo"], "--env",
                    p["env"], "--max-steps", str(p["max_steps"]), "--budget", str(p["budget"]),
                    "--seed", str(s), "--storage", str(db),
                    *(["--normalize", p["normalize"]] if p.get("normalize") else [])]
        else:
            tune = [py, "-m", "hyperpilot", "run", "--workload", "sb3", "--algo", p["algo"],
                    "--env", p["env"], "--min-steps", str(p["min_steps"]), "--max-steps",
                    str(p["max_steps"]), "--eta", "3", "--budget", str(p["budget"]), "--workers",
                    "1", "--method", method, "--seed", str(s), "--storage", str(db), "--resume",
                    "--no-progress", *every, *p["run"]]
        steps = [(stem.with_suffix(".done"), tune, stem.with_suffix(".log")),
                 (stem.with_suffix(".test.json"),
                  [py, "-m", "hyperpilot", "test-incumbent", str(db), "--seeds", str(test_seeds),
                   *every, "--workers", str(test_workers),
                   "--out", str(stem.with_suffix(".test.json"))],
                  stem.with_suffix(".test.log"))]
        for done, cmd, log in steps:
            if done.exists():
                continue
            with open(log, "w") as f:
                rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, check=False).returncode
            if rc != 0:
                errors.append(f"{' '.join(cmd[2:5])} ... exited {rc}; see {log}")
                return
            if done.suffix == ".done":
                done.touch()


def run_preset(p: dict[str, Any], d: Path, methods: list[str], seeds: int, test_seeds: int,
               first: int = 0, status_every: float = 0.0, test_workers: int = 1) -> None:
    """One lane per method, side by side, over tuning seeds ``first .. first + seeds - 1``;
    with ``status_every > 0``, :func:`status_lines` are printed every that many seconds;
    ``test_workers`` test seeds of an incumbent train at once (``test-incumbent --workers``)."""
    d.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    lanes = [threading.Thread(target=_lane,
                              args=(m, p, d, seeds, test_seeds, errors, first, test_workers))
             for m in methods]
    for t in lanes:
        t.start()
    finished = threading.Event()
    if status_every > 0:
        def tick() -> None:
            while not finished.wait(status_every):
                print("\n".join(status_lines(p, d, methods, range(first, first + seeds),
                                              test_seeds)), flush=True)
        threading.Thread(target=tick, daemon=True).start()
    for t in lanes:
        t.join()
    finished.set()
    if errors:
        raise SystemExit("\n".join(errors))


# ----------------------------------------------------------------------------------- progress
def lane_status(p: dict[str, Any], d: Path, method: str, seed: int, test_seeds: int) -> str:
    """Where tuning seed ``seed`` of ``method`` stands: waiting, tuning (env steps of the
    study's), testing (test seeds finished) or tested. Reads the files the lane writes."""
    stem = d / f"{slug(method)}-s{seed}"
    if stem.with_suffix(".test.json").exists():
        return "tested"
    if stem.with_suffix(".done").exists():
        partial = stem.with_suffix(".test.json.partial")  # one JSON line per finished test seed
        lines = partial.read_text().splitlines() if partial.exists() else []
        n = sum(1 for x in lines if x.endswith("}"))  # a torn last line is not a seed
        return f"testing, {n} of {test_seeds} test seeds done"
    db = stem.with_suffix(".sqlite")
    if not db.exists():
        return "waiting"
    steps = study_summary(db, None)["study_steps"]
    return f"tuning, {steps / 1e6:.2f}M of {p['budget'] * p['max_steps'] / 1e6:.2f}M env steps"


def status_lines(p: dict[str, Any], d: Path, methods: list[str], seeds: range,
                 test_seeds: int) -> list[str]:
    """One line per lane and tuning seed, stamped with the time: ``--status`` and the run's log."""
    now = time.strftime("%H:%M:%S")
    return [f"{now} {d.name} {m} seed {s}: {lane_status(p, d, m, s, test_seeds)}"
            for m in methods for s in seeds]


# ----------------------------------------------------------------------------------- summaries
def rl_zoo_reference(env: str, algo: str = "ppo") -> tuple[float, float, str] | None:
    """``(mean, std, n_timesteps)`` of rl-zoo's tuned agent, or None without the data directory."""
    d = resolve_data_dir(None, required=False)
    path = None if d is None else d / "rl_zoo3" / "classic_control_reference.csv"
    if path is None or not path.exists():
        return None
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["algo"] == algo and row["env_id"] == env:
                return float(row["mean_reward"]), float(row["std_reward"]), row["bench_n_timesteps"]
    return None


def steps_to(curve: list[list[float]], threshold: float) -> float:
    """Env steps of the first ``(steps, return)`` point at or above ``threshold``; inf if none."""
    return next((float(b) for b, v in curve if v >= threshold), float("inf"))


def study_summary(db: Path, threshold: float | None) -> dict[str, Any]:
    """Trials, env steps trained (as the study counts them, and as the agents really trained),
    trial wall time and the incumbent's tuning return of one study.

    ``tuner_steps_to``: env steps the study had trained when one of its evaluations first reached
    ``threshold`` (inf if none did): how fast the tuner finds a good config.
    """
    df = A.load_study(db)
    if df.empty:  # a study just created: no trial has finished yet
        return {"trials": 0, "stopped": 0, "study_steps": 0.0, "optimizer_s": 0.0,
                "actual_steps": 0.0, "extra_seed_share": 0.0, "race_runs": 0, "trial_wall_h": 0.0,
                "tuning_return": np.nan, "trace": pd.DataFrame({"steps": [], "best": []}),
                "tuner_steps_to": np.nan}
    # curves are indexed by the steps the agent really trained (PPO finishes whole rollouts, so a
    # trial can pass its budget): the furthest point of each run (config, seed) less where it
    # started is what it cost (a PBT interval is a config of its own that starts at its parent's
    # checkpoint; a Hyperband config starts at 0 and continues across promotions)
    last = df["curve"].map(lambda c: float(c[-1][0]) if c else 0.0)
    run = [df["config_id"], df["seed_index"]]
    extra = df["seed_index"] > 0
    rec = {"trials": len(df), "stopped": int((df["status"] == "stopped").sum()),
           "study_steps": float(df["spent"].sum()), "optimizer_s": float(df["overhead_s"].sum()),
           "actual_steps": float((last.groupby(run).max()
                                  - df["resume_budget"].groupby(run).min()).clip(lower=0).sum()),
           "extra_seed_share": float(df.loc[extra, "spent"].sum() / max(df["spent"].sum(), 1e-300)),
           "race_runs": int(extra.sum()),
           "trial_wall_h": float(df["wall_s"].sum()) / 3600,
           "tuning_return": -float(df["incumbent_loss"].iloc[-1]),  # NaN before a max-budget result
           "trace": pd.DataFrame({"steps": df["spent"].cumsum(), "best": -df["incumbent_loss"]}),
           "tuner_steps_to": np.nan}
    if threshold is not None:
        before = df["spent"].cumsum() - df["spent"]
        hits = [b0 + (s - r) for b0, c, r in zip(before, df["curve"], df["resume_budget"], strict=True)
                for s, v in c if -v >= threshold]  # curves hold negated returns
        rec["tuner_steps_to"] = min(hits) if hits else float("inf")
    return rec


def parse_labels(pairs: list[str]) -> dict[str, str]:
    """``["hyperpilot=hyperpilot@laplace-warp"]`` -> ``{"hyperpilot": "hyperpilot@laplace-warp"}``.

    A study folder keeps the method name it ran under; when a default changed since (the
    surrogate behind ``hyperpilot``), its reports should carry the name that says what ran.

    Raises:
        ValueError: an entry without ``=`` or with an empty side.
    """
    out = {}
    for x in pairs:
        old, sep, new = x.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValueError(f"--label takes OLD=NEW, got {x!r}")
        out[old.strip()] = new.strip()
    return out


def collect(d: Path, methods: list[str], threshold: float | None,
            value: str = "last") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per study (with its trace) and per test run.

    With ``value="auc"`` (a preset tuned on the area under its evaluation curve) each test run
    also gets ``test_auc``: the same statistic (``curve_value(curve, "auc")``) on its test curve,
    i.e. the tuned objective on a fresh seed; NaN otherwise.
    """
    studies, tests = [], []
    for m in methods:
        for db in sorted(d.glob(f"{slug(m)}-s*.sqlite"), key=lambda p: int(p.stem.rsplit("-s", 1)[1])):
            seed = int(db.stem.rsplit("-s", 1)[1])
            rec = {"method": m, "tuning_seed": seed, "finished": db.with_suffix(".done").exists(),
                   **study_summary(db, threshold)}
            studies.append(rec)
            tj = db.with_suffix(".test.json")
            if not tj.exists():
                continue
            t = json.loads(tj.read_text())
            curves = t.get("curves") or [None] * len(t["seeds"])
            for ts, v, c in zip(t["seeds"], t["values"], curves, strict=True):
                auc = (curve_value([(float(b), float(y)) for b, y in c], "auc")
                       if value == "auc" and c else np.nan)
                tests.append({"method": m, "tuning_seed": seed, "test_seed": ts, "test_return": v,
                              "test_auc": auc,
                              "steps_to": steps_to(c, threshold) if c is not None and threshold else np.nan,
                              "curve": c, "tuning_return": rec["tuning_return"],
                              "incumbent": json.dumps(t["incumbent"], sort_keys=True),
                              "incumbent_rule": t.get("incumbent_rule", ""),
                              "incumbent_seeds": len(t.get("tuning_values") or [1])})
    return pd.DataFrame(studies), pd.DataFrame(tests)


def _ci(values: np.ndarray, statistic: str = "mean") -> tuple[float, float]:
    """95% percentile-bootstrap CI (the bench's ``bootstrap_ci``, seeded for identical reports)."""
    return bootstrap_ci(values, np.random.default_rng(0), statistic, n_resamples=5000)


def common_seeds(tests: pd.DataFrame, methods: list[str]) -> list[int]:
    """Tuning seeds whose incumbent was tested for every method (the paired comparison)."""
    if tests.empty:
        return []
    per = [set(tests.loc[tests["method"] == m, "tuning_seed"]) for m in methods]
    return sorted(set.intersection(*per)) if per else []


def summarise(name: str, p: dict[str, Any], studies: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """One row per method over the tuning seeds tested for every method (so a run cut short
    compares like with like): test return mean [CI], steps-to (median [CI], share reached)."""
    rows = []
    seeds = common_seeds(tests, list(dict.fromkeys(studies["method"])))
    if len(tests):
        tests = tests[tests["tuning_seed"].isin(seeds)]
    for m, g in studies.groupby("method", sort=False):
        t = tests[tests["method"] == m] if len(tests) else tests
        vals = t["test_return"].to_numpy(float) if len(t) else np.array([])
        lo, hi = _ci(vals) if len(vals) else (np.nan, np.nan)
        fail = p.get("fail_below")
        row = {"preset": name, "env": p["env"], "method": m, "tuning_seeds": len(g),
               "tuning_seeds_tested": t["tuning_seed"].nunique() if len(t) else 0,
               "test_runs": len(vals), "test_mean": vals.mean() if len(vals) else np.nan,
               "test_ci_low": lo, "test_ci_high": hi,
               "failed_test_runs": int((vals < fail).sum()) if fail is not None else 0,
               "tuning_seeds_with_a_failure": (int(t.loc[t["test_return"] < fail, "tuning_seed"].nunique())
                                               if fail is not None and len(t) else 0),
               "extra_seed_share": float(g["extra_seed_share"].mean()),
               "study_steps_median": float(g["study_steps"].median()),
               "actual_steps_median": float(g["actual_steps"].median()),
               "trial_wall_h_median": float(g["trial_wall_h"].median())}
        if p.get("value") == "auc":
            auc = t["test_auc"].to_numpy(float) if len(t) else np.array([])
            lo, hi = _ci(auc) if len(auc) and np.isfinite(auc).all() else (np.nan, np.nan)
            row.update(test_auc_mean=float(auc.mean()) if len(auc) else np.nan,
                       test_auc_ci_low=lo, test_auc_ci_high=hi)
        if p["threshold"] is not None:
            st = t["steps_to"].to_numpy(float) if len(t) else np.array([])
            capped = np.where(np.isfinite(st), st, 2 * p["max_steps"])  # never: beyond the budget
            lo, hi = _ci(capped, "median") if len(st) else (np.nan, np.nan)
            med = float(np.median(capped)) if len(st) else np.nan
            row.update(**{k: (np.inf if v > p["max_steps"] else v) for k, v in
                          (("steps_to_median", med), ("steps_to_ci_low", lo), ("steps_to_ci_high", hi))},
                       reached=float(np.isfinite(st).mean()) if len(st) else np.nan,
                       tuner_steps_to_median=float(np.median(g["tuner_steps_to"])))
        rows.append(row)
    return pd.DataFrame(rows)


def _k(x: float, cap: float) -> str:
    return "never" if not np.isfinite(x) or x > cap else f"{x / 1e3:.1f}k"


def report(name: str, p: dict[str, Any], studies: pd.DataFrame, tests: pd.DataFrame,
           summary: pd.DataFrame, ref: tuple[float, float, str] | None) -> str:
    cap = p["max_steps"]
    lines = [f"## PPO {p['env']} ({name})", "",
             "| method | tuning seed | trials (stopped) | env steps: budget (trained) | trial wall h | "
             "optimizer s | incumbent tuning return | test return (mean ± sd over test seeds) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in studies.itertuples():
        t = tests[(tests["method"] == r.method) & (tests["tuning_seed"] == r.tuning_seed)] if len(tests) else tests
        test = (f"{t['test_return'].mean():.1f} ± {t['test_return'].std(ddof=1):.1f} ({len(t)})"
                if len(t) else "not run")
        tune = "-" if not np.isfinite(r.tuning_return) else f"{r.tuning_return:.1f}"
        lines.append(f"| {r.method} | {r.tuning_seed}{'' if r.finished else ' (unfinished)'} | "
                     f"{r.trials} ({r.stopped}) | {r.study_steps / 1e6:.2f}M ({r.actual_steps / 1e6:.2f}M) | "
                     f"{r.trial_wall_h:.2f} | {r.optimizer_s:.0f} | "
                     f"{tune} | {test} |")
    fail = p.get("fail_below")
    lines += ["", "Over the tuning seeds tested for every method"
              + (f" (a test run below {fail:g} fails)" if fail is not None else "") + ":", "",
              "| method | tuning seeds | test runs | mean test return [95% CI] | failed test runs "
              "(tuning seeds with one) | steps on extra seeds |", "|---|---|---|---|---|---|"]
    for r in summary.itertuples():
        ci = f"{r.test_mean:.1f} [{r.test_ci_low:.1f}, {r.test_ci_high:.1f}]" if r.test_runs else "-"
        failed = (f"{r.failed_test_runs} ({r.tuning_seeds_with_a_failure})" if fail is not None
                  else "-")
        lines.append(f"| {r.method} | {r.tuning_seeds_tested} | {r.test_runs} | {ci} | {failed} | "
                     f"{r.extra_seed_share:.1%} |")
    if p.get("value") == "auc":
        lines += ["", "The tuned objective on the test seeds: the area under each test run's "
                  f"evaluation curve (every {p['eval_every']} steps up to {cap / 1e3:g}k) over its "
                  "span, i.e. the mean return during training, as each trial was scored in tuning:",
                  "", "| method | test runs | mean test AUC [95% CI] |", "|---|---|---|"]
        for r in summary.itertuples():
            lines.append(f"| {r.method} | {r.test_runs} | {r.test_auc_mean:.1f} "
                         f"[{r.test_auc_ci_low:.1f}, {r.test_auc_ci_high:.1f}] |")
    if p["threshold"] is not None:
        lines += ["", f"Steps to a return of {p['threshold']:g}. Tuner: env steps the study had "
                  "trained when one of its evaluations first reached it (per tuning seed). Test: "
                  "per test run of the incumbent, retrained on a fresh seed and evaluated every "
                  f"{p['eval_every']} steps up to {cap / 1e3:g}k; median [95% CI] and the share "
                  "that got there.", "",
                  "| method | tuner steps-to, per tuning seed | test steps-to, median [95% CI] | reached |",
                  "|---|---|---|---|"]
        for r in summary.itertuples():
            tuner = ", ".join(_k(x, np.inf) for x in studies.loc[studies["method"] == r.method, "tuner_steps_to"])
            lines.append(f"| {r.method} | {tuner} | {_k(r.steps_to_median, cap)} "
                         f"[{_k(r.steps_to_ci_low, cap)}, {_k(r.steps_to_ci_high, cap)}] | {r.reached:.0%} |")
    if ref is not None:
        lines += ["", f"rl-zoo's tuned PPO on {p['env']}: {ref[0]:.1f} ± {ref[1]:.1f} (trained "
                  f"{ref[2]} steps; each test run here trains {cap / 1e3:g}k)."]
    return "\n".join(lines) + "\n"


def incumbent_schedules(p: dict[str, Any], tests: pd.DataFrame) -> pd.DataFrame:
    """The tested incumbents' schedules (population methods: ``pbt``, ``pb2``, ``pb2-bnn``), one
    row per segment: ``hyperpilot.bench.incumbent_schedules``'s columns with the env as the
    benchmark and the tuning seed as the seed. Static incumbents have no rows."""
    from hyperpilot.bench.incumbent_schedules import COLUMNS
    from hyperpilot.bench.incumbent_schedules import incumbent_schedules as table

    if tests.empty:
        return pd.DataFrame(columns=COLUMNS)
    first = tests.drop_duplicates(["method", "tuning_seed"])
    df = pd.DataFrame({"method": first["method"], "benchmark": p["env"], "seed": first["tuning_seed"],
                       "incumbent_config": first["incumbent"], "trial_index": 0,
                       "budget": float(p["max_steps"])})
    return table(df, {p["env"]: float(p["max_steps"])})


def plot(p: dict[str, Any], studies: pd.DataFrame, tests: pd.DataFrame, path: Path,
         ref: tuple[float, float, str] | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = len(tests) and tests["curve"].notna().any()
    fig, axes = plt.subplots(1, 3 if curves else 2, figsize=(15 if curves else 10, 3.8))
    for r in studies.itertuples():
        axes[0].step(r.trace["steps"] / 1e6, r.trace["best"], where="post",
                     color=COLOURS.get(r.method, "grey"), alpha=0.8, label=f"{r.method} s{r.tuning_seed}")
    axes[0].set(xlabel="environment steps trained (M)", ylabel="best tuning value at the max budget",
                title=f"Tuning on {p['env']}: incumbent vs steps")
    axes[0].legend(fontsize=7)
    methods = list(dict.fromkeys(tests["method"])) if len(tests) else []
    for i, m in enumerate(methods):
        vals = tests.loc[tests["method"] == m, "test_return"].to_numpy(float)
        axes[1].scatter(i + np.linspace(-0.2, 0.2, len(vals)), vals, s=12,
                        color=COLOURS.get(m, "grey"), alpha=0.7)
        axes[1].hlines(vals.mean(), i - 0.3, i + 0.3, color="k")
        axes[1].text(i + 0.3, vals.mean(), f" {vals.mean():.1f}", va="center", fontsize=8)
    axes[1].set_xticks(range(len(methods)), methods)
    axes[1].set_xlim(-0.6, len(methods) - 0.2)
    if ref is not None:
        axes[1].axhspan(ref[0] - ref[1], ref[0] + ref[1], color="green", alpha=0.15,
                        label=f"rl-zoo tuned ({ref[2]} steps)")
        axes[1].legend(fontsize=7, loc="lower right")
    axes[1].set(ylabel="test return (retrained, fresh seed)", title="Test runs of each incumbent")
    if curves:
        for r in tests[tests["curve"].notna()].itertuples():
            c = np.asarray(r.curve, float)
            axes[2].plot(c[:, 0] / 1e3, c[:, 1], color=COLOURS.get(r.method, "grey"), alpha=0.25, lw=0.8)
        axes[2].set(xlabel="env steps (k)", ylabel="evaluation return", title="Test learning curves")
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png"), dpi=150)
    fig.savefig(path.with_suffix(".pdf"))
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+",
                    default=[p for p in PRESETS if p not in ("cartpole-pop", "acrobot-norm")],
                    choices=list(PRESETS),
                    help="default: all but cartpole-pop (issue 21's) and acrobot-norm")
    ap.add_argument("--methods", nargs="+",
                    default=["hyperpilot:race", "hyperpilot", "random", "optuna-tpe-median"])
    ap.add_argument("--seeds", type=int, default=3, help="tuning seeds per method")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run tuning seeds FIRST .. FIRST+SEEDS-1 (a seed whose earlier ones ran "
                         "elsewhere); the report reads every seed in --runs")
    ap.add_argument("--test-seeds", type=int, default=10, help="fresh test seeds per incumbent")
    ap.add_argument("--test-workers", type=int, default=1,
                    help="test seeds of an incumbent trained at once, one process each (the same "
                         "result; for a lane that tests while the others are done)")
    ap.add_argument("--runs", type=Path, help="study folders (default: next to --out, else runs/rl)")
    ap.add_argument("--out", type=Path, help="write per-test-run rows here (and *_summary.csv)")
    ap.add_argument("--no-run", action="store_true", help="only summarise what exists")
    ap.add_argument("--status", action="store_true",
                    help="print where each lane and tuning seed stands (tuning: env steps; "
                         "testing: test seeds done) and exit; safe beside a running job")
    ap.add_argument("--status-every", type=float, default=600.0, metavar="SECONDS",
                    help="while running, print the --status lines this often (0: never)")
    for k in ("min_steps", "max_steps", "eval_every"):
        ap.add_argument(f"--{k.replace('_', '-')}", type=int, dest=k, help="override every preset's")
    ap.add_argument("--budget", type=float, help="override every preset's (full-fidelity equivalents)")
    ap.add_argument("--label", action="append", default=[], metavar="OLD=NEW",
                    help="report method OLD's studies as NEW (a study run under an older default, "
                         "e.g. hyperpilot=hyperpilot@laplace-warp); repeatable")
    a = ap.parse_args()
    try:
        labels = parse_labels(a.label)
    except ValueError as e:
        ap.error(str(e))
    if (a.seeds < 1 or a.test_seeds < 2 or a.first_seed < 0 or a.status_every < 0
            or a.test_workers < 1):
        ap.error("--seeds must be >= 1, --test-seeds >= 2, --first-seed >= 0, "
                 "--status-every >= 0 and --test-workers >= 1")
    runs = a.runs or (a.out.parent if a.out else Path("runs/rl"))
    all_tests, all_summary = [], []
    for name in a.presets:
        p = dict(PRESETS[name])
        p.update({k: getattr(a, k) for k in ("min_steps", "max_steps", "eval_every", "budget")
                  if getattr(a, k) is not None})
        d = runs / name
        if a.status:
            print("\n".join(status_lines(p, d, a.methods, range(a.first_seed, a.first_seed + a.seeds),
                                          a.test_seeds)))
            continue
        if not a.no_run:
            run_preset(p, d, a.methods, a.seeds, a.test_seeds, a.first_seed, a.status_every,
                       a.test_workers)
        studies, tests = collect(d, a.methods, p["threshold"], p.get("value", "last"))
        if studies.empty:
            raise SystemExit(f"no studies under {d}")
        studies["method"] = studies["method"].replace(labels)
        if len(tests):
            tests["method"] = tests["method"].replace(labels)
        summary = summarise(name, p, studies, tests)
        ref = rl_zoo_reference(p["env"])
        text = report(name, p, studies, tests, summary, ref)
        plot(p, studies, tests, d / "rl", ref)
        sched = incumbent_schedules(p, tests)
        if len(sched):  # population methods: what the tested incumbent changed during training
            from hyperpilot.bench.incumbent_schedules import schedule_figure

            sched.to_csv(d / "schedules.csv", index=False)
            schedule_figure(sched, d / "schedules.png", COLOURS)
            text += ("\nThe tested incumbents' schedules (hyperparameter against env steps, one "
                     "line per tuning seed): `schedules.png`, per segment in `schedules.csv`.\n")
        (d / "report.md").write_text(text)
        print(text)
        all_tests.append(tests.assign(preset=name, env=p["env"]))
        all_summary.append(summary)
    if a.out and not a.status:
        t = pd.concat(all_tests, ignore_index=True).drop(columns=["curve"], errors="ignore")
        t.to_csv(a.out, index=False)
        pd.concat(all_summary, ignore_index=True).to_csv(a.out.with_name(a.out.stem + "_summary.csv"),
                                                         index=False)


if __name__ == "__main__":
    main()
