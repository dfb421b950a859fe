"""What other parts of mobsim add to the analysis of a run: each mode registers its KPIs, their
units and its figures here, by name (``"module:attribute"``), and the analysis layer calls them
without importing the modes. Names are resolved when first called, so registering costs no
import (matplotlib, pandas) at start-up.

A mode registers once, when its package is imported (``mobsim.modes`` imports every built-in mode,
and ``import mobsim`` imports ``mobsim.modes``)::

    register_mode("drones", kpis="mobsim.modes.drones.kpi:drone_kpis",
                  units="mobsim.modes.drones.kpi:DRONE_UNITS",
                  plots="mobsim.modes.drones.plot:plot_drones_all")

``kpis(results)`` returns a dict of extra KPIs (empty for a run without that mode); ``units`` is a
dict KPI name -> unit; ``plots(results, out_dir, dpi=...)`` writes PNG files and returns their
paths (none for a run without that mode).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mobsim.named import resolve

_MODES: dict[str, dict[str, str]] = {}


def register_mode(name: str, *, kpis: str, units: str, plots: str) -> None:
    """Register the analyses of mode ``name`` (see the module docstring); a second registration
    of the same name replaces the first."""
    _MODES[name] = {"kpis": kpis, "units": units, "plots": plots}


def modes() -> tuple[str, ...]:
    """Names of the registered modes, in registration order."""
    return tuple(_MODES)


def mode_kpis(results: Any) -> dict[str, Any]:
    """The KPIs every registered mode computes for ``results``, merged in registration order."""
    out: dict[str, Any] = {}
    for spec in _MODES.values():
        out.update(resolve(spec["kpis"])(results))
    return out


def mode_unit(key: str) -> str | None:
    """The unit a registered mode gives KPI ``key``; None if no mode knows it."""
    for spec in _MODES.values():
        units = resolve(spec["units"])
        if key in units:
            return units[key]
    return None


def mode_plots(results: Any, out_dir: str | os.PathLike[str], dpi: int = 120) -> list[Path]:
    """The figures every registered mode draws for ``results`` into ``out_dir``."""
    written: list[Path] = []
    for spec in _MODES.values():
        written += resolve(spec["plots"])(results, out_dir, dpi=dpi)
    return written
