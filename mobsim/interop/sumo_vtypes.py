"""SUMO's vehicle types as mobsim reads them: the vClasses mobsim drives or skips, SUMO's defaults
per vClass, the car-following models and the vType attributes mobsim keeps, and the part of the
demand importer that reads ``<vType>`` and ``<vTypeDistribution>`` (see
:mod:`mobsim.interop.sumo_demand` for the rules). Units: m, s, m/s, m/s²."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from mobsim.demand.streams import rng_for
from mobsim.demand.vtypes import VehicleType
from mobsim.errors import InputError
from mobsim.interop.sumo_xml import Elem, draw_members, listed, number, probabilities
from mobsim.settings import suggest

#: SUMO's type for vehicles without ``type``.
SUMO_DEFAULT_VTYPE = "DEFAULT_VEHTYPE"
#: vClasses that drive like passenger cars (SUMO: the ordinary private car and its variants).
CAR_CLASSES = ("passenger", "private", "taxi", "hov", "evehicle", "vip", "custom1", "custom2")
#: vClasses mobsim drives as road vehicles (on the lanes imported for the network's class).
DRIVEN_VCLASSES = (*CAR_CLASSES, "emergency", "authority", "army", "delivery", "truck", "trailer",
                   "bus", "coach", "motorcycle", "moped", "ignoring")
#: vClasses whose vehicles are skipped (mobsim has no sidewalks, bicycle lanes, rails or waterways).
SKIPPED_VCLASSES = ("pedestrian", "wheelchair", "bicycle", "scooter", "tram", "rail_urban", "subway",
                    "rail", "rail_electric", "rail_fast", "cable_car", "ship", "container", "drone",
                    "aircraft")

_KMH = 1.0 / 3.6
#: SUMO's defaults per vClass (``src/utils/vehicle/SUMOVTypeParameter.cpp``, SUMO 1.2x), for the
#: parameters mobsim has: length and min_gap (m), accel, decel, emergency_decel (m/s²), max_speed
#: (m/s), speed_dev (SUMO's deviation of the speed factor) and sigma (Krauss). Classes not listed
#: take ``_BASE``. tau is 1 s for every class, IDM's delta 4.
_BASE = {"length": 5.0, "min_gap": 2.5, "accel": 2.6, "decel": 4.5, "emergency_decel": 9.0,
         "max_speed": 200.0 * _KMH, "speed_dev": 0.0, "sigma": 0.5}
_HEAVY = {"decel": 4.0, "emergency_decel": 7.0}
VCLASS_DEFAULTS: dict[str, dict[str, float]] = {
    **{c: {**_BASE, "speed_dev": 0.1} for c in ("passenger", "private", "vip", "hov", "custom1", "custom2",
                                                 "evehicle")},
    "taxi": {**_BASE, "speed_dev": 0.05},
    "emergency": {**_BASE, "length": 6.5},
    "delivery": {**_BASE, "length": 6.5, "speed_dev": 0.05},
    "truck": {**_BASE, **_HEAVY, "length": 7.1, "accel": 1.3, "max_speed": 130.0 * _KMH, "speed_dev": 0.05},
    "trailer": {**_BASE, **_HEAVY, "length": 16.5, "accel": 1.1, "max_speed": 130.0 * _KMH,
                "speed_dev": 0.05},
    "bus": {**_BASE, **_HEAVY, "length": 12.0, "accel": 1.2, "max_speed": 100.0 * _KMH},
    "coach": {**_BASE, **_HEAVY, "length": 14.0, "accel": 2.0, "max_speed": 100.0 * _KMH, "speed_dev": 0.05},
    "motorcycle": {**_BASE, "length": 2.2, "accel": 6.0, "decel": 10.0, "emergency_decel": 10.0,
                   "speed_dev": 0.1},
    "moped": {**_BASE, "length": 2.1, "accel": 1.1, "decel": 7.0, "emergency_decel": 10.0,
              "max_speed": 60.0 * _KMH, "speed_dev": 0.1},
}

#: SUMO car-following model -> the mobsim model (:data:`mobsim.demand.vtypes.CF_MODELS`) that is closest:
#: the IDM variants run as IDM, the safe-speed (Krauss-like) models and all others as Krauss.
CF_MODEL_MAP = {"Krauss": "Krauss", "IDM": "IDM", "IDMM": "IDM", "EIDM": "IDM", "KraussOrig1": "Krauss",
                "KraussPS": "Krauss", "KraussX": "Krauss", "SmartSK": "Krauss", "Daniel1": "Krauss",
                "PWagner2009": "Krauss", "PWagner2013": "Krauss", "BKerner": "Krauss",
                "Wiedemann": "Krauss", "W99": "Krauss", "Rail": "Krauss", "ACC": "ACC",
                "CACC": "CACC", "CC": "Krauss"}
#: SUMO's car-following models (nested ``<carFollowing-MODEL>`` elements of a vType).
CF_MODELS = tuple(CF_MODEL_MAP)
#: SUMO vType attribute -> :class:`VehicleType` field.
VTYPE_ATTRS = {"accel": "accel", "decel": "decel", "emergencyDecel": "emergency_decel", "tau": "tau",
               "minGap": "min_gap", "length": "length", "maxSpeed": "max_speed",
               "speedFactor": "speed_factor", "speedDev": "speed_dev", "delta": "delta", "sigma": "sigma"}
#: SUMO's ACC attributes -> :class:`VehicleType` fields (read for ``carFollowModel="ACC"`` and
#: ``"CACC"``, whose ACC fallback uses them).
ACC_ATTRS = {"speedControlGain": "sc_gain", "gapClosingControlGainSpeed": "gcc_gain_speed",
             "gapClosingControlGainSpace": "gcc_gain_space", "gapControlGainSpeed": "gc_gain_speed",
             "gapControlGainSpace": "gc_gain_space", "collisionAvoidanceGainSpeed": "ca_gain_speed",
             "collisionAvoidanceGainSpace": "ca_gain_space", "collisionAvoidanceOverride": "ca_override"}
#: SUMO's CACC attributes -> :class:`VehicleType` fields (read for ``carFollowModel="CACC"``).
CACC_ATTRS = {"speedControlGainCACC": "sc_gain_cacc", "gapClosingControlGainGap": "gcc_gain_gap",
              "gapClosingControlGainGapDot": "gcc_gain_gap_dot", "gapControlGainGap": "gc_gain_gap",
              "gapControlGainGapDot": "gc_gain_gap_dot", "collisionAvoidanceGainGap": "ca_gain_gap",
              "collisionAvoidanceGainGapDot": "ca_gain_gap_dot", "tauCACCToACC": "tau_cacc_to_acc",
              "speedControlMinGap": "sc_min_gap"}

_DISTRIBUTION = re.compile(r"^\s*normc?\(([^)]*)\)\s*$")


def vclass_defaults(vclass: str) -> dict[str, float]:
    """SUMO's defaults of one vClass for the parameters mobsim has (see :data:`VCLASS_DEFAULTS`)."""
    return dict(VCLASS_DEFAULTS.get(vclass, _BASE))


def sumo_default_vtype() -> VehicleType:
    """SUMO's ``DEFAULT_VEHTYPE`` (passenger defaults, Krauss with sigma 0.5) as a :class:`VehicleType`."""
    d = vclass_defaults("passenger")
    return VehicleType(id=SUMO_DEFAULT_VTYPE, length=d["length"], min_gap=d["min_gap"], accel=d["accel"],
                       decel=d["decel"], emergency_decel=d["emergency_decel"], tau=1.0,
                       max_speed=d["max_speed"], speed_factor=1.0, speed_dev=d["speed_dev"], delta=4.0,
                       cf_model="Krauss", sigma=d["sigma"])


class VTypeReader:
    """The ``<vType>``/``<vTypeDistribution>`` part of the SUMO demand importer (a mixin of its
    importer class, which holds the type tables and the warnings)."""

    def new_type_id(self, el: Elem) -> str:
        vid = el.attrs.get("id", "")
        if not vid:
            raise InputError(f"{el.tag} without id", source=el.source, element=el.tag,
                             fix=f"give every {el.tag} an id")
        if vid in self.vtype_source:
            raise InputError(f"duplicate vType (or vTypeDistribution) id '{vid}' (first in "
                             f"{self.vtype_source[vid]})", source=el.source, element=el.label,
                             fix="make vType and vTypeDistribution ids unique")
        self.vtype_source[vid] = el.source
        return vid

    def vtype(self, el: Elem) -> None:
        source, label = el.source, el.label
        vid = self.new_type_id(el)
        self.vtype_prob[vid] = el.attrs.get("probability", "1")
        vclass = el.attrs.get("vClass", "passenger")
        if vclass in SKIPPED_VCLASSES:
            self.skipped_vtypes.add(vid)
            self.warn.add(source, "vclass", f"'{vid}' ({vclass})")
            return
        if vclass not in DRIVEN_VCLASSES:
            hint = suggest(vclass, DRIVEN_VCLASSES + SKIPPED_VCLASSES)
            raise InputError(f"unknown vClass '{vclass}'{hint}", source=source, element=label,
                             fix="use one of SUMO's vehicle classes")
        if vclass not in CAR_CLASSES:
            self.warn.add("", "vclass_lanes", f"'{vid}' ({vclass})")
        attrs = dict(el.attrs)
        ignored = list(el.ignored)
        model = attrs.get("carFollowModel", self.default_model)  # SUMO's default: Krauss
        for child in el.children:
            if child.tag.startswith("carFollowing-"):
                ignored += [k for k in child.ignored if k not in ignored]
                # SUMO's nested form: the element names the model, its attributes are CF parameters.
                model = child.tag.split("-", 1)[1]
                attrs.update(child.attrs)
        if model not in CF_MODEL_MAP:
            raise InputError(f"unknown carFollowModel '{model}'{suggest(model, CF_MODELS)}", source=source,
                             element=label, fix=f"use one of SUMO's models: {', '.join(CF_MODELS)}")
        cf_model = CF_MODEL_MAP[model]
        if ignored:
            self.warn.add(source, "vtype_attrs", f"'{vid}': {'/'.join(ignored)}")
        if model != cf_model:
            self.warn.add(source, "cfmodel", f"'{vid}' ({model} as {cf_model})")
        d = vclass_defaults(vclass)
        kw: dict[str, Any] = {"length": d["length"], "min_gap": d["min_gap"], "accel": d["accel"],
                              "decel": d["decel"], "tau": 1.0, "max_speed": d["max_speed"],
                              "speed_factor": 1.0, "delta": 4.0, "cf_model": cf_model,
                              "sigma": d["sigma"] if cf_model == "Krauss" else 0.0}
        # SUMO's absolute deviation of the speed factor (--default.speeddev < 0: the class default)
        dev = d["speed_dev"] if self.default_speed_dev < 0 else self.default_speed_dev
        for sumo_name, name in VTYPE_ATTRS.items():
            if sumo_name not in attrs:
                continue
            m = _DISTRIBUTION.match(attrs[sumo_name]) if sumo_name == "speedFactor" else None
            if m:
                args = m.group(1).split(",")
                if len(args) not in (2, 4):
                    raise InputError(f"speedFactor={attrs[sumo_name]!r} is not norm(mean,dev) or "
                                     "normc(mean,dev,min,max)", source=source, element=label,
                                     fix="give speedFactor as a number or a norm/normc distribution")
                kw["speed_factor"] = number(args[0], "speedFactor mean", source, label)
                dev = number(args[1], "speedFactor deviation", source, label)
            elif name == "speed_dev":
                if not ("speedFactor" in attrs and _DISTRIBUTION.match(attrs["speedFactor"])):
                    dev = number(attrs[sumo_name], sumo_name, source, label)
                # else: the distribution's own deviation wins, as in SUMO
            else:
                kw[name] = number(attrs[sumo_name], sumo_name, source, label)
        if model in ("ACC", "CACC"):
            for sumo_name, name in (ACC_ATTRS | CACC_ATTRS if model == "CACC" else ACC_ATTRS).items():
                if sumo_name in attrs:
                    kw[name] = number(attrs[sumo_name], sumo_name, source, label)
        if kw["speed_factor"] > 0:
            kw["speed_dev"] = dev / kw["speed_factor"]  # SUMO's absolute deviation -> mobsim's relative
        if "emergency_decel" not in kw:
            kw["emergency_decel"] = max(kw["decel"], d["emergency_decel"])  # SUMO's default rule
        if kw["emergency_decel"] < VehicleType().lc_safe_decel:
            # MOBIL's safe braking is not a SUMO attribute: keep it within the physical limit
            kw["lc_safe_decel"] = kw["emergency_decel"]
        vt = VehicleType(id=vid, **kw)
        # dt=0: the step-dependent check (tau >= dt) runs when the scenario is built with its dt.
        vt.validate(0.0, source=source)
        self.vtypes[vid] = vt

    def vtype_dist(self, el: Elem) -> None:
        """A ``<vTypeDistribution>`` (its nested vTypes were defined by :meth:`vtype` already)."""
        source, label = el.source, el.label
        did = el.attrs["id"]
        members: list[str] = []
        probs: list[str] = []
        for child in el.kids("vType"):
            ref = child.attrs.get("refId", child.attrs.get("id", ""))
            self.type_ref(ref, source, label)
            members.append(ref)
            probs.append(child.attrs.get("probability", self.vtype_prob.get(ref, "1")))
        if "vTypes" in el.attrs:
            names, given = listed(el.attrs, "vTypes", source, label)
            for k, ref in enumerate(names):
                self.type_ref(ref, source, label)
                members.append(ref)
                probs.append(given[k] if given else self.vtype_prob.get(ref, "1"))
        if not members:
            raise InputError("vTypeDistribution without vTypes", source=source, element=label,
                             fix='nest <vType ... probability="..."/> elements or give vTypes="a b"')
        self.vtype_dists[did] = (members, probabilities(probs, source, label))

    def type_ref(self, ref: str, source: str, element: str) -> None:
        if ref not in self.vtypes and ref not in self.skipped_vtypes:
            known = [*self.vtypes, *self.skipped_vtypes]
            raise InputError(f"unknown vType '{ref}'{suggest(ref, known)}", source=source, element=element,
                             fix="define the vType (<vType id=...>) before referring to it")

    def draw_types(self, el: Elem, n: int) -> list[str]:
        """The type of each of the element's ``n`` vehicles (drawn where it names a distribution)."""
        source, label = el.source, el.label
        entries = [t.strip() for t in el.attrs.get("type", SUMO_DEFAULT_VTYPE).split(",") if t.strip()]
        if not entries:
            raise InputError("empty type", source=source, element=label, fix="give a vType id")
        for t in entries:
            if (t not in self.vtypes and t not in self.skipped_vtypes and t not in self.vtype_dists
                    and t != SUMO_DEFAULT_VTYPE):
                known = [*self.vtypes, *self.vtype_dists]
                raise InputError(f"unknown vType '{t}'{suggest(t, known)}", source=source, element=label,
                                 fix="define the vType (<vType id=...>) in a route or additional file")
        if len(entries) == 1 and entries[0] not in self.vtype_dists:
            return [entries[0]] * n
        rng = rng_for(self.seed, f"vtype:{el.attrs['id']}")
        which = draw_members(rng, np.full(len(entries), 1.0 / len(entries)), n)
        out = [""] * n
        for k, t in enumerate(entries):
            idx = np.flatnonzero(which == k)
            if t in self.vtype_dists:
                members, w = self.vtype_dists[t]
                for i, m in zip(idx, draw_members(rng, w, len(idx)), strict=True):
                    out[i] = members[m]
            else:
                for i in idx:
                    out[i] = t
        return out

    # ---------------------------------------------------------------- routes and edges
