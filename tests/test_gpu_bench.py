"""The GPU benchmark stays runnable: one command, a table and a JSON file (under the CUDA simulator
here; on a GPU machine the same command measures the GPU targets)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cudasim_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                    reason="numba-cuda is not installed (pip install -e '.[dev]' brings it)")
def test_gpu_bench_smoke_under_simulator(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    env = cudasim_env()
    r = subprocess.run([sys.executable, "-m", "bench.gpu_bench", "--sizes", "150", "--window", "2",
                        "--chunk", "1", "--profile-steps", "2", "--order", "lanes,full,merge",
                        "--graphs", "on", "--out", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "veh-updates/s" in r.stdout and "kernels at 150, order lanes" in r.stdout
    assert "kernels at 150, order full" in r.stdout and "kernels at 150, order merge" in r.stdout
    data = json.loads(out.read_text())
    case, full, merged = data["cases"]
    assert (case["order"], full["order"], merged["order"]) == ("lanes", "full", "merge")
    assert merged["vehicle_steps"] == full["vehicle_steps"] == case["vehicle_steps"], \
        "the same run whichever way it orders"
    assert case["steps"] == 4 and case["vehicle_steps"] > 0
    # the lanes order's steady steps replay the captured step (the first timed step captures it)
    assert case["graph_steps"] == 3 and case["graph_error"] is None
    assert full["graph_steps"] == merged["graph_steps"] == 0, "only the lanes order's step is kernels only"
    assert set(case["kernels"]) >= {"plan", "advance", "decide", "junction_source", "junction_target",
                                    "order"}
    assert data["meta"]["simulator"] is True


@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                    reason="numba-cuda is not installed (pip install -e '.[dev]' brings it)")
def test_gpu_memory_per_vehicle_without_a_gpu(tmp_path: Path) -> None:
    """``--memory-only`` builds the CUDA state (simulator arrays: same dtypes and shapes as cupy's)
    and reports the device bytes per vehicle by part, with the route pool apart."""
    out = tmp_path / "mem.json"
    env = cudasim_env()
    r = subprocess.run([sys.executable, "-m", "bench.gpu_bench", "--memory-only", "--sizes", "2k", "--out",
                        str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| 2k |" in r.stdout and "without routes" in r.stdout
    (m,) = json.loads(out.read_text())["memory"]
    from mobsim.state.fields import VEHICLE_FIELDS, bytes_per

    assert m["n_vehicles"] == 2000 and m["bytes_per_vehicle"]["V"] == bytes_per(VEHICLE_FIELDS)
    assert m["host_only_network_bytes_on_device"] == 0, "compile.HOST_ONLY arrays stay on the host"
    # Packed turn codes: a grid's links have at most 4 successors, 2 bits per route link.
    assert m["route_code_bits"] == 2
    assert m["route_pool_bytes_per_vehicle"] == pytest.approx((1 + -(-m["route_links"] // 4)) / 2000)
    parts = sum(m["bytes_per_vehicle"].values())
    assert m["total_bytes_per_vehicle"] == pytest.approx(parts)
    assert m["without_routes_bytes_per_vehicle"] == pytest.approx(parts - m["route_pool_bytes_per_vehicle"])


def test_gpu_bench_without_gpu_says_what_to_do() -> None:
    from mobsim.backends.cuda import gpu_status

    if gpu_status()[0]:
        pytest.skip("a GPU is present")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    r = subprocess.run([sys.executable, "-m", "bench.gpu_bench", "--sizes", "1k"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert "no usable GPU" in r.stderr and "pip install -e '.[gpu]'" in r.stderr


def test_gpu_session_script_names_real_tests_and_refuses_unknown_parts() -> None:
    """bench/gpu_session.sh is what is run on a GPU machine: its test files must exist, and a
    wrong part must stop before anything is installed."""
    import re

    script = ROOT / "bench" / "gpu_session.sh"
    for path in re.findall(r"tests/\S+\.py", script.read_text()):
        assert (ROOT / path).exists(), f"{path} named in gpu_session.sh does not exist"
    r = subprocess.run(["bash", str(script), "everything"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "usage" in r.stderr
