"""What conditioning on a subset of the data does to the posterior mean near the best points.

``rff-kev`` conditions its read-out on at most 256 observations (the best quarter plus a seeded
sample of the rest), as Syne Tune's MOBSTER caps a GP's data. This script measures the price on
a study-like data set: ``n`` noisy points in ``[0, 1]^7`` (half uniform, half Gaussian with sd
0.08 around Hartmann-6's optimum), the objective ``surrogate_common.objective7`` (larger is
better) plus Gaussian noise of sd ``--noise``. Each surrogate is fitted on all ``n`` points (it
picks its own subset); then, over the observed points,

* ``optimism``: the posterior mean minus the true value at the point of highest posterior mean
  (the model's incumbent; a subset model can put it where it never conditioned);
* ``regret``: the true best value among the observed points minus the true value there;
* ``top100_rmse``, ``top100_bias``: the posterior mean's error over the 100 truly best points.

Surrogate names are registered ones, or ``<name>/all`` for ``posterior_points=None`` (all
``n``), or ``gp/sub256`` for the exact GP fitted on ``rff-kev``'s 256-point subset alone.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/subset_bias.py --noise 0.05 0.3 \\
        --surrogates rff-kev gp/sub256 rff-kev/all rff-path gp --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from surrogate_common import objective7  # noqa: E402

from surrogates import make_surrogate  # noqa: E402
from surrogates.capped import capped_indices  # noqa: E402

#: Hartmann-6's minimiser (Picheny et al. 2013), with 0.9 for the weak 7th input.
OPTIMUM = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573, 0.9)


def study_like(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``X`` (``n x 7``), the noisy ``Y`` and the true ``F`` (``n x 1`` each)."""
    g = torch.Generator().manual_seed(seed)
    uniform = torch.rand(n // 2, 7, generator=g, dtype=torch.float64)
    centre = torch.tensor(OPTIMUM, dtype=torch.float64)
    near = (centre + 0.08 * torch.randn(n - n // 2, 7, generator=g, dtype=torch.float64)).clamp(0, 1)
    X = torch.cat([uniform, near])
    F = objective7(X)
    return X, F + noise * torch.randn(n, 1, generator=g, dtype=torch.float64), F


def fitted(name: str, X: torch.Tensor, Y: torch.Tensor, seed: int,
           options: dict[str, Any] | None = None) -> Any:
    """The surrogate ``name`` (see the module docstring) with extra ``options``, fitted."""
    if name == "gp/sub256":
        keep = capped_indices(Y, 256, 0.25, seed)
        return make_surrogate("gp", seed=seed).fit(X[keep], Y[keep])  # rff-kev's subset
    base, _, variant = name.partition("/")
    if variant not in ("", "all"):
        raise ValueError(f"unknown variant {variant!r} in {name!r}")
    opts = {**(options or {}), **({"posterior_points": None} if variant == "all" else {})}
    return make_surrogate(base, seed=seed, options=opts or None).fit(X, Y)


def measure(name: str, n: int, noise: float, seed: int,
            options: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row: the four numbers of the module docstring for one surrogate and data set."""
    X, Y, F = study_like(n, noise, seed)
    model = fitted(name, X, Y, seed, options)
    with torch.no_grad():
        mu = model.posterior(X.unsqueeze(-2)).mean.reshape(-1)
    f = F.reshape(-1)
    i = int(mu.argmax())
    top = torch.argsort(f, descending=True)[:100]
    err = mu[top] - f[top]
    return {"surrogate": name, "n": n, "noise": noise, "seed": seed,
            "optimism": float(mu[i] - f[i]), "regret": float(f.max() - f[i]),
            "top100_rmse": float(err.pow(2).mean().sqrt()), "top100_bias": float(err.mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--surrogates", nargs="+",
                    default=["rff-kev", "gp/sub256", "rff-kev/all", "rff-path", "gp"])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--noise", type=float, nargs="+", default=[0.05, 0.3])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, help="CSV of every row")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = [measure(s, a.n, z, seed) for z in a.noise for seed in a.seeds for s in a.surrogates]
    df = pd.DataFrame(rows)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(a.out, index=False)
    cols = ["optimism", "regret", "top100_rmse", "top100_bias"]
    med = df.groupby(["noise", "surrogate"], sort=False)[cols].median().reset_index()
    print(f"medians over seeds {a.seeds}, n = {a.n}")
    print("| noise sd | surrogate | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for r in med.itertuples(index=False):
        print(f"| {r.noise:g} | `{r.surrogate}` | "
              + " | ".join(f"{getattr(r, c):.3f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
