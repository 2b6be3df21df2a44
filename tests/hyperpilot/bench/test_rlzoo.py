"""rl-zoo's tuner as a peer of the rl_tuning experiment: its protocol, and a tiny run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hyperpilot.bench.peers.rlzoo import protocol, run_rlzoo, sampler_seed


def test_rl_zoo_protocol_settings() -> None:
    p = protocol(100_000)  # rl-zoo: one evaluation per 100k steps, 5 episodes, warm-up n // 3
    assert p == {"n_evaluations": 1, "eval_every": 100_000, "eval_episodes": 5,
                 "n_startup_trials": 10, "n_warmup_steps": 0}
    assert protocol(1_000_000)["n_evaluations"] == 10 and protocol(1_000_000)["n_warmup_steps"] == 3
    assert protocol(50_000, n_evaluations=4)["eval_every"] == 12_500
    with pytest.raises(ValueError):
        protocol(1000, n_evaluations=0)


@pytest.mark.rl
def test_a_tiny_run_is_a_study_that_show_and_test_incumbent_read(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from hyperpilot.cli import main

    db = tmp_path / "rlzoo.sqlite"
    out = run_rlzoo("ppo", "CartPole-v1", 1000, 2.0, 0, db, n_evaluations=2, eval_episodes=1,
                    n_startup=1)
    assert out["trials"] >= 2 and out["ffe"] >= 2.0
    assert main(["show", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "method optuna-tpe-median" in shown and "best return" in shown
    assert main(["test-incumbent", str(db), "--seeds", "2"]) == 0
    assert "incumbent rule: best single run" in capsys.readouterr().out
    again = run_rlzoo("ppo", "CartPole-v1", 1000, 2.0, 0, db, n_evaluations=2, eval_episodes=1,
                      n_startup=1)  # a finished run resumed: nothing left to run
    assert again == out


class _Killed(BaseException):
    """Stands in for a SIGKILL: nothing catches it."""


def _trials(db: Path) -> list[tuple[int, str, str, float | None, list[tuple[float, float]]]]:
    from hyperpilot.storage import Storage

    store = Storage(db)
    rows = [(r.trial.trial_id, json.dumps(r.trial.config, sort_keys=True), r.result.status.value,
             r.result.value, r.result.curve) for r in store.load_trials(1) if r.result is not None]
    store.close()
    return rows


@pytest.mark.rl
def test_a_killed_run_resumes_to_what_the_unbroken_run_finds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed while trial 3 trains (asked and stored, never told), then run again: the same
    trials as a run never stopped (model-based proposals from trial 1 on, the pruner active), and
    trial 3 is rerun, not stored twice."""
    from hyperpilot.storage import Storage

    kw = {"n_evaluations": 2, "eval_episodes": 1, "n_startup": 1}
    whole = run_rlzoo("ppo", "CartPole-v1", 1000, 5.0, 3, tmp_path / "whole.sqlite", **kw)
    broken = tmp_path / "broken.sqlite"
    finish = Storage.finish_trial

    def kill_at_trial_3(self: Storage, sid: int, result: Any, seq: int, *a: Any) -> None:
        if result.trial.trial_id == 3:
            raise _Killed
        finish(self, sid, result, seq, *a)

    monkeypatch.setattr(Storage, "finish_trial", kill_at_trial_3)
    with pytest.raises(_Killed):
        run_rlzoo("ppo", "CartPole-v1", 1000, 5.0, 3, broken, **kw)
    monkeypatch.setattr(Storage, "finish_trial", finish)
    assert len(_trials(broken)) == 3  # trials 0-2 told, trial 3 pending
    assert run_rlzoo("ppo", "CartPole-v1", 1000, 5.0, 3, broken, **kw) == whole
    assert _trials(broken) == _trials(tmp_path / "whole.sqlite")


def test_the_sampler_seed_depends_on_the_master_seed_and_the_trial() -> None:
    seeds = {sampler_seed(m, n) for m in range(3) for n in range(50)}
    assert len(seeds) == 150 and all(0 <= s < 2**31 - 1 for s in seeds)
    assert sampler_seed(0, 7) == sampler_seed(0, 7)


@pytest.mark.rl
def test_normalize_is_searched_when_tuned_and_absent_otherwise(tmp_path: Path) -> None:
    from hyperpilot.storage import Storage

    kw = {"n_evaluations": 1, "eval_episodes": 1, "n_startup": 1}
    for normalize in ("tune", "off"):
        db = tmp_path / f"{normalize}.sqlite"
        run_rlzoo("ppo", "CartPole-v1", 600, 2.0, 0, db, normalize=normalize, **kw)
        store = Storage(db)
        opts = store.studies()[0]["definition"]["problem"]["workload_options"]
        configs = [r.trial.config for r in store.load_trials(1)]
        store.close()
        assert ("normalize" in opts) == (normalize == "tune")
        assert all(("normalize" in c) == (normalize == "tune") for c in configs)
