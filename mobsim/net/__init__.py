"""The road network: its description (:mod:`.network`), CSV folders (:mod:`.netio`, on
:mod:`.csv_tables`), checks (:mod:`.netcheck`), default movements and signal programs
(:mod:`.movements`), generated networks (:mod:`.generators`), the flat arrays the kernels read
(:mod:`.compile`), which links reach which (:mod:`.reachability`) and the one shortest-path
search of every router (:mod:`.graph`, on the binary heap of :mod:`.heap`).
"""
