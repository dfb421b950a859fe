"""TOML text from nested dicts (the standard library reads TOML but does not write it): bare or
quoted keys, inline values, tables and arrays of tables, in the order given."""

from __future__ import annotations

import re
from typing import Any

from mobsim.settings import format_value

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else format_value(k)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _inline(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_inline(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    return format_value(v)


def dumps_toml(doc: dict[str, Any]) -> str:
    """Write a dict as TOML: strings, booleans, numbers, arrays, tables and arrays of tables.

    A tiny writer for mobsim's own resolved configurations (no extra dependency); values must
    not be None or dates. ``tomllib.loads(dumps_toml(d)) == d`` for such dicts.
    """
    lines: list[str] = []
    _write_table(lines, (), doc, header=False)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(lines: list[str], path: tuple[str, ...], table: dict[str, Any], header: bool) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, dict) and not _is_table_array(v)]
    subtables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
    arrays = [(k, v) for k, v in table.items() if _is_table_array(v)]
    if header and path:
        lines.append("")
        lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    for k, v in scalars:
        lines.append(f"{_key(k)} = {_inline(v)}")
    for k, v in subtables:
        _write_table(lines, path + (k,), v, header=True)
    for k, items in arrays:
        for item in items:
            lines.append("")
            lines.append(f"[[{'.'.join(_key(p) for p in path + (k,))}]]")
            _write_table(lines, path + (k,), item, header=False)
