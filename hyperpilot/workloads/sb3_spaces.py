"""Search spaces for Stable-Baselines3 algorithms and their translation to SB3 keyword arguments.

Ranges follow rl-baselines3-zoo's ``hyperparams_opt.py`` samplers and the SB3 spaces of Eimer et
al. (ICML 2023, ``how_to_autorl``) in ``shared/data/search_spaces``; departures are noted per
space. Conventions from rl-zoo: the discount is searched as ``one_minus_gamma`` on a log scale
(gamma in [0.9, 0.9999]), networks as named sizes (``net_arch``), DQN's gradient steps as
``train_freq // subsample_steps`` (at most one update per environment step) and SAC/TD3's as
``train_freq``.

No parameter here touches an environment: ``to_sb3_kwargs`` turns a config into constructor
arguments, repairing or rejecting combinations SB3 cannot run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperpilot.space import Categorical, Config, Float, Int, SearchSpace
from hyperpilot.workloads.base import InvalidConfig

NET_ARCH: dict[str, list[int]] = {"tiny": [64], "small": [64, 64], "medium": [256, 256],
                                  "big": [400, 300]}
ACTIVATIONS = ("tanh", "relu")


def _common(lr_low: float = 1e-5, lr_high: float = 1e-2) -> dict[str, Any]:
    # rl-zoo samples lr in [1e-5, 1]; how_to_autorl in [1e-6, 1e-2]. [1e-5, 1e-2] keeps both's useful part.
    return {"learning_rate": Float(lr_low, lr_high, log=True),
            "one_minus_gamma": Float(1e-4, 0.1, log=True)}


def ppo_space() -> SearchSpace:
    """PPO: rl-zoo's sampler; batch 16 dropped (14-minute trials here), n_epochs as an integer."""
    return SearchSpace({
        **_common(),
        "n_envs": Categorical([1, 4, 8, 16]),
        "n_steps": Categorical([16, 32, 64, 128, 256, 512, 1024, 2048]),
        "batch_size": Categorical([32, 64, 128, 256, 512]),
        "n_epochs": Int(3, 20),
        "gae_lambda": Float(0.8, 0.9999),
        "clip_range": Float(0.05, 0.5),
        "ent_coef": Float(1e-8, 0.1, log=True),
        "vf_coef": Float(0.0, 1.0),
        "max_grad_norm": Float(0.3, 5.0, log=True),
        "net_arch": Categorical(["tiny", "small", "medium"]),
        "activation": Categorical(list(ACTIVATIONS)),
    })


def a2c_space() -> SearchSpace:
    """A2C: rl-zoo's sampler (n_steps as a log-integer instead of a list, ortho_init left on)."""
    return SearchSpace({
        **_common(),
        "n_envs": Categorical([1, 4, 8, 16]),
        "n_steps": Int(4, 256, log=True),
        "gae_lambda": Float(0.8, 1.0),
        "ent_coef": Float(1e-8, 0.1, log=True),
        "vf_coef": Float(0.0, 1.0),
        "max_grad_norm": Float(0.3, 5.0, log=True),
        "use_rms_prop": Categorical([True, False]),
        "normalize_advantage": Categorical([False, True]),
        "net_arch": Categorical(["tiny", "small", "medium"]),
        "activation": Categorical(list(ACTIVATIONS)),
    })


def dqn_space() -> SearchSpace:
    """DQN: rl-zoo's sampler; learning_starts as in how_to_autorl but capped at 5k steps."""
    return SearchSpace({
        **_common(),
        "batch_size": Categorical([16, 32, 64, 128, 256]),
        "buffer_size": Categorical([10_000, 50_000, 100_000, 1_000_000]),
        "learning_starts": Int(0, 5_000),
        "exploration_fraction": Float(0.005, 0.5),
        "exploration_final_eps": Float(0.0, 0.2),
        "target_update_interval": Int(1, 20_000, log=True),
        "train_freq": Int(1, 256, log=True),
        "subsample_steps": Categorical([1, 2, 4, 8]),
        "net_arch": Categorical(["tiny", "small", "medium"]),
    })


def sac_space() -> SearchSpace:
    """SAC: rl-zoo's sampler (ent_coef 'auto'); train_freq capped at 64, log_std_init kept."""
    return SearchSpace({
        **_common(),
        "batch_size": Categorical([64, 128, 256, 512]),
        "buffer_size": Categorical([10_000, 100_000, 1_000_000]),
        "learning_starts": Int(10, 10_000, log=True),
        "tau": Float(0.001, 0.1, log=True),
        "train_freq": Int(1, 64, log=True),
        "log_std_init": Float(-4.0, 1.0),
        "net_arch": Categorical(["small", "medium", "big"]),
    })


def td3_space() -> SearchSpace:
    """TD3: rl-zoo's sampler with Gaussian action noise only."""
    return SearchSpace({
        **_common(),
        "batch_size": Categorical([64, 128, 256, 512]),
        "buffer_size": Categorical([10_000, 100_000, 1_000_000]),
        "learning_starts": Int(10, 10_000, log=True),
        "tau": Float(0.001, 0.1, log=True),
        "train_freq": Int(1, 64, log=True),
        "noise_std": Float(0.05, 0.8),
        "net_arch": Categorical(["small", "medium", "big"]),
    })


SPACES: dict[str, Callable[[], SearchSpace]] = {
    "ppo": ppo_space, "a2c": a2c_space, "dqn": dqn_space, "sac": sac_space, "td3": td3_space,
}
ON_POLICY = ("ppo", "a2c")


def largest_rollout(space: SearchSpace) -> int:
    """The most environment steps an on-policy config of ``space`` collects between two updates
    (``max n_envs x max n_steps``); 1 for a space without ``n_steps`` (off-policy algorithms
    update every ``train_freq`` steps, which ``learn`` does not overshoot by more than that)."""
    if "n_steps" not in space.params:
        return 1
    return _top(space, "n_envs", 1) * _top(space, "n_steps", 1)


def cap_rollout(space: SearchSpace, max_rollout: int) -> SearchSpace:
    """``space`` with the ``n_steps`` choices (or upper bound) cut so that no config collects more
    than ``max_rollout`` steps per rollout (``n_envs`` keeps its choices).

    PPO and A2C train in whole rollouts of ``n_envs x n_steps`` steps, so a run asked to stop at
    a budget can pass it by up to one rollout. A method that hands a run over at fixed budgets
    (PBT's ready interval) needs rollouts no longer than its interval.

    Raises:
        ValueError: when ``max_rollout`` leaves no ``n_steps`` value with the largest ``n_envs``.
    """
    if "n_steps" not in space.params:
        return space
    envs = _top(space, "n_envs", 1)
    cap = int(max_rollout) // envs
    p = space.params["n_steps"]
    if isinstance(p, Categorical):
        kept = [c for c in p.choices if int(c) <= cap]  # type: ignore[call-overload]
        if not kept:
            raise ValueError(f"max_rollout={max_rollout} leaves no n_steps choice of {list(p.choices)} "
                             f"with n_envs={envs} (needs at least {envs * min(map(int, p.choices))})")  # type: ignore[arg-type]
        new: Categorical | Int = Categorical(kept)
    elif isinstance(p, Int):
        if cap < p.low:
            raise ValueError(f"max_rollout={max_rollout} is below n_envs={envs} x n_steps={p.low}")
        new = Int(p.low, min(p.high, cap), log=p.log) if cap > p.low else Categorical([p.low])
    else:
        raise TypeError(f"n_steps must be a Categorical or an Int, got {p!r}")
    return SearchSpace({k: (new if k == "n_steps" else v) for k, v in space.params.items()},
                       space.conditions)


NORMALIZE_PARAM = "normalize"
"""The parameter :func:`with_normalize` adds: train on ``VecNormalize``d observations and rewards."""


def with_normalize(space: SearchSpace) -> SearchSpace:
    """``space`` plus ``normalize`` in {False, True}: whether the agent trains on observations and
    rewards normalised by running statistics (SB3's ``VecNormalize``; rl-zoo sets it per task,
    e.g. for Acrobot, and it is not part of its samplers)."""
    if NORMALIZE_PARAM in space.params:
        raise ValueError(f"the space already has a {NORMALIZE_PARAM!r} parameter")
    return SearchSpace({**space.params, NORMALIZE_PARAM: Categorical([False, True])},
                       space.conditions)


def _top(space: SearchSpace, name: str, default: int) -> int:
    """The largest value of the integer parameter ``name`` (``default`` when absent)."""
    p = space.params.get(name)
    if p is None:
        return default
    if isinstance(p, Categorical):
        return max(int(c) for c in p.choices)  # type: ignore[call-overload]
    if isinstance(p, Int):
        return p.high
    raise TypeError(f"{name} must be a Categorical or an Int, got {p!r}")


def largest_divisor_at_most(n: int, k: int) -> int:
    """The largest divisor of ``n`` that is ``<= k`` (at least 1)."""
    for d in range(min(n, k), 0, -1):
        if n % d == 0:
            return d
    return 1


def to_sb3_kwargs(algo: str, config: Config, max_steps: int, repair: bool = True
                  ) -> tuple[dict[str, Any], int, list[str]]:
    """Translate a config into SB3 constructor kwargs.

    Args:
        algo: one of ``SPACES``.
        config: a config of ``SPACES[algo]()`` (validated by the caller).
        max_steps: the full-fidelity budget in environment steps; buffers are capped at it.
        repair: fix invalid combinations (PPO batch_size > n_steps * n_envs) instead of raising.

    Returns:
        ``(kwargs, n_envs, notes)``; notes say what was repaired.

    Raises:
        InvalidConfig: with the reason, for an invalid combination when ``repair`` is False.
    """
    c = dict(config)
    notes: list[str] = []
    kw: dict[str, Any] = {"learning_rate": c.pop("learning_rate"),
                          "gamma": 1.0 - c.pop("one_minus_gamma")}
    n_envs = int(c.pop("n_envs", 1))
    policy_kwargs: dict[str, Any] = {"net_arch": list(NET_ARCH[c.pop("net_arch")])}
    act = c.pop("activation", None)
    if act is not None:
        import torch.nn as nn

        policy_kwargs["activation_fn"] = {"tanh": nn.Tanh, "relu": nn.ReLU}[act]
    if algo == "ppo":
        rollout = int(c["n_steps"]) * n_envs
        if int(c["batch_size"]) > rollout or rollout % int(c["batch_size"]):
            if not repair:
                raise InvalidConfig(f"batch_size={c['batch_size']} must divide n_steps*n_envs="
                                    f"{c['n_steps']}*{n_envs}={rollout}")
            fixed = largest_divisor_at_most(rollout, int(c["batch_size"]))
            notes.append(f"batch_size {c['batch_size']} -> {fixed} (n_steps*n_envs={rollout})")
            c["batch_size"] = fixed
    if algo == "dqn":
        c["gradient_steps"] = max(int(c["train_freq"]) // int(c.pop("subsample_steps")), 1)
    if algo in ("sac", "td3"):
        c["gradient_steps"] = int(c["train_freq"])
    if algo == "sac":
        policy_kwargs["log_std_init"] = c.pop("log_std_init")
    if algo == "td3":
        c.pop("noise_std")  # needs the action space: made by the caller (see action_noise)
    if "buffer_size" in c and int(c["buffer_size"]) > max_steps:
        notes.append(f"buffer_size {c['buffer_size']} -> {max_steps} (max_steps)")
        c["buffer_size"] = int(max_steps)
    kw.update(c)
    kw["policy_kwargs"] = policy_kwargs
    return kw, n_envs, notes
