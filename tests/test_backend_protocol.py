"""Every backend class offers the whole backend interface (``mobsim/backends/protocol.py``) with the
same parameters, and nothing outside ``mobsim/backends/`` asks which backend it has."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

from mobsim.backends.cpu import CPUBackend
from mobsim.backends.protocol import Backend

ROOT = Path(__file__).resolve().parent.parent


def _classes() -> list[type]:
    pytest.importorskip("numba.cuda")
    from mobsim.backends.cuda import CUDABackend
    from mobsim.backends.cudasim import CUDASimBackend

    return [CPUBackend, CUDABackend, CUDASimBackend]


def _members(cls: type) -> dict[str, inspect.Signature]:
    return {n: inspect.signature(f) for n, f in inspect.getmembers(cls, inspect.isfunction)
            if not n.startswith("_")}


def test_every_backend_implements_the_protocol() -> None:
    want = _members(Backend)
    assert {"attach", "run_steps", "add_part", "pull", "push", "run_items", "driver"} <= set(want)
    for cls in _classes():
        have = _members(cls)
        missing = set(want) - set(have)
        assert not missing, f"{cls.__name__} lacks {sorted(missing)}"
        for name, sig in want.items():
            assert list(have[name].parameters) == list(sig.parameters), f"{cls.__name__}.{name}{have[name]}"
        obj = CPUBackend(1) if cls is CPUBackend else cls  # the CUDA classes need no GPU to be read
        for attr in ("name", "threads", "choice", "reorder_every", "reorder_min"):
            assert hasattr(obj, attr), f"{cls.__name__} has no attribute {attr}"


def test_the_simulator_is_a_cuda_backend_of_the_cuda_family() -> None:
    _, cuda, sim = _classes()
    assert issubclass(sim, cuda) and sim.name == cuda.name == "cuda"
    assert CPUBackend.name == "cpu"


def test_nothing_outside_the_backends_asks_which_backend_it_has() -> None:
    """No comparison with a backend's name, no ``simulated`` flag, no private backend member."""
    private = ("simulated", "_launch", "_argsort", "_to_device")
    bad = []
    for path in sorted((ROOT / "mobsim").rglob("*.py")):
        if "backends" in path.relative_to(ROOT).parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in private:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Compare):
                sub = list(ast.walk(node))
                names = [n for n in sub if isinstance(n, ast.Constant) and n.value in ("cpu", "cuda")]
                attrs = [n for n in sub if isinstance(n, ast.Attribute) and n.attr.endswith("name")]
                if names and attrs:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} compares a backend's name")
    assert not bad, bad


def test_cpu_backend_parts_and_items() -> None:
    """A mode's part on the CPU: the kernels get the host's own arrays; a per-item phase runs over
    every item, on the backend's thread count, and leaves numba's count as it was."""
    import numba
    from numba.extending import register_jitable

    from toy_mode import ToyState

    @register_jitable
    def add(i, a, k):
        a[i] += k * i

    be = CPUBackend(1)
    st = ToyState(np.zeros(10, np.int64))
    k = be.add_part("toy", st)
    before = numba.get_num_threads()
    be.run_items(add, 10, k.count, 3)
    assert numba.get_num_threads() == before
    assert st.count.tolist() == [3 * i for i in range(10)]
    assert be.device("toy") is st and be.driver({"cpu": 1, "cuda": 2}) == 1
