"""Seconds per 10k environment steps of the SB3 workload here, and the share spent on evaluation.

Each algorithm runs with SB3's default hyperparameters (mapped into the workload's search space)
through the workload's own training/evaluation code, one seed, one thread. Training and
evaluation are timed separately. Writes ``runs/paper/sb3_cost.csv`` and prints a markdown table.

    cd /work/main && OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/sb3_cost.py \
        --steps 10000 --sac-steps 2000 --eval-every 2500 --sac-eval-every 1000 --episodes 10
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import torch

from hyperpilot.workloads.sb3 import SB3Settings, _SeedRun

# SB3's defaults per algorithm (A2C with 8 envs, as rl-zoo uses for classic control).
DEFAULTS: dict[str, dict[str, object]] = {
    "ppo": {"learning_rate": 3e-4, "one_minus_gamma": 0.01, "n_envs": 1, "n_steps": 2048,
            "batch_size": 64, "n_epochs": 10, "gae_lambda": 0.95, "clip_range": 0.2,
            "ent_coef": 1e-8, "vf_coef": 0.5, "max_grad_norm": 0.5, "net_arch": "small",
            "activation": "tanh"},
    "a2c": {"learning_rate": 7e-4, "one_minus_gamma": 0.01, "n_envs": 8, "n_steps": 5,
            "gae_lambda": 1.0, "ent_coef": 1e-8, "vf_coef": 0.5, "max_grad_norm": 0.5,
            "use_rms_prop": True, "normalize_advantage": False, "net_arch": "small",
            "activation": "tanh"},
    "dqn": {"learning_rate": 1e-4, "one_minus_gamma": 0.01, "batch_size": 32,
            "buffer_size": 1_000_000, "learning_starts": 100, "exploration_fraction": 0.1,
            "exploration_final_eps": 0.05, "target_update_interval": 10_000, "train_freq": 4,
            "subsample_steps": 4, "net_arch": "small"},
    "sac": {"learning_rate": 3e-4, "one_minus_gamma": 0.01, "batch_size": 256,
            "buffer_size": 1_000_000, "learning_starts": 100, "tau": 0.005, "train_freq": 1,
            "log_std_init": -3.0, "net_arch": "medium"},
}
PAIRS = [("ppo", "CartPole-v1"), ("ppo", "Acrobot-v1"), ("a2c", "CartPole-v1"),
         ("a2c", "Acrobot-v1"), ("dqn", "CartPole-v1"), ("dqn", "Acrobot-v1"), ("sac", "Pendulum-v1")]


def measure(algo: str, env: str, steps: int, every: int, episodes: int) -> dict[str, object]:
    """Train ``steps`` steps, evaluating every ``every`` steps; return timings in seconds."""
    s = SB3Settings(algo, env, steps, every, episodes)
    run = _SeedRun(s, dict(DEFAULTS[algo]), seed=0, tb_name=None)
    train = evals = 0.0
    n_eval, ret = 0, float("nan")
    while run.steps < steps:
        t0 = time.perf_counter()
        run.learn_to(min((run.steps // every + 1) * every, steps))
        t1 = time.perf_counter()
        ret = run.evaluate()
        evals += time.perf_counter() - t1
        train += t1 - t0
        n_eval += 1
    per10k = 10_000 / run.steps
    return {"algo": algo, "env": env, "steps": run.steps, "eval_every": every, "episodes": episodes,
            "n_evals": n_eval, "train_s": round(train, 2), "eval_s": round(evals, 2),
            "s_per_10k": round((train + evals) * per10k, 1), "train_s_per_10k": round(train * per10k, 1),
            "eval_share": round(evals / (train + evals), 3), "final_return": round(ret, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--sac-steps", type=int, default=2_000)
    p.add_argument("--eval-every", type=int, default=2_500)
    p.add_argument("--sac-eval-every", type=int, default=1_000)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--out", default="runs/paper/sb3_cost.csv")
    a = p.parse_args()
    torch.set_num_threads(1)
    rows = []
    for algo, env in PAIRS:
        sac = algo == "sac"
        rows.append(measure(algo, env, a.sac_steps if sac else a.steps,
                            a.sac_eval_every if sac else a.eval_every, a.episodes))
        print(rows[-1], flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print("\n| algo | env | steps | s / 10k steps | train s / 10k | eval share | final return |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['algo']} | {r['env']} | {r['steps']} | {r['s_per_10k']} | {r['train_s_per_10k']} "
              f"| {r['eval_share']:.0%} | {r['final_return']} |")


if __name__ == "__main__":
    main()
