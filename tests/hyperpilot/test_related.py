"""hyperpilot.related: which tasks are related, their data in the study's encoding, the plumbing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperpilot.benchmarks import LCBENCH_DEV_TASKS
from hyperpilot.related import (
    hyperband_budgets,
    method_related_options,
    related_benchmarks,
    related_data,
    related_spec,
)
from hyperpilot.trial import Fidelity


def test_related_tasks_never_include_the_task_and_only_development_tasks() -> None:
    dev = related_benchmarks("lcbench:3945")
    assert len(dev) == len(LCBENCH_DEV_TASKS) - 1 and "lcbench:3945" not in dev
    held_out = related_benchmarks("lcbench:189873")  # not a development task: all ten
    assert held_out == [f"lcbench:{t}" for t in LCBENCH_DEV_TASKS]
    assert related_benchmarks("hartmann6") == [] and related_benchmarks("bandit") == []


def test_hyperband_budgets() -> None:
    assert hyperband_budgets(Fidelity(1, 52, 3)) == pytest.approx([52 / 27, 52 / 9, 52 / 3, 52])
    assert hyperband_budgets(Fidelity(1, 1)) == [1]


def test_method_options_for_a_surrogate_that_learns_from_related_tasks_and_gp_bo() -> None:
    opts = method_related_options("hyperpilot@transfer:race", "lcbench:7593", "/data")
    assert opts == {"related": related_spec("lcbench:7593", "/data")}
    assert opts["related"]["points"] > 0 and "lcbench:7593" not in opts["related"]["tasks"]
    assert method_related_options("hyperpilot", "lcbench:7593", "/data") == opts  # the default
    assert method_related_options("hyperpilot@rff-kev", "lcbench:7593", "/data") == {}
    # gp-bo's own GP gets them only where there are some (they switch on the local share)
    assert method_related_options("gp-bo", "lcbench:7593", "/data") == opts
    assert method_related_options("gp-bo", "branin", "/data") == {}
    assert method_related_options("gp-bo@ensemble", "lcbench:7593", "/data") == {}
    assert method_related_options("gp-bo-nostop", "lcbench:7593", "/data") == {}
    assert method_related_options("random", "lcbench:7593", "/data") == {}
    # pb2's explore model sees (time, hyperparameters), not configs: no related tasks for it
    assert method_related_options("pb2-bnn@transfer", "lcbench:7593", "/data") == {}


def test_a_surrogate_without_related_tasks_refuses_the_option() -> None:
    from hyperpilot.methods import make_method
    from hyperpilot.space import Float, SearchSpace

    space = SearchSpace({"x": Float(0, 1)})
    with pytest.raises(ValueError, match="learns from related tasks"):
        make_method("hyperpilot@rff-kev", space, Fidelity(1, 9), 0, related={"tasks": []})
    m = make_method("hyperpilot@transfer", space, Fidelity(1, 9), 0, related={"tasks": []})
    assert m.options()["related"] == {"tasks": []}


def test_related_data_in_the_study_encoding(data_dir: Path) -> None:
    from hyperpilot.benchmarks import get_benchmark

    bench = get_benchmark("lcbench:3945", data_dir=data_dir)
    spec = {**related_spec("lcbench:3945", str(data_dir), points=8),
            "tasks": ["lcbench:7593", "lcbench:34539"]}
    data = related_data(spec, bench.space, bench.fidelity, seed=0)
    assert len(data) == 2
    X, y = data[0]
    assert X.shape == (8, bench.space.dim + 1) and y.shape == (8,)
    assert np.all((X >= 0) & (X <= 1)) and np.all(y <= 0)  # larger is better: -(1 - accuracy)
    z = sorted(set(np.round(X[:, -1], 6)))  # the four Hyperband budgets, log-scaled
    assert len(z) == 4 and z[-1] == 1.0
    again = related_data(spec, bench.space, bench.fidelity, seed=0)
    assert np.array_equal(again[0][0], X) and np.array_equal(again[1][1], data[1][1])
    assert not np.array_equal(related_data(spec, bench.space, bench.fidelity, seed=1)[0][0], X)
    flat = related_data(spec, bench.space, bench.fidelity, seed=0, budget_input=False)
    assert flat[0][0].shape == (8, bench.space.dim)


def test_cli_run_on_lcbench_gives_the_default_its_related_tasks(data_dir: Path,
                                                                 tmp_path: Path) -> None:
    """``python -m hyperpilot run --benchmark lcbench:<id>`` stores the related tasks in the
    study's definition, as the bench does (a budget too small for a model fit: no pretraining)."""
    import os
    import subprocess
    import sys

    from hyperpilot.storage import Storage

    db = tmp_path / "r.sqlite"
    r = subprocess.run([sys.executable, "-m", "hyperpilot", "run", "--benchmark", "lcbench:3945",
                        "--method", "hyperpilot", "--budget", "0.5", "--data-dir", str(data_dir),
                        "--storage", str(db), "--no-progress"],
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    definition = Storage(db).studies()[0]["definition"]
    related = definition["method_options"]["related"]
    assert related["tasks"] == related_benchmarks("lcbench:3945")
    assert related["data_dir"] == str(data_dir)
