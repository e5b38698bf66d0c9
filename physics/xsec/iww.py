"""Improved Weizsäcker–Williams (IWW) approximation for e N → e N V — a fast cross-check, never a silent
substitute for the exact tree-level result (docs/physics.md#iww).

Source: Bjorken, Essig, Schuster, Toro, PRD 80 (2009) 075018 [Bjorken2009], Eqs. (A14)–(A17), and Kim & Tsai,
PRD 8 (1973) 3109 [Kim1973], with the normalisation 4 α³ (codes with 8 are off by two; docs/physics.md#iww):

    χ = ∫_{t_min}^{t_max} dt (t − t_min)/t² G2(t),   t_min = (M²/2E0)²,  t_max = M²
    dσ_V/dx = 4 α³ χ sqrt(1 − M²/E0²) (1 − x + x²/3) / (M²(1 − x)/x + m_e² x)      (ε = 1, GeV⁻²)

x is restricted to the kinematic range M/E0 ≤ x ≤ 1 − m_e/E0 (E_V ≥ M, E' ≥ m_e), as the exact engine's
phase space (physics.xsec.kinematics.make_setup): beyond 1 − m_e/E0 the formula stays finite (≈ 1/(3 m_e²)) and
would otherwise add a spurious, mass-dependent piece.

Muon beams (``lepton="mu"``, docs/physics.md#muon-beams): m_e → m_μ in the x denominator and in the end point
1 − m_μ/E0, as in the WW treatments of muon beams (Chen, Pospelov & Zhong, PRD 95 (2017) 115005,
arXiv:1701.07437; Kirpichnikov et al., PRD 104 (2021) 076012, arXiv:2107.13297); χ keeps t_max = M² (the
literal [Bjorken2009] choice; t_max = M² + m_μ² would raise χ by 25% at M = 10 MeV, docs/validation.md#muon).
For M ≲ m_μ the approximation is poor (the photon-like limit is governed by m_μ, not M): ×1.3 (Pb, 160 GeV)
to ×2.7 (W, 15 GeV) above the exact result at M = 10 MeV, ×2.2 / ×6.6 at 1 GeV (docs/validation.md#muon).

Known accuracy: ~10% near M ~ 5–10 MeV; overestimates the exact result increasingly with the mass (Pb at
100 GeV: ×3 at 1 GeV, ×9 at 5 GeV; docs/physics.md#iww, docs/validation.md#etl-vs-iww).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from physics import errors
from physics import limits
from physics.model.constants import ALPHA_EM, LEPTON_MASSES_GEV, M_ELECTRON_GEV, gev_m2_to_pb
from physics.model.form_factors import g2_total
from physics.xsec.mc import MCResult
from physics.xsec.methods import Method
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint, SigmaVTable, now_iso
from physics.model.materials import get_material

_LN_NODES, _LN_W = np.polynomial.legendre.leggauss(400)


def _validate(mass_gev, beam_energy_gev, lepton: str = "e"):
    m = errors.positive("mass", mass_gev, "GeV")
    e0 = errors.positive("beam_energy", beam_energy_gev, "GeV")
    if m >= e0:
        raise errors.InputError("mass", f"< beam energy {e0:g} GeV", m)
    if lepton != "e":
        ml = _lepton_mass(lepton)
        if m >= e0 - ml:
            raise errors.InputError("mass", f"< beam energy − m_{lepton} = {e0 - ml:g} GeV (kinematic threshold "
                                            "E0 > m_lepton + M)", m)
    return m, e0


def _lepton_mass(lepton: str) -> float:
    """Mass [GeV] of the beam lepton ("e" or "mu"; InputError naming ``lepton`` otherwise)."""
    return LEPTON_MASSES_GEV[limits.check_lepton(lepton)]


def chi_iww(mass_gev: float, beam_energy_gev: float, target, form_factor: str = "elastic") -> float:
    """Effective photon flux χ ([Bjorken2009] Eq. (A17)): ∫ dt (t − t_min)/t² G2(t) over [(M²/2E0)², M²], in ln t.

    Gauss–Legendre with 400 nodes in ln t (G2 varies on the scales 1/a² and d, both resolved).
    """
    m, e0 = _validate(mass_gev, beam_energy_gev)
    mat = get_material(target)
    t_min = (m * m / (2.0 * e0)) ** 2
    t_max = m * m
    if t_max <= t_min:
        return 0.0
    lo, hi = math.log(t_min), math.log(t_max)
    u = 0.5 * (hi - lo) * _LN_NODES + 0.5 * (hi + lo)
    t = np.exp(u)
    f = (t - t_min) / t * g2_total(t, mat.Z, mat.A, form_factor)  # dt/t² × t = d ln t / t
    return float(0.5 * (hi - lo) * np.sum(_LN_W * f))


def dsigma_v_dx_iww_pb(x, mass_gev: float, beam_energy_gev: float, target,
                       form_factor: str = "elastic", lepton: str = "e"):
    """dσ_V/dx [pb per atom] at x = E_V/E0 (vectorised in x), ε = 1 ([Bjorken2009] Eqs. (A14)–(A16)), beam
    lepton ``lepton`` ("e" or "mu": m_e → m_μ, module docstring)."""
    ml = _lepton_mass(lepton)
    m, e0 = _validate(mass_gev, beam_energy_gev, lepton)
    x = np.asarray(x, dtype=float)
    chi = chi_iww(m, e0, target, form_factor)
    beta = math.sqrt(max(0.0, 1.0 - (m / e0) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        val = 4.0 * ALPHA_EM ** 3 * chi * beta * (1.0 - x + x * x / 3.0) / (
            m * m * (1.0 - x) / x + ml ** 2 * x)
    # kinematic range: E_V ≥ M and E' = E0(1 − x) ≥ m_ℓ
    val = np.where((x >= m / e0) & (1.0 - x >= ml / e0) & (x > 0), val, 0.0)
    return gev_m2_to_pb(val)


def kinematic_x_window(mass_gev: float, beam_energy_gev: float, x_lo: float, x_hi: float,
                       lepton_mass_gev: float = M_ELECTRON_GEV):
    """[x_lo, x_hi] clipped to the kinematic range [M/E0, 1 − m_ℓ/E0] as (x_lo, 1 − x_hi), or None if empty
    (m_ℓ = ``lepton_mass_gev`` [GeV], the beam lepton, electron by default). 1 − x_hi is returned separately
    (exact m_ℓ/E0 at the end point, no cancellation)."""
    lo = max(float(x_lo), mass_gev / beam_energy_gev)
    omx_end = lepton_mass_gev / beam_energy_gev
    omx_hi = omx_end if 1.0 - x_hi <= omx_end else 1.0 - float(x_hi)
    if 1.0 - lo <= omx_hi:
        return None
    return lo, omx_hi


def sigma_v_iww_pb(mass_gev: float, beam_energy_gev: float, target, x_min: float = 0.0,
                   x_max: float = 1.0, form_factor: str = "elastic", lepton: str = "e") -> float:
    """σ_V [pb per atom] with x in [x_min, x_max] (adaptive quadrature of dσ/dx); beam lepton ``lepton``."""
    errors.in_range("x_min", x_min, 0.0, 1.0, hi_open=True)
    errors.in_range("x_max", x_max, 0.0, 1.0, lo_open=True)
    if x_max <= x_min:
        raise errors.InputError("x_max", f"> x_min = {x_min:g}", x_max)
    ml = _lepton_mass(lepton)
    m, e0 = _validate(mass_gev, beam_energy_gev, lepton)
    chi = chi_iww(m, e0, target, form_factor)
    beta = math.sqrt(max(0.0, 1.0 - (m / e0) ** 2))
    return gev_m2_to_pb(4.0 * ALPHA_EM ** 3 * chi * beta * _x_integral(m, e0, x_min, x_max, ml))


def _x_integral(m: float, e0: float, x_lo: float, x_hi: float, ml: float = M_ELECTRON_GEV) -> float:
    """∫ dx (1 − x + x²/3) / (M²(1 − x)/x + m_ℓ² x) over [x_lo, x_hi] ∩ [M/E0, 1 − m_ℓ/E0] [GeV⁻²]
    (see :func:`kinematic_x_window`; 0 if empty), in the variable u = ln(1 − x + m_ℓ²/M²), which resolves
    the peak of width ~m_ℓ²/M² below x = 1 (adaptive quad). ``ml``: beam-lepton mass [GeV]."""
    win = kinematic_x_window(m, e0, x_lo, x_hi, ml)
    if win is None:
        return 0.0
    x_lo, omx_hi = win
    me2, m2 = ml ** 2, m * m
    eps = me2 / m2

    def f(u):
        y = math.exp(u)  # y = 1 − x + eps
        x = 1.0 - y + eps
        if not 0.0 < x < 1.0:
            return 0.0
        return y * (1.0 - x + x * x / 3.0) / (m2 * (1.0 - x) / x + me2 * x)

    lo = math.log(omx_hi + eps)
    hi = math.log(1.0 - x_lo + eps)
    val, _ = integrate.quad(f, lo, hi, limit=200, epsrel=1e-9)
    return val


def iww_point(config: SigmaVConfig, mass_gev: float) -> SigmaVPoint:
    """An IWW σ_V point in the same record as the ETL engine (error 0, q = 1; method "iww")."""
    sig = sigma_v_iww_pb(mass_gev, config.beam_energy_gev, config.target, config.x_min, config.x_max,
                         config.form_factor, config.lepton)
    edges = config.x_edges
    # bin averages: σ × (∫_bin / ∫_all) of the x spectrum (χ and β do not depend on x)
    e0 = float(config.beam_energy_gev)
    ml = config.lepton_mass_gev
    total = _x_integral(mass_gev, e0, config.x_min, config.x_max, ml)
    dsdx = [sig * _x_integral(mass_gev, e0, lo, hi, ml) / total / (hi - lo) if total > 0 else 0.0
            for lo, hi in zip(edges[:-1], edges[1:])]
    res = MCResult(mean=sig, error=0.0, unit="pb", chi2_dof=0.0, q=1.0, neval=0, seed=0,
                   settings={"method": Method.IWW.value}, converged=True, message="analytic IWW approximation")
    return SigmaVPoint(mass_gev=float(mass_gev), sigma=res, dsdx_pb=tuple(dsdx),
                       dsdx_err_pb=tuple(0.0 for _ in dsdx))


def iww_table(config: SigmaVConfig, masses=None) -> SigmaVTable:
    """σ_V(M) table in the IWW approximation (default mass grid of the configuration)."""
    masses = config.default_mass_grid() if masses is None else np.asarray(masses, dtype=float)
    pts = [iww_point(config, float(m)) for m in masses]
    return SigmaVTable(config=config, points=pts,
                       provenance={"method": Method.IWW.value,
                                   "source": "Bjorken et al. 2009, Eqs. (A14)-(A17) (docs/physics.md#iww)",
                                   "date": now_iso()})
