"""The dashboard's read-only cache and its views, on small real stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import hyperpilot as hp
from hyperpilot.dashboard.cache import StudyCache, open_studies
from hyperpilot.dashboard.views import comparison, state

from .demo import FID, SPACE, curvy, make_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("dash") / "s.sqlite", budget=6, bo_trials=11)


def _cache(store: Path, name: str) -> StudyCache:
    c = next(c for c in open_studies([store]) if c.name == name)
    c.refresh()
    return c


def test_every_view_of_a_curve_stopping_study(store: Path) -> None:
    s = state(_cache(store, "hb"))
    assert s["n_told"] == s["n_trials"] > 0 and s["n_running"] == 0
    ys = s["incumbent"]["value"]
    assert ys and all(b <= a for a, b in zip(ys, ys[1:], strict=False)), "incumbent only improves"
    counted = sum(c[k] for c in s["rungs"] for k in
                  ("running", "promoted", "stopped", "complete", "failed"))
    assert counted == s["n_trials"]
    assert any(c["promoted"] for c in s["rungs"]) and any(c["stopped"] for c in s["rungs"])
    assert s["failures"] and all(f["reason"].startswith("RuntimeError: diverged")
                                 and "Traceback" not in f["reason"] for f in s["failures"])
    stops = s["curves"]["stops"]
    assert stops and all(m["value"] is not None and m["reason"] for m in stops)
    for b in s["curves"]["bands"]:
        assert b["lo"][1] <= b["mean"][1] <= b["hi"][1]
    dims = {d["label"]: d for d in s["parcoords"]["dims"]}
    assert set(dims) == {"x", "y (log10)", "kind"} and dims["kind"]["ticktext"] == ["a", "b"]
    assert all(-3 <= v <= 0 for v in dims["y (log10)"]["values"])
    assert len(s["schedule"]) == s["n_trials"] and s["decisions"]


def test_the_surrogates_predictions_against_what_was_observed(store: Path) -> None:
    p = state(_cache(store, "bo"))["predictions"]
    assert p["predicted"] and len(p["predicted"]) == len(p["observed"]) == len(p["sd"])
    assert all(sd > 0 for sd in p["sd"])


def test_the_cache_reads_only_what_is_new_and_never_writes(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.sqlite", budget=2)
    c = _cache(path, "hb")
    n, v = len(c.rows), c.version
    assert not c.refresh() and c.version == v, "an unchanged store is not read again"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        c.st._con.execute("DELETE FROM trials")
    hp.Study(SPACE, FID, "hyperband:stop", seed=3, storage=path, name="hb").run(curvy, budget=4)
    assert c.refresh() and c.version == v + 1 and len(c.rows) > n
    fresh = _cache(path, "hb")
    assert {k: (r.status, r.value, r.curve) for k, r in c.rows.items()} == {
        k: (r.status, r.value, r.curve) for k, r in fresh.rows.items()}
    assert c.decisions == fresh.decisions


def test_studies_side_by_side(store: Path) -> None:
    caches = open_studies([store.parent])
    for c in caches:
        c.refresh()
    out = comparison(caches)
    assert [o["label"].split(" ")[0] for o in out] == ["s.sqlite:hb", "s.sqlite:bo"]
    assert all(o["ffe"] for o in out)


def test_every_view_of_a_pbt_study_whose_configs_are_schedules(tmp_path: Path) -> None:
    from hyperpilot.benchmarks import get_benchmark

    toy = get_benchmark("schedule-toy")
    db = tmp_path / "pbt.sqlite"
    hp.Study(toy.space, toy.fidelity, "pbt", seed=0, storage=db, name="pbt",
             method_options={"population": 4, "interval": 9}).run(toy, budget=4)
    s = state(_cache(db, "pbt"))
    assert s["n_told"] == 12
    dims = {d["label"]: d for d in s["parcoords"]["dims"]}
    assert all(isinstance(v, float) for v in dims["learning_rate (log10)"]["values"])
