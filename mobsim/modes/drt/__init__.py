"""On-demand pooled shuttles (DRT): the dispatch of ride requests by insertion into the vehicles'
schedules (:mod:`.dispatch`), evaluated in batches by :mod:`mobsim.kernels.drt.insertion`."""
