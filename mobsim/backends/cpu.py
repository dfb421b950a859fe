"""The CPU backend: state in host memory (numpy), the step as numba ``njit`` drivers
(:mod:`mobsim.kernels.drivers.cpu_step`) parallel over threads. Host and device are the same memory, so
``pull`` and ``push`` copy nothing (the interface is :class:`mobsim.backends.protocol.Backend`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from mobsim.backends.items import PARALLEL_MIN_ITEMS, cpu_items
from mobsim.errors import InputError

#: The thread count of the innermost :meth:`CPUBackend.parallel` block, per calling thread.
_ACTIVE = threading.local()


class CPUBackend:
    """State in host memory (numpy); drivers compiled by numba for the CPU, parallel over threads."""

    name = "cpu"
    xp = np
    choice = "requested"
    #: Renumber vehicle slots every this many steps (0: never) when at least ``reorder_min``
    #: vehicles run; both set by the Simulation.
    reorder_every = 0
    reorder_min = 0

    def __init__(self, threads: int | None = None) -> None:
        import numba

        self.max_threads = numba.config.NUMBA_NUM_THREADS
        n = int(threads) if threads else self.max_threads
        if n < 1 or n > self.max_threads:
            raise InputError(f"threads={n} is outside 1..{self.max_threads}", source="--threads",
                             fix=f"use a thread count between 1 and {self.max_threads} (0 = all)")
        self.threads = n
        self._host: dict[str, Any] = {}
        self._k: dict[str, Any] = {}

    @contextlib.contextmanager
    def parallel(self) -> Iterator[None]:
        """numba's parallel loops use this backend's thread count inside the block, and the
        caller's count again after it (numba's count is per calling thread, and a process may
        run several simulations). A block inside a block of the same count costs nothing (a
        notebook's ``sim.step(1)`` enters two)."""
        if getattr(_ACTIVE, "threads", None) == self.threads:
            yield
            return
        import numba

        before, outer = numba.get_num_threads(), getattr(_ACTIVE, "threads", None)
        if before != self.threads:
            numba.set_num_threads(self.threads)
        _ACTIVE.threads = self.threads
        try:
            yield
        finally:
            if before != self.threads:
                numba.set_num_threads(before)
            _ACTIVE.threads = outer

    def attach(self, V: Any, N: Any, L: Any, W: Any, vt: np.ndarray, par: np.ndarray) -> None:
        """Hand the state to the kernels: StructRefs over the very same arrays (no copies)."""
        from mobsim.kernels.runtime.structs import to_struct

        self._k.update(V=to_struct(V), N=to_struct(N), L=to_struct(L), W=to_struct(W))
        self._host.update(V=V, N=N, L=L, W=W)
        self.vt, self.par = vt, par

    def configure(self, settings: dict[str, Any]) -> None:
        """The CPU backend reads no settings of its own (threads come with the constructor)."""

    def add_part(self, name: str, host: Any) -> Any:
        """A mode's state (a namedtuple of host arrays) as part ``name``; returns what its kernels
        take as argument: a StructRef over the very same arrays where the type has one, else the
        namedtuple itself."""
        from mobsim.kernels.runtime.structs import has_struct, to_struct

        self._host[name] = host
        self._k[name] = to_struct(host) if has_struct(host) else host
        return self._k[name]

    def driver(self, drivers: dict[str, Any]) -> Any:
        """The CPU entry of a mode's ``drivers`` table."""
        return drivers[self.name]

    def device(self, name: str) -> Any:
        """The arrays of part ``name`` (the host's own)."""
        return self._host[name]

    def to_host(self, a: np.ndarray) -> np.ndarray:
        """A copy of array ``a``."""
        return np.array(a, copy=True)

    def argsort(self, a: np.ndarray) -> np.ndarray:
        """Stable argsort."""
        return np.argsort(a, kind="stable")

    def synchronize(self) -> None:
        """Every driver call has finished when it returns."""

    def run_items(self, fn: Any, n: int, *args: Any, parallel_min: int | None = None) -> None:
        """Run the per-item function ``fn(i, *args)`` for ``i`` in ``0..n-1`` on this backend's
        threads (a phase of a mode, :mod:`.items`), from ``parallel_min`` items on (default
        :data:`~mobsim.backends.items.PARALLEL_MIN_ITEMS`)."""
        if n >= (PARALLEL_MIN_ITEMS if parallel_min is None else parallel_min) and self.threads > 1:
            with self.parallel():
                cpu_items(fn, len(args))(n, *args)
        elif n > 0:
            cpu_items(fn, len(args), parallel=False)(n, *args)

    def order_scratch(self, n: int) -> np.ndarray:
        """Scratch of the CPU driver's (lane, position) sort: ``n + 1`` slots."""
        return np.zeros(n + 1, np.int32)

    def device_bytes(self) -> int:
        """No device memory: the state is the host's."""
        return 0

    def update(self, name: str, host: Any) -> None:
        """Replace one part of the state (e.g. ``W`` after re-routing grew the route pool)."""
        from mobsim.kernels.runtime.structs import to_struct

        self._k[name] = to_struct(host)
        self._host[name] = host

    def pull(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Host and device are the same memory: nothing to copy."""

    def push(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Host and device are the same memory: nothing to copy."""

    def run_steps(self, n_steps: int) -> int:
        """Advance up to ``n_steps`` steps; returns how many were run (fewer when a buffer filled up).

        Every ``reorder_every`` steps (counted from the first step, whatever the chunking) the
        vehicle slots are renumbered to follow the sorted order (:mod:`mobsim.state.slots`).
        """
        from mobsim.kernels.drivers.cpu_step import run_steps

        k = self._k
        every, least = self.reorder_every, self.reorder_min
        if n_steps <= 0:
            # Still call the kernel: Simulation.run compiles it (or loads it) this way before its clock.
            return int(run_steps(k["V"], k["N"], k["L"], k["W"], self.vt, self.par, 0, every, least))
        if getattr(_ACTIVE, "threads", None) == self.threads:
            return self._run(n_steps)  # inside the engine's block already (no context to enter)
        with self.parallel():
            return self._run(n_steps)

    def _run(self, n: int) -> int:
        from mobsim.kernels.drivers.cpu_step import run_steps
        from mobsim.kernels.runtime.layout import C_NEV, C_NRUN, C_STEP

        k = self._k
        W = self._host["W"]
        every, least = self.reorder_every, self.reorder_min
        done = 0
        while done < n:
            # The kernel returns after a step that ends a renumbering period (with enough vehicles),
            # so small runs stay in one call and large ones renumber on time from their first period.
            got = int(run_steps(k["V"], k["N"], k["L"], k["W"], self.vt, self.par, n - done, every, least))
            done += got
            if every > 0 and got > 0 and int(W.cnt[C_STEP]) % every == 0 and int(W.cnt[C_NRUN]) >= least:
                from mobsim.state.slots import renumber

                renumber(self._host["V"], self._host["L"], W, np, int(W.cnt[C_NRUN]), int(W.cnt[C_NEV]))
            elif got == 0 or done < n:
                break  # a buffer is nearly full: the host flushes it
        return done

    def describe(self) -> str:
        """Processor and thread count, for the result file's ``device`` attribute."""
        cpu = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        return f"cpu: {cpu} ({self.threads} of {os.cpu_count()} threads)"
