"""A scenario's vehicle types: built from its ``[[vtypes]]`` tables, checked, and merged with the
types its SUMO demand files define."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from mobsim.demand.vtypes import ACC_MAX_DT, VehicleType
from mobsim.errors import InputError


def check_vtypes(vtypes: Sequence[VehicleType], dt: float, source: str) -> None:
    seen: set[str] = set()
    for v in vtypes:
        if v.id in seen:
            raise InputError(f"vehicle type id '{v.id}' is defined twice", source=source,
                             element=f"vtype '{v.id}'", fix="give each [[vtypes]] table its own id")
        seen.add(v.id)
        v.validate(dt, source)


def step_warnings(vtypes: Sequence[VehicleType], dt: float, source: str) -> list[str]:
    """Warnings for types whose model is made for a shorter step than ``dt`` (s): ACC's and CACC's
    gains assume 0.1 s (:data:`~mobsim.demand.vtypes.ACC_MAX_DT`)."""
    acc = [v.id for v in vtypes if v.cf_model in ("ACC", "CACC")]
    if not acc or dt <= ACC_MAX_DT + 1e-12:
        return []
    names = ", ".join(f"'{x}'" for x in acc[:5]) + (" ..." if len(acc) > 5 else "")
    return [f"{source}: vtype(s) {names} use ACC or CACC at a step of {dt:g} s; their gains are made for "
            f"{ACC_MAX_DT:g} s and act coarser at longer steps (set sim.dt = {ACC_MAX_DT:g})"]


def build_vtypes(tables: list[dict], dt: float, source: str) -> list[VehicleType]:
    if not tables:
        vtypes = [VehicleType()]
    else:
        vtypes = []
        float_fields = {f.name for f in dataclasses.fields(VehicleType) if f.name != "id"}
        for i, table in enumerate(tables):
            vid = table.get("id")
            if not isinstance(vid, str) or not vid:
                raise InputError("missing or empty id", source=source, element=f"[[vtypes]] #{i + 1}",
                                 fix='give every vehicle type an id, e.g. id = "car"')
            d = {k: (float(v) if k in float_fields and isinstance(v, int) and not isinstance(v, bool)
                     else v) for k, v in table.items()}
            vtypes.append(VehicleType.from_dict(d, source))
    check_vtypes(vtypes, dt, source)
    return vtypes


def merge_vtypes(vtypes: list[VehicleType], sumo_vtypes: list[VehicleType], explicit: bool,
                  other_demand: bool, sumo_sources: dict[str, str], source: str) -> list[VehicleType]:
    """The scenario's vehicle types with those of its SUMO demand files.

    The types a SUMO file defines always win over mobsim's built-in default type ``car`` (which is
    kept only when the file does not define ``car`` and other demand sources may use it). A type
    defined both in ``[[vtypes]]`` and in a SUMO file must have the same values there: otherwise
    it is an :class:`InputError` naming both places (mobsim does not guess which one is meant).
    """
    sumo_ids = {v.id for v in sumo_vtypes}
    if not explicit:
        builtin = [v for v in vtypes if v.id not in sumo_ids and other_demand]
        return builtin + list(sumo_vtypes)
    mine = {v.id: v for v in vtypes}
    for sv in sumo_vtypes:
        v = mine.get(sv.id)
        if v is not None and v != sv:
            diff = ", ".join(f"{f.name} {getattr(v, f.name)!r} vs {getattr(sv, f.name)!r}"
                             for f in dataclasses.fields(VehicleType)
                             if getattr(v, f.name) != getattr(sv, f.name))
            raise InputError(f"vehicle type '{sv.id}' is defined in [[vtypes]] and in the SUMO file "
                             f"{sumo_sources.get(sv.id, '?')} with different values ({diff})",
                             source=source, element=f"vtype '{sv.id}'",
                             fix="remove one of the two definitions, or give them the same values")
    return list(vtypes) + [sv for sv in sumo_vtypes if sv.id not in mine]
