"""SUMO's right of way comes from the network's own request tables: on every network
shipped with SUMO, the movements a mobsim movement yields to are exactly the connections that
sumolib says forbid it (``Node.forbids``, from the same tables but sumolib's own link numbering)."""

from __future__ import annotations

from pathlib import Path

import pytest

sumolib = pytest.importorskip("sumolib")
sumo = pytest.importorskip("sumo")

from mobsim.interop.sumo_net import read_sumo_network  # noqa: E402

GAME = Path(sumo.SUMO_HOME) / "tools" / "game"
NETS = ["cross/cross.net.xml", "bs3d/bs.net.xml", "fkk_in/ingolstadt.net.xml.gz", "DRT/osm.net.xml"]


@pytest.mark.parametrize("rel", NETS)
def test_yields_are_sumos_request_tables(rel: str) -> None:
    path = GAME / rel
    if not path.is_file():
        pytest.skip(f"{rel} is not shipped with this eclipse-sumo wheel")
    net = read_sumo_network(path)
    snet = sumolib.net.readNet(str(path), withFoes=True, withInternal=False, withConnections=True,
                               withPrograms=False)
    lanes = net.sumo_lanes  # link -> SUMO lane indices kept, in mobsim's order

    def conn(link: str, lane: int, to: str, to_lane: int):
        a = snet.getEdge(link).getLane(lanes[link][lane])
        b = snet.getEdge(to).getLane(lanes[to][to_lane])
        for c in a.getOutgoing():
            if c.getToLane() == b:
                return c
        return None

    by_node: dict[str, list] = {}
    for m in net.movements:
        by_node.setdefault(m.node, []).append(m)
    checked = 0
    for node, mvs in by_node.items():
        if "~" in node:
            continue
        snode = snet.getNode(node)
        conns = {(m.from_link, m.from_lane, m.to_link, m.to_lane): conn(m.from_link, m.from_lane, m.to_link,
                                                                          m.to_lane) for m in mvs}
        for m in mvs:
            if m.yields_to is None:
                continue
            cm = conns[(m.from_link, m.from_lane, m.to_link, m.to_lane)]
            if cm is None:
                continue  # a connection moved to a kept lane (lane drop): not SUMO's own
            for key, cf in conns.items():
                if cf is None or cf is cm:
                    continue
                assert (key in m.yields_to) == snode.forbids(cf, cm), (node, m, key)
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("rel", ["A10KW/osm.net.xml", "DRT/osm.net.xml"])
def test_a_movement_keeps_the_junction_clear_exactly_where_sumo_gives_its_link_foes(rel: str) -> None:
    """SUMO keeps a junction clear (a vehicle enters only with room beyond it) only on links that
    have foes; on A10KW a queue behind node 2478099369, where one edge widens to three lanes,
    backs up into the junction as SUMO's does."""
    path = GAME / rel
    if not path.is_file():
        pytest.skip(f"{rel} is not shipped with this eclipse-sumo wheel")
    net = read_sumo_network(path)
    snet = sumolib.net.readNet(str(path), withFoes=True, withInternal=False, withConnections=True,
                               withPrograms=False)
    lanes = net.sumo_lanes
    checked = {True: 0, False: 0}
    for m in net.movements:
        if "~" in m.node or m.from_link not in lanes or m.to_link not in lanes:
            continue
        snode = snet.getNode(m.node)
        a = snet.getEdge(m.from_link).getLane(lanes[m.from_link][m.from_lane])
        b = snet.getEdge(m.to_link).getLane(lanes[m.to_link][m.to_lane])
        cm = next((c for c in a.getOutgoing() if c.getToLane() == b), None)
        if cm is None:
            continue
        # every link of the junction, pedestrian crossings included (sumolib's table of foes)
        k = snode.getLinkIndex(cm)
        has_foes = any(snode.areFoes(k, j) for j in range(len(snode._foes)) if j != k)
        assert m.keep_clear == has_foes, (m.node, m.from_link, m.to_link)
        checked[has_foes] += 1
    assert checked[True] > 0 and checked[False] > 0
    if rel.startswith("A10KW"):
        widen = [m for m in net.movements if m.node == "2478099369"]
        assert widen and not any(m.keep_clear for m in widen)
