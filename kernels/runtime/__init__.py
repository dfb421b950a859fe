"""Declarations shared by every kernel: the state registry, constant layouts, the packed device buffer,
StructRefs, atomics, float32 rounding, the phase lists.
"""
