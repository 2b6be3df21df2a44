"""Encode/decode speed: HyperPilot's SearchSpace vs ConfigSpace 1.x on the LCBench space.

Usage::

    OMP_NUM_THREADS=1 python paper/scripts/space_speed.py [--data-dir DIR] [--n 10000] [--repeats 3]

Both libraries get the same ``n`` configs of LCBench's 7 hyperparameters (from
``yahpo_data/lcbench/config_space.json`` without task id and epoch; a built-in copy is used when
no data directory is found). Timings are the best of ``repeats`` runs, in milliseconds, and in
microseconds per config:

* encode: configs (dicts) -> unit-cube array (ours: ``space.encode``; ConfigSpace:
  ``Configuration(cs, values=c).get_array()`` per config);
* decode: array -> configs (ours: ``space.decode``; ConfigSpace: ``dict(Configuration(cs, vector=v))``);
* sample: ``n`` random configs (ours: ``space.sample``; ConfigSpace: ``cs.sample_configuration(n)``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from io import StringIO
from typing import Any

import numpy as np

from hyperpilot.configspace_io import from_configspace_dict, to_configspace_dict
from hyperpilot.data import resolve_data_dir
from hyperpilot.space import Float, Int, SearchSpace

BUILTIN = SearchSpace({"batch_size": Int(16, 512, log=True), "learning_rate": Float(1e-4, 0.1, log=True),
                       "max_dropout": Float(0.0, 1.0), "max_units": Int(64, 1024, log=True),
                       "momentum": Float(0.1, 0.99), "num_layers": Int(1, 5),
                       "weight_decay": Float(1e-5, 0.1)})


def lcbench_space(data_dir: str | None) -> tuple[SearchSpace, str]:
    root = resolve_data_dir(data_dir, required=False)
    path = None if root is None else root / "yahpo_data" / "lcbench" / "config_space.json"
    if path is None or not path.is_file():
        return BUILTIN, "built-in copy"
    d = json.loads(path.read_text())
    d["hyperparameters"] = [h for h in d["hyperparameters"] if h["name"] not in ("OpenML_task_id", "epoch")]
    return from_configspace_dict(d), str(path)


def best_ms(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import ConfigSpace as CS

    space, src = lcbench_space(args.data_dir)
    cs = CS.ConfigurationSpace.from_json(StringIO(json.dumps(to_configspace_dict(space))))
    cs.seed(0)
    configs = space.sample(args.n, np.random.default_rng(0))
    X = space.encode(configs)
    cs_configs = [CS.Configuration(cs, values=c) for c in configs]
    V = np.array([c.get_array() for c in cs_configs])

    rows = [
        ("encode", best_ms(lambda: space.encode(configs), args.repeats),
         best_ms(lambda: [CS.Configuration(cs, values=c).get_array() for c in configs], args.repeats)),
        ("decode", best_ms(lambda: space.decode(X), args.repeats),
         best_ms(lambda: [dict(CS.Configuration(cs, vector=v)) for v in V], args.repeats)),
        ("sample", best_ms(lambda: space.sample(args.n, np.random.default_rng(1)), args.repeats),
         best_ms(lambda: [dict(c) for c in cs.sample_configuration(args.n)], args.repeats)),
    ]
    print(f"LCBench space ({len(space.names)} parameters, {src}), n = {args.n}, best of {args.repeats}")
    print(f"{'op':8s} {'ours ms':>10s} {'CS ms':>10s} {'ours us/cfg':>12s} {'CS us/cfg':>10s} {'CS/ours':>8s}")
    for op, ours, theirs in rows:
        print(f"{op:8s} {ours:10.1f} {theirs:10.1f} {1e3 * ours / args.n:12.2f} "
              f"{1e3 * theirs / args.n:10.2f} {theirs / ours:8.1f}")


if __name__ == "__main__":
    main()
