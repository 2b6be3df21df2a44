"""A dashboard served from a thread for the tests, and small HTTP helpers."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hyperpilot.dashboard import Prepared, prepare


@contextmanager
def running(paths: list[Path], allow_actions: bool = False,
            refresh_s: float = 0.2) -> Iterator[Prepared]:
    """A dashboard on 127.0.0.1 and a free port, serving until the block ends."""
    p = prepare(paths, "127.0.0.1", 0, allow_actions, refresh_s)
    th = threading.Thread(target=p.run, daemon=True)
    th.start()
    end = time.monotonic() + 30
    while not p.server.started:
        if time.monotonic() > end:
            raise TimeoutError("the dashboard did not start")
        time.sleep(0.02)
    try:
        yield p
    finally:
        p.server.should_exit = True
        th.join(timeout=30)


def base(p: Prepared) -> str:
    return f"http://127.0.0.1:{p.sock.getsockname()[1]}"


def request(url: str, body: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed JSON or text) of a GET, or a POST of ``body`` as JSON."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                         **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text
