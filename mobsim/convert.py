"""``mobsim convert``: turn SUMO inputs into a native mobsim scenario folder.

``mobsim convert sumo city.sumocfg --out DIR`` (or ``mobsim convert sumo city.net.xml
city.rou.xml ... --out DIR``) reads the SUMO files as ``mobsim run`` does and writes::

    DIR/scenario.toml     vehicle types, demand and the simulation settings
    DIR/net/              the network as GMNS-style CSV (node, link, movement, signal tables)
    DIR/trips.csv         one row per vehicle (flows expanded), with SUMO's fixed routes

so the scenario runs without sumolib and can be edited like any mobsim scenario.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import InputError


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_sumo_inputs(inputs: list[str | Path], overrides: list[str] | None = None) -> Any:
    """A :class:`~mobsim.scenario.Scenario` from a ``.sumocfg`` file, or from a network file
    followed by route files."""
    from .scenario import load_scenario

    paths = [Path(p) for p in inputs]
    if not paths:
        raise InputError("no input given", source="mobsim convert sumo",
                         fix="give a .sumocfg file, or a .net.xml file and route files")
    if paths[0].suffix == ".sumocfg":
        if len(paths) > 1:
            raise InputError("a .sumocfg file names its own network and routes", source=str(paths[0]),
                             fix="give the .sumocfg alone, or the network and route files without it")
        return load_scenario(paths[0], overrides or [])
    for p in paths:
        if not p.is_file():
            raise InputError("file not found", source=str(p), fix="check the path")
    with tempfile.TemporaryDirectory() as tmp:
        toml = Path(tmp) / f"{paths[0].name.split('.')[0]}.toml"
        lines = ["[network]", f"sumo = {_toml_value(str(paths[0].resolve()))}", "", "[demand]"]
        if len(paths) > 1:
            lines.append("sumo = [" + ", ".join(_toml_value(str(p.resolve())) for p in paths[1:]) + "]")
        toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_scenario(toml, overrides or [])


def write_native(sc: Any, out: str | Path) -> Path:
    """Write scenario ``sc`` as a native scenario folder ``out`` (see the module docstring)."""
    from .demand import write_trips
    from .netio import write_network

    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    write_network(sc.network, tmp / "net")
    write_trips(sc.trips, tmp / "trips.csv")
    s = sc.settings
    lines = ["# Converted by mobsim convert sumo from: " + sc.network.source, "",
             "[scenario]", f"name = {_toml_value(sc.name)}", "", "[network]", 'dir = "net"', ""]
    for v in sc.vtypes:
        lines.append("[[vtypes]]")
        lines += [f"{k} = {_toml_value(val)}" for k, val in v.as_dict().items()]
        lines.append("")
    lines += ["[demand]", 'trips = "trips.csv"', "", "[sim]"]
    for key in ("sim.begin", "sim.end", "sim.dt", "sim.seed"):
        lines.append(f"{key.split('.', 1)[1]} = {_toml_value(s[key])}")
    (tmp / "scenario.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out / "scenario.toml"
