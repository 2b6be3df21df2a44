"""A cheap real RL problem: epsilon-greedy agents on non-stationary multi-armed bandits.

The problem (fixed, part of the benchmark's definition, drawn once from ``INSTANCE_SEED``):
``n_runs = 16`` independent ``n_arms = 10``-armed bandits; arm means start at ``N(0, 1)`` and
take a Gaussian random walk with std ``drift = 0.01`` per step (Sutton & Barto 2018, Exercise
2.5); each arm's reward noise has its own std drawn from ``U(0.5, 1.5)``. The number of arms, the
arm means and the reward stds are thus properties of the problem, set through ``make_bandit``.

The hyperparameters are the agent's:

* ``epsilon`` in ``[1e-3, 0.5]`` (log): the exploration rate;
* ``update``: ``"constant"`` (exponential recency-weighted average) or ``"sample_average"``;
* ``step_size`` in ``[1e-3, 1]`` (log): the constant step size, active only when
  ``update == "constant"``;
* ``initial_value`` in ``[-1, 5]``: the initial action-value estimate (optimistic when large).

Fidelity: environment steps, ``Fidelity(min=30, max=2430, eta=3)`` (five Hyperband rungs).
Value at step ``b``: minus the mean reward over steps ``(0.8 b, b]``, averaged over the 16 runs
(to minimize). Curve: 8 evenly spaced steps in ``(resume_budget, budget]``. Noise: the agent's
exploration and the reward noise come from ``seed`` (``context.seed``): same seed, same answer;
different seeds give noisy, sometimes non-monotone curves. Resuming re-simulates from step 0 (the
random streams are drawn so that a longer run extends a shorter one exactly) and charges
``budget - resume_budget`` steps as cost.

Optimum: ``BANDIT_OPTIMUM``, estimated by ``python -m hyperpilot.benchmarks.bandit
--estimate-optimum`` (see ``estimate_optimum``).
"""

from __future__ import annotations

import argparse
import functools
import math
from dataclasses import dataclass

import numpy as np

from hyperpilot.benchmarks.base import Benchmark, Evaluation
from hyperpilot.space import Categorical, Config, Float, SearchSpace
from hyperpilot.trial import Fidelity

BANDIT_FIDELITY = Fidelity(min=30, max=2430, eta=3)
INSTANCE_SEED = 20240601
BANDIT_OPTIMUM = -1.808020
BANDIT_OPTIMUM_NOTE = (
    "estimated (python -m hyperpilot.benchmarks.bandit --estimate-optimum): best mean over 16 noise "
    "seeds among the 16 best of 2048 random configs (scored on 2 seeds) at 2430 steps; found at "
    "epsilon=0.00134, update=constant, step_size=0.0346, initial_value=3.28")
WINDOW = 0.2
"""The value at step ``b`` averages the rewards of the last ``WINDOW * b`` steps."""


def bandit_space() -> SearchSpace:
    """The agent's hyperparameters (see the module docstring)."""
    return SearchSpace(
        {"epsilon": Float(1e-3, 0.5, log=True),
         "update": Categorical(["constant", "sample_average"]),
         "step_size": Float(1e-3, 1.0, log=True),
         "initial_value": Float(-1.0, 5.0)},
        {"step_size": ("update", ["constant"])},
    )


@dataclass(frozen=True)
class BanditProblem:
    """The fixed bandit instances: ``means`` is ``T x runs x arms``, ``stds`` is ``runs x arms``."""

    means: np.ndarray
    stds: np.ndarray


@functools.lru_cache(maxsize=4)
def bandit_problem(n_arms: int = 10, n_runs: int = 16, drift: float = 0.01,
                   steps: int = int(BANDIT_FIDELITY.max), seed: int = INSTANCE_SEED) -> BanditProblem:
    """Draw the instances (cached per process; about ``steps * n_runs * n_arms`` floats)."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((1, n_runs, n_arms))
    walk = drift * rng.standard_normal((steps - 1, n_runs, n_arms))
    means = np.cumsum(np.concatenate([start, walk]), axis=0)
    return BanditProblem(means, rng.uniform(0.5, 1.5, (n_runs, n_arms)))


def simulate(problem: BanditProblem, steps: int, epsilon: np.ndarray, step_size: np.ndarray,
             sample_average: np.ndarray, initial_value: np.ndarray, seed: int) -> np.ndarray:
    """Run ``C`` agents (one per entry of the ``C``-vectors) on every instance for ``steps`` steps.

    All agents share the random streams of ``seed`` (common random numbers); a longer run extends a
    shorter one with the same seed exactly.

    Returns:
        ``steps x C`` mean reward per step, averaged over the instances.
    """
    n_runs, k = problem.stds.shape
    C = len(epsilon)
    B = C * n_runs
    run = np.tile(np.arange(n_runs), C)
    ss = np.random.SeedSequence(int(seed) & 0xFFFFFFFF).spawn(3)
    u = np.random.default_rng(ss[0]).random((steps, n_runs))
    arm = np.floor(np.random.default_rng(ss[1]).random((steps, n_runs)) * k).astype(np.int64)
    noise = np.random.default_rng(ss[2]).standard_normal((steps, n_runs))
    explore = np.tile(u, (1, C)) < np.repeat(epsilon, n_runs)[None, :]
    rand_arm = np.tile(arm, (1, C))
    # reward of every arm at every step (runs x arms flattened): mean + arm std * the step's noise
    payoff = (problem.means[:steps] + problem.stds[None] * noise[:, :, None]).reshape(steps, -1)
    # a constant step size alpha is a sample average whose count stays at 1 / alpha
    sa = np.repeat(np.asarray(sample_average, dtype=bool), n_runs)
    inc = sa.astype(float)
    nf = np.where(sa, 0.0, 1.0 / np.repeat(step_size, n_runs))[:, None].repeat(k, axis=1).ravel()
    tie = 1e-9 * np.arange(k)[::-1]  # greedy ties go to the lowest arm, deterministically
    q = np.repeat(initial_value, n_runs)[:, None] + tie[None, :]
    qf = q.ravel()
    rows = np.arange(B) * k
    off = run * k - rows  # flat index into ``payoff[t]`` = flat index into ``q`` + off
    rewards = np.empty((steps, B))
    for t in range(steps):
        idx = rows + np.where(explore[t], rand_arm[t], q.argmax(axis=1))
        r = payoff[t, idx + off]
        nf[idx] += inc
        qf[idx] += (r - qf[idx]) / nf[idx]
        rewards[t] = r
    return rewards.reshape(steps, C, n_runs).mean(axis=2)


def window_values(rewards: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Minus the mean reward over steps ``(0.8 b, b]`` for each ``b`` in ``at``.

    Args:
        rewards: ``steps x C`` mean reward per step.
        at: step counts in ``[1, steps]``.

    Returns:
        ``len(at) x C``.
    """
    cs = np.concatenate([np.zeros((1, rewards.shape[1])), np.cumsum(rewards, axis=0)])
    hi = np.asarray(at, dtype=np.int64)
    lo = np.minimum(hi - 1, np.floor((1 - WINDOW) * hi).astype(np.int64))
    return -(cs[hi] - cs[lo]) / (hi - lo)[:, None]


@dataclass
class Bandit(Benchmark):
    """The bandit benchmark; see the module docstring."""

    n_arms: int = 10
    n_runs: int = 16
    drift: float = 0.01
    n_curve_points: int = 8

    @property
    def noisy(self) -> bool:
        return True

    def _evaluate(self, config: Config, budget: float, resume_budget: float, seed: int) -> Evaluation:
        steps = max(1, math.floor(budget + 0.5))
        prob = bandit_problem(self.n_arms, self.n_runs, self.drift, int(self.fidelity.max))
        sa = config["update"] == "sample_average"
        rewards = simulate(prob, steps, np.array([config["epsilon"]]),
                           np.array([config.get("step_size", 1.0)]), np.array([sa]),
                           np.array([config["initial_value"]]), seed)
        start = max(resume_budget, 0.0)
        at = np.unique(np.ceil(np.linspace(start, steps, self.n_curve_points + 1)[1:]).astype(np.int64))
        at = at[(at > resume_budget) & (at >= 1)]
        vals = window_values(rewards, np.append(at, steps))[:, 0]
        curve = [(float(b), float(v)) for b, v in zip(at, vals[:-1], strict=True)]
        return float(vals[-1]), curve, budget - resume_budget


def make_bandit(seed: int = 0, n_arms: int = 10, n_runs: int = 16, drift: float = 0.01) -> Bandit:
    """The registered ``bandit`` benchmark (the optimum estimate holds for the defaults only)."""
    default = (n_arms, n_runs, drift) == (10, 16, 0.01)
    return Bandit("bandit", bandit_space(), BANDIT_FIDELITY,
                  BANDIT_OPTIMUM if default else float("nan"),
                  BANDIT_OPTIMUM_NOTE if default else "no estimate for non-default problem settings",
                  False, seed, n_arms, n_runs, drift)


def estimate_optimum(n_random: int = 2048, batch: int = 256, n_top: int = 16, n_seeds: int = 16,
                     seed: int = 0) -> tuple[float, str]:
    """Estimate ``min E[value]`` at ``max`` steps: random search, then re-evaluate the best.

    ``n_random`` configs from ``bandit_space()`` are scored on 2 noise seeds; the ``n_top`` best
    are re-scored on ``n_seeds`` fresh seeds and the best mean is returned.
    """
    space, prob = bandit_space(), bandit_problem()
    steps = int(BANDIT_FIDELITY.max)
    configs = space.sample(n_random, np.random.default_rng(seed))

    def score(cfgs: list[Config], seeds: range) -> np.ndarray:
        args = (np.array([c["epsilon"] for c in cfgs]), np.array([c.get("step_size", 1.0) for c in cfgs]),
                np.array([c["update"] == "sample_average" for c in cfgs]),
                np.array([c["initial_value"] for c in cfgs]))
        tot = np.zeros(len(cfgs))
        for s in seeds:
            tot += window_values(simulate(prob, steps, *args, seed=s), np.array([steps]))[0]
        return tot / len(seeds)

    first = np.concatenate([score(configs[i:i + batch], range(1000, 1002))
                            for i in range(0, n_random, batch)])
    top = [configs[i] for i in np.argsort(first)[:n_top]]
    second = score(top, range(2000, 2000 + n_seeds))
    note = (f"estimated: best mean over {n_seeds} noise seeds among the {n_top} best of {n_random} "
            f"random configs (scored on 2 seeds) at {steps} steps; best config {top[int(np.argmin(second))]}")
    return float(second.min()), note


def main(argv: list[str] | None = None) -> None:
    """``python -m hyperpilot.benchmarks.bandit --estimate-optimum``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estimate-optimum", action="store_true", required=True)
    ap.parse_args(argv)
    value, note = estimate_optimum()
    print(f"BANDIT_OPTIMUM = {value:.6f}\nBANDIT_OPTIMUM_NOTE = {note!r}")


if __name__ == "__main__":
    main()
