"""Layout of the kernels' flat parameter, counter and type tables, and their tunables.

Indices into ``par`` (float64 parameters), ``W.cnt`` (int64 counters) and ``vt`` (vehicle-type table,
columns of :data:`mobsim.demand.vtypes.VTYPE_PARAMS`), event and right-of-way codes. Plain constants:
numba freezes them into the compiled kernels.
"""

# Counters (``cnt`` array, int64).
C_NRUN = 0        # entries in ``order`` (sorted running vehicles; may hold stale arrived ones)
C_INSERTED = 2
C_ARRIVED = 3
C_REMOVED = 4
C_COLL = 5
C_TELE = 6
C_NTP = 7         # vehicles in transit after a teleport (entries of W.tp_list; kernels.road.transfer)
# 1, 8: free (loaded and waiting trips are counted on the host: Simulation.loaded)
C_NEV = 9         # events in the event buffer
C_VSTEPS = 10     # vehicle-steps simulated
C_NSUM = 11       # rows in the summary buffer
C_STEP = 12       # the step being computed (kernels.road.record.clock; end_step advances it)
C_EMERG = 13
C_BLOCKED = 14
C_PARMIN = 15     # copy of P_PAR_MIN for build_order, which gets no parameter array
C_NMOVE = 16      # vehicles that moved this step (CUDA driver: read by the passes after insertion)
N_COUNTERS = 17

#: Partial sums of a summary row (``W.sum_part``, :func:`mobsim.kernels.road.record.summary_parts`): lane
#: ``l`` goes to part ``l % SUM_PARTS``, each part is summed in lane order and the parts in part order,
#: on every backend and thread count, so the row's floats do not depend on where it was computed.
SUM_PARTS = 1024

# Insertion passes of the CUDA driver's k_insert (the CPU step calls the passes directly).
INS_BEGIN = 0       # departures due at sim.begin, before the first step
INS_POSITIONED = 1  # departPos inside the lane: right after the step's sort
INS_END = 2         # the end-of-step pass

# Vehicle status codes (``V.status``).
S_WAITING = 0
S_RUNNING = 1
S_ARRIVED = 2
S_REMOVED = 3
S_TRANSIT = 4     # teleported: off the network, moving along its route (kernels.road.transfer)
S_BAY = 5         # dwelling in a bay beside its lane: out of the lane's order (kernels.transit.boarding)

# Departure position codes (``W.dep_pos``; a value >= 0 is the front position in m).
DP_BASE = -1.0    # the rear at the lane start
DP_LAST = -2.0    # behind the lane's last vehicle, or at the lane's end (SUMO's departPos="last")
DP_FREE = -3.0    # the lane's start if safe, else the first safe gap ahead of a vehicle (SUMO's "free")
DP_RANDOM = -4.0  # a uniform position, drawn anew at every attempt (SUMO's "random")
DP_RANDOM_FREE = -5.0  # ten uniform positions at every attempt, then as DP_FREE (SUMO's "random_free")

# Parameters (``par`` array, float64).
P_DT = 0
P_BEGIN = 1
P_TIMEGAP_MINOR = 2  # s: a yielder clears the junction this long before a foe arrives (jmTimegapMinor)
P_STOP_TIME = 3
P_GRID_MODE = 4   # 0 none, 1 teleport, 2 remove
P_GRID_TIME = 5
P_INS_DELAY = 6
P_LC_COOLDOWN = 7
P_SUMMARY_EVERY = 8
P_SEED = 9
P_HORIZON = 10    # look-ahead distance cap (m)
P_PAR_MIN = 11    # run the parallel loops from this many running vehicles on (see PARALLEL_MIN)
P_HAS_DPOS = 12   # 1 if some trip has a departPos inside its first lane (a second insertion pass)
N_PARAMS = 13

# Vehicle-type table columns (mobsim.demand.vtypes.VTYPE_PARAMS).
T_LEN = 0
T_S0 = 1
T_TAU = 2
T_ACC = 3
T_DEC = 4
T_EDEC = 5
T_VMAX = 6
T_SF = 7
T_SDEV = 8
T_DELTA = 9
T_POLITE = 10
T_LCTHR = 11
T_LCSAFE = 12
T_CF = 13         # car-following model code (CF_IDM, CF_KRAUSS, CF_ACC, CF_CACC)
T_SIGMA = 14      # Krauss dawdling sigma
T_SC_GAIN = 15    # ACC speed control gain (1/s)
T_GCC_V = 16      # ACC gap-closing control gain on the speed difference (1/s)
T_GCC_S = 17      # ACC gap-closing control gain on the spacing error (1/s²)
T_GC_V = 18       # ACC gap control gain on the speed difference (1/s)
T_GC_S = 19       # ACC gap control gain on the spacing error (1/s²)
T_CA_V = 20       # ACC collision avoidance gain on the speed difference (1/s)
T_CA_S = 21       # ACC collision avoidance gain on the spacing error (1/s²)
T_CA_OVR = 22     # ACC: by how much (m/s) its speed may exceed the safe speed before that overrides it
T_SC_CACC = 23    # CACC speed control gain (1/s)
T_GCC_G = 24      # CACC gap-closing gain on the spacing error (1/s per 0.1 s step)
T_GCC_GD = 25     # CACC gap-closing gain on the spacing error's rate
T_GC_G = 26       # CACC gap control gain on the spacing error
T_GC_GD = 27      # CACC gap control gain on the spacing error's rate
T_CA_G = 28       # CACC collision avoidance gain on the spacing error
T_CA_GD = 29      # CACC collision avoidance gain on the spacing error's rate
T_TAU_ACC = 30    # CACC: the ACC time gap (s) behind a leader that is not CACC
T_SC_MINGAP = 31  # CACC: spacing error (m) above which speed control may take over

# Car-following model codes (index in mobsim.demand.vtypes.CF_MODELS).
CF_IDM = 0
CF_KRAUSS = 1
CF_ACC = 2
CF_CACC = 3

# Event kinds (mobsim.output.schema.EVENT_KINDS).
E_COLLISION = 0
E_TELEPORT = 1
E_REMOVAL = 2
E_EMERGENCY = 3
E_INSDELAY = 4
E_BLOCKED = 5
E_SIGNAL = 6

#: Signal slot state of an 'o' (off: a priority junction) signal (mobsim.net.compile.STATE_CODES).
SIG_OFF = 4

# Movement right of way this step.
M_GO = 0
M_YIELD = 1
M_STOP = 2      # stop sign: stop, then yield
M_YELLOW = 3
M_RED = 4
M_ZIPPER = 5    # zipper merge: fall in behind the other stream's vehicle ahead (kernels.road.zipper)

SUMMARY_COLS = 12
#: Parallel loops split their range into this many chunks (each chunk hoists the state arrays once).
N_CHUNKS = 64
#: From this many running vehicles on, the parallel loops run (else their serial twins; the results
#: are identical). Measured on 2 cores (``python -m bench.run_bench --sizes 3k,5k,10k --threads 1,2
#: --parallel-min 0``): below ~4,000 running vehicles the fork-join cost of a parallel loop exceeds
#: the work it splits (2.4k running: 16.3 M veh-updates/s serial, 12.6 M parallel; 4.0k: 8.8 vs
#: 8.8; 8.2k: 9.9 vs 12.1).
PARALLEL_MIN = 6000
#: Renumber the vehicle slots to follow the sorted order every this many steps (see
#: :mod:`mobsim.state.slots`; 0 never). Results do not depend on it, only the speed does.
REORDER_STEPS = 20
#: ... but only from this many running vehicles on: a smaller state stays in the caches anyway, and
#: the host round trip would cost more than it saves (250-vehicle corridor: 2.7 -> 0.9 million
#: veh-updates/s when renumbering every 20 steps).
REORDER_MIN = 4096
HALT_SPEED = 0.1
#: ``V.stop_state`` (kernels.road.stops): on the way to the next scheduled stop, or dwelling there.
STOP_APPROACH = 0
STOP_DWELL = 1
MAX_LOOKAHEAD = 4

# Vehicle flag bits (``V.flags``).
FLAG_HALTING = 1      # speed below HALT_SPEED (counts stops)
FLAG_DELAY_EVENT = 2  # the insertion-delay event was emitted
FLAG_COMMITTED = 4    # went on at yellow because it could not stop comfortably: may clear on red
FLAG_INSIDE = 8       # entered the junction and waits at its internal junction (N.mv_wait)
FLAG_ACC_GAP = 16     # ACC: in gap control (else speed control), kept between the two gap thresholds
FLAG_CACC_GAP = 32    # CACC: in gap control (else speed control), kept between the two time gaps
