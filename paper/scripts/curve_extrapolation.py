"""Learning-curve extrapolation on real curves: last value vs parametric ensemble vs BNN.

Sources (read from the data directory, never copied): RL-Zoo evaluation curves
(``rl_trained_agents_curves/eval_curves_long.csv``, every (algo, env) curve with >= 5 points),
LCDB 1.0 development curves (``lcdb_v1/lcdb_accuracy_curves_seedmean_dev.csv.gz``, validation
accuracy vs training-set size, curves with >= 8 anchors, ``--n-curves`` subsampled) and LCBench
curves from YAHPO's ONNX surrogate (val_accuracy over 52 epochs, the 10 development tasks, random
configs from ``config_space.json``, ``--n-curves`` in total).

Each curve is cut after ``max(1, round(f * n))`` of its ``n`` points for f in 0.1, 0.2, 0.4 and the
final value ``y[-1]`` at ``t[-1]`` is predicted. Curves are split 2-fold (by curve, i.e. by config)
for every seed; the BNN and the parametric model's study scale are fitted on one fold and evaluated
on the other. Baseline "last": mean = last value seen, std = the RMS of (final - last) over the
training fold's curves at the same cut fraction, in units of each curve's prefix range (an
empirically calibrated constant). Metrics: MAE, Gaussian NLL, coverage of the central 90% interval.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/curve_extrapolation.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fidelity.curves import BNNCurveModel, Curve, ParametricCurveModel

FRACTIONS = (0.1, 0.2, 0.4)
DEV_TASKS = ("3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149",
             "167152")
LCB_ORDER = ("batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
             "max_dropout")
Z90 = 1.6448536269514722


def load_rl(root: Path) -> dict[str, Curve]:
    df = pd.read_csv(root / "rl_trained_agents_curves" / "eval_curves_long.csv")
    out = {}
    for (algo, env), g in df.groupby(["algo", "env_id"]):
        g = g.sort_values("timesteps")
        if len(g) >= 5:
            out[f"{algo}/{env}"] = Curve.make(g.timesteps.to_numpy(float), g.eval_return_mean.to_numpy(float))
    return out


def load_lcdb(root: Path, n: int, rng: np.random.Generator) -> dict[str, Curve]:
    df = pd.read_csv(root / "lcdb_v1" / "lcdb_accuracy_curves_seedmean_dev.csv.gz")
    groups = [(k, g) for k, g in df.groupby(["openmlid", "learner"]) if len(g) >= 8]
    out = {}
    for i in rng.permutation(len(groups))[:n]:
        (oid, learner), g = groups[i]
        g = g.sort_values("size_train")
        out[f"{oid}/{learner}"] = Curve.make(g.size_train.to_numpy(float), g.score_valid_mean.to_numpy(float))
    return out


def load_lcbench(root: Path, n: int, rng: np.random.Generator) -> dict[str, Curve]:
    import onnxruntime as ort

    d = root / "yahpo_data" / "lcbench"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(d / "model.onnx"), opts)
    enc = json.loads((d / "encoding.json").read_text())["OpenML_task_id"]
    hps = {h["name"]: h for h in json.loads((d / "config_space.json").read_text())["hyperparameters"]}
    epochs = np.arange(1, 53, dtype=float)
    out = {}
    for k in range(n):
        task = DEV_TASKS[k % len(DEV_TASKS)]
        unit = rng.random(len(LCB_ORDER))
        raw = []
        for u, name in zip(unit, LCB_ORDER, strict=True):
            h = hps[name]
            lo, hi = float(h["lower"]), float(h["upper"])
            v = np.exp(np.log(lo) + u * np.log(hi / lo)) if h["log"] else lo + u * (hi - lo)
            raw.append(round(v) if h["type"] == "uniform_int" else v)
        x_cont = np.column_stack([epochs, np.tile(raw, (52, 1))]).astype(np.float32)
        x_cat = np.full((52, 1), enc[task], dtype=np.int32)
        y = sess.run(None, {"x_cat": x_cat, "x_cont": x_cont})[0][:, 1].astype(float)
        out[f"{task}/{k}"] = Curve.make(epochs, y, unit)
    return out


def cut(c: Curve, f: float) -> int:
    return max(1, int(round(f * c.t.size)))


def last_value_sd(train: list[Curve], f: float) -> float:
    """RMS of (final - last seen) / prefix scale over the training curves at cut fraction ``f``."""
    z = [(c.y[-1] - c.y[cut(c, f) - 1]) / _unit(c.y[: cut(c, f)], train) for c in train]
    return float(np.sqrt(np.mean(np.square(z))))


def _unit(y: np.ndarray, train: list[Curve]) -> float:
    study = float(np.median([np.ptp(c.y) for c in train if np.ptp(c.y) > 0]))
    return max(float(np.ptp(y)), 0.1 * study)


def evaluate_fold(source: str, train: list[Curve], test: list[Curve], names: list[str], seed: int,
                  use_x: bool, timings: dict[str, list[float]]) -> list[dict]:
    par = ParametricCurveModel(seed=seed).fit(train)
    bnn = BNNCurveModel(seed=seed).fit(train)
    rows = []
    for f in FRACTIONS:
        sd_last = last_value_sd(train, f)
        for name, c in zip(names, test, strict=True):
            m = cut(c, f)
            t, y, x = c.t[:m], c.y[:m], (c.x if use_x else None)
            preds = {"last": (float(y[-1]), sd_last * _unit(y, train))}
            for label, model in (("parametric", par), ("bnn", bnn)):
                t0 = time.perf_counter()
                preds[label] = model.predict(t, y, float(c.t[-1]), x)
                timings[label].append(time.perf_counter() - t0)
            for label, (mu, sd) in preds.items():
                rows.append(dict(source=source, seed=seed, curve=name, fraction=f, n_seen=m,
                                 method=label, y_final=float(c.y[-1]), mean=mu, std=sd,
                                 fallback=bool(label == "bnn" and bnn.last_info["fallback"])))
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    d = df.copy()
    # errors in units of each source's median curve range, so sources are comparable
    d["err"] = (d["mean"] - d.y_final).abs()
    d["nll"] = 0.5 * np.log(2 * np.pi * d["std"] ** 2) + 0.5 * ((d.y_final - d["mean"]) / d["std"]) ** 2
    d["cover90"] = (d["mean"] - d.y_final).abs() <= Z90 * d["std"]
    g = d.groupby(["source", "fraction", "method"])
    return g.agg(MAE=("err", "mean"), NLL=("nll", "mean"), cover90=("cover90", "mean"),
                 n=("err", "size"), fallback=("fallback", "mean")).reset_index()


def markdown(df: pd.DataFrame) -> str:
    """A markdown table (floats to 3 decimals) without the optional ``tabulate`` dependency."""
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r] for r in df.itertuples(index=False)]
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("HYPERPILOT_DATA",
                                  str(Path(__file__).resolve().parents[2].parent / "shared" / "data"))
    ap.add_argument("--data-dir", default=default_data)
    ap.add_argument("--n-curves", type=int, default=200, help="curves per source (LCDB, LCBench)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sources", default="rl,lcdb,lcbench")
    ap.add_argument("--out", default="runs/paper/curve_extrapolation.csv")
    args = ap.parse_args()
    # entry point: the only place that seeds/sets global state
    torch.set_num_threads(1)
    root = Path(args.data_dir)
    rng = np.random.default_rng(0)
    loaders = {"rl": lambda: load_rl(root), "lcdb": lambda: load_lcdb(root, args.n_curves, rng),
               "lcbench": lambda: load_lcbench(root, args.n_curves, rng)}
    timings: dict[str, list[float]] = {"parametric": [], "bnn": []}
    rows: list[dict] = []
    t_start = time.perf_counter()
    for source in args.sources.split(","):
        curves = loaders[source]()
        names = list(curves)
        print(f"{source}: {len(names)} curves, lengths {min(c.t.size for c in curves.values())}-"
              f"{max(c.t.size for c in curves.values())}", flush=True)
        for seed in range(args.seeds):
            perm = np.random.default_rng(100 + seed).permutation(len(names))
            folds = [perm[: len(perm) // 2], perm[len(perm) // 2:]]
            for k in range(2):
                tr, te = folds[1 - k], folds[k]
                rows += evaluate_fold(source, [curves[names[i]] for i in tr],
                                      [curves[names[i]] for i in te], [names[i] for i in te], seed,
                                      source == "lcbench", timings)
            print(f"  seed {seed} done at {time.perf_counter() - t_start:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    table = summarise(df)
    table.to_csv(out.with_name(out.stem + "_summary.csv"), index=False)
    print(markdown(table))
    for label, ts in timings.items():
        print(f"predict() {label}: median {1e3 * np.median(ts):.1f} ms, p90 "
              f"{1e3 * np.percentile(ts, 90):.1f} ms over {len(ts)} calls")
    print(f"wrote {out} ({len(df)} rows) in {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
