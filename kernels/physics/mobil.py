"""MOBIL lane changing (Kesting, Treiber & Helbing 2007) as pure functions (gap acceptance at
yield lines is :mod:`.blocked`).

Accelerations in m/s², times in s. "c" is the changing vehicle, "n" its new follower on the target
lane, "o" its old follower on the current lane; ``*_new`` after the change, ``*_old`` before.
"""

from __future__ import annotations

from numba.extending import register_jitable


@register_jitable
def mobil_incentive(ac_new, ac_old, an_new, an_old, ao_new, ao_old, politeness):
    """MOBIL incentive: own gain plus politeness times the followers' gains (m/s²)."""
    return (ac_new - ac_old) + politeness * ((an_new - an_old) + (ao_new - ao_old))


@register_jitable
def mobil_safe(an_new, b_safe):
    """MOBIL safety criterion: the new follower brakes no harder than ``b_safe``."""
    return an_new >= -b_safe
