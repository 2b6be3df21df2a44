"""Figures and tables of script experiments, from ``compact/result.csv.gz`` (and ``summary.csv``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hyperpilot.paper import latex, plotting
from hyperpilot.paper.experiments import Experiment


def _result(src: Path) -> pd.DataFrame:
    return pd.read_csv(src / "result.csv.gz")


def _ref(e: Experiment) -> str:
    return f"experiment \\texttt{{{latex.tex(e.name)}}}, \\resultscale{{}} scale"


QUALITY_METRICS = ["rmse", "nll", "cov90", "spearman"]
#: Class names of the surrogates in results written before ``surrogate_quality.py`` took
#: registered names (the committed ``runs/reference`` of 2026-11-30).
_OLD_NAMES = {"DeepEnsemble": "ensemble", "MCDropout": "mcdropout", "GP": "gp"}


def quality_results(src: Path) -> pd.DataFrame:
    """The rows of ``surrogate_quality``: ``task, surrogate, n, seed, status, note``, the
    metrics (``top10_*`` too when measured) and ``fit_s``; older results (a ``model`` column
    with class names, no ``status``: every row fitted) are read as well."""
    df = _result(src)
    if "surrogate" not in df:
        df = df.rename(columns={"model": "surrogate"})
        df["surrogate"] = df["surrogate"].replace(_OLD_NAMES)
    if "status" not in df:
        df = df.assign(status="ok", note="")
    return df


def _not_fitted(df: pd.DataFrame) -> str:
    """A caption sentence on the rows that were not fitted (skipped or failed), or ``""``."""
    bad = df[df["status"] != "ok"].fillna({"note": ""})
    parts = [f"\\texttt{{{latex.tex(s)}}} at n = {', '.join(map(str, sorted(g['n'].unique())))} "
             f"({latex.tex(note or status).replace('--', '-{}-')})"
             for (s, status, note), g in bad.groupby(["surrogate", "status", "note"], sort=True)]
    return f" Not in the table: {'; '.join(parts)}." if parts else ""


def quality_columns(df: pd.DataFrame) -> list[str]:
    """The metric columns present: whole space, then among the top 10% of held-out configs."""
    return [c for p in ("", "top10_") for m in QUALITY_METRICS if (c := p + m) in df]


def surrogate_quality_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Median over seeds of the held-out metrics (whole space and top 10%) and fit seconds per
    task x n x surrogate."""
    raw = quality_results(src)
    df = raw[raw["status"] == "ok"]
    cols = quality_columns(df)
    t = df.groupby(["task", "n", "surrogate"], sort=True)[[*cols, "fit_s"]].median().reset_index()
    top = ("; \\texttt{top10\\_} columns: the same among the best 10\\% of held-out "
           "configurations by true value, where the acquisition acts" if "top10_nll" in cols else "")
    cap = (f"Held-out surrogate quality, median over {df['seed'].nunique()} seed(s): RMSE, Gaussian "
           f"NLL, coverage of the central 90\\% interval, Spearman rank correlation{top}; fit "
           f"seconds ({_ref(e)}).{_not_fitted(raw)}")
    return latex.write(latex.table(t, cap, name, resize=True), tabs, name)


def surrogate_quality_figure(src: Path, e: Experiment, figs: Path, name: str) -> list[Path]:
    """Spearman and NLL against n (whole space, and among the top 10% when measured), one line
    per surrogate (first task)."""
    df = quality_results(src)
    df = df[(df["status"] == "ok") & (df["task"] == sorted(df["task"].unique())[0])]
    metrics = [c for c in ("spearman", "nll", "top10_spearman", "top10_nll") if c in df]
    plt = plotting.pyplot()
    rows = len(metrics) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(6.0, 2.4 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        for model, g in df.groupby("surrogate", sort=True):
            m = g.groupby("n")[metric].median()
            ax.plot(m.index, m.to_numpy(), marker="o", label=model, lw=1.2)
        ax.set_xscale("log")
        ax.set_xlabel("training points n")
        ax.set_ylabel(metric.replace("top10_", "top-10% "))
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return plotting.save(fig, figs, name)


def curve_extrapolation_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """The script's summary: MAE, NLL and 90% coverage per source, cut fraction and model."""
    t = pd.read_csv(src / "summary.csv")
    cap = ("Final-value prediction from the first 10/20/40\\% of each learning curve: last value "
           f"seen, parametric ensemble and BNN curve model ({_ref(e)}).")
    return latex.write(latex.table(t, cap, name), tabs, name)


def space_speed_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    t = _result(src)
    cap = ("Milliseconds to encode, decode and sample configurations of LCBench's 7-parameter space: "
           f"HyperPilot's \\texttt{{SearchSpace}} against ConfigSpace 1.x ({_ref(e)}).")
    return latex.write(latex.table(t, cap, name), tabs, name)


SCALING_COLS = ["executor", "method", "workers", "trials", "utilisation", "overhead_mean_ms",
                "overhead_max_ms", "failed"]


def scaling_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    df = _result(src)
    t = df[SCALING_COLS + [c for c in ("model_share",) if c in df]]
    cap = ("Executor scaling with a sleeping objective: utilisation = busy time / (workers $\\times$ "
           "wall time), optimizer overhead per proposal and, where measured, the share of new "
           f"configs proposed by the surrogate ({_ref(e)}).")
    return latex.write(latex.table(t, cap, name, resize=True), tabs, name)  # 9 columns


def scaling_figure(src: Path, e: Experiment, figs: Path, name: str) -> list[Path]:
    df = _result(src)
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 2.5))
    for (ex, m), g in df.groupby(["executor", "method"], sort=True):
        g = g.groupby("workers")["utilisation"].mean()
        ax.plot(g.index, g.to_numpy(), marker="o", label=f"{ex} / {m}", lw=1.2)
    ax.set_xscale("log", base=2)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("workers")
    ax.set_ylabel("utilisation")
    ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return plotting.save(fig, figs, name)


def _steps(x: float) -> str:
    return "never" if not np.isfinite(x) else latex.num(float(x))


def _ci(mean: float, low: float, high: float, fmt=latex.num) -> str:
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"


def _env_column(envs: list[str]) -> list[str]:
    """The environment on the first row of its group only, so the eye reads one block per task."""
    return [env if i == 0 or envs[i - 1] != env else "" for i, env in enumerate(envs)]


def rl_tuning_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """Per environment x method: the test return of the incumbents (mean, 95% CI), failed test
    runs and the share of steps racing spent on extra seeds. Six columns, so the table reads at
    the text width without shrinking; the curve-shape columns are in ``rl_tuning_curve``."""
    s = pd.read_csv(src / "summary.csv")
    rows = []
    for r in s.itertuples():
        row = {"env": r.env, "method": r.method,
               "seeds": f"{int(r.tuning_seeds_tested)} x "
                        f"{int(r.test_runs) // max(int(r.tuning_seeds_tested), 1)}",
               "test return [95% CI]": _ci(r.test_mean, r.test_ci_low, r.test_ci_high)}
        if "failed_test_runs" in s:  # since issue 19: failures and the cost of extra seeds
            row["failed"] = int(r.failed_test_runs)
            row["extra-seed steps"] = f"{r.extra_seed_share:.0%}"
        rows.append(row)
    t = pd.DataFrame(rows).fillna("--")
    t["env"] = _env_column(list(t["env"]))
    cap = ("Agents tuned by each method with equal step budgets (extra seeds of racing included), each "
           "incumbent then retrained from scratch at the maximum budget on fresh test seeds never "
           "used in tuning (seeds: tuning seeds x test seeds): mean test return over the test "
           "runs of the tuning seeds tested for every method, with a 95\\% bootstrap interval"
           + (", test runs that failed (on Acrobot the worst return, $-500$; on LunarLander a return "
              "below 0, a crash) and the share of the study's steps spent on extra seeds"
              if "failed" in t else "")
           + f" ({_ref(e)}).")
    return latex.write(latex.table(t, cap, name), tabs, name)


def rl_tuning_curve_table(src: Path, e: Experiment, tabs: Path, name: str) -> Path:
    """The tasks with a return threshold (CartPole): test AUC (when the studies were tuned on it)
    and the steps a test run needed to reach the threshold. An empty file when no task has one."""
    s = pd.read_csv(src / "summary.csv")
    if "reached" not in s:
        return latex.write("% no task of this run has a return threshold\n", tabs, name)
    s = s[np.isfinite(s["reached"].astype(float))]
    rows = []
    for r in s.itertuples():
        row = {"env": r.env, "method": r.method}
        if "test_auc_mean" in s and s["test_auc_mean"].notna().any():
            row["test AUC [95% CI]"] = (_ci(r.test_auc_mean, r.test_auc_ci_low, r.test_auc_ci_high)
                                        if np.isfinite(r.test_auc_mean) else "--")
        row["steps to 475 [95% CI]"] = _ci(r.steps_to_median, r.steps_to_ci_low, r.steps_to_ci_high,
                                           fmt=_steps)
        row["reached"] = f"{r.reached:.0%}"
        rows.append(row)
    if not rows:
        return latex.write("% no task of this run has a return threshold\n", tabs, name)
    t = pd.DataFrame(rows)
    t["env"] = _env_column(list(t["env"]))
    cap = ("How the incumbents learn on the test seeds of the tasks with a return threshold: "
           + ("the area under the evaluation curve (the mean return during training, the value "
              "those studies were tuned on) and " if "test AUC [95% CI]" in t else "")
           + "the environment steps a test run needed to reach a return of 475 (median with a "
           "95\\% bootstrap interval; ``never'' = not within the budget) and the share of test "
           f"runs that reached it ({_ref(e)}).")
    return latex.write(latex.table(t, cap, name), tabs, name)


def rl_tuning_figure(src: Path, e: Experiment, figs: Path, name: str) -> list[Path]:
    """Test returns of every test run, one panel per environment, one column per method."""
    df = _result(src)
    envs = list(dict.fromkeys(df["env"]))
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(envs), figsize=(3.0 * len(envs), 2.4), squeeze=False)
    for ax, env in zip(axes[0], envs, strict=True):
        g = df[df["env"] == env]
        methods = list(dict.fromkeys(g["method"]))
        for i, m in enumerate(methods):
            v = g.loc[g["method"] == m, "test_return"].to_numpy(float)
            ax.scatter(i + np.linspace(-0.2, 0.2, len(v)), v, s=8, alpha=0.7,
                       color=plotting.colour(m))  # the method's colour in every figure
            ax.hlines(v.mean(), i - 0.3, i + 0.3, color="k", lw=1.2)
        ax.set_xticks(range(len(methods)), methods, rotation=20, ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(methods) - 0.4)
        ax.set_title(env, fontsize=10)
        ax.set_ylabel("test return", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return plotting.save(fig, figs, name)
