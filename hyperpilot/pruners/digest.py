"""A text digest of one run and its peers, for a language model (or a person) to judge.

It follows the design's questions: which run learns fastest, where this run started learning,
how it compares with the incumbent, and whether to stop it now. Numbers are in the study's own
units; "better" follows its direction. The last lines are machine-readable (``key: value``),
so a scripted reader (``llm.ScriptedModel``) and a test can parse them.
"""

from __future__ import annotations

import math

from hyperpilot.pruners.base import CurveView, Peer, Points

QUESTION = ("Should this run stop now? Answer with one line: 'STOP: <reason>' or "
            "'CONTINUE: <reason>'.")


def learning_speed(curve: Points, sign: float) -> float:
    """Improvement per unit of log budget over the curve (larger: learns faster; 0: flat)."""
    if len(curve) < 2:
        return 0.0
    (b0, v0), (b1, v1) = curve[0], curve[-1]
    span = math.log(b1 / b0) if b1 > b0 > 0 else 1.0
    return sign * (v1 - v0) / span


def learning_start(curve: Points, sign: float, share: float = 0.1) -> float | None:
    """The first budget where the run had gained ``share`` of its total gain (None: no gain)."""
    if len(curve) < 2:
        return None
    y0 = sign * curve[0][1]
    gain = max(sign * v for _, v in curve) - y0
    if gain <= 0:
        return None
    return next(b for b, v in curve if sign * v - y0 >= share * gain)


def _fmt(points: Points, k: int = 8) -> str:
    step = max(1, math.ceil(len(points) / k))
    kept = list(points[::step]) + ([points[-1]] if (len(points) - 1) % step else [])
    return ", ".join(f"{b:g}: {v:.4g}" for b, v in kept)


def digest(view: CurveView, prob: float | None = None, proposed: str | None = None) -> str:
    """The digest of ``view`` (see the module docstring).

    Args:
        view: the run and its peers.
        prob: the curve model's ``P(final beats the incumbent)``, if known.
        proposed: what the default rule would do (``"stop"``/``"continue"``), if known.
    """
    s = view.sign
    speeds = sorted(((learning_speed(p.curve, s), p.run) for p in view.peers if len(p.curve) > 1),
                    reverse=True)
    mine = learning_speed(view.curve, s)
    rank = 1 + sum(v > mine for v, _ in speeds)
    start = learning_start(view.curve, s)
    at = [v for p in view.peers if (v := _value_at(p, view.budget)) is not None]
    better = sum(s * v > s * view.curve[-1][1] for v in at)
    lines = [
        f"Study goal: {view.direction} the value; the target budget is {view.t_target:g}.",
        f"Run {view.run}, config {view.config}.",
        f"Its curve (budget: value): {_fmt(view.curve)}.",
        f"Incumbent (best final value so far): "
        f"{'none yet' if view.incumbent is None else f'{view.incumbent:.6g}'}.",
        (f"Fastest learners among {len(speeds)} finished runs: "
         + "; ".join(f"{r} ({v:.3g} per log-budget)" for v, r in speeds[:3]) + ".")
        if speeds else "No finished run to compare with yet.",
        f"This run learns at {mine:.3g} per log-budget (rank {rank} of {len(speeds) + 1}); "
        + (f"it started learning at budget {start:g}." if start is not None
           else "it has not improved yet."),
        f"At budget {view.budget:g}, {better} of {len(at)} finished runs were better than it.",
        f"budget: {view.budget:g}",
        f"value: {view.curve[-1][1]:.6g}",
        f"prob_beats_incumbent: {'unknown' if prob is None else f'{prob:.4g}'}",
        f"default_rule: {proposed or 'unknown'}",
        f"peers_better_here: {better}/{len(at)}",
        QUESTION,
    ]
    return "\n".join(lines)


def _value_at(peer: Peer, budget: float) -> float | None:
    from hyperpilot.pruners.median import value_at

    return value_at(peer, budget)


def fields(text: str) -> dict[str, str]:
    """The ``key: value`` lines of a digest (the machine-readable tail)."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(": ")
        if sep and k.replace("_", "").isalpha() and k.islower():
            out[k] = v.strip()
    return out
