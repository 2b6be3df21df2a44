"""Peer optimizers, each run by a thin adapter in its own multi-fidelity scheme (``peers`` extra).

``PEERS`` maps a bench method name to ``(package, factory)``; a peer is available when its
package imports. Peers are imported only when a cell runs them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from hyperpilot.bench.peers.base import PeerAdapter, PeerEvaluator, rung_budgets


def _optuna_hb() -> PeerAdapter:
    from hyperpilot.bench.peers.optuna_peer import OptunaAdapter

    return OptunaAdapter("hyperband")


def _optuna_median() -> PeerAdapter:
    from hyperpilot.bench.peers.optuna_peer import OptunaAdapter

    return OptunaAdapter("median")


def _optuna_hyperpilot() -> PeerAdapter:
    from hyperpilot.bench.peers.optuna_peer import OptunaAdapter

    return OptunaAdapter("hyperband", sampler="hyperpilot")


def _dehb() -> PeerAdapter:
    from hyperpilot.bench.peers.dehb_peer import DEHBAdapter

    return DEHBAdapter()


def _smac() -> PeerAdapter:
    from hyperpilot.bench.peers.smac_peer import SMACAdapter

    return SMACAdapter()


PEERS: dict[str, tuple[str, Callable[[], PeerAdapter]]] = {
    "optuna-tpe-hyperband": ("optuna", _optuna_hb),
    "optuna-tpe-median": ("optuna", _optuna_median),
    "optuna-hyperpilot-hyperband": ("optuna", _optuna_hyperpilot),  # our sampler in Optuna
    "dehb": ("dehb", _dehb),
    "smac-mf": ("smac", _smac),
}


def peer_available(name: str) -> bool:
    """True when ``name`` is a peer whose package can be imported."""
    return name in PEERS and importlib.util.find_spec(PEERS[name][0]) is not None


def make_peer(name: str) -> PeerAdapter:
    """Build the adapter for ``name``.

    Raises:
        KeyError: for an unknown peer; ImportError when its package is not installed.
    """
    if name not in PEERS:
        raise KeyError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    package, factory = PEERS[name]
    if importlib.util.find_spec(package) is None:
        raise ImportError(f"peer {name!r} needs the '{package}' package: pip install "
                          f"'hyperpilot[peers]'")
    return factory()


__all__ = ["PEERS", "PeerAdapter", "PeerEvaluator", "make_peer", "peer_available", "rung_budgets"]
