"""Experiment configs: one YAML file per experiment under ``paper/experiments``.

A file holds the full-scale settings at the top level and per-scale overrides in ``smoke:`` and
``full:`` blocks (a key in a block replaces the top-level key). ``kind: bench`` runs the bench
grid method x benchmark x seed; ``kind: script`` runs a measurement script from
``paper/scripts`` with ``args`` (``--out`` is appended for ``result: csv``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Scale = Literal["smoke", "full"]
SCALES: tuple[Scale, ...] = ("smoke", "full")
KINDS = ("bench", "script")


class ExperimentError(ValueError):
    """A malformed experiment file."""


@dataclass(frozen=True)
class Experiment:
    """One experiment resolved for one scale.

    Attributes:
        seeds: the tuning seeds ``0..n-1`` (bench kind); ``test_seeds`` are disjoint held-out
            seeds where the evaluation retrains the incumbent (empty for surrogate benchmarks).
        budget: full-fidelity equivalents per cell, equal for every method.
        method_options: per-method options; a method with options runs under the bench's
            variant name, e.g. ``hyperpilot:full`` (see ``hyperpilot.paper.methods``).
        caption: the opening words of the experiment's table captions where a table kind is
            shared by experiments (e.g. the tournament tables); empty for the kind's own.
    """

    name: str
    kind: str
    scale: Scale
    description: str = ""
    methods: list[str] = field(default_factory=list)
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    benchmarks: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    test_seeds: list[int] = field(default_factory=list)
    budget: float = 0.0
    workers: int = 1
    batch_size: int | None = None
    script: str = ""
    result: str = "csv"
    args: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # names of a ``result: stdout`` table
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    caption: str = ""

    def bench_methods(self) -> list[str]:
        """Method names as the bench runs them (variants for methods with options)."""
        from hyperpilot.paper.methods import variant_name

        return [variant_name(m, self.method_options.get(m, {})) for m in self.methods]


def _seeds(v: Any) -> list[int]:
    if isinstance(v, int):
        return list(range(v))
    return [int(s) for s in v or []]


def resolve(raw: dict[str, Any], scale: Scale, source: str = "") -> Experiment:
    """The experiment in ``raw`` (a parsed YAML mapping) with the ``scale`` block applied."""
    if scale not in SCALES:
        raise ExperimentError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
    for k in ("name", "kind"):
        if k not in raw:
            raise ExperimentError(f"{source}: missing key {k!r}")
    if raw["kind"] not in KINDS:
        raise ExperimentError(f"{source}: kind must be one of {KINDS}, got {raw['kind']!r}")
    d = {k: v for k, v in raw.items() if k not in SCALES}
    d.update(raw.get(scale) or {})
    known = set(Experiment.__dataclass_fields__) - {"scale"}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ExperimentError(f"{source}: unknown keys {unknown}")
    d["seeds"] = _seeds(d.get("seeds"))
    d["test_seeds"] = _seeds(d.get("test_seeds"))
    if set(d["seeds"]) & set(d["test_seeds"]):
        raise ExperimentError(f"{source}: tuning and test seeds overlap")
    d["method_options"] = {m: o for m, o in (d.get("method_options") or {}).items()
                           if m in (d.get("methods") or [])}
    d["args"] = [str(a) for a in d.get("args") or []]
    return Experiment(scale=scale, **d)


def load_experiments(folder: str | Path, scale: Scale,
                     only: list[str] | None = None) -> list[Experiment]:
    """All experiments in ``folder/*.yaml`` for ``scale``, sorted by name.

    Raises:
        ExperimentError: on a malformed file, a duplicate name or an unknown name in ``only``.
    """
    out: dict[str, Experiment] = {}
    for p in sorted(Path(folder).glob("*.yaml")):
        raw = yaml.safe_load(p.read_text())
        if not isinstance(raw, dict):
            raise ExperimentError(f"{p}: not a mapping")
        e = resolve(raw, scale, str(p))
        if e.name in out:
            raise ExperimentError(f"{p}: duplicate experiment name {e.name!r}")
        out[e.name] = e
    missing = sorted(set(only or []) - set(out))
    if missing:
        raise ExperimentError(f"unknown experiment(s) {missing}; known: {', '.join(out)}")
    return [out[n] for n in sorted(out) if not only or n in only]
