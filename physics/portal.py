"""Dark axion portal model: decay widths and branching ratios (docs/physics.md#model, #widths, #br-inv).

L ⊃ (g/2) a F_μν F̃_D^μν + χ̄(iγ·D − m_χ)χ, g = g_aγγD in GeV^-1 (Kaneta, Lee, Yun, PRL 118 (2017) 101802;
Gninenko et al., arXiv:2602.11405, Eqs. (1)–(2)).
All masses in GeV, widths in GeV.
"""

from __future__ import annotations

import math

import numpy as np

from . import errors


def kallen(x, y, z):
    """Källén function λ(x, y, z) = x² + y² + z² − 2xy − 2yz − 2zx (vectorised)."""
    return x * x + y * y + z * z - 2.0 * (x * y + y * z + z * x)


def lambda32(M, m_a, m_gd):
    """λ^{3/2}(1, m_a²/M², m_γD²/M²), zero below threshold (vectorised; docs/physics.md#kallen)."""
    M = np.asarray(M, dtype=float)
    lam = kallen(1.0, (m_a / M) ** 2, (m_gd / M) ** 2)
    open_ = M > (m_a + m_gd)
    return np.where(open_, np.clip(lam, 0.0, None) ** 1.5, 0.0)


def validate_masses(m_a, m_gd) -> tuple[float, float]:
    """Validate the ALP and dark-photon masses (GeV)."""
    m_a = errors.non_negative("m_a", m_a, "GeV")
    m_gd = errors.positive("m_gd", m_gd, "GeV")
    return m_a, m_gd


def width_gd_to_a_gamma(m_gd, m_a, g):
    """Γ(γD → a γ) = g² m_γD³ (1 − m_a²/m_γD²)³ / (96π) [GeV].

    Source: deNiverville & Lee, arXiv:1904.13061; Gninenko et al., arXiv:2602.11405, Eq. (6);
    docs/physics.md#width-gd-a-gamma. Zero if m_a ≥ m_γD.
    """
    m_a, m_gd = validate_masses(m_a, m_gd)
    g = errors.non_negative("g", g, "GeV^-1")
    if m_a >= m_gd:
        return 0.0
    return g * g * m_gd ** 3 * (1.0 - (m_a / m_gd) ** 2) ** 3 / (96.0 * math.pi)


def width_gd_to_chichi(m_gd, alpha_d, m_chi):
    """Γ(γD → χχ̄) = (α_D m_γD / 3)(1 + 2m_χ²/m_γD²) sqrt(1 − 4m_χ²/m_γD²) [GeV].

    Source: Gninenko et al., arXiv:2602.11405, Eq. (7) (standard vector → Dirac pair width);
    docs/physics.md#width-gd-chichi. Zero if 2 m_χ ≥ m_γD.
    """
    m_gd = errors.positive("m_gd", m_gd, "GeV")
    alpha_d = errors.non_negative("alpha_D", alpha_d)
    m_chi = errors.non_negative("m_chi", m_chi, "GeV")
    r = (m_chi / m_gd) ** 2
    if 4.0 * r >= 1.0:
        return 0.0
    return alpha_d * m_gd / 3.0 * (1.0 + 2.0 * r) * math.sqrt(1.0 - 4.0 * r)


def width_vector_to_a_gd(M, m_a, m_gd, g):
    """Γ(V(M) → a γD) = g² M³ λ^{3/2}(1, m_a²/M², m_γD²/M²) / (96π) [GeV] (vectorised in M).

    For any spin-1 state of mass M coupled to the photon field with unit strength (a virtual photon of
    invariant mass M). docs/physics.md#width-vector (derived; reduces to Γ(γD → aγ) with roles swapped).
    """
    m_a, m_gd = validate_masses(m_a, m_gd)
    g = errors.non_negative("g", g, "GeV^-1")
    M = np.asarray(M, dtype=float)
    out = g * g * M ** 3 * lambda32(M, m_a, m_gd) / (96.0 * math.pi)
    return float(out) if out.ndim == 0 else out


def br_gd_invisible(m_gd, m_a, g, alpha_d=0.1, m_chi=None):
    """Br(γD → invisible) = Γ_χχ / (Γ_χχ + Γ_aγ) (docs/physics.md#br-inv).

    Defaults α_D = 0.1 and m_χ = m_γD/3 (docs/physics.md#br-inv). Returns 0 if χχ̄ is closed and aγ open, and 1 if
    both are closed (stable dark photon: invisible).
    """
    if m_chi is None:
        m_chi = errors.positive("m_gd", m_gd, "GeV") / 3.0
    g_chi = width_gd_to_chichi(m_gd, alpha_d, m_chi)
    g_vis = width_gd_to_a_gamma(m_gd, m_a, g)
    tot = g_chi + g_vis
    if tot == 0.0:
        return 1.0
    return g_chi / tot
