"""Vector mesons and their decays to a γD via vector-meson dominance (docs/physics.md#vmd;
Gninenko et al., arXiv:2602.11405, Eqs. (13)–(16), (21)).

Table 1 of Gninenko et al., arXiv:2602.11405 (docs/physics.md#vmd-table1): M_V [MeV], g_V (dimensionless
γ–V coupling, mixing e M_V²/g_V), Γ_V [MeV].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from . import errors
from .constants import ALPHA_EM
from .portal import lambda32, validate_masses


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


def width_to_a_gd(meson: str | VectorMeson, m_a, m_gd, g) -> float:
    """Γ(V → a γD) = α g² M_V³ λ^{3/2}(1, m_a²/M_V², m_γD²/M_V²) / (24 g_V²) [GeV].

    Source: docs/physics.md#vmd (derived from Gninenko et al., arXiv:2602.11405, Eqs. (14)–(16)): VMD
    mixing e M_V²/g_V times Γ(V(M) → a γD) of a unit-coupled spin-1 state (docs/physics.md#width-vector).
    Zero when closed (use :func:`check_open` to make closure an error).
    """
    V = meson if isinstance(meson, VectorMeson) else get_meson(meson)
    m_a, m_gd = validate_masses(m_a, m_gd)
    g = errors.non_negative("g", g, "GeV^-1")
    lam = float(lambda32(V.mass_gev, m_a, m_gd))
    return ALPHA_EM * g * g * V.mass_gev ** 3 * lam / (24.0 * V.g_v ** 2)


def br_to_a_gd(meson: str | VectorMeson, m_a, m_gd, g) -> float:
    """Br(V → a γD) = Γ(V → a γD) / Γ_V ([Gninenko2026, Eq. (13)]; docs/physics.md#vmd)."""
    V = meson if isinstance(meson, VectorMeson) else get_meson(meson)
    return width_to_a_gd(V, m_a, m_gd, g) / V.width_gev


def width_to_ee(meson: str | VectorMeson) -> float:
    """Γ(V → e⁺e⁻) = 4π α² M_V / (3 g_V²) [GeV] (VMD, electron mass neglected; [Gninenko2026, Eq. (21)];
    docs/physics.md#vmd)."""
    V = meson if isinstance(meson, VectorMeson) else get_meson(meson)
    return 4.0 * math.pi * ALPHA_EM ** 2 * V.mass_gev / (3.0 * V.g_v ** 2)
