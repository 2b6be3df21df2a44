"""A study run as a script, to be killed with SIGKILL by the tests and resumed."""

from __future__ import annotations

import sys

from hyperpilot.study import Study
from tests.hyperpilot.objectives import FIDELITY, SPACE, branin_mf

if __name__ == "__main__":
    db, method, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    Study(SPACE, FIDELITY, method, seed=0, storage=db).run(branin_mf, n_trials=n)
