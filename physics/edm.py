"""Fermion electric dipole moments from the CP-odd dark axion portal (docs/physics.md#edm;
Gninenko et al., arXiv:2602.11405, Sec. VI, Table 2, Fig. 6).

Interactions ([Gninenko2026, Eq. (22)]): the portal ``(g_aγγD/2) a F F̃_D``, a CP-odd ALP Yukawa
``g̃_af a f̄ f`` and a dark-photon vector coupling ``g_γDf γD_μ f̄ γ^μ f``. The one-loop diagram with ``a`` and
``γD`` in the loop and the external photon on the portal vertex gives, with a UV cut-off Λ
(docs/physics.md#edm-loop, **derived**):

    d_f = (g_aγγD g̃_af g_γDf / 16π²) · I ,
    I   = 2 ∫_0^1 dx ∫_0^{1−x} dy ln(Λ²/Δ),   Δ = x² m_f² + y m_a² + (1 − x − y) m_γD².

Units: masses and Λ in GeV, d_f in GeV⁻¹ (charge absorbed, see
:func:`physics.model.constants.edm_inv_gev_to_ecm`) or e·cm, the coupling product in GeV⁻¹.

Evaluation of I (all formulas below are elementary calculus on the integrand of docs/physics.md#edm-loop):

* For fixed x, Δ is linear in y: Δ(y) = Δ0 + (Δ1 − Δ0) y/(1−x) with the end points
  Δ0 = x² m_f² + (1−x) m_γD² (y = 0) and Δ1 = x² m_f² + (1−x) m_a² (y = 1−x). The inner integral is
  therefore (1−x) times the mean of ln(Λ²/u) for u uniform between Δ0 and Δ1:

      ⟨ln(Λ²/u)⟩ = ln(Λ²/b) + 1 + r ln r / (1 − r),   b = max(Δ0, Δ1), r = min(Δ0, Δ1)/b ∈ [0, 1].

  The last term runs from 0 (r → 0) to −1 (r → 1, i.e. m_a = m_γD). It is evaluated as r log1p(−ε)/ε
  (:func:`_integrand`; (1−ε) log1p(−ε)/ε near r = 1 in :func:`_r_log_r_term`) with
  ε = 1 − r = (1−x)|m_a² − m_γD²|/b formed without subtraction, so m_a ≈ m_γD is stable; r = 0
  (m_a = m_f = 0) is the limit 0.
* The outer x integral f(x) = 2(1−x)⟨ln(Λ²/u)⟩ is done with numpy only (no scipy; :func:`_integrate`):
  composite Gauss–Legendre on a mesh graded geometrically (panel edges 2^-k) towards x = 0 and towards
  x = 1, each panel with 8 and 16 nodes (``numpy.polynomial.legendre.leggauss``, cached at import). Where
  f is not analytic: the zeros of x² m_f² + (1−x) m² (m = m_a, m_γD), i.e. at |x| ≈ √q next to x = 0
  for q = m²/m_f² ≪ 1 and at x ≈ 1 + 1/q beyond x = 1 for q ≫ 1 — the same scales as the regime-change
  points x_b (x_b² m_f² = (1−x_b) m², :func:`_grading_depths`), which set the depth of the grading
  (to 2^-60 at most). So every panel is shorter than a fixed multiple of its distance to every
  singularity and Gauss–Legendre converges geometrically on it. The integrable end-point logarithms
  (m_f = 0: (1−x) ln(1−x) at x → 1; m_a = m_γD = 0: ln x at x → 0; one of them 0: x² ln x) sit in the
  last, geometrically small panel; the half-panels close to 1 use w = 1 − x as the variable, so 1 − x
  keeps full relative precision there.
* Error control: per panel |Q_16 − Q_8| (an estimate of the 8-node error; the 16-node result that is
  returned is far more accurate). Panels carrying the largest estimates are bisected until the sum of the
  estimates is ≤ max(1e-14, 1e-12 |I|) (in practice the graded start mesh already meets it). Checked
  against the former scipy.integrate.quad evaluation on a grid over the whole input range (agreement
  ≤ 5e-12 relative; where they differ most, 30-digit mpmath agrees with this rule to ≤ 3e-16 and with
  quad to 1.5–4.5e-12) and against exact end-point cases (≤ 3e-16); see tests/physics/test_edm.py.

Exact special cases (used in the tests; derived by substituting t = y + z, y = t u with z = 1−x−y):

* m_f = 0:  I = ln Λ² + 3/2 − (A ln A − C ln C)/(A − C),  A = m_a², C = m_γD²
  → ln(Λ²/m_γD²) + 3/2 for m_a = 0 and ln(Λ²/M²) + 1/2 for m_a = m_γD = M.
  (So the rough estimate "I ≈ ln(Λ²/max) + 3/2" holds for m_a ≪ m_γD only; the degenerate scenario has
  +1/2. Both limits are listed in docs/physics.md#edm-loop and checked in docs/validation.md#edm.)
* ∂I/∂ln Λ = 2 because 2∫∫dx dy = 1: I(Λ2) − I(Λ1) = 2 ln(Λ2/Λ1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import numpy as np
from numpy.polynomial.legendre import leggauss

from physics import errors, limits
from physics.model.constants import (M_ELECTRON_GEV, M_MUON_GEV, M_NEUTRON_GEV, edm_ecm_to_inv_gev,
                        edm_inv_gev_to_ecm)

#: 16π², the one-loop factor of docs/physics.md#edm-loop.
LOOP_FACTOR: float = 16.0 * math.pi ** 2

#: Default ALP mass [GeV] of the "light-alp" scenario (m_a ≪ m_γD; Gninenko et al., arXiv:2602.11405,
#: Sec. III, fix a tiny m_a; docs/physics.md#edm-scenarios).
DEFAULT_M_A_LIGHT_GEV: float = 1e-6
#: Default reference dark-photon mass [GeV] of Table 2 (user-changeable).
DEFAULT_M_GD_REF_GEV: float = 0.1
#: The two benchmark cut-offs of [Gninenko2026, Table 2 / Fig. 6] [GeV] (1 and 10 TeV;
#: docs/physics.md#edm-scenarios).
DEFAULT_CUTOFFS_GEV: tuple[float, ...] = (1000.0, 10000.0)

#: Scenarios: "light-alp" (m_a ≪ m_γD, requires m_a < m_γD), "degenerate" (m_a = m_γD),
#: "general" (any m_a ≥ 0).
SCENARIOS: tuple[str, ...] = ("light-alp", "degenerate", "general")

# Quadrature of the outer x integral (module docstring, :func:`_integrate`). I (and k of the curve) is
# 0.1–200; 1e-12 relative (estimated) is far below any physics uncertainty.
_EPSABS = 1e-14
_EPSREL = 1e-12
#: Gauss–Legendre orders per panel: the result uses 2·_GL_ORDER nodes, the difference to _GL_ORDER nodes
#: is the error estimate. Nodes t ∈ (−1, 1) and weights cached here (leggauss costs ~0.5 ms).
_GL_ORDER = 8
_GL_T_LO, _GL_W_LO = leggauss(_GL_ORDER)
_GL_T_HI, _GL_W_HI = leggauss(2 * _GL_ORDER)
_GL_T = np.concatenate([_GL_T_LO, _GL_T_HI])
_TINY = float(np.finfo(float).tiny)   # smallest normal double
_EPS_MAX = 1.0 - 2.0 ** -53           # largest double < 1
#: Deepest initial grading towards x = 0 or 1 (last panel [0, 2^-60] ≈ [0, 8.7e-19]): there f ≤ 2(ln(1/b) + 1)
#: with b ≥ x² m_f²/Λ² or ≥ (1−x) m²/Λ² and masses ≥ 1e-100 Λ, so ∫ over it < 1.1e3 · 2^-60 < 1e-15 even
#: unresolved.
_MAX_GRADING_DEPTH = 60
#: Initial grading depth next to an integrable end-point log singularity that sits *at* x = 0 or 1 with
#: a vanishing prefactor (x² ln x, (1−x) ln(1−x)); panels are bisected further if the estimate asks.
_WEAK_SINGULARITY_DEPTH = 24
#: Points integrated together on one shared mesh (bounds memory to ~1 MB per array; smaller blocks also
#: need shallower meshes — measured fastest for 100–1000 masses at 16–32).
_POINTS_PER_BLOCK = 32
#: Bisection passes before giving up with RuntimeError (the start mesh alone met the tolerance for the test
#: grids, 2400 random extreme points with masses 1e-60–100 GeV and the curves; bisection is the safety net).
_MAX_PASSES = 100


@dataclass(frozen=True)
class Fermion:
    """A fermion whose EDM is constrained: key (e, mu, n), display name, mass [GeV]."""

    key: str
    name: str
    mass_gev: float

    def to_dict(self) -> dict:
        return asdict(self)


#: Fermions of Table 2 (masses: PDG via physics.model.constants).
FERMIONS: dict[str, Fermion] = {
    "e": Fermion("e", "electron", M_ELECTRON_GEV),
    "mu": Fermion("mu", "muon", M_MUON_GEV),
    "n": Fermion("n", "neutron", M_NEUTRON_GEV),
}

_FERMION_ALIASES: dict[str, str] = {
    "e": "e", "electron": "e", "e-": "e",
    "mu": "mu", "muon": "mu", "μ": "mu", "mu-": "mu",
    "n": "n", "neutron": "n",
}


@dataclass(frozen=True)
class EdmLimit:
    """An experimental upper limit |d_f| < value_ecm [e·cm] at confidence level ``cl`` (e.g. 0.90)."""

    fermion: str
    value_ecm: float
    cl: float
    experiment: str
    citation: str

    @property
    def value_gev_inv(self) -> float:
        """The limit in GeV⁻¹ (d[GeV⁻¹] = d[e cm] × e / ħc)."""
        return edm_ecm_to_inv_gev(self.value_ecm)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["value_GeV-1"] = self.value_gev_inv
        return d


#: Experimental EDM limits (docs/physics.md#edm-limits). Override per call with ``edm_limit_ecm=``.
EDM_LIMITS: dict[str, EdmLimit] = {
    "e": EdmLimit("e", 4.1e-30, 0.90, "JILA (HfF+) 2023",
                  "T. S. Roussy et al., Science 381 (2023) 46, arXiv:2212.11841"),
    "mu": EdmLimit("mu", 1.8e-19, 0.95, "Muon g-2 (BNL E821) 2009",
                   "G. W. Bennett et al., Phys. Rev. D 80 (2009) 052008, arXiv:0811.1207"),
    "n": EdmLimit("n", 1.8e-26, 0.90, "nEDM at PSI 2020",
                  "C. Abel et al., Phys. Rev. Lett. 124 (2020) 081803, arXiv:2001.11966"),
}


def get_fermion(fermion: str | Fermion) -> Fermion:
    """Look up a fermion: e, mu, n (aliases electron, muon, neutron; case-insensitive)."""
    if isinstance(fermion, Fermion):
        return fermion
    key = _FERMION_ALIASES.get(str(fermion).strip().lower())
    if key is None:
        raise errors.InputError("fermion", "one of e, mu, n (or electron, muon, neutron)", fermion)
    return FERMIONS[key]


def get_edm_limit(fermion: str | Fermion, edm_limit_ecm: float | None = None) -> EdmLimit:
    """The EDM limit for ``fermion``; with ``edm_limit_ecm`` (> 0, e·cm) a user override replaces the value
    (CL unknown → NaN, citation "user override")."""
    f = get_fermion(fermion)
    lim = EDM_LIMITS[f.key]
    if edm_limit_ecm is None:
        return lim
    value = limits.check("edm_limit", edm_limit_ecm)
    return replace(lim, value_ecm=value, cl=float("nan"), experiment="user override",
                   citation=f"replaces the default {lim.value_ecm:g} e cm ({lim.experiment}; {lim.citation})")


# --------------------------------------------------------------------------------------------- loop


#: Smallest max(m_f, m_a, m_γD)/Λ: the loop is evaluated with masses² in units of Λ², which must stay normal
#: doubles (1e-200 ≫ 2.2e-308); below it I would silently lose its ln(Λ²/m²) and a bound would divide by 0.
_MIN_MASS_OVER_CUTOFF = 1e-100


def _validate_loop_inputs(m_f, m_a, m_gd, cutoff) -> tuple[float, float, float, float]:
    m_f = errors.non_negative("m_f", m_f, "GeV")
    m_a = errors.non_negative("m_a", m_a, "GeV")
    m_gd = errors.non_negative("m_gd", m_gd, "GeV")
    cutoff = limits.check("cutoff", cutoff)
    heaviest = max(m_f, m_a, m_gd)
    if heaviest == 0.0:
        raise errors.InputError("m_f, m_a, m_gd", "at least one > 0 (I is IR divergent otherwise)",
                                (m_f, m_a, m_gd))
    if cutoff <= heaviest:
        raise errors.InputError("cutoff", f"> max(m_f, m_a, m_gd) = {heaviest:g} GeV (EFT validity)",
                                cutoff)
    if heaviest < _MIN_MASS_OVER_CUTOFF * cutoff:
        raise errors.InputError("cutoff", f"<= {1 / _MIN_MASS_OVER_CUTOFF:g} x max(m_f, m_a, m_gd) = "
                                f"{heaviest / _MIN_MASS_OVER_CUTOFF:g} GeV (double precision)", cutoff)
    return m_f, m_a, m_gd, cutoff


def _r_log_r_term(eps: float, r: float) -> float:
    """r ln r / (1 − r) for r = 1 − eps ∈ [0, 1], stable at both ends (→ −1 at r = 1, → 0 at r = 0)."""
    if eps == 0.0:
        return -1.0
    if eps < 0.5:
        return (1.0 - eps) * math.log1p(-eps) / eps
    if r == 0.0:
        return 0.0
    return r * math.log(r) / eps


def _integrand(x2: np.ndarray, w: np.ndarray, uf, umax, umin, dua) -> np.ndarray:
    """f(x) = 2(1−x) ⟨ln(1/u)⟩_y, u = Δ/Λ² (module docstring), at nodes given by x² and w = 1 − x (w is
    passed separately: accurate near x = 1). Per point (broadcastable against the nodes), masses squared in
    units of Λ²: uf = m_f²/Λ², umax/umin = max/min(m_a², m_γD²)/Λ², dua = |m_a² − m_γD²|/Λ².

    b = Δ_max, r = Δ_min/b and ε = (1−x) dua/b = 1 − r (formed without cancellation) as in the module
    docstring; the term r ln r/(1 − r) is evaluated as r·log1p(−ε)/ε with ε clipped to [1e-300, 1 − 2^-53]:
    −1 exactly at ε = 0 (r = 1) and → 0 for r → 0; near ε = 1 it differs from r ln r/(1 − r) by ≤ 4e-16
    (|Δr| ≤ 2^-53 inside the log is multiplied by r). Δ ≥ the smallest normal double (never reached for
    inputs allowed by :func:`_validate_loop_inputs`: there Δ/Λ² > 1e-241 at every node of the start mesh).
    """
    xf = x2 * uf
    b = xf + w * umax
    np.maximum(b, _TINY, out=b)
    inv_b = 1.0 / b
    r = (xf + w * umin) * inv_b
    eps = (w * dua) * inv_b
    np.clip(eps, 1e-300, _EPS_MAX, out=eps)
    f = np.log1p(-eps)
    f *= r
    f /= eps                        # r ln r/(1 − r)
    f -= np.log(b)
    f += 1.0
    f *= 2.0 * w
    return f


def _grading_depths(uf: np.ndarray, ua: np.ndarray, ug: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point, depths (k0, k1) of the geometric grading towards x = 0 and x = 1 (integer arrays).

    From the regime-change points x_b with x_b² m_f² = (1 − x_b) m² (m = m_a, m_γD; q = m²/m_f²):
    x_b = 2/(1 + s), 1 − x_b = 4/(q (1 + s)²), s = √(1 + 4/q). The nearby singularities of f lie at
    distance ≈ x_b from 0 (x_b < 1/2) or ≈ 1 − x_b from 1 (x_b > 1/2), so the grading goes 3 levels
    below that scale. Zero masses put an integrable log at an end point (see :data:`_WEAK_SINGULARITY_DEPTH`);
    with m_a = m_γD = 0 < m_f it is ln x itself, graded to the maximum depth.
    """
    k0 = np.full(uf.shape, 3.0)
    k1 = np.full(uf.shape, 3.0)
    pos = uf > 0.0
    for u in (ua, ug):
        ok = pos & (u > 0.0)
        q = np.where(ok, u, 1.0) / np.where(ok, uf, 1.0)
        s = np.sqrt(1.0 + 4.0 / q)
        xb = 2.0 / (1.0 + s)
        wb = 4.0 / (q * (1.0 + s) ** 2)
        k0 = np.where(ok & (xb < 0.5), np.maximum(k0, 3.0 - np.log2(xb)), k0)
        k1 = np.where(ok & (wb < 0.5), np.maximum(k1, 3.0 - np.log2(wb)), k1)
    k0 = np.where(pos & ((ua == 0.0) | (ug == 0.0)), np.maximum(k0, _WEAK_SINGULARITY_DEPTH), k0)
    k0 = np.where(pos & (ua == 0.0) & (ug == 0.0), _MAX_GRADING_DEPTH, k0)
    k1 = np.where(pos, k1, np.maximum(k1, _WEAK_SINGULARITY_DEPTH))
    return (np.minimum(np.ceil(k0), _MAX_GRADING_DEPTH).astype(int),
            np.minimum(np.ceil(k1), _MAX_GRADING_DEPTH).astype(int))


def _integrate(uf, ua, ug, epsrel: float = _EPSREL, epsabs: float = _EPSABS) -> tuple[np.ndarray, np.ndarray]:
    """∫_0^1 f(x) dx for each point of the 1-D arrays (uf, ua, ug) (masses² / Λ², same length or scalars):
    returns (values, error estimates), each point to max(epsabs, epsrel |value|) (estimated). Method in
    the module docstring; the points are done in blocks of :data:`_POINTS_PER_BLOCK` sharing one mesh.
    """
    uf, ua, ug = np.broadcast_arrays(*(np.atleast_1d(np.asarray(u, dtype=float)) for u in (uf, ua, ug)))
    if uf.shape[0] == 0:
        return np.empty(0), np.empty(0)
    k0, k1 = _grading_depths(uf, ua, ug)
    umax, umin, dua = np.maximum(ua, ug), np.minimum(ua, ug), np.abs(ua - ug)
    parts = []
    for i in range(0, uf.shape[0], _POINTS_PER_BLOCK):
        block = slice(i, i + _POINTS_PER_BLOCK)
        parts.append(_integrate_block(uf[block], umax[block], umin[block], dua[block], int(k0[block].max()),
                                      int(k1[block].max()), epsrel, epsabs))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _integrate_block(uf: np.ndarray, umax: np.ndarray, umin: np.ndarray, dua: np.ndarray, k0: int, k1: int,
                     epsrel: float, epsabs: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_integrate` for one block of points on one mesh, graded to 2^-k0 towards x = 0 and 2^-k1
    towards x = 1.

    Panels live on two half-intervals with their own variable v ∈ [0, 1/2]: x = v (side 0) or w = 1 − x = v
    (side 1). Each pass evaluates the new panels at 8 + 16 Gauss–Legendre nodes for all points at once; a
    point is done when the sum of its panel estimates |Q_16 − Q_8| is ≤ max(epsabs, epsrel |Σ Q_16|),
    otherwise the panels with the largest estimates (those needed to bring the rest below half the
    tolerance, for any point) are bisected.
    """
    n_points = uf.shape[0]
    uf, umax, umin, dua = (u.reshape(-1, 1, 1) for u in (uf, umax, umin, dua))
    e0 = np.concatenate([[0.0], 2.0 ** -np.arange(k0, 0, -1.0)])   # 0, 2^-k0, …, 1/2
    e1 = np.concatenate([[0.0], 2.0 ** -np.arange(k1, 0, -1.0)])
    new_side = np.concatenate([np.zeros(k0, dtype=bool), np.ones(k1, dtype=bool)])
    new_lo = np.concatenate([e0[:-1], e1[:-1]])
    new_hi = np.concatenate([e0[1:], e1[1:]])
    side, lo, hi = new_side[:0], new_lo[:0], new_hi[:0]
    q_all = err_all = np.empty((n_points, 0))
    for _ in range(_MAX_PASSES):
        half = 0.5 * (new_hi - new_lo)
        v = (0.5 * (new_hi + new_lo))[:, None] + half[:, None] * _GL_T       # (panels, 3n)
        one_minus_v = 1.0 - v
        x = np.where(new_side[:, None], one_minus_v, v)
        w = np.where(new_side[:, None], v, one_minus_v)
        f = _integrand(x * x, w, uf, umax, umin, dua)                        # (points, panels, 3n)
        q_lo = (f[..., :_GL_ORDER] @ _GL_W_LO) * half
        q_hi = (f[..., _GL_ORDER:] @ _GL_W_HI) * half
        q_all = np.concatenate([q_all, q_hi], axis=1)
        err_all = np.concatenate([err_all, np.abs(q_hi - q_lo)], axis=1)
        side, lo, hi = (np.concatenate([side, new_side]), np.concatenate([lo, new_lo]),
                        np.concatenate([hi, new_hi]))
        total = q_all.sum(axis=1)
        tol = np.maximum(epsabs, epsrel * np.abs(total))
        err = err_all.sum(axis=1)
        if np.all(err <= tol):
            return total, err
        # per point: all panels except the smallest estimates that together stay ≤ tol/2 are bisected
        order = np.argsort(err_all, axis=1)
        running = np.cumsum(np.take_along_axis(err_all, order, axis=1), axis=1)
        split = np.zeros(err_all.shape, dtype=bool)
        np.put_along_axis(split, order, running > 0.5 * tol[:, None], axis=1)
        split = split.any(axis=0)
        mid = 0.5 * (lo[split] + hi[split])
        new_side = np.concatenate([side[split], side[split]])
        new_lo = np.concatenate([lo[split], mid])
        new_hi = np.concatenate([mid, hi[split]])
        keep = ~split
        q_all, err_all, side, lo, hi = q_all[:, keep], err_all[:, keep], side[keep], lo[keep], hi[keep]
    raise RuntimeError(f"EDM loop integral: no convergence after {_MAX_PASSES} bisection passes "
                       f"(estimated error {float(np.max(err)):.3g}); please report the masses and cut-off")


@lru_cache(maxsize=4096)
def _loop_integral_cached(m_f: float, m_a: float, m_gd: float, cutoff: float) -> float:
    L2 = cutoff * cutoff
    val, _err = _integrate(m_f * m_f / L2, m_a * m_a / L2, m_gd * m_gd / L2)
    return float(val[0])


def loop_integral(m_f: float, m_a: float, m_gd: float, cutoff: float) -> float:
    """Dimensionless loop function I(m_f, m_a, m_γD; Λ) of docs/physics.md#edm-loop (**derived** there; it
    stands in for the loop function of Gninenko et al., arXiv:2602.11405, Eqs. (24)–(25), which is not
    reproduced here).

    ``I = 2 ∫_0^1 dx ∫_0^{1−x} dy ln(Λ²/Δ)``, ``Δ = x² m_f² + y m_a² + (1−x−y) m_γD²`` with all masses and the
    cut-off ``cutoff`` = Λ in GeV. The y integral is done in closed form, the x integral by graded composite
    Gauss–Legendre with error control (estimated relative accuracy ≤ 1e-12; module docstring). Requires
    masses ≥ 0 (not all zero) and Λ > max(m_f, m_a, m_γD) (EFT validity; then Δ < Λ² everywhere and I > 0).
    """
    m_f, m_a, m_gd, cutoff = _validate_loop_inputs(m_f, m_a, m_gd, cutoff)
    return _loop_integral_cached(m_f, m_a, m_gd, cutoff)


def loop_integral_massless_fermion(m_a: float, m_gd: float, cutoff: float) -> float:
    """Closed form of I for m_f = 0 (**derived** from docs/physics.md#edm-loop; see the module docstring):

    ``I = ln Λ² + 3/2 − (A ln A − C ln C)/(A − C)`` with A = m_a², C = m_γD² [GeV²]; for A → C the last term
    is ln C + 1, for A = 0 it is ln C. A good approximation for m_f ≪ m_a, m_γD (leptons).
    """
    _, m_a, m_gd, cutoff = _validate_loop_inputs(0.0, m_a, m_gd, cutoff)
    lo, hi = sorted((m_a * m_a, m_gd * m_gd))
    # (A ln A − C ln C)/(A − C) = ln hi − r ln r/(1 − r), r = lo/hi (same stable term as the integrand)
    r = lo / hi
    q = math.log(hi) - _r_log_r_term((hi - lo) / hi, r)
    return 2.0 * math.log(cutoff) + 1.5 - q


# ------------------------------------------------------------------------------------ EDM and bounds


def edm_gev_inv(coupling_product: float, m_f: float, m_a: float, m_gd: float, cutoff: float) -> float:
    """d_f [GeV⁻¹] = (g_aγγD g̃_af g_γDf / 16π²) · I (docs/physics.md#edm-loop); ``coupling_product`` in GeV⁻¹."""
    g = errors.finite("coupling_product", coupling_product)
    return g * loop_integral(m_f, m_a, m_gd, cutoff) / LOOP_FACTOR


def edm_ecm(fermion: str | Fermion, coupling_product: float, m_a: float, m_gd: float,
            cutoff: float) -> float:
    """d_f [e·cm] for the fermion ``fermion`` (e, mu, n) and a coupling product [GeV⁻¹]
    (docs/physics.md#edm-loop)."""
    f = get_fermion(fermion)
    return edm_inv_gev_to_ecm(edm_gev_inv(coupling_product, f.mass_gev, m_a, m_gd, cutoff))


def scenario_m_a(scenario: str, m_gd: float, m_a: float | None = None) -> float:
    """The ALP mass [GeV] of a scenario: "light-alp" → m_a (default 1e-6 GeV, must be < m_γD);
    "degenerate" → m_γD (an explicit m_a must equal it); "general" → m_a (default 1e-6 GeV, any ≥ 0)."""
    scenario = errors.one_of("scenario", scenario, SCENARIOS)
    m_gd = limits.check("m_gd", m_gd)
    if scenario == "degenerate":
        if m_a is not None and limits.check("m_a", m_a) != m_gd:
            raise errors.InputError("m_a", "omitted or equal to m_gd in scenario 'degenerate'", m_a)
        return m_gd
    m_a = DEFAULT_M_A_LIGHT_GEV if m_a is None else limits.check("m_a", m_a)
    if scenario == "light-alp" and not m_a < m_gd:
        raise errors.InputError("m_a", f"< m_gd = {m_gd:g} GeV in scenario 'light-alp'", m_a)
    return m_a


def coupling_bound(fermion: str | Fermion, m_gd: float, cutoff: float, m_a: float | None = None,
                   scenario: str = "general", edm_limit_ecm: float | None = None) -> dict:
    """Upper bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] from the EDM limit of ``fermion``
    (docs/physics.md#edm-bound):

    ``|g g̃ g| < 16π² d_lim[GeV⁻¹] / I(m_f, m_a, m_γD; Λ)``.

    Masses and ``cutoff`` (Λ) in GeV; ``scenario`` fixes m_a (see :func:`scenario_m_a`); ``edm_limit_ecm``
    overrides the experimental limit [e·cm]. Returns a dict with the bound, I, the limit and its source.
    """
    f = get_fermion(fermion)
    m_a = scenario_m_a(scenario, m_gd, m_a)
    lim = get_edm_limit(f, edm_limit_ecm)
    I = loop_integral(f.mass_gev, m_a, m_gd, cutoff)
    return {
        "bound_GeV-1": LOOP_FACTOR * lim.value_gev_inv / I,
        "loop_integral": I,
        "edm_limit_ecm": lim.value_ecm,
        "edm_limit_GeV-1": lim.value_gev_inv,
        "cl": lim.cl,
        "experiment": lim.experiment,
        "citation": lim.citation,
        "fermion": f.key,
        "m_f_GeV": f.mass_gev,
        "m_a_GeV": m_a,
        "m_gd_GeV": float(m_gd),
        "cutoff_GeV": float(cutoff),
        "scenario": scenario,
    }


def edm_table(cutoffs=DEFAULT_CUTOFFS_GEV, m_gd_ref: float = DEFAULT_M_GD_REF_GEV,
              m_a_light: float = DEFAULT_M_A_LIGHT_GEV, fermions=("e", "mu", "n"),
              scenarios=("light-alp", "degenerate"), edm_limits: dict | None = None) -> list[dict]:
    """[Gninenko2026, Table 2] (docs/physics.md#edm-scenarios): bounds on |g_aγγD g̃_af g_γDf| [GeV⁻¹] for
    each fermion, scenario and cut-off Λ [GeV] at the reference dark-photon mass ``m_gd_ref`` [GeV]
    (m_a = ``m_a_light`` in "light-alp", m_a = m_γD in "degenerate"). ``edm_limits`` maps fermion →
    overriding limit [e·cm]. One dict per row."""
    cutoffs = list(cutoffs) if np.ndim(cutoffs) else [cutoffs]
    if not cutoffs or len(cutoffs) > limits.MAX_LIST_LENGTH:
        raise errors.InputError("cutoffs", f"1 to {limits.MAX_LIST_LENGTH} cut-offs > 0 GeV", len(cutoffs))
    edm_limits = {get_fermion(k).key: v for k, v in (edm_limits or {}).items()}
    rows = []
    for fer in fermions:
        f = get_fermion(fer)
        for sc in scenarios:
            for lam in cutoffs:
                b = coupling_bound(f, m_gd_ref, lam, m_a=None if sc == "degenerate" else m_a_light,
                                   scenario=sc, edm_limit_ecm=edm_limits.get(f.key))
                rows.append({"fermion": f.key, "scenario": sc, "cutoff_GeV": b["cutoff_GeV"],
                             "m_a_GeV": b["m_a_GeV"], "m_gd_GeV": b["m_gd_GeV"],
                             "bound_GeV-1": b["bound_GeV-1"], "loop_integral": b["loop_integral"],
                             "edm_limit_ecm": b["edm_limit_ecm"], "cl": b["cl"],
                             "citation": b["citation"]})
    return rows


# ------------------------------------------------------------------------------- vectorised curve


@lru_cache(maxsize=256)
def _curve_k(m_f: float, m_a_key: tuple, m_gd_key: tuple) -> np.ndarray:
    """k = 2∫∫ ln(s²/Δ) with s = max(m_f, m_a, m_γD) per point, vectorised (:func:`_integrate`, all points on
    one mesh); I = ln(Λ²/s²) + k.

    Λ-independent, hence cached: changing Λ in the dashboard costs nothing. Uses the exact identity
    2∫∫ ln(Λ²/Δ) = ln(Λ²/s²)·(2∫∫1) + 2∫∫ ln(s²/Δ) with 2∫∫1 = 1.
    """
    m_a = np.asarray(m_a_key, dtype=float)
    m_gd = np.asarray(m_gd_key, dtype=float)
    s2 = np.maximum(np.maximum(m_a, m_gd), m_f) ** 2
    uf = m_f * m_f / s2
    ua = m_a * m_a / s2
    ug = m_gd * m_gd / s2
    val, _err = _integrate(uf, ua, ug)
    return np.asarray(val, dtype=float)


def edm_bound_curve(fermion: str | Fermion, cutoff_gev: float, scenario: str = "light-alp",
                    m_gd_grid=None, m_a: float | None = None,
                    edm_limit_ecm: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """[Gninenko2026, Fig. 6] (docs/physics.md#edm-scenarios): bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] versus
    m_γD [GeV] at cut-off Λ = ``cutoff_gev``.

    ``m_gd_grid`` defaults to ``np.geomspace(1e-3, 10, 100)`` GeV. ``scenario`` "light-alp" (m_a fixed,
    default 1e-6 GeV), "degenerate" (m_a = m_γD) or "general". Returns ``(m_gd_grid, bound)``; the bound is
    NaN where the point is outside the model's validity (Λ ≤ max(m_f, m_a, m_γD), or m_a ≥ m_γD in
    "light-alp"). Same formula as :func:`coupling_bound`, evaluated for all masses at once (:func:`_integrate`).
    """
    f = get_fermion(fermion)
    scenario = errors.one_of("scenario", scenario, SCENARIOS)
    cutoff = limits.check("cutoff", cutoff_gev)
    lim = get_edm_limit(f, edm_limit_ecm)
    if m_gd_grid is None:
        grid = np.geomspace(1e-3, 10.0, 100)
    else:
        if np.ndim(m_gd_grid) != 1:
            raise errors.InputError("m_gd_grid", "a non-empty 1-D array of masses > 0 GeV", m_gd_grid)
        grid = limits.check_many("m_gd", m_gd_grid, "m_gd_grid")
    if scenario == "degenerate":
        if m_a is not None:
            raise errors.InputError("m_a", "omitted in scenario 'degenerate' (m_a = m_gd)", m_a)
        m_a_arr = grid.copy()
    else:
        m_a_val = DEFAULT_M_A_LIGHT_GEV if m_a is None else limits.check("m_a", m_a)
        m_a_arr = np.full_like(grid, m_a_val)
    valid = cutoff > np.maximum(np.maximum(grid, m_a_arr), f.mass_gev)
    if scenario == "light-alp":
        valid &= m_a_arr < grid
    bound = np.full_like(grid, np.nan)
    if np.any(valid):
        k = _curve_k(f.mass_gev, tuple(m_a_arr[valid]), tuple(grid[valid]))
        s = np.maximum(np.maximum(m_a_arr[valid], grid[valid]), f.mass_gev)
        I = 2.0 * np.log(cutoff / s) + k
        bound[valid] = LOOP_FACTOR * lim.value_gev_inv / I
    return grid, bound
