"""Small scenarios run on every backend, and a command line that runs one of them.

The CUDA case of the backend tests runs under numba's CUDA simulator when no GPU is present. The
simulator has to be switched on before numba-cuda is imported (``NUMBA_ENABLE_CUDASIM=1``), so
those runs go to a subprocess::

    NUMBA_ENABLE_CUDASIM=1 python tests/backend_cases.py grid cuda out.h5

Every case is small: the simulator runs each CUDA thread as a Python thread (about 0.2 s per step
for these cases).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import make_scenario, random_grid_trips  # noqa: E402
from mobsim.demand.vtypes import VehicleType  # noqa: E402
from mobsim.engine import Simulation  # noqa: E402
from mobsim.net import generators as gen  # noqa: E402

#: Mixed drivers in the backend cases: every third trip of a case drives SUMO's Krauss model with
#: dawdling (the per-type model dispatch and the dawdling draws on every backend), and in the grid
#: case every sixth an ACC or a CACC controller (their control modes, kept in the vehicle's flags).
KRAUSS = VehicleType(id="krauss", cf_model="Krauss", sigma=0.5)
ACC = VehicleType(id="acc", cf_model="ACC")
CACC = VehicleType(id="cacc", cf_model="CACC")


def _actuated(prog: Any, kind: str = "actuated") -> Any:
    """``prog`` as an actuated (SUMO's default gap parameters) or delay-based (60 m detector
    zones) program: greens 4 to 20 s."""
    phases = tuple(dataclasses.replace(ph, min_dur=4.0, max_dur=20.0)
                   if "G" in ph.state and "y" not in ph.state else ph for ph in prog.phases)
    return dataclasses.replace(prog, kind=kind, phases=phases, detector_range=60.0)


def _mixed(trips: list, acc: bool = False) -> list:
    def kind(k: int) -> str | None:
        if k % 3 == 1:
            return "krauss"
        if acc and k % 6 == 5:
            return "acc" if k % 12 == 5 else "cacc"
        return None

    return [dataclasses.replace(t, vtype=kind(k)) if kind(k) else t for k, t in enumerate(trips)]


def case_grid() -> Any:
    """2 x 2 grid with actuated and delay-based signals, two lanes each way: insertion, turns with
    mandatory lane changes, MOBIL, signals, crossings and arrivals within 70 s; re-routing every
    20 s and trajectories (the host-device transfers of the CUDA backend)."""
    net = gen.grid(rows=2, cols=2, block_length=150.0, lanes=2, signalised=True, cycle=40.0)
    trips = random_grid_trips(net, 36, 20.0, np.random.default_rng(7))
    # Four departures inside their first lane (departPos): the second insertion pass.
    trips += [dataclasses.replace(t, id=f"p{k}", depart=t.depart + 3.0, depart_pos="60")
              for k, t in enumerate(trips[:4])]
    # SUMO's free and random departure positions (the counter-based draws, the search for a gap).
    trips += [dataclasses.replace(t, id=f"f{k}", depart=t.depart + 4.0,
                                  depart_pos=("free", "random", "random_free")[k % 3])
              for k, t in enumerate(trips[4:10])]
    # Actuated control at two signals, delay-based at the other two (the controllers' passes, the
    # detectors and the time lost in detector zones on every backend).
    net = dataclasses.replace(net, signals=[_actuated(p, "delay_based" if k % 2 else "actuated")
                                            for k, p in enumerate(net.signals)])
    return make_scenario(net, _mixed(trips, acc=True), vtypes=[VehicleType(), KRAUSS, ACC, CACC],
                         sim__end=70.0,
                         output__edgedata_period=20.0, output__fcd=True,
                         output__fcd_period=5.0, routing__reroute_period=20.0)


def case_jam() -> Any:
    """Unsignalised one-lane 2 x 2 grid overloaded for 60 s: yield rules, blocked crossings,
    waiting insertions and gridlock teleports after 5 s of standstill (vehicles in transit that
    re-enter further on); every third driver is a dawdling Krauss driver; trips routed when due on
    measured travel times every 5 s."""
    net = gen.grid(rows=2, cols=2, block_length=30.0, lanes=1, signalised=False, stub_length=60.0)
    trips = _mixed(random_grid_trips(net, 80, 10.0, np.random.default_rng(11)))
    return make_scenario(net, trips, vtypes=[VehicleType(), KRAUSS], sim__end=60.0, sim__gridlock="teleport",
                         sim__gridlock_time=5.0, output__edgedata_period=30.0,
                         demand__insertion_delay_event=5.0, routing__departure="current",
                         routing__update_period=5.0, routing__average_window=20.0)


def case_drones() -> Any:
    """Cars and drones: two vertiports 570 m apart with one cruise layer for all headings, taxi
    flights both ways at once (head-on conflicts, MVP resolution), deliveries to points, a pad
    queue, and a pop-up geofence (unknown to planning) that switches on at 40 s across the corridor
    (violations); 125 s, where the first flight is done at 117 s (the CUDA simulator runs it in
    about three minutes)."""
    from pathlib import Path as _P

    from mobsim.modes.drones.airspace import load_airspace

    net = gen.grid(rows=2, cols=2, block_length=400.0, lanes=1, signalised=False)
    trips = random_grid_trips(net, 6, 20.0, np.random.default_rng(3))
    sc = make_scenario(net, trips, sim__end=125.0, output__edgedata_period=50.0, drones__track_period=5.0,
                       drones__summary_period=10.0)
    cfg = {
        "vertiports": [{"id": "a", "node": "n0_0", "pads": 1, "turnaround": 5},
                       {"id": "b", "node": "n1_1", "pads": 2, "turnaround": 5}],
        "layers": [{"name": "all", "bottom": 40, "top": 60}],
        "geofences": [{"id": "late", "polygon": [[250, -50], [350, -50], [350, 50], [250, 50]],
                       "bottom": 0, "top": 100, "begin": 40, "end": 1000, "known": False}],
        "generate": [{"depot": "a", "per_hour": 120, "end": 60, "destinations": ["b"], "mission": "taxi"},
                     {"depot": "b", "per_hour": 120, "end": 60, "destinations": ["a"], "mission": "taxi"},
                     {"depot": "a", "per_hour": 90, "end": 40, "radius": 500}],
    }
    air = load_airspace(cfg, net, sc.settings, _P("."), "case_drones", [])
    return dataclasses.replace(sc, airspace=air)


def case_transit() -> Any:
    """A loop line on a one-lane ring with cars: two services 30 s apart (the second holds at a
    time point), passengers from a Poisson stream at every stop (a vehicle of 4 places leaves some
    behind), the shuttles' ACC driving, cars queued behind the shuttles dwelling in the lane and
    passing the one in a bay (which pulls out when the lane leaves room); a one-way line that
    shares two stops with the loop (common lines) and serves a stop the loop does not, reached
    with a transfer; 150 s."""
    from mobsim.demand.trips import Trip
    from mobsim.scenario import scenario_from_objects

    net = gen.ring(length=800.0, n_links=4)
    links = [lk.id for lk in net.links]
    trips = [Trip(f"c{k}", links[k % 4], links[(k + 2) % 4], 4.0 * k) for k in range(8)]
    transit = {
        "stops": [{"id": f"s{k}", "link": links[k], "pos": 120.0, "length": 15.0, "bay": k == 1}
                  for k in range(4)] + [{"id": "s4", "link": links[3], "pos": 60.0, "length": 15.0}],
        "vehicles": [{"id": "mini", "seats": 3, "standing": 1, "door_time": 3.0}],
        "lines": [{"id": "L", "stops": ["s0", "s1", "s2", "s3"], "loop": True, "departures": [15.0, 45.0],
                   "timepoints": {"s2": 60.0}},
                  {"id": "M", "stops": ["s1", "s2", "s4"], "departures": [25.0, 80.0]}],
        "passengers": [{"line": "L", "rate": 300.0, "begin": 0.0, "end": 120.0},
                       {"from": "s0", "to": "s4", "rate": 360.0, "begin": 0.0, "end": 60.0},
                       {"from": "s1", "to": "s2", "rate": 240.0, "begin": 0.0, "end": 100.0}],
        "transfers": {"time": 2.0},
    }
    return scenario_from_objects(net, trips, settings={"sim.end": 150.0}, name="transit", transit=transit)


def left_wait_net(prefix: str = "c") -> Any:
    """One signalised junction of one-lane roads (``generators.corridor``, ids prefixed) whose
    permitted left turns wait 4 m inside the junction, as SUMO's internal junctions make them."""
    from mobsim.net import generators as gen

    net = gen.corridor(n_signals=1, spacing=100.0, lanes=1, cycle=60.0)

    def p(x: str) -> str:
        return prefix + x

    return dataclasses.replace(
        net,
        nodes=[dataclasses.replace(n, id=p(n.id)) for n in net.nodes],
        links=[dataclasses.replace(lk, id=p(lk.id), from_node=p(lk.from_node), to_node=p(lk.to_node))
               for lk in net.links],
        movements=[dataclasses.replace(m, node=p(m.node), from_link=p(m.from_link), to_link=p(m.to_link),
                                       length=14.0 if m.turn == "l" else m.length,
                                       wait=4.0 if m.turn == "l" else 0.0)
                   for m in net.movements],
        signals=[dataclasses.replace(s, node=p(s.node)) for s in net.signals])


def case_osm_junctions() -> Any:
    """The junction situations of OSM networks (``test_junction_cases.py``) in one network: a lane
    change at the end of a 4.6 m link, a 5.2 m minor road whose trips start standing at the yield
    line, yielding vehicles taking turns with a major queue held by a signal, and an emergency stop
    at a red light (an event the move records), two roads merging at a zipper junction, and
    permitted left turns waiting inside a signalised junction against an opposing stream."""
    from test_junction_cases import RED_LIGHT_TRIP, merge_net, red_light_net, short_link_net
    from test_zipper import merge_net as zipper_net

    from mobsim.demand.trips import Trip
    from mobsim.net.network import Network

    nets = (short_link_net(), merge_net(minor_length=5.2), red_light_net(), zipper_net(prefix="z"),
            left_wait_net())
    net = Network(**{part: [x for n in nets for x in getattr(n, part)]
                     for part in ("nodes", "links", "movements", "signals")})
    trips = [Trip("v", "A", "B", 0.0, depart_lane="1", depart_speed="0"),
             Trip("w", "A", "B", 0.0, depart_lane="0", depart_speed="0")]
    trips += [Trip(f"M{k:02d}", "M", "E", 2.0 * k) for k in range(25)]
    trips += [Trip(f"m{k}", "m", "E", 10.0 + 5.0 * k) for k in range(4)]
    trips.append(RED_LIGHT_TRIP)
    trips += [Trip(f"za{k}", "zA", "zE", 2.0 * k) for k in range(12)]
    trips += [Trip(f"zb{k}", "zB", "zE", 2.0 * k + 1.0) for k in range(12)]
    trips += [Trip(f"co{k:02d}", "cE-j0", "cj0-W", 2.5 * k) for k in range(12)]
    trips += [Trip(f"cl{k}", "cW-j0", "cj0-N0", 4.0 * k) for k in range(3)]
    return make_scenario(net, trips, sim__end=90.0)


def case_drt() -> Any:
    """An on-demand fleet of two shuttles on a 3 x 3 grid with cars: five requests pooled and
    inserted into the shuttles' schedules, a pick-up behind a shuttle on its own link (round the
    block), shuttles parked at the curb while idle and pulling out when work comes; 150 s."""
    from mobsim.demand.trips import Trip
    from mobsim.net import generators as gen
    from mobsim.scenario import scenario_from_objects

    net = gen.grid(3, 3, block_length=200.0, lanes=1, signalised=False)
    links = [lk.id for lk in net.links if lk.id[0] == "n" and lk.id.split("-")[1][0] == "n"]
    trips = [Trip(f"c{k}", links[(3 * k) % len(links)], links[(3 * k + 7) % len(links)], 5.0 * k)
             for k in range(6)]
    req = [(2.0, 0, 3), (4.0, 6, 8), (8.0, 1, 4), (12.0, 0, 5, 20.0), (20.0, 7, 2)]
    drt = {"dispatch": "insertion", "stop_time": 5.0, "max_wait": 300.0, "alpha": 2.0, "beta": 200.0,
           "fleets": [{"id": "s", "vehicles": 2, "depots": [links[0], links[6]], "capacity": 3}],
           "requests": [{"id": f"r{k}", "time": q[0], "from": links[q[1]], "to": links[q[2]],
                         **({"from_pos": q[3]} if len(q) > 3 else {})} for k, q in enumerate(req)]}
    return scenario_from_objects(net, trips, settings={"sim.end": 150.0}, name="drt", drt=drt)


CASES = {"grid": case_grid, "jam": case_jam, "drones": case_drones, "osm_junctions": case_osm_junctions,
         "transit": case_transit, "drt": case_drt}


#: Cases whose vehicle slots are renumbered every few steps (mobsim.state.slots): on the CUDA backend the
#: renumbering runs the array-module code that cupy runs on a GPU.
RENUMBERED = {"grid": 7, "jam": 5, "transit": 5, "drt": 6}
#: The CUDA backend's (lane, position) order per case (cuda_backend.CUDABackend.order_mode; every
#: order is checked against a full sort at every step): each way runs in some case.
ORDER_MODES = {"grid": "lanes", "jam": "merge", "drones": "lanes", "osm_junctions": "full",
               "transit": "merge", "drt": "lanes"}
#: Cases whose steady steps replay one captured step (cuda_backend.CUDABackend.graphs; under the
#: simulator a recorded list of the step's launches and of the lane scan's numpy stand-in, with
#: any other array operation in the step an error). Their orders are not checked step by step
#: (the check runs on the host, between launches).
GRAPHS = {"grid"}


def run_case(case: str, backend: str, out: str | Path) -> Path:
    """Run scenario ``case`` on ``backend`` into ``out``; returns the result path."""
    sim = Simulation(CASES[case](), backend=backend, seed=5, reorder_every=RENUMBERED.get(case))
    if backend == "cuda":
        sim.backend.order_mode = ORDER_MODES[case]
        sim.backend.graphs = "on" if case in GRAPHS else "off"
        sim.backend.order_check = case not in GRAPHS
    path = sim.run(out=out, progress="none", stop_when_empty=False)
    if backend == "cuda" and case in GRAPHS:
        be = sim.backend
        assert be.graph_error is None, be.graph_error
        assert be.graph_steps > 0, "the steady steps replay the captured step"
    return path


def _polling_that_yields() -> None:
    """Make numba-cuda's simulator wait for a block's threads without holding the interpreter.

    Its ``BlockManager.run`` polls the block's threads in a loop that never sleeps, so the
    polling thread takes half of the interpreter's time from the one thread doing work, which on
    a cold cache is numba compiling the per-item functions: the drones case took 9 min 16 s from
    a cold cache, 5 min 49 s with a 20 us sleep per round (warm: 26 s either way). The loop is
    numba-cuda's own (``numba/cuda/simulator/kernel.py``) with that sleep added; where its
    internals differ from what is copied here, the simulator is left as it is."""
    import time

    try:
        from numba.cuda.simulator import kernel as sim
    except ImportError:
        return
    manager = getattr(sim, "BlockManager", None)
    if manager is None or not hasattr(sim, "BlockThread") or not hasattr(manager, "run"):
        return

    def run(self: Any, grid_point: Any, *args: Any) -> None:
        threads = set()
        live = set()
        blocked: set = set()
        for block_point in np.ndindex(*self._block_dim):
            def target() -> None:
                self._f(*args)

            t = sim.BlockThread(target, self, grid_point, block_point, self._debug)
            t.start()
            threads.add(t)
            live.add(t)
        while live:
            for t in live:
                if t.syncthreads_blocked:
                    blocked.add(t)
                elif t.exception:
                    for other in threads:
                        other.abort = True
                        other.syncthreads_blocked = False
                        other.syncthreads_event.set()
                    raise t.exception[0].with_traceback(t.exception[1])
            if live == blocked:
                for t in blocked:
                    t.syncthreads_blocked = False
                    t.syncthreads_event.set()
                blocked = set()
            live = {t for t in live if t.is_alive()}
            if live:
                time.sleep(2e-5)
        for t in threads:
            if t.exception:
                raise t.exception[0].with_traceback(t.exception[1])

    manager.run = run


if __name__ == "__main__":
    import os

    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        _polling_that_yields()
    print(run_case(sys.argv[1], sys.argv[2], sys.argv[3]))
