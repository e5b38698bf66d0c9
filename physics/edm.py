"""Fermion electric dipole moments from the CP-odd dark axion portal (PHYSICS.md §7; seed Sec. VI, Table 2, Fig. 6).

Interactions (seed Eq. 22): the portal ``(g_aγγD/2) a F F̃_D``, a CP-odd ALP Yukawa ``g̃_af a f̄ f`` and a
dark-photon vector coupling ``g_γDf γD_μ f̄ γ^μ f``. The one-loop diagram with ``a`` and ``γD`` in the loop
and the external photon on the portal vertex gives, with a UV cut-off Λ (PHYSICS.md §7, **derived**):

    d_f = (g_aγγD g̃_af g_γDf / 16π²) · I ,
    I   = 2 ∫_0^1 dx ∫_0^{1−x} dy ln(Λ²/Δ),   Δ = x² m_f² + y m_a² + (1 − x − y) m_γD².

Units: masses and Λ in GeV, d_f in GeV⁻¹ (charge absorbed, see
:func:`physics.constants.edm_inv_gev_to_ecm`) or e·cm, the coupling product in GeV⁻¹.

Evaluation of I (all formulas below are elementary calculus on the PHYSICS.md §7 integrand):

* For fixed x, Δ is linear in y: Δ(y) = Δ0 + (Δ1 − Δ0) y/(1−x) with the end points
  Δ0 = x² m_f² + (1−x) m_γD² (y = 0) and Δ1 = x² m_f² + (1−x) m_a² (y = 1−x). The inner integral is
  therefore (1−x) times the mean of ln(Λ²/u) for u uniform between Δ0 and Δ1:

      ⟨ln(Λ²/u)⟩ = ln(Λ²/b) + 1 + r ln r / (1 − r),   b = max(Δ0, Δ1), r = min(Δ0, Δ1)/b ∈ [0, 1].

  The last term runs from 0 (r → 0) to −1 (r → 1, i.e. m_a = m_γD). Near r = 1 it is evaluated as
  (1−ε) log1p(−ε)/ε with ε = 1 − r = (1−x)|m_a² − m_γD²|/b formed without subtraction, so m_a ≈ m_γD
  is stable; r = 0 (m_a = m_f = 0) is the limit 0.
* The outer x integral is done adaptively (``scipy.integrate.quad``); the only singularities are
  integrable logarithms at the end points (e.g. m_a = m_f = 0 at x → 1).

Exact special cases (used in the tests; derived by substituting t = y + z, y = t u with z = 1−x−y):

* m_f = 0:  I = ln Λ² + 3/2 − (A ln A − C ln C)/(A − C),  A = m_a², C = m_γD²
  → ln(Λ²/m_γD²) + 3/2 for m_a = 0 and ln(Λ²/M²) + 1/2 for m_a = m_γD = M.
  (So PHYSICS.md's "≈ ln(Λ²/max) + 3/2" holds for m_a ≪ m_γD only; the degenerate scenario has +1/2.)
* ∂I/∂ln Λ = 2 because 2∫∫dx dy = 1: I(Λ2) − I(Λ1) = 2 ln(Λ2/Λ1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import numpy as np
from scipy import integrate

from . import errors, limits
from .constants import (M_ELECTRON_GEV, M_MUON_GEV, M_NEUTRON_GEV, edm_ecm_to_inv_gev,
                        edm_inv_gev_to_ecm)

#: 16π², the one-loop factor of PHYSICS.md §7.
LOOP_FACTOR: float = 16.0 * math.pi ** 2

#: Default ALP mass [GeV] of the "light-alp" scenario (m_a ≪ m_γD; seed Sec. III uses a tiny m_a).
DEFAULT_M_A_LIGHT_GEV: float = 1e-6
#: Default reference dark-photon mass [GeV] of Table 2 (user-changeable).
DEFAULT_M_GD_REF_GEV: float = 0.1
#: The two benchmark cut-offs of the seed paper's Table 2 / Fig. 6 [GeV] (1 and 10 TeV).
DEFAULT_CUTOFFS_GEV: tuple[float, ...] = (1000.0, 10000.0)

#: Scenarios: "light-alp" (m_a ≪ m_γD, requires m_a < m_γD), "degenerate" (m_a = m_γD),
#: "general" (any m_a ≥ 0).
SCENARIOS: tuple[str, ...] = ("light-alp", "degenerate", "general")

# Integration tolerances of the outer x integral. I is O(1–40); 1e-11 relative is far below any
# physics uncertainty and is met in ~100–400 integrand calls.
_EPSABS = 1e-12
_EPSREL = 1e-11
_LIMIT = 200


@dataclass(frozen=True)
class Fermion:
    """A fermion whose EDM is constrained: key (e, mu, n), display name, mass [GeV]."""

    key: str
    name: str
    mass_gev: float

    def to_dict(self) -> dict:
        return asdict(self)


#: Fermions of Table 2 (masses: PDG via physics.constants).
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


#: Experimental EDM limits (PHYSICS.md §7). Override per call with ``edm_limit_ecm=``.
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


def _outer_integrand(x: float, uf: float, ua: float, ug: float) -> float:
    """2(1−x) ⟨ln(Λ²/Δ)⟩_y with masses squared in units of Λ² (uf = m_f²/Λ², …); see module docstring."""
    w = 1.0 - x
    if w <= 0.0:
        return 0.0
    xf = x * x * uf
    d0 = xf + w * ug           # Δ/Λ² at y = 0
    d1 = xf + w * ua           # Δ/Λ² at y = 1 − x
    b = d0 if d0 >= d1 else d1
    if b <= 0.0:               # only at an integrable end point (all relevant masses vanish there)
        return 0.0
    eps = w * abs(ua - ug) / b  # = 1 − r, formed without cancellation
    r = (d1 if d0 >= d1 else d0) / b
    return 2.0 * w * (-math.log(b) + 1.0 + _r_log_r_term(eps, r))


def _breakpoints(uf: float, ua: float, ug: float) -> list[float]:
    """x where x² m_f² = (1−x) m² for m = m_a, m_γD: the integrand changes regime there (helps quad)."""
    pts = []
    if uf > 0.0:
        for u in (ua, ug):
            if u > 0.0:
                q = u / uf                                   # x² + q x − q = 0
                x = 2.0 / (1.0 + math.sqrt(1.0 + 4.0 / q))   # = (−q + sqrt(q² + 4q))/2, stable form
                if 1e-12 < x < 1.0 - 1e-12:
                    pts.append(x)
    return sorted(set(pts))


@lru_cache(maxsize=4096)
def _loop_integral_cached(m_f: float, m_a: float, m_gd: float, cutoff: float) -> float:
    L2 = cutoff * cutoff
    uf, ua, ug = m_f * m_f / L2, m_a * m_a / L2, m_gd * m_gd / L2
    pts = _breakpoints(uf, ua, ug)
    val, _err = integrate.quad(_outer_integrand, 0.0, 1.0, args=(uf, ua, ug), points=pts or None,
                               epsabs=_EPSABS, epsrel=_EPSREL, limit=_LIMIT)
    return float(val)


def loop_integral(m_f: float, m_a: float, m_gd: float, cutoff: float) -> float:
    """Dimensionless loop function I(m_f, m_a, m_γD; Λ) of PHYSICS.md §7 (**derived** there; it stands in for
    the seed paper's Eqs. 24–25, whose explicit form is not legible in our copy).

    ``I = 2 ∫_0^1 dx ∫_0^{1−x} dy ln(Λ²/Δ)``, ``Δ = x² m_f² + y m_a² + (1−x−y) m_γD²`` with all masses and the
    cut-off ``cutoff`` = Λ in GeV. The y integral is done in closed form, the x integral adaptively
    (``scipy.integrate.quad``, relative accuracy ~1e-11). Requires masses ≥ 0 (not all zero) and
    Λ > max(m_f, m_a, m_γD) (EFT validity; then Δ < Λ² everywhere and I > 0).
    """
    m_f, m_a, m_gd, cutoff = _validate_loop_inputs(m_f, m_a, m_gd, cutoff)
    return _loop_integral_cached(m_f, m_a, m_gd, cutoff)


def loop_integral_massless_fermion(m_a: float, m_gd: float, cutoff: float) -> float:
    """Closed form of I for m_f = 0 (**derived** from PHYSICS.md §7; see the module docstring):

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
    """d_f [GeV⁻¹] = (g_aγγD g̃_af g_γDf / 16π²) · I (PHYSICS.md §7); ``coupling_product`` in GeV⁻¹."""
    g = errors.finite("coupling_product", coupling_product)
    return g * loop_integral(m_f, m_a, m_gd, cutoff) / LOOP_FACTOR


def edm_ecm(fermion: str | Fermion, coupling_product: float, m_a: float, m_gd: float,
            cutoff: float) -> float:
    """d_f [e·cm] for the fermion ``fermion`` (e, mu, n) and a coupling product [GeV⁻¹] (PHYSICS.md §7)."""
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
    """Upper bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] from the EDM limit of ``fermion`` (PHYSICS.md §7):

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
    """Seed Table 2: bounds on |g_aγγD g̃_af g_γDf| [GeV⁻¹] for each fermion, scenario and cut-off Λ [GeV]
    at the reference dark-photon mass ``m_gd_ref`` [GeV] (m_a = ``m_a_light`` in "light-alp", m_a = m_γD in
    "degenerate"). ``edm_limits`` maps fermion → overriding limit [e·cm]. One dict per row."""
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


def _outer_integrand_vec(x: float, uf: float, ua: np.ndarray, ug: np.ndarray,
                         dua: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_outer_integrand` over arrays of (ua, ug) at one x (same formula), for uf > 0.

    ``dua`` = |ua − ug|. With uf > 0 and 0 < x < 1 (Gauss–Kronrod nodes never hit the end points) both
    Δ0 and Δ1 are > 0, so no guards for log(0) are needed; r ln r/(1 − r) uses the same two branches as
    :func:`_r_log_r_term` (ε clipped to ≥ 1e-300 gives exactly −1 at ε = 0, since log1p(−ε) = −ε there).
    """
    w = 1.0 - x
    xf = x * x * uf
    d0 = xf + w * ug
    d1 = xf + w * ua
    b = np.maximum(d0, d1)
    eps = (w * dua) / b
    e_near = np.clip(eps, 1e-300, 0.5)
    near = (1.0 - eps) * np.log1p(-e_near) / e_near
    r = np.minimum(d0, d1) / b
    far = r * np.log(r) / np.maximum(eps, 0.5)
    return (2.0 * w) * (1.0 - np.log(b) + np.where(eps < 0.5, near, far))


@lru_cache(maxsize=256)
def _curve_k(m_f: float, m_a_key: tuple, m_gd_key: tuple) -> np.ndarray:
    """k = 2∫∫ ln(s²/Δ) with s = max(m_f, m_a, m_γD) per point, vectorised (``quad_vec``); I = ln(Λ²/s²) + k.

    Λ-independent, hence cached: changing Λ in the dashboard costs nothing. Uses the exact identity
    2∫∫ ln(Λ²/Δ) = ln(Λ²/s²)·(2∫∫1) + 2∫∫ ln(s²/Δ) with 2∫∫1 = 1.
    """
    m_a = np.asarray(m_a_key, dtype=float)
    m_gd = np.asarray(m_gd_key, dtype=float)
    s2 = np.maximum(np.maximum(m_a, m_gd), m_f) ** 2
    uf = m_f * m_f / s2
    ua = m_a * m_a / s2
    ug = m_gd * m_gd / s2
    dua = np.abs(ua - ug)
    if not m_f > 0.0:  # all FERMIONS are massive; the vectorised integrand relies on it
        raise errors.InputError("m_f", "> 0 GeV for the vectorised curve", m_f)
    # quad_vec's GK21 adaptive scheme; the scalar breakpoints depend on the point, so none are passed.
    val, _err = integrate.quad_vec(lambda x: _outer_integrand_vec(x, uf, ua, ug, dua), 0.0, 1.0,
                                   epsabs=1e-11, epsrel=1e-11, norm="max", limit=2000)
    return np.asarray(val, dtype=float)


def edm_bound_curve(fermion: str | Fermion, cutoff_gev: float, scenario: str = "light-alp",
                    m_gd_grid=None, m_a: float | None = None,
                    edm_limit_ecm: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seed Fig. 6: bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] versus m_γD [GeV] at cut-off Λ = ``cutoff_gev``.

    ``m_gd_grid`` defaults to ``np.geomspace(1e-3, 10, 100)`` GeV. ``scenario`` "light-alp" (m_a fixed,
    default 1e-6 GeV), "degenerate" (m_a = m_γD) or "general". Returns ``(m_gd_grid, bound)``; the bound is
    NaN where the point is outside the model's validity (Λ ≤ max(m_f, m_a, m_γD), or m_a ≥ m_γD in
    "light-alp"). Same formula as :func:`coupling_bound`, evaluated for all masses at once (``quad_vec``).
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
