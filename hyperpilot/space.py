"""Search spaces: typed parameters, conditions, and the unit-cube encoding the surrogates see.

Encoding (documented contract, used by every surrogate and by the acquisition):

* ``Float`` and ``Int`` take one column each, mapped linearly (or in log space when ``log=True``)
  onto ``[0, 1]``. An ``Int`` spans ``[low - 0.5, high + 0.5]`` before the map, so every integer owns
  an equal share of the unit interval and decoding is ``round`` followed by a clip.
* ``Categorical`` takes one column per choice (one-hot). Decoding takes the arg-max of the group,
  so a relaxed (continuous) point from the acquisition optimizer decodes to a valid choice.
* A parameter that is inactive under the conditions is encoded at its neutral value (the middle of
  its columns: 0.5 for numbers, ``1 / k`` in every column for a k-way categorical) and is left out
  of the decoded config.

The encoding is a ``n x d`` float64 array with ``d = space.dim``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from hyperpilot.schedule import ScheduleError, check_schedule, is_schedule

Value = Union[float, int, str, bool]  # noqa: UP007 (a runtime alias)
Config = dict[str, Any]


class SpaceError(ValueError):
    """A search space or a config is malformed; the message says what and where."""


@dataclass(frozen=True)
class Float:
    """A real parameter in ``[low, high]``, optionally sampled on a log scale."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        _check_bounds(self.low, self.high, self.log, "Float")

    @property
    def width(self) -> int:
        return 1

    def to_unit(self, v: np.ndarray) -> np.ndarray:
        lo, hi = _tbounds(self.low, self.high, self.log)
        return (_t(v.astype(float), self.log) - lo) / (hi - lo)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        lo, hi = _tbounds(self.low, self.high, self.log)
        v = _tinv(lo + np.clip(u, 0.0, 1.0) * (hi - lo), self.log)
        return np.clip(v, self.low, self.high)

    def check(self, name: str, v: Any) -> None:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise SpaceError(f"parameter '{name}': expected a number, got {v!r}")
        if not (self.low <= float(v) <= self.high) or math.isnan(float(v)):
            raise SpaceError(f"parameter '{name}': {v!r} is outside [{self.low}, {self.high}]")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Int:
    """An integer parameter in ``[low, high]`` (both inclusive), optionally on a log scale."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        for b in (self.low, self.high):
            if isinstance(b, bool) or not float(b).is_integer():
                raise SpaceError(f"Int bounds must be integers, got low={self.low!r}, high={self.high!r}")
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))
        _check_bounds(self.low, self.high, self.log, "Int")

    @property
    def width(self) -> int:
        return 1

    def _span(self) -> tuple[float, float]:
        # log ints: stretch by half a step in log space, so end points own a fair share too.
        if self.log:
            return self.low * (self.low / (self.low + 1)) ** 0.5, self.high * ((self.high + 1) / self.high) ** 0.5
        return self.low - 0.5, self.high + 0.5

    def to_unit(self, v: np.ndarray) -> np.ndarray:
        lo, hi = _tbounds(*self._span(), self.log)
        return (_t(v.astype(float), self.log) - lo) / (hi - lo)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        lo, hi = _tbounds(*self._span(), self.log)
        v = _tinv(lo + np.clip(u, 0.0, 1.0) * (hi - lo), self.log)
        return np.clip(np.rint(v), self.low, self.high).astype(np.int64)

    def check(self, name: str, v: Any) -> None:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise SpaceError(f"parameter '{name}': expected an integer, got {v!r}")
        if not float(v).is_integer():
            raise SpaceError(f"parameter '{name}': expected an integer, got {v!r}")
        if not (self.low <= int(v) <= self.high):
            raise SpaceError(f"parameter '{name}': {v!r} is outside [{self.low}, {self.high}]")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Categorical:
    """A choice among ``choices`` (strings, numbers or booleans), one-hot encoded."""

    choices: tuple[Value, ...]

    def __init__(self, choices: Sequence[Value]) -> None:
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise SpaceError(f"Categorical choices must be a list, got {choices!r}")
        if len(choices) == 0:
            raise SpaceError("Categorical needs at least one choice, got an empty list")
        if len(set(map(repr, choices))) != len(choices):
            raise SpaceError(f"Categorical choices must be distinct, got {list(choices)!r}")
        object.__setattr__(self, "choices", tuple(choices))

    @property
    def width(self) -> int:
        return len(self.choices)

    def index(self, v: Any) -> int:
        for i, c in enumerate(self.choices):
            if type(c) is type(v) and c == v or (_num(c) and _num(v) and c == v):
                return i
        raise SpaceError(f"{v!r} is not one of {list(self.choices)!r}")

    def check(self, name: str, v: Any) -> None:
        try:
            self.index(v)
        except SpaceError as e:
            raise SpaceError(f"parameter '{name}': {e}") from None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices)}


Param = Union[Float, Int, Categorical]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True)
class Condition:
    """``child`` is active only when the categorical ``parent`` takes one of ``values``."""

    child: str
    parent: str
    values: tuple[Value, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"child": self.child, "parent": self.parent, "values": list(self.values)}


@dataclass
class SearchSpace:
    """An ordered mapping of parameter names to ``Float``/``Int``/``Categorical``, with conditions.

    Args:
        params: name -> parameter, in the order that defines the encoding's columns.
        conditions: child -> (parent, allowed parent values), or a list of ``Condition``.
    """

    params: dict[str, Param]
    conditions: list[Condition] = field(default_factory=list)

    def __init__(
        self,
        params: Mapping[str, Param],
        conditions: Mapping[str, tuple[str, Sequence[Value]]] | Sequence[Condition] | None = None,
    ) -> None:
        if not isinstance(params, Mapping) or len(params) == 0:
            raise SpaceError("a SearchSpace needs a non-empty mapping of name -> parameter")
        for name, p in params.items():
            if not isinstance(name, str) or not name:
                raise SpaceError(f"parameter names must be non-empty strings, got {name!r}")
            if not isinstance(p, (Float, Int, Categorical)):
                raise SpaceError(f"parameter '{name}': expected Float, Int or Categorical, got {p!r}")
        self.params = dict(params)
        if conditions is None:
            conds: list[Condition] = []
        elif isinstance(conditions, Mapping):
            conds = [Condition(c, pv[0], tuple(pv[1])) for c, pv in conditions.items()]
        else:
            conds = list(conditions)
        self.conditions = conds
        self._check_conditions()
        self._slices = self._make_slices()

    # ----------------------------------------------------------------- structure
    def _check_conditions(self) -> None:
        seen: set[str] = set()
        for c in self.conditions:
            if c.child not in self.params or c.parent not in self.params:
                raise SpaceError(f"condition on '{c.child}' names an unknown parameter")
            parent = self.params[c.parent]
            if not isinstance(parent, Categorical):
                raise SpaceError(f"condition parent '{c.parent}' must be a Categorical")
            for v in c.values:
                parent.check(c.parent, v)
            if c.child in seen:
                raise SpaceError(f"parameter '{c.child}' has more than one condition")
            seen.add(c.child)
        order = list(self.params)
        for c in self.conditions:
            if order.index(c.parent) > order.index(c.child):
                raise SpaceError(f"condition parent '{c.parent}' must come before child '{c.child}'")

    def _make_slices(self) -> dict[str, slice]:
        out, i = {}, 0
        for name, p in self.params.items():
            out[name] = slice(i, i + p.width)
            i += p.width
        return out

    @property
    def names(self) -> list[str]:
        return list(self.params)

    @property
    def dim(self) -> int:
        """Number of columns of the unit-cube encoding."""
        return sum(p.width for p in self.params.values())

    @property
    def categorical_groups(self) -> list[list[int]]:
        """Column indices of each one-hot group, for the acquisition's rounding."""
        return [list(range(self._slices[n].start, self._slices[n].stop))
                for n, p in self.params.items() if isinstance(p, Categorical)]

    def active(self, config: Mapping[str, Any]) -> list[str]:
        """Names of the parameters active under ``config``'s parent values, in order."""
        conds = {c.child: c for c in self.conditions}
        act: list[str] = []
        for n in self.params:
            c = conds.get(n)
            if c is None or (c.parent in act and _in(config.get(c.parent), c.values)):
                act.append(n)
        return act

    # ----------------------------------------------------------------- validation
    def validate(self, config: Mapping[str, Any]) -> Config:
        """Check ``config`` and return it with numpy scalars turned into Python ones.

        Raises:
            SpaceError: on unknown or missing keys, wrong types, out-of-range values, or values
                given for parameters that the conditions switch off.
        """
        if not isinstance(config, Mapping):
            raise SpaceError(f"a config must be a mapping, got {type(config).__name__}")
        unknown = sorted(set(config) - set(self.params))
        if unknown:
            raise SpaceError(f"unknown parameter(s) {unknown}; the space has {self.names}")
        act = self.active(config)
        missing = [n for n in act if n not in config]
        if missing:
            raise SpaceError(f"missing parameter(s) {missing}")
        inactive = [n for n in config if n not in act]
        if inactive:
            raise SpaceError(f"parameter(s) {inactive} are inactive under the conditions")
        out: Config = {}
        parents = {c.parent for c in self.conditions}
        for n in act:
            p = self.params[n]
            if is_schedule(config[n]):  # a value per budget (hyperpilot.schedule)
                out[n] = self._check_schedule(n, config[n], p, n in parents)
                continue
            p.check(n, config[n])
            out[n] = _py(config[n], p)
        return out

    @staticmethod
    def _check_schedule(n: str, v: Any, p: Param, parent: bool) -> Any:
        if parent:
            raise SpaceError(f"parameter '{n}' decides conditions and cannot be a schedule")

        def check(x: Any) -> Any:
            p.check(n, x)
            return _py(x, p)

        try:
            return check_schedule(n, v, check)
        except ScheduleError as e:
            raise SpaceError(str(e)) from None

    # ----------------------------------------------------------------- encoding
    def encode(self, configs: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> np.ndarray:
        """Encode configs to an ``n x dim`` float64 array in the unit cube (a single config: ``dim``)."""
        single = isinstance(configs, Mapping)
        cfgs: list[Mapping[str, Any]] = [configs] if isinstance(configs, Mapping) else list(configs)
        X = np.empty((len(cfgs), self.dim), dtype=float)
        actives = [set(self.active(c)) for c in cfgs]
        for n, p in self.params.items():
            sl = self._slices[n]
            mask = np.array([n in a for a in actives], dtype=bool)
            if isinstance(p, Categorical):
                X[:, sl] = 1.0 / p.width
                for i in np.flatnonzero(mask):
                    X[i, sl] = 0.0
                    X[i, sl.start + p.index(cfgs[i][n])] = 1.0
            else:
                X[:, sl.start] = 0.5
                if mask.any():
                    vals = np.array([cfgs[i][n] for i in np.flatnonzero(mask)], dtype=float)
                    X[mask, sl.start] = p.to_unit(vals)
        return X[0] if single else X

    def decode(self, X: np.ndarray) -> list[Config]:
        """Decode an ``n x dim`` array (any real values; clipped to the cube) to valid configs."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[1] != self.dim:
            raise SpaceError(f"expected {self.dim} columns, got array of shape {X.shape}")
        cols: dict[str, list[Any]] = {}
        for n, p in self.params.items():
            sl = self._slices[n]
            if isinstance(p, Categorical):
                idx = np.argmax(X[:, sl], axis=1)
                cols[n] = [p.choices[i] for i in idx]
            else:
                cols[n] = p.from_unit(X[:, sl.start]).tolist()
        out: list[Config] = []
        for i in range(X.shape[0]):
            full = {n: cols[n][i] for n in self.params}
            out.append({n: full[n] for n in self.active(full)})
        return out

    def canonical(self, X: np.ndarray) -> np.ndarray:
        """Snap encoded points to the encoding of the configs they decode to (``n x dim``)."""
        return self.encode(self.decode(X))

    # ----------------------------------------------------------------- sampling
    def sample(self, n: int, rng: np.random.Generator) -> list[Config]:
        """``n`` configs drawn uniformly in the encoding (log-uniform where ``log=True``)."""
        return self.decode(rng.random((n, self.dim)))

    def sobol(self, n: int, seed: int) -> list[Config]:
        """``n`` configs from a scrambled Sobol sequence over the encoding."""
        from scipy.stats import qmc

        eng = qmc.Sobol(d=self.dim, scramble=True, seed=seed)
        m = max(1, math.ceil(math.log2(max(n, 1))))
        return self.decode(eng.random_base2(m)[:n])

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"params": {n: p.to_dict() for n, p in self.params.items()}}
        if self.conditions:
            d["conditions"] = [c.to_dict() for c in self.conditions]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SearchSpace:
        """Build from ``{"params": {name: {"type": ..., ...}}, "conditions": [...]}``.

        A condition's parent is moved before its child where the mapping lists the child first
        (otherwise the order is kept): a study's store writes its definition with sorted keys,
        which puts ``step_size`` before its parent ``update``, say."""
        if not isinstance(d, Mapping) or "params" not in d:
            raise SpaceError("a space definition needs a 'params' mapping")
        unknown = sorted(set(d) - {"params", "conditions"})
        if unknown:
            raise SpaceError(f"unknown key(s) {unknown} in the space definition")
        if not isinstance(d["params"], Mapping):
            raise SpaceError(f"'params' must be a mapping of name -> parameter, got {d['params']!r}")
        params = {str(n): _param_from_dict(str(n), p) for n, p in d["params"].items()}
        raw_conds = d.get("conditions", []) or []
        if not isinstance(raw_conds, list | tuple):
            raise SpaceError(f"'conditions' must be a list of conditions, got {raw_conds!r}")
        conds = []
        for c in raw_conds:
            try:
                conds.append(Condition(str(c["child"]), str(c["parent"]), tuple(c["values"])))
            except (KeyError, TypeError):
                raise SpaceError(f"a condition needs child, parent and values, got {c!r}") from None
        return cls(_parents_first(params, conds), conds)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        """Load from a ``.json``/``.yaml``/``.yml`` file in this class's own format.

        Raises:
            SpaceError: the file is a ConfigSpace JSON (its converter,
                ``hyperpilot.configspace_io.load_configspace_json``, reads it), or not a space.
        """
        p = Path(path)
        text = p.read_text()
        if p.suffix in (".yaml", ".yml"):
            import yaml

            d = yaml.safe_load(text)
        else:
            d = json.loads(text)
        if isinstance(d, Mapping) and "hyperparameters" in d:
            raise SpaceError(f"{p} is a ConfigSpace JSON file: read it with "
                             "hyperpilot.configspace_io.load_configspace_json(path)")
        return cls.from_dict(d)

    def dump(self, path: str | Path) -> None:
        """Write to ``.json`` or ``.yaml``/``.yml`` by the file's suffix."""
        p = Path(path)
        if p.suffix in (".yaml", ".yml"):
            import yaml

            p.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        else:
            p.write_text(self.to_json())

    def fingerprint(self) -> str:
        """A stable string identifying the space, stored with a study to refuse a changed space."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n!r}: {p!r}" for n, p in self.params.items())
        return f"SearchSpace({{{inner}}}, conditions={self.conditions!r})"


# --------------------------------------------------------------------- helpers
def _check_bounds(low: float, high: float, log: bool, kind: str) -> None:
    for b in (low, high):
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b):
            raise SpaceError(f"{kind} bounds must be finite numbers, got low={low!r}, high={high!r}")
    if not low < high:
        raise SpaceError(f"{kind} needs low < high, got low={low!r}, high={high!r}")
    if log and low <= 0:
        raise SpaceError(f"{kind} with log=True needs low > 0, got low={low!r}")


def _t(v: np.ndarray, log: bool) -> np.ndarray:
    return np.log(v) if log else v


def _tinv(v: np.ndarray, log: bool) -> np.ndarray:
    return np.exp(v) if log else v


def _tbounds(low: float, high: float, log: bool) -> tuple[float, float]:
    return (math.log(low), math.log(high)) if log else (float(low), float(high))


def _num(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _in(v: Any, values: Sequence[Value]) -> bool:
    return any((type(v) is type(c) and v == c) or (_num(v) and _num(c) and v == c) for c in values)


def _py(v: Any, p: Param) -> Any:
    if isinstance(p, Float):
        return float(v)
    if isinstance(p, Int):
        return int(v)
    return p.choices[p.index(v)]


def _parents_first(params: dict[str, Param], conds: Sequence[Condition]) -> dict[str, Param]:
    """``params`` reordered so that every condition's parent comes before its child, each
    name otherwise where it was (names the conditions do not know are left for the
    constructor to report)."""
    parent_of = {c.child: c.parent for c in conds}
    out: dict[str, Param] = {}

    def add(name: str, depth: int) -> None:
        if name in out:
            return
        parent = parent_of.get(name)
        if parent in params and depth < len(params):  # depth: a cycle cannot recurse forever
            add(parent, depth + 1)
        out[name] = params[name]

    for name in params:
        add(name, 0)
    return out


def _param_from_dict(name: str, p: Any) -> Param:
    if not isinstance(p, Mapping) or "type" not in p:
        raise SpaceError(f"parameter '{name}': expected a mapping with a 'type', got {p!r}")
    kind = str(p["type"]).lower()
    allowed = {"float": {"low", "high", "log"}, "int": {"low", "high", "log"},
               "categorical": {"choices"}}
    if kind not in allowed:
        raise SpaceError(f"parameter '{name}': unknown type {p['type']!r}; use float, int or categorical")
    extra = sorted(set(p) - allowed[kind] - {"type"})
    if extra:
        raise SpaceError(f"parameter '{name}': unknown key(s) {extra} for type {kind}")
    try:
        if kind == "categorical":
            return Categorical(p["choices"])
        cls = Float if kind == "float" else Int
        return cls(p["low"], p["high"], bool(p.get("log", False)))
    except KeyError as e:
        raise SpaceError(f"parameter '{name}': missing key {e.args[0]!r}") from None
    except SpaceError as e:
        raise SpaceError(f"parameter '{name}': {e}") from None
