"""Write the default scenario's zones.csv and od.csv (morning peak on the district network).

Run from the repository root: ``python networks/default/make_demand.py``. Deterministic (no random
numbers): the same files every time. See README.md, section "Demand", for the design.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = COLS = 6
ARTERIALS = (1, 4)  # arterial rows and columns of mobsim.net.generators.district()

# -- zones ---------------------------------------------------------------------------------------
# Boundary gates: every stub node X has an entry link "X-n.." (origin) and an exit link "n..-X"
# (destination). Each arterial stub is its own zone; the local stubs are grouped per side.
STUBS = {f"W{r}": f"n{r}_0" for r in range(ROWS)} | {f"E{r}": f"n{r}_{COLS - 1}" for r in range(ROWS)} \
    | {f"S{c}": f"n0_{c}" for c in range(COLS)} | {f"N{c}": f"n{ROWS - 1}_{c}" for c in range(COLS)}


def _gate_zone(stub: str) -> str:
    return f"gate_{stub}" if int(stub[1:]) in ARTERIALS else f"local_{stub[0]}"


def _both_ways(a: str, b: str) -> list[str]:
    return [f"{a}-{b}", f"{b}-{a}"]


# Internal zones (role both: trips start at the beginning of the link, end at its end).
INTERNAL = {
    # the centre: the local streets around the block between rows 2-3 and columns 2-3, and the
    # streets that lead to it from the four arterials
    "center": _both_ways("n2_2", "n2_3") + _both_ways("n3_2", "n3_3")
    + _both_ways("n2_2", "n3_2") + _both_ways("n2_3", "n3_3")
    + _both_ways("n2_1", "n2_2") + _both_ways("n3_1", "n3_2")
    + _both_ways("n2_3", "n2_4") + _both_ways("n3_3", "n3_4")
    + _both_ways("n1_2", "n2_2") + _both_ways("n1_3", "n2_3")
    + _both_ways("n3_2", "n4_2") + _both_ways("n3_3", "n4_3"),
    # residential quarters: the local streets of the four corner blocks
    "res_sw": _both_ways("n0_0", "n0_1") + _both_ways("n0_0", "n1_0"),
    "res_se": _both_ways("n0_4", "n0_5") + _both_ways("n0_5", "n1_5"),
    "res_nw": _both_ways("n5_0", "n5_1") + _both_ways("n4_0", "n5_0"),
    "res_ne": _both_ways("n5_4", "n5_5") + _both_ways("n4_5", "n5_5"),
}

# -- trip productions (trips in the peak hour) and destination shares ----------------------------
ARTERIAL_GATE_TRIPS = 235.0  # per arterial gate (8 gates)
LOCAL_GATE_TRIPS = 150.0     # per side, over its 4 local stubs
RESIDENTIAL_TRIPS = 240.0    # per residential quarter (4)
CENTER_TRIPS = 160.0

# share of a zone kind's trips going to each destination kind
SPLIT = {
    "gate": {"center": 0.35, "gate": 0.50, "res": 0.15},
    "res": {"center": 0.40, "gate": 0.55, "res": 0.05},
    "center": {"gate": 0.70, "res": 0.30},
}


def _kind(zone: str) -> str:
    if zone == "center":
        return "center"
    return "res" if zone.startswith("res_") else "gate"


def _side(zone: str) -> str:
    return zone.split("_")[1][0]


OPPOSITE = {"W": "E", "E": "W", "S": "N", "N": "S"}


def _gate_weight(o: str, d: str) -> float:
    """Relative attraction of gate d for through traffic from zone o (straight through favoured)."""
    weight = 2.0 if d.startswith("gate_") else 1.0  # arterial gates attract more than local streets
    if _kind(o) == "gate" and _side(d) == OPPOSITE[_side(o)]:
        weight *= 3.0
        if o.startswith("gate_") and d.startswith("gate_") and o[6:] == d[6:]:
            weight *= 2.0  # straight along the same arterial
    if _kind(o) == "gate" and _side(d) == _side(o):
        weight *= 0.2  # in and out on the same side: rare
    return weight


def main() -> None:
    links = {row["link_id"] for row in csv.DictReader((HERE / "net" / "link.csv").open())}
    zones: list[tuple[str, str, float, str]] = []
    for stub, node in STUBS.items():
        zones += [(_gate_zone(stub), f"{stub}-{node}", 1.0, "origin"),
                  (_gate_zone(stub), f"{node}-{stub}", 1.0, "destination")]
    for zone, zlinks in INTERNAL.items():
        zones += [(zone, link, 1.0, "both") for link in zlinks]
    missing = sorted({z[1] for z in zones} - links)
    if missing:
        raise SystemExit(f"links not in net/link.csv: {missing}; regenerate the network first")
    names = list(dict.fromkeys(z[0] for z in zones))

    production = {}
    for z in names:
        production[z] = {"gate": ARTERIAL_GATE_TRIPS if z.startswith("gate_") else LOCAL_GATE_TRIPS,
                         "res": RESIDENTIAL_TRIPS, "center": CENTER_TRIPS}[_kind(z)]
    rows = []
    for o in names:
        for kind, share in SPLIT[_kind(o)].items():
            dests = [d for d in names if d != o and _kind(d) == kind]
            weights = {d: (_gate_weight(o, d) if kind == "gate" else 1.0) for d in dests}
            total = sum(weights.values())
            for d in dests:
                rows.append((o, d, round(production[o] * share * weights[d] / total, 3)))
    rows = [r for r in rows if r[2] > 0]

    with (HERE / "zones.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("zone", "link", "weight", "role"))
        w.writerows((z, link, f"{wt:g}", role) for z, link, wt, role in zones)
    with (HERE / "od.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("origin_zone", "destination_zone", "trips"))
        w.writerows((o, d, f"{t:g}") for o, d, t in rows)
    print(f"{len(names)} zones, {len(rows)} OD pairs, {sum(r[2] for r in rows):.1f} trips")


if __name__ == "__main__":
    main()
