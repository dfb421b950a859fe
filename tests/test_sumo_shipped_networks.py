"""The networks shipped with SUMO (``$SUMO_HOME/tools/game/*.sumocfg``) import completely.

For every network a ``.sumocfg`` there names and that has lanes for passenger cars (the rail
demos have none):

(a) the (edge, next edge) pairs a passenger car may drive in SUMO are the (from_link, to_link)
    pairs of mobsim's movements. SUMO's rule (``MSEdge::getViaSuccessors``, ``ROEdge`` alike): a
    connection counts when its from lane, its to lane and its first internal (``via``) lane all
    admit the class. sumolib's ``Lane.allows`` reads permissions as SUMO does on these files
    (none combines ``allow`` with ``disallow`` or writes ``allow="all"``, where they differ);
(b) every route that SUMO's ``duarouter`` computes for random trips (``randomTrips.py``, fixed
    seed) runs along movements;
(c) a link named in a "cannot be reached from / cannot reach the main part" warning is one that
    SUMO cannot route to from that part, or from to it.

No simulation runs: the whole file takes a few seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

sumolib = pytest.importorskip("sumolib", reason="sumolib not installed (pip install -e '.[sumo]')")
sumo = pytest.importorskip("sumo", reason="eclipse-sumo not installed (pip install -e '.[sumo]')")

from mobsim.errors import InputError  # noqa: E402
from mobsim.interop.sumo_net import read_sumo_network  # noqa: E402
from mobsim.net.netcheck import check_network, strongly_connected_components, unreachable_links  # noqa: E402
from mobsim.net.network import Network  # noqa: E402

GAME = Path(sumo.SUMO_HOME) / "tools" / "game"


def _shipped_nets() -> list[str]:
    nets = set()
    for cfg in GAME.glob("*.sumocfg"):
        m = re.search(r'<net-file\s+value="([^"]+)"', cfg.read_text(errors="replace"))
        if m:
            nets.add(m.group(1))
    return sorted(nets)


NETS = _shipped_nets()


@cache
def _mobsim(rel: str) -> tuple[Network, tuple[str, ...]]:
    warnings: list[str] = []
    try:
        net = read_sumo_network(GAME / rel, warnings=warnings, cache=False)
    except InputError as exc:
        if "no lanes that vehicle class 'passenger' may use" in str(exc):
            pytest.skip(f"{rel} has no lanes for passenger cars")
        raise
    return net, tuple(warnings + check_network(net))


@cache
def _sumo_pairs(rel: str) -> frozenset[tuple[str, str]]:
    """(edge, next edge) pairs a passenger car may drive in SUMO."""
    net = sumolib.net.readNet(str(GAME / rel), withInternal=True)
    pairs = set()
    for e in net.getEdges(withInternal=False):
        if e.getFunction() in ("internal", "crossing", "walkingarea", "connector"):
            continue
        for lane in e.getLanes():
            if not lane.allows("passenger"):
                continue
            for c in lane.getOutgoing():
                to = c.getToLane()
                via = c.getViaLaneID()
                if (to.allows("passenger") and to.getEdge().getFunction() == ""
                        and (not via or net.getLane(via).allows("passenger"))):
                    pairs.add((e.getID(), to.getEdge().getID()))
    return frozenset(pairs)


def _pairs(net: Network) -> set[tuple[str, str]]:
    return {(m.from_link, m.to_link) for m in net.movements}


@pytest.mark.parametrize("rel", NETS)
def test_movements_are_the_connections_sumo_lets_cars_use(rel: str) -> None:
    net, _ = _mobsim(rel)
    sumo_pairs = _sumo_pairs(rel)
    mine = _pairs(net)
    assert sorted(sumo_pairs - mine) == [], "connections lost on import"
    assert sorted(mine - sumo_pairs) == [], "movements SUMO does not let cars use"


def test_reported_connections_survive() -> None:
    """The user's cases: a left turn into a 0.2 m edge (DRT) and a motorway on-ramp into an
    acceleration lane (A10KW), both lost with the downstream lane drops before."""
    if "DRT/osm.net.xml" in NETS:
        assert ("-46424277", "118262353#0") in _pairs(_mobsim("DRT/osm.net.xml")[0])
    if "A10KW/osm.net.xml" in NETS:
        a10 = _mobsim("A10KW/osm.net.xml")[0]
        assert ("308396220", "264308374") in _pairs(a10)
        assert not any("~end~308396220" in n.id for n in a10.nodes)


@pytest.mark.parametrize("rel", NETS)
def test_duarouter_routes_run_along_movements(rel: str, tmp_path: Path) -> None:
    net, _ = _mobsim(rel)
    routes = tmp_path / "r.rou.xml"
    r = subprocess.run([sys.executable, os.path.join(sumo.SUMO_HOME, "tools", "randomTrips.py"),
                        "-n", str(GAME / rel), "-o", str(tmp_path / "t.trips.xml"), "-r", str(routes),
                        "-e", "40", "-p", "1", "--seed", "7"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    edges = re.findall(r'<route edges="([^"]+)"', routes.read_text())
    assert edges, "duarouter found no route"
    pairs = _pairs(net)
    for route in edges:
        e = route.split()
        assert not [(a, b) for a, b in zip(e[:-1], e[1:], strict=True) if (a, b) not in pairs], route


def _reach(start: set[str], succ: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for w in succ[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


@pytest.mark.parametrize("rel", NETS)
def test_reachability_warnings_only_where_sumo_cannot_route(rel: str) -> None:
    net, warnings = _mobsim(rel)
    unreached, stuck, _ = unreachable_links(net)
    assert bool(unreached) == any("cannot be reached from the main part" in w for w in warnings)
    assert bool(stuck) == any("cannot reach the main part" in w for w in warnings)
    # SUMO's own graph and its largest strongly connected part.
    ids = sorted({e for p in _sumo_pairs(rel) for e in p} | {lk.id for lk in net.links})
    succ: dict[str, set[str]] = defaultdict(set)
    pred: dict[str, set[str]] = defaultdict(set)
    for a, b in _sumo_pairs(rel):
        succ[a].add(b)
        pred[b].add(a)
    ix = {e: i for i, e in enumerate(ids)}
    comp = strongly_connected_components(len(ids), [sorted(ix[w] for w in succ[e]) for e in ids])
    biggest = max(set(comp), key=comp.count)
    core = {e for e in ids if comp[ix[e]] == biggest}
    assert not set(unreached) & _reach(core, succ), "SUMO reaches these from the main part"
    assert not set(stuck) & _reach(core, pred), "SUMO reaches the main part from these"


def test_grid6_has_no_reachability_warning() -> None:
    """grid6 has no left turns: traffic runs from its four entries to its four exits, and its
    only loop has 8 links; all its links are on some way from an entry to an exit."""
    if "grid6/grid6.net.xml" not in NETS:
        pytest.skip("grid6 is not shipped with this SUMO")
    _, warnings = _mobsim("grid6/grid6.net.xml")
    assert not [w for w in warnings if "main part" in w]
