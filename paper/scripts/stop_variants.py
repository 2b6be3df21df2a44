"""Stopping-rule settings as method variants, for the bench's ``--imports`` (issue 19, item 5).

``hyperband:<variant>`` runs Hyperband with one learning-curve stopping rule, so that only the
rule differs between methods of a run. The library's own variants are ``:stop`` (parametric,
threshold 0.05, patience 2), ``:bnnstop`` and ``:gainstop`` (the same settings on the online BNN
and on the empirical gain model); these add the more aggressive settings::

    PYTHONPATH=paper/scripts OMP_NUM_THREADS=1 .venv/bin/python -m hyperpilot.bench run \\
        --imports stop_variants --methods hyperband,hyperband:stop,hyperband:stop20,\\
    hyperband:gainstop,hyperband:gain10,hyperband:gain20,hyperband:gain30p1 \\
        --benchmarks bandit,lcbench:3945,lcbench:7593,lcbench:34539 --seeds 3 --budget 20 \\
        --data-dir ../shared/data --out runs/racing/stopping-gain
    PYTHONPATH=paper/scripts .venv/bin/python -m hyperpilot.bench report runs/racing/stopping-gain
"""

from __future__ import annotations

from hyperpilot.methods import VARIANTS

SETTINGS = {
    "stop20": {"threshold": 0.2, "patience": 2},
    "bnn20": {"model": "bnn", "threshold": 0.2, "patience": 2},
    "bnn30p1": {"model": "bnn", "threshold": 0.3, "patience": 1},
    "gain10": {"model": "gain", "threshold": 0.1, "patience": 2},
    "gain20": {"model": "gain", "threshold": 0.2, "patience": 2},
    "gain30p1": {"model": "gain", "threshold": 0.3, "patience": 1},
    "gain50p1": {"model": "gain", "threshold": 0.5, "patience": 1},
    "gain30p1mf05": {"model": "gain", "threshold": 0.3, "patience": 1, "min_fraction": 0.05},
    "gain50p1mf05": {"model": "gain", "threshold": 0.5, "patience": 1, "min_fraction": 0.05},
    "gain40p1mf05": {"model": "gain", "threshold": 0.4, "patience": 1, "min_fraction": 0.05},
    "stop30p1mf05": {"threshold": 0.3, "patience": 1, "min_fraction": 0.05},
    "stop40p1mf05": {"threshold": 0.4, "patience": 1, "min_fraction": 0.05},
    "stop50p1mf05": {"threshold": 0.5, "patience": 1, "min_fraction": 0.05},
}
"""Variant name -> ``StopRule`` options (the rest at their defaults)."""

for _name, _rule in SETTINGS.items():
    VARIANTS.setdefault(_name, {"stop_rule": dict(_rule)})
