"""The reproducible paper: experiment configs -> runs -> figures and tables -> ``paper/main.tex``.

``python -m hyperpilot.paper reproduce --scale smoke|full`` runs every experiment defined in
``paper/experiments/*.yaml`` that has no results yet (resuming through the bench runner's
per-cell files), then regenerates every figure (``paper/figures``) and LaTeX table
(``paper/tables``) from the results. Modules:

* ``experiments``: the YAML configs, resolved for a scale;
* ``methods``: method options -> the bench's variant names (``hyperpilot:full``);
* ``runner``: runs bench and script experiments, exports/loads ``runs/reference``;
* ``artifacts``: figures and tables of each experiment;
* ``checklist``: hardware, scale macros and the reproducibility checklist;
* ``reproduce``: the command that ties them together.
"""

from __future__ import annotations

from hyperpilot.paper.experiments import Experiment, load_experiments

__all__ = ["Experiment", "load_experiments"]
