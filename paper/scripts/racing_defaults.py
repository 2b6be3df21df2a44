"""Tune the racing defaults (issue 19) on cheap noisy benchmarks: test regret with and without racing.

Each (benchmark, method, setting, seed) is one study of ``--budget`` full-fidelity equivalents
(every extra seed of racing is charged to it); its final incumbent, chosen by the study's own
incumbent rule, is scored by its **test regret**: its mean value at the max budget over the
bench's held-out seeds 10000..10015 (``hyperpilot.bench.testscore``), minus the benchmark's
optimum. Settings:

* ``off``: no racing (the best single run is the incumbent);
* ``s<k>``: racing on up to ``k`` paired seeds, SMAC's paired rejection;
* ``s<k>b``: the same, rejecting only challengers worse on the shared seeds *and* worse than the
  incumbent's mean over all its seeds (``RaceRule.compare = "both"``);
* a suffix ``-msd`` / ``-worst`` ranks the incumbent by mean - 1 sd / the worst seed;
* a suffix ``-model`` takes the config with the best posterior mean of a GP (``gp-capped``)
  among those with the most seeds (``hyperpilot.selection``'s ``"model"`` rule). Such a study
  runs the same trials as the setting without the suffix (the rule changes what is returned, not
  what runs), so where both are asked for, one study gives both rows;
* a suffix ``-ei`` (model methods) keeps q-LogEI where racing would use qLogNEI.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/racing_defaults.py \\
        --benchmarks noisy-brittle bandit --methods hyperband random --seeds 10 --budget 30 \\
        --settings off s2 s3 s5 s3b --out runs/racing/defaults.csv

Writes one row per study to ``--out`` (resumable: finished rows are skipped) and prints the
summary table (mean and median test regret, 95% bootstrap CI of the mean, wins against ``off``
on the same seed, or for a ``-model`` setting against its setting without the suffix (column
``vs``), and the share of the budget spent on extra seeds).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def setting_options(name: str) -> dict[str, Any]:
    """``method_options`` of a setting name (see the module docstring)."""
    m = re.fullmatch(r"(off|s(\d+)(b?))(?:-(msd|worst|model))?(-ei)?", name)
    if m is None:
        raise ValueError(f"unknown setting {name!r}; e.g. off, s3, s3b, s3-msd, s3-model, s3-ei")
    opts: dict[str, Any] = {}
    if m.group(1) != "off":
        opts["racing"] = {"max_seeds": int(m.group(2)), "compare": "both" if m.group(3) else "paired"}
    if m.group(4):
        stat = {"msd": "mean-std", "worst": "worst", "model": "model"}[m.group(4)]
        opts["incumbent"] = {"statistic": stat, "min_seeds": opts.get("racing", {}).get("max_seeds", 1)}
    if m.group(5):  # model methods: q-LogEI instead of racing's default qLogNEI
        opts["acqf"] = "qlogei"
    return opts


def run_one(benchmark: str, method: str, setting: str, seed: int, budget: float,
            batch_size: int | None = None, also_model: bool = False) -> list[dict[str, Any]]:
    """The row of one study; with ``also_model`` also the row of ``<setting>-model``, whose
    study would run the same trials: its incumbent is chosen from this study's results by the
    ``"model"`` rule (``seconds`` is then the time of that choice)."""
    from hyperpilot.benchmarks import get_benchmark
    from hyperpilot.selection import IncumbentRule, ModelContext, choose
    from hyperpilot.study import Study
    from hyperpilot.trial import spent

    bench = get_benchmark(benchmark, seed=seed)
    t0 = time.perf_counter()
    study = Study(bench.space, bench.fidelity, method, "minimize", seed,
                  method_options=setting_options(setting))
    study.run(bench, budget=budget, batch_size=batch_size)
    used = sum(spent(r) for r in study.results)
    extra = sum(spent(r) for r in study.results if r.trial.seed_index > 0)
    common = {"benchmark": benchmark, "method": method, "seed": seed, "budget": budget,
              "ffe": used / bench.fidelity.max, "trials": len(study.results),
              "extra_share": extra / used if used else 0.0}
    rows = [{**common, "setting": setting, **_scored(benchmark, bench.optimum, study.incumbent()),
             "seconds": time.perf_counter() - t0}]
    if also_model:
        t1 = time.perf_counter()
        rule = IncumbentRule("model", study.method.incumbent_rule.min_seeds)
        inc = choose(study.results, "minimize", rule,
                     context=ModelContext(bench.space, bench.fidelity, seed))
        rows.append({**common, "setting": f"{setting}-model",
                     **_scored(benchmark, bench.optimum, inc),
                     "seconds": time.perf_counter() - t1})
    return [{k: row[k] for k in COLUMNS} for row in rows]


COLUMNS = ["benchmark", "method", "setting", "seed", "budget", "ffe", "trials", "extra_share",
           "incumbent_seeds", "tuning_value", "test_value", "test_regret", "seconds", "config"]
"""The columns of ``--out``, in order."""


def _scored(benchmark: str, optimum: float, inc: Any) -> dict[str, Any]:
    """An incumbent's seeds, tuning value and test value and regret on the held-out seeds."""
    from hyperpilot.bench.testscore import test_values

    test = float(test_values(benchmark, [json.dumps(inc.config, sort_keys=True)], None)[0]) \
        if inc is not None else float("nan")
    return {"incumbent_seeds": inc.n_seeds if inc else 0,
            "tuning_value": inc.value if inc else float("nan"), "test_value": test,
            "test_regret": test - optimum,
            "config": json.dumps(inc.config if inc else None, sort_keys=True)}


def summary(df: pd.DataFrame) -> pd.DataFrame:
    from hyperpilot.bench.stats import bootstrap_ci

    rows = []
    for (b, m, s), g in df.groupby(["benchmark", "method", "setting"], sort=False):
        base = s.removesuffix("-model") if s.endswith("-model") else "off"  # what s changes
        off = df[(df["benchmark"] == b) & (df["method"] == m) & (df["setting"] == base)]
        paired = g.merge(off[["seed", "test_regret"]], on="seed", suffixes=("", "_off"))
        lo, hi = bootstrap_ci(g["test_regret"].to_numpy(float), np.random.default_rng(0), "mean",
                              n_resamples=2000)
        rows.append({"benchmark": b, "method": m, "setting": s, "vs": base, "seeds": len(g),
                     "mean": g["test_regret"].mean(), "ci_low": lo, "ci_high": hi,
                     "median": g["test_regret"].median(),
                     "wins": int((paired["test_regret"] < paired["test_regret_off"] - 1e-12).sum()),
                     "losses": int((paired["test_regret"] > paired["test_regret_off"] + 1e-12).sum()),
                     "extra_share": g["extra_share"].mean(),
                     "tuning_minus_test": (g["tuning_value"] - g["test_value"]).mean()})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmarks", nargs="+", default=["noisy-brittle", "bandit"])
    ap.add_argument("--methods", nargs="+", default=["hyperband", "random"])
    ap.add_argument("--settings", nargs="+", default=["off", "s2", "s3", "s5", "s3b"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run seeds first..seeds-1 only (a second process can take the rest; "
                         "the summary reads every row of --out)")
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--batch-size", type=int, help="asks of q trials (model methods: q-EI batches)")
    ap.add_argument("--out", type=Path, default=Path("runs/racing/defaults.csv"))
    a = ap.parse_args()
    for s in a.settings:
        setting_options(s)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    done = pd.read_csv(a.out) if a.out.exists() else pd.DataFrame()
    key = ["benchmark", "method", "setting", "seed", "budget"]
    have = set(map(tuple, done[key].itertuples(index=False))) if len(done) else set()
    for seed in range(a.first_seed, a.seeds):
        for b in a.benchmarks:
            for m in a.methods:
                for s in a.settings:
                    paired = f"{s}-model" in a.settings  # one study gives both rows
                    if s.endswith("-model") and s.removesuffix("-model") in a.settings:
                        continue  # written with its base setting's study
                    need = [x for x in ([s, f"{s}-model"] if paired else [s])
                            if (b, m, x, seed, a.budget) not in have]
                    if not need:
                        continue
                    rows = run_one(b, m, s, seed, a.budget, a.batch_size, also_model=paired)
                    new = pd.DataFrame([r for r in rows if r["setting"] in need])
                    new.to_csv(a.out, mode="a", header=not a.out.exists(), index=False)
    df = pd.read_csv(a.out)
    df = df[df["budget"] == a.budget]
    table = summary(df[df["setting"].isin(a.settings) & df["method"].isin(a.methods)
                       & df["benchmark"].isin(a.benchmarks)])
    print(markdown(table))


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table (floats to 4 significant digits)."""
    cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
             for row in df.itertuples(index=False)]
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])


if __name__ == "__main__":
    main()
