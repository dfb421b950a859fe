"""The state registry (``kernels/runtime/state_fields.py``): every array the host allocates for the road
vehicles, lanes, work arrays and compiled network has the dtype and number of dimensions its
declaration gives, and every declaration says its unit and meaning."""

from __future__ import annotations

import numpy as np
import pytest

from backend_cases import CASES
from mobsim.engine import Simulation
from mobsim.kernels.runtime import state_fields as sf

PARTS = {"V": sf.VEHICLE_FIELDS, "L": sf.LANE_FIELDS, "W": sf.WORK_FIELDS, "N": sf.NET_FIELDS}


@pytest.mark.parametrize("case", ["grid", "drones"])
def test_host_arrays_have_the_declared_dtypes(case: str) -> None:
    sim = Simulation(CASES[case](), backend="cpu", seed=5)
    parts = {"V": sim.V, "L": sim.L, "W": sim.W, "N": sim.cn.arrays}
    for part, fields in PARTS.items():
        host = parts[part]
        assert list(host._fields) == [f.name for f in fields], part
        for f in fields:
            a = getattr(host, f.name)
            assert (np.dtype(a.dtype), a.ndim) == (np.dtype(f.dtype), f.ndim), f"{part}.{f.name}"


def test_every_declaration_has_a_unit_and_a_meaning() -> None:
    for fields in (*PARTS.values(), sf.DRONE_FIELDS, sf.SLOT_FIELDS):
        for f in fields:
            assert f.units and len(f.description) > 8, f.name
            np.dtype(f.dtype)  # a numpy dtype
    for part, fields in PARTS.items():
        names = [f.name for f in fields]
        assert len(set(names)) == len(names), f"{part}: a field declared twice"
