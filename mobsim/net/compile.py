"""Compile a :class:`~mobsim.net.network.Network` into flat integer-indexed arrays for the kernels.

Strings stop here: the kernels see lanes, links, movements and signal slots as integers. Lanes of a
link are contiguous (``link_first_lane[e] + k`` is lane ``k`` of link ``e``) and movements are sorted
by their from-lane, so ``lane_mv_start[l]:lane_mv_start[l + 1]`` are the movements leaving lane ``l``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mobsim.errors import InputError
from mobsim.kernels.runtime.state_fields import NetArrays
from mobsim.net.network import Movement, Network

#: Movement kinds as integers (``mv_kind``).
KIND_CODES = {"major": 0, "minor": 1, "stop": 2, "zipper": 3}
#: Signal state characters as integers (``phase_states``, ``sig_state``).
STATE_CODES = {"r": 0, "y": 1, "g": 2, "G": 3, "o": 4, "s": 5}
CONTROL_CODES = {"none": 0, "priority": 1, "signal": 2}
#: Signal program kinds as integers (``ctrl_kind``).
PROGRAM_CODES = {"static": 0, "actuated": 1, "delay_based": 2}
#: SUMO's DEFAULT_LENGTH_WITH_GAP (m): a vehicle and its gap in a queue, for detector placement.
QUEUED_VEHICLE_LENGTH = 7.5

#: Arrays only the host reads (geometry, routing costs, output tables): the CUDA backend uploads
#: them empty, which saves 4 B per vehicle at one million vehicles on the benchmark grid. The
#: CPU kernels get the host arrays, so a test checks that no kernel source reads these fields.
HOST_ONLY = frozenset({"link_len", "link_speed", "link_from_node", "node_x", "node_y", "node_control",
                       "mv_node"})


@dataclass
class CompiledNetwork:
    """A network as arrays (``arrays``) plus the id tables needed to translate back to strings."""

    network: Network
    arrays: NetArrays
    node_ids: list[str]
    link_ids: list[str]
    link_index: dict[str, int]

    @property
    def n_lanes(self) -> int:
        return len(self.arrays.lane_len)

    @property
    def n_links(self) -> int:
        return len(self.link_ids)

    @property
    def n_slots(self) -> int:
        return len(self.arrays.slot_ctrl)

    def static_tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The ``/network/*`` tables of the result schema."""
        net, a = self.network, self.arrays
        return {
            "network/nodes": {
                "id": np.array(self.node_ids, dtype=object),
                "x": a.node_x, "y": a.node_y,
                "control": np.array([n.control for n in net.nodes], dtype=object),
            },
            "network/links": {
                "id": np.array(self.link_ids, dtype=object),
                "from_node": a.link_from_node, "to_node": a.link_to_node,
                "length": a.link_len, "speed": a.link_speed,
                "lanes": a.link_nlanes, "priority": np.array([lk.priority for lk in net.links], np.int32),
                "first_lane": a.link_first_lane,
            },
            "network/lanes": {
                "link": a.lane_link, "index": a.lane_index, "length": a.lane_len, "speed": a.lane_speed,
            },
            "network/movements": {
                "node": a.mv_node, "from_lane": a.mv_from_lane, "to_lane": a.mv_to_lane,
                "kind": a.mv_kind, "signal_index": _signal_index(net, self),
            },
        }


def _signal_index(net: Network, cn: CompiledNetwork) -> np.ndarray:
    a = cn.arrays
    out = np.full(len(a.mv_sig), -1, np.int32)
    ok = a.mv_sig >= 0
    out[ok] = a.slot_index[a.mv_sig[ok]]
    return out


def _angle(dx: float, dy: float) -> float:
    return math.atan2(dy, dx) % (2.0 * math.pi)


MovementKey = tuple[str, int, str, int]


def _node_movements(net: Network, mvs: list[Movement], index: dict[MovementKey, int], m: Movement,
                    keys: Sequence[MovementKey], verb: str, attr: str) -> list[int]:
    """Positions in ``mvs`` of the movements ``keys`` (``(from_link, from_lane, to_link, to_lane)``)
    that movement ``m`` refers to by ``attr``; each must be a movement of ``m``'s node."""
    out = []
    for key in keys:
        f = index.get(tuple(key))
        if f is None or mvs[f].node != m.node:
            raise InputError(f"movement {m.from_link}:{m.from_lane} -> {m.to_link}:{m.to_lane} {verb} {key}, "
                             f"which is not a movement of node '{m.node}'", source=net.source,
                             element=f"node '{m.node}'", fix=f"give {attr} as movements of the same node")
        out.append(f)
    return out


def compile_network(net: Network) -> CompiledNetwork:
    """Compile ``net`` (already checked by :func:`mobsim.net.netcheck.check_network`) into arrays."""
    node_ids = [n.id for n in net.nodes]
    nidx = net.node_index()
    link_ids = [lk.id for lk in net.links]
    lidx = net.link_index()
    n_links = len(net.links)

    link_nlanes = np.array([lk.lanes for lk in net.links], np.int32)
    link_first_lane = np.zeros(n_links, np.int32)
    if n_links:
        link_first_lane[1:] = np.cumsum(link_nlanes)[:-1]
    n_lanes = int(link_nlanes.sum())
    lane_link = np.repeat(np.arange(n_links, dtype=np.int32), link_nlanes)
    lane_index = (np.arange(n_lanes, dtype=np.int32) - link_first_lane[lane_link]).astype(np.int32)
    link_len = np.array([lk.length for lk in net.links], np.float64)
    link_speed = np.array([lk.speed for lk in net.links], np.float64)
    lane_len = link_len[lane_link].copy()
    lane_speed = link_speed[lane_link].copy()
    lane_left = np.where(lane_index + 1 < link_nlanes[lane_link], np.arange(n_lanes) + 1, -1).astype(np.int32)
    lane_right = np.where(lane_index > 0, np.arange(n_lanes) - 1, -1).astype(np.int32)

    # Signal controllers and slots.
    prog_by_node = {p.node: p for p in net.signals}
    ctrl_nodes = [n.id for n in net.nodes if n.control == "signal"]
    ctrl_offset, ctrl_cycle, ctrl_phase_start = [], [], [0]
    phase_end, phase_state_start, phase_states = [], [], []
    slot_ctrl, slot_index, slot_base = [], [], {}
    ctrl_kind, ctrl_max_gap, ctrl_det_gap = [], [], []
    phase_min, phase_max, phase_next, phase_green = [], [], [], []
    for c, nid in enumerate(ctrl_nodes):
        prog = prog_by_node[nid]
        width = len(prog.phases[0].state)
        slot_base[nid] = len(slot_ctrl)
        slot_ctrl += [c] * width
        slot_index += list(range(width))
        ctrl_offset.append(prog.offset)
        ctrl_cycle.append(prog.cycle)
        ctrl_kind.append(PROGRAM_CODES[prog.kind])
        ctrl_max_gap.append(prog.max_gap)
        ctrl_det_gap.append(prog.detector_gap)
        t = 0.0
        first = len(phase_end)
        for ph in prog.phases:
            t += ph.duration
            phase_end.append(t)
            phase_state_start.append(len(phase_states))
            phase_states += [STATE_CODES[ch] for ch in ph.state]
            phase_min.append(ph.duration if ph.min_dur is None else ph.min_dur)
            phase_max.append(ph.duration if ph.max_dur is None else ph.max_dur)
            phase_next.append(first + ph.next if ph.next >= 0 else -1)
            phase_green.append(1 if any(ch in "Gg" for ch in ph.state) and "y" not in ph.state else 0)
        ctrl_phase_start.append(len(phase_end))

    # Movements sorted by from-lane.
    def lane_of(link_id: str, k: int) -> int:
        return int(link_first_lane[lidx[link_id]]) + k

    mvs = sorted(net.movements, key=lambda m: (lane_of(m.from_link, m.from_lane), lidx[m.to_link], m.to_lane))
    n_mv = len(mvs)
    mv_from_lane = np.array([lane_of(m.from_link, m.from_lane) for m in mvs], np.int32)
    mv_to_lane = np.array([lane_of(m.to_link, m.to_lane) for m in mvs], np.int32)
    mv_to_link = np.array([lidx[m.to_link] for m in mvs], np.int32)
    mv_node = np.array([nidx[m.node] for m in mvs], np.int32)
    mv_kind = np.array([KIND_CODES[m.kind] for m in mvs], np.int8)
    mv_len = np.array([m.length for m in mvs], np.float64)
    mv_speed = np.array([np.inf if m.speed is None else m.speed for m in mvs], np.float64)
    mv_sig = np.array([slot_base[m.node] + m.signal_index if m.signal_index >= 0 and m.node in slot_base
                       else -1 for m in mvs], np.int32)
    lane_mv_start = np.searchsorted(mv_from_lane, np.arange(n_lanes + 1)).astype(np.int32)
    # Movements by to-lane (stable: by from-lane within one to-lane), for the crossing pass.
    lane_in_mv = np.argsort(mv_to_lane, kind="stable").astype(np.int32)
    lane_in_start = np.searchsorted(mv_to_lane[lane_in_mv], np.arange(n_lanes + 1)).astype(np.int32)
    # The mean length (m) of the movements into each lane: an imported link's first metres stand
    # for the junction before it (kernels.road.follow's keep-clear rule). Summed in lane_in_mv order.
    lane_in_len = np.zeros(n_lanes, np.float64)
    np.add.at(lane_in_len, mv_to_lane[lane_in_mv], mv_len[lane_in_mv])
    n_in = np.diff(lane_in_start)
    lane_in_len[n_in > 0] /= n_in[n_in > 0]

    # Conflicts between movements of one node, from node geometry: chords of a circle around the
    # node (incoming approaches slightly counter-clockwise of their road, outgoing slightly
    # clockwise, as in right-hand traffic) cross, or the movements merge into one link.
    node_x = np.array([n.x for n in net.nodes], np.float64)
    node_y = np.array([n.y for n in net.nodes], np.float64)
    eps = 1e-3
    mv_in_angle = np.empty(n_mv)
    mv_out_angle = np.empty(n_mv)
    mv_from_link = lane_link[mv_from_lane] if n_mv else np.zeros(0, np.int32)
    for k, m in enumerate(mvs):
        nd = nidx[m.node]
        fl = net.links[lidx[m.from_link]]
        tl = net.links[lidx[m.to_link]]
        u, w = nidx[fl.from_node], nidx[tl.to_node]
        mv_in_angle[k] = _angle(node_x[u] - node_x[nd], node_y[u] - node_y[nd]) + eps
        mv_out_angle[k] = _angle(node_x[w] - node_x[nd], node_y[w] - node_y[nd]) - eps
    by_node: dict[int, list[int]] = {}
    for k in range(n_mv):
        by_node.setdefault(int(mv_node[k]), []).append(k)
    foes: list[list[int]] = [[] for _ in range(n_mv)]
    two_pi = 2.0 * math.pi
    for ks_list in by_node.values():
        ks = np.array(ks_list)
        ain, aout = mv_in_angle[ks], mv_out_angle[ks]
        span = (aout - ain) % two_pi  # the counter-clockwise arc of each chord

        def inside(x: np.ndarray, ain: np.ndarray = ain, span: np.ndarray = span) -> np.ndarray:
            r = (x[None, :] - ain[:, None]) % two_pi
            return (r > 0.0) & (r < span[:, None])

        # Two chords cross when exactly one end of the second lies on the first's arc.
        crosses = inside(ain) != inside(aout)
        merges = mv_to_link[ks][:, None] == mv_to_link[ks][None, :]
        conflict = (crosses | merges) & (mv_from_link[ks][:, None] != mv_from_link[ks][None, :])
        np.fill_diagonal(conflict, False)
        for q, x in enumerate(ks_list):
            foes[x] = ks[conflict[q]].tolist()
    # Movements that carry their node's own right-of-way relation (SUMO's request tables): their
    # foes are exactly the movements they yield to, whatever those movements' kinds.
    mv_resp = np.zeros(n_mv, np.int8)
    if any(m.yields_to is not None for m in mvs):
        index = {(m.from_link, m.from_lane, m.to_link, m.to_lane): k for k, m in enumerate(mvs)}
        for k, m in enumerate(mvs):
            if m.yields_to is None:
                continue
            mv_resp[k] = 1
            foes[k] = _node_movements(net, mvs, index, m, m.yields_to, "yields to", "yields_to")
    mv_foe_start = np.zeros(n_mv + 1, np.int32)
    mv_foe_start[1:] = np.cumsum([len(f) for f in foes]) if n_mv else []
    mv_keep_clear = np.array([m.keep_clear for m in mvs], np.int8)
    # A foe is stored as its rank among the movements of the node (one byte; netcheck caps a node
    # at MAX_NODE_MOVEMENTS): node_mv[node_mv_start[node] + rank] is the movement. Foe lists are
    # most of the network's memory otherwise (some 7 foes of 4 bytes per movement on a grid).
    node_mv = np.argsort(mv_node, kind="stable").astype(np.int32)
    node_mv_start = np.searchsorted(mv_node[node_mv], np.arange(len(net.nodes) + 1)).astype(np.int32)
    rank = np.empty(n_mv, np.int64)
    rank[node_mv] = np.arange(n_mv) - node_mv_start[mv_node[node_mv]]
    mv_foes = rank[np.array([y for f in foes for y in f], np.int64)].astype(np.uint8)
    # Movements that wait inside the junction (SUMO's internal junctions): the distance from the
    # line to the waiting position (m) and the foes judged there (CSR, ranks as above); without a
    # list of their own, the foes at the line.
    mv_wait = np.array([m.wait for m in mvs], np.float64)
    foes2: list[list[int]] = [[] for _ in range(n_mv)]
    if mv_wait.any():
        index = {(m.from_link, m.from_lane, m.to_link, m.to_lane): k for k, m in enumerate(mvs)}
        for k, m in enumerate(mvs):
            if not (math.isfinite(m.wait) and 0.0 <= m.wait <= m.length):
                raise InputError(f"movement {m.from_link}:{m.from_lane} -> {m.to_link}:{m.to_lane} waits "
                                 f"{m.wait} m inside the junction, outside 0 .. its length {m.length} m",
                                 source=net.source, element=f"node '{m.node}'",
                                 fix="give wait between 0 and the movement's length (m)")
            if m.wait <= 0.0:
                continue
            foes2[k] = (list(foes[k]) if m.waits_for is None else
                        _node_movements(net, mvs, index, m, m.waits_for, "waits for", "waits_for"))
    mv_foe2_start = np.zeros(n_mv + 1, np.int32)
    mv_foe2_start[1:] = np.cumsum([len(f) for f in foes2]) if n_mv else []
    mv_foes2 = rank[np.array([y for f in foes2 for y in f], np.int64)].astype(np.uint8)

    phase_det_start, phase_det, det_pos, lane_det = _detectors(
        net, ctrl_nodes, prog_by_node, slot_base, mvs, mv_from_lane, lane_len, lane_speed, lane_link,
        link_nlanes, len(phase_end))
    ctrl_lane_start, ctrl_lane, ctrl_lane_slot, lane_dz = _delay_zones(
        ctrl_nodes, prog_by_node, slot_base, mvs, mv_from_lane, lane_len)

    # Link successor graph (for routing).
    nxt: list[set[int]] = [set() for _ in range(n_links)]
    for k in range(n_mv):
        nxt[int(lane_link[mv_from_lane[k]])].add(int(mv_to_link[k]))
    link_next_start = np.zeros(n_links + 1, np.int32)
    link_next_start[1:] = np.cumsum([len(s) for s in nxt]) if n_links else []
    link_next = np.array([y for s in nxt for y in sorted(s)], np.int32)

    arrays = NetArrays(
        lane_link=lane_link, lane_index=lane_index, lane_len=lane_len, lane_speed=lane_speed,
        lane_left=lane_left, lane_right=lane_right, lane_mv_start=lane_mv_start,
        mv_from_lane=mv_from_lane, mv_to_lane=mv_to_lane, mv_to_link=mv_to_link, mv_node=mv_node,
        mv_kind=mv_kind, mv_sig=mv_sig, mv_resp=mv_resp, mv_len=mv_len, mv_speed=mv_speed,
        mv_keep_clear=mv_keep_clear,
        mv_foe_start=mv_foe_start,
        mv_foes=mv_foes, mv_wait=mv_wait, mv_foe2_start=mv_foe2_start, mv_foes2=mv_foes2,
        node_mv_start=node_mv_start, node_mv=node_mv,
        lane_in_start=lane_in_start, lane_in_mv=lane_in_mv, lane_in_len=lane_in_len,
        link_first_lane=link_first_lane, link_nlanes=link_nlanes, link_len=link_len,
        link_speed=link_speed,
        link_from_node=np.array([nidx[lk.from_node] for lk in net.links], np.int32),
        link_to_node=np.array([nidx[lk.to_node] for lk in net.links], np.int32),
        link_next_start=link_next_start, link_next=link_next,
        ctrl_offset=np.array(ctrl_offset, np.float64), ctrl_cycle=np.array(ctrl_cycle, np.float64),
        ctrl_phase_start=np.array(ctrl_phase_start, np.int32), phase_end=np.array(phase_end, np.float64),
        phase_state_start=np.array(phase_state_start, np.int32),
        phase_states=np.array(phase_states, np.int8),
        slot_ctrl=np.array(slot_ctrl, np.int32), slot_index=np.array(slot_index, np.int32),
        ctrl_kind=np.array(ctrl_kind, np.int8),
        ctrl_link=np.array([next((k for k, lk in enumerate(net.links) if lk.to_node == nid), -1)
                            for nid in ctrl_nodes], np.int32),
        ctrl_max_gap=np.array(ctrl_max_gap, np.float64),
        ctrl_det_gap=np.array(ctrl_det_gap, np.float64), phase_min=np.array(phase_min, np.float64),
        phase_max=np.array(phase_max, np.float64), phase_next=np.array(phase_next, np.int32),
        phase_green=np.array(phase_green, np.int8), phase_det_start=phase_det_start, phase_det=phase_det,
        det_pos=det_pos, lane_det=lane_det,
        ctrl_min_tloss=np.array([prog_by_node[nid].min_time_loss for nid in ctrl_nodes], np.float64),
        ctrl_extend_max=np.array([prog_by_node[nid].extend_max_dur for nid in ctrl_nodes], np.int8),
        ctrl_lane_start=ctrl_lane_start, ctrl_lane=ctrl_lane, ctrl_lane_slot=ctrl_lane_slot, lane_dz=lane_dz,
        node_x=node_x, node_y=node_y,
        node_control=np.array([CONTROL_CODES[n.control] for n in net.nodes], np.int8),
    )
    if n_lanes == 0:
        raise InputError("the network has no lanes", source=net.source, fix="add links")
    return CompiledNetwork(network=net, arrays=arrays, node_ids=node_ids, link_ids=link_ids, link_index=lidx)


def _detectors(net: Network, ctrl_nodes: list[str], prog_by_node: dict, slot_base: dict[str, int],
               mvs: list, mv_from_lane: np.ndarray, lane_len: np.ndarray, lane_speed: np.ndarray,
               lane_link: np.ndarray, link_nlanes: np.ndarray, n_phases: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Detectors of the actuated controllers, as SUMO's ``MSActuatedTrafficLightLogic::init``
    places and assigns them: one induction loop per incoming lane that has green in an actuated
    phase (``minDur < maxDur``), ``min(detector_gap · speed limit, (minDur / passing_time + 0.5)
    · 7.5 m)`` before the stop line (at the lane start if the lane is shorter; SUMO would move it
    to a single upstream lane); a phase is extended by the loops of the lanes all of whose
    signal indices are green in it (``G``, or ``g`` where that index never gets ``G`` or is a
    U-turn, and a ``G`` index serves the same lane, or the lane's road has one lane). Returns
    ``(phase_det_start, phase_det, det_pos, lane_det)``."""
    n_lanes = lane_len.shape[0]
    lane_det = np.full(n_lanes, -1, np.int32)
    det_pos: list[float] = []
    per_phase: list[list[int]] = [[] for _ in range(n_phases)]
    by_node: dict[str, list[int]] = {}
    for k, m in enumerate(mvs):
        if m.signal_index >= 0 and m.node in slot_base:
            by_node.setdefault(m.node, []).append(k)
    first_phase = 0
    for nid in ctrl_nodes:
        prog = prog_by_node[nid]
        p0 = first_phase
        first_phase += len(prog.phases)
        if prog.kind != "actuated":
            continue
        width = len(prog.phases[0].state)
        lanes_at: list[set[int]] = [set() for _ in range(width)]
        turn_only = [True] * width
        slots_of: dict[int, set[int]] = {}
        for k in by_node.get(nid, []):
            i, lane = mvs[k].signal_index, int(mv_from_lane[k])
            lanes_at[i].add(lane)
            turn_only[i] = turn_only[i] and mvs[k].turn == "t"
            slots_of.setdefault(lane, set()).add(i)
        states = [ph.state for ph in prog.phases]
        never_major = [all(st[i] != "G" for st in states) for i in range(width)]
        one_lane = [any(link_nlanes[lane_link[q]] == 1 for q in lanes_at[i]) for i in range(width)]
        mins = [ph.duration if ph.min_dur is None else ph.min_dur for ph in prog.phases]
        maxs = [ph.duration if ph.max_dur is None else ph.max_dur for ph in prog.phases]
        actuated = [lo != hi for lo, hi in zip(mins, maxs, strict=True)]
        own: dict[int, int] = {}
        for lane in sorted(slots_of):
            green_min = [mins[p] for p, st in enumerate(states)
                         if actuated[p] and any(st[i] in "Gg" for i in slots_of[lane])]
            if not green_min:
                continue  # SUMO builds a loop only where it serves an actuated phase
            back = min(prog.detector_gap * float(lane_speed[lane]),
                       (min(green_min) / prog.passing_time + 0.5) * QUEUED_VEHICLE_LENGTH)
            own[lane] = len(det_pos)
            lane_det[lane] = len(det_pos)
            det_pos.append(max(float(lane_len[lane]) - back, 0.0))
        for p, st in enumerate(states):
            if not actuated[p]:
                continue
            majors = {q for i in range(width) if st[i] == "G" for q in lanes_at[i]}
            green = {i for i in range(width)
                     if st[i] == "G" or (st[i] == "g" and (((never_major[i] or turn_only[i])
                                                           and lanes_at[i] & majors) or one_lane[i]))}
            per_phase[p0 + p] = [d for lane, d in own.items() if slots_of[lane] <= green]
    phase_det_start = np.zeros(n_phases + 1, np.int32)
    phase_det_start[1:] = np.cumsum([len(x) for x in per_phase]) if n_phases else []
    phase_det = np.array([d for x in per_phase for d in x], np.int32)
    return phase_det_start, phase_det, np.array(det_pos, np.float64), lane_det


def _delay_zones(ctrl_nodes: list[str], prog_by_node: dict, slot_base: dict[str, int], mvs: list,
                 mv_from_lane: np.ndarray, lane_len: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The detectors of the delay-based controllers, as SUMO's
    ``MSDelayBasedTrafficLightLogic::init`` builds them: a lane-area detector over the last
    ``detector_range`` m of every incoming lane of a controlled movement (the whole lane if it is
    shorter). Returns ``(ctrl_lane_start, ctrl_lane, ctrl_lane_slot, lane_dz)``: per controller
    its distinct (global signal slot, incoming lane) pairs in slot order, and per lane where its
    zone starts (m from the lane start; +inf for lanes without one)."""
    lane_dz = np.full(lane_len.shape[0], np.inf, np.float64)
    pairs: list[list[tuple[int, int]]] = [[] for _ in ctrl_nodes]
    cidx = {nid: c for c, nid in enumerate(ctrl_nodes)}
    for k, m in enumerate(mvs):
        c = cidx.get(m.node)
        if c is None or m.signal_index < 0 or prog_by_node[m.node].kind != "delay_based":
            continue
        lane = int(mv_from_lane[k])
        pair = (slot_base[m.node] + m.signal_index, lane)
        if pair not in pairs[c]:
            pairs[c].append(pair)
        lane_dz[lane] = max(float(lane_len[lane]) - prog_by_node[m.node].detector_range, 0.0)
    for x in pairs:
        x.sort()
    start = np.zeros(len(ctrl_nodes) + 1, np.int32)
    start[1:] = np.cumsum([len(x) for x in pairs]) if ctrl_nodes else []
    slots = np.array([s for x in pairs for s, _ in x], np.int32)
    lanes = np.array([q for x in pairs for _, q in x], np.int32)
    return start, lanes, slots, lane_dz


def signal_start(cn: CompiledNetwork, begin: float, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial state of the actuated controllers at ``begin`` (s): ``(phase, since, next_try)``,
    the global phase index, when it started (s) and when the controller first decides (s). As
    SUMO: the program starts in the phase its offset gives (advanced through the phase
    durations), and the first decision comes after that phase's ``minDur`` (as after every
    switch), counted from one step (``dt`` s) before ``begin``, whatever the offset: measured in
    SUMO 1.28: the first switch of a 5 s minDur phase comes at 4.9, 4.5 and 4.0 s with steps of
    0.1, 0.5 and 1 s (its tlsStates output shows each switch one step later, at 5 s), and at
    104 s with begin 100 s and a 1 s step. Static controllers get -1 (their state is a
    function of time)."""
    a = cn.arrays
    n = a.ctrl_kind.shape[0]
    phase = np.full(n, -1, np.int32)
    since = np.zeros(n, np.float64)
    try_at = np.zeros(n, np.float64)
    for c in range(n):
        if a.ctrl_kind[c] == PROGRAM_CODES["static"]:
            continue
        p0, p1 = int(a.ctrl_phase_start[c]), int(a.ctrl_phase_start[c + 1])
        dur = np.diff(np.concatenate(([0.0], a.phase_end[p0:p1])))
        cyc = float(dur.sum())
        off = float(a.ctrl_offset[c])
        run = (begin + cyc - off % cyc) % cyc if off >= 0 else (begin + (-off) % cyc) % cyc
        p = 0
        while run >= dur[p] and p < len(dur) - 1:
            run -= dur[p]
            p += 1
        phase[c] = p0 + p
        since[c] = begin - dt
        # SUMO's actuated logic first decides after the phase's minDur, not its duration
        try_at[c] = since[c] + max(1.0, float(a.phase_min[p0 + p]))
    return phase, since, try_at
