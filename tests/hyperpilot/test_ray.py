"""RayExecutor on a real local Ray cluster (a head started with ``ray start``, 2 CPUs).

What is order-dependent: with asynchronous workers (no ``batch_size``) the order in which trials
finish decides Hyperband's promotions, so an async Ray run and an async local run differ trial by
trial; they are compared on set-level properties. With synchronous batches (``batch_size=2``) and a
deterministic objective the study sees the same results in the same order whatever the workers do,
so Ray and the local executor give identical trajectories.

The cluster is stopped in teardown by killing only the processes that carry this cluster's own
temp directory in their command line (``ray stop --force`` would kill every Ray on the machine).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import hyperpilot as hp
from hyperpilot.storage import Storage
from hyperpilot.study import Study
from tests.hyperpilot.faults import exit_once, hang_some
from tests.hyperpilot.objectives import FIDELITY, SPACE, branin_mf

if TYPE_CHECKING:
    from hyperpilot.ray_executor import RayExecutor

# Ray reads its auth settings when it is imported: the cluster's private token must be in the
# environment before ``import ray`` (this module is the only one importing it).
TOKEN_ENV = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
os.environ.update(TOKEN_ENV)
ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pids_of(tag: str) -> list[int]:
    """Processes whose command line contains ``tag`` (this cluster's temp directory)."""
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if tag.encode() in (p / "cmdline").read_bytes():
                    out.append(int(p.name))
            except OSError:
                continue
    return out


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Ray head on 127.0.0.1 with 2 CPUs and a private token; yields its address."""
    temp = tempfile.mkdtemp(prefix="hpr-", dir="/tmp")  # short: Ray's socket paths are limited
    port = _free_port()
    env = {**os.environ, **TOKEN_ENV, "OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", "--num-cpus=2",
                    "--include-dashboard=false", f"--port={port}", f"--temp-dir={temp}"],
                   env=env, check=True, capture_output=True, timeout=180)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for pid in _pids_of(temp):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


@pytest.fixture
def connected(cluster: str) -> str:
    if not ray.is_initialized():
        ray.init(address=cluster, logging_level="WARNING")
    return cluster


def _ray(n: int = 2, timeout: float | None = None) -> RayExecutor:
    from hyperpilot.ray_executor import RayExecutor

    return RayExecutor(branin_mf, n, timeout=timeout)


def _trajectory(s: Study) -> list[tuple]:
    return [(r.trial.trial_id, r.trial.config_id, r.trial.budget, r.status.value, r.value)
            for r in sorted(s.results, key=lambda r: r.trial.trial_id)]


def test_batches_equal_local_run_exactly(cluster: str) -> None:
    from hyperpilot.ray_executor import RayExecutor

    t0 = time.perf_counter()
    on_ray = Study(SPACE, FIDELITY, "hyperband", seed=4).run(
        branin_mf, n_trials=40, batch_size=2, executor=RayExecutor(branin_mf, 2, address=cluster))
    local = Study(SPACE, FIDELITY, "hyperband", seed=4).run(branin_mf, n_trials=40, batch_size=2,
                                                            n_workers=2)
    assert _trajectory(on_ray) == _trajectory(local)
    assert on_ray.best == local.best
    assert time.perf_counter() - t0 < 120


def test_async_matches_on_sets(connected: str) -> None:
    on_ray = Study(SPACE, FIDELITY, "hyperband", seed=4).run(branin_mf, n_trials=40,
                                                             executor=_ray())
    local = Study(SPACE, FIDELITY, "hyperband", seed=4).run(branin_mf, n_trials=40, n_workers=2)
    for s in (on_ray, local):
        assert len(s.results) == 40 and all(r.status == hp.Status.COMPLETE for r in s.results)
        assert sorted(r.trial.trial_id for r in s.results) == list(range(40))
        for r in s.results:  # every value is the objective's, whoever ran it
            ctx = hp.Context(r.trial, r.trial.seed)
            assert r.value == branin_mf(r.trial.config, r.trial.budget, 0, ctx)[0]
        pairs = [(r.trial.config_id, r.trial.budget) for r in s.results]
        assert len(pairs) == len(set(pairs))
    # before the first result comes back nothing can be promoted: the first trials agree
    first = {r.trial.trial_id: r.trial.config for r in local.results if r.trial.trial_id < 2}
    assert {r.trial.trial_id: r.trial.config for r in on_ray.results
            if r.trial.trial_id < 2} == first


def test_timeout_kills_the_actor(connected: str) -> None:
    from hyperpilot.ray_executor import RayExecutor

    ex = RayExecutor(hang_some, 2, timeout=3.0)
    s = Study(SPACE, FIDELITY, "random", seed=0).run(hang_some, n_trials=6, executor=ex)
    failed = [r for r in s.results if r.status == hp.Status.FAILED]
    assert [r.trial.trial_id for r in failed] == [1] and "timeout" in (failed[0].reason or "")
    assert ex.restarts == 1
    assert sum(r.status == hp.Status.COMPLETE for r in s.results) == 5


@pytest.mark.parametrize("retries", [0, 1])
def test_actor_death_fails_or_retries(connected: str, retries: int, tmp_path: Path) -> None:
    from hyperpilot.ray_executor import RayExecutor

    ex = RayExecutor(exit_once, 2)
    s = Study(SPACE, FIDELITY, "random", seed=0, storage=tmp_path / "r.sqlite").run(
        exit_once, n_trials=6, executor=ex, retries=retries)
    failed = {r.trial.trial_id for r in s.results if r.status == hp.Status.FAILED}
    assert len(s.results) == 6
    assert failed == (set() if retries else {0, 3})
    if not retries:
        assert all("actor died" in (r.reason or "") for r in s.results if r.trial.trial_id in failed)


def test_cli_runs_on_the_cluster(cluster: str, tmp_path: Path) -> None:
    """``--executor ray --ray-address`` through the CLI gives the local executor's trials."""
    def cli(db: Path, *extra: str) -> None:
        args = [sys.executable, "-m", "hyperpilot", "run", "--benchmark", "branin", "--method",
                "hyperband", "--n-trials", "20", "--batch-size", "2", "--workers", "2",
                "--storage", str(db), "--no-progress", *extra]
        r = subprocess.run(args, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]

    cli(tmp_path / "ray.sqlite", "--executor", "ray", "--ray-address", cluster, "--retries", "1")
    cli(tmp_path / "local.sqlite")
    rows = []
    for db in ("ray.sqlite", "local.sqlite"):
        st = Storage(tmp_path / db)
        rows.append([(r.trial.trial_id, r.trial.budget, r.result.value if r.result else None)
                     for r in st.load_trials(st.studies()[0]["study_id"])])
        st.close()
    assert rows[0] == rows[1] and len(rows[0]) == 20


def test_pbt_on_ray_equals_the_local_run(connected: str) -> None:
    """pbt's clones are copied by the driver before a trial is submitted: Ray actors on the
    same machine continue them exactly as local workers do."""
    from hyperpilot.benchmarks import get_benchmark
    from hyperpilot.ray_executor import RayExecutor

    toy = get_benchmark("schedule-toy")
    opts = {"population": 4, "interval": 9}
    on_ray = Study(toy.space, toy.fidelity, "pbt", seed=3, method_options=opts).run(
        toy, budget=4, executor=RayExecutor(toy, 2))
    local = Study(toy.space, toy.fidelity, "pbt", seed=3, method_options=opts).run(toy, budget=4)

    def key(s: Study) -> list[tuple]:
        return sorted((r.trial.config_id, r.trial.info["clone_from"], r.value) for r in s.results)

    assert len(on_ray.results) == 12 and key(on_ray) == key(local)
