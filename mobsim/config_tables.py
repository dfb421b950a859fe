"""Reading a scenario's tables of input (``[[drones.types]]``, ``[[transit.stops]]``, ...):
arrays of TOML tables, their keys, ids and numbers, each checked with an error that names the
table, the element and the fix. Used by the modes' and the demand's readers."""

from __future__ import annotations

import math
from typing import Any

from mobsim.errors import InputError


def table_error(msg: str, source: str, element: str, fix: str) -> InputError:
    """The :class:`InputError` of a table: what is wrong, where, and how to fix it."""
    return InputError(msg, source=source, element=element, fix=fix)


def table_number(
    table: dict,
    key: str,
    default: Any,
    source: str,
    element: str,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise table_error(
            f"'{key}' must be a finite number, got {v!r}",
            source,
            f"{element}.{key}",
            f"write {key} = <number>",
        )
    v = float(v)
    if positive and v <= 0:
        raise table_error(f"'{key}' must be > 0, got {v}", source, f"{element}.{key}", f"give {key} > 0")
    if minimum is not None and v < minimum:
        raise table_error(
            f"'{key}' must be >= {minimum}, got {v}", source, f"{element}.{key}", f"give {key} >= {minimum}"
        )
    return v


def table_keys(table: Any, allowed: tuple[str, ...], source: str, element: str) -> dict:
    from mobsim.settings import suggest

    if not isinstance(table, dict):
        raise table_error(f"must be a table, got {table!r}", source, element, "write it as a TOML table")
    for k in table:
        if k not in allowed:
            raise table_error(
                f"unknown key{suggest(k, allowed)}",
                source,
                f"{element}.{k}",
                f"known keys: {', '.join(allowed)}",
            )
    return table


def table_id(table: dict, source: str, element: str, seen: set[str]) -> str:
    v = table.get("id", table.get("name"))
    if not isinstance(v, str) or not v:
        raise table_error("missing or empty id", source, element, 'give it an id, e.g. id = "depot"')
    if v in seen:
        raise table_error(f"id '{v}' is used twice", source, element, "give every table its own id")
    seen.add(v)
    return v


def table_list(cfg: dict, key: str, source: str, section: str = "drones") -> list[dict]:
    """The array of tables ``[[<section>.<key>]]`` of ``cfg`` (a single table counts as one)."""
    v = cfg.get(key, [])
    if isinstance(v, dict):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
        raise table_error(
            f"{section}.{key} must be an array of tables",
            source,
            f"{section}.{key}",
            f"write each as a [[{section}.{key}]] table",
        )
    return v
