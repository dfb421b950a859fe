"""Zipper merging (SUMO's ``zipper`` junctions): two lanes that end in one take turns.

The comparison with SUMO itself is the ``zipper_merge`` case of ``bench.validate`` (asserted in
``tests/validation``); these tests pin the mechanism: the vehicle behind in the merged order
adapts its speed before the line instead of stopping there, the streams alternate, a tie does
not lock the merge, and the kind comes from SUMO's ``Z`` connections and goes back to SUMO as a
``zipper`` junction.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import make_sim
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.kernels.runtime import layout as K
from mobsim.net.network import Link, Movement, Network, Node

KRAUSS = VehicleType(cf_model="Krauss", sigma=0.0)


def merge_net(a_len: float = 404.5, b_len: float = 355.1, kind: str = "zipper", prefix: str = "") -> Network:
    """Roads ``A`` (``a_len`` m) and ``B`` (``b_len`` m) merge into ``E`` (500 m) at node ``z``;
    one lane each, ids prefixed with ``prefix``."""
    p = prefix
    nodes = [Node(p + "a", -400.0, 60.0), Node(p + "b", -350.0, -60.0), Node(p + "z", 0.0, 0.0, "priority"),
             Node(p + "e", 500.0, 0.0)]
    links = [Link(p + "A", p + "a", p + "z", a_len, 13.89), Link(p + "B", p + "b", p + "z", b_len, 13.89),
             Link(p + "E", p + "z", p + "e", 500.0, 13.89)]
    mv = [Movement(p + "z", p + "A", 0, p + "E", 0, kind=kind),
          Movement(p + "z", p + "B", 0, p + "E", 0, kind=kind)]
    return Network(nodes, links, mv)


def run(net: Network, trips: list[Trip], end: float) -> tuple[dict[str, list], object]:
    """Per vehicle (t, link, pos, speed) every step, and the simulation at the end."""
    sim = make_sim(net, trips, vtypes=[KRAUSS], sim__end=end, sim__gridlock="none")
    ids = [t.id for t in sim.trips]
    link_ids = sim.cn.link_ids
    lane_link = sim.cn.arrays.lane_link
    tr: dict[str, list] = {k: [] for k in ids}
    while sim.time < end - 1e-9:
        sim.step(1)
        V = sim.vehicles()
        for s in np.nonzero(V.status == 1)[0]:
            tr[ids[int(V.trip[s])]].append((sim.time, link_ids[lane_link[V.lane[s]]], float(V.pos[s]),
                                            float(V.speed[s])))
    return tr, sim


def entry_order(tr: dict[str, list]) -> list[str]:
    first = {k: next((t for t, lk, _, _ in rows if lk == "E"), None) for k, rows in tr.items()}
    return [k for k, t in sorted(first.items(), key=lambda x: (np.inf if x[1] is None else x[1], x[0]))
            if t is not None]


def test_the_vehicle_behind_in_the_merged_order_adapts_before_the_line_and_never_stops() -> None:
    """a departs on A 10 m nearer the line than b on B, both at 13.89 m/s: b falls in behind a
    by braking gently from 100 m before the line on (it never stops and never brakes hard), a
    drives through undisturbed, and b enters E behind a with at least its jam distance."""
    net = merge_net(400.0, 400.0)
    trips = [Trip("a", "A", "E", 0.0, depart_pos="10"), Trip("b", "B", "E", 0.0, depart_pos="0")]
    tr, sim = run(net, trips, 60.0)
    assert entry_order(tr) == ["a", "b"]
    a_min = min(v for _, lk, _, v in tr["a"] if lk == "A")
    assert a_min == pytest.approx(13.89, abs=0.05), "the vehicle ahead is not disturbed"
    b_on_a = [(p, v) for _, lk, p, v in tr["b"] if lk == "B"]
    slowed_at = next(p for p, v in b_on_a if v < 13.8)
    assert 300.0 <= slowed_at < 395.0, "b adapts within 100 m of the line, before reaching it"
    assert min(v for _, v in b_on_a) > 5.0, "b never stops at the line"
    decel = np.diff([v for _, lk, _, v in tr["b"]]) / sim.dt
    assert decel.min() > -KRAUSS.decel - 1e-6, "no harder than comfortable braking"
    # on E, b stays behind a with at least minGap between a's rear and b's front
    t_a = {t: p for t, lk, p, _ in tr["a"] if lk == "E"}
    gaps = [t_a[t] - KRAUSS.length - p for t, lk, p, _ in tr["b"] if lk == "E" and t in t_a]
    assert gaps and min(gaps) >= KRAUSS.min_gap - 0.5
    sim.backend.pull("W", ("cnt",))
    assert int(sim.W.cnt[K.C_COLL]) == 0


def test_two_dense_streams_take_turns() -> None:
    """Two streams of 900 veh/h each (2 s headways, offset by 1 s) into one lane: the entries
    into E alternate A, B, A, B almost throughout, nobody collides and nobody is held at the
    line for want of room."""
    net = merge_net()
    trips = [Trip(f"a{k:02d}", "A", "E", 2.0 * k) for k in range(40)]
    trips += [Trip(f"b{k:02d}", "B", "E", 2.0 * k + 1.0) for k in range(40)]
    tr, sim = run(net, trips, 200.0)
    order = entry_order(tr)
    assert len(order) == 80
    alternations = np.mean([x[0] != y[0] for x, y in zip(order, order[1:], strict=False)])
    assert alternations > 0.9, order
    sim.backend.pull("W", ("cnt",))
    assert int(sim.W.cnt[K.C_COLL]) == 0
    assert int(sim.W.cnt[K.C_BLOCKED]) == 0


def test_a_tie_is_broken_by_the_lane_number() -> None:
    """Mirror-image roads, both vehicles at the same distance and speed: the one on the lane with
    the higher number falls in behind the other, early and gently, and neither stops (SUMO, whose
    tie-break is the lane index, left such a pair standing at the line for 300 s when both lanes
    had index 0)."""
    net = merge_net(400.0, 400.0)
    trips = [Trip("a", "A", "E", 0.0), Trip("b", "B", "E", 0.0)]
    tr, sim = run(net, trips, 80.0)
    V = sim.vehicles()
    assert (V.status == 2).all(), "both arrived"
    assert entry_order(tr) == ["a", "b"]  # A's lane is numbered before B's
    for k in ("a", "b"):
        assert min(v for t, _, _, v in tr[k] if t > 2.0) > 5.0
    sim.backend.pull("W", ("cnt",))
    assert int(sim.W.cnt[K.C_BLOCKED]) == 0 and int(sim.W.cnt[K.C_COLL]) == 0


def test_zipper_connections_come_from_sumo_and_go_back(tmp_path: Path) -> None:
    """A SUMO zipper junction's ``Z`` connections import as zipper movements (no warning: they
    are no longer approximated); the export writes the node as a ``zipper`` junction, and
    netconvert makes the same connections ``Z`` again."""
    if shutil.which("netconvert") is None:
        pytest.skip("netconvert not installed")
    from mobsim.interop.sumo_export import build_net, export_network
    from mobsim.interop.sumo_net import read_sumo_network

    net = merge_net()
    files = export_network(net, tmp_path, "zm")
    assert 'type="zipper"' in Path(files["nod"]).read_text()
    built = build_net(files, tmp_path / "zm.net.xml")
    text = Path(built).read_text()
    assert text.count('state="Z"') == 2
    warnings: list[str] = []
    back = read_sumo_network(built, cache=False, warnings=warnings)
    kinds = sorted(m.kind for m in back.movements if m.node == "z")
    assert kinds == ["zipper", "zipper"]
    assert not any("zipper" in w for w in warnings), warnings
