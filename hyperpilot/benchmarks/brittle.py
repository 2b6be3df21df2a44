"""``noisy-brittle``: a cheap noisy benchmark where the best single run is usually a lucky one.

The failure mode of RL tuning on one seed (issue 19; Eimer et al. 2023), in closed form. Four
parameters ``x1..x4`` in ``[0, 1]``; budget 1..81 (``eta = 3``, five Hyperband rungs); minimize.
On a seed that trains well a config reaches

    q(x) = -(1.0 exp(-|x - a|^2 / (2 0.25^2)) + 0.8 exp(-|x - b|^2 / (2 0.3^2)))

at the max budget: basin ``a`` is deeper than basin ``b``. But around ``a`` runs are brittle: a
seed fails with probability ``p(x) = 0.5 exp(-|x - a|^2 / (2 0.3^2))``. A failing run learns
like the others until a random point between 30% and 90% of the way (in log budget), then
collapses to 0, the value of a run that learned nothing (Acrobot's -500). So a config at ``a``
scores about -1.0 on half of its seeds and 0 on the other half (expected -0.5), while a config at
``b`` scores about -0.8 on every seed: the best expected value, and the test regret's reference,
is at ``b``.

Learning curve of a run that does not fail: ``v(t) = q(x) (0.3 + 0.7 t^(0.5 + x4))`` at ``t =
log(budget / 1) / log(81)``, so low budgets rank configs partly by how fast they learn (``x4``).
Noise: each seed shifts a whole run by ``0.05 (0.6 e_seed + 0.8 e_seed,x)`` (``e_seed`` shared by
every config on that seed: common random numbers pair what they can; ``e_seed,x`` is the
config's own luck), plus ``0.01`` per curve point. Everything is a function of ``(x, budget,
seed)``, so a resumed run extends a shorter one exactly; cost is ``budget - resume_budget``.

Scored, like the bandit, by **test regret**: the chosen config's mean value at the max budget over
the bench's held-out seeds ``10000..10015``, minus :data:`BRITTLE_OPTIMUM` (the best expected
value, ``python -m hyperpilot.benchmarks.brittle --estimate-optimum``).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np

from hyperpilot.benchmarks.base import Benchmark, Evaluation
from hyperpilot.benchmarks.synthetic import SYNTHETIC_FIDELITY, curve_budgets
from hyperpilot.space import Config, Float, SearchSpace

BRITTLE_A = np.array([0.75, 0.25, 0.6, 0.4])  # deep but brittle
BRITTLE_B = np.array([0.25, 0.7, 0.35, 0.6])  # shallower, robust
P_FAIL = 0.5
FAIL_VALUE = 0.0
BRITTLE_OPTIMUM = -0.793220
BRITTLE_OPTIMUM_NOTE = (
    "best expected value at budget 81 (python -m hyperpilot.benchmarks.brittle "
    "--estimate-optimum: 200k random points, then Nelder-Mead from the 20 best), at basin b")


def brittle_space() -> SearchSpace:
    return SearchSpace({f"x{i}": Float(0.0, 1.0) for i in range(1, 5)})


def quality(x: np.ndarray) -> np.ndarray:
    """``q(x)``: the value at the max budget of a run that does not fail (``n x 4`` -> ``n``)."""
    da = np.sum((x - BRITTLE_A) ** 2, axis=-1)
    db = np.sum((x - BRITTLE_B) ** 2, axis=-1)
    return -(1.0 * np.exp(-da / (2 * 0.25**2)) + 0.8 * np.exp(-db / (2 * 0.3**2)))


def fail_probability(x: np.ndarray) -> np.ndarray:
    """``p(x)``: the chance that a seed fails."""
    return P_FAIL * np.exp(-np.sum((x - BRITTLE_A) ** 2, axis=-1) / (2 * 0.3**2))


def expected_value(x: np.ndarray) -> np.ndarray:
    """The mean over seeds at the max budget (noise has mean 0)."""
    p = fail_probability(x)
    return (1 - p) * quality(x) + p * FAIL_VALUE


def _stream(seed: int, x: np.ndarray) -> np.random.Generator:
    """The run's own random numbers: a function of the seed and the config only."""
    key = [int(round(v * 1e9)) for v in x]
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 7, *key]))


@dataclass
class NoisyBrittle(Benchmark):
    """The ``noisy-brittle`` benchmark; see the module docstring."""

    n_curve_points: int = 6

    @property
    def noisy(self) -> bool:
        return True

    def _evaluate(self, config: Config, budget: float, resume_budget: float, seed: int) -> Evaluation:
        x = np.array([config[n] for n in self.space.names], dtype=float)
        budgets = curve_budgets(resume_budget, budget, self.fidelity.min, self.n_curve_points)
        t = np.clip(np.log(np.maximum(budgets, self.fidelity.min) / self.fidelity.min)
                    / math.log(self.fidelity.max / self.fidelity.min), 0.0, 1.0)
        rng = _stream(seed, x)
        fails = rng.random() < fail_probability(x[None])[0]
        t_fail = rng.uniform(0.3, 0.9)
        own = rng.standard_normal()
        shared = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 11]))
        offset = 0.05 * (0.6 * shared.standard_normal() + 0.8 * own)
        v = quality(x[None])[0] * (0.3 + 0.7 * t ** (0.5 + x[3])) + offset
        if fails:
            v = np.where(t > t_fail, FAIL_VALUE + 0.2 * offset, v)
        v = v + 0.01 * np.array([_point_noise(seed, x, b) for b in budgets])
        curve = [(float(b), float(y)) for b, y in zip(budgets, v, strict=True) if b > resume_budget]
        return float(v[-1]), curve, budget - resume_budget


def _point_noise(seed: int, x: np.ndarray, budget: float) -> float:
    key = [int(round(v * 1e9)) for v in x]
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 13, int(round(budget * 1e6)), *key])
    return float(np.random.default_rng(ss).standard_normal())


def make_noisy_brittle(seed: int = 0) -> NoisyBrittle:
    """The registered ``noisy-brittle`` benchmark."""
    return NoisyBrittle("noisy-brittle", brittle_space(), SYNTHETIC_FIDELITY, BRITTLE_OPTIMUM,
                        BRITTLE_OPTIMUM_NOTE, False, seed)


def estimate_optimum(n_random: int = 200_000, n_starts: int = 20, seed: int = 0) -> float:
    """``min E[value]`` at the max budget: random search, then Nelder-Mead from the best."""
    from scipy.optimize import minimize

    x = np.random.default_rng(seed).random((n_random, 4))
    ev = expected_value(x)
    best = float(ev.min())
    for i in np.argsort(ev)[:n_starts]:
        res = minimize(lambda z: float(expected_value(np.clip(z, 0, 1)[None])[0]), x[i],
                       method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9})
        best = min(best, float(res.fun))
    return best


def main(argv: list[str] | None = None) -> None:
    """``python -m hyperpilot.benchmarks.brittle --estimate-optimum``."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--estimate-optimum", action="store_true", required=True)
    ap.parse_args(argv)
    print(f"BRITTLE_OPTIMUM = {estimate_optimum():.6f}")


if __name__ == "__main__":
    main()
