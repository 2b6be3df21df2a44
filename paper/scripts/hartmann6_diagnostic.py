"""Why the GP leads on Hartmann-6: regret at 10 (and 30, 100) FFE of surrogate variants.

Usage (the README's "Hartmann-6 diagnostic", 2026-12-01)::

    python paper/scripts/hartmann6_diagnostic.py gp,ens,ens-latent,ens-restarts,ens-steps \\
        100,101,102 10
    python paper/scripts/hartmann6_diagnostic.py ens-silu 100,101,102 10   # alone: see below
    python paper/scripts/hartmann6_diagnostic.py ens,ens-rp,ens-rp-latent 100,101,102 10

Seeds 100+ are kept apart from the bench seeds. Each variant is ``hyperpilot-nostop`` (or
``gp-bo``) with ``method_options``, run through ``Study.run`` with q = 4, as a bench cell is.
``ens-silu`` swaps ``torch.relu`` for SiLU in this process (a diagnostic patch, not an option),
so run it on its own. Prints one JSON line per (variant, seed).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import torch

from hyperpilot.bench.records import finish_table, rows_from_results
from hyperpilot.bench.targets import bench_problem
from hyperpilot.study import Study

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "gp": ("gp-bo", {}),
    "ens": ("hyperpilot-nostop", {}),
    "ens-latent": ("hyperpilot-nostop", {"surrogate_options": {"posterior_noise": False}}),
    "ens-restarts": ("hyperpilot-nostop", {"num_restarts": 16, "raw_samples": 1024}),
    "ens-bohb": ("hyperpilot-nostop", {"data_rule": "bohb"}),
    "ens-pool": ("hyperpilot-nostop", {"optimizer": "pool"}),
    "ens-steps": ("hyperpilot-nostop", {"surrogate_options": {"max_steps": 6000}}),
    "ens-nobag": ("hyperpilot-nostop", {"surrogate_options": {"bagging": "none"}}),
    "ens-silu": ("hyperpilot-nostop", {}),
    "ens-rp": ("hyperpilot-nostop", {"surrogate": "ensemble-rp"}),
    "ens-rp-beta1": ("hyperpilot-nostop", {"surrogate": "ensemble-rp",
                                           "surrogate_options": {"beta": 1.0}}),
    "ens-rp-latent": ("hyperpilot-nostop", {"surrogate": "ensemble-rp",
                                            "surrogate_options": {"posterior_noise": False}}),
}


def main() -> None:
    torch.set_num_threads(1)
    names, seeds = sys.argv[1].split(","), [int(s) for s in sys.argv[2].split(",")]
    budget = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    if "ens-silu" in names:
        torch.relu = torch.nn.functional.silu  # type: ignore[assignment]
    for v in names:
        method, opts = VARIANTS[v]
        for s in seeds:
            p = bench_problem("hartmann6", None, s)
            t0 = time.time()
            st = Study(p.space, p.fidelity, method, "minimize", s, method_options=opts)
            st.run(p.objective, budget=budget, batch_size=4)
            df = finish_table(rows_from_results(st.results), method, "hartmann6", s, p.direction,
                              p.fidelity.max, p.optimum)
            regret = []
            for b in (10, 30, 100):
                if b <= budget:
                    r = df.loc[df["ffe"] <= b, "regret"].dropna()
                    regret.append(float(r.iloc[-1]) if len(r) else float("nan"))
            print(json.dumps({"variant": v, "seed": s, "regret": regret, "trials": len(df),
                              "seconds": round(time.time() - t0)}), flush=True)


if __name__ == "__main__":
    main()
