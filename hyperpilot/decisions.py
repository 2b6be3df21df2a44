"""Pruner decisions as a person reads them: ``show`` prints these lines, the dashboard a table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def decision_lines(decisions: Sequence[dict[str, Any]], last: int = 5) -> list[str]:
    """Counts by pruner and action, then the reasons of the ``last`` stops and a person's
    answers (rows of ``Storage.load_decisions``)."""
    if not decisions:
        return []
    counts = Counter((d["by"], d["action"]) for d in decisions)
    out = ["  decisions: " + ", ".join(f"{by} {action} {n}" for (by, action), n in
                                       sorted(counts.items()))]
    notable = [d for d in decisions if d["action"] != "continue" or d["by"] == "human"][-last:]
    for d in notable:
        out.append(f"    trial {d['trial_id']} at {d['budget']:g}: {d['action']} by {d['by']}: "
                   f"{d['reason']}")
    return out
