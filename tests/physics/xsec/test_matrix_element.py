"""The e N → e N V matrix element and its kinematics against an independent 60-digit evaluation.

Independent reference: explicit 4×4 Dirac matrices (Dirac representation), the *original* nuclear current
J = P + P' (no a-gauge), the full polarisation sum −g + kk/M², momenta built with naive formulas in mpmath at
60 digits (where cancellations are harmless). The double-precision code (light-cone kinematics, a-gauge,
closed-form W) must agree at extreme points: |t| down to 1e-20 GeV², θ_V ~ 1e-7, 1 − x ~ 1e-6, M from 10 keV
to 2 GeV.
"""

import math

import mpmath as mp
import numpy as np
import pytest

from physics.model.constants import M_ELECTRON_GEV
from physics.xsec.kinematics import channel_final, channel_initial, make_setup
from physics.xsec.matrix_element import l_contract, w_closed, w_closed_terms

M_E = M_ELECTRON_GEV


@pytest.fixture(autouse=True)
def _sixty_digits():
    """60 digits for every test here, whatever other modules did to mpmath's global context."""
    with mp.workdps(60):
        yield

# --- explicit Dirac algebra in mpmath ---------------------------------------------------------------------
_I = mp.mpc(0, 1)
_SIG = [mp.matrix([[0, 1], [1, 0]]), mp.matrix([[0, -_I], [_I, 0]]), mp.matrix([[1, 0], [0, -1]])]


def _block(a, b, c, d):
    out = mp.matrix(4, 4)
    for i in range(2):
        for j in range(2):
            out[i, j], out[i, j + 2], out[i + 2, j], out[i + 2, j + 2] = a[i, j], b[i, j], c[i, j], d[i, j]
    return out


_Z2, _I2 = mp.zeros(2, 2), mp.eye(2)
GAMMA = [_block(_I2, _Z2, _Z2, -_I2)] + [_block(_Z2, s, -s, _Z2) for s in _SIG]
ID4 = mp.eye(4)


def slash(v):
    return GAMMA[0] * v[0] - GAMMA[1] * v[1] - GAMMA[2] * v[2] - GAMMA[3] * v[3]


def mdot(a, b):
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


def trace(A):
    return sum(A[i, i] for i in range(4))


def w_dirac(p, pp, k, J, m, M, with_kk=True):
    """½ Σ_spins Σ_pol |ū(p') [ε̸*(p̸'+k̸+m)J̸/s1 + J̸(p̸−k̸+m)ε̸*/s2] u(p)|² by explicit traces."""
    pk = [pp[i] + k[i] for i in range(4)]
    mk = [p[i] - k[i] for i in range(4)]
    s1 = mdot(pk, pk) - m * m
    s2 = mdot(mk, mk) - m * m
    N1, N2, Js = slash(pk) + m * ID4, slash(mk) + m * ID4, slash(J)
    Pf, Pi = slash(pp) + m * ID4, slash(p) + m * ID4
    O = [GAMMA[r] * N1 * Js / s1 + Js * N2 * GAMMA[r] / s2 for r in range(4)]
    Ob = [Js * N1 * GAMMA[r] / s1 + GAMMA[r] * N2 * Js / s2 for r in range(4)]
    klow = [k[0], -k[1], -k[2], -k[3]]
    g = [1, -1, -1, -1]
    tot = 0
    for r in range(4):
        for c in range(4):
            pol = -(g[r] if r == c else 0) + (klow[r] * klow[c] / (M * M) if with_kk else 0)
            if pol != 0:
                tot += pol * trace(Pf * O[r] * Pi * Ob[c])
    return mp.re(tot) / 2


def _momenta_from_q(E0, m, M, MN, k, q):
    p = [E0, 0, 0, mp.sqrt(E0 ** 2 - m ** 2)]
    pp = [p[i] + q[i] - k[i] for i in range(4)]
    P = [MN, 0, 0, 0]
    Pf = [P[i] - q[i] for i in range(4)]
    J = [P[i] + Pf[i] for i in range(4)]
    shells = (mdot(pp, pp) - m * m, mdot(Pf, Pf) - MN * MN, mdot(k, k) - M * M)
    return p, pp, J, shells


def mp_initial(E0, m, M, MN, x_lo, x_hi, y):
    """Naive 60-digit version of kinematics.channel_initial at one unit-cube point: (weight, W, shells)."""
    E0, m, M, MN, x_lo, x_hi = map(mp.mpf, (E0, m, M, MN, x_lo, x_hi))
    y0, y1, y2, y3 = map(mp.mpf, y)
    e_lo, e_hi = mp.log(x_lo / (1 - x_lo)), mp.log(x_hi / (1 - x_hi))
    x = 1 / (1 + mp.exp(-(e_lo + y0 * (e_hi - e_lo))))
    jac = (e_hi - e_lo) * x * (1 - x)
    pa = mp.sqrt(E0 ** 2 - m ** 2)
    Ek = x * E0
    ka = mp.sqrt(Ek ** 2 - M ** 2)
    u0 = 2 * (E0 * Ek - pa * ka) - M ** 2
    upi = 2 * (E0 * Ek + pa * ka) - M ** 2
    V2 = (E0 - Ek) ** 2 - m ** 2 + u0
    beta = 1 + (E0 - Ek) / MN
    A, B = beta ** 2 - V2 / MN ** 2, 4 * V2 - 2 * beta * u0
    t_lo = (B - mp.sqrt(B ** 2 - 4 * A * u0 ** 2)) / (2 * A)
    t_hi = 2 * MN * (E0 - Ek - m)
    L = mp.log(t_hi / t_lo)
    t = t_lo * mp.exp(y1 * L)
    jac *= t * L
    T = t / (2 * MN)
    Q = mp.sqrt(t + T ** 2)
    Ep = E0 - Ek - T
    Pp = mp.sqrt(Ep ** 2 - m ** 2)
    u_hi, u_lo = t - 2 * T * Ep + 2 * Q * Pp, t - 2 * T * Ep - 2 * Q * Pp
    ua, ub = max(u0, u_lo), min(upi, u_hi)
    rb = (ub - ua) / (ub - ua + u0)
    rho = y2 * rb
    u = ua + u0 * rho / (1 - rho)
    jac *= rb * u0 / (1 - rho) ** 2 * 2 * mp.pi
    phi = mp.pi * y3
    cth = (2 * E0 * Ek - M ** 2 - u) / (2 * pa * ka)
    k = [Ek, ka * mp.sqrt(1 - cth ** 2), 0, ka * cth]
    V = [0, -k[1], 0, pa - k[3]]
    Va = mp.sqrt(V[1] ** 2 + V[3] ** 2)
    cq = -(u + beta * t) / (2 * Q * Va)
    sq = mp.sqrt(1 - cq ** 2)
    Vh, e1 = [0, V[1] / Va, 0, V[3] / Va], [0, V[3] / Va, 0, -V[1] / Va]
    q = [-T] + [Q * (cq * Vh[i] + sq * (mp.cos(phi) * e1[i] + (mp.sin(phi) if i == 2 else 0))) for i in (1, 2, 3)]
    p, pp, J, shells = _momenta_from_q(E0, m, M, MN, k, q)
    weight = jac * E0 / (2048 * mp.pi ** 4 * MN ** 2 * pa ** 2 * Va)
    mp_initial.last_momenta = (p, pp, k, J)
    return weight, w_dirac(p, pp, k, J, m, M), shells


def mp_final(E0, m, M, MN, x_lo, x_hi, y):
    """Naive 60-digit version of kinematics.channel_final (z padded window): (weight, W, shells, x)."""
    from physics.xsec.kinematics import FINAL_OMZ_MIN, Z_PAD

    E0, m, M, MN, x_lo, x_hi = map(mp.mpf, (E0, m, M, MN, x_lo, x_hi))
    y0, y1, y2, y3 = map(mp.mpf, y)
    z_lo, omz_lo = x_lo * (1 - Z_PAD), max(FINAL_OMZ_MIN * m / E0, (1 - x_hi) / 2)
    e_lo, e_hi = mp.log(z_lo / (1 - z_lo)), mp.log((1 - omz_lo) / omz_lo)
    z = 1 / (1 + mp.exp(-(e_lo + y0 * (e_hi - e_lo))))
    jac = (e_hi - e_lo) * z * (1 - z)
    pa = mp.sqrt(E0 ** 2 - m ** 2)
    s1min = (M ** 2 * (1 - z) + m ** 2 * z ** 2) / (z * (1 - z))
    A = 1 + 2 * E0 / MN + m ** 2 / MN ** 2
    B = 4 * pa ** 2 - 2 * s1min * (1 + E0 / MN)
    t_lo = (B - mp.sqrt(B ** 2 - 4 * A * s1min ** 2)) / (2 * A)
    L = mp.log(2 * MN * (E0 - m) / t_lo)
    t = t_lo * mp.exp(y1 * L)
    jac *= t * L
    T = t / (2 * MN)
    Q = mp.sqrt(t + T ** 2)
    s1max = 2 * pa * Q - t - 2 * E0 * T
    rb = (s1max - s1min) / (s1max - s1min + s1min)
    rho = y2 * rb
    s1 = s1min + s1min * rho / (1 - rho)
    jac *= rb * s1min / (1 - rho) ** 2 * 2 * mp.pi
    phi = mp.pi * y3
    qz = -(s1 + t + 2 * E0 * T) / (2 * pa)
    qx = mp.sqrt(Q ** 2 - qz ** 2)
    q = [-T, qx, 0, qz]
    Pplus = E0 + pa + (qz - T)
    kap = mp.sqrt(z * (1 - z) * s1 - M ** 2 * (1 - z) - m ** 2 * z ** 2)
    kx, ky = kap * mp.cos(phi) + z * qx, kap * mp.sin(phi)
    kp = z * Pplus
    km = (M ** 2 + kx ** 2 + ky ** 2) / kp
    k = [(kp + km) / 2, kx, ky, (kp - km) / 2]
    p, pp, J, shells = _momenta_from_q(E0, m, M, MN, k, q)
    weight = jac / (2048 * mp.pi ** 4 * MN ** 2 * pa ** 2)
    return weight, w_dirac(p, pp, k, J, m, M), shells, k[0] / E0


EXTREME_Y = [[0.0856, 0.2368, 0.8013, 0.5822], [0.7346, 0.1137, 0.3912, 0.5167], [0.99999, 1e-6, 1e-6, 0.3],
             [1e-7, 0.2, 0.999999, 0.01], [0.5, 1e-9, 0.5, 0.0], [0.5, 0.6, 1e-8, 1.0], [0.9, 0.5, 0.2, 0.001],
             [0.5, 0.3, 0.999, 0.001]]
#: points near the end point (1 − x ~ 1e-5 … 3e-4) with slow, backward-moving final electrons (p'⁺ = 0.04 … 0.1 m
#: in the four CASES): p'⁺ = E' + p'_z cancels there
BACKWARD_Y = [[0.9, 0.5339, 0.7159, 0.998], [0.9, 0.4284, 0.4469, 0.9966], [0.9, 0.2228, 0.3757, 0.9993],
              [0.9, 0.6051, 0.9589, 0.9706]]
CASES = [(100.0, 0.01, 193.0), (100.0, 1e-5, 193.0), (100.0, 2.0, 193.0), (8.0, 0.05, 25.1)]


def _w(r, M):
    return w_closed(r["s1"], r["s2"], r["t"], r["ak"], r["aq"], r["a2"], M_E ** 2, M * M)


@pytest.mark.parametrize("E0,M,MN", CASES)
def test_initial_channel_against_60_digit_dirac_traces(E0, M, MN):
    # The weight × W of the double-precision integrand must equal the naive 60-digit one. Typical agreement
    # is 1e-12; the worst points sit within 1e-9 of a boundary of the integration domain (t − t_min ~ 1e-9 t,
    # 1 − x = 5e-6 at the end point), where the map itself amplifies the rounding of y: 1e-7 allows for that
    # and still catches any lost digit of the kind the naive double formulas lose (1e-4 … 1).
    s = make_setup(E0, M_E, M, MN, 0.0, 1.0)
    ys = np.array(EXTREME_Y + BACKWARD_Y)
    r = channel_initial(s, ys)
    assert np.count_nonzero(r["ok"] & (r["pf_plus"] < 0.2 * M_E)) >= 1
    W = _w(r, M)
    n_ok = 0
    for i, y in enumerate(ys):
        if not r["ok"][i]:
            continue
        n_ok += 1
        wt, wr, shells = mp_initial(E0, M_E, M, MN, s.x_lo, s.x_hi, y)
        assert max(abs(float(c)) for c in shells) < 1e-40          # the mp momenta are on shell
        assert float(wt / r["weight"][i]) == pytest.approx(1.0, abs=1e-7)
        assert float(wr / W[i]) == pytest.approx(1.0, abs=1e-7)
        # final electron p'⁺ and the light-front fraction 1 − z = p'⁺/(p'+k)⁺ (selects the multichannel
        # weight): also for slow backward electrons, where E' + p'_z cancels
        _, pp, k, _ = mp_initial.last_momenta
        pf_plus = pp[0] + pp[3]
        assert float(pf_plus / r["pf_plus"][i]) == pytest.approx(1.0, abs=1e-7)
        assert float(pf_plus / (pf_plus + k[0] + k[3]) / r["omz"][i]) == pytest.approx(1.0, abs=1e-7)
    assert n_ok >= 9


@pytest.mark.parametrize("E0,M,MN", CASES)
def test_final_channel_against_60_digit_dirac_traces(E0, M, MN):
    # Same check for the second VEGAS channel (V direction measured from the final electron).
    s = make_setup(E0, M_E, M, MN, 0.0, 1.0)
    ys = np.array(EXTREME_Y)
    r = channel_final(s, ys)
    W = _w(r, M)
    n_ok = 0
    for i, y in enumerate(ys):
        if not r["ok"][i]:
            continue
        n_ok += 1
        wt, wr, shells, x = mp_final(E0, M_E, M, MN, s.x_lo, s.x_hi, y)
        assert max(abs(float(c)) for c in shells) < 1e-40
        assert float(x / r["x"][i]) == pytest.approx(1.0, abs=1e-9)   # x only selects the bin: 1e-9 ample
        assert float(wt / r["weight"][i]) == pytest.approx(1.0, abs=1e-7)
        assert float(wr / W[i]) == pytest.approx(1.0, abs=1e-7)
    assert n_ok >= 5


def test_kk_term_of_polarisation_sum_drops():
    # Σ_pol = −g + kk/M²: the kk/M² part vanishes by current conservation (to 60-digit rounding, while the
    # kk/M² contraction of single diagrams is ~(E/M)² larger than W).
    s = make_setup(100.0, M_E, 0.05, 193.0, 0.0, 1.0)
    for y in ([0.3, 0.4, 0.5, 0.6], [0.8, 0.1, 0.9, 0.05]):
        mp_initial(100.0, M_E, 0.05, 193.0, s.x_lo, s.x_hi, y)
        p, pp, k, J = mp_initial.last_momenta
        m, M = mp.mpf(M_E), mp.mpf(0.05)
        w_full = w_dirac(p, pp, k, J, m, M, with_kk=True)
        w_g = w_dirac(p, pp, k, J, m, M, with_kk=False)
        assert abs(float((w_full - w_g) / w_g)) < 1e-40


def _spinors(p, m):
    """Dirac-representation spinors u(p, s) (s = ±) as columns, numpy complex."""
    E = p[0]
    pv = p[1:]
    sig = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    sp = sum(pv[i] * sig[i] for i in range(3))
    out = []
    for chi in (np.array([1, 0]), np.array([0, 1])):
        out.append(np.sqrt(E + m) * np.concatenate([chi, sp @ chi / (E + m)]))
    return out


def _gam():
    s = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    z, i2 = np.zeros((2, 2)), np.eye(2)
    return [np.block([[i2, z], [z, -i2]])] + [np.block([[z, si], [-si, z]]) for si in s]


def test_gauge_invariance_of_the_amplitude():
    # ε → k (V side) and J → q (photon side): the sum of the two diagrams vanishes to double rounding,
    # relative to the individual diagrams (< 1e-12 of max|diagram|; they are O(1) numbers here).
    G = _gam()

    def sl(v):
        return G[0] * v[0] - G[1] * v[1] - G[2] * v[2] - G[3] * v[3]

    m, M = M_E, 0.3
    rng = np.random.default_rng(7)
    for _ in range(5):
        pv = np.array([0.0, 0.0, 10.0])
        p = np.concatenate([[math.sqrt(m * m + pv @ pv)], pv])
        kv = rng.normal(size=3) * 0.3 + np.array([0, 0, 4.0])
        k = np.concatenate([[math.sqrt(M * M + kv @ kv)], kv])
        ppv = rng.normal(size=3) * 0.2 + np.array([0, 0, 5.0])
        pp = np.concatenate([[math.sqrt(m * m + ppv @ ppv)], ppv])
        q = pp + k - p
        J = np.array([2.0, 0.1, -0.2, 0.3])
        g0 = G[0]
        for ui in _spinors(p, m):
            for uf in _spinors(pp, m):
                ubar = uf.conj() @ g0
                one = np.eye(4)
                s1 = (pp + k) @ np.diag([1, -1, -1, -1]) @ (pp + k) - m * m
                s2 = (p - k) @ np.diag([1, -1, -1, -1]) @ (p - k) - m * m
                for eps, cur in ((k, J), (rng.normal(size=4), q)):
                    d1 = ubar @ sl(eps) @ (sl(pp + k) + m * one) @ sl(cur) @ ui / s1
                    d2 = ubar @ sl(cur) @ (sl(p - k) + m * one) @ sl(eps) @ ui / s2
                    assert abs(d1 + d2) < 1e-12 * max(abs(d1), abs(d2))


def test_l_contract_sums_to_w_and_is_transverse():
    # Σ over the three physical polarisations of L(ε, ε) equals W; L(k, k) = 0 (checked at random invariant
    # points with the dot products of an explicit frame; relative 1e-10 against terms of size |W|).
    rng = np.random.default_rng(3)
    gmet = np.diag([1.0, -1, -1, -1])
    for _ in range(5):
        m, M = 0.2, 0.7
        p = np.array([0, 0, 0, 3.0])
        p[0] = math.sqrt(m * m + p[1:] @ p[1:])
        k = np.concatenate([[0], rng.normal(size=3) + [0, 0, 1.5]])
        k[0] = math.sqrt(M * M + k[1:] @ k[1:])
        pp = np.concatenate([[0], rng.normal(size=3) + [0, 0, 1.0]])
        pp[0] = math.sqrt(m * m + pp[1:] @ pp[1:])
        q = pp + k - p
        d = lambda a, b: a @ gmet @ b  # noqa: E731
        J = np.array([2.0, 0.3, 0.1, -0.4])
        a = J - d(J, p) / d(q, p) * q
        s1, s2, t = d(pp + k, pp + k) - m * m, d(p - k, p - k) - m * m, -d(q, q)
        inv = (s1, s2, t, d(a, k), d(a, q), d(a, a))
        W = w_closed(*inv, m * m, M * M)
        # polarisation vectors of k: an orthonormal triad orthogonal to k
        basis = [np.array([1.0, 0, 0, 0]), np.array([0, 1.0, 0, 0]), np.array([0, 0, 1.0, 0]), np.array([0, 0, 0, 1.0])]
        eps = []
        for b in basis:
            v = b - d(b, k) / (M * M) * k
            for e in eps:
                v = v + d(v, e) * e          # e·e = −1
            nrm = d(v, v)
            if nrm < -1e-9:
                eps.append(v / math.sqrt(-nrm))
            if len(eps) == 3:
                break
        total = sum(l_contract(*inv, M * M, d(e, p), d(e, pp), d(e, k), d(e, a), d(e, e)) for e in eps)
        assert total == pytest.approx(W, rel=1e-10)
        lkk = l_contract(*inv, M * M, d(k, p), d(k, pp), d(k, k), d(k, a), d(k, k))
        scale = max(abs(x) for x in w_closed_terms(*inv, m * m, M * M))
        assert abs(lkk) < 1e-10 * scale
