"""Shared fixtures: the benchmark data directory (skips the test when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_SKIP_REASON = "needs HYPERPILOT_DATA (../shared/data)"


def find_data_dir() -> Path | None:
    """``$HYPERPILOT_DATA`` if set, else ``<repo>/../shared/data``; None when neither exists."""
    env = os.environ.get("HYPERPILOT_DATA")
    for cand in ([Path(env)] if env else []) + [REPO_ROOT.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand.resolve()
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The benchmark data directory; the test is skipped with a reason when it is absent."""
    found = find_data_dir()
    if found is None:
        pytest.skip(DATA_SKIP_REASON)
    return found
