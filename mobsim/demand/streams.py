"""Seeded random streams, one per named element of the demand (a flow, an OD matrix, a vehicle's
type or route draw): the same draws for the same seed and name on any machine and in any file
order."""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """The random generator of one demand source: ``Generator(PCG64(seed ^ stable_hash(stream)))``."""
    return np.random.Generator(np.random.PCG64(int(seed) ^ stable_hash(stream)))
