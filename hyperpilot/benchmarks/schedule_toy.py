"""``schedule-toy``: a cheap checkpointed training run where the learning-rate schedule matters.

SGD with heavy-ball momentum on a noisy quadratic (the "noisy quadratic model" of Zhang et al.
2019): ``L(w) = 1/2 sum_i h_i w_i^2`` in ``d = 8`` dimensions with curvatures ``h_i`` log-spaced
in ``[0.05, 5]``. A step draws the gradient ``h w + sigma sqrt(h) e`` (``e`` standard normal,
``sigma = 1``), so a large learning rate makes fast progress along the flat directions but
leaves a noise floor proportional to it: a constant rate must trade the two, a decaying schedule
gets both. That is what PBT and PB2 should find.

* Parameters: ``learning_rate`` in ``[1e-3, 1]`` (log) and ``momentum`` in ``[0, 0.95]``; both
  may be schedules (``hyperpilot.schedule``).
* Budget: epochs ``1..27`` of 20 steps each (``eta = 3``); value: ``log10 L(w)`` after the last
  epoch (minimize; one curve point per epoch). The start ``w_0 ~ N(0, 4 I)`` and the gradient
  noise come from the trial's seed, so the benchmark is noisy and the bench scores its
  incumbents on held-out seeds (``hyperpilot.bench.testscore``).
* A checkpoint (JSON: weights, velocity, the generator's state, the curve) makes a resumed run
  equal to a straight one, so population-based methods run on it in milliseconds per trial.
* ``optimum``: the best *static* config's mean value over the held-out seeds (a grid search,
  :data:`STATIC_OPTIMUM`); a good schedule goes below it, so a negative regret says by how much
  a method's schedule beats the best constant config.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperpilot.benchmarks.base import Benchmark, Evaluation
from hyperpilot.schedule import config_at
from hyperpilot.space import Config, Float, SearchSpace
from hyperpilot.trial import Context, Fidelity, Trial
from hyperpilot.workloads.base import CheckpointableObjective, ResumableObjective

D = 8
CURVATURES = np.geomspace(0.05, 5.0, D)
SIGMA = 1.0
STEPS_PER_EPOCH = 20
W_CLIP = 1e3  # a diverging run stays finite (its loss is then huge, never NaN)


def toy_space() -> SearchSpace:
    return SearchSpace({"learning_rate": Float(1e-3, 1.0, log=True),
                        "momentum": Float(0.0, 0.95)})


class ToyRun(CheckpointableObjective):
    """One run of SGD with momentum on the noisy quadratic; one curve point per epoch."""

    def __init__(self, config: Config, seed: int) -> None:
        super().__init__()
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.w = self.rng.normal(0.0, 2.0, D)
        self.v = np.zeros(D)

    def loss(self) -> float:
        return float(0.5 * np.sum(CURVATURES * self.w**2))

    def train_to(self, budget: float, report: Callable[[float, float], bool]) -> bool:
        while self.trained < int(budget):
            cfg = config_at(self.config, self.trained)
            lr, mom = float(cfg["learning_rate"]), float(cfg["momentum"])
            for _ in range(STEPS_PER_EPOCH):
                g = CURVATURES * self.w + SIGMA * np.sqrt(CURVATURES) * self.rng.normal(size=D)
                self.v = mom * self.v - lr * g
                self.w = np.clip(self.w + self.v, -W_CLIP, W_CLIP)
            self.trained += 1
            self.curve.append((self.trained, math.log10(self.loss() + 1e-12)))
            if report(*self.curve[-1]):
                return True
        return False

    def value(self) -> float:
        return self.curve[-1][1]

    def checkpoint(self, path: Path) -> None:
        state = {"w": self.w.tolist(), "v": self.v.tolist(), "rng": self.rng.bit_generator.state,
                 "curve": self.curve, "trained": self.trained}
        (path / "toy.json").write_text(json.dumps(state))

    def restore(self, path: Path) -> None:
        f = path / "toy.json"
        if not f.exists():
            raise FileNotFoundError(f)
        s = json.loads(f.read_text())
        self.w, self.v = np.array(s["w"]), np.array(s["v"])
        self.rng.bit_generator.state = s["rng"]
        self.curve = [(float(b), float(x)) for b, x in s["curve"]]
        self.trained = float(s["trained"])


@dataclass
class ScheduleToy(Benchmark):
    """The benchmark; calls resume from ``context.checkpoint_dir`` (a temporary one without)."""

    resumes_from_checkpoint = True

    def __call__(self, config: Config, budget: float, resume_budget: float = 0.0,
                 context: Context | None = None) -> Evaluation:
        cfg = self.space.validate(config)
        if context is None or context.checkpoint_dir is None:
            seed = self.seed if context is None else int(context.seed)
            with tempfile.TemporaryDirectory() as d:
                ctx = Context(Trial(-1, -1, cfg, budget, 0.0, seed=seed), seed, Path(d))
                return self._run(cfg, budget, 0.0, ctx)
        return self._run(cfg, budget, resume_budget, context)

    def _run(self, cfg: Config, budget: float, resume_budget: float, ctx: Context) -> Evaluation:
        value, curve, _ = ResumableObjective(lambda c, x: ToyRun(c, x.seed))(
            cfg, budget, resume_budget, ctx)
        return value, curve, budget - resume_budget

    def _evaluate(self, config: Config, budget: float, resume_budget: float, seed: int) -> Evaluation:
        return self(config, budget, 0.0, None)

    @property
    def noisy(self) -> bool:
        return True


STATIC_OPTIMUM = -1.095215
STATIC_OPTIMUM_NOTE = (
    "the best static config's mean value at budget 27 over the held-out seeds 10000-10015 "
    "(estimate_static_optimum: 40 log-spaced learning rates x 11 momenta, then 16 x 8 around "
    "the best: lr 0.00132, momentum 0.95); a schedule can go below it (negative regret)")


def estimate_static_optimum(lrs: list[float], momenta: list[float],
                            seeds: range = range(10000, 10016)) -> tuple[float, Config]:
    """``(mean value, config)`` of the best constant config on a grid (the held-out seeds)."""
    best: tuple[float, Config] = (math.inf, {})
    for lr in lrs:
        for mom in momenta:
            c = {"learning_rate": float(lr), "momentum": float(mom)}
            vals = []
            for sd in seeds:
                run = ToyRun(c, sd)
                run.train_to(27, lambda b, v: False)
                vals.append(run.value())
            best = min(best, (float(np.mean(vals)), c), key=lambda x: x[0])
    return best


def make_schedule_toy(seed: int = 0) -> ScheduleToy:
    return ScheduleToy("schedule-toy", toy_space(), Fidelity(1, 27, 3), STATIC_OPTIMUM,
                       STATIC_OPTIMUM_NOTE, has_cost=False, seed=seed)
