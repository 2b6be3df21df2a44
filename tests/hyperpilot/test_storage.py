"""The SQLite store under concurrent writers, and against damaged or foreign files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hyperpilot.storage import Storage, StorageError
from hyperpilot.study import Study
from hyperpilot.trial import Result, Status, Trial
from tests.hyperpilot.objectives import FIDELITY, SPACE, branin_mf
from tests.hyperpilot.test_kill_resume import ROOT

DEFINITION = {"space": "test", "method": "none"}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


# ----------------------------------------------------------------- concurrent writers


def test_two_studies_in_one_file_at_once(tmp_path: Path) -> None:
    """Two processes run two studies (different names) in one file; both equal a lone run."""
    db, n = tmp_path / "shared.sqlite", 60
    env = {**_env(), "HP_TEST_SLEEP": "0.005"}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.hyperpilot.faults", str(db),
                               "hyperband", str(n), "1", name], cwd=ROOT, env=env)
             for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert _integrity(db) == "ok"
    reference = Study(SPACE, FIDELITY, "hyperband", seed=0).run(branin_mf, n_trials=n)
    ref = [(r.trial.trial_id, r.trial.budget, r.value) for r in reference.results]
    for name in ("a", "b"):
        s = Study(SPACE, FIDELITY, "hyperband", seed=0, storage=db, name=name)
        assert [(r.trial.trial_id, r.trial.budget, r.value) for r in s.results] == ref


_TELLER = """
import sys
from hyperpilot.storage import Storage
from hyperpilot.trial import Result, Status, Trial
db, sid, parity, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
st = Storage(db)
for i in range(parity, n, 2):
    t = Trial(i, i, {"x": float(i)}, 1.0)
    st.finish_trial(sid, Result(t, Status.COMPLETE, float(i), [(0.5, i + 1.0), (1.0, float(i))]),
                    n + i)
"""


def test_two_processes_tell_into_one_study(tmp_path: Path) -> None:
    """Two processes finish the even and the odd trials of one study: no row is lost."""
    db, n = tmp_path / "one.sqlite", 300
    st = Storage(db)
    sid = st.open_study("s", DEFINITION, 0)
    st.add_trials(sid, [Trial(i, i, {"x": float(i)}, 1.0) for i in range(n)], 0, 0.0)
    procs = [subprocess.Popen([sys.executable, "-c", _TELLER, str(db), str(sid), str(k), str(n)],
                              cwd=ROOT, env=_env()) for k in (0, 1)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    rows = st.load_trials(sid)
    assert len(rows) == n
    assert all(r.result is not None and r.result.status == Status.COMPLETE for r in rows)
    assert all(r.result is not None and r.result.value == r.trial.trial_id for r in rows)
    assert all(r.result is not None and len(r.result.curve) == 2 for r in rows)
    assert sorted(r.tell_seq for r in rows if r.tell_seq is not None) == list(range(n, 2 * n))
    st.close()
    assert _integrity(db) == "ok"


def test_a_second_driver_on_the_same_study_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "twice.sqlite"
    a = Study(SPACE, FIDELITY, "random", seed=0, storage=db)
    b = Study(SPACE, FIDELITY, "random", seed=0, storage=db)
    a.ask(2)
    with pytest.raises(StorageError, match="another process"):
        b.ask(1)


def test_telling_a_finished_trial_again_is_refused(tmp_path: Path) -> None:
    st = Storage(tmp_path / "t.sqlite")
    sid = st.open_study("s", DEFINITION, 0)
    t = Trial(0, 0, {"x": 0.0}, 1.0)
    st.add_trials(sid, [t], 0, 0.0)
    st.finish_trial(sid, Result(t, Status.COMPLETE, 1.0, []), 1)
    with pytest.raises(StorageError, match="not pending"):
        st.finish_trial(sid, Result(t, Status.COMPLETE, 2.0, []), 2)


# ----------------------------------------------------------------- refusals


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite"
    Storage(db).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="schema version 99"):
        Storage(db)


def test_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE trials (id INTEGER, loss REAL)")
    con.execute("INSERT INTO trials VALUES (1, 0.5)")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(StorageError, match="not a HyperPilot store"):
        Storage(db)
    assert db.read_bytes() == before


def test_changed_columns_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "cols.sqlite"
    Storage(db).close()
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE trials ADD COLUMN extra TEXT")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="columns"):
        Storage(db)


def test_changed_study_definition_is_refused_with_what_changed(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    Study(SPACE, FIDELITY, "hyperband", seed=0, storage=db)
    with pytest.raises(StorageError, match="fidelity"):
        Study(SPACE, FIDELITY.__class__(1, 9, 3), "hyperband", seed=0, storage=db)


# ----------------------------------------------------------------- damaged files


def _filled_store(db: Path, n: int = 200) -> None:
    s = Study(SPACE, FIDELITY, "hyperband", seed=0, storage=db)
    s.run(branin_mf, n_trials=n)
    s.storage._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.storage.close()


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.5, 0.9])
def test_truncated_store_is_reported_not_overwritten(tmp_path: Path, keep: float) -> None:
    db = tmp_path / "trunc.sqlite"
    _filled_store(db)
    data = db.read_bytes()
    db.write_bytes(data[: int(len(data) * keep)])
    before = db.read_bytes()
    with pytest.raises(StorageError):
        Study(SPACE, FIDELITY, "hyperband", seed=0, storage=db)
    assert db.read_bytes() == before


@pytest.mark.parametrize("where", ["header", "middle", "end"])
def test_corrupted_pages_are_reported_not_overwritten(tmp_path: Path, where: str) -> None:
    db = tmp_path / "bad.sqlite"
    _filled_store(db)
    data = bytearray(db.read_bytes())
    page = 4096
    at = {"header": 16, "middle": (len(data) // page // 2) * page, "end": len(data) - page}[where]
    data[at:at + 512] = os.urandom(512)
    db.write_bytes(bytes(data))
    before = db.read_bytes()
    with pytest.raises(StorageError):
        Storage(db)
    assert db.read_bytes() == before


def test_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(StorageError):
        Storage(tmp_path / "dir.sqlite")
