"""One conformance suite for every registered method: contract, determinism, resume, no repeats."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

import hyperpilot as hp
from hyperpilot.methods import METHODS, POPULATION_METHODS, UnknownMethod, make_method
from hyperpilot.study import Study
from tests.hyperpilot.objectives import SPACE, branin_mf, noisy_branin

FID = hp.Fidelity(1, 9, 3)
FAST = {"n_init": 4, "num_restarts": 1, "raw_samples": 32}
SMALL_SURROGATES = {"ensemble": {"max_steps": 60, "n_members": 3, "width": 16},
                    "mcdropout": {"max_steps": 60, "n_samples": 4, "width": 16},
                    "laplace": {"max_steps": 60, "width": 16, "tune_steps": 10},
                    "laplace-warp": {"max_steps": 60, "width": 16, "tune_steps": 10},
                    "rff": {"n_features": 64, "max_iter": 30},
                    "rff-kev": {"n_features": 64, "fit_features": 64, "max_iter": 30},
                    "transfer": {"n_features": 64, "fit_features": 64, "max_iter": 30}}
"""Small settings per surrogate (by the method's default surrogate)."""


# pbt, pb2 and pb2-bnn need an objective that resumes from checkpoints and configs that hold
# schedules: their own suite (determinism, resume after a kill, contract) is tests/hyperpilot/test_pbt.py.
RACING = ["random:race", "hyperband:race", "gp-bo:race", "hyperpilot:race"]
"""Racing variants: the same suite, with a noisy objective so that races happen."""


def _opts(name: str) -> dict[str, Any]:
    """Small models, so the suite checks behaviour, not quality, in seconds."""
    base = name.partition(":")[0]
    if base in ("random", "hyperband"):
        return {}
    small = SMALL_SURROGATES.get(getattr(METHODS[base], "surrogate", ""))
    return {**FAST, **({"surrogate_options": small} if small else {})}


def _drive(s: Study, n: int, batch: int = 3) -> Study:
    objective = noisy_branin if s.method_name in RACING else branin_mf
    while len(s.results) < n:
        for t in s.ask(batch):
            s.tell(t, *objective(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    return s


def _traj(s: Study) -> list[tuple]:
    return [(r.trial.trial_id, r.trial.config_id, r.trial.budget, r.value,
             tuple(sorted(r.trial.config.items()))) for r in s.results]


@pytest.fixture(params=sorted(set(METHODS) - set(POPULATION_METHODS)) + RACING)
def method(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_contract_and_determinism(method: str) -> None:
    a = _drive(Study(SPACE, FID, method, seed=5, method_options=_opts(method)), 16)
    b = _drive(Study(SPACE, FID, method, seed=5, method_options=_opts(method)), 16)
    assert _traj(a) == _traj(b)
    for r in a.results:
        SPACE.validate(r.trial.config)
        assert FID.min <= r.trial.budget <= FID.max
        assert "source" in r.trial.info and r.trial.info["overhead_s"] >= 0
    assert a.best is not None and math.isfinite(a.best[1])


def test_no_config_proposed_twice(method: str) -> None:
    s = _drive(Study(SPACE, FID, method, seed=1, method_options=_opts(method)), 20)
    new = [tuple(sorted(r.trial.config.items())) for r in s.results
           if r.trial.info.get("source") not in ("promotion", "race")]
    assert len(new) == len(set(new))
    by_id: dict[int, dict] = {}
    for r in s.results:  # a promotion, and a race run on another seed, keep their config
        assert by_id.setdefault(r.trial.config_id, r.trial.config) == r.trial.config
    runs = [(r.trial.config_id, r.trial.budget, r.trial.seed_index) for r in s.results]
    assert len(runs) == len(set(runs))  # no config runs one budget on one seed twice


def test_resume_equivalence(method: str, tmp_path: Path) -> None:
    full = _drive(Study(SPACE, FID, method, seed=2, method_options=_opts(method)), 18)
    db = tmp_path / "m.sqlite"
    part = _drive(Study(SPACE, FID, method, seed=2, storage=db, method_options=_opts(method)), 12)
    part.ask(3)  # asked, never told: the crash
    part.storage.close()
    resumed = _drive(Study(SPACE, FID, method, seed=2, storage=db, method_options=_opts(method)), 18)
    assert _traj(resumed) == _traj(full)


def test_unknown_method() -> None:
    with pytest.raises(UnknownMethod, match="known"):
        make_method("nope", SPACE, FID, 0)


def test_failed_trials_never_reach_the_model() -> None:
    s = Study(SPACE, FID, "gp-bo", seed=0, method_options=FAST)
    while len(s.results) < 14:
        for t in s.ask(2):
            if t.trial_id % 2:
                s.tell(t, float("nan"))
            else:
                s.tell(t, *branin_mf(t.config, t.budget, 0, hp.Context(t, t.seed)))
    model_trials = [r for r in s.results if r.trial.info.get("source") == "model"]
    n_ok = sum(r.status == hp.Status.COMPLETE for r in s.results)
    assert all(r.trial.info["n_train"] <= n_ok for r in model_trials)


def test_background_fit_proposes_from_the_last_finished_fit() -> None:
    """``:bg``: random until the first background fit is done, then model proposals from it."""
    opts = _opts("hyperpilot")
    s = _drive(Study(SPACE, FID, "hyperpilot:bg", seed=0, method_options=opts), 12)
    proposer = s.method.proposer  # type: ignore[attr-defined]
    assert proposer.background_fit and proposer.optimizer == "pool"
    waiting = [r for r in s.results
               if r.trial.info.get("reason") == "first background fit still running"]
    proposer._collect(wait=True)  # let the running background fit finish
    _drive(s, 30)
    model = [r.trial.info for r in s.results if r.trial.info.get("source") == "model"]
    assert model, "no proposal came from the background fit"
    assert all(i["n_train"] >= proposer.min_points for i in model)
    assert s.method.fallbacks == 0
    assert len(waiting) + len(model) <= len(s.results)
    server = proposer._server
    assert server is not None and server.alive
    proposer.close()
    assert not server.alive
    keys = [tuple(sorted(r.trial.config.items())) for r in s.results
            if r.trial.info.get("source") != "promotion"]
    assert len(keys) == len(set(keys))


def test_fit_server_returns_results_errors_and_survives_them() -> None:
    from hyperpilot.methods.fit_server import FitServer

    server = FitServer()
    try:
        server.submit(math.sqrt, 16.0)
        assert server.result() == 4.0
        server.submit(math.sqrt, -1.0)
        with pytest.raises(ValueError, match="math domain"):
            server.result()
        with pytest.raises(RuntimeError, match="already running"):
            server.submit(math.sqrt, 1.0)
            server.submit(math.sqrt, 1.0)
        assert server.result() == 1.0 and server.alive
        server.submit(time.sleep, 30.0)  # the child dies mid-fit
        server.proc.kill()
        with pytest.raises(RuntimeError, match="died"):
            server.result()
        assert not server.alive and not server.busy
    finally:
        server.close()


@pytest.mark.parametrize(("variant", "rule"), [
    ("stop", {"threshold": 0.05, "patience": 2, "min_fraction": 0.1, "model": "parametric"}),
    ("faststop", {"threshold": 0.4, "patience": 1, "min_fraction": 0.05, "model": "parametric"}),
    ("gainstop", {"threshold": 0.05, "patience": 2, "min_fraction": 0.1, "model": "gain"}),
    ("bnnstop", {"threshold": 0.05, "patience": 2, "min_fraction": 0.1, "model": "bnn"})])
def test_stopping_variants_set_the_rule_they_name(variant: str, rule: dict[str, Any]) -> None:
    m = make_method(f"hyperband:{variant}", SPACE, FID, 0)
    assert {k: getattr(m.stop_rule, k) for k in rule} == rule
    assert (m.stop_curves is None) == (rule["model"] == "parametric")
