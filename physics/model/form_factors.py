"""Atomic + nuclear form factors of the target (docs/physics.md#form-factors; Gninenko et al., arXiv:2602.11405,
Eq. (9)).

Elastic (docs/physics.md#form-factor-elastic; Bjorken, Essig, Schuster, Toro, PRD 80 (2009) 075018 [Bjorken2009],
App. A, Eq. (A18); Tsai, RMP 46 (1974) 815):

    G2_el(t) = Z² [a² t / (1 + a² t)]² [1 / (1 + t/d)]²,  a = 111 Z^{-1/3} / m_e,  d = 0.164 A^{-2/3} GeV²

with t = −q² > 0 in GeV². The amplitude carries Z F(t) with F² = G2_el / Z².

Inelastic (optional; docs/physics.md#form-factor-inelastic; [Bjorken2009] Eq. (A19) with the nucleon bracket
not squared, as corrected by Blinov et al., arXiv:2401.06843, App. B [Blinov2024]):

    G2_in(t) = Z [a'² t / (1 + a'² t)]² (1 + t(μ_p² − 1)/(4 m_p²)) / (1 + t/0.71)⁴,  a' = 773 Z^{-2/3} / m_e
"""

from __future__ import annotations

import numpy as np

from physics.model.constants import M_ELECTRON_GEV, M_PROTON_GEV, MU_PROTON


def screening_a_gev_inv(Z: float) -> float:
    """Atomic screening parameter a = 111 Z^{-1/3}/m_e [GeV⁻¹] ([Bjorken2009] Eq. (A18))."""
    return 111.0 * Z ** (-1.0 / 3.0) / M_ELECTRON_GEV


def screening_a_prime_gev_inv(Z: float) -> float:
    """Inelastic screening parameter a' = 773 Z^{-2/3}/m_e [GeV⁻¹] ([Bjorken2009] Eq. (A19))."""
    return 773.0 * Z ** (-2.0 / 3.0) / M_ELECTRON_GEV


def nuclear_d_gev2(A: float) -> float:
    """Nuclear size parameter d = 0.164 A^{-2/3} GeV² ([Bjorken2009] Eq. (A18))."""
    return 0.164 * A ** (-2.0 / 3.0)


def g2_elastic(t, Z: float, A: float):
    """G2_el(t) (dimensionless, includes Z²) for t = −q² [GeV²] > 0 (vectorised)."""
    t = np.asarray(t, dtype=float)
    a2 = screening_a_gev_inv(Z) ** 2
    d = nuclear_d_gev2(A)
    at = a2 * t
    return Z * Z * (at / (1.0 + at)) ** 2 / (1.0 + t / d) ** 2


def g2_inelastic(t, Z: float):
    """G2_in(t) (dimensionless, ∝ Z) for t [GeV²] (vectorised; nucleon bracket not squared)."""
    t = np.asarray(t, dtype=float)
    ap2 = screening_a_prime_gev_inv(Z) ** 2
    at = ap2 * t
    nucleon = (1.0 + t * (MU_PROTON ** 2 - 1.0) / (4.0 * M_PROTON_GEV ** 2)) / (1.0 + t / 0.71) ** 4
    return Z * (at / (1.0 + at)) ** 2 * nucleon


def g2_total(t, Z: float, A: float, form_factor: str = "elastic"):
    """G2 for the chosen form-factor model ("elastic" or "elastic+inelastic")."""
    g2 = g2_elastic(t, Z, A)
    if form_factor == "elastic+inelastic":
        g2 = g2 + g2_inelastic(t, Z)
    return g2
