"""JIT kernels of mobsim, importable as ``mobsim.kernels``. Folders by concept:

* :mod:`.runtime`: declarations every kernel shares: the state registry (``state_fields``), the
  constant layouts (``layout``), the packed device buffer (``cuda_args``), StructRefs
  (``structs``), the two target-specific primitives (``atomics``: integer atomic add and minimum),
  float32 rounding (``precision``) and each mode's phase list (``phases``).
* :mod:`.physics`: pure scalar functions (``idm``, ``carfollow``, ``mobil``, ``rng``) that use only
  ``math``: scalars in, scalars out, no array indexing, no exceptions. They are decorated with
  :func:`numba.extending.register_jitable`, the one place where they become compilable for every
  numba target, so the CPU drivers (``numba.njit``) and the CUDA drivers (``numba.cuda.jit``) call
  the very same source. Without numba's JIT (plain Python, or the CUDA simulator) they are
  ordinary Python functions, which is what the unit tests call.
* :mod:`.road` and :mod:`.air`: the phases of the road and the drone step, each a range function
  over its items (vehicles, lanes, links; flights, vertiports) in a module named for its behaviour.
* :mod:`.drivers`: ``cpu_step`` and ``air_cpu`` call the phases for chunks on the CPU;
  ``cuda_step`` and ``air_cuda`` once per GPU thread with a grid-stride range.

Layers (``pyproject.toml``'s import-linter contracts): drivers above road and air, which sit above
physics, above runtime; nothing here imports the host package.
"""
import hashlib as _hashlib
import os as _os
from pathlib import Path as _Path
from typing import Any as _Any

#: Modules of the host package with numba functions that call each other across files (the
#: route searches): numba checks only a cached function's own file for changes, so their sources
#: key the cache folder too (read as files; nothing is imported).
HOST_NUMBA_SOURCES = ("net/heap.py", "net/graph.py", "net/reachability.py", "demand/routing.py")


def _host_package() -> _Path | None:
    """The host package's folder: beside this one in an install, ``mobsim/`` in a checkout."""
    root = _Path(__file__).resolve().parent.parent
    for cand in (root / "mobsim", root):
        if (cand / HOST_NUMBA_SOURCES[0]).is_file():
            return cand
    return None


def _hash_sources(h: _Any) -> None:
    """Feed every kernel source file (by its path below this folder, and its bytes), then the
    host's numba sources (:data:`HOST_NUMBA_SOURCES`), to ``h``."""
    here = _Path(__file__).parent
    for p in sorted(here.rglob("*.py")):
        h.update(p.relative_to(here).as_posix().encode())
        h.update(p.read_bytes())
    host = _host_package()
    for name in HOST_NUMBA_SOURCES if host is not None else ():
        h.update(name.encode())
        h.update((host / name).read_bytes())


def _kernel_cache_dir() -> _Path:
    """Numba cache folder keyed by a hash of every kernel source file.

    numba keys a cached function on the file that defines it only, so a cached driver would keep
    running the old code of a helper edited in another module. One folder per version of the
    kernel sources makes every edit a clean recompile (about a minute) instead of a stale kernel.
    """
    h = _hashlib.sha256()
    _hash_sources(h)
    base = _Path(_os.environ.get("XDG_CACHE_HOME") or _Path.home() / ".cache")
    return base / "mobsim" / f"numba-{h.hexdigest()[:16]}"


def cuda_kernel(layout_key: str = "") -> _Any:
    """Decorator: ``numba.cuda.jit``, with the compiled kernel cached on disk in a folder of its
    own, keyed by every kernel source file and ``layout_key``.

    Why a folder of its own: numba keys a cached kernel on its signature and its own file only. The
    car kernels take the whole state as one byte buffer (:mod:`.cuda_args`), so their signature
    stays the same when a field's dtype changes, and the state layout (``layout_key``, the repr of
    ``cuda_args.SPEC``) must key the folder, whatever ``NUMBA_CACHE_DIR`` says. Compiling the
    kernels for a GPU takes tens of seconds, in every process without the cache.
    """
    import numba
    from numba import cuda

    if _os.environ.get("MOBSIM_CUDA_CACHE", "1") == "0":  # compile in every process instead
        return cuda.jit
    h = _hashlib.sha256(layout_key.encode())
    _hash_sources(h)
    base = _Path(numba.config.CACHE_DIR) if numba.config.CACHE_DIR else _kernel_cache_dir()
    folder = str(base / f"cuda-{h.hexdigest()[:16]}")

    def decorate(fn: _Any) -> _Any:
        old = numba.config.CACHE_DIR
        numba.config.CACHE_DIR = folder  # read once, when the dispatcher creates its cache
        try:
            return cuda.jit(cache=True)(fn)
        finally:
            numba.config.CACHE_DIR = old

    return decorate


def _configure_cache() -> None:
    import numba

    if _os.environ.get("NUMBA_CACHE_DIR") or numba.config.CACHE_DIR:
        return  # the user chose a cache folder
    try:
        d = _kernel_cache_dir()
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # numba falls back to __pycache__ next to the sources
    numba.config.CACHE_DIR = str(d)


def _load_numba_without_scipy_blas() -> None:
    """Load numba's array implementations with ``scipy.linalg`` hidden, where SciPy is installed
    but ``scipy.linalg`` is not imported yet.

    At its first compilation (or cache load) numba imports ``numba.np.arraymath``, which imports
    ``scipy.linalg`` to learn whether a BLAS is there for ``np.correlate``/``np.convolve``: 0.27 s
    of every run's start-up on a machine with SciPy, for functions no kernel calls (without a
    BLAS they run numba's own loop). ``np.dot`` and ``np.linalg`` look for SciPy again when they
    are compiled, so they are unaffected."""
    import sys

    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # importing it now fails at once
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg"]


_configure_cache()
_load_numba_without_scipy_blas()
