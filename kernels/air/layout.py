"""Layout of the drone kernels' tables: phases, drone-type columns, parameters, counters, events.

Plain constants, frozen into the compiled kernels (as :mod:`.layout` is for road vehicles).
"""

# Flight phases (``D.phase``).
PH_SCHED = 0  # requested for later
PH_QUEUE = 1  # request time reached, waiting for a free pad at the origin
PH_PREP = 2  # on a pad before take-off (turnaround: loading, checks) until ``t_ready``
PH_CLIMB = 3  # vertical climb to the leg's cruise altitude
PH_CRUISE = 4  # along the waypoints of the current leg
PH_DESCEND = 5  # vertical descent to a pad or to the drop height
PH_SERVICE = 6  # hovering at the drop height while the payload is delivered, until ``t_ready``
PH_HOLD = 7  # hovering over a vertiport, waiting for a free landing pad
PH_LANDED = 8  # on a pad after landing (turnaround and recharge) until ``t_ready``
PH_DONE = 9
PH_REFUSED = 10  # refused at planning (battery, geofence or no corridor path); never flies
PH_DEPLETED = 11  # battery ran out in flight; made an emergency landing where it was

#: Phases in which a drone is in the air (detected, separated, recorded in tracks).
AIRBORNE_FIRST = PH_CLIMB
AIRBORNE_LAST = PH_HOLD

# Drone-type table columns (mobsim.modes.drones.airspace.DRONE_TYPE_PARAMS).
DT_CRUISE = 0  # cruise airspeed (m/s)
DT_VMAX = 1  # max airspeed (m/s)
DT_CLIMB = 2  # climb rate (m/s)
DT_DESC = 3  # descent rate (m/s)
DT_ACC = 4  # horizontal acceleration (m/s^2)
DT_TURN = 5  # turn rate (rad/s)
DT_RPZ = 6  # protected zone radius (m)
DT_HPZ = 7  # protected zone half height (m)
DT_BAT = 8  # usable battery energy (Wh)
DT_PHOVER = 9  # power in hover (W), empty
DT_PCLIMB = 10  # power in climb (W), empty
DT_PCRUISE = 11  # power in cruise (W), empty
DT_PDESC = 12  # power in descent (W), empty
DT_MASS = 13  # empty mass (kg)
N_DT = 14

# Parameters (``A.par``, float64).
AP_DT = 0
AP_BEGIN = 1
AP_DET_EVERY = 2  # steps between conflict detections
AP_LOOKAHEAD = 3  # s
AP_RESO = 4  # 0 off, 1 MVP horizontal (speed and heading), 2 MVP 3-D (also altitude)
AP_WIND_X = 5  # m/s, towards east
AP_WIND_Y = 6  # m/s, towards north
AP_RESOFAC = 7  # protected zone margin of the resolution (1.05: 5 %)
AP_X0 = 8  # grid origin (m)
AP_Y0 = 9
AP_CELL = 10  # grid cell size (m)
AP_NX = 11
AP_NY = 12
AP_TERMINAL = 13  # terminal-area radius around a leg's start and end (m)
AP_PAD_CLEAR = 14  # height above which a departing drone frees its pad (m)
AP_NGF = 15  # number of geofences
AP_ZMIN = 16  # lowest and highest altitude a vertical resolution may reach (m)
AP_ZMAX = 17
N_APAR = 18

# Counters (``A.cnt``, int64).
AC_STEP = 0  # absolute step index of the next step
AC_NEV = 1  # events in the buffer
AC_NSUM = 2  # rows in the summary buffer
AC_DSTEPS = 3  # airborne drone-steps simulated
AC_CHECKS = 4  # pair checks made by the detection
AC_OVERFLOW = 5  # conflict pairs not tracked: a drone's conflict slots were full
AC_DEPLETED = 6
AC_DONE = 7
AC_DETECTIONS = 8  # detection passes
AC_CONF_NOW = 9  # drones with a conflict at the last detection
AC_LOS_NOW = 10  # pairs in loss of separation at the last detection (counted by the lower id)
N_ACNT = 11

# Event kinds (DRONE_EVENT_KINDS of the drones' result schema).
DE_CONFLICT = 0
DE_LOS = 1
DE_GEOFENCE = 2
DE_DEPLETED = 3

#: Conflict-tracking slots per drone (partners tracked at once).
N_SLOTS = 4
