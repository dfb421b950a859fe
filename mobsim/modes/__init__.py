"""Agent classes beside the road vehicles of the engine: drones (:mod:`.drones`).
"""

from mobsim.modes import drones  # noqa: F401, E402 - registers the drones' KPIs and figures
