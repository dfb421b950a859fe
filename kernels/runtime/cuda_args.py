"""The whole simulation state in one device buffer, so that a kernel launch passes two arrays.

Why: numba-cuda prepares every array argument of a launch in Python, about 4 µs each
(NVIDIA/numba-cuda#477, numba/numba#3003). Passed as namedtuples, the state is some 130 arrays:
about 0.5 ms per launch, 13 launches and 6 ms per step, which alone would cap one million
vehicles near 170 million vehicle-updates per second, a sixth of the target. Here every state
array is a view into one ``uint8`` buffer at a 128-byte aligned offset; a kernel receives
``K = Packed(buf, lay)`` (``lay[k] = (start, end, rows, cols)`` in elements of the field's
dtype) and :func:`unpack` rebuilds the namedtuples of views on the device: one view of the buffer
per dtype, then a pointer offset per field (:func:`_part`), a few integer instructions each
(fields a kernel does not read are optimised away). The shared per-item functions see the same
``V.pos[i]`` as before.

The device code is compiled from the declared dtypes and dimensions of every field
(:mod:`.state_fields`, gathered in :data:`SPEC`); :func:`layout` checks the host arrays against them
and names any field that differs.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
from numba import njit
from numba.core import cgutils, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from .state_fields import (
    LANE_FIELDS,
    NET_FIELDS,
    VEHICLE_FIELDS,
    WORK_FIELDS,
    LaneState,
    NetArrays,
    VehicleState,
    Work,
)

#: Vehicle-type table (``vt``, 2-D) and parameter vector (``par``) of the kernels.
Params = namedtuple("Params", ["vt", "par"])
#: What a kernel receives: the state buffer and its layout table.
Packed = namedtuple("Packed", ["buf", "lay"])

ALIGN = 128  # bytes: every field starts on a boundary that keeps a warp's loads coalesced

#: (part name, namedtuple class, ((field, dtype, ndim), ...)), in buffer order.
SPEC: tuple[tuple[str, Any, tuple[tuple[str, str, int], ...]], ...] = (
    ("V", VehicleState, tuple((f.name, np.dtype(f.dtype).str[1:], f.ndim) for f in VEHICLE_FIELDS)),
    ("N", NetArrays, tuple((f.name, np.dtype(f.dtype).str[1:], f.ndim) for f in NET_FIELDS)),
    ("L", LaneState, tuple((f.name, np.dtype(f.dtype).str[1:], f.ndim) for f in LANE_FIELDS)),
    ("W", Work, tuple((f.name, np.dtype(f.dtype).str[1:], f.ndim) for f in WORK_FIELDS)),
    ("P", Params, (("vt", "f8", 2), ("par", "f8", 1))),
)


def layout(parts: dict[str, Any]) -> tuple[np.ndarray, int]:
    """The layout table (one row per field, in :data:`SPEC` order: start and end in elements of
    the field's dtype, rows, columns) and the buffer size in bytes (a multiple of ALIGN), for
    host namedtuples ``parts`` (keys as in SPEC). ValueError names a field whose dtype or number
    of dimensions differs from SPEC."""
    rows = []
    off = 0
    for part, _cls, fields in SPEC:
        host = parts[part]
        for name, dt, nd in fields:
            a = getattr(host, name)
            if np.dtype(a.dtype) != np.dtype(dt) or a.ndim != nd:
                raise ValueError(f"state array {part}.{name} is {a.dtype} with {a.ndim} dimension(s); the "
                                 f"CUDA kernels are compiled for {np.dtype(dt)} with {nd} "
                                 "(the declarations of mobsim/kernels/runtime/state_fields.py)")
            n = int(a.nbytes)
            r, c = (a.shape[0], a.shape[1]) if nd == 2 else (a.shape[0], 1)
            size = np.dtype(dt).itemsize
            rows.append((off // size, (off + n) // size, r, c))
            off += -(-n // ALIGN) * ALIGN
    return np.array(rows, np.int64).reshape(-1, 4), max(off, ALIGN)


def views(buf: Any, lay: np.ndarray) -> dict[str, Any]:
    """Namedtuples of views into ``buf`` (numpy or cupy), by part: what the host side of a
    backend reads and writes (the kernels build the same views with :func:`unpack`)."""
    out = {}
    k = 0
    for part, cls, fields in SPEC:
        arrays = []
        for _name, dt, nd in fields:
            a0, a1, r, c = (int(x) for x in lay[k])
            v = buf.view(np.dtype(dt))[a0:a1]
            arrays.append(v.reshape(r, c) if nd == 2 else v)
            k += 1
        out[part] = cls(*arrays)
    return out


@intrinsic
def _part(typingctx, base, start, stop):
    """``base[start:stop]`` for a 1-D C array and ``0 <= start <= stop <= len(base)``, without
    the bounds clamping and wraparound of a slice: the layout guarantees them, and the slice code
    of ~130 fields made every kernel's compilation twice as slow."""
    sig = base(base, types.intp, types.intp)

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = make_array(aryty)(context, builder, value=args[0])
        out = make_array(aryty)(context, builder)
        itemsize = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
        n = builder.sub(args[2], args[1])
        populate_array(out, data=builder.gep(ary.data, [args[1]]), shape=cgutils.pack_array(builder, [n]),
                       strides=cgutils.pack_array(builder, [context.get_constant(types.intp, itemsize)]),
                       itemsize=ary.itemsize, meminfo=ary.meminfo, parent=ary.parent)
        return impl_ret_borrowed(context, builder, aryty, out._getvalue())

    return sig, codegen


def _unpack_source() -> str:
    # One view of the whole buffer per dtype, then a slice per field: a ``view`` per field made
    # every kernel's compilation three times slower (its size checks and error paths).
    dts = sorted({np.dtype(dt).name for _p, _c, fields in SPEC for _n, dt, _d in fields})
    lines = ["def unpack(K):", "    b = K.buf", "    y = K.lay"]
    lines += [f"    v_{d} = b.view(np.{d})" for d in dts]
    parts = []
    k = 0
    for part, _cls, fields in SPEC:
        args = []
        for _name, dt, nd in fields:
            d = np.dtype(dt)
            v = f"_part(v_{d.name}, y[{k}, 0], y[{k}, 1])"
            if nd == 2:
                v += f".reshape((y[{k}, 2], y[{k}, 3]))"
            args.append(v)
            k += 1
        lines.append(f"    {part.lower()}_ = {part}_cls(" + ", ".join(args) + ")")
        parts.append(f"{part.lower()}_")
    lines.append("    return " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def _make_unpack() -> Any:
    env: dict[str, Any] = {"np": np, "_part": _part}
    env.update({f"{part}_cls": cls for part, cls, _ in SPEC})
    exec(compile(_unpack_source(), "<mobsim.kernels.runtime.cuda_args.unpack>", "exec"), env)  # noqa: S102
    return njit(env["unpack"])


#: ``V, N, L, W, P = unpack(K)``: the state namedtuples as views into ``K.buf``.
unpack = _make_unpack()
