"""Pluggable stopping decisions (see ``hyperpilot.pruners.base``): ``CurveRule`` (ours),
``MedianRule`` (Optuna's), ``HumanPruner`` (a person, in the dashboard) and ``LLMPruner`` (a
language model, from a text digest). ``make_pruner`` builds one by name for the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hyperpilot.pruners.base import ACTIONS, Action, CurveView, Decision, Peer, Pruner
from hyperpilot.pruners.curve import CurveRule
from hyperpilot.pruners.human import HumanPruner, answer
from hyperpilot.pruners.llm import LLMPruner, ScriptedModel, parse_reply
from hyperpilot.pruners.median import MedianRule

PRUNERS = ("curve", "median", "human", "llm-scripted")
"""Names :func:`make_pruner` knows (``hyperpilot run --pruner NAME``)."""


def make_pruner(name: str, store: str | Path | None = None, study: str = "default",
                rule: Any = None, timeout: float = 60.0) -> Pruner:
    """A pruner by name: ``curve`` (``CurveRule(rule)``), ``median`` (``MedianRule()``),
    ``human`` (``HumanPruner`` on ``store``, deferring to the curve rule) or ``llm-scripted``
    (``LLMPruner(ScriptedModel())``).

    Raises:
        ValueError: for an unknown name, or ``human`` without a store.
    """
    if name == "curve":
        return CurveRule(rule)
    if name == "median":
        return MedianRule()
    if name == "human":
        if store is None:
            raise ValueError("the human pruner needs a --storage file the dashboard can open")
        return HumanPruner(store, study, timeout, CurveRule(rule))
    if name == "llm-scripted":
        return LLMPruner(ScriptedModel(), CurveRule(rule))
    raise ValueError(f"unknown pruner {name!r}; known: {', '.join(PRUNERS)}")


__all__ = ["ACTIONS", "Action", "CurveRule", "CurveView", "Decision", "HumanPruner",
           "LLMPruner", "MedianRule", "PRUNERS", "Peer", "Pruner", "ScriptedModel", "answer",
           "make_pruner", "parse_reply"]
