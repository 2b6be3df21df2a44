"""Pick the incumbent by a surrogate's posterior mean instead of the best single run (issue 19).

On a noisy objective the best single run at the max budget is one draw selected for being low
(the winner's curse). Ax instead reports the observed config with the best *model-predicted*
value: the model pools each run with its neighbours, at every budget, and shrinks lucky draws.
This script measures that rule offline. Each (benchmark, method, seed) runs one study of
``--budget`` FFE (no racing: one seed per run); at each FFE cut the incumbent is chosen

* ``best-run``: the study's own rule, the best single run at the max budget;
* ``model:<surrogate>``: among the configs with a complete run at the max budget, the one whose
  posterior mean at the max budget is best, the surrogate fitted (seeded) on every complete run
  up to the cut, with the budget as an input (the BO methods' ``"fidelity"`` data rule);

and scored by its **test regret**: its mean value at the max budget over the bench's held-out
seeds 10000..10015 (``hyperpilot.bench.testscore``), minus the optimum. Tuning seeds are the
study seeds ``0..N-1``, disjoint from the test seeds.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/model_incumbent.py \\
        --benchmarks bandit noisy-brittle --methods hyperband random --seeds 10 --budget 100 \\
        --cuts 10 30 100 --surrogates gp-capped rff-kev --out runs/racing/model_incumbent.csv

With ``--stores <bench folder>`` the studies a bench already ran (the BO methods' cells, say)
are scored instead of new ones being run:

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/model_incumbent.py --benchmarks bandit \
        --methods gp-bo hyperpilot@transfer --seeds 3 --cuts 10 33.333333 100 \
        --stores runs/bench/h100-synth --out runs/racing/model_incumbent_bo.csv

Writes one row per (study, cut, rule) to ``--out`` (resumable: finished studies are skipped) and
prints the summary: median and mean test regret with a 95% bootstrap CI of the mean, and wins /
losses / ties of each model rule against ``best-run`` on the same study and cut.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BASE_RULE = "best-run"


def model_choice(results: Sequence[Any], space: Any, min_budget: float, max_budget: float,
                 surrogate: str, seed: int) -> tuple[dict[str, Any], float] | None:
    """The max-budget config of ``results`` with the best posterior mean (loss, minimised):
    ``hyperpilot.posterior_incumbent`` judged at the max budget.

    Args:
        results: the study's finished ``Result``s up to the cut (values are losses: the studies
            here minimise).
        space: the study's ``SearchSpace``; min_budget, max_budget: its fidelity range.
        surrogate: a name in ``surrogates.SURROGATES``; seed: its seed.

    Returns:
        ``(config, predicted loss)``, or None where no run reached the max budget.
    """
    from hyperpilot.posterior_incumbent import posterior_incumbent
    from hyperpilot.trial import Fidelity

    out = posterior_incumbent(results, space, Fidelity(min_budget, max_budget), "minimize",
                              surrogate, seed, budget=max_budget)
    return None if out is None else (out[0].config, out[1])


def run_one(benchmark: str, method: str, seed: int, budget: float, cuts: Sequence[float],
            surrogates: Sequence[str]) -> list[dict[str, Any]]:
    """One study; a row per (cut, rule) with the chosen config and its test regret."""
    from hyperpilot.benchmarks import get_benchmark
    from hyperpilot.study import Study

    bench = get_benchmark(benchmark, seed=seed)
    t0 = time.perf_counter()
    study = Study(bench.space, bench.fidelity, method, "minimize", seed)
    study.run(bench, budget=budget)
    return score_cuts(study.results, benchmark, method, seed, cuts, surrogates, t0)


def store_path(folder: Path, benchmark: str, method: str, seed: int) -> Path:
    """The bench folder's study store of one cell."""
    return folder / "studies" / f"{method}__{benchmark}__s{seed}.sqlite"


def stored_results(path: Path) -> list[Any]:
    """The finished ``Result``s of the one study in the store ``path``, in tell order."""
    from hyperpilot.storage import Storage

    store = Storage(path, read_only=True)
    try:
        (study,) = store.studies()
        rows = [r for r in store.load_trials(study["study_id"]) if r.result is not None]
    finally:
        store.close()
    return [r.result for r in sorted(rows, key=lambda r: r.tell_seq or 0)]


def score_cuts(results: Sequence[Any], benchmark: str, method: str, seed: int,
               cuts: Sequence[float], surrogates: Sequence[str],
               t0: float) -> list[dict[str, Any]]:
    """A row per (cut, rule): the incumbent of ``results`` (a minimising study of ``benchmark``
    with tuning seed ``seed``) up to each FFE cut, and its test regret."""
    from hyperpilot.bench.testscore import test_values
    from hyperpilot.benchmarks import get_benchmark
    from hyperpilot.selection import IncumbentRule, choose
    from hyperpilot.trial import spent

    bench = get_benchmark(benchmark, seed=seed)
    fmax = bench.fidelity.max
    rows: list[dict[str, Any]] = []
    chosen: list[str | None] = []
    for cut in cuts:
        used, upto = 0.0, []
        for r in results:
            used += spent(r) / fmax
            if used > cut + 1e-9:
                break
            upto.append(r)
        base = choose(upto, "minimize", IncumbentRule(), fmax)
        picks: list[tuple[str, dict[str, Any] | None, float]] = [
            (BASE_RULE, None if base is None else base.config,
             float("nan") if base is None else base.value)]
        for s in surrogates:
            m = model_choice(upto, bench.space, bench.fidelity.min, fmax, s, seed)
            picks.append((f"model:{s}", None if m is None else m[0],
                          float("nan") if m is None else m[1]))
        for rule, config, tuning in picks:
            chosen.append(json.dumps(config, sort_keys=True) if config is not None else None)
            rows.append({"benchmark": benchmark, "method": method, "seed": seed, "cut": cut,
                         "rule": rule, "trials": len(upto), "tuning_value": tuning,
                         "config": chosen[-1]})
    todo = sorted({c for c in chosen if c is not None})
    values = dict(zip(todo, test_values(benchmark, todo, None), strict=True)) if todo else {}
    secs = time.perf_counter() - t0
    for row in rows:
        test = values.get(row["config"], float("nan"))
        row.update(test_value=test, test_regret=test - bench.optimum, seconds=secs)
    return rows


def bootstrap_ci(x: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean of ``x``."""
    rng = np.random.default_rng(seed)
    means = rng.choice(x, size=(reps, len(x)), replace=True).mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per (benchmark, method, cut, rule): studies, median / mean test regret, the mean's CI,
    and wins / losses / ties against ``best-run`` on the same study (ties: the same config)."""
    out = []
    keys = ["benchmark", "method", "cut"]
    for key, g in df.groupby(keys):
        base = g[g["rule"] == BASE_RULE].set_index("seed")
        for rule, h in g.groupby("rule", sort=False):
            x = h["test_regret"].dropna().to_numpy()
            lo, hi = bootstrap_ci(x) if len(x) else (np.nan, np.nan)
            h = h.set_index("seed")
            same = h["config"] == base["config"].reindex(h.index)
            diff = (h["test_regret"] - base["test_regret"].reindex(h.index))[~same]
            out.append({**dict(zip(keys, key, strict=True)), "rule": rule, "n": len(x),
                        "median": np.median(x) if len(x) else np.nan,
                        "mean": x.mean() if len(x) else np.nan, "ci_lo": lo, "ci_hi": hi,
                        "wins": int((diff < 0).sum()), "losses": int((diff > 0).sum()),
                        "ties": int(same.sum())})
    return pd.DataFrame(out)


def markdown(s: pd.DataFrame) -> str:
    """The summary as a markdown table (test regret, lower is better)."""
    lines = ["| benchmark | method | FFE | rule | n | median | mean [95% CI] | W / L / same |",
             "|---|---|---|---|---|---|---|---|"]
    for r in s.itertuples():
        wl = "-" if r.rule == BASE_RULE else f"{r.wins} / {r.losses} / {r.ties}"
        lines.append(f"| {r.benchmark} | {r.method} | {r.cut:g} | {r.rule} | {r.n} | "
                     f"{r.median:.4f} | {r.mean:.4f} [{r.ci_lo:.4f}, {r.ci_hi:.4f}] | {wl} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--benchmarks", nargs="+", default=["bandit", "noisy-brittle"])
    ap.add_argument("--methods", nargs="+", default=["hyperband", "random"])
    ap.add_argument("--seeds", type=int, default=10, help="tuning seeds 0..N-1")
    ap.add_argument("--budget", type=float, default=100.0, help="FFE per study")
    ap.add_argument("--cuts", type=float, nargs="+", default=[10.0, 30.0, 100.0],
                    help="FFE at which the incumbent is chosen (at most --budget)")
    ap.add_argument("--surrogates", nargs="+", default=["gp-capped", "rff-kev"])
    ap.add_argument("--out", type=Path, default=Path("runs/racing/model_incumbent.csv"))
    ap.add_argument("--stores", type=Path, default=None,
                    help="a bench folder: score its studies (studies/<method>__<benchmark>__s<seed>"
                         ".sqlite, minimising) instead of running new ones; --budget is unused")
    a = ap.parse_args()
    if a.seeds < 1 or a.budget <= 0 or any(not 0 < c <= a.budget for c in a.cuts):
        ap.error("--seeds must be >= 1 and every --cuts in (0, --budget]")
    from surrogates import SURROGATES

    unknown = [s for s in a.surrogates if s not in SURROGATES]
    if unknown:
        ap.error(f"unknown surrogate(s) {unknown}; known: {', '.join(sorted(SURROGATES))}")
    import torch

    torch.set_num_threads(1)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(a.out) if a.out.exists() else pd.DataFrame()
    done = set() if df.empty else set(zip(df["benchmark"], df["method"], df["seed"], strict=True))
    todo = [(b, m, s) for b in a.benchmarks for m in a.methods for s in range(a.seeds)
            if (b, m, s) not in done]
    if a.stores is not None:
        todo = [t for t in todo if store_path(a.stores, *t).exists()]
    try:
        from tqdm import tqdm
        it: Any = tqdm(todo, desc="studies")
    except ImportError:
        it = todo
    for b, m, s in it:
        if a.stores is None:
            rows = pd.DataFrame(run_one(b, m, s, a.budget, sorted(a.cuts), a.surrogates))
        else:
            rows = pd.DataFrame(score_cuts(stored_results(store_path(a.stores, b, m, s)), b, m, s,
                                           sorted(a.cuts), a.surrogates, time.perf_counter()))
        df = pd.concat([df, rows], ignore_index=True)
        df.to_csv(a.out, index=False, float_format="%.8g")  # after every study: resumable
    keep = df[df["benchmark"].isin(a.benchmarks) & df["method"].isin(a.methods)
              & (df["seed"] < a.seeds)]
    print(markdown(summary(keep)))


if __name__ == "__main__":
    main()
