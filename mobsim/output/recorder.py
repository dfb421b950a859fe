"""Write one run to one HDF5 file (the layout of :mod:`mobsim.output.schema`), on a background thread.

The recorder is driven by :mod:`mobsim.output.schema`: every dataset it writes is a schema column, with
the schema's dtype and its ``units`` and ``description`` attributes. Columns the caller passes
that the schema does not list, and schema columns the caller leaves out, are errors
(:class:`ValueError` naming them), so the file cannot drift from the table.

Life cycle::

    rec = HDF5Recorder("results/run.h5")            # writes results/run.h5.partial
    rec.open(attrs, static, provenance)              # root attrs, /network, /vtypes, /provenance
    rec.append("summary", cols); rec.append_edgedata(begin, end, cols); rec.append_fcd(t, cols)
    rec.write_trips(cols); rec.set_health({...})
    rec.close(completed_steps)                       # status=complete written last, then rename

or ``rec.fail(reason)``: ``status="failed"`` and the file stays under the ``.partial`` name, which
:func:`mobsim.analysis.results.open` refuses. Used as a context manager, an exception inside the block
calls :meth:`HDF5Recorder.fail`. A run that is killed leaves only ``<path>.partial`` behind.

Threading: the append methods validate and copy their arrays in the caller's thread and put a
write job on a bounded queue; one writer thread owns the h5py file and does every HDF5 call, so
file I/O and compression overlap with simulation (as far as the GIL allows: numba kernels that
release it, and GPU work, run alongside). When the queue is full the caller waits (back-pressure).
An exception on the writer thread is re-raised in the caller, as :class:`~mobsim.errors.RunError`
with the original as ``__cause__``, at the next recorder call or at :meth:`HDF5Recorder.close`.

netCDF-4 compatibility: every dataset has its dimensions attached as HDF5 dimension scales
(``row`` for table rows, ``sample`` for FCD samples, ``interval`` × ``link`` for edge data; each a
netCDF "dimension without a variable"), so ``xarray.open_datatree(path, engine="h5netcdf")`` reads
the file without mobsim. Row tables are buffered on the writer thread and written a chunk at a
time, so appending one summary row per step is cheap.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mobsim.errors import InputError, RunError
from mobsim.output import schema

#: Compression choices: gzip level 1 + shuffle (readable everywhere), zstd (needs hdf5plugin to
#: write *and* to read), or none.
COMPRESSIONS = ("gzip", "zstd", "none")

#: HDF5 file-format bounds. "earliest" (the 1.8 format) on purpose: it is readable by every HDF5
#: and netCDF-4 library, and a file left by a killed run can still be opened (allow_partial). The
#: 1.10 format would save ~2 KiB of chunk B-tree per dataset (~200 KiB on a small run) but marks
#: files open for writing, so a killed run's file could not be read without ``h5clear -s``.
LIBVER = "earliest"

#: The netCDF-4 marker for a dimension scale that is not also a coordinate variable.
NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable."

#: Root attributes the recorder owns; callers may not set them through ``open(attrs=...)``.
RESERVED_ATTRS = ("schema_version", "status", "completed_steps", "reason", "finished")

_CONFIG_COLUMN = schema.Column("config", "str", "1", "resolved scenario configuration (TOML text)")

_DIM_DESCRIPTIONS = {
    "row": "table row",
    "sample": "FCD sample (one per recorded time)",
    "interval": "edge-data aggregation interval",
    "link": "link (row in /network/links)",
}


@dataclass(frozen=True)
class _Spec:
    """A table: the HDF5 group, its columns with their dimension names, the chunk length in rows."""

    group: str
    columns: tuple[tuple[schema.Column, tuple[str, ...]], ...]
    chunk_rows: int

    @property
    def row_dim(self) -> str:
        return self.columns[0][1][0]

    def names(self) -> list[str]:
        return [c.name for c, _ in self.columns]


def _with_dims(cols: Sequence[schema.Column], dims: tuple[str, ...]) -> tuple:
    return tuple((c, dims) for c in cols)


#: Every table the recorder writes, by key (the key is the group, except for the FCD sample index).
SPECS: dict[str, _Spec] = {
    "trips": _Spec("trips", _with_dims(schema.TRIPS, ("row",)), 16384),
    "summary": _Spec("summary", _with_dims(schema.SUMMARY, ("row",)), 1024),
    "events": _Spec("events", _with_dims(schema.EVENTS, ("row",)), 4096),
    "fcd": _Spec("fcd", _with_dims(schema.FCD, ("row",)), 65536),
    "fcd_index": _Spec("fcd", _with_dims(schema.FCD_INDEX, ("sample",)), 1024),
    "edgedata": _Spec(
        "edgedata",
        _with_dims(schema.EDGEDATA_INDEX, ("interval",)) + _with_dims(schema.EDGEDATA, ("interval", "link")),
        64,
    ),
    "provenance/files": _Spec("provenance/files", _with_dims(schema.PROVENANCE_FILES, ("row",)), 256),
}
for _path, _cols in schema.STATIC.items():
    SPECS[_path] = _Spec(_path, _with_dims(_cols, ("row",)), 4096)
for _path, _cols in schema.DRONE_GROUPS.items():
    SPECS[_path] = _Spec(_path, _with_dims(_cols, ("row",)), 16384 if _path == "drones/tracks" else 4096)


def _check_specs() -> None:
    """Dimension names must not clash with a column of the same group (a schema edit could do it)."""
    by_group: dict[str, tuple[set[str], set[str]]] = {}
    for spec in SPECS.values():
        names, dims = by_group.setdefault(spec.group, (set(), set()))
        for col, cdims in spec.columns:
            names.add(col.name)
            dims.update(cdims)
    for group, (names, dims) in by_group.items():
        if names & dims:
            raise RuntimeError(f"schema: /{group} has a column named like a dimension: {names & dims}")


_check_specs()


def compression_options(compression: str | None) -> dict[str, Any]:
    """h5py ``create_dataset`` keyword arguments for a compression name (see :data:`COMPRESSIONS`).

    Raises :class:`InputError` for an unknown name, or for ``"zstd"`` when hdf5plugin is missing.
    """
    name = "none" if compression is None else str(compression).lower()
    if name == "gzip":
        return {"compression": "gzip", "compression_opts": 1, "shuffle": True}
    if name == "none":
        return {}
    if name == "zstd":
        try:
            import hdf5plugin
        except ImportError:
            raise InputError(
                "zstd compression needs the hdf5plugin package, which is not installed",
                element="compression='zstd'",
                fix="pip install hdf5plugin (readers then need it too), or use compression='gzip'",
            ) from None
        return {**hdf5plugin.Zstd(clevel=3), "shuffle": True}
    raise InputError(f"unknown compression {compression!r}", element="compression",
                     fix=f"use one of {', '.join(COMPRESSIONS)}")


def _mobsim_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("mobsim")
        except PackageNotFoundError:
            pass
        from mobsim.version import __version__
        return __version__
    except Exception:  # noqa: BLE001 - a version string must never break a run
        return "unknown"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _attr_value(value: Any) -> Any:
    """An HDF5-storable attribute value: None -> "", Path -> str, dict -> JSON text, numpy -> as is."""
    if value is None:
        return ""
    if isinstance(value, (str, bool, int, float, np.generic, np.ndarray)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, sort_keys=True)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return np.array(value, dtype=h5py.string_dtype())
        try:
            arr = np.asarray(value)
        except ValueError:
            arr = None
        if arr is not None and arr.dtype.kind in "biuf":
            return arr
        return json.dumps(value, default=str)
    return str(value)


def _host(value: Any) -> Any:
    """A host (numpy-convertible) view of a column: cupy (``.get()``) and numba device arrays."""
    if hasattr(value, "__cuda_array_interface__"):
        if hasattr(value, "get"):
            return value.get()
        if hasattr(value, "copy_to_host"):
            return value.copy_to_host()
    return value


def _convert(where: str, col: schema.Column, value: Any) -> np.ndarray:
    """Copy ``value`` into a new array of the column's dtype; ValueError naming the column on failure."""
    arr = np.asarray(_host(value))
    if col.dtype == "str":
        if arr.dtype.kind == "U":
            return arr.astype(object)
        if arr.dtype.kind == "S":
            return np.char.decode(arr, "utf-8").astype(object)
        out = np.empty(arr.shape, dtype=object)
        out.ravel()[:] = [str(v) for v in arr.ravel()]
        return out
    target = np.dtype(col.dtype)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"{where}: column {col.name!r} must be numeric ({col.dtype}), got {arr.dtype}")
    try:
        out = arr.astype(target, casting="same_kind", copy=True)
    except TypeError:
        raise ValueError(f"{where}: column {col.name!r} has dtype {arr.dtype}, which cannot be stored "
                         f"as {col.dtype} without changing its kind (e.g. float to int)") from None
    if target.kind in "iu" and arr.dtype.kind in "iu" and arr.size and arr.dtype.itemsize > target.itemsize:
        info = np.iinfo(target)
        lo, hi = arr.min(), arr.max()
        if lo < info.min or hi > info.max:
            raise ValueError(f"{where}: column {col.name!r} has values in [{lo}, {hi}], outside {col.dtype}")
    return out


def _prepare(where: str, spec: _Spec, cols: Mapping[str, Any], inner: Mapping[str, int] | None = None,
             exclude: Sequence[str] = ()) -> tuple[dict[str, np.ndarray], int]:
    """Validate and copy one batch of columns: every schema column, no other, one common length.

    ``inner`` gives the sizes of non-row dimensions (``link``); ``exclude`` names columns the
    recorder fills itself. Returns the arrays and the number of rows.
    """
    if not isinstance(cols, Mapping):
        raise ValueError(f"{where}: columns must be a dict of name -> array, got {type(cols).__name__}")
    wanted = {c.name: (c, d) for c, d in spec.columns if c.name not in exclude}
    unknown = sorted(set(cols) - set(wanted))
    if unknown:
        raise ValueError(f"{where}: unknown column(s) {unknown}; "
                         f"mobsim/output/schema.py lists {sorted(wanted)}")
    missing = [n for n in wanted if n not in cols]
    if missing:
        raise ValueError(f"{where}: missing column(s) {missing}; every schema column must be given")
    out: dict[str, np.ndarray] = {}
    n_rows: int | None = None
    first = ""
    for name, (col, dims) in wanted.items():
        arr = _convert(where, col, cols[name])
        inner_shape = tuple((inner or {})[d] for d in dims[1:])
        if arr.ndim == len(inner_shape):  # a single row (edge data: one interval)
            arr = arr.reshape((1, *arr.shape))
        if arr.ndim != 1 + len(inner_shape) or arr.shape[1:] != inner_shape:
            want = "(rows,)" if not inner_shape else f"{inner_shape}"
            raise ValueError(f"{where}: column {name!r} has shape {arr.shape}, expected {want}")
        if n_rows is None:
            n_rows, first = arr.shape[0], name
        elif arr.shape[0] != n_rows:
            raise ValueError(f"{where}: column {name!r} has {arr.shape[0]} rows but {first!r} has {n_rows}")
        out[name] = arr
    return out, int(n_rows or 0)


# --------------------------------------------------------------------------------------------
# writer thread side: every h5py call happens here


class _Table:
    """One table of a group on the writer thread: creates its datasets and dimension scales, buffers
    row batches and writes them a chunk at a time."""

    def __init__(self, h5: h5py.File, spec: _Spec, inner: Mapping[str, int], filters: Mapping[str, Any],
                 first_rows: int | None = None, exact_rows: int | None = None):
        self.spec = spec
        # chunk length: the spec's, or less when the first batch shows a small table (an
        # uncompressed chunk takes its full size on disk even when it is mostly empty)
        chunk_rows = spec.chunk_rows
        if first_rows is not None:
            chunk_rows = min(chunk_rows, max(1024, 1 << max(0, int(first_rows) - 1).bit_length()))
        if exact_rows is not None:  # a table written once (static): one chunk of its own size
            chunk_rows = max(1, min(int(exact_rows), 65536))
        self.chunk_rows = chunk_rows
        self.group = h5.require_group(spec.group)
        self.n = 0
        self.buf: list[dict[str, np.ndarray]] = []
        self.nbuf = 0
        self.dims: dict[str, h5py.Dataset] = {}
        row_dim = spec.row_dim
        self.dims[row_dim] = self._dim(row_dim, 0, chunk_rows)
        for name, size in inner.items():
            self.dims[name] = self._dim(name, size, max(1, min(size, 65536)))
        link_chunk = max(1, min(inner.get("link", 1), 16384))
        self.ds: dict[str, h5py.Dataset] = {}
        for col, dims in spec.columns:
            inner_shape = tuple(inner[d] for d in dims[1:])
            if inner_shape:
                rows = max(1, min(chunk_rows, 65536 // link_chunk))
                chunks = (rows, *(max(1, min(s, link_chunk)) for s in inner_shape))
            else:
                chunks = (chunk_rows,)
            dtype = h5py.string_dtype() if col.dtype == "str" else np.dtype(col.dtype)
            ndim = 1 + len(inner_shape)
            ds = self.group.create_dataset(col.name, shape=(0, *inner_shape), maxshape=(None,) * ndim,
                                           dtype=dtype, chunks=chunks, **filters)
            ds.attrs["units"] = col.units
            ds.attrs["description"] = col.description
            for i, d in enumerate(dims):
                ds.dims[i].attach_scale(self.dims[d])
            self.ds[col.name] = ds

    def _dim(self, name: str, size: int, chunk: int) -> h5py.Dataset:
        if name in self.group:
            return self.group[name]
        ds = self.group.create_dataset(name, shape=(size,), maxshape=(None,), dtype="f4", chunks=(chunk,))
        ds.make_scale(f"{NOT_A_VARIABLE}{size:10d}")
        ds.attrs["units"] = "1"
        ds.attrs["description"] = f"dimension: {_DIM_DESCRIPTIONS.get(name, name)}"
        return ds

    def add(self, cols: dict[str, np.ndarray], n: int) -> None:
        self.buf.append(cols)
        self.nbuf += n
        if self.nbuf >= self.spec.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        k, start = self.nbuf, self.n
        for name, ds in self.ds.items():
            parts = [b[name] for b in self.buf]
            data = parts[0] if len(parts) == 1 else np.concatenate(parts)
            ds.resize(start + k, axis=0)
            if k:
                ds[start:start + k] = data
        dim = self.dims[self.spec.row_dim]
        if dim.shape[0] < start + k:
            dim.resize((start + k,))
        self.n += k
        self.buf, self.nbuf = [], 0


class _Writer:
    """The state that lives on the writer thread: the open h5py file and its tables."""

    def __init__(self, partial: Path, filters: Mapping[str, Any]):
        self.partial = partial
        self.filters = dict(filters)
        self.h5: h5py.File | None = None
        self.tables: dict[str, _Table] = {}
        self.n_links = 0

    # jobs -------------------------------------------------------------------------------
    def open(self, attrs: dict[str, Any], static: dict[str, tuple[dict[str, np.ndarray], int]],
             provenance: tuple[str, dict[str, np.ndarray], int]) -> None:
        self.h5 = h5py.File(self.partial, "w", libver=LIBVER)
        for key, value in attrs.items():
            self.h5.attrs[key] = value
        self.n_links = static["network/links"][1]
        for path, (cols, n) in static.items():
            self.tables[path] = _Table(self.h5, SPECS[path], {}, self.filters, exact_rows=n)
            self.rows(path, cols, n)
            self.tables[path].flush()
        config, files, n_files = provenance
        grp = self.h5.require_group("provenance")
        ds = grp.create_dataset("config", data=config, dtype=h5py.string_dtype())
        ds.attrs["units"] = _CONFIG_COLUMN.units
        ds.attrs["description"] = _CONFIG_COLUMN.description
        self.tables["provenance/files"] = _Table(self.h5, SPECS["provenance/files"], {}, self.filters,
                                                 exact_rows=n_files)
        self.rows("provenance/files", files, n_files)
        self.tables["provenance/files"].flush()
        self.h5.flush()

    def table(self, key: str, first_rows: int | None = None) -> _Table:
        tab = self.tables.get(key)
        if tab is None:
            inner = {"link": self.n_links} if key == "edgedata" else {}
            tab = self.tables[key] = _Table(self.h5, SPECS[key], inner, self.filters, first_rows)
        return tab

    def rows(self, key: str, cols: dict[str, np.ndarray], n: int) -> None:
        self.table(key, n).add(cols, n)

    def health(self, values: dict[str, Any]) -> None:
        grp = self.h5.require_group("health")
        for key, value in values.items():
            grp.attrs[key] = value

    def flush(self) -> None:
        for tab in self.tables.values():
            tab.flush()
        self.h5.flush()

    def finish(self, completed_steps: int, health: dict[str, Any]) -> None:
        """Flush everything, create the always-present groups, mark complete LAST, close, fsync."""
        try:
            for key in ("trips", "summary", "events", "edgedata"):
                self.table(key)
            if "fcd" in self.tables:
                self.table("fcd_index")
            self.flush()
            self.health(health)
            self.h5.attrs["finished"] = _now()
            self.h5.flush()
            self.h5.attrs["completed_steps"] = np.int64(completed_steps)
            self.h5.attrs["status"] = "complete"
            self.h5.close()
            self.h5 = None
            fd = os.open(self.partial, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException as exc:
            self.abort(f"closing failed: {type(exc).__name__}: {exc}", flush_rows=False)
            raise

    def abort(self, reason: str, flush_rows: bool = True) -> None:
        """Best effort: mark the file failed and close it (it keeps its .partial name).

        ``flush_rows=False`` after a write error: the buffered rows are dropped, not retried.
        """
        h5, self.h5 = self.h5, None
        if h5 is None:
            return
        try:
            if flush_rows:
                for tab in self.tables.values():
                    try:
                        tab.flush()
                    except Exception:  # noqa: BLE001 - keep going: the status matters more than the rows
                        break
            h5.attrs["status"] = "failed"
            h5.attrs["reason"] = reason
            h5.attrs["finished"] = _now()
        finally:
            self.tables.clear()  # drop every dataset handle before the file goes
            h5.close()


# --------------------------------------------------------------------------------------------
# caller side


class HDF5Recorder:
    """Writes one run to ``path`` (through ``path + ".partial"``) on a background thread.

    Parameters
    ----------
    path:
        The final result file, e.g. ``results/run.h5``. Folders are created. While the run is
        written the file is ``<path>.partial`` in the same folder; :meth:`close` renames it.
    compression:
        ``"gzip"`` (level 1 + shuffle, default), ``"zstd"`` (needs hdf5plugin) or ``"none"``.
    queue_size:
        The most write jobs waiting for the writer thread; a caller appending faster than the
        disk waits (back-pressure).
    queue_bytes:
        The most bytes of copied arrays waiting for the writer thread (default 256 MiB); a
        single larger batch is still accepted when nothing else is waiting.
    """

    def __init__(self, path: str | os.PathLike[str], compression: str | None = "gzip",
                 queue_size: int = 64, queue_bytes: int = 256 * 2**20) -> None:
        self.path = Path(path)
        self.partial_path = Path(os.fspath(self.path) + ".partial")
        self.compression = "none" if compression is None else str(compression).lower()
        self._filters = compression_options(compression)
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._queue: queue.Queue = queue.Queue(maxsize=int(queue_size))
        self._max_bytes = int(queue_bytes)
        self._pending_bytes = 0
        self._bytes_cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._writer = _Writer(self.partial_path, self._filters)
        self._error: BaseException | None = None
        self._state = "new"  # new -> open -> closed | failed
        self._n_links = 0
        self._fcd_rows = 0
        self._last_edge_end = -math.inf
        self._health: dict[str, Any] = {}

    # ---------------------------------------------------------------- thread plumbing
    def _run(self) -> None:
        while True:
            job = self._queue.get()
            nbytes = 0
            try:
                if job is None:
                    return
                name, args, nbytes = job
                if self._error is not None:
                    # after an error, only the end-of-file jobs still run (to mark the file failed)
                    if name == "finish":
                        self._writer.abort(f"writer error: {type(self._error).__name__}: {self._error}",
                                           flush_rows=False)
                    elif name == "abort":
                        self._writer.abort(*args, flush_rows=False)
                    continue
                getattr(self._writer, name)(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                if self._error is None:
                    self._error = exc
            finally:
                if nbytes:
                    with self._bytes_cv:
                        self._pending_bytes -= nbytes
                        self._bytes_cv.notify_all()
                self._queue.task_done()

    def _put(self, name: str, *args: Any, nbytes: int = 0) -> None:
        if nbytes:
            with self._bytes_cv:
                while self._pending_bytes and self._pending_bytes + nbytes > self._max_bytes:
                    self._bytes_cv.wait()
                self._pending_bytes += nbytes
        self._queue.put((name, args, nbytes))

    def _put_rows(self, key: str, arrays: dict[str, np.ndarray], n: int) -> None:
        nbytes = sum(a.nbytes if a.dtype != object else 64 * a.size for a in arrays.values())
        self._put("rows", key, arrays, n, nbytes=nbytes)

    def _check(self) -> None:
        if self._error is not None:
            exc = self._error
            raise RunError(f"writing {self.partial_path} failed on the writer thread: "
                           f"{type(exc).__name__}: {exc}") from exc

    def _require_open(self, what: str) -> None:
        if self._state != "open":
            raise RuntimeError(f"HDF5Recorder.{what}() needs an open recorder (state: {self._state})")
        self._check()

    def _stop(self) -> None:
        self._queue.put(None)
        assert self._thread is not None
        self._thread.join()

    # ---------------------------------------------------------------- public API
    def open(self, attrs: Mapping[str, Any], static: Mapping[str, Mapping[str, Any]],
             provenance: Mapping[str, Any] | None = None) -> None:
        """Create ``<path>.partial``: root attributes, the static tables and ``/provenance``.

        ``attrs``: run metadata written as root attributes (seed, dt in s, device, backend,
        git_sha, scenario, ...); the recorder adds ``schema_version``, ``mobsim_version``,
        ``created`` (ISO 8601 UTC), ``status="running"`` and ``completed_steps=0``. None is stored
        as "", dicts as JSON text. ``static``: one dict of columns per :data:`schema.STATIC` path
        (all of them; a table may have zero rows). ``provenance``: ``{"config": resolved TOML text,
        "files": [(path, sha256), ...]}``. A file already at ``path`` (an earlier run) is deleted,
        so a failed re-run cannot leave the old result looking like its own. Waits until the
        file exists, so an unwritable path raises here (as :class:`RunError`).
        """
        if self._state != "new":
            raise RuntimeError(f"HDF5Recorder.open() called twice (state: {self._state})")
        root: dict[str, Any] = {"schema_version": schema.SCHEMA_VERSION, "mobsim_version": _mobsim_version(),
                                "created": _now(), "status": "running", "completed_steps": np.int64(0)}
        bad = sorted(set(attrs) & set(RESERVED_ATTRS))
        if bad:
            raise ValueError(f"open(attrs): {bad} are written by the recorder itself; leave them out")
        for key, value in attrs.items():
            root[str(key)] = _attr_value(value)
        unknown = sorted(set(static) - set(schema.STATIC))
        missing = sorted(set(schema.STATIC) - set(static))
        if unknown or missing:
            raise ValueError(f"open(static): unknown table(s) {unknown}, missing table(s) {missing}; "
                             f"expected {sorted(schema.STATIC)}")
        tables = {p: _prepare(f"/{p}", SPECS[p], static[p]) for p in schema.STATIC}
        self._n_links = tables["network/links"][1]
        prov = dict(provenance or {})
        extra = sorted(set(prov) - {"config", "files"})
        if extra:
            raise ValueError(f"open(provenance): unknown key(s) {extra}; expected 'config' and 'files'")
        files = [(str(p), str(h)) for p, h in prov.get("files", [])]
        file_cols, n_files = _prepare("/provenance/files", SPECS["provenance/files"],
                                      {"path": [p for p, _ in files], "sha256": [h for _, h in files]})
        # a result of an earlier run at the same path must not survive a failed re-run looking
        # like this run's result
        self.path.unlink(missing_ok=True)
        self._thread = threading.Thread(target=self._run, name=f"mobsim-hdf5-{self.path.name}", daemon=True)
        self._thread.start()
        self._state = "open"
        self._put("open", root, tables, (str(prov.get("config", "")), file_cols, n_files))
        self._queue.join()
        self._check()

    def append(self, group: str, cols: Mapping[str, Any]) -> None:
        """Append a batch of rows to ``/summary``, ``/events`` or a drone table
        (:data:`schema.DRONE_GROUPS`), one 1-D array per schema column."""
        if group not in ("summary", "events") and group not in schema.DRONE_GROUPS:
            raise ValueError(f"append(): group must be 'summary', 'events' or a drone table, got {group!r} "
                             "(use write_trips, append_edgedata or append_fcd for the others)")
        self._require_open("append")
        arrays, n = _prepare(f"/{group}", SPECS[group], cols)
        self._put_rows(group, arrays, n)

    def write_trips(self, cols: Mapping[str, Any]) -> None:
        """Write rows of ``/trips`` (one row per loaded trip; repeated calls append, in trip-row order
        as referenced by ``vehicle`` columns elsewhere). ``id`` is a string column."""
        self._require_open("write_trips")
        arrays, n = _prepare("/trips", SPECS["trips"], cols)
        self._put_rows("trips", arrays, n)

    def append_edgedata(self, begin: float, end: float, cols: Mapping[str, Any]) -> None:
        """Append one aggregation interval ``[begin, end)`` (s) of ``/edgedata``: each
        :data:`schema.EDGEDATA` column is an array with one value per link (n_links)."""
        self._require_open("append_edgedata")
        begin, end = float(begin), float(end)
        if not end > begin:
            raise ValueError(f"append_edgedata(): interval end {end} must be after begin {begin}")
        if begin < self._last_edge_end - 1e-9:
            raise ValueError(f"append_edgedata(): interval [{begin}, {end}) overlaps the previous one "
                             f"ending at {self._last_edge_end}; intervals must be in time order")
        arrays, _ = _prepare("/edgedata", SPECS["edgedata"], {**cols, "begin": begin, "end": end},
                             inner={"link": self._n_links})
        self._last_edge_end = end
        self._put_rows("edgedata", arrays, 1)

    def append_fcd(self, time: float, cols: Mapping[str, Any]) -> None:
        """Append one FCD sample at ``time`` (s): rows (one per sampled vehicle, any number including
        zero) go to ``/fcd/<col>``; ``/fcd/time`` and ``/fcd/offset`` (first row) index the sample."""
        self._require_open("append_fcd")
        arrays, n = _prepare("/fcd", SPECS["fcd"], cols)
        index, _ = _prepare("/fcd", SPECS["fcd_index"], {"time": [float(time)], "offset": [self._fcd_rows]})
        self._fcd_rows += n
        self._put_rows("fcd", arrays, n)
        self._put_rows("fcd_index", index, 1)

    def set_health(self, values: Mapping[str, Any]) -> None:
        """Set attributes of ``/health`` (totals, ``real_time_factor``, ``vehicle_updates_per_s``,
        ``wall_time_s``, ``steps``, ``vehicle_steps`` ...). Later calls update earlier keys."""
        self._require_open("set_health")
        values = {str(k): _attr_value(v) for k, v in values.items()}
        self._health.update(values)
        self._put("health", values)

    def flush(self) -> None:
        """Wait until every queued batch is in the file and the file is flushed; raises writer errors."""
        self._require_open("flush")
        self._put("flush")
        self._queue.join()
        self._check()

    def close(self, completed_steps: int) -> Path:
        """Finish the file: flush, write ``status="complete"`` and ``completed_steps`` last, close,
        then atomically rename ``<path>.partial`` to ``path``. Returns ``path``.

        If the writer thread failed, the file is marked failed (best effort), stays ``.partial``,
        and :class:`RunError` is raised.
        """
        if self._state != "open":
            raise RuntimeError(f"HDF5Recorder.close() needs an open recorder (state: {self._state})")
        self._put("finish", int(completed_steps), dict(self._health))
        self._stop()
        if self._error is not None:
            self._state = "failed"
            self._check()
        os.replace(self.partial_path, self.path)
        self._state = "closed"
        return self.path

    def fail(self, reason: str) -> Path | None:
        """Mark the run failed (``status="failed"``, ``reason``), close the file and leave it under
        the ``.partial`` name. Never raises writer errors (it runs while handling another error).
        Returns the partial file's path, or None if nothing was written (``open`` not called)."""
        if self._state in ("closed", "failed"):
            return self.partial_path if self._state == "failed" else None
        if self._state == "new":
            self._state = "failed"
            return None
        self._put("abort", str(reason))
        self._stop()
        self._state = "failed"
        return self.partial_path

    @property
    def state(self) -> str:
        """``"new"``, ``"open"``, ``"closed"`` or ``"failed"``."""
        return self._state

    def __enter__(self) -> HDF5Recorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None:
            self.fail(f"{exc_type.__name__}: {exc}")
            return False
        if self._state == "open":
            self.fail("the recorder's with-block ended without close(completed_steps)")
            raise RunError(f"HDF5Recorder for {self.path} left without close(completed_steps); "
                           f"the run was marked failed and left as {self.partial_path}")
        return False
