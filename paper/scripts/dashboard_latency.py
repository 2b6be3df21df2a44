"""Dashboard latency on a large store (issue 22): time to first paint and refresh latency.

Builds a synthetic store of ``--trials`` Hyperband-like trials (7 parameters, budgets 1..27,
curves of up to 9 points, stop decisions, failures, surrogate predictions), written through the
``Storage`` API as a study writes them. Then measures:

* server, cold: open the store, read every trial (``StudyCache.refresh``) and build every view;
* server, warm: ``/api/state`` when nothing changed (the poll of an idle study), and the
  incremental read + views after ``--add`` new trials;
* browser (headless Chromium, Debian's package): first paint (navigation start to the first
  full render, ``hp.firstPaintMs``), and refresh latency: from the commit of ``--add`` new
  trials to their render, with the page polling every ``--refresh`` seconds;
* the JSON size of one state.

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python paper/scripts/dashboard_latency.py \\
        --trials 50000 --out runs/bench/dashboard-latency

The browser helper lives with the tests (``tests/hyperpilot/dashboard/browser.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "hyperpilot" / "dashboard"))

import hyperpilot as hp  # noqa: E402
from hyperpilot.storage import Storage  # noqa: E402
from hyperpilot.trial import Result, Status, Trial  # noqa: E402

SPACE = hp.SearchSpace({"lr": hp.Float(1e-4, 1e-1, log=True), "wd": hp.Float(1e-5, 1e-1, log=True),
                        "momentum": hp.Float(0.1, 0.99), "dropout": hp.Float(0.0, 1.0),
                        "layers": hp.Int(1, 5), "units": hp.Int(64, 1024, log=True),
                        "batch": hp.Int(16, 512, log=True)})
FID = hp.Fidelity(1, 27, 3)


def build(path: Path, n: int, seed: int = 0, start: int = 0) -> None:
    """Write ``n`` finished trials (ids from ``start``) into study ``big`` of ``path``."""
    rng = np.random.default_rng(seed + start)
    st = Storage(path)
    definition = {"space": SPACE.to_dict(), "fidelity": FID.to_dict(), "method": "synthetic",
                  "method_options": {}, "direction": "minimize"}
    sid = st.open_study("big", definition, 0)
    seq = st.max_seq(sid) + 1
    configs = SPACE.sample(n, rng)
    budgets = [1.0, 3.0, 9.0, 27.0]
    for i in range(n):
        tid = start + i
        rung = int(rng.choice(4, p=[0.6, 0.25, 0.1, 0.05]))
        level = float(rng.uniform(0.1, 1.0))
        info = {"source": "model", "pred_value": level + float(rng.normal(0, 0.05)),
                "pred_sd": 0.05} if rng.random() < 0.3 else {"source": "random"}
        t = Trial(tid, tid, configs[i], budgets[rung], budgets[rung - 1] if rung else 0.0,
                  tid % 50, rung, 0, info)
        st.add_trials(sid, [t], seq, 0.001)
        pts = np.unique(np.geomspace(max(t.resume_budget, 1.0), t.budget, 9).round())
        curve = [(float(b), level + 0.5 / b) for b in pts if b > t.resume_budget or b == 1.0]
        roll = rng.random()
        if roll < 0.01:
            res = Result(t, Status.FAILED, None, [], "RuntimeError: diverged", None, 1.0)
            ds: list[dict[str, object]] = []
        elif roll < 0.2 and len(curve) > 1:
            curve = curve[: max(1, len(curve) // 2)]
            res = Result(t, Status.STOPPED, curve[-1][1], curve, None, None, 1.0)
            ds = [{"budget": curve[-1][0], "action": "stop", "by": "curve",
                   "reason": "P(final beats the incumbent) = 0.01 < 0.05", "prob": 0.01}]
        else:
            res = Result(t, Status.COMPLETE, curve[-1][1], curve, None, None, 1.0)
            ds = []
        st.finish_trial(sid, res, seq + 1, ds)
        seq += 2
    st.close()


def _get(url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
    return time.perf_counter() - t0, len(body)


def measure(path: Path, add: int, refresh_s: float, repeats: int, profile: Path) -> dict[str, object]:
    from browser import Browser

    from hyperpilot.dashboard import prepare
    from hyperpilot.dashboard.cache import open_studies
    from hyperpilot.dashboard.views import state

    out: dict[str, object] = {}
    t0 = time.perf_counter()
    c = open_studies([path])[0]
    c.refresh()
    t1 = time.perf_counter()
    s = state(c)
    t2 = time.perf_counter()
    out.update(n_trials=len(c.rows), cold_read_s=round(t1 - t0, 3), cold_views_s=round(t2 - t1, 3),
               state_json_kb=round(len(json.dumps(s)) / 1024, 1))
    c.close()

    p = prepare([path], "127.0.0.1", 0, False, refresh_s)
    th = threading.Thread(target=p.run, daemon=True)
    th.start()
    while not p.server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{p.sock.getsockname()[1]}"
    browser = Browser(profile)
    try:
        first, polls = [], []
        for _ in range(repeats):  # a fresh page each time; the server's cache is warm after #1
            browser.send("Page.navigate", url=base + "/")
            browser.wait_for("window.hp && window.hp.firstPaintMs !== null", 600)
            first.append(browser.eval("window.hp.firstPaintMs") / 1000)
        v = json.loads(urllib.request.urlopen(base + "/api/state?study=0", timeout=600).read())
        for _ in range(20):
            polls.append(_get(base + f"/api/state?study=0&v={v['version']}")[0])
        refresh, incr = [], []
        for k in range(repeats):
            before = browser.eval("window.hp.nTold")
            build(path, add, start=out["n_trials"] + k * add)  # type: ignore[operator]
            t0 = time.perf_counter()
            browser.wait_for(f"window.hp.nTold > {before}", 600)
            refresh.append(time.perf_counter() - t0)
            build(path, add, start=out["n_trials"] + (repeats + k) * add)  # type: ignore[operator]
            incr.append(_get(base + "/api/state?study=0")[0])  # incremental read + every view
        errors = browser.errors()
    finally:
        browser.close()
        p.server.should_exit = True
        th.join(timeout=30)
    out.update(first_paint_cold_s=round(first[0], 3),
               first_paint_warm_s=round(statistics.median(first[1:]), 3) if repeats > 1 else None,
               idle_poll_ms=round(1000 * statistics.median(polls), 2),
               incremental_state_s=round(statistics.median(incr), 3),
               refresh_latency_s=round(statistics.median(refresh), 3),
               refresh_latency_max_s=round(max(refresh), 3), poll_interval_s=refresh_s,
               js_errors=errors)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50_000)
    ap.add_argument("--add", type=int, default=10, help="trials added per refresh measurement")
    ap.add_argument("--refresh", type=float, default=1.0, help="the page's poll interval (s)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("runs/bench/dashboard-latency"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.out / f"store-{args.trials}.sqlite"
    if not store.exists():
        t0 = time.perf_counter()
        build(store, args.trials)
        print(f"built {store} in {time.perf_counter() - t0:.1f} s", flush=True)
    res = measure(store, args.add, args.refresh, args.repeats, args.out / "chromium-profile")
    res["store_mb"] = round(store.stat().st_size / 2**20, 1)
    print(json.dumps(res, indent=1))
    (args.out / f"latency-{args.trials}.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
