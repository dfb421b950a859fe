"""The transit lines' per-step phase: boarding, alighting and dwell times at stops (:mod:`.boarding`)."""
