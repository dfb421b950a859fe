"""The CUDA step's scan of the lane counts (kernels.drivers.cuda_step: k_scan_tiles, k_scan_totals,
k_scan_add) against numpy's cumsum, under numba's CUDA simulator.

The scan replaced cupy's cumsum so that the step is kernels only (a CUDA graph replays it). It runs
in three passes with barriers, over tiles of one block's threads, so the cases cover a single
partial tile, many tiles in a block-stride loop (fewer blocks than tiles), and more tiles than the
totals pass has threads (its carry across chunks). The backend parity tests run it inside whole
scenarios, with every order checked against a full sort; on a GPU they run it on the device.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cudasim_env

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
from collections import namedtuple
import numpy as np
from mobsim.kernels.drivers import cuda_step as C
from mobsim.kernels.drivers.cuda_step import SimPacked

Lane = namedtuple("Lane", ["lane_cnt", "lane_start"])
rng = np.random.default_rng(7)
cases = 0
# (1000, 32, 5), 32 tiles of 32 lanes, cost 12 s of the simulator and covered nothing that
# (130, 8, 3) does not: more tiles (17) than the totals pass has threads, in fewer blocks.
for n, tpb, blocks in [(1, 4, 1), (3, 4, 1), (4, 4, 1), (5, 4, 2), (37, 4, 3), (100, 4, 2), (100, 8, 13),
                       (257, 32, 2), (130, 8, 3)]:
    cnt = rng.integers(0, 9, n).astype(np.int32)
    cnt[rng.random(n) < 0.3] = 0  # empty lanes, as most lanes of a big network are
    want = np.concatenate([[0], np.cumsum(cnt)]).astype(np.int32)
    L = Lane(cnt.copy(), np.full(n + 1, -7, np.int32))
    K = SimPacked(None, None, (None, None, L, None, None))
    C.k_scan_tiles[blocks, tpb](K)
    C.k_scan_totals[1, tpb](K)
    C.k_scan_add[blocks, tpb](K)
    assert np.array_equal(L.lane_start, want), (n, tpb, blocks, L.lane_start, want)
    assert not L.lane_cnt.any(), "the scan leaves the counts zero for the next order's tickets"
    cases += 1
print("scan cases", cases)
"""


def test_lane_count_scan_is_the_cumulative_sum(tmp_path: Path) -> None:
    pytest.importorskip("numba.cuda",
                        reason="numba-cuda is not installed (pip install -e '.[dev]' brings it)")
    env = cudasim_env()
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "scan cases 9" in r.stdout
