"""HDF5Recorder: layout driven by the schema, partial -> final life cycle, failures, threading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

from mobsim.analysis import results
from mobsim.errors import InputError, RunError
from mobsim.output import recorder, schema
from mobsim.output.recorder import HDF5Recorder

try:
    from tests.fakerun import make_fake_run, minimal_static, summary_rows
except ImportError:  # tests/ is on sys.path, not the repository root
    from fakerun import make_fake_run, minimal_static, summary_rows

REPO = Path(__file__).resolve().parents[1]


def _events(n: int) -> dict[str, np.ndarray]:
    return {"time": np.arange(n, dtype=float), "kind": np.full(n, 3), "vehicle": np.arange(n),
            "link": np.zeros(n, int), "value": np.full(n, 5.0)}


def _open(path: Path, **kw) -> HDF5Recorder:
    rec = HDF5Recorder(path, **kw)
    rec.open({"seed": 1, "dt": 0.5, "scenario": "t"}, minimal_static(), {"config": "x = 1\n", "files": []})
    return rec


@pytest.fixture(scope="module")
def fake(tmp_path_factory) -> Path:
    return make_fake_run(tmp_path_factory.mktemp("rec") / "out" / "run.h5")


# ------------------------------------------------------------------------------------- layout
def test_every_schema_dataset_written_with_dtype_units_description(fake: Path) -> None:
    with h5py.File(fake, "r") as h5:
        # drone tables exist only in runs with drones (tests/test_drones.py checks them there)
        groups = [(g, c) for g, c in schema.GROUPS.items() if g not in schema.MODE_GROUPS]
        for group, cols in [*groups, *schema.STATIC.items()]:
            for col in cols:
                ds = h5[f"{group}/{col.name}"]
                assert ds.attrs["units"] == col.units, (group, col.name)
                assert ds.attrs["description"] == col.description
                if col.dtype == "str":
                    assert h5py.check_string_dtype(ds.dtype).encoding == "utf-8"
                else:
                    assert ds.dtype == np.dtype(col.dtype), (group, col.name)
        for col in schema.EDGEDATA_INDEX + schema.FCD_INDEX:
            assert f"{col.name}" in h5["edgedata" if col in schema.EDGEDATA_INDEX else "fcd"]
        assert h5["edgedata/speed"].shape == (3, 4)
        assert h5["edgedata/begin"][()].tolist() == [0.0, 100.0, 200.0]
        assert h5["trips/duration"].compression == "gzip"
        assert h5["trips/duration"].shuffle

        missing: list[str] = []
        h5.visititems(lambda name, obj: missing.append(name)
                      if isinstance(obj, h5py.Dataset) and "units" not in obj.attrs else None)
        assert missing == []


def test_root_attrs_provenance_health(fake: Path) -> None:
    with h5py.File(fake, "r") as h5:
        a = h5.attrs
        assert a["status"] == "complete"
        assert a["completed_steps"] == 300
        assert a["schema_version"] == schema.SCHEMA_VERSION
        assert a["seed"] == 42 and a["dt"] == 1.0 and a["scenario"] == "fake-line"
        assert a["git_sha"] == ""  # None is stored as ""
        for key in ("mobsim_version", "created", "finished"):
            assert key in a
        assert h5["provenance/config"].asstr()[()].startswith("[scenario]")
        assert h5["provenance/files/path"].asstr()[()].tolist() == ["fake.toml"]
        assert h5["health"].attrs["vehicle_steps"] == 498


def test_dimension_scales_for_netcdf(fake: Path) -> None:
    with h5py.File(fake, "r") as h5:
        speed = h5["edgedata/speed"]
        assert [d[0].name for d in speed.dims] == ["/edgedata/interval", "/edgedata/link"]
        assert h5["edgedata/begin"].dims[0][0].name == "/edgedata/interval"
        assert h5["trips/id"].dims[0][0].name == "/trips/row"
        assert h5["fcd/time"].dims[0][0].name == "/fcd/sample"
        assert h5["fcd/x"].dims[0][0].name == "/fcd/row"
        assert h5["edgedata/link"].shape == (4,)
        assert h5["fcd/row"].shape == h5["fcd/x"].shape
        assert h5py.h5ds.is_scale(h5["summary/row"].id)


def test_readable_by_xarray_h5netcdf(fake: Path) -> None:
    xr = pytest.importorskip("xarray", reason="xarray not installed: netCDF-4 read-back not checked")
    pytest.importorskip("h5netcdf", reason="h5netcdf not installed: netCDF-4 read-back not checked")
    tree = xr.open_datatree(fake, engine="h5netcdf")
    speed = tree["edgedata"].ds["speed"]
    assert speed.dims == ("interval", "link")
    assert speed.attrs["units"] == "m/s"
    assert tree["trips"].ds["id"].values.tolist()[0] == "t0"


def test_fcd_offsets_index_the_rows(fake: Path) -> None:
    with h5py.File(fake, "r") as h5:
        offset = h5["fcd/offset"][()]
        time = h5["fcd/time"][()]
        n = h5["fcd/vehicle"].shape[0]
    assert offset[0] == 0 and np.all(np.diff(offset) >= 0) and offset[-1] <= n
    assert np.allclose(time, np.arange(10.0, 301.0, 10.0))


def test_string_columns_roundtrip_unicode(tmp_path: Path) -> None:
    ids = ("Straße", "Ünter den Linden", "路口")
    path = make_fake_run(tmp_path / "u.h5", n_links=2, n_trips=2, with_fcd=False, extras=False,
                         node_ids=ids)
    with h5py.File(path, "r") as h5:
        assert h5["network/nodes/id"].asstr()[()].tolist() == list(ids)


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_compression_choices(tmp_path: Path, compression: str) -> None:
    path = make_fake_run(tmp_path / "c.h5", n_trips=4, compression=compression)
    with h5py.File(path, "r") as h5:
        expected = None if compression == "none" else "gzip"
        assert h5["summary/time"].compression == expected


def test_zstd_without_hdf5plugin_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hdf5plugin", None)  # import hdf5plugin -> ImportError
    with pytest.raises(InputError, match="hdf5plugin"):
        HDF5Recorder(tmp_path / "z.h5", compression="zstd")


def test_zstd_roundtrip(tmp_path: Path) -> None:
    pytest.importorskip("hdf5plugin", reason="hdf5plugin not installed: zstd not checked")
    path = make_fake_run(tmp_path / "z.h5", n_trips=4, compression="zstd")
    assert results.open(path).trips["duration"].notna().sum() == 4


def test_unknown_compression(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown compression"):
        HDF5Recorder(tmp_path / "x.h5", compression="lzma")


# ------------------------------------------------------------------------------ validation
def test_column_validation_names_the_column(tmp_path: Path) -> None:
    rec = _open(tmp_path / "v.h5")
    try:
        bad = summary_rows(0, 3)
        bad["speed_avg"] = np.zeros(3)
        with pytest.raises(ValueError, match="speed_avg"):
            rec.append("summary", bad)
        bad = summary_rows(0, 3)
        del bad["halting"]
        with pytest.raises(ValueError, match="halting"):
            rec.append("summary", bad)
        bad = summary_rows(0, 3)
        bad["running"] = np.zeros(2, int)
        with pytest.raises(ValueError, match="running"):
            rec.append("summary", bad)
        bad = summary_rows(0, 3)
        bad["loaded"] = np.full(3, 1.5)  # float into an int column
        with pytest.raises(ValueError, match="loaded"):
            rec.append("summary", bad)
        ev = _events(2)
        ev["kind"] = np.array([1, 300])  # does not fit int8
        with pytest.raises(ValueError, match="kind"):
            rec.append("events", ev)
        with pytest.raises(ValueError, match="group"):
            rec.append("trips", {})
        edge = {c.name: np.zeros(2, c.dtype) for c in schema.EDGEDATA}
        edge["speed"] = np.zeros(3)  # 2 links
        with pytest.raises(ValueError, match="speed"):
            rec.append_edgedata(0.0, 10.0, edge)
        with pytest.raises(ValueError, match="after begin"):
            rec.append_edgedata(10.0, 10.0, {c.name: np.zeros(2, c.dtype) for c in schema.EDGEDATA})
        rec.append("summary", summary_rows(0, 3))  # the recorder still works
        rec.close(3)
    finally:
        rec.fail("test cleanup")
    assert len(results.open(tmp_path / "v.h5").summary) == 3


def test_open_validates_static_and_attrs(tmp_path: Path) -> None:
    rec = HDF5Recorder(tmp_path / "s.h5")
    static = minimal_static()
    del static["network/lanes"]
    with pytest.raises(ValueError, match="network/lanes"):
        rec.open({}, static, {})
    with pytest.raises(ValueError, match="status"):
        rec.open({"status": "complete"}, minimal_static(), {})
    assert not (tmp_path / "s.h5.partial").exists()


def test_appending_before_open_is_an_error(tmp_path: Path) -> None:
    rec = HDF5Recorder(tmp_path / "n.h5")
    with pytest.raises(RuntimeError, match="open"):
        rec.append("summary", summary_rows(0, 1))


# ------------------------------------------------------------------------------ life cycle
def test_partial_until_close_then_renamed(tmp_path: Path) -> None:
    final = tmp_path / "sub" / "dir" / "run.h5"
    rec = _open(final)
    partial = Path(str(final) + ".partial")
    assert partial.exists() and not final.exists()
    for i in range(5):
        rec.append("summary", summary_rows(10.0 * i, 10))
    rec.flush()
    assert partial.exists() and not final.exists()
    assert rec.close(50) == final
    assert final.exists() and not partial.exists()
    r = results.open(final)
    assert r.attrs["completed_steps"] == 50
    assert r.summary["time"].tolist() == list(np.arange(1.0, 51.0))


def test_empty_run_has_every_group(tmp_path: Path) -> None:
    rec = _open(tmp_path / "e.h5")
    rec.close(0)
    with h5py.File(tmp_path / "e.h5", "r") as h5:
        for g in ("trips", "summary", "events", "edgedata"):
            assert h5[f"{g}/{schema.GROUPS[g][0].name}"].shape[0] == 0
        assert h5["edgedata/speed"].shape == (0, 2)
        assert "fcd" not in h5


def test_fail_leaves_partial_marked_failed(tmp_path: Path) -> None:
    rec = _open(tmp_path / "f.h5")
    rec.append("summary", summary_rows(0, 4))
    partial = rec.fail("engine exploded")
    assert partial == tmp_path / "f.h5.partial" and partial.exists()
    assert not (tmp_path / "f.h5").exists()
    with h5py.File(partial, "r") as h5:
        assert h5.attrs["status"] == "failed"
        assert h5.attrs["reason"] == "engine exploded"
        assert h5["summary/time"].shape == (4,)  # what was written is kept
    with pytest.raises(InputError, match="partial"):
        results.open(partial)
    with pytest.raises(InputError, match="did not finish"):
        results.open(tmp_path / "f.h5")
    assert results.open(partial, allow_partial=True).status == "failed"
    assert rec.fail("again") == partial  # idempotent


def test_rerun_removes_the_old_result_at_open(tmp_path: Path) -> None:
    final = tmp_path / "run.h5"
    _open(final).close(1)
    assert final.exists()
    rec = _open(final)
    assert not final.exists()  # a failing re-run cannot leave the old file looking like its own
    rec.fail("crashed")
    assert not final.exists() and (tmp_path / "run.h5.partial").exists()


def test_context_manager_fails_on_exception(tmp_path: Path) -> None:
    with pytest.raises(ZeroDivisionError), HDF5Recorder(tmp_path / "c.h5") as rec:
        rec.open({}, minimal_static(), {})
        rec.append("summary", summary_rows(0, 2))
        1 / 0  # noqa: B018
    with h5py.File(tmp_path / "c.h5.partial", "r") as h5:
        assert h5.attrs["status"] == "failed"
        assert "ZeroDivisionError" in h5.attrs["reason"]
    assert not (tmp_path / "c.h5").exists()


def test_context_manager_without_close_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="close"), HDF5Recorder(tmp_path / "w.h5") as rec:
        rec.open({}, minimal_static(), {})
    assert not (tmp_path / "w.h5").exists()
    with h5py.File(tmp_path / "w.h5.partial", "r") as h5:
        assert h5.attrs["status"] == "failed"


def test_many_small_batches_through_a_tiny_queue(tmp_path: Path) -> None:
    rec = _open(tmp_path / "q.h5", queue_size=1)
    for i in range(3000):  # one row per step, the engine's worst case
        rec.append("summary", summary_rows(float(i), 1))
    rec.close(3000)
    t = results.open(tmp_path / "q.h5").summary["time"].to_numpy()
    assert np.array_equal(t, np.arange(1.0, 3001.0))


def test_appended_arrays_are_copied(tmp_path: Path) -> None:
    rec = _open(tmp_path / "cp.h5")
    cols = summary_rows(0, 5)
    rec.append("summary", cols)
    cols["time"][:] = -1.0  # the caller reuses its buffer at once
    rec.close(5)
    assert results.open(tmp_path / "cp.h5").summary["time"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


# ------------------------------------------------------------------------------ processes
_WRITER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {repo!r})
    from mobsim.output import schema
    from mobsim.output.recorder import HDF5Recorder
    from tests.fakerun import minimal_static, summary_rows
    mode = sys.argv[2]
    if mode == "fsize":
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
    rec = HDF5Recorder(sys.argv[1], compression="none")
    rec.open({{"dt": 1.0}}, minimal_static(), {{}})
    rng = np.random.default_rng(0)
    for i in range(40):
        n = 2000
        cols = {{c.name: rng.random(n).astype(c.dtype) if c.dtype.startswith("float")
                 else np.zeros(n, c.dtype) for c in schema.FCD}}
        try:
            rec.append_fcd(float(i), cols)
            rec.append("summary", summary_rows(float(i), 1))
        except Exception as exc:
            print("RAISED", type(exc).__name__, exc, flush=True)
            rec.fail(str(exc))
            sys.exit(3)
        if mode == "flush-kill" and i == 20:
            rec.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "exit" and i == 20:
            os._exit(1)  # dies with write jobs still queued
    try:
        rec.close(40)
    except Exception as exc:
        print("RAISED", type(exc).__name__, exc, flush=True)
        sys.exit(4)
    print("CLOSED", flush=True)
""")


def _run_writer(tmp_path: Path, mode: str) -> subprocess.CompletedProcess:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER.format(repo=str(REPO)))
    return subprocess.run([sys.executable, str(script), str(tmp_path / "run.h5"), mode],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)


@pytest.mark.parametrize("mode", ["flush-kill", "exit"])
def test_killed_writer_leaves_no_final_file(tmp_path: Path, mode: str) -> None:
    proc = _run_writer(tmp_path, mode)
    expected = -signal.SIGKILL if mode == "flush-kill" else 1
    assert proc.returncode == expected, proc.stderr
    assert not (tmp_path / "run.h5").exists()
    with pytest.raises(InputError, match="did not finish"):
        results.open(tmp_path / "run.h5")
    partial = tmp_path / "run.h5.partial"
    if partial.exists():
        with pytest.raises(InputError):
            results.open(partial)
    if mode == "flush-kill":  # flushed before the kill: readable, and says it never finished
        r = results.open(partial, allow_partial=True)
        assert r.status == "running" and r.attrs["completed_steps"] == 0
        assert len(r.summary) == 21


def test_writer_thread_error_surfaces_in_caller(tmp_path: Path) -> None:
    """A real I/O error on the writer thread (file size limit) is raised to the caller as RunError."""
    proc = _run_writer(tmp_path, "fsize")
    assert "RAISED RunError" in proc.stdout, proc.stdout + proc.stderr
    assert "writer thread" in proc.stdout and "File too large" in proc.stdout
    # No check of the exit code: after a failed write, HDF5 2.0 / h5py 3.16 can crash while
    # releasing the file at interpreter exit (plain h5py does the same), which is not ours to fix.
    assert "CLOSED" not in proc.stdout
    assert not (tmp_path / "run.h5").exists()


def test_writer_error_is_reraised_until_close(tmp_path: Path) -> None:
    """The caller sees a writer-thread failure at its next call and again at close()."""
    rec = _open(tmp_path / "err.h5")
    rec.append("summary", summary_rows(0, 2))
    rec.flush()
    boom = OSError("simulated disk failure")

    def failing_rows(key: str, cols: dict, n: int) -> None:
        raise boom

    rec._writer.rows = failing_rows  # the one write path of row batches, on the writer thread
    rec.append("summary", summary_rows(2, 2))
    with pytest.raises(RunError, match="simulated disk failure") as info:
        rec.flush()
    assert info.value.__cause__ is boom
    with pytest.raises(RunError, match="simulated disk failure"):
        rec.append("summary", summary_rows(4, 2))
    with pytest.raises(RunError):
        rec.close(6)
    assert not (tmp_path / "err.h5").exists()
    with h5py.File(tmp_path / "err.h5.partial", "r") as h5:
        assert h5.attrs["status"] == "failed"
        assert "simulated disk failure" in h5.attrs["reason"]


def test_recorder_module_has_no_unlisted_tables() -> None:
    """Every table the recorder writes is a schema table (plus provenance); the modes' tables are
    the ones they registered, laid out on demand."""
    from mobsim.output.hdf5_tables import spec

    assert schema.MODE_GROUPS, "the built-in modes register their tables when mobsim is imported"
    groups = {spec(k).group for k in (*recorder.SPECS, *schema.MODE_GROUPS)}
    assert groups == set(schema.GROUPS) | set(schema.STATIC) | {"provenance/files"}
    assert spec("drones/tracks").chunk_rows == 16384


def test_a_mode_cannot_register_a_table_over_another() -> None:
    with pytest.raises(ValueError, match="already a table"):
        schema.register_groups({"trips": schema.SUMMARY})
    with pytest.raises(ValueError, match="dimension"):
        schema.register_groups({"toy/rows": (schema.Column("row", "int32", "1", "clash"),)})
    assert "toy/rows" not in schema.GROUPS


def test_attr_values_are_storable(tmp_path: Path) -> None:
    rec = HDF5Recorder(tmp_path / "a.h5")
    rec.open({"none": None, "path": tmp_path, "nested": {"a": 1}, "names": ["a", "b"], "nums": [1, 2],
              "flag": True}, minimal_static(), {})
    rec.close(0)
    a = results.open(tmp_path / "a.h5").attrs
    assert a["none"] == "" and a["path"] == str(tmp_path) and a["nested"] == '{"a": 1}'
    assert a["names"] == ["a", "b"] and a["nums"] == [1, 2] and a["flag"] is True
    assert os.path.exists(tmp_path / "a.h5")
