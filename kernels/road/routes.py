"""Routes on the device: one packed turn code per route link, decoded link by link.

A route link is stored as its index among the successors of the link before it
(``N.link_next[N.link_next_start[prev]:N.link_next_start[prev + 1]]``, sorted link ids), packed
at 1, 2, 4 or 8 bits per entry: the narrowest width that holds the network's largest number of
successors of a link (a street grid needs 2 bits). Byte 0 of the pool holds log2 of the width;
entry ``rp`` sits in byte ``1 + rp // per_byte``, low bits first.

Why: with one int32 per link the route pool was most of the GPU memory (519 of 815 bytes per
vehicle at one million vehicles crossing a grid, 130 links each). A vehicle needs a route link
only relative to one it knows: its current link (from its lane), the link it is about to enter,
or the first link of its route (the departure queue it waits in), so no entry is ever decoded
without the link before it. The host keeps the int32 pool (``Simulation.route_links``) for
output and re-routing; :mod:`mobsim.demand.route_codes` encodes it.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, _nrt=False)
def route_code(codes, rp):
    """Turn code of route entry ``rp`` (its index among the successors of the entry before)."""
    lw = int(codes[0])
    per = 3 - lw
    b = int(codes[1 + (rp >> per)])
    sh = (rp & ((1 << per) - 1)) << lw
    return (b >> sh) & ((1 << (1 << lw)) - 1)


@njit(cache=True, _nrt=False)
def route_step(link_next_start, link_next, codes, link, rp):
    """The link of route entry ``rp``, given ``link``, the link of entry ``rp - 1``."""
    return link_next[link_next_start[link] + route_code(codes, rp)]


@njit(cache=True)
def route_link(N, W, link, rp, end):
    """The link of route entry ``rp`` given ``link`` at ``rp - 1``; -1 at or past ``end``."""
    if rp >= end:
        return -1
    return route_step(N.link_next_start, N.link_next, W.route_codes, link, rp)
