"""Wall time of fit + ``propose_batch(q=8)`` in d = 7 for the registered surrogates, one thread.

For every surrogate named (``--surrogates``, default: every name in ``surrogates.SURROGATES``,
default options; the exact GP ``gp`` and the capped ``gp-capped`` included) and every n, the
surrogate is fitted on n random points of a 7-d objective and proposes a batch of 8; repeat r
uses seed ``--seed + r`` for data and model, and the table gives medians over ``--repeats``.

Each call (fit + propose) runs in a worker process with a wall-clock limit (``--timeout``): the
exact GP's fit grows as n^3 (342 s at n = 2000 on the reference machine). A call past the limit
is killed; its cell reads ``timed out (> T s)`` instead of a number, and the surrogate's
remaining repeats and larger n are skipped (``skipped: timed out at n = ...``). ``--max-gp-n``
skips the exact GP above a size without trying. Before a surrogate's first timed call the
worker fits and proposes once at n = 20 (within the same limit, untimed), so one-time costs
(lazy imports, first allocations) are not in the times. Writes a CSV (one row per surrogate x n x repeat, with ``status``) and
prints a markdown table.

``--proposal batch`` (default) times ``propose_batch``'s own defaults (8 restarts of L-BFGS-B
from 256 raw samples, 100 iterations); ``--proposal method`` times the settings the
``hyperpilot`` and ``gp-bo`` methods propose with (``BOProposer``'s ``num_restarts``,
``raw_samples`` and ``maxiter`` defaults, read from its signature), which is what a study pays
per batch; ``--proposal quick`` the same under the ``:quick`` variant (fewer iterations).

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/surrogate_cost.py --repeats 3 \
        --timeout 900 --out runs/paper/surrogate_cost.csv
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from surrogate_common import (  # noqa: E402
    objective7,
    records_markdown,
    summarize,
    surrogate_names,
    write_csv,
)
from timelimit import Outcome, TimeLimitedWorker  # noqa: E402

from acquisition import ProposeOptions, propose_batch  # noqa: E402
from surrogates import make_surrogate, surrogate_spec  # noqa: E402

EXACT_GPS = ("gp",)
"""Surrogates whose fit grows as n^3 without a cap: skipped above ``--max-gp-n``."""
TIMES = ["fit_s", "propose_s", "total_s", "cpu_s"]
"""Wall seconds of the fit, the proposal and both, and the CPU seconds of both (this process's
``time.process_time``: one thread, so on a quiet machine about ``total_s``, and on a shared one
much less disturbed by the other jobs than the wall time)."""
BASELINE = "gp-capped"
WARMUP_N = 20


class Job(NamedTuple):
    """One timed call: surrogate ``name`` fitted on ``n`` random points, ``seed`` for the data,
    the model and the proposal, and ``propose_batch``'s ``options``."""

    name: str
    n: int
    seed: int
    options: ProposeOptions = ProposeOptions()


def proposal_options(kind: str) -> ProposeOptions:
    """``propose_batch``'s defaults (``"batch"``), the BO methods' own restarts, raw samples and
    iterations (``"method"``, from ``BOProposer``'s signature, so the two cannot drift apart), or
    those under the ``:quick`` variant (``"quick"``, from ``hyperpilot.methods.VARIANTS``)."""
    if kind == "batch":
        return ProposeOptions()
    if kind not in ("method", "quick"):
        raise ValueError(f"proposal must be 'batch', 'method' or 'quick', got {kind!r}")
    from hyperpilot.methods import VARIANTS
    from hyperpilot.methods.bo import BOProposer

    params = inspect.signature(BOProposer.__init__).parameters
    names = ("num_restarts", "raw_samples", "maxiter")
    opts = {k: params[k].default for k in names}
    if kind == "quick":
        opts.update({k: v for k, v in VARIANTS["quick"].items() if k in names})
    return ProposeOptions(**opts)


def time_one(job: Job) -> dict[str, Any]:
    """Fit the surrogate ``name`` on ``n`` random points and propose 8: seconds of each part.

    Args:
        job: what to time (a plain ``(name, n, seed[, options])`` tuple works too).
    """
    name, n, seed, options_p = Job(*job)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 7, generator=g, dtype=torch.float64)
    Y = objective7(X)
    options = {"related": related7()} if surrogate_spec(name).related else {}
    c0, t0 = time.process_time(), time.perf_counter()
    model = make_surrogate(name, seed=seed, options=options).fit(X, Y)
    t1 = time.perf_counter()
    cand = propose_batch(model, q=8, seed=seed, options=options_p)
    t2, c2 = time.perf_counter(), time.process_time()
    if cand.shape != (8, 7):
        raise RuntimeError(f"propose_batch returned shape {tuple(cand.shape)}, expected (8, 7)")
    return {"fit_s": t1 - t0, "propose_s": t2 - t1, "total_s": t2 - t0, "cpu_s": c2 - c0,
            "fit_warnings": len(model.fit_info.get("warnings", []))}


_RELATED: list[tuple[Any, Any]] = []


def related7(tasks: int = 9, points: int = 400) -> list[tuple[Any, Any]]:
    """Related tasks for a surrogate registered with ``related`` (``transfer``), as many as an
    LCBench study has: ``objective7`` shifted and scaled per task, ``points`` random configs each
    (seeded; built once per worker process, so the one-time pretraining falls in the warm-up
    call at n = 20 and the table times a study's refits)."""
    if not _RELATED:
        g = torch.Generator().manual_seed(12345)
        for _ in range(tasks):
            X = torch.rand(points, 7, generator=g, dtype=torch.float64)
            shift = 0.1 * torch.rand(7, generator=g, dtype=torch.float64)
            y = objective7((X + shift).clamp(0, 1)).squeeze(-1) * (0.5 + torch.rand(1, generator=g))
            _RELATED.append((X.numpy(), y.numpy()))
    return _RELATED


Call = Callable[[Job, float | None], Outcome]


def run_grid(names: Sequence[str], ns: Sequence[int], repeats: int, seed: int,
             timeout: float | None, max_gp_n: int | None, call: Call,
             options: ProposeOptions | None = None) -> list[dict[str, Any]]:
    """One row per surrogate x n x repeat: ``status`` (ok, timeout, skipped, error, crashed),
    ``note``, the seconds (NaN unless ok) and the proposal's ``restarts`` and ``maxiter``.
    After a timeout the surrogate's other repeats at that n and all larger n are skipped.

    Args:
        call: ``call(job, timeout) -> Outcome``, e.g. ``TimeLimitedWorker.call``.
        options: ``propose_batch``'s options (None: its defaults).
    """
    used = options or ProposeOptions()
    rows: list[dict[str, Any]] = []
    blank = dict.fromkeys([*TIMES, "fit_warnings"], math.nan)
    for name in names:
        timed_out_at: int | None = None
        warm = False
        for n in sorted(ns):
            for r in range(repeats):
                row = {"surrogate": name, "n": n, "repeat": r, "seed": seed + r,
                       "restarts": used.num_restarts, "maxiter": used.maxiter, **blank}
                if reason := skip_reason(name, n, max_gp_n, timed_out_at):
                    rows.append({**row, "status": "skipped", "note": reason})
                    continue
                o = measure(call, name, n, seed + r, timeout, warm, options)
                warm = o.status == "ok"
                if o.status == "timeout":
                    timed_out_at = n
                rows.append({**row, "status": o.status, "note": o.message, **(o.value or {})})
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()},
                      flush=True)
    return rows


def measure(call: Call, name: str, n: int, seed: int, timeout: float | None,
            warm: bool, options: ProposeOptions | None = None) -> Outcome:
    """The timed call ``Job(name, n, seed, options)``, after an untimed warm-up call at
    ``n = WARMUP_N`` unless ``warm`` (a warm-up that does not succeed stands for the call)."""
    opts = options or ProposeOptions()
    if not warm:
        o = call(Job(name, WARMUP_N, seed, opts), timeout)
        if o.status != "ok":
            return Outcome(o.status, message=f"warm-up at n = {WARMUP_N}: {o.message}")
    return call(Job(name, n, seed, opts), timeout)


def skip_reason(name: str, n: int, max_gp_n: int | None, timed_out_at: int | None) -> str | None:
    """Why ``name`` is not run at ``n`` (None: it is)."""
    if name in EXACT_GPS and max_gp_n is not None and n > max_gp_n:
        return f"skipped: exact GP at n > --max-gp-n {max_gp_n}"
    if timed_out_at == n:
        return "skipped: an earlier repeat timed out"
    if timed_out_at is not None:
        return f"skipped: timed out at n = {timed_out_at}"
    return None


def table(rows: Sequence[dict[str, Any]], timeout: float | None) -> str:
    """Markdown: surrogate x n, medians of fit / propose / total wall seconds and of the CPU
    seconds over the ok repeats, the total and the CPU seconds relative to ``gp-capped``'s at the
    same n, and a note on timeouts and skips. A cell
    with any timeout shows ``> timeout`` as its total and no parts: the median of the repeats
    that finished would be too low."""
    recs = summarize(rows, ["surrogate", "n"], TIMES)
    timed_out = {(r["surrogate"], r["n"]) for r in rows if r["status"] == "timeout"}
    base = {r["n"]: r for r in recs if r["surrogate"] == BASELINE and not r["note"]}
    for r in recs:
        b = base.get(r["n"])
        r[f"x {BASELINE}"] = r["total_s"] / b["total_s"] if b else math.nan
        r[f"cpu x {BASELINE}"] = r["cpu_s"] / b["cpu_s"] if b else math.nan
        if (r["surrogate"], r["n"]) in timed_out:
            r.update(fit_s=math.nan, propose_s=math.nan, total_s=f"> {timeout:g}", cpu_s=math.nan)
            r[f"x {BASELINE}"] = r[f"cpu x {BASELINE}"] = math.nan
    cols = ["surrogate", "n", *TIMES, f"x {BASELINE}", f"cpu x {BASELINE}", "runs", "note"]
    return records_markdown(recs, cols, digits=2)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--surrogates", nargs="+", default=None,
                    help="registered names, comma-separated (default: all)")
    ap.add_argument("--ns", type=int, nargs="+", default=[100, 500, 2000, 10_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="seconds per fit + propose call, any surrogate (0: no limit)")
    ap.add_argument("--max-gp-n", type=int, default=None, help="skip exact GPs above this n")
    ap.add_argument("--proposal", choices=["batch", "method", "quick"], default="batch",
                    help="propose_batch's own settings (batch), the BO methods' (method), or "
                         "theirs under the :quick variant (quick)")
    ap.add_argument("--out", default="runs/paper/surrogate_cost.csv")
    args = ap.parse_args(argv)
    names = surrogate_names(args.surrogates)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the worker
    torch.set_num_threads(1)
    with TimeLimitedWorker(time_one) as worker:
        rows = run_grid(names, args.ns, args.repeats, args.seed, args.timeout or None,
                        args.max_gp_n, worker.call, proposal_options(args.proposal))
    write_csv(rows, args.out)
    print(table(rows, args.timeout or None))


if __name__ == "__main__":
    main()
