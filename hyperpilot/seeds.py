"""Tuning seeds and test seeds: which seed a trial's objective gets, and which seeds tuning never uses.

A trial is one run of a config at a budget on one seed. ``Trial.seed_index`` says which: ``k``
is the config's ``k``-th run (0 for its first, and for every promotion of that run up the
Hyperband rungs; ``k > 0`` only for the extra seeds of racing). ``Trial.seed`` is the seed its
objective gets (``Context.seed``), from one of two schemes:

* **paired** (common random numbers, SMAC's rule; on with racing): a config's ``k``-th run gets
  the study's ``k``-th tuning seed, :func:`paired_seed`, whatever the config, so two configs'
  runs with the same ``k`` are a paired comparison. The tuning seeds of a study are distinct
  values in ``[0, TUNING_SEED_SPAN)``.
* **per config** (the default without racing, unchanged since the first release, so stored
  studies and committed results replay exactly): each config gets its own 31-bit seed,
  :func:`config_seed`, derived from the master seed and the config id.

Test seeds are :data:`TEST_SEED_START` and up (``hyperpilot test-incumbent``, the bench's
held-out noise seeds ``10000..10015``). Paired seeds lie below them; a per-config seed that would
fall in ``[TEST_SEED_START, TEST_SEED_START + TEST_SEED_SPAN)`` is drawn again (about one config in
two million), so no tuning run ever uses a test seed.
"""

from __future__ import annotations

import functools

import numpy as np

TEST_SEED_START = 10_000
"""The first test seed; test evaluations use ``TEST_SEED_START, TEST_SEED_START + 1, ...``."""
TEST_SEED_SPAN = 1_000
"""Seeds ``[TEST_SEED_START, TEST_SEED_START + TEST_SEED_SPAN)`` are reserved for tests."""
TUNING_SEED_SPAN = 9_000
"""Paired tuning seeds lie in ``[0, TUNING_SEED_SPAN)``, below every test seed."""


def is_test_seed(seed: int) -> bool:
    """True for a seed reserved for held-out test evaluations."""
    return TEST_SEED_START <= seed < TEST_SEED_START + TEST_SEED_SPAN


def config_seed(master: int, config_id: int, seed_index: int = 0) -> int:
    """The per-config scheme: a 31-bit seed from ``(master, config_id[, seed_index])``.

    ``seed_index = 0`` gives the seed every study used before seeds were first-class.
    """
    words = [master, 7919, config_id] + ([seed_index] if seed_index else [])
    for retry in range(1000):
        ss = np.random.SeedSequence(words + ([TEST_SEED_START, retry] if retry else []))
        seed = int(ss.generate_state(1)[0] % (2**31 - 1))
        if not is_test_seed(seed):
            return seed
    raise RuntimeError("no seed outside the test range")  # pragma: no cover - p = 1e-6000


def paired_seed(master: int, seed_index: int) -> int:
    """The paired scheme: the study's ``seed_index``-th tuning seed, the same for every config.

    Raises:
        ValueError: for ``seed_index`` outside ``[0, TUNING_SEED_SPAN)``.
    """
    if not 0 <= seed_index < TUNING_SEED_SPAN:
        raise ValueError(f"seed_index must be in [0, {TUNING_SEED_SPAN}), got {seed_index}")
    return int(_tuning_seeds(master)[seed_index])


@functools.lru_cache(maxsize=16)
def _tuning_seeds(master: int) -> np.ndarray:
    """A permutation of ``range(TUNING_SEED_SPAN)`` drawn from the master seed."""
    rng = np.random.default_rng(np.random.SeedSequence([master, 104729]))
    return rng.permutation(TUNING_SEED_SPAN)


def trial_seed(master: int, config_id: int, seed_index: int, paired: bool) -> int:
    """The seed of a config's ``seed_index``-th run under the paired or per-config scheme."""
    return paired_seed(master, seed_index) if paired else config_seed(master, config_id, seed_index)
