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


def _start(db: Path, n: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "HP_TEST_SLEEP": "0.03", "HP_TEST_LOG": str(log), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.hyperpilot.kill_driver", str(db),
                             "hyperband", str(n)], cwd=ROOT, env=env)


def _kill_when(db: Path, proc: subprocess.Popen, at_least: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if db.exists() and len(_completed(db)) >= at_least:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


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
