"""SIGKILL a running study, resume it, and check that nothing completed is lost or run twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hyperpilot.study import Study
from tests.hyperpilot.objectives import FIDELITY, SPACE, branin_mf

ROOT = Path(__file__).resolve().parents[2]


def _completed(db: Path) -> dict[int, tuple]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT trial_id, config, budget, value FROM trials "
                           "WHERE status='complete'").fetchall()
    except sqlite3.OperationalError:  # the schema is not written yet
        rows = []
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def _start(db: Path, n: int, log: Path, method: str = "hyperband",
           objective: str = "branin_mf") -> subprocess.Popen:
    env = {**os.environ, "HP_TEST_SLEEP": "0.03", "HP_TEST_LOG": str(log), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.hyperpilot.kill_driver", str(db),
                             method, str(n), objective], cwd=ROOT, env=env)


def _kill_when(db: Path, proc: subprocess.Popen, at_least: int, races: int = 0) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if db.exists() and len(_completed(db)) >= at_least and _races(db) >= races:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _races(db: Path, status: str = "complete") -> int:
    """Race runs (a config's extra seeds) in the store with ``status``."""
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT COUNT(*) FROM trials WHERE status=? AND info LIKE "
                               "'%\"seed_index\"%'", (status,)).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


@pytest.mark.parametrize("kills", [1, 3])
def test_sigkill_then_resume(tmp_path: Path, kills: int) -> None:
    n = 60
    db, log = tmp_path / "k.sqlite", tmp_path / "calls.log"
    snapshots = []
    for i in range(kills):
        _kill_when(db, _start(db, n, log), at_least=10 * (i + 1))
        snapshots.append(_completed(db))
    final = _start(db, n, log)
    assert final.wait(timeout=120) == 0
    done = _completed(db)
    for snap in snapshots:  # nothing completed before a kill is lost or changed
        assert all(done[k] == v for k, v in snap.items())
    assert len(done) == n
    calls = [int(x) for x in log.read_text().split()]
    twice = {t for t in set(calls) if calls.count(t) > 1}
    # a trial may only run again if it had not been committed as complete when it was killed
    for snap in snapshots:
        assert not (twice & set(snap))
    reference = Study(SPACE, FIDELITY, "hyperband", seed=0).run(branin_mf, n_trials=n)
    ref = {r.trial.trial_id: (r.trial.budget, r.value) for r in reference.results}
    assert {k: (v[1], v[2]) for k, v in done.items()} == ref


def test_sigkill_in_the_middle_of_a_race_then_resume(tmp_path: Path) -> None:
    """Killed while race runs (extra seeds at the max budget) are under way: after the resume no
    config runs one seed twice, and the study ends as an uninterrupted one."""
    from tests.hyperpilot.objectives import noisy_branin

    n, method = 110, "hyperband:race"
    db, log = tmp_path / "r.sqlite", tmp_path / "calls.log"
    _kill_when(db, _start(db, n, log, method, "noisy_branin"), at_least=60, races=1)
    before = _completed(db)
    assert _races(db) >= 1
    final = _start(db, n, log, method, "noisy_branin")
    assert final.wait(timeout=120) == 0
    done = _completed(db)
    assert all(done[k] == v for k, v in before.items())
    calls = [int(x) for x in log.read_text().split()]
    assert not ({t for t in set(calls) if calls.count(t) > 1} & set(before))
    resumed = Study(SPACE, FIDELITY, method, seed=0, storage=db)
    runs = [(r.trial.config_id, r.trial.seed_index, r.trial.budget) for r in resumed.results]
    assert len(runs) == len(set(runs)) == n  # no seed of a config run twice
    assert sum(k > 0 for _, k, _ in runs) >= 2
    reference = Study(SPACE, FIDELITY, method, seed=0).run(noisy_branin, n_trials=n)
    ref = {r.trial.trial_id: (r.trial.budget, r.trial.seed_index, r.value) for r in reference.results}
    assert {r.trial.trial_id: (r.trial.budget, r.trial.seed_index, r.value)
            for r in resumed.results} == ref
