"""The road vehicles as a mode (:mod:`.mode`, :class:`~.mode.RoadMode`): their state and step, their
output (:mod:`.recording`) and the routes that change during a run (:mod:`.rerouting`).
:class:`~mobsim.engine.Simulation` builds it for every run and runs it first on every chunk."""
