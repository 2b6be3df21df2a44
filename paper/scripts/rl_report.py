"""Summarise ``paper/scripts/rl_compare.sh``: tuning studies, incumbents and their test returns.

Reads ``OUT/<method>-s<seed>.sqlite`` (the tuning studies) and ``OUT/<method>-s<seed>.test.json``
(``hyperpilot test-incumbent --out``: the incumbent retrained from scratch at the max budget on
10 fresh test seeds). Writes ``OUT/report.md`` and ``OUT/rl.png``/``.pdf``; prints the report.

Returns are episode returns (larger is better). Confidence intervals are 95% percentile
bootstraps (``scipy.stats.bootstrap``) of the mean over all test runs of a method (tuning seeds x
test seeds, pooled). Where the test recorded learning curves (``--eval-every``), the report adds
steps-to-threshold (``--threshold``, default 475 for CartPole): the first evaluation at or above
it, per test run. rl-zoo's tuned score comes from
``$HYPERPILOT_DATA/rl_zoo3/classic_control_reference.csv`` when that file exists.

    cd /work/main && OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/rl_report.py runs/rl/acrobot
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hyperpilot import analysis as A
from hyperpilot.data import resolve_data_dir
from hyperpilot.storage import Storage

COLOURS = {"hyperpilot": "tab:blue", "random": "tab:orange"}


def rl_zoo_reference(algo: str, env: str) -> tuple[float, float, str] | None:
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


def steps_to(curve: list[tuple[float, float]], threshold: float) -> float:
    """Env steps of the first point of ``curve`` (``(steps, return)``) at or above ``threshold``;
    ``inf`` if none is."""
    return next((float(b) for b, v in curve if v >= threshold), float("inf"))


def study_summary(db: Path, threshold: float | None) -> dict[str, Any]:
    """Trials, env steps trained, wall time and the incumbent's tuning return of one study.

    With a threshold, ``tuner_steps_to`` is the env steps the study had trained when one of its
    evaluations first reached it (``inf`` if none did): how fast the tuner finds a good config.
    """
    df = A.load_study(db)
    top = df["max_budget"].iloc[0]
    done = df[(df["status"] == "complete") & (df["budget"] >= top)]
    best = done.loc[done["loss"].idxmin()] if len(done) else None
    rec = {
        "trials": len(df), "stopped": int((df["status"] == "stopped").sum()),
        "steps": float(df["spent"].sum()), "wall_h": float(df["wall_s"].sum()) / 3600,
        "tuning_return": np.nan if best is None else -float(best["loss"]),
        "trace": pd.DataFrame({"steps": df["spent"].cumsum(), "best": -df["incumbent_loss"]}),
    }
    if threshold is not None:
        before = df["spent"].cumsum() - df["spent"]
        hits = [b0 + (s - r) for b0, c, r in zip(before, df["curve"], df["resume_budget"], strict=True)
                for s, v in c if -v >= threshold]  # curves hold negated returns
        rec["tuner_steps_to"] = min(hits) if hits else float("inf")
    return rec


def problem_of(db: Path) -> dict[str, Any]:
    st = Storage(db)
    try:
        return dict(st.studies()[0]["definition"]["problem"]["workload_options"])
    finally:
        st.close()


def collect(out: Path, threshold: float | None) -> pd.DataFrame:
    rows = []
    for db in sorted(out.glob("*-s*.sqlite")):
        m = re.fullmatch(r"(.+)-s(\d+)\.sqlite", db.name)
        if m is None:
            continue
        stem = f"{m.group(1)}-s{m.group(2)}"
        rec: dict[str, Any] = {"method": m.group(1), "seed": int(m.group(2)),
                               "finished": (out / f"{stem}.done").exists()}
        rec.update(study_summary(db, threshold))
        test = out / f"{stem}.test.json"
        if test.exists():
            t = json.loads(test.read_text())
            rec.update(test_mean=t["mean"], test_std=t["std"], test_values=t["values"],
                       incumbent=t["incumbent"])
            if threshold is not None and "curves" in t:
                rec["test_steps_to"] = [steps_to(c, threshold) for c in t["curves"]]
                rec["test_curves"] = t["curves"]
        rows.append(rec)
    return pd.DataFrame(rows)


def _ci(values: np.ndarray, stat: Any = np.mean, seed: int = 0) -> tuple[float, float]:
    if len(values) < 2 or len(set(values.tolist())) < 2:
        return float(stat(values)), float(stat(values))
    r = stats.bootstrap((values,), stat, confidence_level=0.95, n_resamples=5000,
                        method="percentile", random_state=seed)
    return float(r.confidence_interval.low), float(r.confidence_interval.high)


def _pooled(g: pd.DataFrame, col: str) -> np.ndarray:
    if col not in g:
        return np.array([])
    vals = [np.asarray(v, float) for v in g[col] if isinstance(v, list)]
    return np.concatenate(vals) if vals else np.array([])


def _k(x: float) -> str:
    return "never" if not np.isfinite(x) else f"{x / 1e3:.1f}k"


def report(df: pd.DataFrame, ref: tuple[float, float, str] | None, env: str,
           threshold: float | None, max_steps: float) -> str:
    lines = [f"PPO {env}: tuning studies and their incumbents", "",
             "| method | tuning seed | trials (stopped) | env steps | trial wall h | "
             "incumbent tuning return | test return, 10 seeds (mean ± sd) |", "|---|---|---|---|---|---|---|"]
    for r in df.sort_values(["method", "seed"]).itertuples():
        tm = getattr(r, "test_mean", np.nan)
        test = f"{tm:.1f} ± {r.test_std:.1f}" if np.isfinite(tm) else "not run"
        tune = "-" if not np.isfinite(r.tuning_return) else f"{r.tuning_return:.1f}"
        state = "" if r.finished else " (unfinished)"
        lines.append(f"| {r.method} | {r.seed}{state} | {r.trials} ({r.stopped}) | {r.steps / 1e6:.2f}M | "
                     f"{r.wall_h:.2f} | {tune} | {test} |")
    lines += ["", "| method | tuning seeds tested | test runs | mean test return [95% CI] | "
              "median over tuning seeds |", "|---|---|---|---|---|"]
    for m, g in df.groupby("method"):
        pooled = _pooled(g, "test_values")
        if not len(pooled):
            lines.append(f"| {m} | 0 | 0 | - | - |")
            continue
        lo, hi = _ci(pooled)
        n_tested = sum(isinstance(v, list) for v in g["test_values"])
        lines.append(f"| {m} | {n_tested} | {len(pooled)} | {pooled.mean():.1f} [{lo:.1f}, {hi:.1f}] | "
                     f"{float(np.median(g['test_mean'].dropna())):.1f} |")
    if threshold is not None:
        lines += ["", f"Steps to a return of {threshold:g}. Tuner: env steps the study had trained "
                  "when an evaluation first reached it. Test: per test run of the incumbent "
                  f"(retrained on a fresh seed, evaluated every few k steps up to {max_steps / 1e3:.0f}k); "
                  "median with a 95% bootstrap CI, and the share of test runs that got there.", "",
                  "| method | tuner steps-to, per tuning seed | test runs | test steps-to, median [95% CI] | reached |",
                  "|---|---|---|---|---|"]
        for m, g in df.groupby("method"):
            tuner = ", ".join(_k(x) for x in g.sort_values("seed")["tuner_steps_to"])
            st = _pooled(g, "test_steps_to")
            if not len(st):
                lines.append(f"| {m} | {tuner} | 0 | - | - |")
                continue
            capped = np.where(np.isfinite(st), st, 2 * max_steps)  # never = beyond the budget
            lo, hi = _ci(capped, np.median)
            med = float(np.median(capped))
            lines.append(f"| {m} | {tuner} | {len(st)} | {_k(med) if med <= max_steps else 'never'} "
                         f"[{_k(lo) if lo <= max_steps else 'never'}, {_k(hi) if hi <= max_steps else 'never'}] | "
                         f"{np.isfinite(st).mean():.0%} |")
    if ref is not None:
        lines += ["", f"rl-zoo's tuned PPO on {env}: {ref[0]:.1f} ± {ref[1]:.1f} "
                  f"(trained {ref[2]} steps; ours train {max_steps / 1e3:.0f}k per test run)."]
    return "\n".join(lines) + "\n"


def plot(df: pd.DataFrame, ref: tuple[float, float, str] | None, env: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = "test_curves" in df and df["test_curves"].notna().any()
    fig, axes = plt.subplots(1, 3 if curves else 2, figsize=(15 if curves else 10, 3.8))
    ax1, ax2 = axes[0], axes[1]
    for r in df.itertuples():
        ax1.step(r.trace["steps"] / 1e6, r.trace["best"], where="post",
                 color=COLOURS.get(r.method, "grey"), alpha=0.8, label=f"{r.method} s{r.seed}")
    ax1.set(xlabel="environment steps trained (M)", ylabel="best tuning value at the max budget",
            title=f"Tuning on {env}: incumbent vs steps")
    ax1.legend(fontsize=7)
    methods = sorted(m for m, g in df.groupby("method") if len(_pooled(g, "test_values")))
    for i, m in enumerate(methods):
        vals = _pooled(df[df["method"] == m], "test_values")
        ax2.scatter(i + np.linspace(-0.2, 0.2, len(vals)), vals, s=12, color=COLOURS.get(m, "grey"),
                    alpha=0.7)
        ax2.hlines(vals.mean(), i - 0.3, i + 0.3, color="k")
        ax2.text(i + 0.3, vals.mean(), f" {vals.mean():.1f}", va="center", fontsize=8)
    ax2.set_xticks(range(len(methods)), methods)
    ax2.set_xlim(-0.6, len(methods) - 0.2)
    if ref is not None:
        ax2.axhspan(ref[0] - ref[1], ref[0] + ref[1], color="green", alpha=0.15,
                    label=f"rl-zoo tuned ({ref[2]} steps)")
        ax2.legend(fontsize=7, loc="lower right")
    ax2.set(ylabel="test return (retrained on a fresh seed)", title="Test: 10 fresh seeds per incumbent")
    if curves:
        ax3 = axes[2]
        for r in df[df["test_curves"].notna()].itertuples():
            for c in r.test_curves:
                c = np.asarray(c, float)
                ax3.plot(c[:, 0] / 1e3, c[:, 1], color=COLOURS.get(r.method, "grey"), alpha=0.25, lw=0.8)
        ax3.set(xlabel="env steps (k)", ylabel="evaluation return", title="Test learning curves")
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png"), dpi=150)
    fig.savefig(path.with_suffix(".pdf"))
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, nargs="?", default=Path("runs/rl/acrobot"))
    ap.add_argument("--threshold", type=float, help="return for steps-to (default 475 on CartPole)")
    args = ap.parse_args()
    dbs = sorted(args.out.glob("*-s*.sqlite"))
    if not dbs:
        raise SystemExit(f"no studies in {args.out}")
    opts = problem_of(dbs[0])
    env, algo, max_steps = opts["env"], opts["algo"], float(opts["max_steps"])
    threshold = args.threshold if args.threshold is not None else (
        475.0 if env.startswith("CartPole") else None)
    df = collect(args.out, threshold)
    ref = rl_zoo_reference(algo, env)
    text = report(df, ref, env, threshold, max_steps)
    (args.out / "report.md").write_text(text)
    plot(df, ref, env, args.out / "rl")
    print(text)


if __name__ == "__main__":
    main()
