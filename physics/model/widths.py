"""Dark axion portal model: decay widths and branching ratios (docs/physics.md#model, #widths, #br-inv).

L ⊃ (g/2) a F_μν F̃_D^μν + χ̄(iγ·D − m_χ)χ, g = g_aγγD in GeV^-1 (Kaneta, Lee, Yun, PRL 118 (2017) 101802;
Gninenko et al., arXiv:2602.11405, Eqs. (1)–(2)).
All masses in GeV, widths in GeV. Every width and branching ratio is defined once here, vectorised (numpy
broadcasting over arrays of masses and couplings); scalar inputs give a float.
"""

from __future__ import annotations

import math

import numpy as np

from physics import errors


def kallen(x, y, z):
    """Källén function λ(x, y, z) = x² + y² + z² − 2xy − 2yz − 2zx (vectorised)."""
    return x * x + y * y + z * z - 2.0 * (x * y + y * z + z * x)


def lambda32(M, m_a, m_gd):
    """λ^{3/2}(1, m_a²/M², m_γD²/M²), zero below threshold (vectorised; docs/physics.md#kallen)."""
    M = np.asarray(M, dtype=float)
    lam = kallen(1.0, (m_a / M) ** 2, (m_gd / M) ** 2)
    open_ = M > (m_a + m_gd)
    return np.where(open_, np.clip(lam, 0.0, None) ** 1.5, 0.0)


def _checked(name: str, value, unit: str, positive: bool) -> np.ndarray:
    """``value`` as a float array; InputError unless every entry is finite and > 0 (``positive``) or >= 0."""
    allowed = ("> 0 " if positive else ">= 0 ") + unit + " (finite)"
    if isinstance(value, (str, bytes, bool)):
        raise errors.InputError(name, allowed, value, "not a number")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise errors.InputError(name, allowed, value, "not a number") from None
    bad = ~np.isfinite(arr) | ((arr <= 0.0) if positive else (arr < 0.0))
    if np.any(bad):
        raise errors.InputError(name, allowed, arr[bad].ravel()[:3].tolist() if arr.ndim else arr.item())
    return arr


def scalar_or_array(out: np.ndarray):
    """A float for scalar inputs (0-d result), else the array."""
    return float(out) if np.ndim(out) == 0 else out


def validate_masses(m_a, m_gd) -> tuple[np.ndarray, np.ndarray]:
    """The ALP and dark-photon masses [GeV] as float arrays: m_a finite and >= 0, m_γD finite and > 0
    (InputError naming the parameter otherwise)."""
    return _checked("m_a", m_a, "GeV", positive=False), _checked("m_gd", m_gd, "GeV", positive=True)


def validate_coupling(g) -> np.ndarray:
    """The coupling g = g_aγγD [GeV⁻¹] as a float array: finite and >= 0 (InputError otherwise)."""
    return _checked("g", g, "GeV^-1", positive=False)


def width_gd_to_chichi(m_gd, alpha_d, m_chi):
    """Γ(γD → χχ̄) = (α_D m_γD / 3)(1 + 2r) sqrt(1 − 4r), r = m_χ²/m_γD² [GeV]; 0 if 2 m_χ ≥ m_γD.

    Source: Gninenko et al., arXiv:2602.11405, Eq. (7) (standard vector → Dirac pair width);
    docs/physics.md#width-gd-chichi. Vectorised: m_γD, m_χ [GeV] broadcast; α_D ≥ 0 a number. A float for
    scalar inputs.
    """
    m_gd = _checked("m_gd", m_gd, "GeV", positive=True)
    alpha_d = errors.non_negative("alpha_D", alpha_d)
    r = (_checked("m_chi", m_chi, "GeV", positive=False) / m_gd) ** 2
    open_ = 4.0 * r < 1.0
    return scalar_or_array(np.where(
        open_, alpha_d * m_gd / 3.0 * (1.0 + 2.0 * r) * np.sqrt(np.clip(1.0 - 4.0 * r, 0, None)), 0.0))


def width_gd_to_a_gamma_per_g2(m_gd, m_a):
    """Γ(γD → a γ)/g² = m_γD³ (1 − m_a²/m_γD²)³ / (96π) [GeV³]; 0 if m_a ≥ m_γD.

    Source: deNiverville & Lee, arXiv:1904.13061; Gninenko et al., arXiv:2602.11405, Eq. (6);
    docs/physics.md#width-gd-a-gamma. The one definition of this width (:func:`width_gd_to_a_gamma` multiplies
    by g²). Vectorised in m_γD, m_a [GeV]; a float for scalar inputs.
    """
    m_gd = _checked("m_gd", m_gd, "GeV", positive=True)
    m_a = _checked("m_a", m_a, "GeV", positive=False)
    return scalar_or_array(np.where(
        m_a < m_gd, m_gd ** 3 * np.clip(1.0 - (m_a / m_gd) ** 2, 0, None) ** 3 / (96.0 * math.pi), 0.0))


def width_gd_to_a_gamma(m_gd, m_a, g):
    """Γ(γD → a γ) = g² m_γD³ (1 − m_a²/m_γD²)³ / (96π) [GeV] = g² × :func:`width_gd_to_a_gamma_per_g2`.

    Vectorised: m_γD, m_a [GeV] and g [GeV⁻¹] broadcast; a float for scalar inputs. Zero if m_a ≥ m_γD.
    """
    g = validate_coupling(g)
    return scalar_or_array(np.asarray(width_gd_to_a_gamma_per_g2(m_gd, m_a)) * g ** 2)


def width_vector_to_a_gd(M, m_a, m_gd, g):
    """Γ(V(M) → a γD) = g² M³ λ^{3/2}(1, m_a²/M², m_γD²/M²) / (96π) [GeV] (vectorised in M).

    For any spin-1 state of mass M coupled to the photon field with unit strength (a virtual photon of
    invariant mass M). docs/physics.md#width-vector (derived; reduces to Γ(γD → aγ) with roles swapped).
    """
    m_a, m_gd = validate_masses(m_a, m_gd)
    g = validate_coupling(g)
    M = np.asarray(M, dtype=float)
    return scalar_or_array(g * g * M ** 3 * lambda32(M, m_a, m_gd) / (96.0 * math.pi))


def br_gd_invisible(m_gd, m_a, g, alpha_d=0.1, m_chi=None):
    """Br(γD → invisible) = Γ_χχ / (Γ_χχ + Γ_aγ(g)) (docs/physics.md#br-inv; arXiv:2602.11405, Eqs. (6)–(7)).

    Vectorised: m_γD, m_a, m_χ [GeV] and g [GeV⁻¹] broadcast; a float for scalar inputs. Defaults α_D = 0.1
    and m_χ = m_γD/3 (docs/physics.md#br-inv). 0 if χχ̄ is closed and aγ open; 1 if both are closed (stable
    dark photon: invisible).
    """
    m_gd = _checked("m_gd", m_gd, "GeV", positive=True)
    m_chi = m_gd / 3.0 if m_chi is None else m_chi
    gc = np.asarray(width_gd_to_chichi(m_gd, alpha_d, m_chi))
    gv = np.asarray(width_gd_to_a_gamma(m_gd, m_a, g))
    tot = gc + gv
    with np.errstate(invalid="ignore", divide="ignore"):
        return scalar_or_array(np.where(tot > 0, gc / np.where(tot > 0, tot, 1.0), 1.0))
