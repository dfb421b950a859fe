"""On-demand pooled shuttles (DRT): the service as a scenario describes it (:mod:`.plan`), the
dispatch of ride requests by insertion into the vehicles' schedules (:mod:`.dispatch`, evaluated
in batches by :mod:`mobsim.kernels.drt.insertion`), the fleet in the run (:mod:`.sim`, a
:class:`~mobsim.modes.registry.Mode` whose vehicles are road trips with stops the host rewrites),
its tables (:mod:`.schema`, written by :mod:`.recording`) and KPIs (:mod:`.kpi`)."""

from mobsim.analysis.extensions import register_mode
from mobsim.modes.drt import schema as _schema  # noqa: F401 - registers the on-demand tables
from mobsim.modes.registry import register_factory, register_road_trips

register_mode("drt", kpis="mobsim.modes.drt.kpi:drt_kpis", units="mobsim.modes.drt.kpi:DRT_UNITS",
              plots="mobsim.modes.drt.plot:plot_drt_all")
register_road_trips("drt", "mobsim.modes.drt.sim:fleet_trips")
register_factory("drt", "mobsim.modes.drt.sim:attach")
