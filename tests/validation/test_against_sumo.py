"""Validation against SUMO (issue 4): the cases of :mod:`bench.validate`, run in both simulators.

Every case's parameters are in ``bench/validate.py`` (rerun by hand: ``python -m bench.validate
--keep DIR`` keeps each case's ``.sumocfg``). Accepted tolerances, measured 2026-11-25 with SUMO
1.28 (``python -m bench.validate``; mobsim / SUMO - 1):

* queue discharge, saturation headway: 5 % (measured -2.3 %: 1.973 vs 2.019 s). The start-up
  lost time (0.80 vs 0.43 s) and the first crossing (0.58 vs 0.26 s after green) differ by more:
  reported, not asserted; SUMO's vehicles at the head of the queue stand closer to the line.
* jam discharge flow 150 m past the line: 5 % (measured +0.9 %: 1806 vs 1789 veh/h).
* three-signal arterial, mean travel time of eastbound through trips, at 300 and 700 veh/h,
  synchronised and green-wave offsets: 10 % (measured -1.8, -4.1, -9.0, -2.7 %); throughput
  equal; stops within 13 % (reported).
* ring road: not asserted yet. SUMO inserts only 6 of the 22 cars at one point (it wants a gap
  that is safe for the traffic coming round the ring), mobsim inserts all; equal initial
  conditions need departPos (cars spread round the ring at t = 0), which mobsim lacks so far.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sumolib", reason="sumolib not installed (pip install -e '.[sumo]')")
pytest.importorskip("sumo", reason="eclipse-sumo not installed (pip install -e '.[sumo]')")

from bench.validate import CASES, run_case  # noqa: E402

ASSERTED = ["queue_discharge", "jam_discharge", "arterial_300_sync", "arterial_300_wave", "arterial_700_sync",
            "arterial_700_wave"]


@pytest.mark.parametrize("name", ASSERTED)
def test_case_within_tolerance(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    res = run_case(case, tmp_path / name)
    assert case.tolerance, "every asserted case states its tolerance"
    for metric, tol in case.tolerance.items():
        m = res["metrics"][metric]
        assert abs(m["rel_diff"]) <= tol, f"{name}.{metric}: mobsim {m['mobsim']:.3f}, SUMO {m['sumo']:.3f}"
    if name.startswith("arterial"):
        assert res["metrics"]["throughput_veh"]["rel_diff"] == 0.0


def test_differences_over_ten_percent_are_explained(tmp_path: Path) -> None:
    res = run_case(CASES["queue_discharge"], tmp_path / "q")
    for metric, m in res["metrics"].items():
        if abs(m["rel_diff"]) > 0.10 and metric in CASES["queue_discharge"].why:
            assert m["why"], metric
