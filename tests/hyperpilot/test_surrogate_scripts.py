"""The logic of the surrogate measurement scripts (``paper/scripts/surrogate_*.py``) on tiny inputs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "paper" / "scripts"))

import acq_iterations  # noqa: E402
import rff_starvation as starvation  # noqa: E402
import subset_bias  # noqa: E402
import surrogate_common as common  # noqa: E402
import surrogate_cost as cost  # noqa: E402
import surrogate_quality as quality  # noqa: E402
from timelimit import Outcome, TimeLimitedWorker  # noqa: E402

from surrogates import SURROGATES, UnknownSurrogate  # noqa: E402


def test_top_indices_keep_the_largest_tenth_best_first() -> None:
    y = torch.tensor([1.0, 5, 3, 5, 2, 0, 4, 9, 8, 7])
    assert common.top_indices(y).tolist() == [7]
    assert common.top_indices(y.unsqueeze(-1), 0.3).tolist() == [7, 8, 9]
    assert common.top_indices(y, 0.25).tolist() == [7, 8, 9]  # ceil(2.5)
    assert common.top_indices(torch.tensor([5.0, 5, 1]), 0.5).tolist() == [0, 1]  # ties: earlier
    assert len(common.top_indices(torch.arange(30.0))) == 3  # not 4 from 0.1 * 30 = 3.0000000004
    assert common.top_indices(torch.tensor([2.0, 1.0]), 0.1).tolist() == [0]  # at least one
    with pytest.raises(ValueError):
        common.top_indices(y, 0.0)


def test_heldout_metrics_score_the_top_tenth_apart() -> None:
    """A model right everywhere but in its order of the best three points."""
    y = torch.arange(30.0)
    mean = y.clone()
    mean[27:] = torch.tensor([29.0, 28.0, 27.0])  # best three reversed, off by 2, 0, -2
    var = torch.full((30,), 4.0)
    m = common.heldout_metrics(mean, var, y.unsqueeze(-1))
    assert set(m) == {p + k for p in ("", "top10_") for k in ("rmse", "nll", "cov90", "spearman")}
    assert m["spearman"] > 0.99 and m["top10_spearman"] == pytest.approx(-1.0)
    assert m["top10_rmse"] == pytest.approx(math.sqrt(8 / 3))
    assert m["rmse"] == pytest.approx(math.sqrt(8 / 30))
    assert m["cov90"] == 1.0 and m["top10_cov90"] == 1.0  # |error| <= 2 < 1.645 * 2
    nll = 0.5 * (math.log(2 * math.pi * 4.0) + 8 / 3 / 4.0)
    assert m["top10_nll"] == pytest.approx(nll)


def test_metrics_coverage_and_undefined_spearman() -> None:
    y = torch.zeros(4)
    m = common.metrics(torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.ones(4), y)
    assert m["cov90"] == 0.5  # |error| 0 and 1 inside 1.645, 2 and 3 outside
    assert math.isnan(m["spearman"])  # constant targets
    assert math.isnan(common.metrics(torch.ones(2), torch.ones(2), torch.arange(2.0))["spearman"])


def test_surrogate_names_default_to_the_registry_and_are_checked() -> None:
    assert common.surrogate_names(None) == list(SURROGATES)
    assert common.surrogate_names(["all"]) == list(SURROGATES)
    assert common.surrogate_names(["gp,ensemble", "gp-capped", "gp"]) == ["gp", "ensemble",
                                                                        "gp-capped"]
    with pytest.raises(UnknownSurrogate, match="known:"):
        common.surrogate_names(["gp,nope"])


def test_summarize_takes_medians_of_ok_rows_and_collects_notes() -> None:
    rows = [{"k": "a", "x": 1.0, "status": "ok"}, {"k": "a", "x": 3.0, "status": "ok"},
            {"k": "a", "x": 100.0, "status": "ok"}, {"k": "a", "x": math.nan, "status": "failed",
                                                     "note": "fit failed: boom"},
            {"k": "b", "x": math.nan, "status": "skipped", "note": "skipped: too big"},
            {"k": "b", "x": math.nan, "status": "skipped", "note": "skipped: too big"}]
    a, b = common.summarize(rows, ["k"], ["x"])
    assert (a["x"], a["runs"], a["note"]) == (3.0, 3, "fit failed: boom")
    assert math.isnan(b["x"]) and (b["runs"], b["note"]) == (0, "skipped: too big")
    md = common.records_markdown([a, b], ["k", "x", "runs", "note"], digits=2)
    assert md.splitlines()[2:] == ["| a | 3.00 | 3 | fit failed: boom |",
                                   "| b | - | 0 | skipped: too big |"]


def test_lcbench_tasks_are_development_tasks_only() -> None:
    assert quality.lcbench_tasks(["3945", "7593", "3945"]) == ["lcbench:3945", "lcbench:7593"]
    assert len(quality.lcbench_tasks(["dev"])) == 10
    with pytest.raises(ValueError, match="not a development task"):
        quality.lcbench_tasks(["189862"])


def test_quality_rows_skip_exact_gps_above_the_limit_and_score_the_others() -> None:
    split = common.hartmann_split(12, 40, seed=0)
    rows = quality.evaluate("hartmann6", split, 12, 0, ["gp", "gp-capped"], max_gp_n=10)
    gp, capped = rows
    assert gp["status"] == "skipped" and "--max-gp-n 10" in gp["note"]
    assert math.isnan(gp["top10_nll"]) and list(gp) == list(capped)  # same CSV columns
    assert capped["status"] == "ok" and capped["surrogate"] == "gp-capped"
    assert all(math.isfinite(capped[c]) for c in ("rmse", "nll", "top10_rmse", "top10_nll"))
    md = quality.table(rows)
    assert "| hartmann6 | 12 | gp | - |" in md and "| hartmann6 | 12 | gp-capped | " in md
    assert quality.skip_reason("gp-capped", 10**6, 10) is None
    assert quality.skip_reason("gp", 10, None) is None


def _fake_call(log: list[tuple[str, int, int]]) -> cost.Call:
    """The exact GP takes (n / 100)^3 s, the others n / 1000 s; over the limit is a timeout.
    ``log`` gets each call's ``(name, n, seed)``."""
    def call(job: cost.Job, timeout: float | None) -> Outcome:
        log.append((job.name, job.n, job.seed))
        name, n = job.name, job.n
        secs = (n / 100) ** 3 if name == "gp" else n / 1000
        if timeout is not None and secs > timeout:
            return Outcome("timeout", message=f"timed out (> {timeout:g} s)")
        return Outcome("ok", {"fit_s": 0.75 * secs, "propose_s": 0.25 * secs, "total_s": secs,
                              "cpu_s": 0.5 * secs, "fit_warnings": 0})
    return call


def test_cost_grid_marks_timeouts_and_skips_what_follows() -> None:
    log: list[tuple[str, int, int]] = []
    rows = cost.run_grid(["gp", "gp-capped"], [2000, 100, 500], repeats=2, seed=0,
                         timeout=900.0, max_gp_n=None, call=_fake_call(log))
    status = {(r["surrogate"], r["n"], r["repeat"]): r["status"] for r in rows}
    assert [status[("gp", n, r)] for n in (100, 500, 2000) for r in (0, 1)] == [
        "ok", "ok", "ok", "ok", "timeout", "skipped"]
    assert all(status[("gp-capped", n, r)] == "ok" for n in (100, 500, 2000) for r in (0, 1))
    # one warm-up call per surrogate at n = 20, then the timed calls with seeds 0 and 1
    assert [j for j in log if j[0] == "gp"] == [("gp", 20, 0), ("gp", 100, 0), ("gp", 100, 1),
                                                ("gp", 500, 0), ("gp", 500, 1), ("gp", 2000, 0)]
    md = cost.table(rows, 900.0)
    assert "| gp | 2000 | - | - | > 900 | - | - | - | 0 | timed out (> 900 s); skipped: an " \
           "earlier repeat timed out |" in md
    assert "| gp | 500 | 93.75 | 31.25 | 125.00 | 62.50 | 250.00 | 250.00 | 2 |  |" in md
    assert "| gp-capped | 2000 | 1.50 | 0.50 | 2.00 | 1.00 | 1.00 | 1.00 | 2 |  |" in md


def test_cost_grid_skips_larger_n_after_a_timeout_and_above_max_gp_n() -> None:
    rows = cost.run_grid(["gp", "ensemble"], [100, 500, 2000, 10_000], repeats=1, seed=3,
                         timeout=100.0, max_gp_n=1000, call=_fake_call([]))
    notes = {(r["surrogate"], r["n"]): (r["status"], r["note"]) for r in rows}
    assert notes[("gp", 100)] == ("ok", "")
    assert notes[("gp", 500)] == ("timeout", "timed out (> 100 s)")
    assert notes[("gp", 2000)] == ("skipped", "skipped: exact GP at n > --max-gp-n 1000")
    assert notes[("ensemble", 10_000)] == ("ok", "")
    assert all(math.isnan(r["total_s"]) for r in rows if r["status"] != "ok")
    assert {r["seed"] for r in rows} == {3}


def test_cost_grid_reports_a_failed_warm_up_as_the_call() -> None:
    def call(job: cost.Job, timeout: float | None) -> Outcome:
        return Outcome("error", message="FitError: boom")

    (row,) = cost.run_grid(["laplace"], [100], 1, 0, None, None, call)
    assert row["status"] == "error" and row["note"] == "warm-up at n = 20: FitError: boom"


def test_cost_grid_times_the_methods_proposal_settings_when_asked() -> None:
    """``--proposal method`` passes ``BOProposer``'s restarts and raw samples to every call (the
    warm-up included) and records them; the default passes nothing and records 8."""
    import inspect

    from acquisition import ProposeOptions
    from hyperpilot.methods import VARIANTS
    from hyperpilot.methods.bo import BOProposer

    params = inspect.signature(BOProposer.__init__).parameters
    method = cost.proposal_options("method")
    assert method.num_restarts == params["num_restarts"].default != ProposeOptions().num_restarts
    assert method.raw_samples == params["raw_samples"].default
    assert method.maxiter == params["maxiter"].default
    quick = cost.proposal_options("quick")
    assert quick.maxiter == VARIANTS["quick"]["maxiter"] < method.maxiter
    assert quick.num_restarts == method.num_restarts
    assert cost.proposal_options("batch") == ProposeOptions()
    with pytest.raises(ValueError, match="'batch', 'method' or 'quick'"):
        cost.proposal_options("fast")
    log: list[cost.Job] = []

    def call(job: cost.Job, timeout: float | None) -> Outcome:
        log.append(job)
        return Outcome("ok", {"fit_s": 1.0, "propose_s": 1.0, "total_s": 2.0, "cpu_s": 2.0,
                              "fit_warnings": 0})

    (row,) = cost.run_grid(["gp-capped"], [100], 1, 0, None, None, call, options=method)
    assert log == [cost.Job("gp-capped", 20, 0, method), cost.Job("gp-capped", 100, 0, method)]
    assert row["restarts"] == method.num_restarts and row["maxiter"] == method.maxiter
    (row,) = cost.run_grid(["gp-capped"], [100], 1, 0, None, None, call)
    assert log[-1] == cost.Job("gp-capped", 100, 0, ProposeOptions()) and row["restarts"] == 8


def test_time_limited_worker_kills_a_call_past_its_limit() -> None:
    import time

    with TimeLimitedWorker(time.sleep) as w:
        assert w.call(0.0, timeout=30.0) == Outcome("ok", None)
        t0 = time.perf_counter()
        out = w.call(60.0, timeout=0.5)
        assert out.status == "timeout" and out.message == "timed out (> 0.5 s)"
        assert time.perf_counter() - t0 < 10
        assert w.call(0.0, timeout=30.0).status == "ok"  # a fresh worker
        err = w.call(-1.0, timeout=30.0)
        assert err.status == "error" and err.message.startswith("ValueError")


def test_time_one_fits_and_proposes_a_batch_of_eight_in_7d() -> None:
    out = cost.time_one(cost.Job("gp-capped", 12, 0, cost.proposal_options("method")))
    assert set(out) == {"fit_s", "propose_s", "total_s", "cpu_s", "fit_warnings"}
    out = cost.time_one(("gp-capped", 12, 0))
    assert set(out) == {"fit_s", "propose_s", "total_s", "cpu_s", "fit_warnings"}
    assert 0 < out["cpu_s"] < 10 * out["total_s"]
    assert out["total_s"] == pytest.approx(out["fit_s"] + out["propose_s"])
    assert out["fit_s"] > 0 and out["propose_s"] > 0


def test_starvation_ratio_falls_with_n_and_recovers_with_width() -> None:
    """``rff_starvation.ratio``: a narrow network conditioned on all points starves as n grows;
    at small n a wide one matches the exact GP; a capped one is less certain than the GP."""
    narrow = [starvation.ratio(n, 64, None, seed=0) for n in (20, 200)]
    assert narrow[1] < 0.5 * narrow[0]
    assert 0.9 < starvation.ratio(20, 2048, None, seed=0) < 1.1
    assert starvation.ratio(200, 2048, 40, seed=0) > 1.0


def test_subset_bias_rows_and_a_model_that_sees_all_points() -> None:
    """``subset_bias``: the data set is seeded and half of it sits near the optimum; the network
    conditioned on every point predicts the best points better than on a 32-point subset
    (small widths, so the test is quick)."""
    X, Y, F = subset_bias.study_like(200, 0.05, seed=0)
    X2, _, _ = subset_bias.study_like(200, 0.05, seed=0)
    assert torch.equal(X, X2) and X.shape == (200, 7) and (Y - F).abs().max() < 0.3
    centre = torch.tensor(subset_bias.OPTIMUM, dtype=torch.float64)
    assert (X[100:] - centre).norm(dim=1).median() < (X[:100] - centre).norm(dim=1).median()
    small = {"n_features": 256, "fit_features": 256, "max_iter": 30}
    sub = subset_bias.measure("rff-kev", 200, 0.05, 0, {**small, "posterior_points": 32})
    full = subset_bias.measure("rff-kev/all", 200, 0.05, 0, small)
    assert set(sub) == {"surrogate", "n", "noise", "seed", "optimism", "regret", "top100_rmse",
                        "top100_bias"}
    assert full["top100_rmse"] < sub["top100_rmse"]
    assert full["regret"] >= 0 and sub["regret"] >= 0
    with pytest.raises(ValueError, match="variant"):
        subset_bias.fitted("rff/bogus", X, Y, seed=0)


def test_acq_iterations_scores_each_cap_on_one_fit_against_the_largest() -> None:
    rows = acq_iterations.score_batches("gp-capped", 12, 0, [20, 2])
    assert [r["maxiter"] for r in rows] == [20, 2]
    assert all(math.isfinite(r["score"]) and r["propose_s"] > 0 for r in rows)
    made = [{"surrogate": "m", "n": 5, "seed": s, "maxiter": m, "propose_s": t,
             "propose_cpu_s": t, "score": v}
            for s, m, t, v in [(0, 100, 2.0, -1.0), (0, 25, 1.0, -1.5),
                               (1, 100, 4.0, 0.0), (1, 25, 3.0, 0.5)]]
    by_cap = {r["maxiter"]: r for r in acq_iterations.summary(made)}
    assert by_cap[100]["score_change_median"] == 0 and by_cap[100]["score_change_worst"] == 0
    assert by_cap[25]["score_change_worst"] == -0.5  # seed 0 lost 0.5, seed 1 gained 0.5
    assert by_cap[25]["propose_s"] == 1.0 and by_cap[25]["seeds"] == 2  # torch's lower median
    assert acq_iterations.seed_range("2-4") == [2, 3, 4] and acq_iterations.seed_range("7") == [7]
