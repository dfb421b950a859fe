"""What every backend offers: where the state lives, how it moves, how phases run.

A backend is chosen once per :class:`~mobsim.engine.Simulation` (:func:`.select.select_backend`)
and shared by every mode. The road traffic hands it its four state parts (``V`` vehicles, ``N``
network, ``L`` lanes, ``W`` work; :mod:`mobsim.state`) with :meth:`Backend.attach` and advances
them with :meth:`Backend.run_steps`; another mode adds its own parts (:meth:`Backend.add_part`)
and runs its phases through :meth:`Backend.run_items` or its own drivers, chosen by
:meth:`Backend.driver`. The recorder reads device state with :meth:`Backend.pull` and writes host
changes back with :meth:`Backend.push`.

Implementations: :class:`.cpu.CPUBackend` (numpy, numba ``njit`` over threads),
:class:`.cuda.CUDABackend` (cupy, ``numba.cuda`` kernels) and :class:`.cudasim.CUDASimBackend`
(the CUDA kernels in numba's simulator, for tests without a GPU). Nothing outside
``mobsim.backends`` asks which one it has: code that differs per backend is picked by
:meth:`Backend.driver`, keyed by :attr:`Backend.name`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np


class Backend(Protocol):
    """The interface of :class:`.cpu.CPUBackend`, :class:`.cuda.CUDABackend` and
    :class:`.cudasim.CUDASimBackend` (``tests/test_backend_protocol.py`` holds them to it)."""

    #: The family of drivers the backend runs: ``"cpu"`` or ``"cuda"`` (the simulator's too).
    name: str
    #: CPU threads of parallel loops (1 on CUDA).
    threads: int
    #: How the backend was chosen (``"requested"``, or why ``auto`` chose it).
    choice: str
    #: The array module of device arrays (numpy or cupy).
    xp: Any
    #: Renumber vehicle slots every this many steps (0: never) once at least ``reorder_min`` run.
    reorder_every: int
    reorder_min: int

    def configure(self, settings: dict[str, Any]) -> None:
        """Read the backend's own settings from the run's (``sim.cuda_graphs``)."""

    # --- the road state
    def attach(self, V: Any, N: Any, L: Any, W: Any, vt: np.ndarray, par: np.ndarray) -> None:
        """Take the road state (host namedtuples of arrays; copied to the device where there is one)."""

    def update(self, name: str, host: Any) -> None:
        """Replace part ``name`` after the host rebuilt it (the route pool grew)."""

    def run_steps(self, n_steps: int) -> int:
        """Advance the road state up to ``n_steps`` steps (fewer when an output buffer is nearly
        full); returns how many ran. Zero steps compiles or loads the kernels."""

    def order_scratch(self, n: int) -> np.ndarray:
        """Host scratch the driver's (lane, position) sort needs for ``n`` vehicles."""

    # --- any mode's state
    def add_part(self, name: str, host: Any) -> Any:
        """Take a mode's state part (a namedtuple of host arrays); returns its kernel argument."""

    def device(self, name: str) -> Any:
        """The device arrays of part ``name``."""

    def pull(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Copy fields of part ``name`` from the device into the host arrays (all by default)."""

    def push(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Copy fields of part ``name`` from the host arrays to the device (all by default)."""

    # --- primitives for a mode's phases
    def run_items(self, fn: Any, n: int, *args: Any, parallel_min: int | None = None) -> None:
        """Run the per-item function ``fn(i, *args)`` over ``i`` in ``0..n-1`` (:mod:`.items`);
        ``parallel_min``: the fewest items a CPU runs on its threads (default
        :data:`mobsim.backends.items.PARALLEL_MIN_ITEMS`; more for items that take next to no
        time)."""

    def driver(self, drivers: dict[str, Any]) -> Any:
        """The entry of ``drivers`` for this backend's family (:attr:`name`)."""

    def argsort(self, a: Any) -> Any:
        """Stable argsort of a device array."""

    def to_host(self, a: Any) -> np.ndarray:
        """A host copy of a device array."""

    def synchronize(self) -> None:
        """Wait until every launched phase has finished."""

    def parallel(self) -> AbstractContextManager[None]:
        """Host-side parallel work inside the block uses the backend's thread count."""

    # --- facts for the result file
    def describe(self) -> str:
        """The processor or device, for the result file's ``device`` attribute."""

    def device_bytes(self) -> int:
        """Bytes of device memory the state holds (0 on the CPU)."""
