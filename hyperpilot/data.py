"""Where the benchmark data lives (read-only; never copied into the project).

The data directory is the folder described in ``../shared/data/README.md`` (it holds
``yahpo_data/lcbench/model.onnx`` and friends). It is found from, in order: the ``data_dir``
argument (the CLI's ``--data-dir``), then the environment variable ``HYPERPILOT_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "HYPERPILOT_DATA"


class DataDirError(FileNotFoundError):
    """The data directory is not given, or does not exist; the message says how to set it."""


def resolve_data_dir(data_dir: str | Path | None = None, required: bool = True) -> Path | None:
    """The benchmark data directory.

    Args:
        data_dir: an explicit directory; takes precedence over ``$HYPERPILOT_DATA``.
        required: raise when no directory is found; otherwise return None.

    Returns:
        The resolved, existing directory, or None when it is absent and ``required`` is False.

    Raises:
        DataDirError: when ``required`` and the directory is not given or does not exist.
    """
    src = "data_dir"
    if data_dir is None or str(data_dir) == "":
        data_dir, src = os.environ.get(ENV_VAR) or None, ENV_VAR
    if data_dir is None:
        if not required:
            return None
        raise DataDirError(f"no benchmark data directory: pass --data-dir or set {ENV_VAR}")
    path = Path(data_dir).expanduser().resolve()
    if not path.is_dir():
        if not required:
            return None
        raise DataDirError(f"benchmark data directory {str(path)!r} (from {src}) does not exist: "
                           f"pass --data-dir or set {ENV_VAR}")
    return path
