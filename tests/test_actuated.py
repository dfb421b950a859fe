"""Actuated signals (SUMO's gap-based control, kernels/road/signals.py): decisions, detector placement,
import from and export to SUMO. The comparison with SUMO itself is the ``actuated_600_150`` case
of ``tests/validation/test_against_sumo.py``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

import mobsim
from conftest import make_sim
from mobsim.demand.trips import Trip
from mobsim.errors import InputError
from mobsim.net import generators as gen
from mobsim.net.compile import compile_network, signal_start
from mobsim.net.netcheck import check_network


def _actuated_junction(min_dur: float = 5.0, max_dur: float = 50.0) -> mobsim.net.network.Network:
    net = gen.corridor(n_signals=1, spacing=300.0, lanes=1, cycle=90.0)
    prog = net.signals[0]
    phases = tuple(dataclasses.replace(ph, min_dur=min_dur, max_dur=max_dur)
                   if "G" in ph.state and "y" not in ph.state else ph for ph in prog.phases)
    return dataclasses.replace(net, signals=[dataclasses.replace(prog, kind="actuated", phases=phases)])


def _switches(net, trips: list[Trip], end: float, tmp_path: Path, dt: float = 0.5) -> list[tuple[float, int]]:
    sim = make_sim(net, trips, sim__end=end, sim__dt=dt)
    ev = mobsim.open(sim.run(out=tmp_path / "a.h5", progress="none", stop_when_empty=False)).events
    ev = ev[ev["kind_name"].astype(str) == "signal_switch"]
    assert (ev["link_id"].astype(str) == "W-j0").all(), "the event names a link into the junction"
    return [(float(t), int(v)) for t, v in zip(ev["time"], ev["value"], strict=True)]


def test_without_traffic_every_green_gaps_out_at_its_min_duration(tmp_path: Path) -> None:
    """No vehicle, no extension: 5 + 3 + 2 + 5 + 3 + 2 s cycles, the first decision one step
    before minDur (as SUMO 1.28 schedules it)."""
    sw = _switches(_actuated_junction(), [Trip("x", "N0-j0", "j0-S0", 200.0)], 60.0, tmp_path)
    assert sw[:7] == [(4.5, 1), (7.5, 2), (9.5, 3), (14.5, 4), (17.5, 5), (19.5, 0), (24.5, 1)]


def test_a_steady_stream_holds_the_green_to_max_duration(tmp_path: Path) -> None:
    """Main-road vehicles 2 s apart (less than max-gap 3 s) keep their green until maxDur 30 s;
    the side road, without traffic, gets only its minDur."""
    trips = [Trip(f"m{k:03d}", "W-j0", "j0-E", 2.0 * k) for k in range(60)]
    sw = _switches(_actuated_junction(max_dur=30.0), trips, 110.0, tmp_path)
    greens = [t1 - t0 for (t0, p0), (t1, _) in zip(sw, sw[1:], strict=False) if p0 == 0]
    sides = [t1 - t0 for (t0, p0), (t1, _) in zip(sw, sw[1:], strict=False) if p0 == 3]
    assert greens and max(greens) == pytest.approx(30.0)
    assert sides and all(d == pytest.approx(5.0) for d in sides)


def test_gap_out_after_the_platoon(tmp_path: Path) -> None:
    """Ten vehicles 2 s apart, then nothing: the green ends about max-gap after the last one
    passed the detector, well before maxDur."""
    trips = [Trip(f"m{k:03d}", "W-j0", "j0-E", 2.0 * k) for k in range(10)]
    sw = _switches(_actuated_junction(), trips, 120.0, tmp_path)
    greens = [(t0, t1 - t0) for (t0, p0), (t1, _) in zip(sw, sw[1:], strict=False) if p0 == 0]
    longest = max(d for _, d in greens)
    assert 15.0 < longest < 50.0


def test_detectors_sit_where_sumo_puts_them() -> None:
    cn = compile_network(_actuated_junction())
    a = cn.arrays
    # min(detector-gap 2 s x 13.89 m/s, (minDur 5 / passing-time 1.9 + 0.5) x 7.5 m) before the line
    back = min(2.0 * 13.89, (5.0 / 1.9 + 0.5) * 7.5)
    lanes = np.nonzero(a.lane_det >= 0)[0]
    assert len(lanes) == 4  # the four approaches, not the exits
    for lane in lanes:
        assert a.det_pos[a.lane_det[lane]] == pytest.approx(a.lane_len[lane] - back)
    # the main green (phase 0) is extended by the main road's two approaches, the side green by the side's
    main = {int(a.lane_link[q]) for q in lanes if a.lane_det[q] in set(a.phase_det[a.phase_det_start[0]:
                                                                                    a.phase_det_start[1]])}
    assert {cn.link_ids[k] for k in main} == {"W-j0", "E-j0"}
    assert a.phase_det_start[2] - a.phase_det_start[1] == 0, "no detector extends a yellow"
    phase, since, try_at = signal_start(cn, 100.0, 1.0)
    assert phase.tolist() == [0] and since.tolist() == [99.0] and try_at.tolist() == [104.0]
    phase, since, try_at = signal_start(cn, 50.0, 1.0)  # 50 s into the 90 s cycle: phase 3
    assert phase.tolist() == [3] and try_at.tolist() == [54.0]


def test_a_static_program_is_untouched() -> None:
    cn = compile_network(gen.corridor(n_signals=1))
    assert cn.arrays.ctrl_kind.tolist() == [0] and len(cn.arrays.det_pos) == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "adaptive"}, "program kind"),
    ({"max_gap": 0.0}, "max_gap"),
    ({"phases": "min>max"}, "minDur"),
    ({"phases": "next"}, "next phase"),
])
def test_bad_actuated_programs_are_errors(change: dict, message: str) -> None:
    net = _actuated_junction()
    prog = net.signals[0]
    if change.get("phases") == "min>max":
        prog = dataclasses.replace(prog, phases=(dataclasses.replace(prog.phases[0], min_dur=60.0),
                                                 *prog.phases[1:]))
    elif change.get("phases") == "next":
        prog = dataclasses.replace(prog, phases=(dataclasses.replace(prog.phases[0], next=9),
                                                 *prog.phases[1:]))
    else:
        prog = dataclasses.replace(prog, **change)
    with pytest.raises(InputError, match=message):
        check_network(dataclasses.replace(net, signals=[prog]))


@pytest.mark.skipif(shutil.which("netconvert") is None, reason="SUMO's netconvert not installed")
def test_actuated_programs_go_to_sumo_and_come_back(tmp_path: Path) -> None:
    """Exported with minDur, maxDur and the gap parameters, built by netconvert, imported again:
    the same program."""
    from mobsim.interop.sumo_export import build_net, export_network
    from mobsim.interop.sumo_net import read_sumo_network

    net = _actuated_junction(min_dur=6.0, max_dur=40.0)
    net = dataclasses.replace(net, signals=[dataclasses.replace(net.signals[0], max_gap=2.5, detector_gap=1.5,
                                                                passing_time=2.0)])
    files = export_network(net, tmp_path, "act")
    back = read_sumo_network(build_net(files, tmp_path / "act.net.xml"), cache=False)
    prog = back.signals[0]
    assert prog.kind == "actuated"
    assert (prog.max_gap, prog.detector_gap, prog.passing_time) == (2.5, 1.5, 2.0)
    greens = [ph for ph in prog.phases if "G" in ph.state and "y" not in ph.state]
    assert [(ph.min_dur, ph.max_dur) for ph in greens] == [(6.0, 40.0), (6.0, 40.0)]
    yellows = [ph for ph in prog.phases if "y" in ph.state]
    assert all(ph.min_dur == ph.max_dur == ph.duration for ph in yellows)


def test_native_files_keep_actuated_programs(tmp_path: Path) -> None:
    """signal.csv carries type, min_dur, max_dur, next and the gap parameters: written and read
    back, the same program (a static one stays static)."""
    from mobsim.net.netio import read_network, write_network

    net = _actuated_junction(min_dur=6.0, max_dur=40.0)
    net = dataclasses.replace(net, signals=[dataclasses.replace(net.signals[0], max_gap=2.5)])
    write_network(net, tmp_path / "act")
    assert read_network(tmp_path / "act").signals == net.signals
    plain = gen.corridor(n_signals=1)
    write_network(plain, tmp_path / "static")
    assert read_network(tmp_path / "static").signals == plain.signals


def _game() -> Path:
    sumo = pytest.importorskip("sumo")
    folder = Path(sumo.SUMO_HOME) / "tools" / "game"
    if not (folder / "cross_demo.sumocfg").is_file():
        pytest.skip("the eclipse-sumo wheel ships no cross_demo scenario")
    return folder


def test_traffic_lights_of_additional_files_run_as_in_sumo() -> None:
    """cross_demo loads SUMO's optimised actuated program 'demo' from an additional file: SUMO runs
    the program loaded last, and so does mobsim (the network's own program is fixed-time)."""
    from mobsim.scenario import load_scenario

    sc = load_scenario(_game() / "cross_demo.sumocfg")
    (prog,) = sc.network.signals
    assert (prog.program_id, prog.kind) == ("demo", "actuated")
    assert [(ph.min_dur, ph.max_dur) for ph in prog.phases if ph.min_dur != ph.max_dur] == [
        (20.0, 30.0), (5.0, 10.0), (28.0, 35.0), (5.0, 10.0)]
    assert not any("tls_opt" in w for w in sc.warnings), "the file is used, not listed as ignored"


def test_a_program_for_an_unknown_traffic_light_is_an_error(tmp_path: Path) -> None:
    from mobsim.scenario import load_scenario

    game = _game()
    (tmp_path / "bad.add.xml").write_text('<add><tlLogic id="nope" type="static" programID="x" offset="0">'
                                          '<phase duration="30" state="GGrr"/></tlLogic></add>')
    cfg = tmp_path / "x.sumocfg"
    cfg.write_text(f'<configuration><input><net-file value="{game / "cross" / "cross.net.xml"}"/>'
                   f'<route-files value="{game / "cross" / "cross.rou.xml"}"/>'
                   '<additional-files value="bad.add.xml"/></input>'
                   '<time><begin value="0"/><end value="60"/></time></configuration>')
    with pytest.raises(InputError, match="traffic light 'nope' is not in the network") as exc:
        load_scenario(cfg)
    assert "bad.add.xml" in str(exc.value)


def test_signal_events_without_any_trip(tmp_path: Path) -> None:
    """A run with actuated signals and no trips (SUMO's DRT demo once its taxi rides are skipped)
    records the switches; it used to fail mapping the events' missing vehicles to trips."""
    sw = _switches(_actuated_junction(), [], 30.0, tmp_path)
    assert sw[:3] == [(4.5, 1), (7.5, 2), (9.5, 3)]


# ------------------------------------------------------------------ delay-based control

def _delay_junction(min_dur: float = 5.0, max_dur: float = 50.0, detector_range: float = 100.0,
                    min_time_loss: float = 1.0, extend_max_dur: bool = False) -> mobsim.net.network.Network:
    net = _actuated_junction(min_dur, max_dur)
    prog = dataclasses.replace(net.signals[0], kind="delay_based", detector_range=detector_range,
                               min_time_loss=min_time_loss, extend_max_dur=extend_max_dur)
    return dataclasses.replace(net, signals=[prog])


def test_delay_based_green_ends_at_maxdur_unless_extend_max_dur_and_nobody_waits_on_red(
        tmp_path: Path) -> None:
    """SUMO 1.28's delay-based control: with traffic on the main road only, its green is
    prolonged 1 s at a time (no vehicle in a red lane's detector zone) up to maxDur, then the
    cycle goes on (measured in SUMO: 50 s greens with maxDur 50 and no traffic); with
    ``extendMaxDur`` the green never ends; once a side-road vehicle waits within 100 m of its
    line, the green ends at maxDur at the latest even then, and the side road gets its turn."""
    main = [Trip(f"m{k:03d}", "W-j0", "j0-E", 2.0 * k) for k in range(40)]
    sw = _switches(_delay_junction(max_dur=30.0), main, 70.0, tmp_path / "capped")
    # The first decision comes one step before minDur (as for actuated control), each 1 s
    # prolongation after it: the green ends at the decision at 29.5 s, where 30 s would pass maxDur.
    assert sw[:3] == [(29.5, 1), (32.5, 2), (34.5, 3)]
    sw = _switches(_delay_junction(max_dur=30.0, extend_max_dur=True), main, 70.0, tmp_path / "extend")
    assert sw == [], "with extendMaxDur a green with no one waiting elsewhere stays"
    side = [Trip("s", "N0-j0", "j0-S0", 10.0)]
    sw = _switches(_delay_junction(max_dur=30.0, extend_max_dur=True), main + side, 120.0, tmp_path / "side")
    first_end = sw[0][0]
    # The side vehicle departs at 10 s and soon reaches the zone; the main road's queue-free
    # stream has no time loss there, so the green ends at the next decision, before maxDur.
    assert sw[0][1] == 1 and 10.0 < first_end < 30.0
    assert [p for _, p in sw[:6]] == [1, 2, 3, 4, 5, 0]


def test_delay_based_green_extends_for_delayed_vehicles_then_switches(tmp_path: Path) -> None:
    """Main-road vehicles queue at red (the program starts with a side green of at least 40 s);
    side-road vehicles wait in their zone throughout, so the main green is never prolonged for
    an empty side road. With minTimeloss 1 s the queued vehicles' time loss holds the main green
    beyond minDur until the last of them can reach the line; with a minTimeloss no vehicle
    reaches, the same green ends at minDur."""
    net = _delay_junction(min_dur=5.0, max_dur=50.0)
    prog = net.signals[0]
    ph = prog.phases
    side_first = dataclasses.replace(ph[3], min_dur=40.0)
    rotated = dataclasses.replace(prog, phases=(side_first, *ph[4:], *ph[:3]))
    main = [Trip(f"m{k:03d}", "W-j0", "j0-E", 1.0 * k) for k in range(8)]
    side = [Trip(f"s{k:02d}", "N0-j0", "j0-S0", 2.5 * k) for k in range(40)]

    def main_greens(min_time_loss: float, tag: str) -> list[float]:
        p = dataclasses.replace(rotated, min_time_loss=min_time_loss)
        sw = _switches(dataclasses.replace(net, signals=[p]), main + side, 90.0, tmp_path / tag)
        return [t1 - t0 for (t0, p0), (t1, _) in zip(sw, sw[1:], strict=False) if p0 == 3]

    plain = main_greens(1.0e6, "threshold")
    assert plain and plain[0] == pytest.approx(5.0), "no vehicle lost 1e6 s: the green ends at minDur"
    held = main_greens(1.0, "delayed")
    # the 8 queued vehicles discharge about 2 s apart: the green lasts until the last is near
    # the line (17 s here), well short of maxDur
    assert held and 12.0 <= held[0] <= 25.0, held


def test_delay_based_programs_come_from_sumo_and_go_back(tmp_path: Path) -> None:
    """A tlLogic of type delay_based with detectorRange, minTimeloss and extendMaxDur: imported
    as a delay-based program with its parameters and min/max durations, exported with them, and
    written to and read from signal.csv unchanged; extendMaxDur is off unless the file sets it,
    and a value SUMO cannot read as a boolean is an error naming the traffic light."""
    from mobsim.interop.sumo_export import export_network
    from mobsim.net.netio import read_network, write_network

    for extend in (False, True):
        net = _delay_junction(min_dur=6.0, max_dur=40.0, detector_range=80.0, extend_max_dur=extend)
        net = dataclasses.replace(net, signals=[dataclasses.replace(net.signals[0], min_time_loss=2.0)])
        out = tmp_path / str(extend)
        out.mkdir()
        files = export_network(net, out, "dl")
        text = Path(files["tll"]).read_text()
        assert 'type="delay_based"' in text and 'key="detectorRange" value="80.0"' in text
        assert 'key="minTimeloss" value="2.0"' in text and 'minDur="6.0"' in text
        assert ('key="extendMaxDur" value="true"' in text) == extend
        write_network(net, out / "native")
        assert read_network(out / "native").signals == net.signals
        if shutil.which("netconvert") is None:
            continue
        from mobsim.interop.sumo_export import build_net
        from mobsim.interop.sumo_net import read_sumo_network

        built = build_net(files, out / "dl.net.xml")
        back = read_sumo_network(built, cache=False)
        prog = back.signals[0]
        assert (prog.kind, prog.detector_range, prog.min_time_loss) == ("delay_based", 80.0, 2.0)
        assert prog.extend_max_dur == extend
        greens = [ph for ph in prog.phases if "G" in ph.state and "y" not in ph.state]
        assert [(ph.min_dur, ph.max_dur) for ph in greens] == [(6.0, 40.0), (6.0, 40.0)]
        if extend:
            bad = out / "bad.net.xml"
            bad.write_text(Path(built).read_text().replace('value="true"', 'value="maybe"'))
            with pytest.raises(InputError, match="extendMaxDur='maybe' is not a boolean") as e:
                read_sumo_network(bad, cache=False)
            assert "tlLogic 'j0'" in str(e.value)


def test_signal_csv_extend_max_dur_is_0_or_1(tmp_path: Path) -> None:
    """signal.csv's extend_max_dur column takes 0 or 1; anything else is an error naming the
    file, row and column."""
    from mobsim.net.netio import read_network, write_network

    write_network(_delay_junction(), tmp_path)
    f = tmp_path / "signal.csv"
    lines = f.read_text().splitlines()
    col = lines[0].split(",").index("extend_max_dur")
    row = lines[1].split(",")
    row[col] = "2"
    f.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    with pytest.raises(InputError, match="extend_max_dur is 2, it must be 0 or 1") as e:
        read_network(tmp_path)
    assert "signal.csv" in str(e.value) and "row 2" in str(e.value)


def test_delay_based_zones_cover_the_last_detector_range_metres_of_each_incoming_lane() -> None:
    cn = compile_network(_delay_junction(detector_range=100.0))
    a = cn.arrays
    lanes = a.ctrl_lane[a.ctrl_lane_start[0]:a.ctrl_lane_start[1]]
    assert len(set(lanes.tolist())) == 4  # one lane from each of the four approaches
    for q in set(lanes.tolist()):
        assert a.lane_dz[q] == pytest.approx(a.lane_len[q] - 100.0)
    others = np.setdiff1d(np.arange(a.lane_len.shape[0]), lanes)
    assert np.isinf(a.lane_dz[others]).all()
