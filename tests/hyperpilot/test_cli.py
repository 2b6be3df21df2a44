"""Every CLI entry point through a subprocess, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "hyperpilot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_run_and_show(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    r = _cli("run", "--benchmark", "branin", "--method", "hyperband", "--budget", "3",
             "--storage", str(db), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "best value" in r.stdout and "regret" in r.stdout
    s = _cli("show", str(db))
    assert s.returncode == 0 and "method hyperband" in s.stdout and "complete" in s.stdout
    again = _cli("run", "--benchmark", "branin", "--method", "hyperband", "--budget", "3",
                 "--storage", str(db), "--no-progress")
    assert again.returncode == 2 and "--resume" in again.stderr
    done = _cli("run", "--benchmark", "branin", "--method", "hyperband", "--budget", "3",
                "--storage", str(db), "--no-progress", "--resume")  # finished: just the summary
    assert done.returncode == 0 and "best value" in done.stdout, done.stderr
    assert _cli("show", str(db)).stdout == s.stdout  # no trial added
    more = _cli("run", "--benchmark", "branin", "--method", "hyperband", "--budget", "5",
                "--storage", str(db), "--no-progress", "--resume")
    assert more.returncode == 0, more.stderr


def test_no_arguments_runs_or_resumes_the_default_study() -> None:
    from hyperpilot.cli import default_argv

    assert default_argv([]) == ["run", "--resume"]
    assert default_argv(["show", "x.sqlite"]) == ["show", "x.sqlite"]


def test_yaml_config(tmp_path: Path) -> None:
    cfg = tmp_path / "s.yaml"
    cfg.write_text("benchmark: hartmann6\nmethod: random\nbudget: 3\nseed: 2\n"
                   f"storage: {tmp_path / 'y.sqlite'}\n")
    r = _cli("run", "--config", str(cfg), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "method random, seed 2" in r.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="the store lock uses POSIX flock")
def test_a_store_being_run_cannot_be_run_twice(tmp_path: Path) -> None:
    import fcntl

    db = tmp_path / "s.sqlite"
    args = ("run", "--benchmark", "bandit", "--method", "random", "--budget", "1", "--storage", str(db),
            "--no-progress", "--resume")
    (tmp_path / "s.sqlite.lock").write_text("4242")
    with open(db, "w") as held:  # another live run holds the store
        fcntl.flock(held, fcntl.LOCK_EX)
        r = _cli(*args)
        assert r.returncode == 2 and "being run by another process (pid 4242)" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and db.stat().st_size == 0
        (tmp_path / "s.sqlite.lock").unlink()  # deleting the pid note releases nothing
        again = _cli(*args)
        assert again.returncode == 2 and "being run by another process" in again.stderr
    ok = _cli(*args)  # the holder is gone (its lock went with it): the run proceeds
    assert ok.returncode == 0, ok.stderr


def test_workload_flags_reach_the_workload() -> None:
    from hyperpilot.cli import _parser, _workload_options, settings

    args = _parser().parse_args(["run", "--workload", "sb3", "--algo", "ppo", "--env", "CartPole-v1",
                                 "--n-seeds", "2", "--eval-every", "500", "--eval-episodes", "3",
                                 "--workload-options", '{"value": "auc", "eval_every": 9}'])
    opts = _workload_options(settings(args))
    assert opts == {"value": "auc", "eval_every": 500, "eval_episodes": 3, "n_seeds": 2,
                    "algo": "ppo", "env": "CartPole-v1"}
    r = _cli("run", "--workload-options", "{value: auc}")
    assert r.returncode == 2 and "not JSON" in r.stderr


@pytest.mark.parametrize("args, needle", [
    (["run", "--method", "nope"], "unknown method"),
    (["run", "--benchmark", "nope"], "unknown benchmark"),
    (["run", "--benchmark", "lcbench:1", "--data-dir", "/nonexistent"], ""),
    (["run", "--budget", "-1"], "budget"),
    (["run", "--workers", "0"], "workers"),
    (["show", "/nonexistent.sqlite"], "does not exist"),
    (["run", "--method", "pbt", "--benchmark", "branin"], "does not resume"),
    (["run", "--method", "pbt", "--workload", "sb3", "--algo", "ppo", "--env", "CartPole-v1",
      "--min-steps", "500", "--max-steps", "4000"], "max_rollout"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str, tmp_path: Path) -> None:
    r = _cli(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hyperpilot: error:") and needle in lines[0]


@pytest.mark.parametrize("text, needle", [
    ("benchmark: [unclosed\n", "malformed YAML"),
    ("benchmark: branin\nbogus_key: 1\n", "unknown key"),
    ("- a list\n", "expected a mapping"),
])
def test_bad_yaml(tmp_path: Path, text: str, needle: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    r = _cli("run", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_test_incumbent_uses_fresh_seeds(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    r = _cli("run", "--benchmark", "bandit", "--method", "random", "--budget", "2",
             "--storage", str(db), "--no-progress")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "sub" / "test.json"
    t = _cli("test-incumbent", str(db), "--seeds", "3", "--out", str(out))
    assert t.returncode == 0, t.stderr
    assert "over seeds 10000..10002" in t.stdout and "mean" in t.stdout
    rec = json.loads(out.read_text())
    assert rec["seeds"] == [10000, 10001, 10002] and len(rec["values"]) == 3
    assert rec["tuning_seed"] == 0 and rec["mean"] == pytest.approx(sum(rec["values"]) / 3)
    assert set(rec["incumbent"]) and rec["tuning_budget"] > 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["test.json"]  # no partial left
    bad = _cli("test-incumbent", str(db), "--name", "nope")
    assert bad.returncode == 2 and "no study 'nope'" in bad.stderr
    curves = _cli("test-incumbent", str(db), "--eval-every", "100")
    assert curves.returncode == 2 and "SB3 workload only" in curves.stderr
    for workers, needle in (("0", "--workers must be >= 1"), ("2", "SB3 workload only")):
        w = _cli("test-incumbent", str(db), "--workers", workers)
        assert w.returncode == 2 and needle in w.stderr


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from hyperpilot.cli import main

    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("flags, needle", [
    (["--budget", "inf"], "budget must be a finite number > 0, got inf"),
    (["--budget", "nan"], "budget must be a finite number > 0"),
    (["--n-trials", "0"], "n_trials must be an integer >= 1, got 0"),
    (["--n-trials", "-3"], "n_trials must be an integer >= 1, got -3"),
    (["--timeout", "-5"], "timeout must be a finite number > 0"),
    (["--timeout", "0"], "timeout must be a finite number > 0"),
    (["--batch-size", "0"], "batch_size must be an integer >= 1, got 0"),
    (["--eta", "1"], "eta must be a finite number > 1"),
    (["--algo", "ppo"], "--algo set(s) a workload; benchmark 'branin' takes none"),
])
def test_values_a_study_cannot_honour_are_refused(flags: list[str], needle: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 20: these ran forever, ran nothing with exit 0, or were silently ignored."""
    db = tmp_path / "x.sqlite"
    code, _, err = _main(["run", "--benchmark", "branin", "--storage", str(db), "--no-progress",
                          *flags], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("hyperpilot: error:"), err
    assert needle in lines[0]
    assert not db.exists()


def test_eta_applies_to_a_benchmark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hyperpilot.storage import Storage

    db = tmp_path / "e.sqlite"
    code, _, err = _main(["run", "--benchmark", "branin", "--method", "hyperband", "--eta", "2",
                          "--budget", "1", "--storage", str(db), "--no-progress"], capsys)
    assert code == 0, err
    st = Storage(db, read_only=True)
    assert st.studies()[0]["definition"]["fidelity"]["eta"] == 2
    st.close()


def test_read_only_places_are_one_line_errors(tmp_path: Path, make_read_only,  # type: ignore[no-untyped-def]
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A store in a read-only folder, a read-only store to resume, and `show` on a valid store
    in a read-only folder (which must read it)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    db = ro / "s.sqlite"
    run = ["run", "--benchmark", "branin", "--method", "random", "--budget", "1", "--no-progress"]
    assert _main([*run, "--storage", str(db)], capsys)[0] == 0
    make_read_only(ro)
    code, _, err = _main([*run, "--storage", str(ro / "new.sqlite")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot write beside" in err, err
    code, out, err = _main(["show", str(db)], capsys)
    assert code == 0, err
    assert "method random" in out and "best value" in out and "budget used" in out
    file_db = tmp_path / "f.sqlite"  # a writable folder, a read-only file
    assert _main([*run, "--storage", str(file_db)], capsys)[0] == 0
    make_read_only(file_db)
    code, _, err = _main([*run, "--budget", "2", "--storage", str(file_db), "--resume"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "read-only" in err, err


def test_budget_overshoot_is_reported_in_one_wording(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 20: 2.67 FFE were used for --budget 2 while the bar said 2.0/2.0. A batch of 3
    full-budget trials asked at 0 FFE ends at 3 FFE; run, show and the bar all say so."""
    from hyperpilot.overview import OVERSHOOT_NOTE

    db = tmp_path / "o.sqlite"
    code, out, err = _main(["run", "--benchmark", "branin", "--method", "random", "--budget", "2",
                            "--batch-size", "3", "--storage", str(db)], capsys)
    line = f"3.00 of 2 FFE (+1.00 past the limit: {OVERSHOOT_NOTE})"
    assert code == 0 and line in out, out
    assert "3.0/3.0" in err and "limit=2 FFE (+1.00 over)" in err  # the bar, not 2.0/2.0
    code, shown, _ = _main(["show", str(db)], capsys)
    assert code == 0 and f"budget used      {line}" in shown


def test_show_prints_incumbent_budget_failures_and_returns(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """Issue 20: `show` lacked the incumbent, budget, failure count and reasons; RL values were
    shown negated (the store keeps -return) while test-incumbent prints returns."""
    import hyperpilot as hp

    db = tmp_path / "rl.sqlite"
    study = hp.Study(hp.SearchSpace({"x": hp.Float(0, 1)}), method="random", storage=db,
                     problem={"workload": "sb3", "workload_options": {"algo": "ppo"}})

    def objective(config: dict, budget: float, resume: float, ctx: object) -> float:
        if config["x"] > 0.6:
            raise ValueError("the agent diverged after " + "many updates " * 40 + "at step 812")
        return -100.0 * config["x"]  # -return, as the SB3 workload reports it

    study.run(objective, n_trials=8)
    n_fail = sum(r.status.value == "failed" for r in study.results)
    best = study.best
    assert best is not None and 0 < n_fail < 8
    code, out, _ = _main(["show", str(db)], capsys)
    assert code == 0
    assert f"trials           8 ({n_fail} failed, 0 stopped early)" in out
    assert re.search(rf"failure          {n_fail} x ValueError: \.\.\.(many updates )+at step 812\n",
                     out), out
    assert f"best return      {-best[1]:.6g} at budget 1" in out  # returns, positive
    assert "budget used      8.00 FFE" in out and "return" in out.splitlines()[-9]
    assert f"{-best[1]:.6g}" in out and f" {best[1]:.6g}" not in out
