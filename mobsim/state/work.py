"""The work arrays of the step (declared in :mod:`mobsim.kernels.runtime.state_fields`; the host holds
them, the kernels get a StructRef over the same arrays)."""

from __future__ import annotations

from mobsim.kernels.runtime.state_fields import Work

__all__ = ["Work"]
