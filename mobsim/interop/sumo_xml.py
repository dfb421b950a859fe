"""Pieces of SUMO's XML files that every importer of demand shares: one element as read
(:class:`Elem`), numbers and times as SUMO writes them, and weighted draws (probabilities of
distribution members). Units: s."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from mobsim.errors import InputError


@dataclass
class Elem:
    """One XML element as read: tag, attributes (SUMO names) and child elements; ``ignored``
    names the attributes it has that mobsim does not model (for a warning)."""

    tag: str
    attrs: dict[str, str]
    children: list[Elem]
    source: str
    ignored: tuple[str, ...] = ()

    def kids(self, tag: str) -> list[Elem]:
        return [c for c in self.children if c.tag == tag]

    @property
    def label(self) -> str:
        return f"{self.tag} '{self.attrs['id']}'" if "id" in self.attrs else self.tag


def number(value: str, name: str, source: str, element: str) -> float:
    """``value`` as a finite number; an error naming ``name`` and the element otherwise."""
    try:
        v = float(value)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise InputError(f"{name}={value!r} is not a number", source=source, element=element,
                         fix=f"give {name} as a finite number")
    return v


def parse_time(value: str, name: str, source: str, element: str) -> float:
    """A SUMO time (``"12.5"``, ``"h:m:s"`` or ``"d:h:m:s"``) in s; negative times are errors."""
    parts = value.strip().split(":")
    try:
        if len(parts) == 1:
            t = float(parts[0])
        elif len(parts) in (3, 4):
            nums = [float(p) for p in parts]
            if any(x < 0 for x in nums):
                raise ValueError
            t = math.fsum(x * u for x, u in zip(nums, (86400.0, 3600.0, 60.0, 1.0)[-len(nums):],
                                                 strict=True))
        else:
            raise ValueError
    except ValueError:
        t = math.nan
    if not math.isfinite(t) or t < 0:
        raise InputError(f"{name}={value!r} is not a time >= 0", source=source, element=element,
                         fix=f"give {name} in seconds (e.g. 3600) or as h:m:s (e.g. 1:00:00)")
    return t


def probabilities(values: list[str], source: str, element: str) -> np.ndarray:
    """Probabilities (any non-negative numbers with a positive sum), normalised to sum 1."""
    w = np.array([number(v, "probability", source, element) for v in values], dtype=np.float64)
    if len(w) == 0 or (w < 0).any() or w.sum() <= 0:
        raise InputError(f"probabilities {values} must be >= 0 with a positive sum", source=source,
                         element=element, fix="give every member a probability >= 0, not all 0")
    return w / w.sum()


def draw_members(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` member indices drawn with ``weights`` (no draw at all for a single member)."""
    if len(weights) == 1:
        return np.zeros(n, dtype=np.int64)
    return rng.choice(len(weights), size=n, p=weights)


def listed(attrs: Mapping[str, str], key: str, source: str, element: str) -> tuple[list[str], list[str]]:
    """The ids of a distribution's ``vTypes``/``routes`` attribute and its ``probabilities`` (as
    given: empty, or one per id)."""
    names = attrs[key].split()
    given = attrs.get("probabilities", "").replace(",", " ").split()
    if given and len(given) != len(names):
        what = key[:-1]
        raise InputError(f"{len(names)} {key} but {len(given)} probabilities", source=source,
                         element=element, fix=f"give one probability per {what}")
    return names, given


def xml_attrs(**kw: Any) -> str:
    """XML attributes from keywords (``from_`` -> ``from``, ``a__b`` -> ``a-b``; floats by repr)."""
    def text(v: Any) -> str:
        return repr(v) if isinstance(v, float) else str(v)

    return " ".join(f"{k.rstrip('_').replace('__', '-')}={quoteattr(text(v))}" for k, v in kw.items())
