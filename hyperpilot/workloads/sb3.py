"""Stable-Baselines3 agents on Gymnasium environments as a multi-fidelity workload.

Fidelity is environment steps. A trial trains ``n_seeds`` models of one config side by side in
chunks of ``eval_every`` steps; after each chunk every model is evaluated (deterministic policy)
on its own evaluation environment whose episode seeds are disjoint from all training seeds. The
mean evaluation return over seeds, negated, is one learning-curve point and is sent to
``context.report``. The objective value is the mean of the last ``last_k`` points (or the
normalised area under the curve with ``value="auc"``).

Seed ranges: tuning trains on seeds in ``[0, 9_000)`` (an env of index i gets seed + i < 10_000),
:func:`test_config` retrains on seeds ``>= 10_000`` and evaluation episodes use seeds
``>= 1_000_000``.

Resume is exact for envs that pickle their state (all classic-control ones): a checkpoint keeps the
model, the replay buffer (off-policy), the training envs mid-episode and the RNG states, and schedules
(DQN's epsilon, learning-rate schedules) always run over ``max_steps``, so a run trained to n and
continued to 2n equals a run trained to 2n straight. SB3 draws from torch's and numpy's global
generators, so each run swaps its own generator states in around training (``_rng_scope``) and
puts the caller's back afterwards. Envs that pickle by their constructor's arguments (gymnasium's
``EzPickle``: Box2D's LunarLander, MuJoCo) come back un-reset, so their resume starts fresh
episodes (the run's ``info()`` says ``exact_resume: False``); the model, buffer and RNGs still
carry over.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hyperpilot.schedule import (
    ScheduleError,
    change_points,
    config_at,
    is_schedule,
    refuse_unscheduled,
)
from hyperpilot.seeds import TEST_SEED_START
from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Context, Fidelity
from hyperpilot.workloads import sb3_spaces
from hyperpilot.workloads.base import (
    CheckpointableObjective,
    InvalidConfig,
    ResumableObjective,
    Workload,
)
from hyperpilot.workloads.curves import curve_value

log = logging.getLogger(__name__)

ALGOS = ("ppo", "a2c", "dqn", "sac", "td3")
ENVS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "MountainCarContinuous-v0",
        "LunarLander-v3", "LunarLanderContinuous-v3")
TRAIN_SEED_SPAN = 9_000
EVAL_SEED_START = 1_000_000


@dataclass(frozen=True)
class SB3Settings:
    """How a trial trains and is judged (not searched).

    Attributes:
        algo: ``ppo``, ``a2c``, ``dqn``, ``sac`` or ``td3``.
        env_id: a Gymnasium environment id.
        max_steps: full-fidelity environment steps; schedules run over it.
        eval_every: environment steps between evaluations.
        eval_episodes: episodes per evaluation.
        last_k: evaluations averaged into the value (``value="last"``).
        value: ``"last"`` (mean of the last ``last_k`` points) or ``"auc"``.
        n_seeds: training seeds per config, aggregated by the mean.
        repair: repair invalid combinations instead of raising ``InvalidConfig``.
        tensorboard_dir: write TensorBoard logs per trial there (needs tensorboard), or None.
        final_eval_episodes: episodes of each of the last ``last_k`` evaluations before a
            trial's budget (the ones its value averages), to cut the noise of that value; None
            uses ``eval_episodes`` there too.
        normalize: observation and reward normalisation (SB3's ``VecNormalize``, rl-zoo's
            ``normalize: true``): ``"off"``, ``"on"`` for every config, or ``"tune"`` (the
            space gains a ``normalize`` parameter, :data:`NORMALIZE`).
    """

    algo: str
    env_id: str
    max_steps: int
    eval_every: int
    eval_episodes: int = 10
    last_k: int = 3
    value: str = "last"
    n_seeds: int = 1
    repair: bool = True
    tensorboard_dir: str | None = None
    final_eval_episodes: int | None = None
    normalize: str = "off"


NORMALIZE = ("off", "on", "tune")
"""``SB3Settings.normalize``: never, always, or a hyperparameter of the search space."""


@contextmanager
def _rng_scope(state: dict[str, Any]) -> Iterator[None]:
    """Run with the global torch/numpy/random states taken from ``state``; save them back after."""
    import torch

    outer = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    if state:
        torch.set_rng_state(state["torch"])
        np.random.set_state(state["numpy"])
        random.setstate(state["random"])
    try:
        yield
    finally:
        state.update(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                     random=random.getstate())
        torch.set_rng_state(outer[0])
        np.random.set_state(outer[1])
        random.setstate(outer[2])


def _pin_total(total: int) -> Any:
    """A callback that makes progress (schedules, epsilon) run over ``total`` steps, not the chunk."""
    from stable_baselines3.common.callbacks import BaseCallback

    class PinTotal(BaseCallback):
        def _on_training_start(self) -> None:
            self.model._total_timesteps = total

        def _on_step(self) -> bool:
            return True

    return PinTotal()


def build_model(s: SB3Settings, config: Config, seed: int, tb_name: str | None = None
                ) -> tuple[Any, list[str]]:
    """A fresh SB3 model for ``config`` on ``s.env_id`` (call inside an RNG scope)."""
    import stable_baselines3 as sb3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    cfg = dict(config)
    normalize = bool(cfg.pop(sb3_spaces.NORMALIZE_PARAM, False)) or s.normalize == "on"
    kwargs, n_envs, notes = sb3_spaces.to_sb3_kwargs(s.algo, cfg, s.max_steps, s.repair)
    env = make_vec_env(s.env_id, n_envs=n_envs, seed=seed)
    if normalize:  # rl-zoo's default VecNormalize, its discount the agent's
        env = VecNormalize(env, gamma=float(kwargs["gamma"]))
    if s.algo == "td3":
        from stable_baselines3.common.noise import NormalActionNoise

        dim = int(np.prod(env.action_space.shape or (1,)))
        kwargs["action_noise"] = NormalActionNoise(np.zeros(dim), config["noise_std"] * np.ones(dim))
    tb = None
    if s.tensorboard_dir is not None and tb_name is not None:
        try:
            import tensorboard  # noqa: F401

            tb = str(Path(s.tensorboard_dir) / tb_name)
        except ImportError:
            notes.append("tensorboard not installed: no TensorBoard logs")
    cls = getattr(sb3, s.algo.upper())
    model = cls("MlpPolicy", env, seed=seed, device="cpu", verbose=0, tensorboard_log=tb, **kwargs)
    return model, notes


class NormalisedPolicy:
    """A model trained on ``VecNormalize``d observations, acting on raw ones: ``predict``
    normalises them first with the training statistics as they stand (never updating them)."""

    def __init__(self, model: Any, norm: Any) -> None:
        self.model, self.norm = model, norm

    def predict(self, obs: Any, deterministic: bool = True) -> Any:
        return self.model.predict(self.norm.normalize_obs(obs), deterministic=deterministic)


def acting(model: Any) -> Any:
    """What acts in a raw evaluation env: ``model``, or :class:`NormalisedPolicy` when it trains
    on a ``VecNormalize``d env."""
    from stable_baselines3.common.vec_env import unwrap_vec_normalize

    norm = unwrap_vec_normalize(model.get_env())
    return model if norm is None else NormalisedPolicy(model, norm)


def evaluate(model: Any, env: Any, seeds: list[int]) -> list[float]:
    """Undiscounted returns of the deterministic policy, one episode per seed (``model`` acts on
    raw observations: see :func:`acting`)."""
    out = []
    for sd in seeds:
        obs, _ = env.reset(seed=sd)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, r, term, trunc, _ = env.step(action)
            total += float(r)
            done = bool(term or trunc)
        out.append(total)
    return out


SCHEDULABLE: dict[str, tuple[str, ...]] = {
    "ppo": ("learning_rate", "one_minus_gamma", "gae_lambda", "clip_range", "ent_coef", "vf_coef",
            "max_grad_norm"),
    "a2c": ("learning_rate", "one_minus_gamma", "gae_lambda", "ent_coef", "vf_coef",
            "max_grad_norm"),
    "dqn": ("learning_rate", "one_minus_gamma", "exploration_fraction", "exploration_final_eps"),
    "sac": ("learning_rate", "one_minus_gamma", "tau"),
    "td3": ("learning_rate", "one_minus_gamma", "tau", "noise_std"),
}
"""Parameters a config may schedule (``hyperpilot.schedule``, budget in environment steps).
SAC's ``log_std_init`` only initialises the policy: give ``pbt`` a ``mutable`` list without it."""


def apply_values(model: Any, cfg: Config) -> None:
    """Set the scheduled parameters of the plain config ``cfg`` on a built SB3 model.

    The learning rate goes in through ``lr_schedule`` (SB3 writes it into the optimizer's
    parameter groups at each update), the clip range as a constant schedule, the discount and
    GAE lambda on the model and its rollout buffer, the rest as attributes.
    """
    from stable_baselines3.common.utils import FloatSchedule

    model.learning_rate = float(cfg["learning_rate"])
    model.lr_schedule = FloatSchedule(model.learning_rate)
    model.gamma = 1.0 - float(cfg["one_minus_gamma"])
    buf = getattr(model, "rollout_buffer", None)
    if buf is not None:
        buf.gamma = model.gamma
    if "gae_lambda" in cfg:
        model.gae_lambda = float(cfg["gae_lambda"])
        if buf is not None:
            buf.gae_lambda = model.gae_lambda
    if "clip_range" in cfg:
        model.clip_range = FloatSchedule(float(cfg["clip_range"]))
    for k in ("ent_coef", "vf_coef", "max_grad_norm", "tau"):
        if k in cfg:
            setattr(model, k, float(cfg[k]))
    if "exploration_fraction" in cfg:  # DQN's epsilon: the same linear decay, new end points
        from stable_baselines3.common.utils import LinearSchedule

        model.exploration_fraction = float(cfg["exploration_fraction"])
        model.exploration_final_eps = float(cfg["exploration_final_eps"])
        model.exploration_schedule = LinearSchedule(
            model.exploration_initial_eps, model.exploration_final_eps, model.exploration_fraction)
    if "noise_std" in cfg and getattr(model, "action_noise", None) is not None:  # TD3
        noise = model.action_noise
        noise._sigma = float(cfg["noise_std"]) * np.ones_like(noise._sigma)


class _SeedRun:
    """One model, its evaluation env and its RNG states.

    ``config`` may hold schedules of ``SCHEDULABLE[algo]``: training is split at their change
    points and the values in force are set before each piece (:func:`apply_values`); PPO and A2C
    collect whole rollouts, so a change takes effect at the first rollout that starts at or
    after its budget.
    """

    def __init__(self, s: SB3Settings, config: Config, seed: int, tb_name: str | None) -> None:
        import gymnasium as gym

        try:
            refuse_unscheduled(config, SCHEDULABLE[s.algo], f"SB3 {s.algo}")
        except ScheduleError as e:
            raise InvalidConfig(str(e)) from None
        self.s, self.seed, self.config = s, seed, config
        self.scheduled = any(is_schedule(v) for v in config.values())
        self.rng: dict[str, Any] = {}
        self.eval_env = gym.make(s.env_id)
        n = max(s.eval_episodes, s.final_eval_episodes or 0)
        self.eval_seeds = [EVAL_SEED_START + 1000 * seed + j for j in range(n)]
        with _rng_scope(self.rng):
            self.model, self.notes = build_model(s, config_at(config, 0.0), seed, tb_name)

    @property
    def steps(self) -> int:
        return int(self.model.num_timesteps)

    def learn_to(self, target: int) -> None:
        if self.steps >= target:
            return
        with _rng_scope(self.rng):
            while self.steps < target:
                cuts = change_points(self.config, self.steps, target) if self.scheduled else []
                end = int(math.ceil(cuts[0])) if cuts else target
                if self.scheduled:
                    apply_values(self.model, config_at(self.config, self.steps))
                self.model.learn(end - self.steps, callback=_pin_total(self.s.max_steps),
                                 reset_num_timesteps=False, tb_log_name=f"seed{self.seed}")

    def evaluate(self, episodes: int | None = None) -> float:
        """Mean return over the first ``episodes`` evaluation seeds (default ``eval_episodes``)."""
        seeds = self.eval_seeds[: episodes or self.s.eval_episodes]
        with _rng_scope(self.rng):
            return float(np.mean(evaluate(acting(self.model), self.eval_env, seeds)))

    def save(self, d: Path) -> None:
        d.mkdir(parents=True, exist_ok=True)
        self.model.save(d / "model.zip")
        if hasattr(self.model, "replay_buffer") and self.model.replay_buffer is not None:
            self.model.save_replay_buffer(d / "replay_buffer.pkl")
        from stable_baselines3.common.vec_env import VecNormalize

        venv = self.model.get_env()
        norm = venv if isinstance(venv, VecNormalize) else None
        inner = venv.venv if norm is not None else venv
        env_blob: bytes | None = None
        if pickles_mid_episode(inner):
            try:
                env_blob = pickle.dumps(inner)
            except (pickle.PicklingError, TypeError, AttributeError) as e:
                log.warning("training env of %s does not pickle (%s): resume resets it",
                            self.s.env_id, e)
        # VecNormalize pickles its statistics without its env and its running returns
        norm_state = None if norm is None else {"norm": pickle.dumps(norm),
                                                "returns": norm.returns.copy()}
        with open(d / "state.pkl", "wb") as f:
            pickle.dump({"rng": self.rng, "env": env_blob, "normalize": norm_state}, f)

    def load(self, d: Path) -> None:
        for name in ("model.zip", "state.pkl"):
            if not (d / name).exists():
                raise FileNotFoundError(d / name)
        with open(d / "state.pkl", "rb") as f:
            state = pickle.load(f)  # our own file, written by save()
        fresh = self.model.get_env()
        norm_state = state.get("normalize")
        if norm_state is None:
            env = pickle.loads(state["env"]) if state["env"] is not None else fresh
        else:
            env = pickle.loads(norm_state["norm"])
            env.set_venv(pickle.loads(state["env"]) if state["env"] is not None else fresh.venv)
            env.returns = norm_state["returns"]  # set_venv zeroes them
        cls = type(self.model)
        with _rng_scope({}):  # load() reseeds the global generators; keep the caller's
            self.model = cls.load(d / "model.zip", env=env, device="cpu",
                                  force_reset=state["env"] is None)
        if (d / "replay_buffer.pkl").exists():
            self.model.load_replay_buffer(d / "replay_buffer.pkl")
        self.rng = state["rng"]


def pickles_mid_episode(venv: Any) -> bool:
    """Whether pickling the vectorised env ``venv`` keeps its envs mid-episode.

    gymnasium's ``EzPickle`` envs (Box2D, MuJoCo) pickle their constructor's arguments, not their
    state: unpickled, they have never been reset, and stepping them fails (LunarLander asserts
    ``self.lander is not None``). Their checkpoints store no env, so a resume resets it.
    """
    from gymnasium.utils import EzPickle

    return not any(isinstance(u, EzPickle) for u in venv.get_attr("unwrapped"))


class SB3Run(CheckpointableObjective):
    """``n_seeds`` models of one config trained in lock step, evaluated every ``eval_every`` steps."""

    def __init__(self, s: SB3Settings, config: Config, seeds: list[int], tb_name: str | None) -> None:
        super().__init__()
        self.s = s
        self.runs = [_SeedRun(s, config, sd, tb_name) for sd in seeds]
        self.returns: list[list[float]] = []  # per evaluation, per seed
        self.notes = self.runs[0].notes

    def train_to(self, budget: float, report: Callable[[float, float], bool]) -> bool:
        target = int(budget)
        while min(r.steps for r in self.runs) < target:
            nxt = min((min(r.steps for r in self.runs) // self.s.eval_every + 1) * self.s.eval_every,
                      target)
            for r in self.runs:
                r.learn_to(nxt)
            final = nxt > target - self.s.last_k * self.s.eval_every  # one the value averages
            per_seed = [r.evaluate(self.s.final_eval_episodes if final else None)
                        for r in self.runs]
            self.returns.append(per_seed)
            self.trained = float(np.mean([r.steps for r in self.runs]))
            self.curve.append((self.trained, -float(np.mean(per_seed))))
            if report(*self.curve[-1]):
                return True
        return False

    def value(self) -> float:
        return curve_value(self.curve, self.s.value, self.s.last_k)

    def info(self) -> dict[str, Any]:
        return {"repairs": list(self.notes), "env_steps": self.trained,
                "exact_resume": pickles_mid_episode(self.runs[0].model.get_env()),
                "train_seeds": [r.seed for r in self.runs],
                "last_returns_per_seed": self.returns[-1] if self.returns else []}

    def checkpoint(self, path: Path) -> None:
        for i, r in enumerate(self.runs):
            r.save(path / f"seed{i}")
        with open(path / "curve.pkl", "wb") as f:
            pickle.dump({"curve": self.curve, "returns": self.returns, "trained": self.trained}, f)

    def restore(self, path: Path) -> None:
        if not (path / "curve.pkl").exists():
            raise FileNotFoundError(path / "curve.pkl")
        for i, r in enumerate(self.runs):
            r.load(path / f"seed{i}")
        with open(path / "curve.pkl", "rb") as f:
            d = pickle.load(f)  # our own file, written by checkpoint()
        self.curve, self.returns, self.trained = d["curve"], d["returns"], d["trained"]


def train_seeds(seed: int, n: int) -> list[int]:
    """``n`` distinct training seeds in ``[0, TRAIN_SEED_SPAN)`` derived from a trial's seed."""
    rng = np.random.default_rng(seed)
    return [int(x) for x in rng.choice(TRAIN_SEED_SPAN, size=n, replace=False)]


def _check(algo: str, env_id: str) -> None:
    if algo not in ALGOS:
        raise ValueError(f"unknown algo {algo!r}; choose one of {', '.join(ALGOS)}")
    import gymnasium as gym

    if env_id not in gym.registry:
        raise ValueError(f"unknown env {env_id!r}; tested: {', '.join(ENVS)}")
    space = gym.spec(env_id)
    env = gym.make(space.id)
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    env.close()
    if algo == "dqn" and not discrete:
        raise ValueError(f"dqn needs discrete actions and {env_id} is continuous; use ppo, a2c, sac or td3")
    if algo in ("sac", "td3") and discrete:
        raise ValueError(f"{algo} needs continuous actions and {env_id} is discrete; use ppo, a2c or dqn")


def sb3_workload(algo: str, env_id: str, min_steps: int, max_steps: int, eta: float = 3,
                 n_seeds: int = 1, eval_every: int | None = None, eval_episodes: int = 10,
                 last_k: int = 3, value: str = "last", repair: bool = True,
                 tensorboard_dir: str | None = None,
                 final_eval_episodes: int | None = None,
                 max_rollout: int | None = None, normalize: str = "off") -> Workload:
    """A workload tuning ``algo`` on ``env_id`` between ``min_steps`` and ``max_steps`` env steps.

    Args:
        eval_every: steps between evaluations; None -> ``max(min_steps // 2, 1000)``.
        value: ``"last"`` (mean of last ``last_k`` evaluations) or ``"auc"``; returns are negated.
        final_eval_episodes: episodes of the last ``last_k`` evaluations (``SB3Settings``).
        max_rollout: cut the space's ``n_steps`` so that no PPO/A2C rollout (``n_envs x
            n_steps``) is longer than this many steps (``sb3_spaces.cap_rollout``): a run asked
            to stop at a budget passes it by at most one rollout, and PBT's ready interval must
            be at least the longest one. None keeps the full space.
        normalize: ``"off"``, ``"on"`` or ``"tune"`` (``SB3Settings.normalize``).

    Raises:
        ValueError: for an unknown algo or env, an algo that cannot act in the env, a
            ``max_rollout`` that leaves no ``n_steps`` value, or an unknown ``normalize``.
    """
    algo = algo.lower()
    _check(algo, env_id)
    if value not in ("last", "auc"):
        raise ValueError(f"unknown value {value!r}; choose 'last' or 'auc'")
    every = eval_every if eval_every is not None else max(int(min_steps) // 2, 1000)
    if final_eval_episodes is not None and not 1 <= final_eval_episodes <= 1000:
        raise ValueError(f"final_eval_episodes must be in [1, 1000], got {final_eval_episodes}")
    s = SB3Settings(algo, env_id, int(max_steps), int(every), eval_episodes, last_k, value,
                    n_seeds, repair, tensorboard_dir, final_eval_episodes, _normalize(normalize))
    space = sb3_space(algo, normalize)
    if max_rollout is not None:
        if isinstance(max_rollout, bool) or not isinstance(max_rollout, int) or max_rollout < 1:
            raise ValueError(f"max_rollout must be a positive integer, got {max_rollout!r}")
        space = sb3_spaces.cap_rollout(space, max_rollout)

    def make(config: Config, context: Context) -> SB3Run:
        import torch

        torch.set_num_threads(1)
        cfg = space.validate(config)
        tb = f"config{context.trial.config_id}"
        return SB3Run(s, cfg, train_seeds(context.seed, n_seeds), tb)

    return Workload(name=f"sb3:{algo}:{env_id}", space=space,
                    fidelity=Fidelity(min=float(min_steps), max=float(max_steps), eta=float(eta)),
                    objective=ResumableObjective(make, overshoot=float(max(
                        sb3_spaces.largest_rollout(space) - 1, 0))), direction="minimize",
                    info={"fidelity_unit": "environment steps", "value": f"-mean return ({value})",
                          "settings": s.__dict__})


def _recorded_seeds(progress: Path, key: str) -> dict[int, tuple[float, list[tuple[int, float]]]]:
    """Seeds that ``progress`` holds under ``key``: ``{seed: (return, curve)}``; a torn last
    line (a kill while writing) is ignored."""
    out: dict[int, tuple[float, list[tuple[int, float]]]] = {}
    if not progress.exists():
        return out
    for line in progress.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("key") == key:
            out[int(rec["seed"])] = (float(rec["return"]),
                                     [(int(b), float(v)) for b, v in rec["curve"]])
    return out


def _normalize(normalize: str) -> str:
    if normalize not in NORMALIZE:
        raise ValueError(f"unknown normalize {normalize!r}; choose one of {', '.join(NORMALIZE)}")
    return normalize


def sb3_space(algo: str, normalize: str = "off") -> SearchSpace:
    """The search space of ``algo``, with the ``normalize`` parameter when it is tuned."""
    space = sb3_spaces.SPACES[algo]()
    return sb3_spaces.with_normalize(space) if _normalize(normalize) == "tune" else space


def _test_seed(s: SB3Settings, cfg: Config, seed: int, marks: list[int],
               steps: int) -> tuple[float, list[tuple[int, float]]]:
    """Train ``cfg`` from scratch on test seed ``seed`` to ``steps`` env steps, evaluating at each
    of ``marks`` and at the end: ``(final mean return, [(env steps, mean return), ...])``.

    Module-level, so that a process pool can run it (threads: ``test_config`` limits its own,
    ``_test_worker`` a pool worker's).
    """
    run = _SeedRun(s, cfg, seed, None)
    curve = []
    for m in marks:
        run.learn_to(m)
        curve.append((run.steps, run.evaluate()))
    run.learn_to(int(steps))
    final = run.evaluate()
    return final, curve + [(run.steps, final)]


def _test_worker(parent: int) -> None:
    """Process-pool initializer of a test worker: one thread (FACTS.md), and it exits when the
    test process ``parent`` dies, so a killed test leaves no orphan training on the cores."""
    from hyperpilot.executor import exit_with_parent, limit_threads

    limit_threads()
    exit_with_parent(parent)


def test_config(algo: str, env: str, config: Config, steps: int, test_seeds: list[int] | None = None,
                n_episodes: int = 10, eval_every: int | None = None,
                progress: Path | None = None, normalize: str = "off",
                workers: int = 1) -> dict[str, Any]:
    """Retrain ``config`` from scratch on fresh seeds and report evaluation returns (not negated).

    Args:
        test_seeds: training seeds, all ``>= TEST_SEED_START``; None -> 10 seeds from 10_000.
        n_episodes: deterministic evaluation episodes per seed, on seeds disjoint from training.
        eval_every: also evaluate every this many env steps and return each seed's learning
            curve (for steps-to-threshold); None evaluates once, at ``steps``. Evaluation does
            not touch the training RNG, so the final return is the same either way.
        progress: a JSON-lines file that records each finished seed (with the settings that
            produced it); a rerun after a kill reads the seeds recorded under the same settings
            and trains only the others. Each seed's run is independent of the others, so the
            result is the same as one uninterrupted run. None: nothing is recorded.
        normalize: the study's ``normalize`` setting (``SB3Settings.normalize``).
        workers: train this many test seeds at once, each in its own process (``spawn``, one
            thread, gone with this process). Seeds are independent, so the result is the same
            for any ``workers``; ``progress`` is written by this process as each seed finishes.

    Returns:
        ``{"mean": ..., "std": ..., "per_seed": {seed: mean return at steps}}`` over seeds, plus
        ``"curves": {seed: [(env steps, mean return), ...]}`` when ``eval_every`` is given.
    """
    import torch

    torch.set_num_threads(1)
    algo = algo.lower()
    _check(algo, env)
    seeds = list(range(TEST_SEED_START, TEST_SEED_START + 10)) if test_seeds is None else test_seeds
    if any(sd < TEST_SEED_START for sd in seeds):
        raise ValueError(f"test seeds must be >= {TEST_SEED_START} (tuning uses [0, {TRAIN_SEED_SPAN}))")
    s = SB3Settings(algo, env, int(steps), int(steps), n_episodes, normalize=_normalize(normalize))
    cfg = sb3_space(algo, normalize).validate(config)
    if eval_every is not None and eval_every < 1:
        raise ValueError(f"eval_every must be >= 1 env step, got {eval_every}")
    marks = list(range(eval_every, int(steps), eval_every)) if eval_every else []
    key = json.dumps({"algo": algo, "env": env, "config": cfg, "steps": int(steps),
                      "n_episodes": n_episodes, "eval_every": eval_every,
                      **({"normalize": normalize} if normalize != "off" else {})},
                     sort_keys=True, default=str)  # "off" keeps the key of older records
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    done = _recorded_seeds(progress, key) if progress is not None else {}
    found: dict[int, tuple[float, list[tuple[int, float]]]] = {}

    def record(sd: int, result: tuple[float, list[tuple[int, float]]]) -> None:
        found[sd] = result
        if progress is not None:
            with open(progress, "a") as f:
                f.write(json.dumps({"key": key, "seed": sd, "return": result[0],
                                    "curve": result[1]}) + "\n")
                f.flush()
                os.fsync(f.fileno())

    todo = [sd for sd in seeds if sd not in done]
    if workers > 1 and len(todo) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=mp.get_context("spawn"),
                                 initializer=_test_worker, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(_test_seed, s, cfg, sd, marks, int(steps)): sd for sd in todo}
            for fut in as_completed(futures):
                record(futures[fut], fut.result())
    else:
        for sd in todo:
            record(sd, _test_seed(s, cfg, sd, marks, int(steps)))
    per_seed, curves = {}, {}
    for sd in seeds:  # in seed order, whichever finished first
        per_seed[sd], curves[sd] = done[sd] if sd in done else found[sd]
    vals = np.array(list(per_seed.values()))
    out = {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
           "per_seed": per_seed}
    if eval_every:
        out["curves"] = curves
    return out
