"""A child interpreter that fits surrogates in the background, off the driver's GIL.

``multiprocessing`` would be the obvious tool, but its ``spawn`` and ``forkserver`` children
re-import the caller's ``__main__`` (a user script without an ``if __name__ == "__main__"`` guard
then runs its study again), and ``fork`` copies a driver whose OpenMP or Ray threads may hold
locks. So the driver starts ``python -m hyperpilot.methods.fit_server`` itself and talks to it
over a pipe: one pickled request ``(function, args)`` in, one pickled ``(ok, value)`` out.

Protocol: each message is an 8-byte big-endian length followed by a pickle. The child's
``sys.stdout`` is redirected to stderr, so stray prints cannot corrupt the channel; it exits when
its stdin closes (the driver exited or called :meth:`FitServer.close`).
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any

_HEADER = struct.Struct(">Q")


def _write(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("the fit server closed its pipe")
    (n,) = _HEADER.unpack(head)
    data = stream.read(n)
    if len(data) < n:
        raise EOFError("the fit server closed its pipe mid-message")
    return pickle.loads(data)


class FitServer:
    """One background fitting process; at most one request in flight.

    Example:
        >>> server = FitServer()
        >>> server.submit(fit_surrogate, "gp", {}, [], X, Y, None, 0.0, 0)
        >>> while not server.ready(): ...
        >>> model = server.result()  # re-raises the child's exception, if any
    """

    def __init__(self) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "hyperpilot.methods.fit_server"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.busy = False
        atexit.register(self.close)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Send ``fn(*args)`` (``fn`` importable at module level) to the child."""
        if self.busy:
            raise RuntimeError("a fit is already running")
        assert self.proc.stdin is not None
        _write(self.proc.stdin, (fn, args))
        self.busy = True

    def ready(self) -> bool:
        """True when the result (or the child's death) can be read without blocking."""
        assert self.proc.stdout is not None
        return self.busy and bool(select.select([self.proc.stdout], [], [], 0)[0])

    def result(self) -> Any:
        """Block for the result; re-raise the child's exception (RuntimeError if it died)."""
        assert self.proc.stdout is not None
        try:
            ok, value = _read(self.proc.stdout)
        except EOFError as e:
            try:
                code: int | None = self.proc.wait(timeout=5)  # reap it
            except subprocess.TimeoutExpired:
                code = None
            raise RuntimeError(f"background fit process died (exit code {code})") from e
        finally:
            self.busy = False
        if not ok:
            raise value
        return value

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """End the child: at once if a fit is running (its result is no longer wanted)."""
        atexit.unregister(self.close)
        if self.busy and self.alive:
            self.proc.kill()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve() -> None:
    """The child's loop: answer requests until stdin closes."""
    import torch

    torch.set_num_threads(1)
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the channel
    sys.stdout = sys.stderr
    requests = os.fdopen(0, "rb")
    while True:
        try:
            fn, args = _read(requests)
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except Exception as e:  # noqa: BLE001 - every failure goes back to the driver
            reply = (False, e)
        try:
            try:
                _write(channel, reply)
            except (pickle.PicklingError, TypeError, AttributeError) as e:
                _write(channel, (False, RuntimeError(f"fit result could not be pickled: {e}")))
        except BrokenPipeError:  # the driver is gone
            return


if __name__ == "__main__":
    serve()
