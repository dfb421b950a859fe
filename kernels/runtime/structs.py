"""State containers the kernels receive: numba StructRefs over the same arrays as the host views.

The host keeps namedtuples (``VehicleState``, ``LaneState``, ``Work``, ``NetArrays``) whose fields
are numpy arrays; the kernels get a StructRef holding *the same arrays*, so a write on either side
is seen by the other. Why not the namedtuples themselves: numba passes a tuple of 30 arrays by value
(hundreds of machine words) to every function that is not inlined, which cost about 1 µs per
vehicle per call, and a ``prange`` body storing through a namedtuple field lost the stores. A
StructRef is one pointer, its field access is one load, and both problems disappear. The kernel
code reads the same (``V.pos[i]``) for either container.
"""

from __future__ import annotations

from typing import Any

from numba import njit
from numba.core import cgutils, types
from numba.experimental import structref
from numba.extending import intrinsic
from numba.np.arrayobj import make_array


def _unliteral(self: Any, fields: Any) -> tuple:
    return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class VehicleStructType(types.StructRef):
    preprocess_fields = _unliteral


@structref.register
class LaneStructType(types.StructRef):
    preprocess_fields = _unliteral


@structref.register
class WorkStructType(types.StructRef):
    preprocess_fields = _unliteral


@structref.register
class NetStructType(types.StructRef):
    preprocess_fields = _unliteral


@structref.register
class DroneStructType(types.StructRef):
    preprocess_fields = _unliteral


@structref.register
class AirStructType(types.StructRef):
    preprocess_fields = _unliteral


class DroneStruct(structref.StructRefProxy):
    """Per-flight drone arrays (fields of :data:`mobsim.modes.drones.fields.DroneState`)."""


class AirStruct(structref.StructRefProxy):
    """Airspace, work and buffer arrays of the drone step (:data:`mobsim.modes.drones.fields.AirArrays`)."""


class VehicleStruct(structref.StructRefProxy):
    """Per-vehicle arrays (fields of :data:`mobsim.state.fields.VEHICLE_FIELDS`)."""


class LaneStruct(structref.StructRefProxy):
    """Per-lane arrays (fields of :data:`mobsim.state.fields.LANE_FIELDS`)."""


class WorkStruct(structref.StructRefProxy):
    """Work arrays of the step (fields of :class:`mobsim.engine.Work`)."""


class NetStruct(structref.StructRefProxy):
    """Compiled network arrays (fields of :class:`mobsim.net.compile.NetArrays`)."""


_NEW: dict[type, Any] = {}  # host namedtuple type -> its cached StructRef constructor


# Constructors compiled once and cached on disk. ``StructRefProxy.__new__`` compiles its own
# constructor with an uncached ``njit`` in every process: 0.7 s per struct of 30+ arrays, 2.8 s
# of every ``mobsim run`` (more than the whole simulation of a small scenario).
@njit(cache=True)
def _new_vehicle(h):
    return VehicleStruct(*h)


@njit(cache=True)
def _new_lane(h):
    return LaneStruct(*h)


@njit(cache=True)
def _new_work(h):
    return WorkStruct(*h)


@njit(cache=True)
def _new_net(h):
    return NetStruct(*h)


@njit(cache=True)
def _new_drone(h):
    return DroneStruct(*h)


@njit(cache=True)
def _new_air(h):
    return AirStruct(*h)


def _setup() -> None:
    from .state_fields import AirArrays, DroneState, LaneState, NetArrays, VehicleState, Work

    structref.define_proxy(VehicleStruct, VehicleStructType, list(VehicleState._fields))
    structref.define_proxy(LaneStruct, LaneStructType, list(LaneState._fields))
    structref.define_proxy(WorkStruct, WorkStructType, list(Work._fields))
    structref.define_proxy(NetStruct, NetStructType, list(NetArrays._fields))
    structref.define_proxy(DroneStruct, DroneStructType, list(DroneState._fields))
    structref.define_proxy(AirStruct, AirStructType, list(AirArrays._fields))
    _NEW.update({VehicleState: _new_vehicle, LaneState: _new_lane, Work: _new_work, NetArrays: _new_net,
                 DroneState: _new_drone, AirArrays: _new_air})


_setup()


@intrinsic
def _borrow_fields(typingctx, st):
    """Drop the StructRef's ownership of its arrays: each field keeps its data pointer, shape and
    strides but gets a null MemInfo, on which numba's reference counting is a no-op."""

    def codegen(context, builder, sig, args):
        sty = sig.args[0]
        data = structref._Utils(context, builder, sty).get_data_struct(args[0])
        for name, fty in sty.field_dict.items():
            if isinstance(fty, types.Array):
                cur = getattr(data, name)
                ary = make_array(fty)(context, builder, value=cur)
                context.nrt.decref(builder, fty, cur)  # the reference taken when it was unboxed
                ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
                setattr(data, name, ary._getvalue())
        return context.get_dummy_value()

    return types.none(st), codegen


@njit(cache=True)
def _borrow(st):
    _borrow_fields(st)


def has_struct(host: Any) -> bool:
    """Whether the type of namedtuple ``host`` has a StructRef (the road and drone state do; a
    mode's own state may be passed to its kernels as the namedtuple itself)."""
    return type(host) in _NEW


def to_struct(host: Any) -> Any:
    """The StructRef over the arrays of a host namedtuple (no copies).

    The StructRef *borrows* the arrays: every field has a null MemInfo, so reading ``V.pos`` in a
    kernel costs no atomic reference-count update (numba skips the update for a null MemInfo).
    Those atomics were the largest cost of the step: one pair per field read, and with two threads
    both cores fought over the same counters. The host keeps the arrays alive: the namedtuple
    ``host`` must outlive the StructRef (the backends and ``DroneSim`` hold both).
    """
    for a in host:
        if not a.flags.c_contiguous:
            raise ValueError("kernel state arrays must be C-contiguous")
    st = _NEW[type(host)](host)
    _borrow(st)
    return st
