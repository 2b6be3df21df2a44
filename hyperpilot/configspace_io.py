"""ConfigSpace JSON <-> ``SearchSpace``, in pure JSON (the ``ConfigSpace`` package is optional).

Reads both the 0.4-0.6 JSON format (``"default"``, ``"json_format_version"``; e.g. YAHPO's
``config_space.json``) and the 1.x format (``"default_value"``, ``"format_version": 0.4``).
Writes the 1.x format, which ``ConfigurationSpace.from_json`` reads.

Mapping (import):

* ``uniform_float`` / ``uniform_int`` -> ``Float`` / ``Int`` (``log`` kept; ``q`` quantization
  dropped with a warning);
* ``normal_float`` / ``normal_int`` / ``beta_*`` -> ``Float`` / ``Int`` *uniform* within their
  ``lower``/``upper`` bounds, with a ``UserWarning`` (the prior is dropped); without bounds -> error;
* ``categorical`` -> ``Categorical`` (``weights``/``probabilities`` dropped);
* ``ordinal`` -> ``Categorical`` of its ``sequence`` (the order is not kept);
* ``constant`` -> ``Categorical`` with one choice;
* conditions ``EQ`` / ``IN`` whose parent is categorical, ordinal or constant -> ``Condition``;
* ``AND`` / ``OR`` conjunctions, other condition types, and forbidden clauses -> ``SpaceError``
  by default; ``unsupported="ignore"`` drops them with a ``UserWarning`` instead (a dropped
  condition leaves its child always active; a dropped forbidden lets the optimizer propose
  configs the original space forbids).

Parameters are reordered, stably, so that every condition's parent precedes its child.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from hyperpilot.space import Categorical, Condition, Float, Int, Param, SearchSpace, SpaceError

Unsupported = Literal["error", "ignore"]

_NUMERIC = {"uniform_float", "uniform_int", "normal_float", "normal_int", "beta_float", "beta_int"}


def from_configspace_dict(d: Mapping[str, Any], unsupported: Unsupported = "error") -> SearchSpace:
    """Convert a ConfigSpace JSON dict (``{"hyperparameters": [...], "conditions": [...], ...}``).

    Args:
        d: the parsed JSON of a ConfigSpace (0.4-1.x format).
        unsupported: ``"error"`` raises on conjunctions, non-EQ/IN conditions and forbiddens;
            ``"ignore"`` drops them with a warning.

    Raises:
        SpaceError: on unknown hyperparameter types, missing bounds or unsupported constructs.
    """
    if not isinstance(d, Mapping) or not isinstance(d.get("hyperparameters"), list):
        raise SpaceError("a ConfigSpace JSON needs a 'hyperparameters' list")
    params: dict[str, Param] = {}
    for hp in d["hyperparameters"]:
        if not isinstance(hp, Mapping) or "name" not in hp or "type" not in hp:
            raise SpaceError(f"a ConfigSpace hyperparameter needs 'name' and 'type', got {hp!r}")
        params[str(hp["name"])] = _param(hp)
    conds = _conditions(d.get("conditions") or [], params, unsupported)
    forb = d.get("forbiddens") or []
    if forb:
        _unsupported(unsupported, f"{len(forb)} forbidden clause(s) (first: {forb[0]!r})")
    return SearchSpace(_parents_first(params, conds), conds)


def to_configspace_dict(space: SearchSpace) -> dict[str, Any]:
    """Convert to a ConfigSpace 1.x JSON dict (``format_version`` 0.4).

    Defaults are the middle of each range (geometric middle on log scales) and the first choice.
    """
    hps = [_hp_dict(n, p) for n, p in space.params.items()]
    conds: list[dict[str, Any]] = []
    for c in space.conditions:
        if len(c.values) == 1:
            conds.append({"type": "EQ", "child": c.child, "parent": c.parent, "value": c.values[0]})
        else:
            conds.append({"type": "IN", "child": c.child, "parent": c.parent, "values": list(c.values)})
    return {"name": None, "hyperparameters": hps, "conditions": conds, "forbiddens": [],
            "python_module_version": "1.2.0", "format_version": 0.4}


def load_configspace_json(path: str | Path, unsupported: Unsupported = "error") -> SearchSpace:
    """Read a ConfigSpace JSON file (see ``from_configspace_dict``)."""
    return from_configspace_dict(json.loads(Path(path).read_text()), unsupported)


def dump_configspace_json(space: SearchSpace, path: str | Path) -> None:
    """Write ``space`` as a ConfigSpace 1.x JSON file."""
    Path(path).write_text(json.dumps(to_configspace_dict(space), indent=2))


# --------------------------------------------------------------------- import helpers
def _param(hp: Mapping[str, Any]) -> Param:
    name, kind = hp["name"], str(hp["type"])
    try:
        if kind in _NUMERIC:
            return _numeric(hp, kind)
        if kind == "categorical":
            return Categorical(list(hp["choices"]))
        if kind == "ordinal":
            return Categorical(list(hp["sequence"]))
        if kind == "constant":
            return Categorical([hp["value"]])
    except KeyError as e:
        raise SpaceError(f"hyperparameter '{name}' ({kind}): missing key {e.args[0]!r}") from None
    except SpaceError as e:
        raise SpaceError(f"hyperparameter '{name}' ({kind}): {e}") from None
    raise SpaceError(f"hyperparameter '{name}': unsupported ConfigSpace type {kind!r}; "
                     "supported: uniform_*/normal_*/beta_* float and int, categorical, ordinal, constant")


def _numeric(hp: Mapping[str, Any], kind: str) -> Param:
    name = hp["name"]
    if hp.get("lower") is None or hp.get("upper") is None:
        raise SpaceError(f"{kind} without 'lower'/'upper' bounds; HyperPilot needs a bounded range")
    if not kind.startswith("uniform"):
        warnings.warn(f"hyperparameter '{name}': {kind} prior dropped; treated as uniform in "
                      f"[{hp['lower']}, {hp['upper']}]", UserWarning, stacklevel=4)
    if hp.get("q") is not None:
        warnings.warn(f"hyperparameter '{name}': quantization q={hp['q']} dropped",
                      UserWarning, stacklevel=4)
    log = bool(hp.get("log", False))
    if kind.endswith("_int"):
        return Int(int(hp["lower"]), int(hp["upper"]), log)
    return Float(float(hp["lower"]), float(hp["upper"]), log)


def _conditions(raw: list[Any], params: Mapping[str, Param], unsupported: Unsupported) -> list[Condition]:
    out: list[Condition] = []
    for c in raw:
        kind = c.get("type") if isinstance(c, Mapping) else None
        if kind not in ("EQ", "IN"):
            _unsupported(unsupported, f"condition of type {kind!r} on {c.get('child') if isinstance(c, Mapping) else c!r}"
                         " (only EQ and IN on a categorical parent are supported)")
            continue
        parent = params.get(c["parent"])
        if not isinstance(parent, Categorical):
            _unsupported(unsupported, f"condition on '{c['child']}': parent '{c['parent']}' is not "
                         "categorical/ordinal/constant")
            continue
        values = (c["value"],) if kind == "EQ" else tuple(c["values"])
        out.append(Condition(str(c["child"]), str(c["parent"]), values))
    return out


def _unsupported(mode: Unsupported, what: str) -> None:
    if mode == "ignore":
        warnings.warn(f"ConfigSpace import: ignoring {what}", UserWarning, stacklevel=4)
        return
    raise SpaceError(f"ConfigSpace import: unsupported {what}; pass unsupported='ignore' to drop it")


def _parents_first(params: dict[str, Param], conds: list[Condition]) -> dict[str, Param]:
    """Stable topological order: each parameter after its condition's parent."""
    parent = {c.child: c.parent for c in conds}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(n: str) -> None:
        if n in order:
            return
        if n in visiting:
            raise SpaceError(f"ConfigSpace import: conditions form a cycle through '{n}'")
        visiting.add(n)
        if n in parent and parent[n] in params:
            visit(parent[n])
        visiting.discard(n)
        order.append(n)

    for n in params:
        visit(n)
    return {n: params[n] for n in order}


# --------------------------------------------------------------------- export helpers
def _hp_dict(name: str, p: Param) -> dict[str, Any]:
    if isinstance(p, Categorical):
        if len(p.choices) == 1:
            return {"type": "constant", "name": name, "value": p.choices[0], "meta": None}
        return {"type": "categorical", "name": name, "choices": list(p.choices), "weights": None,
                "default_value": p.choices[0], "meta": None}
    mid = math.sqrt(p.low * p.high) if p.log else (p.low + p.high) / 2
    if isinstance(p, Int):
        return {"type": "uniform_int", "name": name, "lower": p.low, "upper": p.high,
                "default_value": min(p.high, max(p.low, round(mid))), "log": p.log, "meta": None}
    return {"type": "uniform_float", "name": name, "lower": float(p.low), "upper": float(p.high),
            "default_value": mid, "log": p.log, "meta": None}
