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

import math
import os
import queue
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.errors import RunError
from mobsim.output import schema
from mobsim.output.hdf5_tables import (
    COMPRESSIONS,
    RESERVED_ATTRS,
    SPECS,
    Writer,
    attr_value,
    compression_options,
    mobsim_version,
    now,
    prepare,
    spec,
)

__all__ = ["COMPRESSIONS", "HDF5Recorder", "RESERVED_ATTRS", "SPECS", "compression_options"]

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
        self._writer = Writer(self.partial_path, self._filters)
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
        root: dict[str, Any] = {"schema_version": schema.SCHEMA_VERSION, "mobsim_version": mobsim_version(),
                                "created": now(), "status": "running", "completed_steps": np.int64(0)}
        bad = sorted(set(attrs) & set(RESERVED_ATTRS))
        if bad:
            raise ValueError(f"open(attrs): {bad} are written by the recorder itself; leave them out")
        for key, value in attrs.items():
            root[str(key)] = attr_value(value)
        unknown = sorted(set(static) - set(schema.STATIC))
        missing = sorted(set(schema.STATIC) - set(static))
        if unknown or missing:
            raise ValueError(f"open(static): unknown table(s) {unknown}, missing table(s) {missing}; "
                             f"expected {sorted(schema.STATIC)}")
        tables = {p: prepare(f"/{p}", spec(p), static[p]) for p in schema.STATIC}
        self._n_links = tables["network/links"][1]
        prov = dict(provenance or {})
        extra = sorted(set(prov) - {"config", "files"})
        if extra:
            raise ValueError(f"open(provenance): unknown key(s) {extra}; expected 'config' and 'files'")
        files = [(str(p), str(h)) for p, h in prov.get("files", [])]
        file_cols, n_files = prepare("/provenance/files", spec("provenance/files"),
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
        """Append a batch of rows to ``/summary``, ``/events`` or a mode's table
        (:data:`schema.MODE_GROUPS`), one 1-D array per schema column."""
        if group not in ("summary", "events") and group not in schema.MODE_GROUPS:
            raise ValueError(f"append(): group must be 'summary', 'events' or a mode's table, got {group!r} "
                             "(use write_trips, append_edgedata or append_fcd for the others)")
        self._require_open("append")
        arrays, n = prepare(f"/{group}", spec(group), cols)
        self._put_rows(group, arrays, n)

    def write_trips(self, cols: Mapping[str, Any]) -> None:
        """Write rows of ``/trips`` (one row per loaded trip; repeated calls append, in trip-row order
        as referenced by ``vehicle`` columns elsewhere). ``id`` is a string column."""
        self._require_open("write_trips")
        arrays, n = prepare("/trips", spec("trips"), cols)
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
        arrays, _ = prepare("/edgedata", spec("edgedata"), {**cols, "begin": begin, "end": end},
                             inner={"link": self._n_links})
        self._last_edge_end = end
        self._put_rows("edgedata", arrays, 1)

    def append_fcd(self, time: float, cols: Mapping[str, Any]) -> None:
        """Append one FCD sample at ``time`` (s): rows (one per sampled vehicle, any number including
        zero) go to ``/fcd/<col>``; ``/fcd/time`` and ``/fcd/offset`` (first row) index the sample."""
        self._require_open("append_fcd")
        arrays, n = prepare("/fcd", spec("fcd"), cols)
        index, _ = prepare("/fcd", spec("fcd_index"), {"time": [float(time)], "offset": [self._fcd_rows]})
        self._fcd_rows += n
        self._put_rows("fcd", arrays, n)
        self._put_rows("fcd_index", index, 1)

    def set_health(self, values: Mapping[str, Any]) -> None:
        """Set attributes of ``/health`` (totals, ``real_time_factor``, ``vehicle_updates_per_s``,
        ``wall_time_s``, ``steps``, ``vehicle_steps`` ...). Later calls update earlier keys."""
        self._require_open("set_health")
        values = {str(k): attr_value(v) for k, v in values.items()}
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
