"""The embedded store: SQLite in WAL mode, one transaction per ask and per tell.

Every completed trial is committed before ``tell`` returns, so a killed process loses at most the
trials that were still running. Events (asks and tells) carry one increasing sequence number per
study, so a re-opened study can replay them in order and rebuild its method's state exactly.
"""

from __future__ import annotations

import json
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperpilot.trial import Curve, Result, Status, Trial

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    study_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    definition TEXT NOT NULL,
    seed INTEGER NOT NULL,
    created REAL NOT NULL,
    environment TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    study_id INTEGER NOT NULL REFERENCES studies(study_id),
    trial_id INTEGER NOT NULL,
    config_id INTEGER NOT NULL,
    config TEXT NOT NULL,
    budget REAL NOT NULL,
    resume_budget REAL NOT NULL,
    bracket INTEGER,
    rung INTEGER,
    seed INTEGER NOT NULL,
    info TEXT NOT NULL,
    status TEXT NOT NULL,
    value REAL,
    reason TEXT,
    cost REAL,
    wall_time REAL,
    overhead REAL,
    ask_seq INTEGER NOT NULL,
    tell_seq INTEGER,
    asked_at REAL NOT NULL,
    told_at REAL,
    PRIMARY KEY (study_id, trial_id)
);
CREATE TABLE IF NOT EXISTS curves (
    study_id INTEGER NOT NULL,
    trial_id INTEGER NOT NULL,
    budget REAL NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS curves_by_trial ON curves(study_id, trial_id);
CREATE TABLE IF NOT EXISTS decisions (
    study_id INTEGER NOT NULL,
    trial_id INTEGER NOT NULL,
    budget REAL NOT NULL,
    action TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT NOT NULL,
    prob REAL
);
CREATE INDEX IF NOT EXISTS decisions_by_trial ON decisions(study_id, trial_id);
CREATE TABLE IF NOT EXISTS requests (
    request_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL,
    trial_id INTEGER NOT NULL,
    budget REAL NOT NULL,
    proposed TEXT NOT NULL,
    reason TEXT NOT NULL,
    digest TEXT NOT NULL,
    asked_at REAL NOT NULL,
    answer TEXT,
    answer_reason TEXT,
    answered_at REAL
);
"""


_COLUMNS: dict[str, list[str]] = {
    "meta": ["key", "value"],
    "studies": ["study_id", "name", "definition", "seed", "created", "environment"],
    "trials": ["study_id", "trial_id", "config_id", "config", "budget", "resume_budget", "bracket",
               "rung", "seed", "info", "status", "value", "reason", "cost", "wall_time",
               "overhead", "ask_seq", "tell_seq", "asked_at", "told_at"],
    "curves": ["study_id", "trial_id", "budget", "value"],
}
"""The tables and columns of ``SCHEMA_VERSION``; an existing file must have exactly these.

Two tables came later and are optional in a store (they are added when it is next opened for
writing, and read as empty before): ``decisions`` (every stopping decision of a pruner, with its
reason, written with the trial's result) and ``requests`` (``HumanPruner``'s questions and a
person's answers, written while the trial runs)."""


class StorageError(RuntimeError):
    """The store is unreadable, corrupted, of another schema, or holds a different study."""


@dataclass(frozen=True)
class TrialRow:
    """A stored trial: the trial, its result if told, and its event sequence numbers."""

    trial: Trial
    result: Result | None
    ask_seq: int
    tell_seq: int | None
    overhead: float | None


def environment_info() -> dict[str, Any]:
    """Package versions, Python, machine and git commit, stored with each study."""
    from importlib import metadata

    versions = {}
    for pkg in ("hyperpilot", "torch", "botorch", "gpytorch", "numpy", "scipy",
                "stable-baselines3", "gymnasium", "onnxruntime"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return {"versions": versions, "python": sys.version.split()[0], "platform": platform.platform(),
            "machine": platform.machine(), "git_commit": git_commit()}


def git_commit() -> str | None:
    """The commit of the checkout holding this package, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class Storage:
    """A SQLite store at ``path`` (created with its parents if missing).

    Args:
        path: the SQLite file.
        read_only: only read an existing store (``show``, notebooks): nothing is created or
            written, so a store in a read-only directory or on a read-only medium opens.

    Raises:
        StorageError: when the file is not a SQLite database, fails its integrity check, has
            another schema version, or (to write) sits where it cannot be written. A damaged file
            is reported, never overwritten.
    """

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            self._con = _connect_read_only(self.path)
            try:
                self._check_existing()
                self._check_schema()
            except sqlite3.DatabaseError as e:
                self._con.close()
                raise StorageError(f"{self.path}: not a readable HyperPilot database ({e})") from None
            return
        if str(path) != ":memory:":
            _check_writable(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            self._con = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
            if existed:
                self._check_existing()
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            # one transaction, so a second process opening the file meanwhile sees all or nothing
            self._con.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
            self._check_schema()
        except sqlite3.DatabaseError as e:
            if hasattr(self, "_con"):
                self._con.close()
            if "readonly" in str(e):
                raise StorageError(f"{self.path}: read-only ({e}); copy it somewhere writable "
                                   "to continue it") from None
            raise StorageError(f"{self.path}: not a readable HyperPilot database ({e})") from None

    def _check_existing(self) -> None:
        """Refuse, before writing anything, a damaged file or a SQLite file of another program."""
        ok = self._con.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            self._con.close()
            raise StorageError(f"{self.path}: integrity check failed ({ok}); not touching it")
        tables = {r[0] for r in self._con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
        if not tables:
            return  # an empty database: HyperPilot may create its tables
        if not set(_COLUMNS) <= tables:
            self._con.close()
            raise StorageError(f"{self.path}: a SQLite file, but not a HyperPilot store (tables "
                               f"{sorted(tables)}); not touching it")
        for table, cols in _COLUMNS.items():
            have = [r[1] for r in self._con.execute(f"PRAGMA table_info({table})")]
            if have != cols:
                self._con.close()
                raise StorageError(f"{self.path}: table '{table}' has columns {have}, this "
                                   f"HyperPilot expects {cols}; not touching it")

    def _check_schema(self) -> None:
        if self.read_only:
            row = self._con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is not None and int(row[0]) != SCHEMA_VERSION:
                raise StorageError(f"{self.path}: schema version {row[0]}, this HyperPilot reads "
                                   f"{SCHEMA_VERSION}")
            return
        with self._tx() as c:
            row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                c.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise StorageError(f"{self.path}: schema version {row[0]}, this HyperPilot reads "
                                   f"{SCHEMA_VERSION}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        for attempt in range(50):
            try:
                self._con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                time.sleep(0.05 * (attempt + 1))
        else:
            raise StorageError(f"{self.path}: database stayed locked")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def close(self) -> None:
        self._con.close()

    # ----------------------------------------------------------------- studies
    def open_study(self, name: str, definition: dict[str, Any], seed: int) -> int:
        """Create study ``name`` or re-open it; refuse a changed definition or seed.

        Returns:
            The study's id.
        """
        text = json.dumps(definition, sort_keys=True)
        with self._tx() as c:
            row = c.execute("SELECT study_id, definition, seed FROM studies WHERE name=?",
                            (name,)).fetchone()
            if row is None:
                cur = c.execute(
                    "INSERT INTO studies(name, definition, seed, created, environment) VALUES (?,?,?,?,?)",
                    (name, text, seed, time.time(), json.dumps(environment_info())))
                return int(cur.lastrowid or 0)
        sid, old, old_seed = row
        if old != text:
            diff = _diff_keys(json.loads(old), definition)
            raise StorageError(f"study '{name}' in {self.path} was created with a different "
                               f"{', '.join(diff)}; use another --storage or study name")
        if int(old_seed) != seed:
            raise StorageError(f"study '{name}' in {self.path} was created with seed {old_seed}, "
                               f"not {seed}; use another --storage or study name")
        return int(sid)

    def studies(self) -> list[dict[str, Any]]:
        rows = self._con.execute(
            "SELECT s.study_id, s.name, s.definition, s.seed, s.created, s.environment, "
            "(SELECT COUNT(*) FROM trials t WHERE t.study_id=s.study_id) FROM studies s").fetchall()
        return [{"study_id": r[0], "name": r[1], "definition": json.loads(r[2]), "seed": r[3],
                 "created": r[4], "environment": json.loads(r[5]), "n_trials": r[6]} for r in rows]

    def set_meta(self, key: str, value: str) -> None:
        """Store a small fact about the store (e.g. ``budget:<study>``, the last run's budget)."""
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self._con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # ----------------------------------------------------------------- trials
    def add_trials(self, study_id: int, trials: list[Trial], seq0: int, overhead: float) -> None:
        """Record asked trials (status pending) with event numbers ``seq0, seq0 + 1, ...``."""
        now = time.time()
        try:
            self._add_trials(study_id, trials, seq0, overhead, now)
        except sqlite3.IntegrityError:
            ids = [t.trial_id for t in trials]
            raise StorageError(f"{self.path}: trial id(s) {ids} are already stored; is another "
                               f"process running this study?") from None

    def _add_trials(self, study_id: int, trials: list[Trial], seq0: int, overhead: float,
                    now: float) -> None:
        with self._tx() as c:
            c.executemany(
                "INSERT INTO trials(study_id, trial_id, config_id, config, budget, resume_budget, "
                "bracket, rung, seed, info, status, overhead, ask_seq, asked_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(study_id, t.trial_id, t.config_id, json.dumps(t.config), t.budget, t.resume_budget,
                  t.bracket, t.rung, t.seed, json.dumps(_info_with_seed_index(t)),
                  Status.PENDING.value, overhead, seq0 + i, now) for i, t in enumerate(trials)])

    def finish_trial(self, study_id: int, result: Result, seq: int,
                     decisions: Sequence[dict[str, Any]] = ()) -> None:
        """Record a result and its pruner decisions (dicts of ``Decision.to_dict``); raises
        StorageError if the trial is unknown or already finished."""
        t = result.trial
        with self._tx() as c:
            c.executemany("INSERT INTO decisions VALUES (?,?,?,?,?,?,?)",
                          [(study_id, t.trial_id, float(d["budget"]), str(d["action"]),
                            str(d["by"]), str(d["reason"]), d.get("prob")) for d in decisions])
            cur = c.execute(
                "UPDATE trials SET status=?, value=?, reason=?, cost=?, wall_time=?, tell_seq=?, "
                "told_at=? WHERE study_id=? AND trial_id=? AND status=?",
                (result.status.value, result.value, result.reason, result.cost, result.wall_time,
                 seq, time.time(), study_id, t.trial_id, Status.PENDING.value))
            if cur.rowcount != 1:
                raise StorageError(f"trial {t.trial_id} is not pending in this study")
            c.executemany("INSERT INTO curves VALUES (?,?,?,?)",
                          [(study_id, t.trial_id, b, v) for b, v in result.curve])

    def load_trials(self, study_id: int) -> list[TrialRow]:
        """All trials of a study, in ask order, with their results and curves."""
        curves: dict[int, Curve] = {}
        for tid, b, v in self._con.execute(
                "SELECT trial_id, budget, value FROM curves WHERE study_id=? ORDER BY rowid",
                (study_id,)):
            curves.setdefault(tid, []).append((b, v))
        out = []
        for r in self._con.execute(
                "SELECT trial_id, config_id, config, budget, resume_budget, bracket, rung, seed, "
                "info, status, value, reason, cost, wall_time, ask_seq, tell_seq, overhead "
                "FROM trials WHERE study_id=? ORDER BY trial_id", (study_id,)):
            info = json.loads(r[8])
            k = int(info.pop(SEED_INDEX_KEY, 0))
            trial = Trial(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], r[6], r[7], info, k)
            status = Status(r[9])
            result = None if status == Status.PENDING else Result(
                trial, status, r[10], curves.get(r[0], []), r[11], r[12], r[13])
            out.append(TrialRow(trial, result, r[14], r[15], r[16]))
        return out

    def _has(self, table: str) -> bool:
        return self._con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                 (table,)).fetchone() is not None

    def load_decisions(self, study_id: int, since_trial: int = -1) -> list[dict[str, Any]]:
        """Every stored pruner decision of a study (trials after ``since_trial``), in order."""
        if not self._has("decisions"):
            return []
        rows = self._con.execute(
            "SELECT trial_id, budget, action, by, reason, prob FROM decisions WHERE study_id=? "
            "AND trial_id>? ORDER BY rowid", (study_id, since_trial)).fetchall()
        return [dict(zip(("trial_id", "budget", "action", "by", "reason", "prob"), r,
                         strict=True)) for r in rows]

    # ----------------------------------------------------------------- human decisions
    def add_request(self, study_id: int, trial_id: int, budget: float, proposed: str,
                    reason: str, digest: str) -> int:
        """Ask a person to decide on a running trial; returns the request's id."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO requests(study_id, trial_id, budget, proposed, reason, digest, "
                "asked_at) VALUES (?,?,?,?,?,?,?)",
                (study_id, trial_id, budget, proposed, reason, digest, time.time()))
            return int(cur.lastrowid or 0)

    def answer_request(self, request_id: int, answer: str, reason: str) -> bool:
        """Record a person's answer; False when no open request has this id (a forged or an
        already answered one), so a caller can refuse it."""
        with self._tx() as c:
            cur = c.execute("UPDATE requests SET answer=?, answer_reason=?, answered_at=? "
                            "WHERE request_id=? AND answer IS NULL",
                            (answer, reason, time.time(), int(request_id)))
            return cur.rowcount == 1

    def requests(self, study_id: int | None = None, open_only: bool = False) -> list[dict[str, Any]]:
        """Requests (all studies unless ``study_id``), oldest first; ``open_only``: unanswered."""
        if not self._has("requests"):
            return []
        where = ["1=1"] + (["study_id=?"] if study_id is not None else []) + (
            ["answer IS NULL"] if open_only else [])
        cols = ("request_id", "study_id", "trial_id", "budget", "proposed", "reason", "digest",
                "asked_at", "answer", "answer_reason", "answered_at")
        rows = self._con.execute(f"SELECT {', '.join(cols)} FROM requests WHERE "
                                 f"{' AND '.join(where)} ORDER BY request_id",
                                 () if study_id is None else (study_id,)).fetchall()
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def max_seq(self, study_id: int) -> int:
        row = self._con.execute(
            "SELECT MAX(MAX(ask_seq), COALESCE(MAX(tell_seq), -1)) FROM trials WHERE study_id=?",
            (study_id,)).fetchone()
        return -1 if row[0] is None else int(row[0])


SEED_INDEX_KEY = "seed_index"
"""``Trial.seed_index`` is kept in the ``info`` column under this key when it is not 0, so schema 1
(and every store written before seeds were first-class) stays readable as it is."""


def _info_with_seed_index(t: Trial) -> dict[str, Any]:
    if SEED_INDEX_KEY in t.info:
        raise ValueError(f"trial info may not use the reserved key {SEED_INDEX_KEY!r}")
    return {**t.info, SEED_INDEX_KEY: t.seed_index} if t.seed_index else t.info


def _check_writable(path: Path) -> None:
    """Refuse, before any lock or write, a store whose file or nearest folder is read-only."""
    import os

    folder = next((p for p in path.parents if p.exists()), Path("."))  # SQLite adds -wal, -shm
    for target in ([path] if path.exists() else []) + [folder]:
        if not os.access(target, os.W_OK):
            what = "file" if target == path else f"folder {target}"
            raise StorageError(f"{path}: the {what} is read-only; choose a writable --storage "
                               "(or copy the store) to run a study; `show` reads it as it is")


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open an existing store without writing anything.

    ``mode=ro`` still needs the WAL index (``-shm``) beside the file; in a read-only folder
    where it is gone (a cleanly closed store) the file is opened ``immutable`` instead, which
    is safe there because nobody can be writing it.
    """
    if not path.is_file():
        raise StorageError(f"{path} does not exist")
    uri = path.resolve().as_uri()
    errors = []
    for flags in ("mode=ro", "immutable=1"):
        con = sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=60.0, isolation_level=None)
        try:
            con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return con
        except sqlite3.DatabaseError as e:
            con.close()
            errors.append(str(e))
    raise StorageError(f"{path}: not a readable HyperPilot database ({errors[-1]})")


def _diff_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return keys or ["definition"]
