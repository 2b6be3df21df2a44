"""Every figure and table by name: ``FIGURES``/``TABLES`` map a name to its builder.

An experiment lists the names it produces (``figures:``/``tables:`` in its YAML); a builder is
called with the experiment's compact results and writes ``paper/figures/<name>.{pdf,png}`` or
``paper/tables/<name>.tex``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperpilot.paper import bench_artifacts as B
from hyperpilot.paper import script_artifacts as S
from hyperpilot.paper import tournament_artifacts as T
from hyperpilot.paper.experiments import Experiment

Builder = Callable[[Path, Experiment, Path, str], Any]

FIGURES: dict[str, Builder] = {
    "headline_regret": B.regret_figure,
    "headline_rank": B.rank_figure,
    "full_fidelity_bo_regret": B.regret_figure,
    "surrogate_quality": S.surrogate_quality_figure,
    "scaling": S.scaling_figure,
    "rl_tuning": S.rl_tuning_figure,
    "transfer_lead": T.lead_figure,
    "h100_lead": T.lead_figure,
}
TABLES: dict[str, Builder] = {
    "headline_final": B.final_table,
    "headline_rank": B.rank_table,
    "headline_overhead": B.overhead_table,
    "headline_paired": B.paired_table,
    "full_fidelity_bo_final": B.final_table,
    "surrogate_quality": S.surrogate_quality_table,
    "curve_extrapolation": S.curve_extrapolation_table,
    "space_speed": S.space_speed_table,
    "scaling": S.scaling_table,
    "rl_tuning": S.rl_tuning_table,
    "rl_tuning_curve": S.rl_tuning_curve_table,
    "tournament_rank": T.rank_table,
    "tournament_regret": T.regret_table,
    "tournament_round1": T.round1_table,
    "transfer_rank": T.rank_table,
    "transfer_regret": T.regret_table,
    "h100_rank": T.rank_table,
    "h100_regret": T.regret_table,
    "h100s_rank": T.rank_table,
    "h100s_regret": T.regret_table,
}


def build(e: Experiment, src: Path, paper: Path) -> list[Path]:
    """Write the figures and tables of ``e`` from its compact results ``src`` under ``paper``.

    Raises:
        KeyError: when the experiment names a figure or table without a builder.
    """
    out: list[Path] = []
    for name in e.figures:
        if name not in FIGURES:
            raise KeyError(f"experiment {e.name}: no figure builder {name!r}; known: {sorted(FIGURES)}")
        out += FIGURES[name](src, e, paper / "figures", name)
    for name in e.tables:
        if name not in TABLES:
            raise KeyError(f"experiment {e.name}: no table builder {name!r}; known: {sorted(TABLES)}")
        out.append(TABLES[name](src, e, paper / "tables", name))
    return out
