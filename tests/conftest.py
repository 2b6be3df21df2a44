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


@pytest.fixture
def make_read_only():  # type: ignore[no-untyped-def]
    """``make_read_only(path)`` makes a file or folder read-only until the test ends.

    As root (who writes through file modes) the path is bind-mounted onto itself read-only, so
    writes fail with ``EROFS`` as on a read-only medium; otherwise its mode loses the write
    bits. Skips when neither works here.
    """
    import shutil
    import stat
    import subprocess

    undo: list[list[str] | tuple[Path, int]] = []

    def make(path: Path) -> Path:
        if os.geteuid() != 0:
            undo.append((path, path.stat().st_mode))
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            return path
        mount = shutil.which("mount")
        ok = mount is not None and subprocess.run(
            [mount, "--bind", str(path), str(path)], capture_output=True).returncode == 0
        if ok:
            undo.append(["umount", "-l", str(path)])  # lazy: an open handle cannot keep it
            ok = subprocess.run([mount, "-o", "remount,ro,bind", str(path)],
                                capture_output=True).returncode == 0
        if not ok or os.access(path, os.W_OK):
            pytest.skip("cannot make a read-only path here (root without bind mounts)")
        return path

    yield make
    for u in reversed(undo):
        if isinstance(u, tuple):
            u[0].chmod(u[1])
        else:
            subprocess.run(u, capture_output=True)
