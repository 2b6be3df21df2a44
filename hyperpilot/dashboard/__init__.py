"""The live dashboard: ``python -m hyperpilot dashboard STORE [--port 8080]`` (``dashboard`` extra).

``cache`` reads a store incrementally and read-only, ``views`` turns a study into bounded JSON
views, ``app`` serves them (Starlette, uvicorn, plotly.js from the plotly package),
:func:`prepare` binds the address and builds the server, and :func:`serve` runs it.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Prepared:
    """A dashboard bound to its address, not yet serving.

    Attributes:
        server: the ``uvicorn.Server``; ``server.run(sockets=[sock])`` serves until
            ``server.should_exit`` is set.
        sock: the bound listening socket.
        url: the page's address, with ``?token=...`` when actions are allowed.
        token: the action token, or None for a read-only dashboard.
        n_studies: how many studies it watches.
    """

    server: Any
    sock: socket.socket
    url: str
    token: str | None
    n_studies: int

    def run(self) -> None:
        """Serve until interrupted (or ``server.should_exit``)."""
        self.server.run(sockets=[self.sock])


def prepare(paths: list[Path], host: str = "127.0.0.1", port: int = 8080,
            allow_actions: bool = False, refresh_s: float = 1.0) -> Prepared:
    """Open the studies of ``paths`` (stores, or folders of them) read-only and bind the address
    (port 0 picks a free port); a fresh random token when ``allow_actions``.

    Raises:
        hyperpilot.storage.StorageError: for a path that is not a readable store.
        ValueError: when no study is found.
        OSError: when the address cannot be bound.
    """
    import uvicorn

    from hyperpilot.dashboard.app import Dashboard, allowed_hosts, build_app
    from hyperpilot.dashboard.cache import open_studies

    caches = open_studies(paths)
    if not caches:
        raise ValueError(f"no study found in {', '.join(map(str, paths))}")
    token = secrets.token_urlsafe(24) if allow_actions else None
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    real = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else ("localhost" if host == "127.0.0.1" else host)
    url = f"http://{shown}:{real}/" + (f"?token={token}" if token else "")
    app = build_app(Dashboard(caches, token, refresh_s), allowed_hosts(host))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    return Prepared(server, sock, url, token, len(caches))


def serve(paths: list[Path], host: str = "127.0.0.1", port: int = 8080,
          allow_actions: bool = False, refresh_s: float = 1.0) -> None:
    """Watch the studies of ``paths`` until interrupted; prints the URL first (with the action
    token when ``allow_actions``). Raises as :func:`prepare`."""
    p = prepare(paths, host, port, allow_actions, refresh_s)
    n = p.n_studies
    print(f"dashboard: {n} stud{'y' if n == 1 else 'ies'}, "
          f"{'actions allowed' if p.token else 'read-only'}: {p.url}", flush=True)
    p.run()


__all__ = ["Prepared", "prepare", "serve"]
