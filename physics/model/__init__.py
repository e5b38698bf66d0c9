"""The model: the inputs every calculation shares — no cross sections, no experiments.

Physical constants and unit conversions (:mod:`~physics.model.constants`), target materials
(:mod:`~physics.model.materials`), the atomic and nuclear form factors of the target
(:mod:`~physics.model.form_factors`), the dark photon's decay widths and invisible branching ratio in the dark
axion portal (:mod:`~physics.model.widths`; arXiv:2602.11405 Eqs. (6)–(7)) and the vector mesons with
Br(V → a γD) (:mod:`~physics.model.mesons`). Imports only the foundation modules (errors, limits, userfiles).
docs/physics.md gives every formula with its source.
"""
