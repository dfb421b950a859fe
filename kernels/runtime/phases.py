"""The phases of each mode's step, in order, declared once: :data:`ROAD_PHASES`, :data:`AIR_PHASES`.

Both drivers of a mode run them in this order. The road: the CPU driver
(:func:`mobsim.kernels.drivers.cpu_step.step_once`, one njit function) and the CUDA driver
(``CUDABackend._step``, one launch per phase). The drones: :func:`mobsim.kernels.drivers.air_cpu.drone_steps`
and ``CUDADriver.run`` of :mod:`mobsim.modes.drones.drivers`. Each driver
says which of its calls runs which phases (``PHASE_OF`` beside it), and ``tests/test_phases.py``
reads both drivers' sources and holds their call order to :data:`ROAD_PHASES`, so a phase added,
dropped or moved in one driver and not in the other fails the test. Conditional phases (the
actuated controllers, the first step's departures, departures inside their lane) are listed where
they run when their condition holds.
"""

#: (phase, what it does), in the order of the step.
ROAD_PHASE_TABLE: tuple[tuple[str, str], ...] = (
    ("controllers", "actuated and delay-based controllers decide (kernels.road.signals)"),
    ("signals", "the state of every signal slot for the step"),
    ("insert", "departures due at the simulation's begin (first step only)"),
    ("order", "vehicles sorted by (lane, position)"),
    ("insert", "departures with a position inside their lane, on the fresh order"),
    ("order", "the order again after those departures"),
    ("lane_change_decide", "MOBIL and mandatory lane changes decided on the sorted state"),
    ("lane_change_apply", "the decided changes applied"),
    ("order", "the changed vehicles merged into their new lanes' order"),
    ("plan", "the acceleration of every vehicle (car following, stop lines, junctions)"),
    ("advance", "the move, lane by lane from front to back; detectors"),
    ("junction_sources", "arrivals, and the vehicles past their stop line that want to cross"),
    ("junction_targets", "crossings into the next lanes, in order of arrival at the line"),
    ("flags", "the gridlock policy, first pass (decisions)"),
    ("gridlock", "the gridlock policy, second pass (teleports, removals)"),
    ("transfer", "vehicles in transit after a teleport move on or re-enter"),
    ("insert", "departures due by the end of the step"),
    ("summary", "the partial sums of the summary row"),
    ("end_step", "counters, the summary row, the clock"),
)
ROAD_PHASES: tuple[str, ...] = tuple(name for name, _ in ROAD_PHASE_TABLE)

#: The drone step: (phase, what it does), in order. The detection phases run once every
#: detection interval, at the step's end time.
AIR_PHASE_TABLE: tuple[tuple[str, str], ...] = (
    ("pads", "vertiport pads: take-offs released, landings and turnarounds served"),
    ("move", "motion, energy and waypoints of every flight"),
    ("detect_cells", "the grid cell of every flight, and the flights bucketed by cell"),
    ("detect_gather", "the flights' state copied into cell order"),
    ("detect", "conflict detection and resolution, losses of separation, geofence checks"),
    ("end_step", "the step counter"),
)
AIR_PHASES: tuple[str, ...] = tuple(name for name, _ in AIR_PHASE_TABLE)
