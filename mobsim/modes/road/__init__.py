"""The road vehicles' parts of the engine: their output (:mod:`.recording`) and the routes that
change during a run (:mod:`.rerouting`). :class:`~mobsim.engine.Simulation` runs them itself."""
