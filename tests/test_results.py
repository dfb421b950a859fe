"""mobsim.analysis.results: refusing what it must refuse, and the pandas views of a result file."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from mobsim.analysis import results
from mobsim.errors import InputError
from mobsim.output import schema

try:
    from tests.fakerun import make_fake_run
except ImportError:  # tests/ is on sys.path, not the repository root
    from fakerun import make_fake_run


@pytest.fixture(scope="module")
def fake(tmp_path_factory) -> Path:
    return make_fake_run(tmp_path_factory.mktemp("res") / "run.h5")


@pytest.fixture(scope="module")
def res(fake: Path) -> results.Results:
    return results.open(fake)


# ------------------------------------------------------------------------------ refusing
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such result file") as info:
        results.open(tmp_path / "nope.h5")
    assert "nope.h5" in str(info.value) and info.value.fix


def test_not_hdf5(tmp_path: Path) -> None:
    p = tmp_path / "run.h5"
    p.write_text("hello")
    with pytest.raises(InputError, match="not an HDF5 file"):
        results.open(p)


def test_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        results.open(tmp_path)


def test_hdf5_but_not_mobsim(tmp_path: Path) -> None:
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as h5:
        h5["x"] = np.arange(3)
    with pytest.raises(InputError, match="not a mobsim result"):
        results.open(p)


def test_other_schema_major(fake: Path, tmp_path: Path) -> None:
    p = tmp_path / "future.h5"
    shutil.copy(fake, p)
    with h5py.File(p, "r+") as h5:
        h5.attrs["schema_version"] = "99.0"
    with pytest.raises(InputError, match="schema 99.0"):
        results.open(p)


def test_newer_minor_schema_is_read(fake: Path, tmp_path: Path) -> None:
    p = tmp_path / "minor.h5"
    shutil.copy(fake, p)
    major = schema.SCHEMA_VERSION.split(".")[0]
    with h5py.File(p, "r+") as h5:
        h5.attrs["schema_version"] = f"{major}.99"
    assert len(results.open(p).trips) == 13


def test_status_not_complete_is_refused(fake: Path, tmp_path: Path) -> None:
    p = tmp_path / "running.h5"
    shutil.copy(fake, p)
    with h5py.File(p, "r+") as h5:
        h5.attrs["status"] = "running"
    with pytest.raises(InputError, match="not complete"):
        results.open(p)
    assert results.open(p, allow_partial=True).status == "running"


def test_partial_name_is_refused_even_if_complete(fake: Path, tmp_path: Path) -> None:
    p = tmp_path / "run.h5.partial"
    shutil.copy(fake, p)
    with pytest.raises(InputError, match="partial"):
        results.open(p)
    assert len(results.open(p, allow_partial=True).trips) == 13


# ------------------------------------------------------------------------------ tables
def test_trips(res: results.Results) -> None:
    t = res.trips
    assert len(t) == 13
    assert [c.name for c in schema.TRIPS] == list(t.columns[:len(schema.TRIPS)])
    assert t["vtype_id"].astype(str).tolist()[:4] == ["car", "truck", "car", "truck"]
    assert set(t["origin_id"].astype(str)) == {"l0"}
    assert set(t["destination_id"].astype(str)) == {"l3"}
    assert t.set_index("id").loc["removed", "status_name"] == "removed"
    assert t.set_index("id").loc["waiting", "status_name"] == "waiting"
    assert t["id"].tolist()[0] == "t0"


def test_summary(res: results.Results) -> None:
    s = res.summary
    assert len(s) == 300
    last = s.iloc[-1]
    assert (last["loaded"], last["inserted"], last["running"], last["waiting"], last["arrived"],
            last["removed"]) == (13, 12, 1, 1, 10, 1)
    # conservation: loaded = waiting + running + arrived + removed, every step
    assert (s["loaded"] == s["waiting"] + s["running"] + s["arrived"] + s["removed"]).all()


def test_edgedata_long_format(res: results.Results) -> None:
    e = res.edgedata
    assert len(e) == 3 * 4
    assert list(e.columns[:4]) == ["begin", "end", "link", "link_id"]
    assert set(c.name for c in schema.EDGEDATA) <= set(e.columns)
    assert e["link_id"].astype(str).tolist()[:4] == ["l0", "l1", "l2", "l3"]
    assert e["begin"].tolist()[::4] == [0.0, 100.0, 200.0]
    # the design invariant: Σ edge distance = Σ trip route length
    assert e["distance"].sum() == pytest.approx(res.trips["route_length"].sum())
    assert res.edgedata_array("speed").shape == (3, 4)
    with pytest.raises(ValueError, match="unknown edgedata column"):
        res.edgedata_array("spede")


def test_fcd(res: results.Results) -> None:
    f = res.fcd
    assert list(f.columns) == ["time", "vehicle", "trip_id", "link", "link_id", "lane", "pos", "speed",
                               "accel", "x", "y"]
    first = f[f["trip_id"] == "t1"].iloc[0]  # truck, departs at 20 s at 8 m/s
    assert first["time"] == 20.0 and first["x"] == 0.0
    row = f[(f["trip_id"] == "t1") & (f["time"] == 40.0)].iloc[0]
    assert row["x"] == pytest.approx(160.0) and row["link_id"] == "l1" and row["pos"] == pytest.approx(60.0)
    assert res.has_fcd


def test_events(res: results.Results) -> None:
    ev = res.events
    assert ev["kind_name"].astype(str).tolist() == ["emergency_braking", "teleport", "removal",
                                                    "insertion_delay"]
    assert ev["trip_id"].astype(str).tolist()[1:3] == ["removed", "removed"]
    assert ev["link_id"].astype(str).tolist()[1] == "l1"


def test_static_tables(res: results.Results) -> None:
    assert res.nodes["control"].tolist() == ["none", "priority", "priority", "signal", "none"]
    assert res.links["from_node_id"].astype(str).tolist() == ["n0", "n1", "n2", "n3"]
    assert res.lanes["link_id"].astype(str).tolist() == ["l0", "l1", "l2", "l3"]
    assert res.movements["node_id"].astype(str).tolist() == ["n1", "n2", "n3"]
    assert res.vtypes["id"].tolist() == ["car", "truck"]


def test_metadata(res: results.Results) -> None:
    assert res.attrs["seed"] == 42 and res.attrs["dt"] == 1.0 and res.status == "complete"
    assert res.health["vehicle_steps"] == 498
    assert res.config.startswith("[scenario]")
    assert res.input_files == [("fake.toml", "0" * 64)]
    assert "complete" in repr(res)


def test_tables_are_cached(res: results.Results) -> None:
    assert res.trips is res.trips
    assert res.edgedata is res.edgedata


def test_plain_h5py_reads_the_same_values(fake: Path, res: results.Results) -> None:
    with h5py.File(fake, "r") as h5:
        assert np.array_equal(h5["trips/duration"][()], res.trips["duration"].to_numpy(), equal_nan=True)
        assert h5["trips/id"].asstr()[()].tolist() == res.trips["id"].tolist()
        assert np.array_equal(h5["edgedata/distance"][()].ravel(), res.edgedata["distance"].to_numpy())
        assert h5["network/links/id"].asstr()[()].tolist() == ["l0", "l1", "l2", "l3"]
        assert h5["edgedata/speed"].attrs["units"] == "m/s"


def test_no_fcd_and_empty_run(tmp_path: Path) -> None:
    p = make_fake_run(tmp_path / "empty.h5", n_trips=0, extras=False, with_fcd=False)
    r = results.open(p)
    assert not r.has_fcd
    assert len(r.trips) == 0 and len(r.events) == 0 and len(r.fcd) == 0
    assert list(r.fcd.columns)[:3] == ["time", "vehicle", "trip_id"]
    assert len(r.edgedata) == 12 and r.edgedata["sampled_seconds"].sum() == 0


def test_kpis_and_plot_delegate(res: results.Results, tmp_path: Path) -> None:
    assert res.kpis()["trips_completed"] == 10
    paths = res.plot(tmp_path / "plots", dpi=40)
    assert {p.name for p in paths} >= {"network_speed.png", "time_space.png"}
