"""Packing routes into turn codes for the kernels (see :mod:`mobsim.kernels.road.routes`).

The host keeps routes as int32 link indices (one pool, routes as ``[start, end)`` ranges); the
kernels read a copy packed at 1-8 bits per link. :func:`encode` packs, :func:`decode` unpacks
(tests and diagnostics).
"""

from __future__ import annotations

import numpy as np

from mobsim.errors import InputError


def code_bits_log2(link_next_start: np.ndarray) -> int:
    """log2 of the bits per route entry: the narrowest of 1, 2, 4, 8 bits that holds the largest
    number of successors of any link."""
    deg = int(np.diff(link_next_start).max(initial=1))
    for lw in range(4):
        if deg <= 1 << (1 << lw):
            return lw
    raise InputError(f"a link has {deg} successor links; routes are stored with at most 256",
                     source="network", fix="split the junction so that no link leads to more than 256 links")


def encode(link_next_start: np.ndarray, link_next: np.ndarray, links: np.ndarray, is_start: np.ndarray,
           lw: int | None = None) -> np.ndarray:
    """Pack the route pool ``links`` (int32 link indices) into turn codes (uint8 array, byte 0 the
    width's log2). ``is_start`` marks the entries that start a route: they get code 0 (the kernels
    never decode them: a route's first link is the departure queue's). Every other entry must be
    a successor of the entry before it, else ValueError names the first bad pair."""
    lw = code_bits_log2(link_next_start) if lw is None else lw
    w = 1 << lw
    per = 8 >> lw
    links = np.asarray(links, np.int64)
    n = len(links)
    n_links = len(link_next_start) - 1
    codes = np.zeros(n, np.int64)
    rest = np.nonzero(~np.asarray(is_start, bool))[0]
    rest = rest[rest > 0]
    if len(rest):
        deg = np.diff(link_next_start)
        table = np.repeat(np.arange(n_links, dtype=np.int64), deg) * n_links + link_next
        prev = links[rest - 1]
        key = prev * n_links + links[rest]
        at = np.minimum(np.searchsorted(table, key), max(len(table) - 1, 0))
        bad = np.nonzero(table[at] != key)[0] if len(table) else np.arange(len(key))
        if len(bad):
            q = rest[bad[0]]
            raise ValueError(f"route entry {q}: link {links[q]} does not follow link {links[q - 1]}")
        codes[rest] = at - link_next_start[prev]
    pad = (-n) % per
    c = np.concatenate([codes, np.zeros(pad, np.int64)]).reshape(-1, per)
    packed = (c << (np.arange(per, dtype=np.int64) * w)).sum(axis=1).astype(np.uint8)
    return np.concatenate([np.array([lw], np.uint8), packed])


def decode_codes(codes: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` turn codes of a packed pool, as int64."""
    lw = int(codes[0])
    w = 1 << lw
    per = 8 >> lw
    b = codes[1:].astype(np.int64)
    c = (b[:, None] >> (np.arange(per, dtype=np.int64) * w)) & ((1 << w) - 1)
    return c.reshape(-1)[:n]


def decode(link_next_start: np.ndarray, link_next: np.ndarray, codes: np.ndarray, first: int, start: int,
           end: int) -> np.ndarray:
    """The links of route entries ``[start, end)`` of a packed pool, given the first link."""
    c = decode_codes(codes, end)
    out = np.empty(end - start, np.int64)
    link = first
    for k, rp in enumerate(range(start, end)):
        if k:
            link = int(link_next[link_next_start[link] + c[rp]])
        out[k] = link
    return out
