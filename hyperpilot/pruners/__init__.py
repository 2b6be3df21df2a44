"""Pluggable stopping decisions (see ``hyperpilot.pruners.base``)."""

from __future__ import annotations

from hyperpilot.pruners.base import ACTIONS, Action, CurveView, Decision, Peer, Pruner
from hyperpilot.pruners.curve import CurveRule

__all__ = ["ACTIONS", "Action", "CurveRule", "CurveView", "Decision", "Peer", "Pruner"]
