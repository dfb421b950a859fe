"""Every CUDA kernel compiles to PTX for real GPUs (sm_90: H100; sm_80, A100, with
``MOBSIM_PTX_CC=90,80``), without a GPU.

The CUDA simulator runs kernels with Python semantics, so it cannot show that a kernel compiles
for a device. numba-cuda's ``compile_ptx`` can, with the CUDA toolkit wheels that
``numba-cuda[cu13]`` brings (NVVM; no driver needed). One catch: a kernel that calls a shared
``njit`` function compiles it as a device function for the *current* device's compute
capability, which asks the driver; the test supplies the capability it compiles for.

Compiling every road kernel takes about four minutes of the suite's fifteen on two cores, and
the kernels change in few commits. So the road and drone kernels' PTX is compiled where their
sources differ from the last sources that compiled: ``tests/ptx_verified.json`` keeps, per group
and capability, a hash of every file under ``kernels/``, the kernels' signatures and the numba
and numba-cuda versions. A test whose hash matches is skipped with that reason; any change to a
kernel source, a signature or a version compiles them all again and, when they compile, writes the
new hash into the file (commit it). ``MOBSIM_PTX_ALL=1`` compiles them whatever the file says.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import types as pytypes
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                       reason="numba-cuda is not installed (pip install -e '.[dev]' brings it)"),
    pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"),
                       reason="compile_ptx does not exist under the CUDA simulator"),
]

#: Compute capabilities compiled for: sm_90 (H100) by default; others with MOBSIM_PTX_CC, e.g.
#: ``MOBSIM_PTX_CC=90,80`` adds sm_80 (A100). Each capability costs about 40 s of compilation,
#: and the suite's time on CI is mostly compilation.
CAPABILITIES = [(int(c) // 10, int(c) % 10)
                for c in os.environ.get("MOBSIM_PTX_CC", "90").split(",") if c.strip()]


#: Hashes of the kernel sources whose PTX compiled (module docstring).
VERIFIED = Path(__file__).with_name("ptx_verified.json")


def _sources_key(group: str, cc: tuple[int, int], sigs: dict[str, Any]) -> str:
    """The hash of everything a group's PTX depends on: the kernel sources, the signatures, the
    compilers' versions and the capability."""
    import numba
    import numba_cuda

    root = Path(__file__).resolve().parents[1] / "kernels"
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    h.update(f"{numba.__version__}|{getattr(numba_cuda, '__version__', '?')}|{group}|{cc}".encode())
    for name in sorted(sigs):
        h.update(f"{name}:{sigs[name]}".encode())
    return h.hexdigest()


def _already_verified(group: str, cc: tuple[int, int], sigs: dict[str, Any]) -> tuple[bool, str]:
    key = _sources_key(group, cc, sigs)
    known = json.loads(VERIFIED.read_text()) if VERIFIED.is_file() else {}
    return os.environ.get("MOBSIM_PTX_ALL") != "1" and known.get(f"{group}/sm_{cc[0]}{cc[1]}") == key, key


def _record_verified(group: str, cc: tuple[int, int], key: str) -> None:
    known = json.loads(VERIFIED.read_text()) if VERIFIED.is_file() else {}
    known[f"{group}/sm_{cc[0]}{cc[1]}"] = key
    VERIFIED.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def example_state() -> tuple[Any, ...]:
    from conftest import make_scenario, random_grid_trips
    from mobsim.engine import Simulation
    from mobsim.kernels.runtime.cuda_args import Params
    from mobsim.net import generators as gen

    net = gen.grid(rows=2, cols=2, block_length=150.0, lanes=2, signalised=True)
    sim = Simulation(make_scenario(net, random_grid_trips(net, 4, 10.0, np.random.default_rng(0))),
                     backend="cpu")
    return sim.V, sim.cn.arrays, sim.L, sim.W, Params(sim.vt, sim.par)


@pytest.fixture
def compute_capability(monkeypatch: pytest.MonkeyPatch) -> Any:
    import numba.cuda.dispatcher as dispatcher

    def use(cc: tuple[int, int]) -> None:
        monkeypatch.setattr(dispatcher, "get_current_device",
                            lambda: pytypes.SimpleNamespace(compute_capability=cc))

    return use


def test_every_kernel_is_listed() -> None:
    from mobsim.kernels.drivers import cuda_step

    kernel_type = type(cuda_step.k_end)
    # Device functions (the scan's block-wide step) are compiled inside the kernels that call them.
    found = {name for name, obj in inspect.getmembers(cuda_step)
             if isinstance(obj, kernel_type) and not obj.targetoptions.get("device", False)}
    listed = {k.py_func.__name__ for k in cuda_step.KERNELS.values()}
    assert found == listed, "add new kernels to cuda_step.KERNELS so that this test compiles them"


@pytest.mark.parametrize("cc", CAPABILITIES, ids=lambda c: f"sm_{c[0]}{c[1]}")
def test_kernels_compile_to_ptx(cc: tuple[int, int], example_state: tuple[Any, ...],
                                compute_capability: Any) -> None:
    from numba import cuda

    from mobsim.kernels.drivers import cuda_step

    compute_capability(cc)
    sigs = cuda_step.signatures(*example_state)
    assert set(sigs) == set(cuda_step.KERNELS)
    done, key = _already_verified("road", cc, sigs)
    if done:
        pytest.skip(f"these kernel sources compiled to PTX before ({VERIFIED.name}: {key[:12]}); "
                    "MOBSIM_PTX_ALL=1 compiles them again")
    failed = {}
    for name, kern in cuda_step.KERNELS.items():
        try:
            ptx, _ = cuda.compile_ptx(kern.py_func, sigs[name], cc=cc)
        except Exception as exc:  # noqa: BLE001 - report every kernel that fails, not just the first
            failed[name] = f"{type(exc).__name__}: {str(exc)[:400]}"
            continue
        assert f".target sm_{cc[0]}{cc[1]}" in ptx, name
        assert ".entry" in ptx, name
    assert not failed, failed
    _record_verified("road", cc, key)


@pytest.fixture(scope="module")
def drone_state() -> tuple[Any, ...]:
    from mobsim.modes.drones.sim import free_flight

    sim = free_flight(np.array([0.0, 500.0]), np.array([0.0, 0.0]), np.array([60.0, 60.0]),
                      np.array([90.0, 270.0]), 10.0)
    return sim.D, sim.A


def test_every_drone_kernel_is_listed() -> None:
    from mobsim.kernels.drivers import air_cuda

    kernel_type = type(air_cuda.k_move)
    found = {name for name, obj in inspect.getmembers(air_cuda) if isinstance(obj, kernel_type)}
    listed = {k.py_func.__name__ for k in air_cuda.KERNELS.values()}
    assert found == listed, "add new kernels to air_cuda.KERNELS so that this test compiles them"


@pytest.mark.parametrize("cc", CAPABILITIES, ids=lambda c: f"sm_{c[0]}{c[1]}")
def test_drone_kernels_compile_to_ptx(cc: tuple[int, int], drone_state: tuple[Any, ...],
                                      compute_capability: Any) -> None:
    from numba import cuda

    from mobsim.kernels.drivers import air_cuda

    compute_capability(cc)
    sigs = air_cuda.signatures(*drone_state)
    assert set(sigs) == set(air_cuda.KERNELS)
    done, key = _already_verified("drones", cc, sigs)
    if done:
        pytest.skip(f"these kernel sources compiled to PTX before ({VERIFIED.name}: {key[:12]}); "
                    "MOBSIM_PTX_ALL=1 compiles them again")
    failed = {}
    for name, kern in air_cuda.KERNELS.items():
        try:
            ptx, _ = cuda.compile_ptx(kern.py_func, sigs[name], cc=cc)
        except Exception as exc:  # noqa: BLE001 - report every kernel that fails
            failed[name] = f"{type(exc).__name__}: {str(exc)[:400]}"
            continue
        assert f".target sm_{cc[0]}{cc[1]}" in ptx, name
    assert not failed, failed
    _record_verified("drones", cc, key)


def _mode_phases_compile(case: Any, mode_name: str, call: Any, names: list[str], cc: tuple[int, int],
                         compute_capability: Any) -> None:
    """A mode's per-item phases, as the CUDA backend launches them (grid-stride kernels,
    mobsim.backends.items), compile to PTX with the argument types of a real run: ``call(mode)``
    makes the mode launch them once (into a recording stand-in of the backend)."""
    from numba import cuda, typeof

    from mobsim.backends.items import cuda_items
    from mobsim.engine import Simulation

    sim = Simulation(case(), backend="cpu")
    mode = next(m for m in sim.modes if m.name == mode_name)
    calls: list[tuple[Any, tuple[Any, ...]]] = []
    mode.backend = pytypes.SimpleNamespace(device=sim.backend.device,
                                           run_items=lambda fn, n, *args, **kw: calls.append((fn, args)))
    call(mode)
    assert [fn.__name__ for fn, _ in calls] == names
    compute_capability(cc)
    for fn, args in calls:
        kern = cuda_items(fn, len(args))
        sig = (typeof(np.int64(1)), *[typeof(a) for a in args])
        ptx, _ = cuda.compile_ptx(kern.py_func, sig, cc=cc)
        assert f".target sm_{cc[0]}{cc[1]}" in ptx and ".entry" in ptx, fn.__name__


@pytest.mark.parametrize("cc", CAPABILITIES, ids=lambda c: f"sm_{c[0]}{c[1]}")
def test_transit_kernel_compiles_to_ptx(cc: tuple[int, int], compute_capability: Any) -> None:
    """The transit lines' boarding phases (one item per vehicle, then one per stop)."""
    from backend_cases import case_transit

    _mode_phases_compile(case_transit, "transit", lambda m: m._serve(1), ["track_vehicle", "serve_stop"], cc,
                         compute_capability)


@pytest.mark.parametrize("cc", CAPABILITIES, ids=lambda c: f"sm_{c[0]}{c[1]}")
def test_drt_parking_kernels_compile_to_ptx(cc: tuple[int, int], compute_capability: Any) -> None:
    """The on-demand fleet's curb phases (to the curb, back into the lane)."""
    from backend_cases import case_drt

    _mode_phases_compile(case_drt, "drt", lambda m: m._park(1), ["park_idle", "pull_out"], cc,
                         compute_capability)


@pytest.mark.parametrize("cc", CAPABILITIES, ids=lambda c: f"sm_{c[0]}{c[1]}")
def test_drt_insertion_kernel_compiles_to_ptx(cc: tuple[int, int], compute_capability: Any) -> None:
    """The on-demand fleet's insertion evaluation (one item per vehicle and request), as
    ``insertion_costs`` launches it on the GPU, with the argument types of a real call."""
    from numba import cuda, typeof
    from test_drt_dispatch import DWELL, scenario

    from mobsim.backends.items import cuda_items
    from mobsim.kernels.drt.insertion import best_insertion
    from mobsim.modes.drt.dispatch import insertion_args

    fleet, req, tt = scenario(1)
    args = insertion_args(fleet, req, tt, DWELL)
    compute_capability(cc)
    kern = cuda_items(best_insertion, len(args))
    ptx, _ = cuda.compile_ptx(kern.py_func, (typeof(np.int64(1)), *[typeof(a) for a in args]), cc=cc)
    assert f".target sm_{cc[0]}{cc[1]}" in ptx and ".entry" in ptx
