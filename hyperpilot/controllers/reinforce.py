"""``reinforce-lrwd``: a learning-rate / weight-decay controller learned with REINFORCE.

Reward. After decision ``t`` (taken at the end of interval ``t``) the reward is the drop in log
validation loss over the next interval, ``r_t = log L_t - log L_{t+1}``. The undiscounted return
from ``t`` is then ``log L_t - log L_final``: maximising it minimises the final validation loss,
in a unitless form that serves tasks whose losses differ by orders of magnitude. Losses are
clipped to ``[1e-8, 10 * L_0]`` (``L_0``: the untrained network), so a diverged run (loss NaN or
inf; the run stops) scores as ten times worse than not training.

Update (Williams 1992). For a batch of episodes, with per-task, per-time moving-average baselines
``b_t`` (exponential, decay ``baseline_decay``; a task's first batch initialises it):
``loss = mean_episodes[ -mean_t(log pi(a_t|s_t) * (G_t - b_t)) - entropy_coef * mean_t H(pi(.|s_t)) ]``,
then the policy gradient is clipped to norm ``clip_norm`` and Adam takes one step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from hyperpilot.controllers.base import Controller, HParams, Trainable, run_episode
from hyperpilot.controllers.features import LRWDFeatures
from hyperpilot.controllers.policy import Policy, action_pair
from hyperpilot.controllers.tasks import Interval


@dataclass(frozen=True)
class LRWDBounds:
    """Where the controller may move: lr in ``[lr0 * lr_lo, lr0 * lr_hi]``, weight decay in
    ``[0, wd_max]`` by steps of ``wd_delta``."""

    lr_lo: float = 1 / 64
    lr_hi: float = 8.0
    wd_max: float = 5e-3
    wd_delta: float = 5e-4


class ReinforceController(Controller):
    """Acts with ``policy``: greedy (argmax, frozen) or sampled (training, keeps the graph).

    Args:
        policy: the 8 -> 9 policy.
        bounds: the lr / wd box.
        sample: sample actions with ``generator`` and record log-probabilities and entropies
            for a REINFORCE update; else take the most likely action under ``torch.no_grad``.
    """

    name = "reinforce-lrwd"

    def __init__(self, policy: Policy, bounds: LRWDBounds = LRWDBounds(), sample: bool = False,
                 generator: torch.Generator | None = None) -> None:
        self.policy, self.bounds, self.sample = policy, bounds, sample
        self.generator = generator

    def reset(self, start: HParams, n_intervals: int, first: Interval) -> None:
        super().reset(start, n_intervals, first)
        self.features = LRWDFeatures(start.lr, self.bounds.wd_max, n_intervals, first)
        self.log_probs: list[torch.Tensor] = []
        self.entropies: list[torch.Tensor] = []
        self.actions: list[int] = []
        self.l0 = first.val_loss
        self.losses: list[float] = []

    def _decide(self, iv: Interval) -> HParams:
        x = torch.as_tensor(self.features(iv, self.current.lr, self.current.weight_decay,
                                          self.t + 1))
        if self.sample:
            d = self.policy.dist(x)
            a = torch.multinomial(d.probs, 1, generator=self.generator)[0]
            self.log_probs.append(d.log_prob(a))
            self.entropies.append(d.entropy())
        else:
            with torch.no_grad():
                a = self.policy(x).argmax()
        self.actions.append(int(a))
        self.losses.append(iv.val_loss)
        factor, step = action_pair(int(a))
        b, lr0 = self.bounds, self.start.lr
        lr = min(max(self.current.lr * factor, lr0 * b.lr_lo), lr0 * b.lr_hi)
        wd = min(max(self.current.weight_decay + step * b.wd_delta, 0.0), b.wd_max)
        return replace(self.current, lr=lr, weight_decay=wd)

    def end(self, last: Interval) -> None:
        self.losses.append(last.val_loss)

    def rewards(self) -> np.ndarray:
        """``r_t = log L_t - log L_{t+1}`` per decision (clipped losses; see the module doc)."""
        cap = 10.0 * self.l0 if math.isfinite(self.l0) else 1e6
        lo = np.log(np.array([min(max(v, 1e-8), cap) if not math.isnan(v) else cap
                              for v in self.losses]))
        return lo[:-1] - lo[1:]


def returns_to_go(rewards: np.ndarray) -> np.ndarray:
    """Undiscounted ``G_t = sum_{s >= t} r_s`` (shape of ``rewards``)."""
    return np.cumsum(np.asarray(rewards, dtype=float)[::-1])[::-1].copy()


def reinforce_loss(log_probs: torch.Tensor, entropies: torch.Tensor, returns: torch.Tensor,
                   baseline: torch.Tensor, entropy_coef: float) -> torch.Tensor:
    """One episode's REINFORCE loss (all arguments length ``T``; see the module docstring)."""
    adv = (returns - baseline).detach()
    return -(log_probs * adv).mean() - entropy_coef * entropies.mean()


class MovingBaseline:
    """Per-key, per-time exponential moving averages of returns."""

    def __init__(self, decay: float) -> None:
        self.decay, self.values = decay, dict[str, np.ndarray]()

    def get(self, key: str, n: int) -> np.ndarray | None:
        """The first ``n`` times of ``key``'s baseline (``None`` before its first update)."""
        v = self.values.get(key)
        return None if v is None else v[:n]

    def update(self, key: str, returns: Sequence[np.ndarray], n: int) -> None:
        """Move each time's value towards the mean of the ``returns`` that reach it (episodes
        cut short by divergence are shorter); the first update sets it to that mean."""
        sums, counts = np.zeros(n), np.zeros(n)
        for g in returns:
            sums[:len(g)] += g
            counts[:len(g)] += 1
        old = self.values.get(key)
        mean = np.divide(sums, np.maximum(counts, 1))
        if old is None:
            self.values[key] = mean
        else:
            self.values[key] = np.where(counts > 0, self.decay * old + (1 - self.decay) * mean, old)


@dataclass(frozen=True)
class ReinforceSettings:
    """Training settings; ``episodes`` is the total number of runs, ``batch`` per update."""

    episodes: int = 200
    batch: int = 5
    policy_lr: float = 3e-3
    entropy_coef: float = 0.01
    baseline_decay: float = 0.8
    clip_norm: float = 1.0
    n_intervals: int = 20
    steps_per_interval: int = 15


def train_reinforce(make_loop: Callable[[str, int], Trainable], tasks: Sequence[str],
                    start: HParams, settings: ReinforceSettings = ReinforceSettings(),
                    bounds: LRWDBounds = LRWDBounds(), seed: int = 0,
                    on_update: Callable[[int, float], None] | None = None,
                    ) -> tuple[Policy, list[float]]:
    """Train a policy on runs ``make_loop(task, run_seed)`` cycling over ``tasks``.

    Run seeds are ``10**6 + seed * 10**4 + episode``, apart from any evaluation seed below 10**6.

    Returns:
        The trained policy and, per update, the batch's mean return ``log L_1 - log L_final``.
    """
    s = settings
    policy = Policy(seed=seed)
    opt = torch.optim.Adam(policy.parameters(), lr=s.policy_lr)
    gen = torch.Generator().manual_seed(seed)
    baseline = MovingBaseline(s.baseline_decay)
    history: list[float] = []
    n_dec = s.n_intervals - 1
    for u in range(math.ceil(s.episodes / s.batch)):
        eps = []
        for j in range(s.batch):
            k = u * s.batch + j
            task = tasks[k % len(tasks)]
            ctl = ReinforceController(policy, bounds, sample=True, generator=gen)
            run_episode(make_loop(task, 10**6 + seed * 10**4 + k), ctl, start, s.n_intervals,
                        s.steps_per_interval, task)
            eps.append((task, ctl, returns_to_go(ctl.rewards())))
        fresh = {t for t, _, _ in eps if baseline.get(t, 0) is None}
        for task in fresh:  # a task's first batch initialises its baseline
            baseline.update(task, [g for t, _, g in eps if t == task], n_dec)
        losses = []
        for task, ctl, g in eps:
            b = baseline.get(task, len(g))
            if not ctl.log_probs or b is None:
                continue  # diverged before its first decision: nothing to credit
            losses.append(reinforce_loss(torch.stack(ctl.log_probs), torch.stack(ctl.entropies),
                                         torch.as_tensor(g, dtype=torch.float32),
                                         torch.as_tensor(b, dtype=torch.float32), s.entropy_coef))
        opt.zero_grad()
        if losses:
            torch.stack(losses).mean().backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), s.clip_norm)
            opt.step()
        for task in {t for t, _, _ in eps} - fresh:
            baseline.update(task, [g for t, _, g in eps if t == task], n_dec)
        history.append(float(np.mean([g[0] if len(g) else 0.0 for _, _, g in eps])))
        if on_update is not None:
            on_update(u, history[-1])
    return policy, history
