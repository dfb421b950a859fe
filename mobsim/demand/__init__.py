"""Demand: trips (:mod:`.trips`), vehicle types (:mod:`.vtypes`), trip tables, OD matrices and
flows (:mod:`.sources`, with :mod:`.trip_tables`, :mod:`.od` and the seeded streams of
:mod:`.streams`), the route service that every mode shares (:mod:`.routing`: shortest paths
on the link graph, reachability, routing when due) and routes packed for the kernels
(:mod:`.route_codes`).
"""
