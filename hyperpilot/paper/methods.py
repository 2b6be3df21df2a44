"""Method variants with options, registered under their own names so the bench can run them.

The bench runner builds a method from its name only (``Study(..., method=name)``), so an
experiment's ``method_options`` (e.g. ``{full_fidelity: true}``) become a registered variant:
``hyperpilot`` with ``full_fidelity: true`` runs as ``hyperpilot-ff``. The bench imports this
module in every worker (``BenchConfig.imports``).
"""

from __future__ import annotations

from typing import Any

from hyperpilot.methods import METHODS, Method, MethodFactory, register_method
from hyperpilot.space import SearchSpace
from hyperpilot.trial import Fidelity

SUFFIXES = {"full_fidelity": "ff"}  # option -> name suffix (only boolean options so far)


def variant_name(method: str, options: dict[str, Any]) -> str:
    """``hyperpilot`` + ``{full_fidelity: true}`` -> ``hyperpilot-ff``; no options -> the name."""
    unknown = sorted(set(options) - set(SUFFIXES))
    if unknown:
        raise ValueError(f"method options {unknown} have no registered variant; "
                         f"known: {', '.join(SUFFIXES)}")
    parts = [SUFFIXES[k] for k in sorted(options) if options[k]]
    return "-".join([method, *parts])


def _variant(base: MethodFactory, options: dict[str, Any]) -> MethodFactory:
    def factory(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
        return base(space, fidelity, seed, **{**options, **opts})

    factory.__doc__ = f"{base.__doc__ or ''} Options: {options}."
    return factory


def register_variants() -> list[str]:
    """Register ``<m>-ff`` for every model-based method of ``METHODS``; returns the new names."""
    names = []
    for m in ("hyperpilot", "hyperpilot-nostop", "hyperpilot-mcdropout", "gp-bo"):
        if m in METHODS:
            name = variant_name(m, {"full_fidelity": True})
            register_method(name, _variant(METHODS[m], {"full_fidelity": True}))
            names.append(name)
    return names


register_variants()
