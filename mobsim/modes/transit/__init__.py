"""Scheduled transit lines: their plan (stops, vehicles, lines, passengers:
:mod:`mobsim.demand.transit`) in the run (:mod:`.sim`, a :class:`~mobsim.modes.registry.Mode`
whose vehicles are road trips with scheduled stops), their tables (:mod:`.schema`, written by
:mod:`.recording`) and KPIs (:mod:`.kpi`) and figures (:mod:`.plot`).
"""

from mobsim.analysis.extensions import register_mode
from mobsim.modes.registry import register_factory, register_road_trips
from mobsim.modes.transit import schema as _schema  # noqa: F401 - registers the transit tables

register_mode("transit", kpis="mobsim.modes.transit.kpi:transit_kpis",
              units="mobsim.modes.transit.kpi:TRANSIT_UNITS",
              plots="mobsim.modes.transit.plot:plot_transit_all")
register_road_trips("transit", "mobsim.modes.transit.sim:shuttle_trips")
register_factory("transit", "mobsim.modes.transit.sim:attach")
