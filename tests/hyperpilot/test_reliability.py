"""Fault injection: killed drivers, dying workers, hanging and misbehaving objectives.

Counts (for the report): 20 driver SIGKILLs at random moments in the slow loop test (plus 2 with
two workers in the default run), worker deaths by ``os._exit`` and by SIGKILL from inside and from
outside, 11 kinds of bad objective output, and timeouts in the process pool (Ray: test_ray.py).
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import hyperpilot as hp
from hyperpilot.executor import WorkerPoolExecutor
from hyperpilot.runner import failure_message
from hyperpilot.study import Study
from tests.hyperpilot.faults import BAD_OUTPUTS, bad_output, exit_once, hang_some, sigkill_once
from tests.hyperpilot.objectives import FIDELITY, SPACE, branin_mf
from tests.hyperpilot.test_kill_resume import ROOT, _completed, _start

# ----------------------------------------------------------------- killed driver


def _calls(log: Path) -> list[int]:
    return [int(x) for x in log.read_text().split()] if log.exists() else []


def _snapshot(db: Path, log: Path) -> tuple[dict[int, tuple], int]:
    """Trials committed as complete, and how many objective calls the log holds, right now."""
    return _completed(db), len(_calls(log))


def _check_no_loss(db: Path, log: Path, snapshots: list[tuple[dict[int, tuple], int]],
                   n: int) -> None:
    """Nothing completed before a kill is lost, changed or run again; ``n`` trials in the end.

    A trial may run more than once only while it is uncommitted (killed mid-run, or finished by
    an orphaned worker after its driver died): no call may come after its commit.
    """
    done = _completed(db)
    calls = _calls(log)
    for snap, mark in snapshots:
        assert all(done[k] == v for k, v in snap.items()), "a completed trial was lost or changed"
        again = set(calls[mark:]) & set(snap)
        assert not again, f"trials {sorted(again)} ran again after they were committed"
    assert sorted(done) == list(range(n))


@pytest.mark.slow
def test_twenty_random_sigkills_then_resume(tmp_path: Path) -> None:
    """SIGKILL the driver 20 times at random moments; the resumed study equals an unbroken one."""
    n, kills, rng = 600, 20, random.Random(8)
    db, log = tmp_path / "k.sqlite", tmp_path / "calls.log"
    snapshots: list[tuple[dict[int, tuple], int]] = []
    survived = 0
    while survived < kills:
        proc = _start(db, n, log)
        time.sleep(rng.uniform(0.1, 1.5))  # anywhere: start-up, ask, tell, commit
        if proc.poll() is not None:  # finished before the kill; not a kill
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        survived += 1
        snapshots.append(_snapshot(db, log))
    assert survived == kills, f"the study finished after {survived} kills; raise n"
    final = _start(db, n, log)
    assert final.wait(timeout=300) == 0
    _check_no_loss(db, log, snapshots, n)
    reference = Study(SPACE, FIDELITY, "hyperband", seed=0).run(branin_mf, n_trials=n)
    ref = {r.trial.trial_id: (r.trial.budget, r.value) for r in reference.results}
    assert {k: (v[1], v[2]) for k, v in _completed(db).items()} == ref
    resumed = Study(SPACE, FIDELITY, "hyperband", seed=0, storage=db)
    assert resumed.best == reference.best


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_driver_with_workers_no_loss_no_orphans(tmp_path: Path) -> None:
    """Two async workers: kills lose nothing committed, and orphaned workers exit by themselves."""
    n = 60
    db, log = tmp_path / "w.sqlite", tmp_path / "calls.log"
    env = {**os.environ, "HP_TEST_SLEEP": "0.03", "HP_TEST_LOG": str(log), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tests.hyperpilot.faults", str(db), "hyperband", str(n), "2"]
    snapshots, orphans = [], []
    for at_least in (10, 25):
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline and len(_completed(db)) < at_least:
            time.sleep(0.05)
        orphans += _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(1.5)  # orphaned workers may still finish (but never commit) a trial
        snapshots.append(_snapshot(db, log))
    assert len(orphans) >= 2
    final = subprocess.Popen(cmd, cwd=ROOT, env=env)
    assert final.wait(timeout=120) == 0
    _check_no_loss(db, log, snapshots, n)
    time.sleep(1.5)  # workers poll their parent once a second
    assert not [p for p in orphans if _alive(p)], "worker processes outlived their driver"


# ----------------------------------------------------------------- dying workers


@pytest.mark.parametrize("objective", [exit_once, sigkill_once], ids=["os._exit", "sigkill"])
@pytest.mark.parametrize("retries", [0, 1])
def test_worker_death_fails_or_retries(objective: Any, retries: int, tmp_path: Path) -> None:
    s = Study(SPACE, FIDELITY, "random", seed=0, storage=tmp_path / "d.sqlite").run(
        objective, n_trials=7, n_workers=2, retries=retries)
    failed = {r.trial.trial_id: r.reason for r in s.results if r.status == hp.Status.FAILED}
    assert len(s.results) == 7
    if retries:
        assert failed == {}
    else:
        assert set(failed) == {0, 3, 6}
        assert all("worker process died" in (why or "") for why in failed.values())


def test_worker_killed_from_outside(tmp_path: Path) -> None:
    """SIGKILL a worker process while it runs a trial; with ``retries=1`` nothing is lost."""
    os.environ["HP_TEST_SLEEP"] = "0.3"
    try:
        ex = WorkerPoolExecutor(branin_mf, 2)
        victim = ex._workers[0].proc.pid
        threading.Timer(1.0, os.kill, (victim, signal.SIGKILL)).start()
        s = Study(SPACE, FIDELITY, "hyperband", seed=0, storage=tmp_path / "o.sqlite").run(
            branin_mf, n_trials=12, executor=ex, retries=1)
    finally:
        del os.environ["HP_TEST_SLEEP"]
    assert ex.restarts == 1
    assert all(r.status == hp.Status.COMPLETE for r in s.results) and len(s.results) == 12


def test_retries_exhausted_is_a_failure_with_its_reason(tmp_path: Path) -> None:
    from tests.hyperpilot.faults import _first_attempt  # noqa: F401 - same module the workers use

    s = Study(SPACE, FIDELITY, "random", seed=0).run(_always_exit, n_trials=2, n_workers=2,
                                                     retries=2)
    assert all(r.status == hp.Status.FAILED for r in s.results)
    assert all("after 2 retries" in (r.reason or "") for r in s.results)


def _always_exit(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    os._exit(1)


# ----------------------------------------------------------------- timeouts


def test_hanging_objective_is_killed_and_the_study_goes_on() -> None:
    ex = WorkerPoolExecutor(hang_some, 2, timeout=1.5)
    t0 = time.perf_counter()
    s = Study(SPACE, FIDELITY, "random", seed=0).run(hang_some, n_trials=6, executor=ex)
    assert time.perf_counter() - t0 < 30
    failed = [r for r in s.results if r.status == hp.Status.FAILED]
    assert [r.trial.trial_id for r in failed] == [1] and "timeout" in (failed[0].reason or "")
    assert ex.restarts == 1 and len(s.results) == 6


# ----------------------------------------------------------------- bad objective output


@pytest.mark.parametrize("kind", [*BAD_OUTPUTS, "raise"])
def test_bad_output_is_a_recorded_failure_the_method_never_learns(kind: str) -> None:
    s = Study(SPACE, FIDELITY, "hyperband", seed=0)
    seen: list[float] = []
    observe = s.method.observe
    s.method.observe = lambda result, loss: (seen.append(loss), observe(result, loss))[1]  # type: ignore[method-assign]
    s.run(bad_output, n_trials=12, context_extras={"kind": kind})
    assert len(s.results) == 12
    assert all(r.status == hp.Status.FAILED and r.value is None for r in s.results)
    assert all(r.reason and len(r.reason.strip()) > 5 for r in s.results)
    assert seen == [math.inf] * 12
    assert not any(r.trial.info.get("source") == "promotion" for r in s.results)
    assert s.best is None
    msg = failure_message(s)
    assert msg is not None and msg.startswith("all 12 trials failed; first reason: ")


def test_bad_outputs_through_worker_processes() -> None:
    s = Study(SPACE, FIDELITY, "random", seed=0).run(bad_output, n_trials=4, n_workers=2,
                                                     context_extras={"kind": "raise"})
    assert all("ValueError: objective blew up" in (r.reason or "") for r in s.results)


def test_numeric_string_output_is_a_failure() -> None:
    s = Study(SPACE, FIDELITY, "random", seed=0)
    t = s.ask(1)[0]
    assert s.tell_output(t, "0.5").status == hp.Status.FAILED


def test_mixed_failures_leave_the_incumbent_to_good_trials() -> None:
    def half(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
        return float("nan") if ctx.trial.trial_id % 2 else branin_mf(config, budget, 0, ctx)

    s = Study(SPACE, FIDELITY, "hyperband", seed=0).run(half, n_trials=40)
    assert failure_message(s) is None and s.best is not None
    good = [r for r in s.results if r.status == hp.Status.COMPLETE]
    assert all(r.trial.trial_id % 2 == 0 for r in good)
    promoted = {r.trial.config_id for r in s.results if r.trial.info.get("source") == "promotion"}
    nan_configs = {r.trial.config_id for r in s.results
                   if r.status == hp.Status.FAILED and r.trial.rung == 0}
    assert not (promoted & nan_configs)  # a failed config is never promoted


def test_cli_all_failed_is_a_message_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from hyperpilot import cli, problems
    from tests.hyperpilot.objectives import nan_objective

    def broken(*args: Any, **kwargs: Any) -> problems.Problem:
        return problems.Problem("broken", SPACE, FIDELITY, nan_objective)

    monkeypatch.setattr(problems, "resolve_problem", broken)
    code = cli.main(["run", "--benchmark", "branin", "--method", "random", "--n-trials", "5",
                     "--storage", str(tmp_path / "f.sqlite"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "hyperpilot: all 5 trials failed; first reason: ValueError: objective value is nan" in err
    assert "Traceback" not in err


_POOL_DRIVER = """
import concurrent.futures as cf, multiprocessing as mp, os, sys, time
from hyperpilot.executor import exit_with_parent
with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=exit_with_parent,
                            initargs=(os.getpid(), 0.2)) as pool:
    pool.submit(os.getpid).result()
    print(*pool._processes, flush=True)
    pool.submit(time.sleep, 120)
    time.sleep(120)
"""


def test_bench_cell_workers_exit_when_their_driver_is_killed() -> None:
    """``exit_with_parent`` (the bench's pool initializer): a SIGKILLed driver leaves no worker
    running its task as an orphan."""
    driver = subprocess.Popen([sys.executable, "-c", _POOL_DRIVER], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    assert driver.stdout is not None
    worker = int(driver.stdout.readline())
    os.kill(worker, 0)  # alive, running its two-minute sleep
    driver.kill()
    driver.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the worker outlived its killed driver by 10 s")
