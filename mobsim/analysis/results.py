"""Read a mobsim result file into pandas tables: ``mobsim.open(path) -> Results``.

The file is plain HDF5 (see :mod:`mobsim.output.recorder` and :mod:`mobsim.output.schema`); this
module adds the checks a reader owes its user (the run finished, the schema is one it understands)
and resolves integer references to string ids (``vtype_id``, ``link_id``, ``trip_id``, ``kind_name``).

Tables are read lazily, on first access, and cached. Each access opens the file read-only and
closes it again, so a :class:`Results` holds no file handle. Columns are the schema's
(:mod:`mobsim.output.schema`); a schema column absent from an older file reads as NaN.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from mobsim.errors import InputError
from mobsim.named import resolve
from mobsim.output import schema

__all__ = ["Results", "open"]

_hdf5plugin_tried = False


def _load_filters() -> None:
    """Register hdf5plugin's filters (zstd) when it is installed, so such files can be read."""
    global _hdf5plugin_tried
    if not _hdf5plugin_tried:
        _hdf5plugin_tried = True
        try:
            import hdf5plugin  # noqa: F401
        except ImportError:
            pass


def _py(value: Any) -> Any:
    """An HDF5 attribute value as a plain Python value (str, int, float, bool, list)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return [_py(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _major(version: str) -> str:
    return str(version).split(".")[0]


def open(path: str | os.PathLike[str], allow_partial: bool = False) -> Results:  # noqa: A001
    """Open a result file written by mobsim.

    Refuses, with an :class:`InputError` naming the file and the fix: a missing file, a file
    that is not HDF5 or not a mobsim result, a schema version with another major number, and
    (unless ``allow_partial=True``) a file whose ``status`` is not ``"complete"`` or whose name
    ends in ``.partial`` (a run still writing, failed or killed).
    """
    p = Path(path)
    src = str(p)
    if not p.exists():
        partial = Path(src + ".partial")
        if partial.exists():
            raise InputError("the run did not finish: only its partial file exists", source=src,
                             fix=f"re-run it, or read what was written with "
                                 f"mobsim.open({str(partial)!r}, allow_partial=True)")
        raise InputError("no such result file", source=src, fix="check the path (runs write <name>.h5)")
    if p.is_dir():
        raise InputError("is a folder, not a result file", source=src, fix="pass the .h5 file inside it")
    if not h5py.is_hdf5(p):
        raise InputError("is not an HDF5 file", source=src, fix="pass a result file written by mobsim (.h5)")
    _load_filters()
    try:
        with h5py.File(p, "r") as h5:
            attrs = {k: _py(v) for k, v in h5.attrs.items()}
    except OSError as exc:
        raise InputError(f"cannot be read as HDF5 ({exc}); the run may still be writing it, or was "
                         "killed while writing", source=src,
                         fix="wait for the run to finish, or re-run the scenario") from None
    if "schema_version" not in attrs:
        raise InputError("is not a mobsim result file (no schema_version attribute)", source=src,
                         fix="pass a file written by mobsim's recorder")
    if _major(attrs["schema_version"]) != _major(schema.SCHEMA_VERSION):
        raise InputError(f"has result schema {attrs['schema_version']}, this mobsim reads "
                         f"{_major(schema.SCHEMA_VERSION)}.x", source=src,
                         fix=f"read it with the mobsim version that wrote it ({attrs.get('mobsim_version')})")
    status = attrs.get("status")
    if not allow_partial:
        if p.name.endswith(".partial"):
            raise InputError(f"is a partial result (status {status!r}): the run is still writing, "
                             "failed or was killed", source=src,
                             fix="read it anyway with allow_partial=True, or re-run")
        if status != "complete":
            reason = f" ({attrs['reason']})" if attrs.get("reason") else ""
            raise InputError(f"the run is not complete: status {status!r}{reason}", source=src,
                             fix="read it anyway with allow_partial=True, or re-run")
    return Results(p, attrs)


def as_results(results: Any) -> Any:
    """``results`` itself, or the result file it names (a path) opened with :func:`open`."""
    if isinstance(results, (str, os.PathLike)):
        return open(results)
    return results


def _ids(codes: np.ndarray, ids: np.ndarray) -> pd.Categorical | np.ndarray:
    """Resolve integer references to string ids; codes outside [0, len(ids)) become missing."""
    codes = np.asarray(codes)
    if len(codes) and (codes.min() < 0 or codes.max() >= len(ids)):
        codes = np.where((codes >= 0) & (codes < len(ids)), codes, -1)
    try:
        return pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=object))
    except ValueError:  # duplicate ids: fall back to plain objects
        out = np.asarray(ids, dtype=object)[np.maximum(codes, 0)] if len(ids) else np.full(len(codes), None)
        out = np.array(out, dtype=object)
        out[codes < 0] = None
        return out


class Results:
    """One run's results. Tables are pandas DataFrames, read on first access and cached.

    Attributes: ``path``; ``attrs`` (root attributes: seed, dt in s, status, completed_steps, ...).
    """

    def __init__(self, path: str | os.PathLike[str], attrs: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        if attrs is None:
            _load_filters()
            with h5py.File(self.path, "r") as h5:
                attrs = {k: _py(v) for k, v in h5.attrs.items()}
        self.attrs: dict[str, Any] = attrs

    def __repr__(self) -> str:
        return (f"Results({str(self.path)!r}, status={self.status!r}, "
                f"completed_steps={self.attrs.get('completed_steps')})")

    # ------------------------------------------------------------------ raw access
    def _h5(self) -> h5py.File:
        return h5py.File(self.path, "r")

    def read(self, group: str, columns: tuple[schema.Column, ...] | None = None) -> dict[str, np.ndarray]:
        """Raw column arrays of a group (schema columns; strings decoded to Python ``str``)."""
        if columns is None:
            columns = schema.GROUPS.get(group) or schema.STATIC[group]
        out: dict[str, np.ndarray] = {}
        with self._h5() as h5:
            grp = h5.get(group)
            for col in columns:
                ds = grp.get(col.name) if isinstance(grp, h5py.Group) else None
                if ds is None:
                    out[col.name] = np.array([], dtype=object if col.dtype == "str" else col.dtype)
                elif h5py.check_string_dtype(ds.dtype) is not None:
                    out[col.name] = np.asarray(ds.asstr()[()], dtype=object)
                else:
                    out[col.name] = ds[()]
        return out

    def _frame(self, group: str, columns: tuple[schema.Column, ...] | None = None) -> pd.DataFrame:
        data = self.read(group, columns)
        lengths = [len(v) for v in data.values() if len(v)]
        n = min(lengths) if lengths else 0  # a partial file may have ragged columns
        cols = {}
        for name, arr in data.items():
            if len(arr) == 0 and n:
                arr = np.full(n, np.nan)
            cols[name] = arr[:n]
        return pd.DataFrame(cols, copy=False)  # fresh arrays: no copy, no block consolidation

    def table(self, group: str) -> pd.DataFrame:
        """Any table of the file as a DataFrame, by its group (``"transit/stop_events"``,
        ``"transit/passengers"``, ``"drones/flights"``, ...; units in the schema,
        ``mobsim.output.schema``); empty, with its columns, when the run has no such table."""
        if group not in schema.GROUPS and group not in schema.STATIC:
            raise KeyError(f"no table '{group}' in the schema; known: {', '.join(sorted(schema.GROUPS))}")
        return self._frame(group)

    def has(self, group: str) -> bool:
        """Whether the file has ``group`` (e.g. ``"fcd"``, which is opt-in)."""
        with self._h5() as h5:
            return group in h5

    @property
    def status(self) -> str:
        """``"complete"``, ``"running"`` (still writing or killed) or ``"failed"``."""
        return str(self.attrs.get("status", "unknown"))

    @property
    def dt(self) -> float:
        """The simulation step, s (NaN when the file does not say)."""
        return float(self.attrs.get("dt", np.nan))

    @cached_property
    def has_fcd(self) -> bool:
        """Whether trajectories (``/fcd``) were recorded."""
        return self.has("fcd")

    # ------------------------------------------------------------------ metadata
    @cached_property
    def health(self) -> dict[str, Any]:
        """Attributes of ``/health``: totals, ``wall_time_s``, ``real_time_factor``,
        ``vehicle_updates_per_s`` ... (empty dict when absent)."""
        with self._h5() as h5:
            grp = h5.get("health")
            return {k: _py(v) for k, v in grp.attrs.items()} if grp is not None else {}

    @cached_property
    def config(self) -> str:
        """The resolved scenario configuration (TOML text) the run used."""
        with self._h5() as h5:
            ds = h5.get("provenance/config")
            if ds is None:
                return ""
            value = ds[()]
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    @cached_property
    def input_files(self) -> list[tuple[str, str]]:
        """Input files of the run as ``(path, sha256)``."""
        data = self.read("provenance/files", schema.PROVENANCE_FILES)
        return list(zip(data["path"].tolist(), data["sha256"].tolist(), strict=True))

    # ------------------------------------------------------------------ static tables
    @cached_property
    def nodes(self) -> pd.DataFrame:
        """``/network/nodes``: id, x (m), y (m), control."""
        return self._frame("network/nodes")

    @cached_property
    def links(self) -> pd.DataFrame:
        """``/network/links`` plus ``from_node_id`` and ``to_node_id``; the index is the link index."""
        df = self._frame("network/links")
        ids = self.nodes["id"].to_numpy(dtype=object)
        df["from_node_id"] = _ids(df["from_node"].to_numpy(), ids)
        df["to_node_id"] = _ids(df["to_node"].to_numpy(), ids)
        return df

    @cached_property
    def lanes(self) -> pd.DataFrame:
        """``/network/lanes`` plus ``link_id``."""
        df = self._frame("network/lanes")
        df["link_id"] = _ids(df["link"].to_numpy(), self._link_ids)
        return df

    @cached_property
    def movements(self) -> pd.DataFrame:
        """``/network/movements`` plus ``node_id``."""
        df = self._frame("network/movements")
        df["node_id"] = _ids(df["node"].to_numpy(), self.nodes["id"].to_numpy(dtype=object))
        return df

    @cached_property
    def vtypes(self) -> pd.DataFrame:
        """``/vtypes``: one row per vehicle type (m, s, m/s, m/s²)."""
        return self._frame("vtypes")

    @cached_property
    def _link_ids(self) -> np.ndarray:
        return self.read("network/links", (schema.LINKS[0],))["id"]

    # ------------------------------------------------------------------ run tables
    @cached_property
    def trips(self) -> pd.DataFrame:
        """``/trips`` (tripinfo; s, m) plus ``vtype_id``, ``origin_id``, ``destination_id`` and
        ``status_name``. The index is the trip row that ``vehicle`` columns refer to."""
        df = self._frame("trips")
        df["vtype_id"] = _ids(df["vtype"].to_numpy(), self.vtypes["id"].to_numpy(dtype=object))
        df["origin_id"] = _ids(df["origin"].to_numpy(), self._link_ids)
        df["destination_id"] = _ids(df["destination"].to_numpy(), self._link_ids)
        df["status_name"] = _ids(df["status"].to_numpy(), np.array(
            [schema.TRIP_STATUS[k] for k in sorted(schema.TRIP_STATUS)], dtype=object))
        return df

    @cached_property
    def summary(self) -> pd.DataFrame:
        """``/summary``: one row per recorded step (time in s, counts, mean_speed in m/s)."""
        return self._frame("summary")

    @cached_property
    def events(self) -> pd.DataFrame:
        """``/events`` plus ``kind_name`` (:data:`schema.EVENT_KINDS`), ``trip_id`` and ``link_id``."""
        df = self._frame("events")
        kinds = np.array([schema.EVENT_KINDS.get(k, str(k)) for k in range(max(schema.EVENT_KINDS) + 1)],
                         dtype=object)
        df["kind_name"] = _ids(df["kind"].to_numpy(), kinds)
        df["trip_id"] = _ids(df["vehicle"].to_numpy(), self._trip_ids)
        df["link_id"] = _ids(df["link"].to_numpy(), self._link_ids)
        return df

    @cached_property
    def _trip_ids(self) -> np.ndarray:
        return self.read("trips", (schema.TRIPS[0],))["id"]

    @cached_property
    def edgedata_intervals(self) -> pd.DataFrame:
        """The edge-data intervals: ``begin``, ``end`` (s), one row per interval."""
        return self._frame("edgedata", schema.EDGEDATA_INDEX)

    def edgedata_array(self, column: str) -> np.ndarray:
        """One :data:`schema.EDGEDATA` column as a 2-D array (interval, link), in its units."""
        if column not in schema.columns("edgedata"):
            raise ValueError(f"unknown edgedata column {column!r}; schema lists "
                             f"{[c.name for c in schema.EDGEDATA]}")
        with self._h5() as h5:
            ds = h5.get(f"edgedata/{column}")
            if ds is None:
                return np.zeros((0, len(self._link_ids)))
            return ds[()]

    @cached_property
    def edgedata(self) -> pd.DataFrame:
        """``/edgedata`` in long format: one row per (interval, link) with ``begin``, ``end`` (s),
        ``link`` (index), ``link_id`` and every :data:`schema.EDGEDATA` column in its units."""
        iv = self.edgedata_intervals
        n_int, n_links = len(iv), len(self._link_ids)
        data = self.read("edgedata", schema.EDGEDATA)
        cols: dict[str, Any] = {
            "begin": np.repeat(iv["begin"].to_numpy(), n_links),
            "end": np.repeat(iv["end"].to_numpy(), n_links),
            "link": np.tile(np.arange(n_links, dtype=np.int32), n_int),
        }
        cols["link_id"] = _ids(cols["link"], self._link_ids)
        for c in schema.EDGEDATA:
            arr = data[c.name]
            cols[c.name] = (arr[:n_int].reshape(-1) if arr.ndim == 2 and arr.shape[1] == n_links
                            else np.full(n_int * n_links, np.nan))
        return pd.DataFrame(cols, copy=False)

    @cached_property
    def fcd(self) -> pd.DataFrame:
        """``/fcd`` trajectories, one row per sampled vehicle and time: ``time`` (s), ``vehicle``
        (trip row), ``trip_id``, ``link``, ``link_id``, ``lane``, ``pos`` (m), ``speed`` (m/s),
        ``accel`` (m/s²), ``x``, ``y`` (m). Empty when no trajectories were recorded."""
        rows = self._frame("fcd", schema.FCD)
        index = self._frame("fcd", schema.FCD_INDEX)
        n = len(rows)
        times = index["time"].to_numpy(dtype=float)
        offsets = index["offset"].to_numpy(dtype=np.int64)
        ends = np.append(offsets[1:], n) if len(offsets) else offsets
        counts = np.clip(ends - offsets, 0, None)
        time = np.repeat(times, counts)[:n]
        if len(time) < n:
            time = np.append(time, np.full(n - len(time), np.nan))
        vehicle, link = rows["vehicle"].to_numpy(), rows["link"].to_numpy()
        cols: dict[str, Any] = {"time": time, "vehicle": vehicle, "trip_id": _ids(vehicle, self._trip_ids),
                                "link": link, "link_id": _ids(link, self._link_ids)}
        for name in ("lane", "pos", "speed", "accel", "x", "y"):
            cols[name] = rows[name].to_numpy()
        return pd.DataFrame(cols, copy=False)

    # ------------------------------------------------------------------ analysis
    def kpis(self, **kw: Any) -> dict[str, Any]:
        """Key performance indicators: :func:`mobsim.analysis.kpi.compute` (same keyword arguments).

        ``interval``, ``los_signal`` and ``los_priority`` default to the ``kpi.*`` settings the run
        was made with (from ``/provenance/config``), so the notebook and ``mobsim kpi`` agree.
        """
        from mobsim.settings import from_toml

        try:
            st = from_toml(self.config, f"{self.path} (/provenance/config)") if self.config else {}
        except Exception:  # an older or hand-made file: fall back to kpi.compute's defaults
            st = {}
        if "kpi.interval" in st:
            kw.setdefault("interval", st["kpi.interval"])
            kw.setdefault("los_signal", tuple(st["kpi.los_signal"]))
            kw.setdefault("los_priority", tuple(st["kpi.los_priority"]))
        # By name: the KPI module reads results through this module, which sits below it.
        return resolve("mobsim.analysis.kpi:compute")(self, **kw)

    def plot(self, out_dir: str | os.PathLike[str], **kw: Any) -> list[Path]:
        """Write the standard figures as PNG files to ``out_dir``: :func:`mobsim.analysis.plot.plot_all`
        (same keyword arguments, e.g. ``dpi``)."""
        return resolve("mobsim.analysis.plot:plot_all")(self, out_dir, **kw)
