"""Direct 2→4 check of the factorisation: e N → e N a γD through a virtual photon, integrated with VEGAS over
the full four-body phase space (docs/physics.md#four-body). Used only to validate physics.xsec.factorisation
(docs/validation.md#four-body).

Amplitude (tree level, emission from the electron line; portal vertex g ε^{μνρσ} k_μ k2_ρ of
docs/physics.md#model for the virtual photon k = k_a + k_γD, index ν, and the dark photon k2 = k_γD, index σ;
γ* propagator −i g_{νν'}/s):

    M4 = [electron line with the V index ν, as in physics.xsec.matrix_element] × (g/s) ε_{μνρσ} k^μ k2^ρ ε*^σ(k2)

Summing the γD polarisations (−g; the k2k2 term vanishes by antisymmetry) and using ε_{μνρσ}ε_{μ'ν'ρ'}^σ =
−det[g] together with the transversality of the electron tensor (k_ν L^{νν'} = 0) gives **(derived)**

    Σ|M4|² = e⁶ G2(t)/t² · (g²/s²) · [ (λ/4) W − s L(e, e) ],   e = k2 − (k·k2/s) k,  λ = λ(s, m_a², m_γD²)

with W and L(e,e) from physics.xsec.matrix_element (w_closed, l_contract). Averaging L(e,e) over the a γD decay
angles gives e²W/3 = −λW/(12 s) and hence ⟨…⟩ = λW/6: the factorised kernel g² λ^{3/2}/(96π²) of
docs/physics.md#factorisation — which is exactly what this module checks numerically, point by point, without
using it.

Phase space: dΦ4 = dΦ3(M² = s) · ds/(2π) · dΦ2(s → a γD), dΦ3 and the flux as in physics.xsec.kinematics (x = E_pair/E0),
dΦ2 in light-front variables of the pair: k2⁺ = z k⁺, k2⊥ = z k⊥ + κ⊥, |κ|² = s(z − z−)(z+ − z),
dΦ2 = dz dφ_κ/(16π²) (**derived**; ∫dΦ2 = λ^{1/2}/(8πs)). 7-dimensional VEGAS: (x, t, ũ, φ) of the pair,
ln s on [(m_a + m_γD)², M_max²], z, φ_κ.
"""

from __future__ import annotations

import math

import numpy as np
import vegas

from physics import errors, limits
from physics.model.constants import ALPHA_EM, GEV_M2_IN_PB, LEPTON_MASSES_GEV
from physics.model.form_factors import g2_total
from physics.xsec.etl import make_integrator
from physics.xsec.kinematics import Setup, channel_initial
from physics.xsec.matrix_element import l_contract, w_closed
from physics.xsec.mc import Q_MIN, MCResult
from physics.xsec.sigma_v import M_TABLE_CAP_GEV
from physics.model.materials import get_material

E6 = (4.0 * math.pi * ALPHA_EM) ** 3


def _kallen(a, b, c):
    return a * a + b * b + c * c - 2.0 * (a * b + b * c + c * a)


def _integrand(E0, target, m_a, m_gd, g, x_min, x_max, M_max, form_factor, m):
    """The 2→4 integrand; ``m`` [GeV] is the beam lepton's mass."""
    mat = get_material(target)
    MN = mat.nucleus_mass_gev
    ma2, mg2 = m_a * m_a, m_gd * m_gd
    s_lo = (m_a + m_gd) ** 2
    s_hi = M_max * M_max
    L_s = math.log(s_hi / s_lo)

    def f(y):
        y = np.asarray(y, dtype=float)
        s = s_lo * np.exp(y[:, 4] * L_s)
        jac = s * L_s / (2.0 * math.pi)                       # ds/(2π)
        M = np.sqrt(s)
        x_lo = np.maximum(x_min, M / E0)
        x_hi_k = 1.0 - m / E0
        x_hi = np.minimum(x_max, x_hi_k)
        omx_lo = np.where(x_max >= x_hi_k, m / E0, 1.0 - x_max)
        valid = x_hi > x_lo
        x_lo = np.where(valid, x_lo, 0.5 * x_hi)
        setup = Setup(E0, m, M, MN, x_lo, x_hi, omx_lo, 1.0 - x_lo)
        r = channel_initial(setup, y[:, :4])
        # a γD decay in light-front variables
        lam = _kallen(s, ma2, mg2)
        sq = np.sqrt(np.maximum(lam, 0.0))
        dz = sq / s                                           # z+ − z−
        # c = k·k2/s = (z+ + z−)/2 = (1 + (m_γD² − m_a²)/s)/2 enters only through z − c below
        yz = y[:, 5]
        zmc = dz * (yz - 0.5)                                 # z − c, exact
        kap = np.sqrt(s * (dz * yz) * (dz * (1.0 - yz)))       # |κ| = sqrt(s (z − z−)(z+ − z))
        phi = 2.0 * math.pi * y[:, 6]
        jac = jac * dz * 2.0 * math.pi / (16.0 * math.pi ** 2)  # dz dφ/(16π²)
        kx, kp, km = r["kx"], r["k_plus"], r["k_minus"]
        ex = zmc * kx + kap * np.cos(phi)                    # e⊥ = (z − c) k⊥ + κ⊥ (k⊥ along x)
        ey = kap * np.sin(phi)
        e_plus = zmc * kp
        e_minus = (2.0 * ex * kx) / kp - zmc * km             # from e·k = 0
        e2 = -lam / (4.0 * s)                                 # e·e = m_γD² − c² s
        pp = E0 + math.sqrt((E0 - m) * (E0 + m))
        pm = m * m / pp
        ep = 0.5 * (e_plus * pm + e_minus * pp)
        a_plus = r["a_plus"]
        a_minus = -a_plus * pm / pp
        opc = r["opc"]
        ea = 0.5 * (e_plus * a_minus + e_minus * a_plus) + opc * (ex * r["qx"] + ey * r["qy"])
        pfp, pfx, pfy = r["pf_plus"], r["pf_x"], r["pf_y"]
        pfm = (m * m + pfx * pfx + pfy * pfy) / pfp
        epp = 0.5 * (e_plus * pfm + e_minus * pfp) - (ex * pfx + ey * pfy)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            W = w_closed(r["s1"], r["s2"], r["t"], r["ak"], r["aq"], r["a2"], m * m, s)
            Lee = l_contract(r["s1"], r["s2"], r["t"], r["ak"], r["aq"], r["a2"], s, ep, epp, 0.0, ea, e2)
            X = 0.25 * lam * W - s * Lee
            val = (r["weight"] * jac * (E6 * GEV_M2_IN_PB) * g2_total(r["t"], mat.Z, mat.A, form_factor)
                   / (r["t"] * r["t"]) * (g * g / (s * s)) * X)
        ok = r["ok"] & valid & (lam > 0) & np.isfinite(val)
        return np.where(ok, val, 0.0)

    return f


def sigma_portal_4body(beam_energy_gev: float, target: str, m_a: float, m_gd: float, g: float,
                       x_min: float = 0.0, x_max: float = 1.0, M_max: float | None = None,
                       form_factor: str = "elastic", neval: int = 200_000, nitn: int = 8,
                       seed: int = 1, lepton: str = "e") -> MCResult:
    """σ(ℓ N → ℓ N a γD) [pb per atom] by direct 7-dimensional VEGAS integration of the 2→4 |M|², ℓ the beam
    lepton (``lepton``: "e" default, or "mu"; docs/physics.md#muon-beams).

    x = (E_a + E_γD)/E0 in [x_min, x_max]; the pair mass √s runs from m_a + m_γD to ``M_max`` [GeV] (default:
    the σ_V-table limit 0.9 (E0 − m_ℓ) x_max of physics.xsec.sigma_v, so the comparison with the factorised
    result covers the same range). g in GeV⁻¹. Adapts for ``nitn`` iterations, then measures ``nitn`` more
    with the map frozen. Reproducible given ``seed`` (local generator, no global RNG state touched).
    """
    E0 = errors.positive("beam_energy", beam_energy_gev, "GeV")
    m_a = errors.non_negative("m_a", m_a, "GeV")
    m_gd = errors.positive("m_gd", m_gd, "GeV")
    g = errors.non_negative("g", g, "GeV^-1")
    m_lep = LEPTON_MASSES_GEV[limits.check_lepton(lepton)]
    if M_max is None:
        M_max = min(M_TABLE_CAP_GEV, 0.9 * (E0 - m_lep) * x_max)
    if m_a + m_gd >= M_max:
        raise errors.InputError("m_a + m_gd", f"< M_max = {M_max:g} GeV", m_a + m_gd)
    f = vegas.lbatchintegrand(_integrand(E0, target, m_a, m_gd, g, float(x_min), float(x_max), float(M_max),
                                         form_factor, m_lep))
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    integ = make_integrator(7, rng)
    warm = integ(f, nitn=nitn, neval=neval)
    r = integ(f, nitn=nitn, neval=neval, adapt=False)
    settings = {"nitn": nitn, "neval": neval, "M_max": M_max, "x_min": x_min, "x_max": x_max,
                "vegas": vegas.__version__}
    q = float(r.Q)
    return MCResult(float(r.mean), float(r.sdev), "pb", float(r.chi2 / r.dof), q,
                    int(warm.sum_neval + r.sum_neval), int(seed), settings, True,
                    "" if q >= Q_MIN else f"Q = {q:.3g} < {Q_MIN:g}")
