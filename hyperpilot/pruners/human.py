"""``HumanPruner``: a person decides, in the dashboard, with a timeout to the default rule.

When the default rule would stop a run (or at each of its checks, ``ask="every"``), the pruner
writes a request into the study's store (``Storage.add_request``: the trial, the budget, what
the rule proposes and why, and the text digest) and waits. ``python -m hyperpilot dashboard
STORE --allow-actions`` shows open requests; a person answers *stop*, *continue* or *promote*
(continue, and never ask about this run again), which :func:`answer` records through the same
``Storage`` API. Without an answer within ``timeout`` seconds the default rule's decision
stands, and the request is closed as ``timeout``. The worker running the trial and the
dashboard must see the same store file (one machine, or a shared file system).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from hyperpilot.pruners.base import ACTIONS, CurveView, Decision, Pruner
from hyperpilot.pruners.digest import digest


def answer(store: str | Path, request_id: int, action: str, reason: str = "") -> bool:
    """Answer an open request; False for an unknown, forged or already answered id.

    Raises:
        ValueError: for an action that is not ``stop``, ``continue`` or ``promote``.
    """
    from hyperpilot.storage import Storage

    if action not in ACTIONS:
        raise ValueError(f"an answer must be one of {ACTIONS}, got {action!r}")
    st = Storage(store)
    try:
        return st.answer_request(int(request_id), action, reason[:500])
    finally:
        st.close()


class HumanPruner(Pruner):
    """Asks a person (see the module docstring).

    Args:
        store: the study's SQLite store (the dashboard's ``STORE``).
        study: the study's name in it.
        timeout: seconds to wait for an answer before the default rule's decision stands.
        default: the rule that proposes (None: ``CurveRule()``).
        ask: ``"stop"`` (only when the default rule would stop) or ``"every"``.
        poll: seconds between looks at the store while waiting.
    """

    name = "human"

    def __init__(self, store: str | Path, study: str = "default", timeout: float = 60.0,
                 default: Pruner | None = None, ask: Literal["stop", "every"] = "stop",
                 poll: float = 0.2) -> None:
        from hyperpilot.pruners.curve import CurveRule

        if timeout < 0 or poll <= 0 or ask not in ("stop", "every"):
            raise ValueError("need timeout >= 0, poll > 0 and ask in ('stop', 'every')")
        self.store, self.study, self.timeout, self.poll = Path(store), study, timeout, poll
        self.default = default if default is not None else CurveRule()
        self.ask = ask
        self.needs_incumbent = self.default.needs_incumbent
        self.needs_peers = self.default.needs_peers
        self._promoted: set[str] = set()

    def reset(self, run: str) -> None:
        self.default.reset(run)
        self._promoted.discard(run)

    def _decide(self, view: CurveView) -> Decision | None:
        if view.run in self._promoted:
            return None
        d = self.default.decide(view)
        if d is None or (self.ask == "stop" and not d.stop):
            return d
        got = self._wait(view, d)
        if got is None:
            return Decision(d.action, f"no answer within {self.timeout:g} s; {d.reason}",
                            f"{d.by} (human timeout)", d.budget, d.prob)
        action, why = got
        if action == "promote":
            self._promoted.add(view.run)
        return Decision(action, why or "a person decided", self.name, d.budget, d.prob)  # type: ignore[arg-type]

    def _wait(self, view: CurveView, d: Decision) -> tuple[str, str] | None:
        from hyperpilot.storage import Storage

        st = Storage(self.store)
        try:
            sid = next(s["study_id"] for s in st.studies() if s["name"] == self.study)
            rid = st.add_request(sid, -1 if view.trial_id is None else view.trial_id, d.budget,
                                 d.action, d.reason, digest(view, d.prob, d.action))
            end = time.monotonic() + self.timeout
            while True:
                req = next(r for r in st.requests(sid) if r["request_id"] == rid)
                if req["answer"] is not None:
                    return str(req["answer"]), str(req["answer_reason"] or "")
                if time.monotonic() >= end:
                    st.answer_request(rid, "timeout", "no answer in time")
                    return None
                time.sleep(self.poll)
        finally:
            st.close()
