"""The network of a scenario's ``[network]`` section: a GMNS CSV folder (``dir``), a generator
(``generator`` with ``params``) or a SUMO network (``sumo``, with ``vclass`` and ``sumo_tls``),
checked (:mod:`mobsim.net.netcheck`). The modules are looked up when used, so that tests can stand
in for the generators."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from mobsim import settings as st
from mobsim.errors import InputError
from mobsim.net.network import Network

GENERATORS = ("grid", "corridor", "ring", "district", "single_link")
NETWORK_KEYS = ("dir", "generator", "params", "sumo", "vclass", "sumo_tls")
NETWORK_SOURCES = ("dir", "generator", "sumo")


def build_network(cfg: dict, base_dir: Path, source: str, files: list[Path],
                   warnings: list[str]) -> Network:
    for key in cfg:
        if key not in NETWORK_KEYS:
            raise InputError(f"unknown key{st.suggest(key, NETWORK_KEYS)}", source=source,
                             element=f"network.{key}", fix=f"use only: {', '.join(NETWORK_KEYS)}")
    given = [k for k in NETWORK_SOURCES if k in cfg]
    if len(given) != 1:
        raise InputError("the [network] section needs exactly one of 'dir', 'generator' and 'sumo'"
                         + (f" (found {', '.join(given)})" if given else ""),
                         source=source, element="[network]",
                         fix='write dir = "net" (a GMNS CSV folder), generator = "grid", or '
                             'sumo = "city.net.xml"')
    has_dir = "dir" in cfg
    if "sumo_tls" in cfg and "sumo" not in cfg:
        raise InputError("network.sumo_tls only applies to a SUMO network", source=source,
                         element="network.sumo_tls", fix="remove sumo_tls or use sumo = \"...net.xml\"")
    if "vclass" in cfg and "sumo" not in cfg:
        raise InputError("network.vclass only applies to a SUMO network", source=source,
                         element="network.vclass", fix="remove vclass or use sumo = \"...net.xml\"")
    if "sumo" in cfg:
        if "params" in cfg:
            raise InputError("network.params only applies to a generator", source=source,
                             element="network.params", fix="remove [network.params]")
        f = cfg["sumo"]
        if not isinstance(f, str) or not f:
            raise InputError(f"must be a file name, got {f!r}", source=source, element="network.sumo",
                             fix='write sumo = "city.net.xml"')
        from mobsim.interop.sumo_net import read_sumo_network

        net_path = base_dir / f
        tls = cfg.get("sumo_tls", [])
        if not isinstance(tls, list) or not all(isinstance(x, str) and x for x in tls):
            raise InputError(f"must be a list of file names, got {tls!r}", source=source,
                             element="network.sumo_tls", fix='write sumo_tls = ["city.tll.add.xml"]')
        tls_paths = [base_dir / x for x in tls]
        network = read_sumo_network(net_path, vclass=str(cfg.get("vclass", "passenger")),
                                    warnings=warnings, tls_files=tls_paths)
        files.append(net_path)
        files.extend(tls_paths)
        return network
    if has_dir:
        if "params" in cfg:
            raise InputError("network.params only applies to a generator", source=source,
                             element="network.params", fix="remove [network.params] or use a generator")
        if not isinstance(cfg["dir"], str) or not cfg["dir"]:
            raise InputError(f"must be a folder name, got {cfg['dir']!r}", source=source,
                             element="network.dir", fix='write dir = "net"')
        folder = base_dir / cfg["dir"]
        if not folder.is_dir():
            raise InputError(f"network folder not found: {folder}", source=source, element="network.dir",
                             fix="give the folder holding node.csv and link.csv, relative to the "
                                 "scenario file")
        netio = importlib.import_module("mobsim.net.netio")
        network = netio.read_network(folder)
        files.extend(sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".csv"))
        return network

    name = cfg["generator"]
    if name not in GENERATORS:
        raise InputError(f"unknown generator {name!r}{st.suggest(str(name), GENERATORS)}", source=source,
                         element="network.generator", fix=f"use one of {', '.join(GENERATORS)}")
    params = cfg.get("params", {})
    if not isinstance(params, dict):
        raise InputError("network.params must be a table", source=source, element="network.params",
                         fix="write the generator's arguments under [network.params]")
    generators = importlib.import_module("mobsim.net.generators")
    fn = getattr(generators, name)
    sig = inspect.signature(fn)
    accepted = [p.name for p in sig.parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    takes_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    for key in params:
        if key not in accepted and not takes_any:
            raise InputError(f"generator {name} has no parameter '{key}'{st.suggest(key, accepted)}",
                             source=source, element=f"network.params.{key}",
                             fix=f"{name}() takes: {', '.join(accepted) or 'no parameters'}")
    try:
        sig.bind(**params)
    except TypeError as exc:
        raise InputError(f"bad parameters for generator {name}: {exc}", source=source,
                         element="network.params", fix=f"{name}() takes: {', '.join(accepted)}") from None
    return fn(**params)


def check_network(network: Network) -> list[str]:
    netcheck = importlib.import_module("mobsim.net.netcheck")
    return list(netcheck.check_network(network))
