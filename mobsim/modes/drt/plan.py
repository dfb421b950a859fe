"""An on-demand service as a scenario describes it: the ``[drt]`` section (the service's rules,
its fleets and its ride requests), checked with errors that name the table, the element and the
fix.

```toml
[drt]
dispatch = "insertion"   # insertion | batch | greedy (SUMO's taxi dispatch "greedy") | "pkg.mod:Class"
period = 0.0             # s between dispatch calls; 0: every step in which a request comes in
max_wait = 600.0         # s from the request (or its earliest pick-up) to the pick-up, at most
alpha = 1.5              # the latest drop-off: request time + alpha * direct time + beta
beta = 300.0             # s; max_wait and beta may be inf: no deadline (SUMO's taxis have none)
stop_time = 30.0         # s a vehicle halts at every pick-up and drop-off (the persons board or alight)
pickup_time = 30.0       # s at a pick-up (default: stop_time)
dropoff_time = 30.0      # s at a drop-off (default: stop_time); the persons have arrived at its end
rebalancing = "none"     # none | depot (an idle vehicle drives back to its depot)
stop_in_lane = false     # true: pick-ups and drop-offs halt in the lane (the traffic waits or
                         # changes lanes); false: at the curb, off the lane (SUMO's taxis); idle
                         # vehicles always park at the curb
travel_time_update = 300.0  # s between refreshes of the dispatcher's link travel times
requests_file = "requests.csv"  # id,time,from,to[,group,earliest,from_pos,to_pos]

[[drt.fleets]]
id = "shuttles"
vehicles = 10            # how many
depots = ["L12", "L40"]  # links the vehicles start from (round robin) and return to
capacity = 4             # seats
vtype = "shuttle"        # a vehicle type of the scenario; default the built-in automated shuttle
start = 0.0              # s, service hours
end = 86400.0

[[drt.requests]]         # or requests inline, one table each
id = "r1"
time = 60.0
from = "L3"
to = "L77"

[[drt.rates]]            # or Poisson requests between zones (a link, or a list of links)
from = ["L3", "L4", "L5"]
to = ["L70", "L77"]
per_hour = 120.0
begin = 0.0              # s
end = 3600.0
group = 1
```

Requests from rates are drawn with the scenario's seed (``sim.seed``): exponential gaps at the
rate, origin and destination links uniform within their zones (never the same link), ids
``rate<k>.<n>``.

A request's ``from_pos`` / ``to_pos`` (m along the link) is where the vehicle halts with its
front; the default is the middle of the link, at least one vehicle length from its start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.config_tables import table_error, table_id, table_keys, table_list, table_number

DRT_INPUT_KEYS = ("dispatch", "period", "max_wait", "alpha", "beta", "stop_time", "pickup_time",
                  "dropoff_time", "rebalancing", "stop_in_lane", "travel_time_update", "requests_file",
                  "fleets", "requests", "rates")
_RATE_KEYS = ("from", "to", "per_hour", "begin", "end", "group")
_FLEET_KEYS = ("id", "vehicles", "depots", "depot", "capacity", "vtype", "start", "end")
_REQUEST_KEYS = ("id", "time", "from", "to", "group", "earliest", "from_pos", "to_pos")
DISPATCHERS = ("insertion", "batch", "greedy")
REBALANCING = ("none", "depot")
#: Most vehicles and requests a scenario may hold (the run's arrays hold a few hundred bytes each).
MAX_VEHICLES = 1_000_000
MAX_REQUESTS = 50_000_000


@dataclass(frozen=True)
class DrtService:
    """The rules of the service (times in s; see the module docstring)."""

    dispatch: str = "insertion"
    period: float = 0.0
    max_wait: float = 600.0
    alpha: float = 1.5
    beta: float = 300.0
    stop_time: float = 30.0
    pickup_time: float = 30.0
    dropoff_time: float = 30.0
    rebalancing: str = "none"
    stop_in_lane: bool = False
    travel_time_update: float = 300.0


@dataclass(frozen=True)
class DrtVehicle:
    """One vehicle of a fleet: its depot link, seats, vehicle type and service hours (s)."""

    id: str
    depot: str
    capacity: int
    vtype: str
    start: float
    end: float


@dataclass
class DrtRequests:
    """Ride requests as arrays: id, request time (s), origin and destination link ids and the
    positions there (m; NaN: the default), group size, earliest pick-up (s)."""

    id: np.ndarray
    time: np.ndarray
    origin: np.ndarray
    origin_pos: np.ndarray
    destination: np.ndarray
    destination_pos: np.ndarray
    group: np.ndarray
    earliest: np.ndarray

    def __len__(self) -> int:
        return len(self.id)


@dataclass
class DrtPlan:
    """A checked ``[drt]`` section."""

    service: DrtService
    vehicles: list[DrtVehicle]
    requests: DrtRequests
    config: dict[str, Any] = field(default_factory=dict, repr=False)


def _err(msg: str, source: str, element: str, fix: str) -> Exception:
    return table_error(msg, source, element, fix)


def _limit(cfg: dict, key: str, default: float, source: str, element: str) -> float:
    """A deadline's slack (s, >= 0), or ``inf``: no deadline."""
    if cfg.get(key) == math.inf:
        return math.inf
    return table_number(cfg, key, default, source, element, minimum=0.0)


def load_drt(cfg: dict, network: Any, vtype_ids: list[str], base_dir: Path, source: str,
             files: list[Path], warnings: list[str] | None = None, seed: int = 0) -> DrtPlan:
    """The checked :class:`DrtPlan` of a scenario's ``[drt]`` section ``cfg`` (``seed``: the
    scenario's, for requests drawn from rates)."""
    table_keys(cfg, DRT_INPUT_KEYS, source, "drt")
    el = "drt"
    dispatch = cfg.get("dispatch", "insertion")
    if isinstance(dispatch, str) and ":" in dispatch:
        _own_dispatcher(dispatch, source)
    elif dispatch not in DISPATCHERS:
        raise _err(f"dispatch = {dispatch!r} is not a dispatcher", source, "drt.dispatch",
                   f"give one of {', '.join(DISPATCHERS)}, or your own as \"package.module:Class\"")
    rebal = cfg.get("rebalancing", "none")
    if rebal not in REBALANCING:
        raise _err(f"rebalancing = {rebal!r} is not known", source, "drt.rebalancing",
                   f"give one of {', '.join(REBALANCING)}")
    alpha = table_number(cfg, "alpha", 1.5, source, el)
    if alpha < 1.0:
        raise _err(f"alpha = {alpha:g} is below 1: no ride could be as fast as the direct one", source,
                   "drt.alpha", "give alpha >= 1")
    stop = table_number(cfg, "stop_time", 30.0, source, el, minimum=0.0)
    in_lane = cfg.get("stop_in_lane", False)
    if not isinstance(in_lane, bool):
        raise _err(f"stop_in_lane = {in_lane!r} is not true or false", source, "drt.stop_in_lane",
                   "give stop_in_lane = true or false")
    service = DrtService(
        dispatch=dispatch, period=table_number(cfg, "period", 0.0, source, el, minimum=0.0),
        max_wait=_limit(cfg, "max_wait", 600.0, source, el), alpha=alpha,
        beta=_limit(cfg, "beta", 300.0, source, el),
        stop_time=stop, pickup_time=table_number(cfg, "pickup_time", stop, source, el, minimum=0.0),
        dropoff_time=table_number(cfg, "dropoff_time", stop, source, el, minimum=0.0), rebalancing=rebal,
        stop_in_lane=in_lane,
        travel_time_update=table_number(cfg, "travel_time_update", 300.0, source, el, positive=True))
    links = {lk.id: lk for lk in network.links}
    vehicles: list[DrtVehicle] = []
    seen: set[str] = set()
    fleets = table_list(cfg, "fleets", source, "drt")
    if not fleets:
        raise _err("no fleet", source, "drt.fleets",
                   'add a [[drt.fleets]] table, e.g. id = "shuttles", vehicles = 10, depots = ["<link id>"]')
    for n, row in enumerate(fleets):
        fel = f"drt.fleets[{n}]"
        table_keys(row, _FLEET_KEYS, source, fel)
        fid = table_id(row, source, fel, seen)
        fel = f"drt fleet '{fid}'"
        count = table_number(row, "vehicles", None, source, fel, minimum=1)
        if count != int(count) or len(vehicles) + count > MAX_VEHICLES:
            raise _err(f"vehicles = {count:g} is not a whole number up to {MAX_VEHICLES:,} in all", source,
                       f"{fel}.vehicles", "give a whole number of vehicles")
        depots = row.get("depots", [row["depot"]] if "depot" in row else None)
        if isinstance(depots, str):
            depots = [depots]
        if not isinstance(depots, list) or not depots:
            raise _err("no depot", source, f"{fel}.depots", 'give depots = ["<link id>", ...]')
        for d in depots:
            if d not in links:
                raise _err(f"unknown link {d!r}", source, f"{fel}.depots", "give the ids of network links")
        cap = table_number(row, "capacity", 4, source, fel, minimum=1)
        if cap != int(cap):
            raise _err(f"capacity = {cap:g} is not a whole number", source, f"{fel}.capacity",
                       "give the number of seats")
        vtype = row.get("vtype", "shuttle")
        if vtype not in vtype_ids:
            raise _err(f"unknown vehicle type {vtype!r}", source, f"{fel}.vtype",
                       f"give one of {', '.join(vtype_ids)}")
        start = table_number(row, "start", 0.0, source, fel, minimum=0.0)
        end = float(row.get("end", math.inf))
        if isinstance(row.get("end"), bool) or not end > start:
            raise _err(f"end = {row.get('end')!r} is not after start = {start:g} s", source, f"{fel}.end",
                       "give the end of the service hours in s after its start")
        for k in range(int(count)):
            vehicles.append(DrtVehicle(f"{fid}.{k}", depots[k % len(depots)], int(cap), vtype, start, end))
    requests = _requests(cfg, links, base_dir, source, files, seed)
    big = max(v.capacity for v in vehicles)
    if len(requests) and int(requests.group.max()) > big:
        k = int(np.argmax(requests.group))
        raise _err(f"request '{requests.id[k]}' is for {int(requests.group[k])} persons; the largest vehicle "
                   f"has {big} seats", source, f"drt request '{requests.id[k]}'",
                   "split the group or give a fleet more capacity")
    return DrtPlan(service, vehicles, requests, dict(cfg))


def _own_dispatcher(spec: str, source: str) -> Any:
    """The class a scenario names as its dispatcher (``"package.module:Class"``): it is made with no
    arguments and implements :class:`mobsim.modes.drt.dispatch.Dispatcher`."""
    from mobsim.named import resolve

    try:
        cls = resolve(spec)
    except (ImportError, AttributeError, ValueError) as e:
        raise _err(f"dispatch = {spec!r} cannot be imported: {e}", source, "drt.dispatch",
                   "give an importable \"package.module:Class\" (on PYTHONPATH)") from None
    if not callable(getattr(cls, "dispatch", None)):
        raise _err(f"dispatch = {spec!r} has no dispatch method", source, "drt.dispatch",
                   "implement dispatch(fleet, requests, tt, dwell, loop) "
                   "(mobsim.modes.drt.dispatch.Dispatcher)")
    return cls


def _rate_rows(cfg: dict, links: dict[str, Any], source: str, seed: int) -> list[tuple]:
    """Requests drawn from ``[[drt.rates]]`` (module docstring), as rows of :func:`_requests`."""
    rows: list[tuple] = []
    for k, row in enumerate(table_list(cfg, "rates", source, "drt")):
        el = f"drt.rates[{k}]"
        table_keys(row, _RATE_KEYS, source, el)
        zones = []
        for key in ("from", "to"):
            z = row.get(key)
            z = [z] if isinstance(z, str) else z
            if not isinstance(z, list) or not z or not all(isinstance(x, str) for x in z):
                raise _err(f"{key} = {row.get(key)!r} is not a link or a list of links", source,
                           f"{el}.{key}", f'give {key} = "<link id>" or {key} = ["<link id>", ...]')
            for x in z:
                if x not in links:
                    raise _err(f"unknown link {x!r}", source, f"{el}.{key}", "give the ids of network links")
            zones.append(z)
        if len(zones[0]) == 1 and zones[0] == zones[1]:
            raise _err("from and to are the same single link", source, el, "give zones with other links")
        rate = table_number(row, "per_hour", None, source, el, positive=True)
        begin = table_number(row, "begin", 0.0, source, el, minimum=0.0)
        end = table_number(row, "end", begin + 3600.0, source, el)
        group = table_number(row, "group", 1, source, el, minimum=1)
        if not end > begin:
            raise _err(f"end = {end:g} s is not after begin = {begin:g} s", source, f"{el}.end",
                       "give end > begin")
        expected = rate * (end - begin) / 3600.0
        if expected > MAX_REQUESTS:
            raise _err(f"about {expected:,.0f} requests; at most {MAX_REQUESTS:,}", source, el,
                       "lower per_hour or shorten begin..end")
        rng = np.random.default_rng([int(seed), 0x0D27, k])
        n = int(rng.poisson(expected))
        times = np.sort(rng.uniform(begin, end, n))
        o = rng.integers(0, len(zones[0]), n)
        d = rng.integers(0, len(zones[1]), n)
        for q in range(n):
            a, b = zones[0][o[q]], zones[1][d[q]]
            while a == b:  # never within one link: draw the destination again
                b = zones[1][int(rng.integers(0, len(zones[1])))]
            rows.append((f"rate{k}.{q}", float(times[q]), a, math.nan, b, math.nan, int(group), math.nan, el))
    return rows


def _requests(cfg: dict, links: dict[str, Any], base_dir: Path, source: str, files: list[Path],
              seed: int = 0) -> DrtRequests:
    """The requests inline (``[[drt.requests]]``), from ``requests_file`` and from rates
    (``[[drt.rates]]``), by time then id."""
    rows: list[tuple[str, float, str, float, str, float, int, float, str]] = _rate_rows(
        cfg, links, source, seed)
    for n, row in enumerate(table_list(cfg, "requests", source, "drt")):
        el = f"drt.requests[{n}]"
        table_keys(row, _REQUEST_KEYS, source, el)
        rid = row.get("id", f"r{n}")
        rows.append((str(rid), table_number(row, "time", None, source, el, minimum=0.0),
                     row.get("from"), float(row.get("from_pos", math.nan)), row.get("to"),
                     float(row.get("to_pos", math.nan)), table_number(row, "group", 1, source, el, minimum=1),
                     float(row.get("earliest", math.nan)), el))
    if "requests_file" in cfg:
        from mobsim.demand.trip_tables import float_cell, read_csv

        path = base_dir / str(cfg["requests_file"])
        name = str(path)
        header, body = read_csv(path, name, ("time", "from", "to"),
                                ("id", "group", "earliest", "from_pos", "to_pos"), files)
        if len(body) + len(rows) > MAX_REQUESTS:
            raise _err(f"{len(body):,} requests; at most {MAX_REQUESTS:,}", name, "requests",
                       "split the day into several runs")
        for line, r in body:
            rows.append((r.get("id") or f"line{line}", float_cell(r, "time", name, line),
                         r["from"], float_cell(r, "from_pos", name, line, default=math.nan),
                         r["to"], float_cell(r, "to_pos", name, line, default=math.nan),
                         int(float_cell(r, "group", name, line, minimum=1.0, default=1.0)),
                         float_cell(r, "earliest", name, line, default=math.nan), f"{name}, line {line}"))
    ids: set[str] = set()
    for rid, _t, o, op, d, dp, g, _e, el in rows:
        if rid in ids:
            raise _err(f"request id '{rid}' is used twice", source, el, "give every request its own id")
        ids.add(rid)
        for what, lk, pos in (("from", o, op), ("to", d, dp)):
            if lk not in links:
                raise _err(f"{what} = {lk!r} is not a link of the network", source, el,
                           f"give {what} = the id of a network link")
            if not math.isnan(pos) and not 0.0 <= pos <= float(links[lk].length) + 1e-6:
                raise _err(f"{what}_pos = {pos:g} m is not on link '{lk}' ({float(links[lk].length):g} m)",
                           source, el, f"give a position between 0 and {float(links[lk].length):g} m")
        if g != int(g):
            raise _err(f"group = {g:g} is not a whole number", source, el, "give the number of persons")
    rows.sort(key=lambda r: (r[1], r[0]))
    col = list(zip(*rows, strict=True)) if rows else [()] * 9
    t = np.array(col[1], np.float64)
    early = np.array(col[7], np.float64)
    return DrtRequests(
        id=np.array(col[0], dtype=object), time=t, origin=np.array(col[2], dtype=object),
        origin_pos=np.array(col[3], np.float64), destination=np.array(col[4], dtype=object),
        destination_pos=np.array(col[5], np.float64), group=np.array(col[6], np.int64),
        earliest=np.where(np.isnan(early), t, np.maximum(early, t)) if len(t) else early)
