"""An incremental, read-only view of one study in a store, for the dashboard.

The store is opened read-only (``Storage(read_only=True)``); each refresh reads only what is new:
trials asked or told since the last refresh (by their event numbers), and curve points and
decisions by ``rowid``. ``PRAGMA data_version`` tells, at the cost of one statement, whether
another connection committed anything at all, so an idle study costs nothing to watch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperpilot.storage import SEED_INDEX_KEY, Storage


@dataclass
class Row:
    """One trial as the dashboard shows it (values in the study's direction)."""

    trial_id: int
    config_id: int
    config: dict[str, Any]
    budget: float
    resume: float
    bracket: int | None
    rung: int | None
    info: dict[str, Any]
    status: str
    value: float | None = None
    reason: str | None = None
    asked_at: float = 0.0
    told_at: float | None = None
    tell_seq: int | None = None
    curve: list[tuple[float, float]] = field(default_factory=list)
    wall_time: float | None = None


_COLS = ("trial_id, config_id, config, budget, resume_budget, bracket, rung, info, status, value, "
         "reason, asked_at, told_at, ask_seq, tell_seq, wall_time")


class StudyCache:
    """Everything the dashboard knows about one study, brought up to date by :meth:`refresh`.

    Args:
        path: the SQLite store.
        study_id: the study inside it.
    """

    def __init__(self, path: Path, study_id: int) -> None:
        self.path, self.study_id = path, study_id
        st = Storage(path, read_only=True)
        try:
            row = next(s for s in st.studies() if s["study_id"] == study_id)
        finally:
            st.close()
        self._st: Storage | None = None  # opened by the thread that refreshes (the server's)
        self.name: str = row["name"]
        self.definition: dict[str, Any] = row["definition"]
        self.rows: dict[int, Row] = {}
        self.decisions: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.version = 0  # bumped whenever something new was read
        self._seq = -1
        self._curve_rowid = 0
        self._decision_rowid = 0
        self._data_version: int | None = None

    @property
    def st(self) -> Storage:
        """The read-only store, opened on first use: SQLite connections belong to the thread
        that opened them, and the server reads from its own thread."""
        if self._st is None:
            self._st = Storage(self.path, read_only=True)
        return self._st

    def refresh(self) -> bool:
        """Read what changed since the last call; True when anything did."""
        con = self.st._con
        dv = int(con.execute("PRAGMA data_version").fetchone()[0])
        if dv == self._data_version:
            return False
        self._data_version = dv
        con.execute("BEGIN")  # one snapshot: a trial and its curve points arrive together
        try:
            changed = self._trials(con) | self._curves(con) | self._decisions(con)
            reqs = self.st.requests(self.study_id)
        finally:
            con.execute("COMMIT")
        if reqs != self.requests:
            self.requests, changed = reqs, True
        if changed:
            self.version += 1
        return changed

    def _trials(self, con: Any) -> bool:
        rows = con.execute(f"SELECT {_COLS} FROM trials WHERE study_id=? AND "
                           "(ask_seq > ? OR tell_seq > ?)", (self.study_id, self._seq, self._seq)
                           ).fetchall()
        for r in rows:
            info = json.loads(r[7])
            info.pop(SEED_INDEX_KEY, None)
            old = self.rows.get(r[0])
            self.rows[r[0]] = Row(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], r[6], info, r[8],
                                  r[9], r[10], r[11], r[12], r[14], old.curve if old else [],
                                  r[15])
            self._seq = max(self._seq, r[13], r[14] if r[14] is not None else -1)
        return bool(rows)

    def _curves(self, con: Any) -> bool:
        rows = con.execute("SELECT rowid, trial_id, budget, value FROM curves WHERE study_id=? "
                           "AND rowid > ? ORDER BY rowid", (self.study_id, self._curve_rowid)
                           ).fetchall()
        for rid, tid, b, v in rows:
            if tid in self.rows:
                self.rows[tid].curve.append((b, v))
            self._curve_rowid = rid
        return bool(rows)

    def _decisions(self, con: Any) -> bool:
        if not self.st._has("decisions"):
            return False
        rows = con.execute("SELECT rowid, trial_id, budget, action, by, reason, prob FROM "
                           "decisions WHERE study_id=? AND rowid > ? ORDER BY rowid",
                           (self.study_id, self._decision_rowid)).fetchall()
        for rid, tid, b, a, by, why, p in rows:
            self.decisions.append({"trial_id": tid, "budget": b, "action": a, "by": by,
                                   "reason": why, "prob": p})
            self._decision_rowid = rid
        return bool(rows)

    def told(self) -> list[Row]:
        """Finished trials in the order they were told."""
        return sorted((r for r in self.rows.values() if r.tell_seq is not None),
                      key=lambda r: r.tell_seq or 0)

    def close(self) -> None:
        if self._st is not None:
            self._st.close()
            self._st = None


def open_studies(paths: list[Path]) -> list[StudyCache]:
    """A cache for every study of every store; a folder stands for the ``*.sqlite`` below it
    (a bench folder's ``studies/``).

    Raises:
        hyperpilot.storage.StorageError: for a path that is not a readable store.
    """
    files: list[Path] = []
    for p in paths:
        files += sorted(p.rglob("*.sqlite")) if p.is_dir() else [p]
    out = []
    for f in files:
        st = Storage(f, read_only=True)
        try:
            ids = [s["study_id"] for s in st.studies()]
        finally:
            st.close()
        out += [StudyCache(f, i) for i in ids]
    return out
