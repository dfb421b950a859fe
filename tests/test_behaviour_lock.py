"""Behaviour lock: the result tables of fixed runs hash to recorded values.

A restructuring (moving modules, splitting classes, new backend or mode plumbing) must not change
what a run computes. This test runs the default scenario (seeds 1 and 7, the whole hour) and the
small backend cases of ``backend_cases.py`` on the CPU, hashes every dataset of the trips,
summary, events, edge-data, drone and transit tables, and compares each hash with
``tests/data/behaviour_lock.json``. The CUDA backend (and its simulator) is held to the CPU
results by ``test_backends.py``, so the CPU hashes lock both.

A change that is meant to change results (a physics fix, a new output column) regenerates the
file, and the diff shows which tables moved::

    python tests/test_behaviour_lock.py --update
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
LOCK = HERE / "data" / "behaviour_lock.json"
ROOT = HERE.parent
#: The result groups whose datasets are locked (run metadata, provenance and the network echo are
#: not behaviour).
GROUPS = ("trips", "summary", "events", "edgedata", "drones", "transit")
#: (name, seed) of the default-scenario runs.
DEFAULT_RUNS = (("default", 1), ("default", 7))
#: The backend cases (``backend_cases.CASES``), run on the CPU as the backend test runs them.
CASES = ("grid", "jam", "drones", "osm_junctions", "transit")
#: Datasets that measure the machine, not the simulation.
NOT_BEHAVIOUR = frozenset({"summary/wall_time"})


def dataset_hashes(path: str | Path) -> dict[str, str]:
    """SHA-256 (first 16 hex digits) of every dataset under :data:`GROUPS` of result file ``path``
    but :data:`NOT_BEHAVIOUR`: its dtype, shape and bytes (strings by their UTF-8 encoding)."""
    out: dict[str, str] = {}
    with h5py.File(path, "r") as f:
        def visit(name: str, obj: Any) -> None:
            if not isinstance(obj, h5py.Dataset) or name in NOT_BEHAVIOUR:
                return
            data = obj[()]
            h = hashlib.sha256(f"{obj.dtype}|{obj.shape}|".encode())
            if isinstance(data, np.ndarray) and data.dtype == object:
                for x in data.ravel():
                    h.update(x if isinstance(x, bytes) else str(x).encode())
                    h.update(b"\0")
            else:
                h.update(np.ascontiguousarray(data).tobytes())
            out[name] = h.hexdigest()[:16]

        for g in GROUPS:
            if g in f:
                f[g].visititems(lambda n, o, g=g: visit(f"{g}/{n}", o))
    return out


def run_default(seed: int, out: Path) -> Path:
    """The default scenario, the whole run, on the CPU with ``seed``."""
    from mobsim.engine import Simulation
    from mobsim.scenario import load_scenario

    sc = load_scenario(str(ROOT / "networks" / "default" / "scenario.toml"), [f"sim.seed={seed}"])
    return Simulation(sc, backend="cpu", seed=seed).run(out=out, progress="none")


def run_case_cpu(case: str, out: Path) -> Path:
    sys.path.insert(0, str(HERE))
    from backend_cases import run_case

    return run_case(case, "cpu", out)


def current(tmp: Path) -> dict[str, dict[str, str]]:
    """Hashes of every locked run, computed now."""
    got: dict[str, dict[str, str]] = {}
    for name, seed in DEFAULT_RUNS:
        got[f"{name}/seed{seed}"] = dataset_hashes(run_default(seed, tmp / f"{name}_{seed}.h5"))
    for case in CASES:
        got[f"case/{case}"] = dataset_hashes(run_case_cpu(case, tmp / f"case_{case}.h5"))
    return got


def _diff(want: dict[str, str], got: dict[str, str]) -> list[str]:
    keys = sorted(set(want) | set(got))
    return [k for k in keys if want.get(k) != got.get(k)]


@pytest.mark.parametrize("run", [f"{n}/seed{s}" for n, s in DEFAULT_RUNS] + [f"case/{c}" for c in CASES])
def test_results_match_the_recorded_hashes(run: str, tmp_path: Path) -> None:
    want = json.loads(LOCK.read_text())[run]
    if run.startswith("case/"):
        path = run_case_cpu(run.split("/", 1)[1], tmp_path / "out.h5")
    else:
        name, seed = run.split("/seed")
        path = run_default(int(seed), tmp_path / "out.h5")
    changed = _diff(want, dataset_hashes(path))
    assert not changed, (
        f"{run}: {len(changed)} result dataset(s) differ from tests/data/behaviour_lock.json: "
        f"{', '.join(changed[:12])}. If the change is meant, regenerate the lock with "
        "`python tests/test_behaviour_lock.py --update` and say why in the commit.")


def test_the_hashes_see_a_one_bit_change(tmp_path: Path) -> None:
    """The lock would notice a change in the last bit of one travel time."""
    path = run_case_cpu("jam", tmp_path / "out.h5")
    before = dataset_hashes(path)
    with h5py.File(path, "r+") as f:
        d = f["trips/duration"]
        x = d[()]
        x.view(np.uint64)[0] ^= np.uint64(1)
        d[...] = x
    assert _diff(before, dataset_hashes(path)) == ["trips/duration"]


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_behaviour_lock.py --update")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        hashes = current(Path(tmp))
    LOCK.parent.mkdir(exist_ok=True)
    LOCK.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    print(f"wrote {LOCK} ({sum(len(v) for v in hashes.values())} dataset hashes in {len(hashes)} runs)")
