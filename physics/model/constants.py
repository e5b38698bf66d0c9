"""Physical constants and unit conversions — the single place where numbers of nature live.

Natural units throughout: energies/masses in GeV, lengths in GeV^-1, couplings g_aγγD in GeV^-1.
Conversion functions follow the ``X_to_Y`` naming convention (as in Hazma's units module).

Sources: PDG 2024 (Navas et al., Phys. Rev. D 110 (2024) 030001); every value is listed in
docs/physics.md#constants and checked in docs/validation.md#constants.
"""

from __future__ import annotations

import math

#: Fine-structure constant at q^2 = 0 (PDG; docs/physics.md#constants).
ALPHA_EM: float = 1.0 / 137.036
#: Elementary charge in natural (Heaviside-Lorentz) units, e = sqrt(4 pi alpha).
E_CHARGE: float = math.sqrt(4.0 * math.pi * ALPHA_EM)
#: Electron mass [GeV] (PDG).
M_ELECTRON_GEV: float = 0.51099895e-3
#: Muon mass [GeV] (PDG).
M_MUON_GEV: float = 0.1056583755
#: Projectile leptons of the fixed-target beams ("e": electron, "mu": muon) and their masses [GeV]
#: (docs/physics.md#muon-beams). The projectile mass enters the kinematics and the lepton propagators; the
#: atomic screening of the target stays with the electron mass (atomic electrons screen the nucleus).
LEPTON_MASSES_GEV: dict[str, float] = {"e": M_ELECTRON_GEV, "mu": M_MUON_GEV}
LEPTONS: tuple[str, ...] = tuple(LEPTON_MASSES_GEV)
#: Proton mass [GeV] (PDG).
M_PROTON_GEV: float = 0.93827208816
#: Neutron mass [GeV] (PDG).
M_NEUTRON_GEV: float = 0.93956542052
#: Atomic mass unit [GeV] (PDG), used for the nuclear mass M_N ≈ A u.
AMU_GEV: float = 0.93149410242
#: Proton magnetic moment in nuclear magnetons (PDG).
MU_PROTON: float = 2.7928473446
#: Avogadro's number [1/mol].
AVOGADRO_PER_MOL: float = 6.02214076e23
#: hbar * c [GeV cm] (PDG; docs/physics.md#constants).
HBARC_GEV_CM: float = 1.973269804e-14
#: 1 GeV^-2 in cm^2 (PDG: 0.3893794 mb = 3.893794e-28 cm^2; docs/physics.md#constants).
GEV_M2_IN_CM2: float = 3.893793721e-28
#: 1 pb in cm^2.
PB_IN_CM2: float = 1.0e-36
#: 1 nb in cm^2.
NB_IN_CM2: float = 1.0e-33
#: 1 mb in cm^2.
MB_IN_CM2: float = 1.0e-27
#: 1 fm in cm.
FM_IN_CM: float = 1.0e-13
#: 1 GeV^-2 in pb.
GEV_M2_IN_PB: float = GEV_M2_IN_CM2 / PB_IN_CM2

#: Zero-background, zero-event 90% CL upper limit on a Poisson mean, ln 10 (docs/physics.md#statistics).
N90_ZERO_BACKGROUND: float = 2.302585092994046


def gev_m2_to_pb(x: float) -> float:
    """Convert a cross section from GeV^-2 to pb."""
    return x * GEV_M2_IN_PB


def pb_to_gev_m2(x: float) -> float:
    """Convert a cross section from pb to GeV^-2."""
    return x / GEV_M2_IN_PB


def pb_to_cm2(x: float) -> float:
    """Convert a cross section from pb to cm^2."""
    return x * PB_IN_CM2


def cm2_to_pb(x: float) -> float:
    """Convert a cross section from cm^2 to pb."""
    return x / PB_IN_CM2


def gev_m2_to_cm2(x: float) -> float:
    """Convert a cross section from GeV^-2 to cm^2."""
    return x * GEV_M2_IN_CM2


def inv_gev_to_cm(x: float) -> float:
    """Convert a length from GeV^-1 to cm (multiply by hbar c)."""
    return x * HBARC_GEV_CM


def cm_to_inv_gev(x: float) -> float:
    """Convert a length from cm to GeV^-1 (divide by hbar c)."""
    return x / HBARC_GEV_CM


def edm_inv_gev_to_ecm(d: float) -> float:
    """Convert an electric dipole moment from GeV^-1 (d multiplying the field strength with the
    charge absorbed, i.e. L = -(i/2) d f̄ σ F γ5 f) to e·cm: d[e cm] = d[GeV^-1] / e × ħc
    (docs/physics.md#constants)."""
    return d / E_CHARGE * HBARC_GEV_CM


def edm_ecm_to_inv_gev(d: float) -> float:
    """Inverse of :func:`edm_inv_gev_to_ecm`: d[GeV^-1] = d[e cm] × e / ħc."""
    return d * E_CHARGE / HBARC_GEV_CM


def mev_to_gev(x: float) -> float:
    """Convert MeV to GeV."""
    return x * 1e-3


def gev_to_mev(x: float) -> float:
    """Convert GeV to MeV."""
    return x * 1e3
