"""Signal: experiments, expected events and the 90% CL reach.

The experiment registry (:mod:`~physics.signal.experiments`), vector-meson photoproduction yields
(:mod:`~physics.signal.meson_yields`), events per channel (:mod:`~physics.signal.yields`), Poisson limits
(:mod:`~physics.signal.statistics`), the reach g_90(m_γD) (:mod:`~physics.signal.reach`) and the other
constraints drawn beside it (:mod:`~physics.signal.constraints`). Every function that needs a σ_V table takes
it as an argument — the caller fetches it from the service layer (``physics.service.provider``); nothing here
computes or caches a table.
"""
