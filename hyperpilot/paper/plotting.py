"""Deterministic matplotlib/seaborn output: equal data give byte-identical PNG and PDF files.

PDF ``CreationDate`` and the PNG ``Software`` key are dropped and ``svg.hashsalt`` is fixed;
colours come from one fixed method order, so a method has the same colour in every figure.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

METHOD_ORDER = ["hyperpilot", "hyperpilot-nostop", "hyperpilot-mcdropout", "gp-bo", "hyperband",
                "random", "optuna-tpe-hyperband", "optuna-tpe-median", "dehb", "smac-mf",
                "hyperpilot:full", "hyperpilot-mcdropout:full", "gp-bo:full",
                "hyperpilot-nostop:full", "hyperpilot:fid", "gp-bo:fid", "hyperpilot:bohb",
                "gp-bo:bohb", "gp-bo-nostop", "gp-bo-capped", "hyperpilot@ensemble",
                "hyperpilot-nostop@ensemble", "hyperpilot-nostop@ensemble:full",
                "hyperpilot@ensemble:full"]
"""The paper's method order; new names go last, so the methods already here keep their colours.
Names not listed (``hyperpilot@gp``, other variants) follow, alphabetically."""


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend with the paper's theme and fixed salts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    matplotlib.rcParams["svg.hashsalt"] = "hyperpilot"
    matplotlib.rcParams["pdf.compression"] = 6
    return plt


def ordered(methods: Any) -> list[str]:
    """Methods in the fixed paper order (unknown names last, alphabetically)."""
    ms = set(methods)
    return [m for m in METHOD_ORDER if m in ms] + sorted(ms - set(METHOD_ORDER))


def colour(method: str) -> Any:
    """The method's colour: tab20 by its position in ``METHOD_ORDER``, else from tab20b.

    Unlisted names (``hyperpilot@gp``) take a tab20b colour by the name's crc32 (not ``hash``,
    which changes between processes), apart from the listed methods' colours.
    """
    import matplotlib

    if method in METHOD_ORDER:
        return matplotlib.colormaps["tab20"](METHOD_ORDER.index(method) % 20)
    return matplotlib.colormaps["tab20b"](zlib.crc32(method.encode()) % 20)


def linestyle(method: str) -> str:
    """Peers dashed, our methods solid, so the two groups read apart at a glance."""
    from hyperpilot.bench.peers import PEERS

    return "--" if method.split(":")[0] in PEERS else "-"


def save(fig: Any, folder: Path, name: str) -> list[Path]:
    """``name.pdf`` and ``name.png`` (150 dpi) without timestamps; closes ``fig``."""
    plt = pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.pdf", folder / f"{name}.png"]
    fig.savefig(paths[0], bbox_inches="tight", metadata={"CreationDate": None, "ModDate": None})
    fig.savefig(paths[1], dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return paths
