"""Vector mesons and their decays to a γD via vector-meson dominance (docs/physics.md#vmd;
Gninenko et al., arXiv:2602.11405, Eqs. (13)–(16), (21)).

Table 1 of Gninenko et al., arXiv:2602.11405 (docs/physics.md#vmd-table1): M_V [MeV], g_V (dimensionless
γ–V coupling, mixing e M_V²/g_V), Γ_V [MeV].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from physics import errors
from physics.model.constants import ALPHA_EM
from physics.model.widths import lambda32, scalar_or_array, validate_coupling, validate_masses


@dataclass(frozen=True)
class VectorMeson:
    """Vector meson: mass_gev [GeV], g_v (VMD coupling), width_gev [GeV] ([Gninenko2026, Table 1])."""

    key: str
    name: str
    mass_gev: float
    g_v: float
    width_gev: float

    def to_dict(self) -> dict:
        return asdict(self)


#: Gninenko et al., arXiv:2602.11405, Table 1 (values also listed in docs/physics.md#vmd-table1).
MESONS: dict[str, VectorMeson] = {
    "rho": VectorMeson("rho", "ρ(770)", 0.775, 4.96, 0.147),
    "omega": VectorMeson("omega", "ω(782)", 0.782, 17.3, 8.6e-3),
    "phi": VectorMeson("phi", "φ(1020)", 1.019, 13.4, 4.2e-3),
    "jpsi": VectorMeson("jpsi", "J/ψ", 3.097, 11.8, 0.093e-3),
    "upsilon": VectorMeson("upsilon", "Υ(1S)", 9.460, 40.3, 0.054e-3),
}


def get_meson(key: str) -> VectorMeson:
    """Look up a meson by key (rho, omega, phi, jpsi, upsilon)."""
    k = str(key).lower().replace("/", "").replace("_", "")
    aliases = {"ups": "upsilon", "upsilon1s": "upsilon", "y1s": "upsilon", "psi": "jpsi"}
    k = aliases.get(k, k)
    if k not in MESONS:
        raise errors.InputError("meson", "one of " + ", ".join(MESONS), key)
    return MESONS[k]


def check_open(meson: VectorMeson, m_a: float, m_gd: float) -> None:
    """Raise InputError unless V → a γD is kinematically open (m_a + m_γD < M_V)."""
    if m_a + m_gd >= meson.mass_gev:
        raise errors.InputError("m_a + m_gd", f"< M_{meson.key} = {meson.mass_gev:g} GeV",
                                m_a + m_gd)


def _vmd_parts(V: VectorMeson, m_a, m_gd, g=1.0):
    """The one VMD formula for V → a γD, Γ(V → a γD) = α g² M_V³ λ^{3/2}(1, m_a²/M_V², m_γD²/M_V²) / (24 g_V²)
    (docs/physics.md#vmd), in parts: (λ^{3/2}, numerator α g² M_V³ λ^{3/2} [GeV³], denominator 24 g_V²).

    Masses [GeV] and g [GeV⁻¹] validated and broadcast (finite; m_a, g >= 0, m_γD > 0)."""
    m_a, m_gd = validate_masses(m_a, m_gd)
    g = validate_coupling(g)
    lam = lambda32(V.mass_gev, m_a, m_gd)
    return lam, ALPHA_EM * g * g * V.mass_gev ** 3 * lam, 24.0 * V.g_v ** 2


def _meson(meson: str | VectorMeson) -> VectorMeson:
    return meson if isinstance(meson, VectorMeson) else get_meson(meson)


def width_to_a_gd(meson: str | VectorMeson, m_a, m_gd, g):
    """Γ(V → a γD) = α g² M_V³ λ^{3/2}(1, m_a²/M_V², m_γD²/M_V²) / (24 g_V²) [GeV].

    Source: docs/physics.md#vmd (derived from Gninenko et al., arXiv:2602.11405, Eqs. (14)–(16)): VMD
    mixing e M_V²/g_V times Γ(V(M) → a γD) of a unit-coupled spin-1 state (docs/physics.md#width-vector).
    Vectorised (m_a, m_γD [GeV], g [GeV⁻¹] broadcast; a float for scalar inputs). Zero when closed (use
    :func:`check_open` to make closure an error).
    """
    _, num, den = _vmd_parts(_meson(meson), m_a, m_gd, g)
    return scalar_or_array(num / den)


def br_to_a_gd(meson: str | VectorMeson, m_a, m_gd, g=1.0):
    """Br(V → a γD) = Γ(V → a γD) / Γ_V ([Gninenko2026, Eq. (13)]; docs/physics.md#vmd); with the default
    g = 1 GeV⁻¹ this is Br/g² [GeV²], the production coefficient of the meson channels. Vectorised like
    :func:`width_to_a_gd`; zero when closed."""
    V = _meson(meson)
    _, num, den = _vmd_parts(V, m_a, m_gd, g)
    return scalar_or_array(num / (den * V.width_gev))


def coupling_at_br(meson: str | VectorMeson, br: float, m_a, m_gd):
    """The coupling g [GeV⁻¹] at which Br(V → a γD) = ``br`` (> 0) — the inverse of :func:`br_to_a_gd`:
    g = sqrt(24 g_V² Γ_V br / (α M_V³ λ^{3/2})) (docs/physics.md#constraint-meson-invisible). NaN where the
    decay is closed (m_a + m_γD ≥ M_V); vectorised, a float for scalar inputs."""
    V = _meson(meson)
    br = errors.positive("br", br)
    lam, num, den = _vmd_parts(V, m_a, m_gd)
    with np.errstate(divide="ignore"):
        g2 = np.where(lam > 0, den * V.width_gev * br / np.where(lam > 0, num, 1.0), np.nan)
    return scalar_or_array(np.sqrt(g2))


def width_to_ee(meson: str | VectorMeson) -> float:
    """Γ(V → e⁺e⁻) = 4π α² M_V / (3 g_V²) [GeV] (VMD, electron mass neglected; [Gninenko2026, Eq. (21)];
    docs/physics.md#vmd)."""
    V = meson if isinstance(meson, VectorMeson) else get_meson(meson)
    return 4.0 * math.pi * ALPHA_EM ** 2 * V.mass_gev / (3.0 * V.g_v ** 2)
