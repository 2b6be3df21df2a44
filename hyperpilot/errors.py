"""Errors that mean "the user asked for something malformed", reported as one line and exit 2."""

from __future__ import annotations

from hyperpilot.benchmarks import UnknownBenchmarkError
from hyperpilot.data import DataDirError
from hyperpilot.methods import UnknownMethod
from hyperpilot.space import SpaceError
from hyperpilot.storage import StorageError


class SetupError(Exception):
    """Wraps a ValueError/KeyError/TypeError raised while a study is being set up from user input."""


USER_ERRORS: tuple[type[BaseException], ...] = (
    SpaceError, StorageError, UnknownMethod, UnknownBenchmarkError, DataDirError, SetupError,
)
