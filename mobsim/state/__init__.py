"""The engine state: the field registry of per-vehicle and per-lane arrays (:mod:`.fields`), the
step's work arrays (:mod:`.work`) and the renumbering of vehicle slots (:mod:`.slots`).
"""
