"""The module paths of the flat layout, for one release: ``import mobsim.kpi`` (or ``from
mobsim.sumo_net import read_sumo_network``) still works and gives the module at its new path,
with a ``DeprecationWarning`` that names it. Installed by ``import mobsim``."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Any

#: Old module (under ``mobsim.``) -> its module now.
MOVED = {
    "network": "net.network", "netio": "net.netio", "netcheck": "net.netcheck", "movements": "net.movements",
    "generators": "net.generators", "compile": "net.compile", "routing": "demand.routing",
    "trips": "demand.trips", "vtypes": "demand.vtypes", "route_codes": "demand.route_codes",
    "sumo_net": "interop.sumo_net", "sumo_demand": "interop.sumo_demand",
    "sumo_export": "interop.sumo_export", "sumocfg": "interop.sumocfg", "convert": "interop.convert",
    "fields": "state.fields", "engine_work": "state.work", "slots": "state.slots",
    "backend": "backends.select", "cuda_backend": "backends.cuda",
    "schema": "output.schema", "recorder": "output.recorder", "results": "analysis.results",
    "kpi": "analysis.kpi", "plot": "analysis.plot", "drone_kpi": "modes.drones.kpi",
    "drone_plot": "modes.drones.plot", "drones": "modes.drones.sim", "airspace": "modes.drones.airspace",
    "flights": "modes.drones.flights", "drone_fields": "modes.drones.fields",
    # the kernels, now in folders by concept
    "kernels.layout": "kernels.runtime.layout", "kernels.state_fields": "kernels.runtime.state_fields",
    "kernels.structs": "kernels.runtime.structs", "kernels.cuda_args": "kernels.runtime.cuda_args",
    "kernels.atomics": "kernels.runtime.atomics", "kernels.precision": "kernels.runtime.precision",
    "kernels.phases": "kernels.runtime.phases", "kernels.idm": "kernels.physics.idm",
    "kernels.carfollow": "kernels.physics.carfollow", "kernels.mobil": "kernels.physics.mobil",
    "kernels.rng": "kernels.physics.rng", "kernels.blocked": "kernels.road.blocked",
    "kernels.follow": "kernels.road.follow", "kernels.gridlock": "kernels.road.gridlock",
    "kernels.insertion": "kernels.road.insertion", "kernels.junction": "kernels.road.junction",
    "kernels.lanechange": "kernels.road.lanechange", "kernels.lanes": "kernels.road.lanes",
    "kernels.move": "kernels.road.move", "kernels.order": "kernels.road.order",
    "kernels.record": "kernels.road.record", "kernels.routes": "kernels.road.routes",
    "kernels.signals": "kernels.road.signals", "kernels.transfer": "kernels.road.transfer",
    "kernels.yielding": "kernels.road.yielding", "kernels.zipper": "kernels.road.zipper",
    "kernels.air_detect": "kernels.air.detect", "kernels.air_flight": "kernels.air.flight",
    "kernels.air_geometry": "kernels.air.geometry", "kernels.air_layout": "kernels.air.layout",
    "kernels.cpu_step": "kernels.drivers.cpu_step", "kernels.cuda_step": "kernels.drivers.cuda_step",
    "kernels.air_cpu": "kernels.drivers.air_cpu", "kernels.air_cuda": "kernels.drivers.air_cuda",
}
# ``mobsim.demand`` is a package now: the old module's names resolve through its ``__getattr__``.


class _Alias(importlib.abc.Loader):
    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(f"{spec.name} is now {self.new}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(self.new)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module at its new path is already executed; the import machinery has just given it
        the old path's spec, and it keeps its own."""
        module.__spec__ = self.spec


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        head, _, name = fullname.partition(".")
        if head != "mobsim" or name not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias("mobsim." + MOVED[name]))


def install() -> None:
    """Put the finder of old module paths first on ``sys.meta_path`` (once). First: in a source
    checkout the package's search path includes the checkout's root (for ``mobsim.kernels``), where
    the ``results/`` folder would otherwise be found as ``mobsim.results``."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())
