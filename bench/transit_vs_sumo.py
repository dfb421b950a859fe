"""A transit line in mobsim and in SUMO, the same line with the same passengers, compared.

    python -m bench.transit_vs_sumo                # the loop below, a table, JSON in bench/results/
    python -m bench.transit_vs_sumo --keep DIR     # keep both runs' files (the .sumocfg among them)

The line: a 5 km one-way ring road (10 links of 500 m, one lane, 50 km/h, no junction control),
10 stops (250 m into each link, 20 m areas), a loop line run by two buses 300 s apart that drive
7 rounds of 600 s (they hold at the first stop to that schedule), so that every stop sees a bus
every 300 s; 30 passengers per hour at every stop for uniformly drawn other stops (0 to 3,600 s).
The buses drive SUMO's Krauss model without dawdling (the Euler update in both), 4.5 s of door
time at every stop and 1 s per passenger boarding or alighting, with SUMO's dwell (the larger of
the door time and the passengers' time: ``dwell = "max"``).

The mobsim scenario is exported with :mod:`mobsim.interop.sumo_export` (network without internal
junction lanes, so both have the same distances; bus stops, the services as vehicles with their
line and stops, the passengers as persons who wait at their stop and ride the line) and run in
SUMO with ``--stop-output`` and ``--tripinfo-output``.

Compared: the passengers carried, their mean wait until the vehicle leaves their stop (SUMO's
``waitingTime`` of a ride; mobsim's ``departure - arrival``), their mean time on board
(SUMO's ride ``duration``, from the vehicle's departure to the person's arrival; mobsim's
``alighting - departure``: from leaving the origin to the halt at the destination), and the
mean dwell at the stops without a time point (SUMO's stop output ``ended - started``; mobsim's
stop events ``departure - arrival``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
#: The loop's numbers (see the module docstring).
LINKS, LINK_LENGTH, HEADWAY, RATE = 10, 500.0, 300.0, 30.0
#: The stops without a time point (their dwell is the passengers', not the schedule's).
TIMED_FREE = {f"s{k}" for k in range(1, LINKS)}


def build(links: int = LINKS, headway: float = HEADWAY, rate: float = RATE, rounds: int = 7,
          end: float = 6000.0) -> Any:
    """The line scenario (module docstring) as a mobsim scenario."""
    from mobsim.demand.vtypes import VehicleType
    from mobsim.net import generators as g
    from mobsim.scenario import scenario_from_objects

    net = g.ring(length=links * LINK_LENGTH, n_links=links, speed=13.89)
    ids = [lk.id for lk in net.links]
    bus = VehicleType(id="bus", length=12.0, min_gap=2.5, accel=1.2, decel=2.5, emergency_decel=6.0,
                      max_speed=13.89, cf_model="Krauss", sigma=0.0, tau=1.0)
    transit = {
        "stops": [{"id": f"s{k}", "link": ids[k], "pos": 250.0, "length": 20.0} for k in range(links)],
        "vehicles": [{"id": "bus", "vtype": "bus", "seats": 40, "standing": 40, "doors": 1,
                      "door_time": 4.5, "board_time": 1.0, "alight_time": 1.0, "dwell": "max"}],
        "lines": [{"id": "L", "stops": [f"s{k}" for k in range(links)], "loop": True,
                   "departures": [0.0, headway], "rounds": rounds, "round_time": 2 * headway,
                   "timepoints": {"s0": 0.0}}],
        "passengers": [{"line": "L", "rate": rate, "begin": 0.0, "end": 3600.0}],
    }
    return scenario_from_objects(net, [], vtypes=[bus], name="transit_loop", transit=transit,
                                 settings={"sim.end": end, "sim.dt": 0.5, "sim.seed": 3})


def measure_mobsim(res: Any) -> dict[str, float]:
    from mobsim.modes.transit.kpi import transit_tables

    t = transit_tables(res)
    pax, ev = t["passengers"], t["stop_events"]
    served = np.isfinite(pax["alighting"].to_numpy(float))
    names = t["stops"]["id"].astype(str).to_numpy()
    free = np.isin(names[ev["stop"].to_numpy(int)], list(TIMED_FREE))
    ev = ev[np.isfinite(ev["departure"].to_numpy(float)) & (ev["visit"] > 0) & free]
    return {
        "carried": float(served.sum()),
        "mean_wait_s": float((pax["departure"] - pax["arrival"]).to_numpy(float)[served].mean()),
        "mean_in_vehicle_s": float((pax["alighting"] - pax["departure"]).to_numpy(float)[served].mean()),
        "mean_dwell_s": float((ev["departure"] - ev["arrival"]).mean()),
    }


def measure_sumo(tripinfo: Path, stops: Path) -> dict[str, float]:
    waits, rides = [], []
    for p in ET.parse(tripinfo).getroot().iter("personinfo"):
        for r in p.iter("ride"):
            if float(r.get("arrival", "-1")) >= 0:
                waits.append(float(r.get("waitingTime")))
                rides.append(float(r.get("duration")))  # from the vehicle's departure on
    dwell, seen = [], set()
    for s in ET.parse(stops).getroot().iter("stopinfo"):
        first = s.get("id") not in seen
        seen.add(s.get("id"))
        if not first and s.get("busStop") in TIMED_FREE and s.get("ended"):
            dwell.append(float(s.get("ended")) - float(s.get("started")))
    return {"carried": float(len(waits)), "mean_wait_s": float(np.mean(waits)),
            "mean_in_vehicle_s": float(np.mean(rides)), "mean_dwell_s": float(np.mean(dwell))}


def run(workdir: Path, **kw: Any) -> dict[str, Any]:
    """Both simulators on the line; the metrics side by side."""
    import mobsim
    from mobsim.engine import Simulation
    from mobsim.interop.convert import sumo_tool
    from mobsim.interop.sumo_export import export_scenario

    sc = build(**kw)
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = export_scenario(sc, workdir / "sumo", internal_links=False)
    res = mobsim.open(Simulation(sc, backend="cpu").run(out=workdir / "mobsim.h5", progress="none"))
    info, stops = workdir / "sumo_tripinfo.xml", workdir / "sumo_stops.xml"
    r = subprocess.run([sumo_tool("sumo"), "-c", str(cfg), "--tripinfo-output", str(info),
                        "--stop-output", str(stops), "--no-step-log", "--duration-log.disable"],
                       capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        raise RuntimeError(f"SUMO failed: {r.stderr[-1500:]}")
    a, b = measure_mobsim(res), measure_sumo(info, stops)
    return {"sumocfg": str(cfg), "metrics": {k: {"mobsim": a[k], "sumo": b[k], "rel_diff": a[k] / b[k] - 1.0}
                                             for k in a}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keep", type=Path, help="keep both runs' files here")
    p.add_argument("--out", type=Path,
                   help="JSON file (default bench/results/transit_vs_sumo_<host>_<time>.json)")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = run(a.keep or Path(tmp))
    print("| metric | mobsim | SUMO | mobsim/SUMO - 1 |\n|---|---:|---:|---:|")
    for k, m in out["metrics"].items():
        print(f"| {k} | {m['mobsim']:.2f} | {m['sumo']:.2f} | {m['rel_diff']:+.1%} |")
    now = _dt.datetime.now(_dt.timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H%M%SZ")
    path = a.out or RESULTS / f"transit_vs_sumo_{socket.gethostname()}_{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"created": now.isoformat(), **out}, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
