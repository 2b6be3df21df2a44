"""Side-by-side benchmarking of our methods and peers: ``python -m hyperpilot.bench``.

* ``runner``: the grid method x benchmark x seed, one atomically written table per cell;
* ``records``: the tidy trials table's columns;
* ``peers``: thin adapters for Optuna, DEHB and SMAC3 (each in its own multi-fidelity scheme);
* ``stats`` / ``analysis``: IQM, bootstrap CIs, ranks, speed-up, overhead, false stops;
* ``report`` / ``tables`` / ``figures`` / ``html``: Markdown, LaTeX, CSV, seaborn, plotly.

Nothing heavy is imported here.
"""

from __future__ import annotations
