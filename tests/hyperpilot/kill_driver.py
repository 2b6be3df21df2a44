"""A study run as a script, to be killed with SIGKILL by the tests and resumed."""

from __future__ import annotations

import sys

from hyperpilot.study import Study
from tests.hyperpilot import objectives
from tests.hyperpilot.objectives import FIDELITY, SPACE

if __name__ == "__main__":
    db, method, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    objective = getattr(objectives, sys.argv[4] if len(sys.argv) > 4 else "branin_mf")
    Study(SPACE, FIDELITY, method, seed=0, storage=db).run(objective, n_trials=n)
