"""Drones: the airspace as data (:mod:`.model`), read from a scenario's tables (:mod:`.airspace`,
:mod:`.tables`, :mod:`.requests`); flight plans (:mod:`.flights`, on :mod:`.geometry`); their
state arrays (:mod:`.fields`, :mod:`.arrays`); the simulation that advances them on the engine's
clock (:mod:`.sim`, a :class:`~mobsim.modes.registry.Mode`) and writes their tables
(:mod:`.recording`, tables declared in :mod:`.schema`); their KPIs (:mod:`.kpi`) and plots
(:mod:`.plot`).
"""

from mobsim.analysis.extensions import register_mode
from mobsim.modes.drones import schema as _schema  # noqa: F401 - registers the drones' tables
from mobsim.modes.registry import register_factory

register_mode("drones", kpis="mobsim.modes.drones.kpi:drone_kpis",
              units="mobsim.modes.drones.kpi:DRONE_UNITS", plots="mobsim.modes.drones.plot:plot_drones_all")
register_factory("drones", "mobsim.modes.drones.sim:attach")
