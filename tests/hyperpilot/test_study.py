"""The ask/tell contract, storage, resume and determinism of studies."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

import hyperpilot as hp
from hyperpilot.storage import StorageError
from hyperpilot.study import Study, StudyError, minimize
from tests.hyperpilot.objectives import FIDELITY, SPACE, branin_mf, nan_objective, raising_objective

METHODS = ["random", "hyperband"]


def _trajectory(study: Study) -> list[tuple]:
    return [(r.trial.trial_id, r.trial.config_id, r.trial.budget, r.trial.resume_budget,
             r.status.value, r.value, tuple(sorted(r.trial.config.items())))
            for r in sorted(study.results, key=lambda r: r.trial.trial_id)]


def _manual(method: str, n: int, seed: int = 0, storage: Path | None = None) -> Study:
    s = Study(SPACE, FIDELITY, method, seed=seed, storage=storage)
    while len(s.results) < n:
        for t in s.ask(1):
            s.tell(t, *branin_mf(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    return s


@pytest.mark.parametrize("method", METHODS)
def test_run_equals_manual_ask_tell(method: str) -> None:
    a = minimize(branin_mf, SPACE, fidelity=FIDELITY, method=method, n_trials=40, seed=3)
    b = _manual(method, 40, seed=3)
    assert _trajectory(a) == _trajectory(b)


@pytest.mark.parametrize("method", METHODS)
def test_seed_changes_trajectory(method: str) -> None:
    a = minimize(branin_mf, SPACE, fidelity=FIDELITY, method=method, n_trials=10, seed=0)
    b = minimize(branin_mf, SPACE, fidelity=FIDELITY, method=method, n_trials=10, seed=1)
    assert _trajectory(a) != _trajectory(b)


def _tell_all(s: Study, trials: list) -> None:
    for t in trials:
        s.tell(t, *branin_mf(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))


def _drive(s: Study, crash: bool) -> Study:
    """Batches of 3 up to 12 results, then a batch of 2 (left running if ``crash``), then 1s."""
    while len(s.results) < 12:
        _tell_all(s, s.ask(3))
    left = s.ask(2)
    if crash:
        db = s.storage.path
        s.storage.close()
        s = Study(SPACE, FIDELITY, s.method_name, seed=s.seed, storage=db)
        assert [t.trial_id for t in s.pending] == [t.trial_id for t in left]
        again = s.ask(2)
        assert again == left
        left = again
    _tell_all(s, left)
    while len(s.results) < 30:
        _tell_all(s, s.ask(1))
    return s


@pytest.mark.parametrize("method", METHODS)
def test_resume_equals_uninterrupted(method: str, tmp_path: Path) -> None:
    full = _drive(Study(SPACE, FIDELITY, method, seed=0, storage=tmp_path / "a.sqlite"), False)
    resumed = _drive(Study(SPACE, FIDELITY, method, seed=0, storage=tmp_path / "b.sqlite"), True)
    assert _trajectory(resumed) == _trajectory(full)


def test_tell_contract() -> None:
    s = Study(SPACE, FIDELITY, "hyperband", seed=0)
    t1, t2, t3, t4 = s.ask(4)
    r = s.tell(t1, value=float("nan"))
    assert r.status == hp.Status.FAILED and "not finite" in (r.reason or "")
    s.tell(t3, value=1.5, curve=[(1, 2.0)])  # out of order is fine
    s.tell_failure(t2, "crashed")
    with pytest.raises(StudyError, match="already told"):
        s.tell(t1, value=1.0)
    with pytest.raises(StudyError, match="unknown"):
        s.tell(999, value=1.0)
    s.tell(t4, value=math.inf)
    assert [r.status for r in s.results].count(hp.Status.FAILED) == 3
    assert s.best is not None and s.best[1] == 1.5


def test_best_is_at_the_highest_budget() -> None:
    s = Study(SPACE, hp.Fidelity(1, 9, 3), "hyperband", seed=0)
    ts = s.ask(10)
    for i, t in enumerate(ts):
        s.tell(t, value=float(i))
    while True:
        t = s.ask(1)[0]
        s.tell(t, value=100.0 + t.trial_id)
        if t.budget == 9:
            break
    best = s.best
    assert best is not None and best[2] == 9 and best[1] >= 100


def test_maximize_flips_once() -> None:
    s = Study(SPACE, FIDELITY, "random", direction="maximize", seed=0)
    a, b = s.ask(2)
    s.tell(a, 1.0)
    s.tell(b, 2.0)
    assert s.best is not None and s.best[1] == 2.0


def test_failures_never_reach_the_method() -> None:
    s = minimize(nan_objective, SPACE, fidelity=FIDELITY, method="hyperband", n_trials=20)
    assert all(r.status == hp.Status.FAILED for r in s.results)
    assert not any(r.trial.info.get("source") == "promotion" for r in s.results)
    assert s.best is None


def test_exceptions_recorded_with_traceback() -> None:
    s = minimize(raising_objective, SPACE, fidelity=FIDELITY, method="random", n_trials=3)
    assert all("RuntimeError: boom" in (r.reason or "") for r in s.results)
    assert all("Traceback" in (r.reason or "") or "raise" in (r.reason or "") for r in s.results)


def test_budget_counts_full_fidelity_equivalents() -> None:
    s = minimize(branin_mf, SPACE, fidelity=FIDELITY, method="hyperband", budget=5)
    assert 5 <= s.budget_used() < 6
    spent = sum(r.trial.budget - r.trial.resume_budget for r in s.results)
    assert math.isclose(s.budget_used(), spent / 27)


def test_reopen_refuses_changed_definition(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    Study(SPACE, FIDELITY, "hyperband", seed=0, storage=db)
    with pytest.raises(StorageError, match="method"):
        Study(SPACE, FIDELITY, "random", seed=0, storage=db)
    other = hp.SearchSpace({"x": hp.Float(0, 1)})
    with pytest.raises(StorageError, match="space"):
        Study(other, FIDELITY, "hyperband", seed=0, storage=db)
    with pytest.raises(StorageError, match="seed"):
        Study(SPACE, FIDELITY, "hyperband", seed=1, storage=db)


def test_corrupted_store_is_reported_not_overwritten(tmp_path: Path) -> None:
    db = tmp_path / "bad.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    before = db.read_bytes()
    with pytest.raises(StorageError, match="not a readable"):
        Study(SPACE, FIDELITY, "hyperband", seed=0, storage=db)
    assert db.read_bytes() == before


def test_workers_and_timeout(tmp_path: Path) -> None:
    from tests.hyperpilot.objectives import hanging_objective

    s = minimize(hanging_objective, SPACE, fidelity=FIDELITY, method="random", n_trials=2,
                 n_workers=2, timeout=1.0)
    assert all(r.status == hp.Status.FAILED and "timeout" in (r.reason or "") for r in s.results)
    p = minimize(branin_mf, SPACE, fidelity=FIDELITY, method="hyperband", n_trials=30, n_workers=2)
    assert sum(r.status == hp.Status.COMPLETE for r in p.results) == 30


def test_huge_page_malloc_is_added_once_and_keeps_user_tunables(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from hyperpilot.executor import MALLOC_TUNABLE, huge_page_malloc

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    huge_page_malloc()
    huge_page_malloc()
    assert os.environ["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{MALLOC_TUNABLE}"
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0")
    huge_page_malloc()
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=0"


@pytest.mark.parametrize("kwargs, needle", [
    ({"budget": -1}, "budget must be a finite number > 0"),
    ({"budget": 0}, "budget must be a finite number > 0"),
    ({"budget": float("inf")}, "budget must be a finite number > 0"),
    ({"n_trials": -2}, "n_trials must be an integer >= 1"),
    ({"n_trials": 0}, "n_trials must be an integer >= 1"),
    ({"n_trials": 3, "batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"n_trials": 3, "timeout": 0}, "timeout must be a finite number > 0"),
])
def test_minimize_refuses_a_run_that_cannot_end_or_start(kwargs: dict[str, float], needle: str) -> None:
    """Issue 20: ``minimize(budget=-1)`` returned ``best=None`` and raised nothing."""
    space = hp.SearchSpace({"x": hp.Float(0, 1)})
    with pytest.raises(ValueError, match=needle):
        hp.minimize(lambda c, b, r, ctx: c["x"], space, method="random", **kwargs)


def test_the_failure_log_keeps_the_exception_type_and_the_message_end(
        caplog: pytest.LogCaptureFixture) -> None:
    """Issue 20: the log showed the reason's last 300 characters, cut from the front of a
    traceback (``trial 0 failed: lot/trial.py", line 145...``)."""
    from hyperpilot.overview import short_reason

    def long_failure(config: dict, budget: float, resume: float, ctx: object) -> float:
        raise RuntimeError("CUDA-free but still: " + "x" * 400 + " the real cause is here")

    study = Study(SPACE, FIDELITY, "random", seed=0)
    with caplog.at_level("WARNING", logger="hyperpilot.study"):
        study.run(long_failure, n_trials=1)
    msg = caplog.records[-1].getMessage()
    assert msg.startswith("trial 0 failed: RuntimeError: ...") and msg.endswith("the real cause is here")
    assert "Traceback" not in msg and 'File "' not in msg and len(msg) < 260
    assert "Traceback" in (study.results[0].reason or "")  # the store keeps it all
    bare = 'Traceback (most recent call last):\n  File "x.py", line 1\nKeyError: \'lr\'\n'
    assert short_reason(bare) == "KeyError: 'lr'"
    assert short_reason("timed out after 5 s") == "timed out after 5 s"
    assert short_reason(None) == "no reason recorded"
