"""The packed CUDA state (:mod:`mobsim.kernels.runtime.cuda_args`): one buffer, views at aligned offsets,
and the device-side ``unpack`` giving the same arrays (compiled here for the CPU; the PTX test
compiles it inside every kernel)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    from conftest import make_scenario, random_grid_trips
    from mobsim.engine import Simulation
    from mobsim.kernels.runtime.cuda_args import Params
    from mobsim.net import generators as gen

    net = gen.grid(rows=2, cols=3, block_length=150.0, lanes=2, signalised=True)
    sim = Simulation(make_scenario(net, random_grid_trips(net, 30, 20.0, np.random.default_rng(1))),
                     backend="cpu")
    sim.step(40)  # non-trivial values in every part
    return {"V": sim.V, "N": sim.cn.arrays, "L": sim.L, "W": sim.W, "P": Params(sim.vt, sim.par)}


def _pack(state: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from mobsim.kernels.runtime.cuda_args import layout, views

    lay, size = layout(state)
    buf = np.zeros(size, np.uint8)
    v = views(buf, lay)
    for part, host in state.items():
        for d, a in zip(v[part], host, strict=True):
            d[...] = a
    return buf, lay, v


def test_views_hold_every_array_at_aligned_offsets(state: dict[str, Any]) -> None:
    from mobsim.kernels.runtime.cuda_args import ALIGN, SPEC

    buf, lay, v = _pack(state)
    assert len(lay) == sum(len(f) for _, _, f in SPEC)
    size = np.array([np.dtype(dt).itemsize for _, _, f in SPEC for _, dt, _ in f])
    start, end = lay[:, 0] * size, lay[:, 1] * size  # bytes
    assert (start % ALIGN == 0).all() and (start[1:] >= end[:-1]).all() and end[-1] <= buf.nbytes
    for part, host in state.items():
        for name, d, a in zip(host._fields, v[part], host, strict=True):
            assert d.dtype == a.dtype and d.shape == a.shape, f"{part}.{name}"
            assert np.array_equal(d, a, equal_nan=True), f"{part}.{name}"
            # (an empty array, e.g. the detectors of a network without actuated signals, holds no memory)
            assert d.size == 0 or np.shares_memory(d, buf), f"{part}.{name}"


def test_device_unpack_gives_the_same_views(state: dict[str, Any]) -> None:
    from mobsim.kernels.runtime.cuda_args import Packed, unpack

    buf, lay, v = _pack(state)
    got = unpack(Packed(buf, lay))
    for part, tup in zip(("V", "N", "L", "W", "P"), got, strict=True):
        for name, d, ref in zip(state[part]._fields, tup, v[part], strict=True):
            assert d.dtype == ref.dtype and d.shape == ref.shape, f"{part}.{name}"
            assert np.array_equal(d, ref, equal_nan=True), f"{part}.{name}"
    got[0].pos[0] = 12345.5  # writes land in the buffer
    assert v["V"].pos[0] == 12345.5


def test_a_state_array_of_another_dtype_is_named(state: dict[str, Any]) -> None:
    from mobsim.kernels.runtime.cuda_args import layout

    bad = dict(state, V=state["V"]._replace(pos=state["V"].pos.astype(np.float32)))
    with pytest.raises(ValueError, match=r"V\.pos is float32.*float64"):
        layout(bad)


def test_no_kernel_reads_a_host_only_network_array() -> None:
    """The CUDA backend uploads the arrays of ``compile.HOST_ONLY`` empty; the CPU kernels get the
    full host arrays, so only a look at the kernel sources catches a kernel that starts reading
    one (it would read out of bounds on a GPU)."""
    import re
    from pathlib import Path

    from mobsim.net.compile import HOST_ONLY, NetArrays

    assert HOST_ONLY < set(NetArrays._fields)
    here = Path(__file__).resolve().parents[1] / "kernels"
    src = {p.relative_to(here).as_posix(): p.read_text() for p in here.rglob("*.py")}
    assert "road/lanes.py" in src
    for name, text in src.items():
        for f in HOST_ONLY:
            hits = re.findall(rf"\bN\.{f}\b|\bN_{f}\b", text)
            assert not hits, f"kernels/{name} reads the host-only network array {f}"

