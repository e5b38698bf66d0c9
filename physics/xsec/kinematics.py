"""Three-body kinematics of ℓ(p) N(P) → ℓ(p') N(P') V(k) in the lab (nucleus at rest), cancellation-free.

ℓ is the beam lepton of mass m (electron, or muon: docs/physics.md#muon-beams); "electron" below stands for it.
Nothing here assumes m ≪ M or m ≪ E0 beyond E0 > m + M (every formula is exact in m).

Conventions: beam along +z; light-cone components x^± = x^0 ± x^3; q = P − P' = p' + k − p (photon momentum
flowing into the electron line), t = −q² > 0; ũ = 2p·k − M² = −s2 > 0; s1 = (p'+k)² − m² = 2p·q − t > 0;
x = E_V/E0 and 1 − x are carried as separate variables. All energies in GeV. Formulas and their derivation:
docs/physics.md#etl-phase-space (#channel-initial, #channel-final, #cancellation-free).

Two parameterisations (VEGAS channels, combined in physics.xsec.etl): :func:`channel_initial` (below) and
:func:`channel_final` (V direction measured from the outgoing electron; see its docstring).

Integration variables of channel_initial (**derived**; nested two-body decomposition p + P → k + X, X → p' + P', the
standard 2→3 phase space of Byckling & Kajantie, *Particle Kinematics* (1973) Ch. V):

    dσ = E0 dx dũ dt dφ ¯|M|² / (2048 π⁴ M_N² |p|² V),   V = |p⃗ − k⃗| = sqrt(E0²(1−x)² − m² + ũ),

where φ is the azimuth of q⃗ around V⃗ = p⃗ − k⃗ (energy conservation fixes its polar angle). The 1/(4 M_N |p|)
flux is included. Order of sampling: x (logit), ln t on [t_min(x), 2M_N(E0(1−x) − m)], then ũ on the range
allowed at that t (a rational map matched to the 1/ũ² fall-off), then φ. Everything the matrix element
needs is returned as invariants computed without catastrophic cancellation:

* ũ0 (θ_V = 0) from E0E_k − |p||k| = (E0²M² + m²|k|²)/(E0E_k + |p||k|);
* 1 − cos θ_V = (ũ − ũ0)/(2|p||k|) (never 1 − cos of a computed angle);
* the ũ window at fixed t from the exact roots ũ± = t − 2T E' ± 2Q P' (T = t/2M_N recoil energy,
  E' = E0(1−x) − T, P' = sqrt(E'² − m²), Q = |q⃗|), and sin²θ_qV = (ũ − ũ−)(ũ+ − ũ)/(4Q²V²);
* t_min as the small root of A t² − B t + ũ² = 0 written as 2ũ²/(B + sqrt(B² − 4Aũ²)) (docs/physics.md#cancellation-free);
* the nuclear current through a = J − c q with a·p = 0 in light-cone components (docs/physics.md#a-gauge):
  a⁺ = −4 M_N q_z p⁺/(s1+t), a⁻ = −a⁺ p⁻/p⁺, a⊥ = −(1+c) q⊥, c = 2J·p/(s1+t), so that
  a·q = c t, a² = −(a⁺)² p⁻/p⁺ − (1+c)² q⊥², a·k = ½a⁺(k⁻ − k⁺p⁻/p⁺) + (1+c) q⊥·k⊥.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Setup:
    """Fixed parameters of one σ_V evaluation. Energies/masses in GeV.

    E0: beam energy; m: beam-lepton mass (electron or muon); M: vector mass; MN: nucleus mass; x_lo/x_hi: window of x = E_V/E0
    (already clipped to the kinematic range [M/E0, 1 − m/E0]); omx_hi/omx_lo: 1 − x_lo, 1 − x_hi computed
    without cancellation.
    """

    E0: float
    m: float
    M: float          # may be an array (one vector mass per point; used by physics.xsec.etl_4body)
    MN: float
    x_lo: float       # idem
    x_hi: float
    omx_lo: float  # 1 − x_hi
    omx_hi: float  # 1 − x_lo

    @property
    def p(self) -> float:
        """|p⃗| of the beam lepton [GeV]."""
        return math.sqrt((self.E0 - self.m) * (self.E0 + self.m))

    @property
    def p_plus(self) -> float:
        return self.E0 + self.p

    @property
    def p_minus(self) -> float:
        return self.m * self.m / self.p_plus


def make_setup(E0: float, m: float, M: float, MN: float, x_min: float, x_max: float) -> Setup | None:
    """Clip the x window to the kinematic range x ∈ [M/E0, 1 − m/E0]; None if it is empty or the reaction is
    below threshold (sqrt(S) ≤ M_N + M + m, the nuclear recoil included)."""
    x_lo = max(float(x_min), M / E0)
    if x_max >= 1.0 - m / E0:
        x_hi, omx_lo = 1.0 - m / E0, m / E0
    else:
        x_hi, omx_lo = float(x_max), 1.0 - float(x_max)
    if x_hi <= x_lo:
        return None
    # kinematic threshold including the nuclear recoil: sqrt(S) = sqrt(M_N² + m² + 2 M_N E0) > M_N + M + m
    sqrt_s = math.sqrt(MN * MN + m * m + 2.0 * MN * E0)
    if sqrt_s <= MN + M + m:
        return None
    return Setup(E0, m, M, MN, x_lo, x_hi, omx_lo, 1.0 - x_lo)


def t_min_root(u, A, B):
    """Small root of A t² − B t + u² = 0 without cancellation: 2u²/(B + sqrt(B² − 4Au²))."""
    disc = np.maximum(B * B - 4.0 * A * u * u, 0.0)
    return 2.0 * u * u / (B + np.sqrt(disc))


def channel_initial(s: Setup, y: np.ndarray):
    """Map unit-cube points y (n, 4) to phase-space points (V direction measured from the beam).

    Returns a dict of arrays: weight (Jacobian × flux × phase-space factor, so that σ = ∫ d⁴y weight ¯|M|²
    in GeV⁻² once ¯|M|² multiplies it), x, t, and the invariants s1, s2, ak, aq, a2 for
    :func:`physics.xsec.matrix_element.w_closed`; ``ok`` marks points inside phase space (weight 0 elsewhere).
    """
    E0, m, M, MN = s.E0, s.m, s.M, s.MN
    m2, M2 = m * m, M * M
    pa, pp, pm = s.p, s.p_plus, s.p_minus
    y = np.asarray(y, dtype=float)
    y0, y1, y2, y3 = y[:, 0], y[:, 1], y[:, 2], y[:, 3]

    # --- x: logit map, x and 1 − x both exact -------------------------------------------------------
    eta_lo = np.log(s.x_lo / s.omx_hi)
    eta_hi = np.log(s.x_hi / s.omx_lo)
    eta = eta_lo + y0 * (eta_hi - eta_lo)
    # the smaller of x, 1 − x from the logistic, the other as 1 − it (exact: Sterbenz), so x + (1 − x) = 1
    small = 1.0 / (1.0 + np.exp(np.abs(eta)))
    x = np.where(eta < 0.0, small, 1.0 - small)
    omx = np.where(eta < 0.0, 1.0 - small, small)
    jac = (eta_hi - eta_lo) * x * omx

    Ek = x * E0
    Ee = omx * E0                                    # E0 − E_k
    k_abs = np.sqrt(np.maximum((Ek - M) * (Ek + M), 0.0))
    den = E0 * Ek + pa * k_abs
    delta = (E0 * E0 * M2 + m2 * k_abs * k_abs) / den  # E0 E_k − |p||k|
    u0 = (2.0 * M2 * E0 * Ee + M2 * delta + 2.0 * m2 * k_abs * k_abs) / den
    u_pi = 2.0 * den - M2                          # θ_V = π
    W2 = (Ee - m) * (Ee + m)                       # (E0 − E_k)² − m²
    pmk = ((Ee) * (E0 + Ek) - m2 + M2) / (pa + k_abs)   # |p| − |k|

    # --- t: ln t on [t_min(ũ0), 2 M_N (E0(1−x) − m)] -----------------------------------------------
    beta = 1.0 + Ee / MN
    V2_0 = W2 + u0
    A0 = 1.0 + 2.0 * Ee / MN + (m2 - u0) / (MN * MN)       # β² − V²/M_N²
    B0 = 4.0 * V2_0 - 2.0 * beta * u0
    t_lo = t_min_root(u0, A0, B0)
    t_hi = 2.0 * MN * (Ee - m)
    ok = (t_hi > t_lo) & (k_abs > 0.0) & (W2 > 0.0)
    t_hi = np.where(ok, t_hi, 2.0 * t_lo + 1e-300)
    L_t = np.log(t_hi / t_lo)
    t = t_lo * np.exp(y1 * L_t)
    jac = jac * t * L_t

    # --- ũ window at fixed t -------------------------------------------------------------------------
    T = t / (2.0 * MN)
    Q = np.sqrt(t * (1.0 + t / (4.0 * MN * MN)))
    Ep = Ee - T                                     # final electron energy
    Pp = np.sqrt(np.maximum((Ep - m) * (Ep + m), 0.0))
    c0 = t - 2.0 * T * Ep
    u_hi = c0 + 2.0 * Q * Pp
    u_lo = (c0 - 2.0 * Q * Pp) * (c0 + 2.0 * Q * Pp) / u_hi
    u_a = np.maximum(u0, u_lo)
    u_b = np.minimum(u_pi, u_hi)
    D = u_b - u_a
    ok &= D > 0.0
    D = np.where(ok, D, 1.0)
    sc = u0                                         # scale of the rational map ũ − ũ_a = sc ρ/(1 − ρ)
    omrb = sc / (D + sc)                            # 1 − ρ_b
    rho_b = D / (D + sc)
    omr = (1.0 - y2) + y2 * omrb                    # 1 − ρ
    rho = y2 * rho_b
    du_a = sc * rho / omr                           # ũ − ũ_a
    u = u_a + du_a
    du_b = D * (1.0 - y2) / omr                     # ũ_b − ũ
    jac = jac * rho_b * sc / (omr * omr)
    u_m_lo = du_a + (u_a - u_lo)                    # ũ − ũ−  (≥ 0)
    u_hi_m = du_b + (u_hi - u_b)                    # ũ+ − ũ  (≥ 0)

    # --- V direction ---------------------------------------------------------------------------------
    tau = du_a + (u_a - u0)                         # ũ − ũ0 = 2|p||k|(1 − cos θ_V)
    omc = tau / (2.0 * pa * k_abs)
    omc = np.clip(omc, 0.0, 2.0)
    sin_t = np.sqrt(omc * (2.0 - omc))
    kx = k_abs * sin_t
    kz = k_abs * (1.0 - omc)
    kperp2 = kx * kx
    fwd = kz >= 0.0
    k_plus = np.where(fwd, Ek + kz, (M2 + kperp2) / np.where(fwd, 1.0, Ek - kz))
    k_minus = np.where(fwd, (M2 + kperp2) / np.where(fwd, k_plus, 1.0), Ek - kz)

    V2 = W2 + u
    V = np.sqrt(V2)
    Vz = pmk + tau / (2.0 * pa)                     # |p| − k_z
    kV = k_abs * pmk - 0.5 * tau                    # k⃗·V⃗ = |p| k_z − |k|²

    # --- q: polar angle around V⃗ fixed, azimuth φ ∈ [0, π] (×2 by reflection symmetry) -------------
    phi = math.pi * y3
    jac = jac * 2.0 * math.pi
    cphi, sphi = np.cos(phi), np.sin(phi)
    Qc = -(u + beta * t) / (2.0 * V)                # Q cos θ_qV
    Qs = np.sqrt(np.maximum(u_m_lo * u_hi_m, 0.0)) / (2.0 * V)   # Q sin θ_qV
    qx = (-Qc * kx + Qs * cphi * Vz) / V
    qy = Qs * sphi
    s1 = u - 2.0 * Ek * T + (u + beta * t) * kV / V2 - 2.0 * Qs * cphi * kx * pa / V
    qz = -(s1 + t + 2.0 * E0 * T) / (2.0 * pa)
    qperp2 = qx * qx + qy * qy

    # --- nuclear current in the a-gauge (a·p = 0) ----------------------------------------------------
    aq, a2, ak, a_plus, opc = _a_gauge_invariants(s1, t, T, E0, MN, qz, pa, pp, pm, qperp2, qx, kx, k_plus, k_minus)

    weight = jac * E0 / (2048.0 * math.pi ** 4 * MN * MN * pa * pa * V)
    ok &= s1 > 0.0
    weight = np.where(ok, weight, 0.0)

    # --- final electron and the light-front fraction z = k⁺/(p'+k)⁺ of channel_final -----------------
    # p'_z = (|p| − k_z) + q_z; p'⁺ = E' + p'_z forwards, (m² + p'⊥²)/(E' − p'_z) backwards (no cancellation
    # for slow, backward-moving final electrons, whose p'⁺ ≪ m)
    pf_x = qx - kx
    pf_z = Vz + qz
    back = pf_z < 0.0
    pf_plus = np.where(back, (m2 + pf_x * pf_x + qy * qy) / np.where(back, Ep - pf_z, 1.0), Ep + pf_z)
    pk_plus = k_plus + pf_plus
    return {"weight": weight, "x": x, "omx": omx, "t": t, "u": u, "s1": s1, "s2": -u, "ak": ak, "aq": aq,
            "a2": a2, "ok": ok, "qx": qx, "qy": qy, "qz": qz, "T": T, "kx": kx, "kz": kz,
            "k_plus": k_plus, "k_minus": k_minus, "a_plus": a_plus, "opc": opc,
            "pf_plus": pf_plus, "pf_x": pf_x, "pf_y": qy, "z": k_plus / pk_plus, "omz": pf_plus / pk_plus}


#: Relative padding of the light-front fraction z = k⁺/(p+q)⁺ below the x window in channel_final (x/z − 1 is
#: ≳ −m²/4E0² − |q⁺|/2E0 and exceeds +Z_PAD only for θ_V ≳ 0.2 rad, where t_min ≫ d kills G2: < 1e-10; what
#: lies outside is covered by channel_initial alone, see :func:`final_window`).
Z_PAD = 0.05


#: Light-front fraction of the final electron, 1 − z = p'⁺/(p'+k)⁺, below which channel_final is not used, in
#: units of m/E0 (so p'⁺ ≳ 2 FINAL_OMZ_MIN m: fast, forward electrons; see :func:`final_window`).
FINAL_OMZ_MIN = 5.0


def final_window(s: Setup):
    """(z_lo, 1 − z_hi): the window of z = k⁺/(p'+k)⁺ that :func:`channel_final` samples [dimensionless].

    channel_final exists for the collinear peak of the s1 = (p'+k)² − m² propagator, which only a
    relativistic final electron has. Slow final electrons (p'⁺ ~ m, including the backward-moving ones with
    p'⁺ < m, 1 − z < m/2E0, which carry most of dσ/dx at 1 − x ≲ 1e-3 for GeV masses) are not sampled by
    it: z_hi = 1 − max(FINAL_OMZ_MIN m/E0, (1 − x_hi)/2). Below, z_lo = x_lo (1 − Z_PAD). Outside this window
    the multichannel weights of physics.xsec.etl give channel_initial, which covers the whole phase space, the
    full ¯|M|², so the two channels together cover everything exactly, whatever the window.
    """
    z_lo = s.x_lo * (1.0 - Z_PAD)
    omz_lo = max(FINAL_OMZ_MIN * s.m / s.E0, 0.5 * s.omx_lo)
    return z_lo, omz_lo


def channel_final(s: Setup, y: np.ndarray):
    """Second channel: V direction measured from the final electron (the s1 = (p'+k)² − m² peak).

    Variables (**derived**; nested two-body p + P → (p'k) + P', (p'k) → p' + k in light-front variables of
    the p'k pair, z = k⁺/(p+q)⁺ and κ⊥ = k⊥ − z q⊥, with s1 = [κ² + M²(1−z) + m²z²]/(z(1−z))):

        dσ = dt ds1 dz dφ_κ ¯|M|² / (2048 π⁴ M_N² |p|²)

    sampled as z (logit, on the window of :func:`final_window`; the exact x cut is applied), ln t on
    [t_min(s1_min(z)), 2M_N(E0 − m)], s1 on [s1_min(z), 2|p|Q − t − 2E0T] (rational map), φ_κ ∈ [0, π] × 2.
    q: q⁰ = −T, q_z = −(s1 + t + 2E0T)/(2|p|), q⊥² = (s1_max − s1)(s1_max + s1 + 2t + 4E0T)/(4|p|²).
    Returns the same dict as :func:`channel_initial`.
    """
    E0, m, M, MN = s.E0, s.m, s.M, s.MN
    m2, M2 = m * m, M * M
    pa, pp, pm = s.p, s.p_plus, s.p_minus
    y = np.asarray(y, dtype=float)
    y0, y1, y2, y3 = y[:, 0], y[:, 1], y[:, 2], y[:, 3]

    # --- z: logit map on the padded window ------------------------------------------------------------
    z_lo, omz_lo = final_window(s)                  # omz_lo = 1 − z_hi
    eta_lo = np.log(z_lo / (1.0 - z_lo))
    eta_hi = np.log((1.0 - omz_lo) / omz_lo)
    eta = eta_lo + y0 * (eta_hi - eta_lo)
    small = 1.0 / (1.0 + np.exp(np.abs(eta)))
    z = np.where(eta < 0.0, small, 1.0 - small)
    omz = np.where(eta < 0.0, 1.0 - small, small)
    jac = (eta_hi - eta_lo) * z * omz
    s1_min = (M2 * omz + m2 * z * z) / (z * omz)

    # --- t on [t_min(s1_min), 2 M_N (E0 − m)] -------------------------------------------------------
    # q⊥² ≥ 0 ⇔ A' t² − B' t + s1² ≤ 0, A' = 1 + 2E0/M_N + m²/M_N², B' = 4|p|² − 2 s1 (1 + E0/M_N)
    A1 = 1.0 + 2.0 * E0 / MN + m2 / (MN * MN)
    B1 = 4.0 * pa * pa - 2.0 * s1_min * (1.0 + E0 / MN)
    t_lo = t_min_root(s1_min, A1, B1)
    t_hi = 2.0 * MN * (E0 - m)
    ok = (t_hi > t_lo) & (B1 > 0.0)
    t_lo = np.where(ok, t_lo, 1e-300)
    L_t = np.log(t_hi / t_lo)
    t = t_lo * np.exp(y1 * L_t)
    jac = jac * t * L_t

    # --- s1 window at fixed t --------------------------------------------------------------------------
    T = t / (2.0 * MN)
    Q = np.sqrt(t * (1.0 + t / (4.0 * MN * MN)))
    s1_hi = 2.0 * pa * Q - t - 2.0 * E0 * T
    D = s1_hi - s1_min
    ok &= D > 0.0
    D = np.where(ok, D, 1.0)
    sc = s1_min
    omrb = sc / (D + sc)
    rho_b = D / (D + sc)
    omr = (1.0 - y2) + y2 * omrb
    rho = y2 * rho_b
    ds_a = sc * rho / omr                           # s1 − s1_min
    s1 = s1_min + ds_a
    ds_b = D * (1.0 - y2) / omr                     # s1_max − s1
    jac = jac * rho_b * sc / (omr * omr)

    # --- q ------------------------------------------------------------------------------------------
    qz = -(s1 + t + 2.0 * E0 * T) / (2.0 * pa)
    qperp2 = ds_b * (2.0 * pa * Q + s1 + t + 2.0 * E0 * T) / (4.0 * pa * pa)
    qx = np.sqrt(np.maximum(qperp2, 0.0))
    q_plus = qz - T                                 # < 0
    P_plus = pp + q_plus

    # --- V and final electron in light-front variables of the (p'k) pair ------------------------------
    phi = math.pi * y3
    jac = jac * 2.0 * math.pi
    kap = np.sqrt(np.maximum(z * omz * ds_a, 0.0))  # |κ|² = z(1−z)(s1 − s1_min)
    kx = kap * np.cos(phi) + z * qx
    ky = kap * np.sin(phi)
    kperp2 = kx * kx + ky * ky
    k_plus = z * P_plus
    k_minus = (M2 + kperp2) / k_plus
    pf_plus = omz * P_plus
    pf_x = omz * qx - kap * np.cos(phi)
    pf_y = -ky
    pf_minus = (m2 + pf_x * pf_x + pf_y * pf_y) / pf_plus
    Ek = 0.5 * (k_plus + k_minus)
    x = Ek / E0
    omx = (0.5 * (pf_plus + pf_minus) + T) / E0     # 1 − x = (E' + T)/E0 (energy conservation)
    # ũ = 2p·k − M² = [M² (p⁺ − k⁺) + p⁺ k⊥²]/k⁺ + p⁻ k⁺, p⁺ − k⁺ = (1−z)P⁺ − q⁺ > 0
    u = (M2 * (pf_plus - q_plus) + pp * kperp2) / k_plus + pm * k_plus
    ok &= (x >= s.x_lo) & (x <= s.x_hi)

    # --- nuclear current in the a-gauge (a·p = 0) ----------------------------------------------------
    aq, a2, ak, a_plus, opc = _a_gauge_invariants(s1, t, T, E0, MN, qz, pa, pp, pm, qperp2, qx, kx, k_plus, k_minus)

    weight = jac / (2048.0 * math.pi ** 4 * MN * MN * pa * pa)
    weight = np.where(ok, weight, 0.0)
    return {"weight": weight, "x": x, "omx": omx, "t": t, "u": u, "s1": s1, "s2": -u, "ak": ak, "aq": aq,
            "a2": a2, "ok": ok, "qx": qx, "qy": np.zeros_like(qx), "qz": qz, "T": T, "kx": kx, "ky": ky,
            "k_plus": k_plus, "k_minus": k_minus, "a_plus": a_plus, "opc": opc,
            "pf_plus": pf_plus, "pf_x": pf_x, "pf_y": pf_y, "z": z, "omz": omz}


def _a_gauge_invariants(s1, t, T, E0, MN, qz, pa, pp, pm, qperp2, qx, kx, k_plus, k_minus):
    """(a·q, a², a·k, a⁺, 1 + c) for the nuclear current in the a-gauge, a = J − c q with J = P + P' = 2P − q
    and c = 2 J·p/(s1 + t) so that a·p = 0 (docs/physics.md#a-gauge; components as in the module docstring:
    a⁺ = −4 M_N q_z p⁺/(s1+t), a⁻ = −a⁺ p⁻/p⁺, a⊥ = −(1+c) q⊥). Shared by both VEGAS channels.
    T is the nuclear recoil kinetic energy [GeV]; all momenta in GeV."""
    s1t = s1 + t
    Jp = (2.0 * MN + T) * E0 + qz * pa              # J·p, J = P + P' = 2P − q
    c = 2.0 * Jp / s1t
    a_plus = -4.0 * MN * qz * pp / s1t
    opc = 1.0 + c
    aq = c * t
    a2 = -(a_plus * a_plus) * (pm / pp) - opc * opc * qperp2
    ak = 0.5 * a_plus * (k_minus - k_plus * (pm / pp)) + opc * qx * kx
    return aq, a2, ak, a_plus, opc
