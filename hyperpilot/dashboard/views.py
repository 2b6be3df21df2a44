"""The dashboard's views of a study, as JSON-ready dicts sized for a browser.

Each view is bounded whatever the study's size (a 50,000-trial store stays a few hundred
kilobytes): the incumbent trace is thinned, curves, configs and predictions are the newest or
best few hundred, and the failures table the newest fifty.
"""

from __future__ import annotations

import math
from typing import Any

from hyperpilot.dashboard.cache import Row, StudyCache
from hyperpilot.schedule import value_at as scheduled_value

MAX_TRACE, MAX_CURVES, MAX_LINES, MAX_POINTS, MAX_FAILURES, MAX_BANDS = 1500, 40, 1000, 2000, 50, 6


def state(c: StudyCache) -> dict[str, Any]:
    """Every view of the study (see the module docstring)."""
    d = c.definition
    fmax, direction = float(d["fidelity"]["max"]), str(d["direction"])
    told = c.told()
    running = [r for r in c.rows.values() if r.tell_seq is None]
    return {"name": c.name, "store": c.path.name, "method": d["method"], "direction": direction,
            "version": c.version, "n_trials": len(c.rows), "n_told": len(told),
            "n_running": len(running), "incumbent": trace(told, direction, fmax),
            "rungs": rungs(c.rows.values(), told), "curves": curves(c, told, running, fmax),
            "parcoords": parcoords(told, d, direction), "predictions": predictions(told, fmax),
            "failures": [failure(r) for r in told if r.status == "failed"][-MAX_FAILURES:],
            "schedule": schedule(c.rows.values()),
            "decisions": c.decisions[-200:],
            "requests": [q for q in c.requests if q["answer"] is None]}


def failure(r: Row) -> dict[str, Any]:
    """A failed trial: its reason's last line (the exception) and, as detail, the last 300
    characters of the reason (the traceback's end)."""
    text = (r.reason or "").strip()
    return {"trial_id": r.trial_id, "budget": r.budget,
            "reason": text.splitlines()[-1] if text else "(no reason given)",
            "detail": text[-300:]}


def trace(told: list[Row], direction: str, fmax: float) -> dict[str, list[float]]:
    """The incumbent at the max budget against FFE used, thinned to ``MAX_TRACE`` points."""
    sign = 1.0 if direction == "minimize" else -1.0
    used, best, xs, ys = 0.0, math.inf, [], []
    for r in told:
        top = r.curve[-1][0] if r.status == "stopped" and r.curve else r.budget
        used += max(top - r.resume, 0.0) / fmax
        if r.status == "complete" and r.value is not None and r.budget >= fmax:
            if sign * r.value < best:
                best = sign * r.value
                xs.append(used)
                ys.append(sign * best)
    if math.isfinite(best):
        xs.append(used)
        ys.append(sign * best)
    step = max(1, math.ceil(len(xs) / MAX_TRACE))
    keep = sorted(set(range(0, len(xs), step)) | ({len(xs) - 1} if xs else set()))
    return {"ffe": [round(xs[i], 4) for i in keep], "value": [ys[i] for i in keep]}


def rungs(rows: Any, told: list[Row]) -> list[dict[str, Any]]:
    """Per (bracket, rung): trials running, promoted (the config ran on at a larger budget),
    stopped early, completed and failed."""
    top: dict[int, float] = {}
    for r in told:
        top[r.config_id] = max(top.get(r.config_id, 0.0), r.budget)
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    for r in rows:
        if r.bracket is None or r.rung is None:
            continue
        cell = cells.setdefault((r.bracket, r.rung), {"bracket": r.bracket, "rung": r.rung,
                                                      "budget": r.budget, "running": 0,
                                                      "promoted": 0, "stopped": 0,
                                                      "complete": 0, "failed": 0})
        if r.tell_seq is None:
            key = "running"
        elif r.status == "complete" and top.get(r.config_id, 0.0) > r.budget:
            key = "promoted"
        else:
            key = r.status if r.status in cell else "complete"
        cell[key] += 1
    return [cells[k] for k in sorted(cells)]


def curves(c: StudyCache, told: list[Row], running: list[Row], fmax: float) -> dict[str, Any]:
    """The newest runs' learning curves (merged over promotions), stop decisions, and the
    parametric curve model's forecast band for the newest unfinished or stopped runs."""
    recent = sorted(running, key=lambda r: r.trial_id)[-MAX_CURVES:] + told[-MAX_CURVES:]
    by_config: dict[int, list[tuple[float, float]]] = {}
    wanted = {x.config_id for x in recent}
    for r in sorted(c.rows.values(), key=lambda r: r.trial_id):
        if r.config_id in wanted:
            by_config.setdefault(r.config_id, []).extend(r.curve)
    lines = [{"config_id": k, "x": [b for b, _ in sorted(set(v))],
              "y": [y for _, y in sorted(set(v))]} for k, v in by_config.items() if v][-MAX_CURVES:]
    stops = [d for d in c.decisions if d["action"] != "continue"][-200:]
    ids = {d["trial_id"] for d in stops}
    value_at = {(r.trial_id, b): v for r in c.rows.values() if r.trial_id in ids for b, v in r.curve}
    marks = [{**d, "value": value_at.get((d["trial_id"], d["budget"]))} for d in stops]
    return {"lines": lines, "stops": marks, "bands": bands(lines, c.definition, fmax),
            "target": fmax}


def bands(lines: list[dict[str, Any]], d: dict[str, Any], fmax: float) -> list[dict[str, Any]]:
    """Mean and 95% band at the target budget for the newest runs with 3+ points below it."""
    from fidelity import ParametricCurveModel

    sign = -1.0 if d["direction"] == "minimize" else 1.0
    model = ParametricCurveModel(seed=0)
    out: list[dict[str, Any]] = []
    for ln in reversed(lines):
        if len(out) >= MAX_BANDS:
            break
        pts = [(b, y) for b, y in zip(ln["x"], ln["y"], strict=True) if 0 < b < fmax]
        if len(pts) < 3 or len(pts) < len(ln["x"]):
            continue
        try:
            m, s = model.predict([b for b, _ in pts], [sign * y for _, y in pts], fmax)
        except (ValueError, FloatingPointError, ArithmeticError):
            continue
        m0 = sign * m  # back in the study's units; the band is symmetric
        out.append({"config_id": ln["config_id"], "x": [pts[-1][0], fmax],
                    "mean": [pts[-1][1], sign * m], "lo": [pts[-1][1], m0 - 2 * s],
                    "hi": [pts[-1][1], m0 + 2 * s]})
    return out


def parcoords(told: list[Row], d: dict[str, Any], direction: str) -> dict[str, Any]:
    """Configs and their best value at their largest budget: the best ``MAX_LINES``."""
    best: dict[int, Row] = {}
    for r in told:
        if r.value is None or r.status == "failed":
            continue
        b = best.get(r.config_id)
        if b is None or r.budget > b.budget:
            best[r.config_id] = r
    sign = 1.0 if direction == "minimize" else -1.0
    kept = sorted(best.values(), key=lambda r: (-r.budget, sign * (r.value or 0.0)))[:MAX_LINES]
    dims = []
    for name, p in d["space"]["params"].items():
        # a schedule (population-based methods) shows the value of the trial's own interval
        vals = [scheduled_value(r.config.get(name), r.resume) for r in kept]
        if p["type"] == "categorical":
            choices = [str(x) for x in p["choices"]]
            choices += sorted({str(v) for v in vals if v is not None} - set(choices))  # shown too
            dims.append({"label": name, "values": [choices.index(str(v)) if v is not None
                                                   else -1 for v in vals],
                         "tickvals": list(range(len(choices))), "ticktext": choices})
        else:
            log = bool(p.get("log"))
            dims.append({"label": name + (" (log10)" if log else ""), "values": [
                None if v is None else (math.log10(v) if log else v) for v in vals]})
    return {"dims": dims, "value": [r.value for r in kept], "budget": [r.budget for r in kept]}


def predictions(told: list[Row], fmax: float) -> dict[str, list[Any]]:
    """The surrogate's predicted value (and sd) at proposal against the value observed at the
    max budget, for configs proposed by the model that reached it."""
    pred = {r.config_id: r.info for r in told if "pred_value" in r.info}
    xs: list[float] = []
    sd: list[float] = []
    ys: list[float] = []
    ids: list[int] = []
    for r in told:
        if r.config_id in pred and r.budget >= fmax and r.status == "complete" and r.value is not None:
            xs.append(float(pred[r.config_id]["pred_value"]))
            sd.append(float(pred[r.config_id].get("pred_sd", 0.0)))
            ys.append(r.value)
            ids.append(r.trial_id)
    return {"predicted": xs[-MAX_POINTS:], "sd": sd[-MAX_POINTS:], "observed": ys[-MAX_POINTS:],
            "trial_id": ids[-MAX_POINTS:]}


def schedule(rows: Any, limit: int = 150) -> list[dict[str, Any]]:
    """The newest trials' spans in time (asked to told, and at least the objective's own wall
    time: a trial mirrored from another tool is stored when it ends), with their budget path:
    each config's schedule through the rungs, where it has one. Times in epoch seconds."""
    recent = sorted(rows, key=lambda r: r.trial_id)[-limit:]
    return [{"trial_id": r.trial_id, "config_id": r.config_id, "rung": r.rung,
             "bracket": r.bracket, "budget": r.budget, "resume": r.resume, "status": r.status,
             "start": r.asked_at if r.told_at is None or r.wall_time is None
             else min(r.asked_at, r.told_at - r.wall_time), "end": r.told_at} for r in recent]


def comparison(caches: list[StudyCache]) -> list[dict[str, Any]]:
    """Every study's incumbent trace, for the side-by-side view."""
    out = []
    for c in caches:
        d = c.definition
        t = trace(c.told(), str(d["direction"]), float(d["fidelity"]["max"]))
        out.append({"label": f"{c.path.name}:{c.name} ({d['method']})", **t})
    return out
