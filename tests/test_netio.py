"""GMNS-style CSV network files: round trips, defaults, and every bad-input error."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobsim.errors import InputError
from mobsim.net import generators
from mobsim.net.movements import default_movements
from mobsim.net.netcheck import check_network
from mobsim.net.netio import read_network, write_network
from mobsim.net.network import Network

REPO = Path(__file__).resolve().parents[1]


def same(a: Network, b: Network) -> bool:
    return (a.nodes, a.links, a.movements, a.signals) == (b.nodes, b.links, b.movements, b.signals)


@pytest.mark.parametrize("make", [generators.district, generators.corridor, generators.ring,
                                  generators.single_link, generators.signal_approach,
                                  lambda: generators.grid(2, 3, lanes=2, signalised=False)])
def test_round_trip_gives_equal_network(tmp_path: Path, make) -> None:
    net = make()
    write_network(net, tmp_path / "net")
    back = read_network(tmp_path / "net", name=net.name)
    assert back == Network(net.nodes, net.links, net.movements, net.signals, net.name, str(tmp_path / "net"))
    write_network(back, tmp_path / "again")
    for f in ("node.csv", "link.csv", "movement.csv", "signal.csv"):
        assert (tmp_path / "net" / f).read_text() == (tmp_path / "again" / f).read_text()


def test_name_defaults_to_folder_or_parent_of_net(tmp_path: Path) -> None:
    write_network(generators.single_link(), tmp_path / "mine" / "net")
    write_network(generators.single_link(), tmp_path / "other")
    assert read_network(tmp_path / "mine" / "net").name == "mine"
    assert read_network(tmp_path / "other").name == "other"


def test_bundled_default_network_matches_its_generator() -> None:
    net = read_network(REPO / "networks" / "default" / "net")
    assert same(net, generators.district())
    assert net.name == "default"
    assert check_network(net) == []


MINIMAL_NODES = """node_id,x_coord,y_coord,control,name
W,-100,0,none,west end
J,0,0,signal,
E,100,0,none,
N,0,100,none,
"""
MINIMAL_LINKS = """link_id,from_node_id,to_node_id,length,free_speed_kmh,lanes,facility_type
W-J,W,J,100,50,2,arterial
J-W,J,W,100,50,2,arterial
E-J,E,J,100,50,2,arterial
J-E,J,E,100,50,2,arterial
N-J,N,J,100,36,1,local

J-N,J,N,100,36,1,local
"""


def write_files(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_minimal_folder_gets_default_movements_and_program(tmp_path: Path) -> None:
    folder = write_files(tmp_path, node=MINIMAL_NODES, link=MINIMAL_LINKS)
    net = read_network(folder)
    assert [link.speed for link in net.links[:4]] == pytest.approx([50 / 3.6] * 4)
    assert net.links[4].speed == pytest.approx(10.0)
    assert net.links[0].priority == 0 and net.links[0].shape == ()
    assert net.movements == default_movements(net)
    assert len(net.signals) == 1 and net.signals[0].cycle == pytest.approx(90.0)
    assert check_network(net) == []


def test_geometry_and_optional_movement_columns(tmp_path: Path) -> None:
    links = MINIMAL_LINKS.replace("facility_type", "geometry").replace(
        "N-J,N,J,100,36,1,local", 'N-J,N,J,110,36,1,"LINESTRING (0 100, 10 50, 0 0)"').replace(
        ",arterial", ",").replace(",local", ",")
    nodes = MINIMAL_NODES.replace(",signal,", ",priority,")
    folder = write_files(tmp_path, node=nodes, link=links)
    net = read_network(folder)
    assert net.links[4].shape == ((0.0, 100.0), (10.0, 50.0), (0.0, 0.0))
    mv = ["node_id,ib_link_id,ib_lane,ob_link_id,ob_lane,kind"]
    mv += [f"{m.node},{m.from_link},{m.from_lane},{m.to_link},{m.to_lane},{m.kind}" for m in net.movements]
    write_files(folder, movement="\n".join(mv) + "\n")
    again = read_network(folder)
    assert again.movements == net.movements  # turn defaults to the geometry's turn


def test_sumo_right_of_way_survives_the_round_trip(tmp_path: Path) -> None:
    """A SUMO network's own relation (``yields_to`` from its request tables, ``waits_for`` from
    its internal junctions) is written and read back, not re-derived from the geometry: without
    it, ``bench.vs_sumo``'s city case ran mobsim's native copy with another right of way than
    SUMO's (mean travel time 133 s against 255 s on the very network)."""
    sumo = pytest.importorskip("sumo")
    from mobsim.interop.sumo_net import read_sumo_network

    net = read_sumo_network(Path(sumo.SUMO_HOME) / "tools" / "game" / "fkk_in" / "ingolstadt.net.xml.gz")
    assert any(m.waits_for for m in net.movements) and any(m.yields_to == () for m in net.movements)
    write_network(net, tmp_path / "n")
    again = read_network(tmp_path / "n")
    assert [(m.yields_to, m.waits_for) for m in again.movements] == [(m.yields_to, m.waits_for)
                                                                     for m in net.movements]


# ---------------------------------------------------------------------------------------------
# bad input corpus: every case must name the file, the row, the column where there is one, and a fix


@pytest.fixture
def good(tmp_path: Path) -> Path:
    folder = tmp_path / "net"
    write_network(generators.corridor(n_signals=2), folder)
    return folder


def edit(folder: Path, file: str, row: int, column: str, value: str) -> None:
    """Set ``column`` on ``row`` (1-based line, header = 1) of ``folder/file``."""
    path = folder / file
    records = list(csv.reader(io.StringIO(path.read_text())))
    records[row - 1][records[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    path.write_text(out.getvalue())


def expect(folder: Path, *parts: str) -> InputError:
    with pytest.raises(InputError) as info:
        read_network(folder)
    err = info.value
    msg = str(err)
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    assert err.fix, msg
    assert "\n  fix: " in msg
    return err


@pytest.mark.parametrize("file, row, column, value, parts", [
    ("link.csv", 3, "from_node_id", "nowhere", ["node 'nowhere' is not in node.csv"]),
    ("link.csv", 4, "length", "-5", ["must be > 0"]),
    ("link.csv", 4, "length", "0", ["must be > 0"]),
    ("link.csv", 5, "length", "NaN", ["not a finite number"]),
    ("link.csv", 5, "length", "", ["value is missing"]),
    ("link.csv", 2, "free_speed", "fast", ["'fast' is not a number"]),
    ("link.csv", 6, "lanes", "0", ["must be >= 1"]),
    ("link.csv", 6, "lanes", "1.5", ["not an integer"]),
    ("link.csv", 7, "link_id", "W-j0", ["link id 'W-j0' is already used on row 2"]),
    ("link.csv", 6, "to_node_id", "j1", ["starts and ends at node 'j1'"]),
    ("link.csv", 3, "geometry", "LINESTRING (0 0)", ["at least two points"]),
    ("link.csv", 3, "geometry", "POINT (0 0)", ["not a WKT LINESTRING"]),
    ("node.csv", 3, "node_id", "j0", ["node id 'j0' is already used on row 2"]),
    ("node.csv", 2, "x_coord", "1,5", ["not a number"]),
    ("node.csv", 2, "control", "roundabout", ["not a node control"]),
    ("signal.csv", 3, "state", "GGXrrr", ["characters ['X']"]),
    ("signal.csv", 3, "state", "GG", ["has 2 characters but node 'j0' has"]),
    ("signal.csv", 4, "duration", "0", ["must be > 0"]),
    ("signal.csv", 4, "offset", "5", ["offset 5.0 differs"]),
    ("signal.csv", 4, "phase", "0", ["phase 0 of node 'j0' is listed twice"]),
    ("signal.csv", 4, "program_id", "night", ["already has program '0'"]),
    ("movement.csv", 2, "ib_lane", "7", ["lane 7 does not exist"]),
    ("movement.csv", 2, "ob_link_id", "W-j0", ["starts at node 'W', not at"]),
    ("movement.csv", 2, "ib_link_id", "zzz", ["link 'zzz' is not in link.csv"]),
    ("movement.csv", 2, "kind", "yield", ["'yield' is not a movement kind"]),
    ("movement.csv", 2, "turn", "x", ["'x' is not a turn code"]),
    ("movement.csv", 2, "signal_index", "", ["has no signal index"]),
    ("movement.csv", 2, "wait", "5", ["between 0 and the movement's length 0.0 m"]),
    ("movement.csv", 2, "yields_to", "W-j0|0|j0-E", ["'W-j0|0|j0-E' is not a movement"]),
    ("movement.csv", 2, "waits_for", "W-j0|0|nowhere|0", ["is not a movement of node"]),
])
def test_bad_value_names_file_row_column_and_fix(good: Path, file: str, row: int, column: str,
                                                 value: str, parts: list[str]) -> None:
    edit(good, file, row, column, value)
    err = expect(good, *parts)
    assert err.source == str(good / file)
    assert err.element == f"row {row}, column '{column}'"


def test_signal_index_at_unsignalised_node(good: Path) -> None:
    text = (good / "movement.csv").read_text().splitlines()
    row = next(i for i, line in enumerate(text, 1) if line.startswith("W,"))
    edit(good, "movement.csv", row, "signal_index", "3")
    expect(good, "movement.csv", f"row {row}, column 'signal_index'", "not a signal node")


def test_missing_required_file(good: Path) -> None:
    (good / "node.csv").unlink()
    err = expect(good, "node.csv", "file is missing", "create node.csv")
    assert err.source == str(good / "node.csv")


def test_missing_folder(tmp_path: Path) -> None:
    expect(tmp_path / "nope", "network folder does not exist")


def test_empty_file(good: Path) -> None:
    (good / "link.csv").write_text("")
    expect(good, "link.csv", "file is empty")


def test_header_only_node_file(good: Path) -> None:
    (good / "node.csv").write_text("node_id,x_coord,y_coord\n")
    expect(good, "node.csv", "has no nodes")


def test_truncated_file(good: Path) -> None:
    text = (good / "link.csv").read_text()
    (good / "link.csv").write_text(text[: len(text) - 12])
    n_lines = text.count("\n")
    expect(good, "link.csv", f"row {n_lines}", "truncated", "complete the row")


def test_unclosed_quote(good: Path) -> None:
    with (good / "node.csv").open("a") as f:
        f.write('x,"1,2\n')
    expect(good, "node.csv", "not valid CSV")


def test_too_many_values(good: Path) -> None:
    with (good / "node.csv").open("a") as f:
        f.write("x,1,2,none,extra\n")
    n = (good / "node.csv").read_text().count("\n")
    expect(good, "node.csv", f"row {n}", "5 values but the header has 4 columns", "quote values")


def test_unknown_column(good: Path) -> None:
    text = (good / "node.csv").read_text().splitlines()
    text = [text[0] + ",colour"] + [line + ",red" for line in text[1:]]
    (good / "node.csv").write_text("\n".join(text) + "\n")
    expect(good, "node.csv", "row 1 (header)", "unknown column 'colour'", "allowed columns")


def test_unsupported_gmns_column_has_a_specific_fix(good: Path) -> None:
    text = (good / "link.csv").read_text().splitlines()
    text = [text[0] + ",directed"] + [line + ",true" for line in text[1:]]
    (good / "link.csv").write_text("\n".join(text) + "\n")
    expect(good, "link.csv", "column 'directed' is not supported", "one row per direction")


def test_missing_column(good: Path) -> None:
    rows = list(csv.reader(io.StringIO((good / "link.csv").read_text())))
    k = rows[0].index("lanes")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:k] + r[k + 1:] for r in rows])
    (good / "link.csv").write_text(out.getvalue())
    expect(good, "link.csv", "required column 'lanes' is missing")


def test_two_speed_columns(good: Path) -> None:
    text = (good / "link.csv").read_text().splitlines()
    text = [text[0] + ",free_speed_kmh"] + [line + ",50" for line in text[1:]]
    (good / "link.csv").write_text("\n".join(text) + "\n")
    expect(good, "link.csv", "exactly one of the columns free_speed")


def test_link_without_movement_is_an_error(good: Path) -> None:
    text = (good / "movement.csv").read_text().splitlines()
    kept = [line for line in text if not line.startswith("j0,W-j0,")]
    assert len(kept) < len(text) - 1
    (good / "movement.csv").write_text("\n".join(kept) + "\n")
    err = expect(good, "link 'W-j0'", "no lane has a movement out of node 'j0'", "add a movement")
    assert err.source == str(good)


def test_signal_node_without_rows_gets_default_program(good: Path) -> None:
    text = (good / "signal.csv").read_text().splitlines()
    (good / "signal.csv").write_text("\n".join(line for line in text if not line.startswith("j1,")) + "\n")
    net = read_network(good)
    assert [p.node for p in net.signals] == ["j0", "j1"]
    assert net.signals[1].cycle == pytest.approx(90.0)


def test_write_refuses_invalid_network(tmp_path: Path) -> None:
    net = generators.single_link()
    net.links[1] = replace(net.links[1], length=-1.0)
    with pytest.raises(InputError, match="length"):
        write_network(net, tmp_path)


def test_signal_rows_for_unsignalised_node(good: Path) -> None:
    edit(good, "node.csv", 2, "control", "none")
    rows = list(csv.reader(io.StringIO((good / "movement.csv").read_text())))
    for r in rows[1:]:
        if r[0] == "j0":
            r[rows[0].index("signal_index")] = "-1"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (good / "movement.csv").write_text(out.getvalue())
    err = expect(good, "has control 'none', not signal", "set control=signal")
    assert err.source == str(good / "signal.csv") and err.element == "row 2, column 'node_id'"


_BASE = generators.corridor(n_signals=1)


@settings(max_examples=60, deadline=None)
@given(file=st.sampled_from(["node.csv", "link.csv", "movement.csv", "signal.csv"]),
       cut=st.floats(0.0, 1.0), junk=st.text(alphabet=',"\n -.0123456789eanNGgyrojW', max_size=8))
def test_any_corruption_gives_a_network_or_an_input_error(file: str, cut: float, junk: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_network(_BASE, tmp)
        path = Path(tmp) / file
        text = path.read_text()
        k = int(cut * len(text))
        path.write_text(text[:k] + junk + text[k + len(junk):])
        try:
            read_network(tmp)
        except InputError as e:
            assert e.source and e.fix
