"""Objects named ``"package.module:attribute"``: how the analysis layer reaches the modes' KPIs and
figures, and the engine the modes' factories, without importing them (registries keep names, and
a name is imported when it is first used)."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(spec: str) -> Any:
    """The object named ``"package.module:attribute"``."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)
