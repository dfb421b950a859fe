"""Consistency checks of a :class:`~mobsim.net.network.Network` before it is compiled.

:func:`check_network` raises :class:`~mobsim.errors.InputError` (``source`` = ``net.source``) for
the first error found and returns a list of warnings (plain strings) for things that are legal but
probably not meant: parts of the network that cannot be reached from the rest or cannot reach it,
links shorter than :data:`SHORT_LINK` m, and signal indices that never get green.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter, defaultdict

from mobsim.errors import InputError
from mobsim.net.network import (
    MOVEMENT_KINDS,
    NODE_CONTROLS,
    PROGRAM_KINDS,
    SIGNAL_STATES,
    Link,
    Movement,
    Network,
    SignalProgram,
)

#: Links shorter than this (m) get a warning.
SHORT_LINK = 10.0
#: Most lanes a link may have: the kernels keep a vehicle's suitable lanes as bits of an int32.
MAX_LANES = 31
#: Most movements (lane-to-lane connections) a node may have: foes are stored as a byte.
MAX_NODE_MOVEMENTS = 256
#: Turn codes of :class:`~mobsim.net.network.Movement`.
TURNS = "slrt"
#: Most ids listed in one warning.
_MAX_LISTED = 10


def check_network(net: Network) -> list[str]:
    """Check ``net``; raise :class:`InputError` for the first error, return warnings.

    Errors: empty or duplicate ids, bad node control, non-finite coordinates, links to unknown
    nodes or from a node to itself, zero/negative/NaN length or speed, lanes < 1, movements to
    unknown links or lanes, through the wrong node, with a bad kind or turn; a signal index at a
    non-signal node or missing at a signal node; a signal node without exactly one program, a
    program at a non-signal node, states of the wrong length or with characters outside
    ``"Ggyro"``, non-positive phase durations; a link without an outgoing movement at a node that
    has outgoing links (a lane without one is a lane drop: a warning).
    """
    _check_nodes(net)
    links = _check_links(net)
    _check_movements(net, links)
    _check_signals(net)
    _check_lane_coverage(net, links)
    warnings: list[str] = []
    warnings += _warn_lane_drops(net)
    warnings += _warn_short_links(net)
    warnings += _warn_reachability(net)
    warnings += _warn_no_green(net)
    return warnings


def _err(net: Network, what: str, element: str, fix: str) -> InputError:
    return InputError(what, source=net.source, element=element, fix=fix)


def _finite(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _integer(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_id(net: Network, kind: str, ident: object) -> None:
    if not isinstance(ident, str) or not ident or ident != ident.strip():
        raise _err(net, f"{kind} id {ident!r} is empty, not a string or has surrounding spaces",
                   f"{kind} {ident!r}", f"give every {kind} a non-empty id without leading or "
                   "trailing spaces")


def _check_duplicates(net: Network, kind: str, ids: list[str]) -> None:
    for ident, count in Counter(ids).items():
        if count > 1:
            raise _err(net, f"{kind} id '{ident}' is used {count} times", f"{kind} '{ident}'",
                       f"give each {kind} a unique id")


def _check_nodes(net: Network) -> None:
    for node in net.nodes:
        _check_id(net, "node", node.id)
        where = f"node '{node.id}'"
        if node.control not in NODE_CONTROLS:
            raise _err(net, f"control '{node.control}' is not one of {', '.join(NODE_CONTROLS)}",
                       where, "set control to signal, priority or none")
        if not (_finite(node.x) and _finite(node.y)):
            raise _err(net, f"coordinates ({node.x}, {node.y}) are not finite numbers", where,
                       "give x and y in metres")
    _check_duplicates(net, "node", [n.id for n in net.nodes])


def _check_links(net: Network) -> dict[str, Link]:
    nodes = {n.id for n in net.nodes}
    for link in net.links:
        _check_id(net, "link", link.id)
        where = f"link '{link.id}'"
        for end, ref in (("from_node", link.from_node), ("to_node", link.to_node)):
            if ref not in nodes:
                raise _err(net, f"{end} '{ref}' is not a node of the network", where,
                           f"add node '{ref}' or correct the link's {end}")
        if link.from_node == link.to_node:
            raise _err(net, f"link starts and ends at node '{link.from_node}'", where,
                       "split the loop into two links through an extra node")
        if not (_finite(link.length) and link.length > 0):
            raise _err(net, f"length {link.length} m is not a positive number", where,
                       "give the link's length in metres, > 0")
        if not (_finite(link.speed) and link.speed > 0):
            raise _err(net, f"speed {link.speed} m/s is not a positive number", where,
                       "give the speed limit in m/s, > 0")
        if not _integer(link.lanes) or link.lanes < 1:
            raise _err(net, f"lanes {link.lanes!r} is not an integer >= 1", where,
                       "give the number of lanes, at least 1")
        if link.lanes > MAX_LANES:
            raise _err(net, f"{link.lanes} lanes: a link has at most {MAX_LANES}", where,
                       f"split the road into parallel links of at most {MAX_LANES} lanes")
        if not _integer(link.priority):
            raise _err(net, f"priority {link.priority!r} is not an integer", where,
                       "give an integer priority (higher wins at priority junctions)")
        if any(len(p) != 2 or not (_finite(p[0]) and _finite(p[1])) for p in link.shape):
            raise _err(net, "shape has a point that is not a pair of finite numbers", where,
                       "give the shape as (x, y) points in metres, or leave it empty")
    _check_duplicates(net, "link", [link.id for link in net.links])
    return {link.id: link for link in net.links}


def _movement_name(m: Movement) -> str:
    return f"movement {m.from_link}[{m.from_lane}] -> {m.to_link}[{m.to_lane}] at node '{m.node}'"


def _check_movement(net: Network, m: Movement, links: dict[str, Link], control: dict[str, str]) -> None:
    where = _movement_name(m)
    if m.node not in control:
        raise _err(net, f"node '{m.node}' is not a node of the network", where,
                   "correct the movement's node")
    for role, lid, lane in (("from_link", m.from_link, m.from_lane), ("to_link", m.to_link, m.to_lane)):
        if lid not in links:
            raise _err(net, f"{role} '{lid}' is not a link of the network", where,
                       f"correct the {role} or add link '{lid}'")
        n = links[lid].lanes
        if not _integer(lane) or not 0 <= lane < n:
            raise _err(net, f"lane {lane!r} of {role} '{lid}' is out of range: it has {n} lane(s), "
                       f"0..{n - 1}", where, "use a lane index from 0 (rightmost) to lanes - 1")
    if links[m.from_link].to_node != m.node:
        raise _err(net, f"from_link '{m.from_link}' ends at node '{links[m.from_link].to_node}', "
                   f"not at '{m.node}'", where, "use a from_link that ends at the movement's node")
    if links[m.to_link].from_node != m.node:
        raise _err(net, f"to_link '{m.to_link}' starts at node '{links[m.to_link].from_node}', "
                   f"not at '{m.node}'", where, "use a to_link that starts at the movement's node")
    if m.kind not in MOVEMENT_KINDS:
        raise _err(net, f"kind '{m.kind}' is not one of {', '.join(MOVEMENT_KINDS)}", where,
                   "set kind to major, minor, stop or zipper")
    if not (_finite(m.length) and m.length >= 0.0):
        raise _err(net, f"length {m.length!r} m is not a number >= 0", where,
                   "give the distance through the junction in m (0 for a point junction)")
    if m.speed is not None and not (_finite(m.speed) and m.speed > 0.0):
        raise _err(net, f"speed {m.speed!r} m/s is not a positive number", where,
                   "give the speed limit through the junction in m/s, or None for the link's own")
    if not isinstance(m.turn, str) or len(m.turn) != 1 or m.turn not in TURNS:
        raise _err(net, f"turn '{m.turn}' is not one of s, l, r, t", where,
                   "set turn to s (straight), l (left), r (right) or t (U-turn)")
    if not _integer(m.signal_index):
        raise _err(net, f"signal_index {m.signal_index!r} is not an integer", where,
                   "give an integer signal index (-1 at unsignalised nodes)")
    if control[m.node] == "signal" and m.signal_index < 0:
        raise _err(net, "movement at a signal node has no signal_index", where,
                   "give it the index of its character in the node's signal states (0 up)")
    if control[m.node] != "signal" and m.signal_index != -1:
        raise _err(net, f"signal_index {m.signal_index} at a '{control[m.node]}' node", where,
                   "set signal_index to -1, or make the node a signal node")


def _check_movements(net: Network, links: dict[str, Link]) -> None:
    control = {n.id: n.control for n in net.nodes}
    seen: set[tuple[str, str, int, str, int]] = set()
    for m in net.movements:
        _check_movement(net, m, links, control)
        key = (m.node, m.from_link, m.from_lane, m.to_link, m.to_lane)
        if key in seen:
            raise _err(net, "movement is listed twice", _movement_name(m), "remove the duplicate")
        seen.add(key)
    per_node: dict[str, int] = {}
    for m in net.movements:
        per_node[m.node] = per_node.get(m.node, 0) + 1
    for node, count in per_node.items():
        if count > MAX_NODE_MOVEMENTS:
            raise _err(net, f"{count} movements (lane-to-lane connections): a node has at most "
                       f"{MAX_NODE_MOVEMENTS}", f"node '{node}'",
                       "split the junction into several nodes, or connect fewer lane pairs")


def signal_counts(net: Network) -> dict[str, int]:
    """Number of signal indices (max ``signal_index`` + 1) of every node, 0 where it has none."""
    counts: dict[str, int] = {n.id: 0 for n in net.nodes}
    for m in net.movements:
        if m.signal_index >= 0 and m.node in counts:
            counts[m.node] = max(counts[m.node], m.signal_index + 1)
    return counts


def _check_program_phases(net: Network, prog: SignalProgram, n_idx: int) -> None:
    where = f"signal program '{prog.program_id}' of node '{prog.node}'"
    if not _finite(prog.offset):
        raise _err(net, f"offset {prog.offset} s is not a finite number", where, "give the offset in s")
    if not prog.phases:
        raise _err(net, "program has no phases", where, "give at least one phase")
    for k, ph in enumerate(prog.phases):
        if not (_finite(ph.duration) and ph.duration > 0):
            raise _err(net, f"phase {k} has duration {ph.duration} s, not a positive number",
                       where, "give every phase a duration > 0 s")
        if not isinstance(ph.state, str):
            raise _err(net, f"phase {k} state {ph.state!r} is not a string", where,
                       "give one character of Ggyros per signal index")
        bad = sorted(set(ph.state) - set(SIGNAL_STATES))
        if bad:
            raise _err(net, f"phase {k} state '{ph.state}' has characters {bad} outside "
                       f"'{SIGNAL_STATES}'", where,
                       "use G (green), g (yield green), y, r, o (off) or s (stop, then yield: right on red)")
        if len(ph.state) != n_idx:
            raise _err(net, f"phase {k} state '{ph.state}' has {len(ph.state)} characters but the "
                       f"node's movements use {n_idx} signal indices", where,
                       f"give one character per signal index 0..{n_idx - 1}")
        lo = ph.duration if ph.min_dur is None else ph.min_dur
        hi = ph.duration if ph.max_dur is None else ph.max_dur
        if not (_finite(lo) and _finite(hi) and 0 < lo <= hi):
            raise _err(net, f"phase {k} has minDur {lo} s and maxDur {hi} s", where,
                       "give 0 < minDur <= maxDur (s)")
        if not -1 <= ph.next < len(prog.phases):
            raise _err(net, f"phase {k} has next phase {ph.next}, but the program has "
                       f"{len(prog.phases)} phases", where, f"give a phase index 0..{len(prog.phases) - 1}")
    if prog.kind not in PROGRAM_KINDS:
        raise _err(net, f"program kind '{prog.kind}' is not one of {PROGRAM_KINDS}", where,
                   "use static (fixed time), actuated or delay_based")
    for name in ("max_gap", "detector_gap", "passing_time", "detector_range", "min_time_loss"):
        if not (_finite(getattr(prog, name)) and getattr(prog, name) > 0):
            raise _err(net, f"{name} = {getattr(prog, name)} s is not a positive number", where,
                       f"give {name} in s (m for detector_range; SUMO's defaults: max-gap 3, "
                       "detector-gap 2, passing-time 1.9, detectorRange 100, minTimeloss 1)")


def _check_signals(net: Network) -> None:
    control = {n.id: n.control for n in net.nodes}
    counts = signal_counts(net)
    per_node: dict[str, int] = defaultdict(int)
    for prog in net.signals:
        where = f"signal program '{prog.program_id}' of node '{prog.node}'"
        if prog.node not in control:
            raise _err(net, f"node '{prog.node}' is not a node of the network", where,
                       "correct the program's node or remove the program")
        if control[prog.node] != "signal":
            raise _err(net, f"node '{prog.node}' has control '{control[prog.node]}', not signal",
                       where, "set the node's control to signal or remove the program")
        per_node[prog.node] += 1
        if per_node[prog.node] > 1:
            raise _err(net, "node has more than one signal program", where,
                       "keep one fixed-time program per signal node")
        _check_program_phases(net, prog, counts[prog.node])
    for node in net.nodes:
        if node.control == "signal" and node.id not in per_node:
            raise _err(net, "signal node has no signal program", f"node '{node.id}'",
                       "add a program, or build it with mobsim.net.movements.default_signal_program")


def _check_lane_coverage(net: Network, links: dict[str, Link]) -> None:
    """Every link into a node with outgoing links needs a movement from at least one lane; a lane
    without one is a lane drop (vehicles leave it by a lane change before its end), which
    :func:`_warn_lane_drops` lists."""
    has_out = {link.from_node for link in net.links}
    served = {m.from_link for m in net.movements}
    for link in net.links:
        if link.to_node in has_out and link.id not in served:
            raise _err(net, f"no lane has a movement out of node '{link.to_node}', which has outgoing "
                       "links", f"link '{link.id}'",
                       "add a movement from a lane of this link (or leave movements out to get the defaults)")


def _lane_drops(net: Network) -> list[str]:
    """``link:lane`` of every lane without a movement at a node with outgoing links."""
    has_out = {link.from_node for link in net.links}
    served = {(m.from_link, m.from_lane) for m in net.movements}
    return [f"{link.id}:{lane}" for link in net.links if link.to_node in has_out
            for lane in range(link.lanes) if (link.id, lane) not in served]


def _warn_lane_drops(net: Network) -> list[str]:
    drops = _lane_drops(net)
    if not drops or net.sumo_lanes:  # a SUMO import says so itself, with its reasons
        return []
    return [f"{len(drops)} lane(s) have no movement at their end (lane drops: vehicles leave them by a "
            f"lane change before the end): {_listing(drops)}"]


# --------------------------------------------------------------------------------------------
# warnings


def _listing(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED])
    return shown + (f", ... ({len(ids) - _MAX_LISTED} more)" if len(ids) > _MAX_LISTED else "")


def _warn_short_links(net: Network) -> list[str]:
    short = [link.id for link in net.links if link.length < SHORT_LINK]
    if not short:
        return []
    return [f"{len(short)} link(s) shorter than {SHORT_LINK:g} m (vehicles may not fit): {_listing(short)}"]


def strongly_connected_components(n: int, succ: list[list[int]]) -> list[int]:
    """Component label of each of ``n`` vertices (iterative Tarjan); ``succ`` are adjacency lists."""
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = 0
    n_comp = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            recurse = False
            for k in range(i, len(succ[v])):
                w = succ[v][k]
                if index[w] < 0:
                    work.append((v, k + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = n_comp
                    if w == v:
                        break
                n_comp += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comp


def _reach(start: set[int], succ: list[list[int]]) -> set[int]:
    seen = set(start)
    todo = list(start)
    while todo:
        v = todo.pop()
        for w in succ[v]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def unreachable_links(net: Network) -> tuple[list[str], list[str], int]:
    """Links outside the main part that cannot be reached from it, links outside it that cannot
    reach it, and the number of links in it (see :func:`_warn_reachability`)."""
    idx = {link.id: i for i, link in enumerate(net.links)}
    n = len(net.links)
    has_in = {link.to_node for link in net.links}
    has_out = {link.from_node for link in net.links}
    outside = n  # one more vertex: where vehicles come from (entries) and go to (exits)
    succ_sets: list[set[int]] = [set() for _ in range(n + 1)]
    for m in net.movements:
        succ_sets[idx[m.from_link]].add(idx[m.to_link])
    for i, link in enumerate(net.links):
        if link.from_node not in has_in:
            succ_sets[outside].add(i)
        if link.to_node not in has_out:
            succ_sets[i].add(outside)
    succ = [sorted(s) for s in succ_sets]
    comp = strongly_connected_components(n + 1, succ)
    sizes = Counter(comp[:n])
    if not sizes or max(sizes.values()) <= 1:
        return [], [], 0
    main_label = min(sizes, key=lambda c: (-sizes[c], comp.index(c)))
    main = {i for i in range(n + 1) if comp[i] == main_label}
    pred: list[list[int]] = [[] for _ in range(n + 1)]
    for v in range(n + 1):
        for w in succ[v]:
            pred[w].append(v)
    from_main = _reach(main, succ)
    to_main = _reach(main, pred)
    unreached = [link.id for i, link in enumerate(net.links)
                 if i not in from_main and link.from_node in has_in]
    stuck = [link.id for i, link in enumerate(net.links)
             if i not in to_main and link.to_node in has_out]
    return unreached, stuck, sizes[main_label]


def _warn_reachability(net: Network) -> list[str]:
    """Warn about links outside the main part of the link graph that cannot be reached from it, or
    cannot reach it.

    The graph has one vertex per link and an edge per (from_link, to_link) movement, and one more
    vertex for the world outside the network: an edge leads from it to every entry (a link that
    starts at a node without incoming links) and to it from every exit (a link that ends at a
    node without outgoing links), as trips come in and leave there. The main part is the largest
    strongly connected part of this graph: a network whose traffic runs from its entries to its
    exits (a grid without left turns and U-turns, whose own loops are small) is one part, and a
    network whose parts are cut off from each other is not. Entries are not reported as
    unreachable, exits not as unable to reach the rest. A network without any cycle (e.g. a
    single road) gets no warning.
    """
    unreached, stuck, main = unreachable_links(net)
    out = []
    if unreached:
        out.append(f"{len(unreached)} link(s) cannot be reached from the main part of the network "
                   f"({main} links): {_listing(unreached)}")
    if stuck:
        out.append(f"{len(stuck)} link(s) cannot reach the main part of the network "
                   f"({main} links): {_listing(stuck)}")
    return out


def _warn_no_green(net: Network) -> list[str]:
    out = []
    for prog in net.signals:
        n_idx = len(prog.phases[0].state) if prog.phases else 0
        never = [k for k in range(n_idx) if not any(ph.state[k] in "Ggo" for ph in prog.phases)]
        if never:
            out.append(f"signal program '{prog.program_id}' of node '{prog.node}': signal "
                       f"index(es) {_listing([str(k) for k in never])} never get green")
    return out
