"""The numba cache folder follows the kernel sources, so an edited helper never runs stale."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
import pytest

import mobsim.kernels as kernels


def test_cache_folder_is_keyed_by_every_kernel_source() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        pytest.skip("NUMBA_CACHE_DIR is set by the user: mobsim leaves the cache folder alone")
    h = hashlib.sha256()
    for p in sorted(Path(kernels.__file__).parent.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    expected = kernels._kernel_cache_dir()
    assert expected.name == f"numba-{h.hexdigest()[:16]}"
    if numba.config.CACHE_DIR:
        assert Path(numba.config.CACHE_DIR) == expected
