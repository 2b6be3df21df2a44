"""rl-zoo's tuner as a peer of the rl_tuning experiment: its protocol, and a tiny run."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperpilot.bench.peers.rlzoo import protocol, run_rlzoo


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
                      n_startup=1)  # a rerun starts again from scratch, the same way
    assert again == out
