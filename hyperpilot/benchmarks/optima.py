"""Optimum estimates of surrogate benchmarks that are computed once per user and cached.

A surrogate benchmark ships its optimum estimates in a JSON file next to its module (e.g.
``lcbench_optima.json``). A task without an entry there is estimated on first use, the same way,
and kept in ``cache_dir() / <that file's name>``, keyed by ``<task>@<surrogate file size>`` so a
changed surrogate is estimated again. The cache lives outside the package (never committed).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_ENV = "HYPERPILOT_CACHE"
log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where HyperPilot caches what it computes once per user: ``$HYPERPILOT_CACHE``, else
    ``$XDG_CACHE_HOME/hyperpilot``, else ``~/.cache/hyperpilot`` (never inside the package)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "hyperpilot"


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``, or ``{}`` when it is missing or unreadable."""
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def packaged_optima(path: Path) -> dict[str, dict[str, Any]]:
    """``{task: {"optimum": ..., "note": ..., ...}}`` from a packaged optima file (``{}`` if absent)."""
    return dict(read_json(path).get("tasks", {}))


def cached_estimate(file_name: str, name: str, task: str, model: Path,
                    estimate: Callable[[], tuple[float, str]]) -> dict[str, Any]:
    """A task's optimum estimate from the per-user cache, computing and caching it when absent.

    Args:
        file_name: the cache file's name inside ``cache_dir()`` (the packaged file's name).
        name: the benchmark's name for the log message (e.g. ``"lcbench:167083"``).
        task: the task id (the first half of the cache key).
        model: the surrogate file (its size is the second half of the key).
        estimate: computes ``(value, how)``; called only on a cache miss.

    Returns:
        ``{"optimum": ..., "note": ...}``; the note says it was computed on first use and names
        the cache file. A cache that cannot be written only costs the estimate again next time.
    """
    path = cache_dir() / file_name
    key = f"{task}@{model.stat().st_size}"
    cached = read_json(path).get(key)
    if cached is not None:
        return dict(cached)
    log.warning("%s has no packaged optimum estimate; estimating it once (a few seconds)", name)
    value, how = estimate()
    entry = {"optimum": round(value, 6), "note": f"{how}; computed on first use, cached in {path}"}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**read_json(path), key: entry}, indent=1) + "\n")
        os.replace(tmp, path)  # concurrent first uses write the same estimate
    except OSError as e:
        log.warning("could not cache the estimate in %s (%s)", path, e.strerror or e)
    return entry
