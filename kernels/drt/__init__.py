"""On-demand (DRT) fleets: the batched evaluation of ride insertions (:mod:`.insertion`)."""
