"""The file side of the recorder: every result table's layout in HDF5 (:data:`SPECS`, from
:mod:`mobsim.output.schema`: datasets, dimension scales, chunking, compression), the checks and
conversions of the columns a caller passes, and the writer that owns the open file on the
recorder's background thread (:class:`Writer`). :mod:`mobsim.output.recorder` is the public side."""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mobsim.errors import InputError
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

CONFIG_COLUMN = schema.Column("config", "str", "1", "resolved scenario configuration (TOML text)")

DIM_DESCRIPTIONS = {
    "row": "table row",
    "sample": "FCD sample (one per recorded time)",
    "interval": "edge-data aggregation interval",
    "link": "link (row in /network/links)",
}


@dataclass(frozen=True)
class Spec:
    """A table: the HDF5 group, its columns with their dimension names, the chunk length in rows."""

    group: str
    columns: tuple[tuple[schema.Column, tuple[str, ...]], ...]
    chunk_rows: int

    @property
    def row_dim(self) -> str:
        return self.columns[0][1][0]

    def names(self) -> list[str]:
        return [c.name for c, _ in self.columns]


def with_dims(cols: Sequence[schema.Column], dims: tuple[str, ...]) -> tuple:
    return tuple((c, dims) for c in cols)


#: Every table the recorder writes, by key (the key is the group, except for the FCD sample index).
SPECS: dict[str, Spec] = {
    "trips": Spec("trips", with_dims(schema.TRIPS, ("row",)), 16384),
    "summary": Spec("summary", with_dims(schema.SUMMARY, ("row",)), 1024),
    "events": Spec("events", with_dims(schema.EVENTS, ("row",)), 4096),
    "fcd": Spec("fcd", with_dims(schema.FCD, ("row",)), 65536),
    "fcd_index": Spec("fcd", with_dims(schema.FCD_INDEX, ("sample",)), 1024),
    "edgedata": Spec(
        "edgedata",
        with_dims(schema.EDGEDATA_INDEX, ("interval",)) + with_dims(schema.EDGEDATA, ("interval", "link")),
        64,
    ),
    "provenance/files": Spec("provenance/files", with_dims(schema.PROVENANCE_FILES, ("row",)), 256),
}
for _path, _cols in schema.STATIC.items():
    SPECS[_path] = Spec(_path, with_dims(_cols, ("row",)), 4096)


def spec(key: str) -> Spec:
    """The layout of table ``key``: one of :data:`SPECS`, or a mode's table registered with
    :func:`mobsim.output.schema.register_groups` (rows as the one dimension)."""
    if key not in SPECS and key in schema.MODE_GROUPS:
        rows = schema.MODE_CHUNK_ROWS.get(key, 4096)
        SPECS[key] = Spec(key, with_dims(schema.MODE_GROUPS[key], ("row",)), rows)
    return SPECS[key]


def check_specs() -> None:
    """Dimension names must not clash with a column of the same group (a schema edit could do it)."""
    by_group: dict[str, tuple[set[str], set[str]]] = {}
    for sp in SPECS.values():
        names, dims = by_group.setdefault(sp.group, (set(), set()))
        for col, cdims in sp.columns:
            names.add(col.name)
            dims.update(cdims)
    for group, (names, dims) in by_group.items():
        if names & dims:
            raise RuntimeError(f"schema: /{group} has a column named like a dimension: {names & dims}")


check_specs()


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


def mobsim_version() -> str:
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


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def attr_value(value: Any) -> Any:
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


def host_array(value: Any) -> Any:
    """A host (numpy-convertible) view of a column: cupy (``.get()``) and numba device arrays."""
    if hasattr(value, "__cuda_array_interface__"):
        if hasattr(value, "get"):
            return value.get()
        if hasattr(value, "copy_to_host"):
            return value.copy_to_host()
    return value


def convert(where: str, col: schema.Column, value: Any) -> np.ndarray:
    """Copy ``value`` into a new array of the column's dtype; ValueError naming the column on failure."""
    arr = np.asarray(host_array(value))
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


def prepare(where: str, spec: Spec, cols: Mapping[str, Any], inner: Mapping[str, int] | None = None,
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
        arr = convert(where, col, cols[name])
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


class Table:
    """One table of a group on the writer thread: creates its datasets and dimension scales, buffers
    row batches and writes them a chunk at a time."""

    def __init__(self, h5: h5py.File, spec: Spec, inner: Mapping[str, int], filters: Mapping[str, Any],
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
        ds.attrs["description"] = f"dimension: {DIM_DESCRIPTIONS.get(name, name)}"
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


class Writer:
    """The state that lives on the writer thread: the open h5py file and its tables."""

    def __init__(self, partial: Path, filters: Mapping[str, Any]):
        self.partial = partial
        self.filters = dict(filters)
        self.h5: h5py.File | None = None
        self.tables: dict[str, Table] = {}
        self.n_links = 0

    # jobs -------------------------------------------------------------------------------
    def open(self, attrs: dict[str, Any], static: dict[str, tuple[dict[str, np.ndarray], int]],
             provenance: tuple[str, dict[str, np.ndarray], int]) -> None:
        self.h5 = h5py.File(self.partial, "w", libver=LIBVER)
        for key, value in attrs.items():
            self.h5.attrs[key] = value
        self.n_links = static["network/links"][1]
        for path, (cols, n) in static.items():
            self.tables[path] = Table(self.h5, spec(path), {}, self.filters, exact_rows=n)
            self.rows(path, cols, n)
            self.tables[path].flush()
        config, files, n_files = provenance
        grp = self.h5.require_group("provenance")
        ds = grp.create_dataset("config", data=config, dtype=h5py.string_dtype())
        ds.attrs["units"] = CONFIG_COLUMN.units
        ds.attrs["description"] = CONFIG_COLUMN.description
        self.tables["provenance/files"] = Table(self.h5, spec("provenance/files"), {}, self.filters,
                                                 exact_rows=n_files)
        self.rows("provenance/files", files, n_files)
        self.tables["provenance/files"].flush()
        self.h5.flush()

    def table(self, key: str, first_rows: int | None = None) -> Table:
        tab = self.tables.get(key)
        if tab is None:
            inner = {"link": self.n_links} if key == "edgedata" else {}
            tab = self.tables[key] = Table(self.h5, spec(key), inner, self.filters, first_rows)
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
            self.h5.attrs["finished"] = now()
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
            h5.attrs["finished"] = now()
        finally:
            self.tables.clear()  # drop every dataset handle before the file goes
            h5.close()


# --------------------------------------------------------------------------------------------
# caller side


