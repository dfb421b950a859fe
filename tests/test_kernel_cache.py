"""The numba cache folder follows the kernel sources, so an edited helper never runs stale."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
import pytest

import mobsim
import mobsim.kernels as kernels


def test_cache_folder_is_keyed_by_every_kernel_source() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        pytest.skip("NUMBA_CACHE_DIR is set by the user: mobsim leaves the cache folder alone")
    h = hashlib.sha256()
    here = Path(kernels.__file__).parent
    for p in sorted(here.rglob("*.py")):
        h.update(p.relative_to(here).as_posix().encode())
        h.update(p.read_bytes())
    assert any(p.parent != here for p in here.rglob("*.py")), "the kernels live in subfolders too"
    host = Path(mobsim.__file__).parent
    for name in kernels.HOST_NUMBA_SOURCES:  # the route searches' numba code, across files
        h.update(name.encode())
        h.update((host / name).read_bytes())
    expected = kernels._kernel_cache_dir()
    assert expected.name == f"numba-{h.hexdigest()[:16]}"
    if numba.config.CACHE_DIR:
        assert Path(numba.config.CACHE_DIR) == expected


_CUDA_CHECK = """
import json, os
from mobsim.kernels.drivers import air_cuda, cuda_step
out = {}
air = [(n, getattr(air_cuda, n)) for n in dir(air_cuda) if n.startswith("k_")]
for name, k in [*cuda_step.KERNELS.items(), *air]:
    c = k._cache
    out[name] = [type(c).__name__, getattr(c, "_cache_path", "")]
print(json.dumps(out))
"""


def _cuda_caches(env_extra: dict[str, str]) -> dict[str, list[str]]:
    import json
    import subprocess
    import sys

    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed: CUDA kernel cache not checked")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}  # real dispatchers
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", _CUDA_CHECK], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cuda_kernels_are_cached_in_a_folder_keyed_by_the_state_layout(tmp_path) -> None:
    """Every CUDA kernel keeps its compiled code on disk (compiling them for a GPU takes tens of
    seconds per process), in a folder keyed by the kernel sources and, for the car kernels, the
    state layout: they take the state as one byte buffer, so a changed field dtype must not load
    a kernel compiled for the old layout. ``MOBSIM_CUDA_CACHE=0`` switches the disk cache off."""
    caches = _cuda_caches({"NUMBA_CACHE_DIR": str(tmp_path)})
    assert len(caches) >= 11 + 5
    folders = {Path(p).parent for kind, p in caches.values()}
    assert all(kind == "CUDACache" for kind, _ in caches.values())
    assert all(f.parent == tmp_path and f.name.startswith("cuda-") for f in folders)
    assert len(folders) == 2  # car kernels (keyed by the layout too) and drone kernels
    off = _cuda_caches({"NUMBA_CACHE_DIR": str(tmp_path), "MOBSIM_CUDA_CACHE": "0"})
    assert all(kind == "NullCache" for kind, _ in off.values())


def test_cuda_cache_folder_changes_with_the_layout_key() -> None:
    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed")
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        pytest.skip("the CUDA simulator's kernels have no disk cache")

    def body(a):  # a kernel is never compiled here: the folder is chosen when it is declared
        a[0] = 1

    one = kernels.cuda_kernel("layout A")(body)._cache._cache_path
    two = kernels.cuda_kernel("layout B")(body)._cache._cache_path
    assert Path(one).parent != Path(two).parent
