"""Modes: the road vehicles' parts of the engine (:mod:`.road`), the modes beside them (drones,
:mod:`.drones`; transit lines, :mod:`.transit`; on-demand fleets, :mod:`.drt`) and how the engine
finds those (:mod:`.registry`).
"""

from mobsim.modes import (
    drones,  # noqa: F401, E402 - registers the drones' factory, KPIs and figures
    drt,  # noqa: F401, E402 - registers the on-demand fleets' trips, factory, KPIs, figures
    transit,  # noqa: F401, E402 - registers the transit lines' trips, factory, KPIs, figures
)
