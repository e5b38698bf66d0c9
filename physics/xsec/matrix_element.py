"""Exact tree-level |M|² of e(p) N(P) → e(p') N(P') V(k), V a massive vector coupled like a photon (ε = 1).

Two diagrams (V radiated after / before the photon exchange), electron mass m kept, vector mass M kept, V
polarisation sum −g + kk/M² (the kk/M² part drops: the electron current is conserved for on-shell external
electrons, k_ν L^{νμ} = 0 for any insertion a_μ — checked numerically in tests/physics/xsec/test_matrix_element.py).

Nucleus: heavy spin-0 particle of charge Z F(t), current J^μ = Z e F(t)(P + P')^μ
(docs/physics.md#etl-matrix-element; it differs from the spin-½ nucleus of Gninenko et al., arXiv:2602.11405,
Sec. III.1, by O(|t|/M_N²), < 1e-6 for the |t| ≲ d that matters). F² = G2(t)/Z² with G2 from
``physics.model.form_factors`` (docs/physics.md#form-factors; Bjorken, Essig, Schuster, Toro, arXiv:0906.0580,
Eq. (A18) [Bjorken2009]).

Electron line (q = P − P' = p' + k − p incoming, s1 = (p+q)² − m² = 2p'·k + M², s2 = (p−k)² − m² =
M² − 2p·k < 0, t = −q² > 0):

    M = e² Z e F(t) / t · ū(p') [ ε̸* (p̸'+k̸+m) a̸ / s1 + a̸ (p̸−k̸+m) ε̸* / s2 ] u(p)

where a = J − c q, c = J·p / q·p, replaces J = P + P' (allowed because the electron tensor is transverse,
L^{μν} q_μ = 0; with a·p = 0 the large components of J that cancel between the two diagrams at small |t|
are removed — docs/physics.md#a-gauge). Spin-averaged, polarisation-summed:

    ¯|M|² = e⁶ G2(t) / t² · W(s1, s2, t, a·k, a·q, a²)

with W = −½ Σ_pol Tr[(p̸'+m) O (p̸+m) Ō] evaluated in closed form (**derived** here by the Dirac trace
algebra, the trace identities of Peskin & Schroeder Eqs. (5.5)–(5.10) and (A.27)–(A.30); cross-checked
against explicit 4×4 Dirac-matrix traces with the *original* current J in 60-digit mpmath at extreme
kinematic points in tests/physics/xsec/test_matrix_element.py, docs/validation.md#mpmath-traces). Grouped without
cancellations::

    W = 2a² [ −2 − ((s1+s2+t)² + t²)/(s1|s2|) + M² t (1/s1 − 1/s2)² + 2m² t (1/s1 + 1/s2)² ]
        − 8 (a·k)² [ (M² + 2m²)/s2² + t/(s1 s2) ]
        + 8 (a·k)(a·q) [ (M² + 2m²)(1/s2² + 1/(s1 s2)) − 1/s1 + t/(s1 s2) ]
        + 8 (a·q)² [ 1/s1 − M²/(s1 s2) ]

For M → 0 this is the Bethe–Heitler bremsstrahlung matrix element (Bethe & Heitler, Proc. R. Soc. A 146
(1934) 83); the photon-limit test compares the integrated spectrum with Tsai RMP 46 (1974) 815 Eq. (3.9).
The published closed forms for dark photons (Y.-S. Liu & G. A. Miller, arXiv:1705.01633 [Liu2017];
Gninenko, Kirpichnikov, Kirsanov, Krasnikov, PLB 782 (2018) 406, arXiv:1712.05706 [Gninenko2018]) are the
same squared amplitude written with J; we use our own derivation in the a-gauge because it is the
numerically stable form (docs/physics.md#etl-matrix-element).
"""

from __future__ import annotations



def w_closed(s1, s2, t, ak, aq, a2, m2: float, M2: float):
    """Spin-averaged, V-polarisation-summed electron tensor contracted with a^μ a^ν (see module docstring).

    s1 = 2p'·k + M² > 0, s2 = M² − 2p·k < 0, t = −q² > 0 [GeV²]; ak = a·k, aq = a·q [GeV²·(units of a)];
    a2 = a·a; m2 = m_e², M2 = M² [GeV²]. Vectorised (numpy broadcasting). The vector a must satisfy a·p = 0.
    """
    inv1 = 1.0 / s1
    inv2 = 1.0 / s2
    inv12 = inv1 * inv2
    mm = M2 + 2.0 * m2
    s12t = s1 + s2 + t
    br_a2 = (-2.0 + (s12t * s12t + t * t) * inv12          # s1|s2| = −s1 s2
             + M2 * t * (inv1 - inv2) ** 2 + 2.0 * m2 * t * (inv1 + inv2) ** 2)
    br_kk = mm * inv2 * inv2 + t * inv12
    br_kq = mm * (inv2 * inv2 + inv12) - inv1 + t * inv12
    br_qq = inv1 - M2 * inv12
    return 2.0 * a2 * br_a2 - 8.0 * ak * ak * br_kk + 8.0 * ak * aq * br_kq + 8.0 * aq * aq * br_qq


def w_closed_terms(s1, s2, t, ak, aq, a2, m2: float, M2: float):
    """The four groups of :func:`w_closed` separately (for cancellation diagnostics in tests)."""
    inv1 = 1.0 / s1
    inv2 = 1.0 / s2
    inv12 = inv1 * inv2
    mm = M2 + 2.0 * m2
    s12t = s1 + s2 + t
    return (2.0 * a2 * (-2.0 + (s12t * s12t + t * t) * inv12 + M2 * t * (inv1 - inv2) ** 2
                        + 2.0 * m2 * t * (inv1 + inv2) ** 2),
            -8.0 * ak * ak * (mm * inv2 * inv2 + t * inv12),
            8.0 * ak * aq * (mm * (inv2 * inv2 + inv12) - inv1 + t * inv12),
            8.0 * aq * aq * (inv1 - M2 * inv12))


def l_contract(s1, s2, t, ak, aq, a2, M2: float, ep, epp, ek, ea, e2):
    """Spin-averaged electron tensor contracted with a real vector e on both V indices:
    L(e, e) = ½ Σ_spins |ū(p') [e̸ (p̸'+k̸+m) a̸ / s1 + a̸ (p̸−k̸+m) e̸ / s2] u(p)|²  (a·p = 0).

    ep = e·p, epp = e·p', ek = e·k, ea = e·a, e2 = e·e; other arguments as in :func:`w_closed`.
    **Derived** by the same trace algebra as :func:`w_closed` (the m dependence cancels in this contraction;
    L(k, k) = 0 by current conservation, and Σ_λ L(ε_λ, ε_λ) = W — both checked in tests). Used for the
    direct 2→4 check (physics.xsec.etl_4body), where the virtual photon's tensor is contracted with the
    a γD vertex.
    """
    inv1 = 1.0 / s1
    inv2 = 1.0 / s2
    inv12 = inv1 * inv2
    out = ea * ea * (4.0 * M2 * t * inv12 + 4.0)
    out = out + e2 * (-(M2 * a2 * t) * (inv1 + inv2) ** 2 - a2 * (s1 * inv2 + 2.0 + s2 * inv1)
                      + 4.0 * M2 * ak * ak * inv2 * inv2 - 4.0 * M2 * ak * aq * (inv2 * inv2 + inv12)
                      + 4.0 * ak * aq * (inv1 + inv2) + 4.0 * ak * ak * t * inv12)
    out = out + ek * ep * 4.0 * (-a2 * (-2.0 * M2 + s2 + t) * inv1 * inv2
                                 + (-a2 * s2 + a2 * t - 4.0 * ak * ak + 4.0 * ak * aq) * inv2 * inv2)
    out = out + ea * ek * 8.0 * (M2 * aq - ak * s1 - ak * t - aq * s2) * inv12
    out = out + ea * epp * 8.0 * aq * (M2 - s2) * inv12
    out = out + ea * ep * 8.0 * (-M2 * aq + s1 * (2.0 * ak - aq)) * inv12
    out = out + ek * ek * 4.0 * a2 * (-M2 + s1 + s2 + t) * inv12
    out = out + ek * epp * 4.0 * a2 * (s1 * s1 + s1 * (-2.0 * M2 + s2 + t) - s2 * t) * inv1 * inv1 * inv2
    out = out + ep * ep * 4.0 * (-M2 * a2 * s2 + s1 * (-a2 * t + 4.0 * ak * ak - 4.0 * ak * aq)) * inv1 * inv2 * inv2
    out = out + epp * epp * 4.0 * a2 * (-M2 * s1 - s2 * t) * inv1 * inv1 * inv2
    out = out + ep * epp * 8.0 * (M2 * a2 - a2 * t - 2.0 * ak * aq) * inv12
    return out
