"""Method options -> the bench's method-variant names (``hyperpilot.methods.VARIANTS``).

The bench builds a method from its name only, so an experiment's ``method_options`` must match
one of the registered variants: ``hyperpilot`` with ``{full_fidelity: true}`` runs as
``hyperpilot:full`` (every trial at the max budget), ``{data_rule: bohb}`` as ``:bohb``.
"""

from __future__ import annotations

from typing import Any


def variant_name(method: str, options: dict[str, Any]) -> str:
    """``hyperpilot`` + ``{full_fidelity: true}`` -> ``hyperpilot:full``; no options -> the name.

    Raises:
        ValueError: when no registered variant has exactly these options.
    """
    from hyperpilot.methods import VARIANTS

    if not options:
        return method
    for key, opts in VARIANTS.items():
        if key and opts == options:
            return f"{method}:{key}"
    known = {k: v for k, v in VARIANTS.items() if k}
    raise ValueError(f"method options {options} have no registered variant; known: {known}")
