"""SUMO traffic-light programs as mobsim signal programs: static, actuated and delay-based
programs of a network or an additional file, with their parameters. Used by
:mod:`mobsim.interop.sumo_net`. Units: s, m."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mobsim.errors import InputError
from mobsim.net.network import SignalPhase, SignalProgram

#: SUMO signal state -> mobsim signal state (``Ggyros``).
SIGNAL_STATE = {"G": "G", "g": "g", "y": "y", "Y": "y", "r": "r", "u": "r", "o": "o", "O": "G", "s": "s"}


def read_tls_file(path: Path, net: Any, tl_params: dict[tuple[str, str], dict[str, str]],
                   active: dict[str, str]) -> None:
    """Add the ``<tlLogic>`` programs of a SUMO additional file to ``net``'s traffic lights; each
    becomes its traffic light's ``active`` program (SUMO switches to the program loaded last)."""
    import xml.parsers.expat

    source = str(path)
    program: Any = None
    key: tuple[str, str] | None = None
    known = {t.getID() for t in net.getTrafficLights()}

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal program, key
        try:
            if name == "tlLogic":
                tid, pid = attrs["id"], attrs.get("programID", "0")
                if tid not in known:
                    raise InputError(f"traffic light '{tid}' is not in the network", source=source,
                                     element=f"tlLogic '{tid}'",
                                     fix="give the id of a traffic light of the net-file")
                program = net.addTLSProgram(tid, pid, float(attrs.get("offset", 0)),
                                            attrs.get("type", "static"), False)
                key = (tid, pid)
                active[tid] = pid
            elif name == "phase" and program is not None:
                program.addPhase(attrs["state"], float(attrs["duration"]),
                                 float(attrs["minDur"]) if "minDur" in attrs else -1,
                                 float(attrs["maxDur"]) if "maxDur" in attrs else -1,
                                 [int(x) for x in attrs["next"].split()] if "next" in attrs else [])
            elif name == "param" and key is not None:
                tl_params.setdefault(key, {})[attrs["key"]] = attrs.get("value", "")
            elif name not in ("condition", "assignment", "function"):
                program, key = None, None
        except (KeyError, ValueError) as exc:
            raise InputError(f"bad traffic-light program element <{name}> ({type(exc).__name__}: {exc})",
                             source=source, element=f"tlLogic '{attrs.get('id', key[0] if key else '?')}'",
                             fix="give id, programID, offset and phases with state and duration, for a "
                                 "traffic light of the network") from None

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    try:
        with path.open("rb") as f:
            parser.ParseFile(f)
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(f"not well-formed XML ({exc})", source=source,
                         fix="give a SUMO additional file") from None


#: SUMO's actuated parameters (``<param key=...>`` of a tlLogic) -> SignalProgram field, default (s).
ACTUATED_PARAMS = {"max-gap": ("max_gap", 3.0), "detector-gap": ("detector_gap", 2.0),
                   "passing-time": ("passing_time", 1.9)}


#: SUMO's delay-based parameters -> SignalProgram field, default (m, s; SUMO's
#: ``tls.delay_based.detector-range`` option is 100 m).
DELAY_PARAMS = {"detectorRange": ("detector_range", 100.0), "minTimeloss": ("min_time_loss", 1.0)}


#: SUMO's spellings of a boolean parameter (``StringUtils::toBool``).
BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "x": True, "t": True,
            "false": False, "0": False, "no": False, "off": False, "-": False, "f": False}


#: Per program type, its parameters.
PROGRAM_PARAMS = {"actuated": ACTUATED_PARAMS, "delay_based": DELAY_PARAMS}


def program(net: Any, tls_id: str, node: str, indices: list[int], n_extra: int, source: str,
             approx: dict[str, int], tl_params: dict[tuple[str, str], dict[str, str]],
             active: str | None = None) -> SignalProgram:
    """The node's program: the traffic light's program loaded last, restricted to ``indices``.

    ``static``, ``actuated`` and ``delay_based`` programs run as SUMO runs them (actuated:
    ``minDur``, ``maxDur``, a single ``next``, and the ``max-gap``, ``detector-gap`` and
    ``passing-time`` parameters; delay-based: ``minDur``, ``maxDur``, ``detectorRange`` and
    ``minTimeloss``); other types (``NEMA``, ...) run fixed-time with their phase durations, and
    several ``next`` phases (SUMO's priority-based phase choice) run as the first of them, each
    counted in a warning."""
    try:
        tls = net.getTLS(tls_id)
    except KeyError:
        raise InputError(f"connections refer to traffic light '{tls_id}', which has no tlLogic",
                         source=source, element=f"junction '{node}'",
                         fix="rebuild the network with netconvert") from None
    programs = tls.getPrograms()
    if not programs:
        raise InputError(f"traffic light '{tls_id}' has no program", source=source,
                         element=f"tlLogic '{tls_id}'", fix="add a static program (netconvert writes one)")
    # SUMO runs the program loaded last: one from an additional file, else the network's own last
    # (sumolib keeps the programs in file order; bs3d's game light has four, and SUMO runs "3").
    pid = active if active in programs else list(programs)[-1]
    prog = programs[pid]
    kind = str(prog.getType())
    if kind in ("None", ""):
        kind = "static"
    if kind not in ("static", "actuated", "delay_based"):
        approx[f"'{kind}' traffic lights (run fixed-time with their phase durations)"] += 1
        kind = "static"
    params = tl_params.get((tls_id, pid), {})
    extra: dict[str, float | bool] = {}
    known: dict[str, Any] = dict(PROGRAM_PARAMS.get(kind, {}))
    if kind == "delay_based":
        known["extendMaxDur"] = None
        raw = params.get("extendMaxDur", "false").strip().lower()
        if raw not in BOOLEANS:
            raise InputError(f"parameter extendMaxDur={params['extendMaxDur']!r} is not a boolean",
                             source=source, element=f"tlLogic '{tls_id}'",
                             fix="give extendMaxDur true or false")
        extra["extend_max_dur"] = BOOLEANS[raw]
    for key, spec in known.items():
        if spec is None:
            continue
        name, default = spec
        try:
            extra[name] = float(params.get(key, default))
        except ValueError:
            raise InputError(f"parameter {key}={params[key]!r} is not a number", source=source,
                             element=f"tlLogic '{tls_id}'",
                             fix=f"give {key} in {'m' if key == 'detectorRange' else 's'}") from None
        if not extra[name] > 0.0:
            raise InputError(f"parameter {key}={params.get(key)!r} is not positive", source=source,
                             element=f"tlLogic '{tls_id}'", fix=f"give {key} > 0")
    if kind != "static":
        unknown = sorted(k for k in params if k not in known and not k.startswith("show-"))
        if unknown:
            approx[f"{kind} parameters not honoured ({', '.join(unknown)})"] += 1
    phases = []
    for k, ph in enumerate(prog.getPhases()):
        state = str(ph.state)
        if indices and max(indices) >= len(state):
            raise InputError(f"phase {k} has {len(state)} states but a connection uses link index "
                             f"{max(indices)}", source=source, element=f"tlLogic '{tls_id}'",
                             fix="rebuild the network with netconvert")
        chars = []
        for ix in indices:
            ch = state[ix]
            if ch not in SIGNAL_STATE:
                raise InputError(f"phase {k} has state '{ch}', which mobsim does not know", source=source,
                                 element=f"tlLogic '{tls_id}'", fix="use the SUMO states G g y r u o O s")
            if ch in "Ous":
                approx[f"signal state '{ch}'"] += 1
            chars.append(SIGNAL_STATE[ch])
        act: dict[str, Any] = {}
        if kind in ("actuated", "delay_based"):
            lo, hi = float(ph.minDur), float(ph.maxDur)
            act["min_dur"] = float(ph.duration) if lo < 0 else lo
            act["max_dur"] = float(ph.duration) if hi < 0 else hi
            nxt = list(ph.next or ())
            if len(nxt) > 1:
                approx["actuated phases with several next phases (the first is used)"] += 1
            act["next"] = int(nxt[0]) if nxt and kind == "actuated" else -1  # delay-based: in order
        phases.append(SignalPhase(duration=float(ph.duration), state="".join(chars) + "G" * n_extra, **act))
    return SignalProgram(node=node, phases=tuple(phases), offset=float(prog.getOffset() or 0.0),
                         program_id=pid, kind=kind, **extra)
