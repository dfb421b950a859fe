"""SUMO's shipped game scenarios, run as they are by SUMO and by mobsim.

The full report is ``python -m bench.real_scenarios`` (every ``tools/game/*.sumocfg`` and random
trips on the real networks; table in ``bench/README.md``, "Real scenarios"). Here a
small subset whose runs take seconds is held to the project's tolerances:

* mobsim completes at least as many trips as SUMO, with no more teleports;
* the mean travel time (duration) of completed trips is within 15 % of SUMO's, where SUMO
  teleports fewer than 2 % of its vehicles.

Checks that still fail because of importer work in progress are marked ``xfail`` (not strict)
with the reason; they pass, and are reported as XPASS, once the importer is there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sumolib", reason="sumolib not installed (pip install -e '.[sumo]')")

from bench.real_scenarios import (  # noqa: E402
    DERIVED,
    case_cfg,
    game_dir,
    run_mobsim,
    run_sumo,
    shipped_cases,
    sumo_binary,
)

if sumo_binary() is None:
    pytest.skip("sumo is not installed (pip install -e '.[sumo]')", allow_module_level=True)

#: Small shipped scenarios (each run takes a few seconds in either simulator), and the game's
#: motorway on-ramp with its meter green (``highway_green``: two ramp lanes zip, then merge from
#: an acceleration lane into a 7,500 veh/h motorway).
SUBSET = ["cross", "corridor", "grid6", "ramp", "square", "highway_green"]
TT_TOLERANCE = 0.15
MAX_SUMO_TELEPORT_SHARE = 0.02

#: (case, check) -> why it fails today (cross and grid6 pass since the signal
#: programs of additional files are read, square since SUMO's unfinished trips are no longer
#: counted as completed: 38 against mobsim's 40; ramp's completions since urgent lane changes
#: fall in behind or let a neighbour pass: 385 against SUMO's 378; its travel time since a
#: yielding vehicle sees the foe on the link before a short major link, and closer since SUMO's
#: gap acceptance and turn speeds: 75.6 against 83.8 s).
KNOWN_FAILURES: dict[tuple[str, str], str] = {
    ("ramp", "completed"): "345 trips against SUMO's 378 (355.2 against 366.8 over seeds 1-5, with "
                           "567.0 and 558.8 inserted since SUMO's free and random departure positions): "
                           "the flow that starts at 200 s takes 8 % longer than SUMO's in the merge, the "
                           "rest is the flows' random departures",
    ("highway_green", "completed"): "1,903 trips against SUMO's 1,930 (1896.2 against 1902.4 over "
                                    "seeds 1-5; travel time +10 %): the ramp traffic merges later than "
                                    "SUMO's",
}

CHECKS = ["completed", "teleports", "travel_time"]


def _params() -> list[Any]:
    out = []
    for case in SUBSET:
        for check in CHECKS:
            why = KNOWN_FAILURES.get((case, check))
            marks = [pytest.mark.xfail(strict=False, reason=why)] if why else []
            out.append(pytest.param(case, check, marks=marks, id=f"{case}-{check}"))
    return out


@pytest.fixture(scope="module")
def case_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """case -> its SUMO and mobsim runs; each case runs once (SUMO first), on first use."""
    base = tmp_path_factory.mktemp("real_scenarios")
    cache: dict[str, dict[str, Any]] = {}

    def get(case: str) -> dict[str, Any]:
        if case not in cache:
            if case in DERIVED:
                if not (game_dir() / "highway.sumocfg.disabled").is_file():
                    pytest.skip("highway.sumocfg.disabled is not shipped with this SUMO")
                cfg = case_cfg(case, base)
            else:
                cfgs = shipped_cases()
                if case not in cfgs:
                    pytest.skip(f"{case}.sumocfg is not shipped with this SUMO")
                cfg = cfgs[case]
            cache[case] = {"sumo": run_sumo(cfg, base / case / "sumo", timeout=120),
                           "mobsim": run_mobsim(cfg, base / case / "mobsim", timeout=180)}
        return cache[case]
    return get


@pytest.mark.parametrize(("case", "check"), _params())
def test_shipped_scenario(case_runs: Callable[[str], dict[str, Any]], case: str, check: str) -> None:
    r = case_runs(case)
    s, m = r["sumo"], r["mobsim"]
    assert s["status"] == "ok", f"SUMO on {case}: {s['status']}"
    assert m["status"] == "ok", f"mobsim on {case}: {m['status']}"
    if check == "completed":
        assert m["completed"] >= s["completed"], (
            f"{case}: mobsim completed {m['completed']} trips, SUMO {s['completed']}")
    elif check == "teleports":
        assert m["teleports"] <= s["teleports"], (
            f"{case}: mobsim teleported {m['teleports']} vehicles, SUMO {s['teleports']}")
    else:
        if s["teleports"] >= MAX_SUMO_TELEPORT_SHARE * max(1, s["inserted"]):
            pytest.skip(f"{case}: SUMO teleports {s['teleports']} of {s['inserted']} vehicles (>= 2 %)")
        assert s["completed"] > 0 and m["completed"] > 0, f"{case}: no completed trips to compare"
        rel = m["mean_travel_time_s"] / s["mean_travel_time_s"] - 1.0
        assert abs(rel) <= TT_TOLERANCE, (
            f"{case}: mean travel time mobsim {m['mean_travel_time_s']:.1f} s, SUMO "
            f"{s['mean_travel_time_s']:.1f} s ({rel:+.1%}; tolerance {TT_TOLERANCE:.0%})")


def test_a10kw_motorway_runs_without_collisions(tmp_path: Path) -> None:
    """SUMO's A10 motorway scenario as shipped: no collision. Seven happened where a car changed
    lanes at the start of a link while another, about to cross the junction into the target
    lane at motorway speed, could not stop behind it (the lane-change safety check now looks at
    the lanes leading into the target lane too)."""
    import sumo

    import mobsim
    from mobsim.engine import Simulation
    from mobsim.scenario import load_scenario

    cfg = Path(sumo.SUMO_HOME) / "tools" / "game" / "A10KW.sumocfg"
    if not cfg.is_file():
        pytest.skip("A10KW is not shipped with this eclipse-sumo wheel")
    res = mobsim.open(Simulation(load_scenario(cfg), backend="cpu").run(out=tmp_path / "a10.h5",
                                                                        progress="none"))
    k = res.kpis()
    assert k["collisions"] == 0
    assert k["trips_completed"] > 3400  # SUMO: 4,187 of 6,889 (bench/README.md, Real scenarios)
