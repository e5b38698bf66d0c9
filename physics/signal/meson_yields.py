"""Vector-meson yields N_V at an electron fixed-target experiment (docs/physics.md#meson-production;
Gninenko et al., arXiv:2602.11405, Sec. III.2, Eqs. (10)–(12)).

Model (Schuster, Toro & Zhou, PRD 105 (2022) 035036, arXiv:2112.02104, "STZ"):

    N_V = EOT · ∫_{x_min E0}^{x_max E0} dk  dN_γ/dk(k) · P_V(k)                                   (1)

i.e. EOT · f_brem · ⟨P_V⟩ with f_brem = ∫ dk dN_γ/dk the number of hard bremsstrahlung photons per electron
in the missing-energy window (the meson carries the photon's energy, so E_miss = k) and ⟨P_V⟩ the
spectrum-averaged probability that such a photon photoproduces V exclusively before it converts:

    P_V(k) = (9/7) X0 (N_A / A) σ(γA → V A)(k),   σ(γA → VA) = σ(γN → VN)(k) · f(A, k)            (2)

(9/7 X0 = photon mean free path for pair conversion, complete screening; X0 in g/cm²;
docs/physics.md#meson-production). The missing-energy cut enters only through the photon-energy window of
(1): raising x_min removes the softer photons and N_V falls; nothing else in the model depends on x. (The
brem channel applies the same cut to its own spectrum, ``physics.signal.yields``.)
Every ingredient below is a field of :class:`MesonModel` and can be changed; an experiment's
``meson_yields`` dict overrides N_V per meson.

Photon spectrum (``photon_spectrum_dn_dy``). Complete-screening bremsstrahlung per radiation length
(Tsai, RMP 46 (1974) 815; PDG "Passage of particles through matter", thin-target photon spectrum):
``dN/dk dt = (1/k) φ(k/E)``, ``φ(z) = 4/3 − 4/3 z + z²``, for an electron of energy E. *Thick-target choice*:
the primary electron's energy degradation is included with the Bethe–Heitler distribution of its energy
fraction u = E/E0 after t radiation lengths, ``v = ln(1/u) ~ Gamma(shape = b t, scale 1)``, b = 4/3
(Bethe & Heitler, Proc. R. Soc. A 146 (1934) 83; Tsai 1974, the electron distribution I_e(E0, E, t)), and
photons are counted along depth 0 ≤ t ≤ T (``radiator_x0``, default the experiment's L_T):

    dN_γ/dy = ∫_0^T dt  E_v[ φ(y e^v) / y · θ(y e^v < 1) ],   y = k/E0.

Secondary electrons/positrons are neglected (their hard photons with y ≳ 0.5 are a second-order effect);
photon absorption is *not* applied here because P_V in (2) is already the full-absorption probability.
Thin limit T → 0: dN/dy → T φ(y)/y (tested). For y > 0.5 and T = 1 this gives f_brem = 0.31 (thin formula:
0.63; even T → ∞ gives only 0.36: the primary usually loses energy in softer steps first).

Photoproduction on a nucleon (``PhotoproductionXS``): σ_N(E_γ) = σ0 (W/W0)^δ (1 − E_th/E_γ)^ν with
W² = m_N² + 2 m_N E_γ and E_th = M_V + M_V²/(2 m_N) the threshold on a nucleon (8.21 GeV for J/ψ, 57.2 GeV
for Υ): the factor (1 − E_th/E_γ)^ν = (1 − x)^ν with x = (2 m_N M_V + M_V²)/(W² − m_N²) is the near-threshold
form of Brodsky, Chudakov, Hoyer & Laget, PLB 498 (2001) 23 (ν = 2: two-gluon exchange). Defaults and their
measurements are in :data:`DEFAULT_PHOTOPRODUCTION`.

Nuclear factor f(A, k) (``NuclearModel``; optical Glauber model of a hard-sphere nucleus, R = r0 A^{1/3},
ρ0 = 3A/4πR³, thickness T_A(b) = 2ρ0 sqrt(R² − b²); Bauer, Spital, Yennie & Pipkin, RMP 50 (1978) 261, Sec. V):

- ``"coherent"`` (default; nucleus stays intact — the clean missing-energy signature):
  σ_coh = (dσ/dt)_N(0) · A_eff² · ∫_{t_min}^∞ |F_A(t)|² dt,  (dσ/dt)_N(0) = b_V σ_N (nucleon t-slope b_V),
  A_eff = ∫ d²b (2/σ_VN)(1 − e^{−σ_VN T_A(b)/2}) (shadowing of the forward amplitude, real part neglected),
  |F_A(t)|² = exp(−⟨r²⟩ t/3) with the sphere's ⟨r²⟩ = 3R²/5 (Gaussian approximation; ∫|F|²dt is 10% above
  the exact hard-sphere value 4.5/R² at t_min = 0), t_min = (M_V²/2k)² — so ∫ = (3/⟨r²⟩) e^{−⟨r²⟩ t_min/3}.
  Without shadowing this scales like A^{4/3}; with it, the Al→Pb effective power at high E_γ is 1.00 for ρ
  (σ_ρN = 25 mb), 1.18 for φ, 1.27 for J/ψ (strong absorption turns the ρ nucleus nearly black).
- ``"incoherent"``: σ_inc = σ_N · ∫ d²b (1 − e^{−σ_VN T_A(b)})/σ_VN (absorption of the outgoing meson; Pauli
  blocking neglected; the nucleus breaks up — visible debris is not vetoed in this model).
- ``"coherent+incoherent"``: the sum.
- ``"power"``: f(A) = shadowing · A^power (docs/physics.md#nuclear-factor shorthand, e.g. power = 4/3 or 1).

The t_min factor makes coherent J/ψ at NA64 (k = 50–100 GeV on Pb) a 0.02–0.4 effect and coherent Υ
negligible; the per-nucleon threshold closes J/ψ below E_γ = 8.21 GeV (LDMX at 8 GeV).

Where the photon photoproduces (``absorber``): NA64's target *is* its Pb ECAL, which absorbs the photon; for
thin-target setups the photon leaves the target and is absorbed in the ECAL. :data:`DEFAULT_ABSORBER` holds
that choice for the built-in LDMX (Si–W ECAL, Åkesson et al., arXiv:1808.05219); any other experiment
defaults to its own target material. Both are shown in the result.

Muon beams (``Experiment.lepton == "mu"``; docs/physics.md#muon-mesons): this model is *not* used. Its photon
source is the electron's real bremsstrahlung, which for a muon is suppressed by ~(m_e/m_μ)² (≈ 7.5e-4 photons
with k > E0/2 per muon in 40 X0 of Pb, vs 0.36 for an electron), while the muon's own virtual-photon flux
(electroproduction μA → μVA) would need a model the package does not have, and the missing-energy logic
differs (the scattered muon, not a shower, carries E0 − E_V). The meson channels of a muon experiment are
therefore off: computed N_V = 0 with the reason in the report (``muon_beam``); a user's ``meson_yields``
override is still honoured.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from physics import errors, limits
from physics.model.constants import (AVOGADRO_PER_MOL, FM_IN_CM, HBARC_GEV_CM, M_NEUTRON_GEV, M_PROTON_GEV, MB_IN_CM2,
                        NB_IN_CM2)
from physics.signal.experiments import Experiment, get_experiment
from physics.model.mesons import MESONS
from physics.model.materials import Material, get_material

#: Nucleon mass used in W² = m_N² + 2 m_N E_γ [GeV] (isospin average of p and n, PDG).
M_NUCLEON_GEV: float = 0.5 * (M_PROTON_GEV + M_NEUTRON_GEV)
#: Complete-screening constant b = 4/3 of the Bethe–Heitler electron energy-loss distribution (Tsai 1974).
B_BREM: float = 4.0 / 3.0
#: 1 fm in GeV^-1 (1 fm / ħc).
FM_IN_INV_GEV: float = FM_IN_CM / HBARC_GEV_CM
#: 1 mb in fm² (= 0.1).
MB_IN_FM2: float = MB_IN_CM2 / FM_IN_CM ** 2

MESON_KEYS: tuple[str, ...] = tuple(MESONS)  # rho, omega, phi, jpsi, upsilon
NUCLEAR_MODES = ("coherent", "incoherent", "coherent+incoherent", "power")


@dataclass(frozen=True)
class PhotoproductionXS:
    """Exclusive photoproduction on a nucleon, σ(γN → VN)(E_γ) = σ0 (W/W0)^δ (1 − E_th/E_γ)^ν.

    sigma0_nb [nb] at W0_gev [GeV]; delta: power of W; threshold_power ν; slope_b_gev2: t-slope of dσ/dt on
    the nucleon [GeV⁻²] (coherent model); sigma_vn_mb: V–nucleon total cross section [mb] (Glauber
    shadowing/absorption); source: the measurements these numbers come from.
    """

    sigma0_nb: float
    W0_gev: float
    delta: float
    threshold_power: float
    slope_b_gev2: float
    sigma_vn_mb: float
    source: str = ""

    def __post_init__(self):
        errors.non_negative("sigma0_nb", self.sigma0_nb, "nb")
        errors.positive("W0_gev", self.W0_gev, "GeV")
        errors.finite("delta", self.delta)
        errors.non_negative("threshold_power", self.threshold_power)
        errors.positive("slope_b_gev2", self.slope_b_gev2, "GeV^-2")
        errors.non_negative("sigma_vn_mb", self.sigma_vn_mb, "mb")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


#: Default nucleon photoproduction inputs (each with the measurement it is taken from).
DEFAULT_PHOTOPRODUCTION: dict[str, PhotoproductionXS] = {
    "rho": PhotoproductionXS(
        10.0e3, 10.0, 0.0, 0.0, 10.0, 25.0,
        "σ(γp→ρ⁰p) ≈ 10 μb, nearly flat for E_γ = 20–180 GeV: Egloff et al., PRL 43 (1979) 657 (30–180 GeV); "
        "OMEGA Photon Coll. (Aston et al.), NPB 209 (1982) 56 (20–70 GeV); slope b ≈ 10 GeV⁻² (ZEUS, EPJC 2 "
        "(1998) 247); σ_ρN ≈ 25 mb (Bauer et al., RMP 50 (1978) 261). Lower-energy data lie higher (≈ 15 μb "
        "near 9 GeV): flat is conservative at LDMX's 5.6–8 GeV"),
    "omega": PhotoproductionXS(
        1.0e3, 10.0, 0.0, 0.0, 10.0, 25.0,
        "σ(γp→ωp) ≈ 1 μb at E_γ = 20–70 GeV: OMEGA Photon Coll. (Aston et al.), NPB 209 (1982) 56; Fermilab "
        "E401 (Busenitz et al.), PRD 40 (1989) 1 (60–300 GeV); b and σ_ωN taken equal to ρ's (quark counting)"),
    "phi": PhotoproductionXS(
        0.5e3, 10.0, 0.0, 0.0, 7.0, 10.0,
        "σ(γp→φp) ≈ 0.5 μb at E_γ = 30–180 GeV: Egloff et al., PRL 43 (1979) 657; E401 (Busenitz et al.), "
        "PRD 40 (1989) 1; b ≈ 7 GeV⁻² (ZEUS, PLB 377 (1996) 259); σ_φN ≈ 10 mb (Bauer et al. 1978)"),
    "jpsi": PhotoproductionXS(
        81.0, 90.0, 0.67, 2.0, 4.5, 3.5,
        "H1 fit σ(γp→J/ψp) = 81 nb (W/90 GeV)^0.67 (H1, EPJC 73 (2013) 2466, arXiv:1304.5162; docs/physics.md#meson-defaults "
        "rounds it to 80 nb, 0.7); near threshold (1 − E_th/E_γ)^2, the two-gluon form of Brodsky et al., PLB 498 (2001) "
        "23 (GlueX, PRL 123 (2019) 072001, measures ≈ 1 nb at 11 GeV; this gives 0.7 nb); b ≈ 4.5 GeV⁻² "
        "(H1 2013); σ_ψN ≈ 3.5 mb (SLAC, Anderson et al., PRL 38 (1977) 263)"),
    "upsilon": PhotoproductionXS(
        0.4, 120.0, 1.1, 2.0, 4.3, 1.0,
        "σ(γp→Υ(1S)p) ≈ 0.4 nb at W ≈ 120 GeV (ZEUS, PLB 680 (2009) 4, arXiv:0903.4205; H1, PLB 483 (2000) 23, "
        "hep-ex/0003020) — uncertain by ×2; W^1.1 (CMS, EPJC 79 (2019) 277: δ ≈ 1 ± 0.4); threshold "
        "factor as for J/ψ; b = 4.3 GeV⁻² (ZEUS, PLB 708 (2012) 14); σ_ΥN ≈ 1 mb (assumption: σ_ψN scaled "
        "by the smaller dipole size)"),
}


@dataclass(frozen=True)
class NuclearModel:
    """Nuclear factor f(A, E_γ) = σ(γA → V A)/σ(γN → V N) (module docstring).

    mode: coherent | incoherent | coherent+incoherent | power; r0_fm: R = r0 A^{1/3} [fm] (hard sphere);
    power, shadowing: f = shadowing · A^power in mode "power".
    """

    mode: str = "coherent"
    r0_fm: float = 1.2
    power: float = 4.0 / 3.0
    shadowing: float = 1.0

    def __post_init__(self):
        errors.one_of("nuclear_mode", self.mode, NUCLEAR_MODES)
        errors.positive("r0_fm", self.r0_fm, "fm")
        errors.finite("power", self.power)
        errors.non_negative("shadowing", self.shadowing)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


#: Built-in experiments whose photon is absorbed outside the target (see module docstring).
DEFAULT_ABSORBER: dict[str, str] = {"ldmx-phase2": "W"}


@dataclass(frozen=True)
class MesonModel:
    """All inputs of N_V = EOT ∫ dk dN_γ/dk P_V(k) (module docstring).

    photoproduction: per-meson :class:`PhotoproductionXS` (missing keys fall back to the defaults);
    nuclear: :class:`NuclearModel`; radiator_x0: depth T [X0] over which hard photons are counted (None → the
    experiment's thickness_x0, i.e. L_T); absorber: material in which the photon photoproduces (None → the
    DEFAULT_ABSORBER entry for a built-in experiment, else the experiment's target); mesons: which to
    compute; n_y, n_t, n_v: quadrature nodes (photon energy, depth, electron energy loss).
    """

    photoproduction: dict = field(default_factory=lambda: dict(DEFAULT_PHOTOPRODUCTION))
    nuclear: NuclearModel = field(default_factory=NuclearModel)
    radiator_x0: float | None = None
    absorber: str | None = None
    mesons: tuple = MESON_KEYS
    n_y: int = 64
    n_t: int = 24
    n_v: int = 48

    def __post_init__(self):
        pp = dict(DEFAULT_PHOTOPRODUCTION)
        for k, v in dict(self.photoproduction).items():
            if k not in MESONS:
                raise errors.InputError("photoproduction meson", "one of " + ", ".join(MESONS), k)
            if isinstance(v, dict):
                v = PhotoproductionXS(**{**DEFAULT_PHOTOPRODUCTION[k].to_dict(), **v})
            if not isinstance(v, PhotoproductionXS):
                raise errors.InputError(f"photoproduction.{k}", "a PhotoproductionXS or dict", v)
            pp[k] = v
        object.__setattr__(self, "photoproduction", pp)
        if isinstance(self.nuclear, dict):
            object.__setattr__(self, "nuclear", NuclearModel(**self.nuclear))
        if self.radiator_x0 is not None:
            limits.check("thickness_x0", self.radiator_x0, "radiator_x0")
        if self.absorber is not None:
            if not isinstance(self.absorber, (str, Material)):
                raise errors.InputError("absorber", "a material name", self.absorber, "not text")
            get_material(self.absorber)
        for m in self.mesons:
            if m not in MESONS:
                raise errors.InputError("mesons", "a subset of " + ", ".join(MESONS), m)
        for name in ("n_y", "n_t", "n_v"):
            errors.in_range(name, getattr(self, name), 4, 400)

    def replace(self, **changes) -> "MesonModel":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {"photoproduction": {k: v.to_dict() for k, v in self.photoproduction.items()},
                "nuclear": self.nuclear.to_dict(), "radiator_x0": self.radiator_x0, "absorber": self.absorber,
                "mesons": list(self.mesons), "quadrature": {"n_y": self.n_y, "n_t": self.n_t, "n_v": self.n_v}}


# -- photon spectrum --------------------------------------------------------------------------------

def phi_complete_screening(z):
    """φ(z) = 4/3 − 4/3 z + z² (k dσ/dk in units of A/(X0 N_A); complete screening, Tsai 1974), 0 outside 0 < z ≤ 1."""
    z = np.asarray(z, dtype=float)
    return np.where((z > 0) & (z <= 1.0), 4.0 / 3.0 - 4.0 / 3.0 * z + z * z, 0.0)


def photon_spectrum_dn_dy(y, thickness_x0: float, n_t: int = 24, n_v: int = 48) -> np.ndarray:
    """Hard-photon spectrum dN_γ/dy per electron (y = k/E0), counted over depth [0, T] radiation lengths.

    dN/dy = ∫_0^T dt E_v[φ(y e^v)/y; v < ln(1/y)], v = ln(E0/E) ~ Gamma(b t) (Bethe–Heitler, b = 4/3).
    The expectation is integrated by parts, E[g(v); v < V] = g(V) F(V) − ∫_0^V g'(v) F(v) dv with F the
    regularised incomplete gamma function (smooth in ln v), then Gauss–Legendre in t. Vectorised in y.
    """
    T = errors.positive("radiator_x0", thickness_x0, "X0")
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if np.any((y <= 0) | (y >= 1)):
        raise errors.InputError("y", "in (0, 1)", y.tolist())
    xt, wt = np.polynomial.legendre.leggauss(n_t)
    xv, wv = np.polynomial.legendre.leggauss(n_v)
    t = 0.5 * T * (xt + 1.0)                       # (n_t,)
    wt = 0.5 * T * wt
    a = B_BREM * t                                 # Gamma shape
    vmax = np.log(1.0 / y)                         # (n_y,)
    # ln v from ln(vmax) − 30 to ln(vmax): F(v) ~ v^a, the part below contributes < e^{-30} vmax |g'|
    lo = np.log(vmax) - 30.0
    hi = np.log(vmax)
    lv = 0.5 * (hi - lo)[:, None] * xv[None, :] + 0.5 * (hi + lo)[:, None]   # (n_y, n_v)
    wlv = 0.5 * (hi - lo)[:, None] * wv[None, :]
    v = np.exp(lv)
    z = y[:, None] * np.exp(v)                     # photon energy / electron energy, in (y, 1]
    gprime = (-4.0 / 3.0 + 2.0 * z) * z / y[:, None]  # d/dv [φ(y e^v)/y]
    F = special.gammainc(a[:, None, None], v[None, :, :])          # (n_t, n_y, n_v)
    FV = special.gammainc(a[:, None], vmax[None, :])               # (n_t, n_y)
    gV = 1.0 / y                                                   # φ(1) = 1
    inner = gV[None, :] * FV - np.sum(wlv[None] * v[None] * gprime[None] * F, axis=2)
    return np.sum(wt[:, None] * inner, axis=0)


def photon_count(y_min: float, y_max: float, thickness_x0: float, n_y: int = 64, n_t: int = 24,
                 n_v: int = 48) -> float:
    """f_brem = ∫_{y_min}^{y_max} dy dN_γ/dy: hard photons per electron in the window (see above)."""
    ys, ws = _y_nodes(y_min, y_max, n_y)
    return float(np.sum(ws * photon_spectrum_dn_dy(ys, thickness_x0, n_t, n_v)))


def _y_nodes(y_min: float, y_max: float, n: int):
    """Gauss–Legendre nodes in ln y on [y_min, y_max] (the spectrum ~ 1/y), weights for ∫ dy."""
    x, w = np.polynomial.legendre.leggauss(n)
    a, b = math.log(y_min), math.log(min(y_max, 1.0 - 1e-12))
    ly = 0.5 * (b - a) * x + 0.5 * (b + a)
    ys = np.exp(ly)
    return ys, 0.5 * (b - a) * w * ys


# -- photoproduction --------------------------------------------------------------------------------

def threshold_energy_gev(meson: str) -> float:
    """E_th = M_V + M_V²/(2 m_N) [GeV]: photon energy threshold of γN → VN on a nucleon at rest."""
    M = MESONS[meson].mass_gev
    return M + M * M / (2.0 * M_NUCLEON_GEV)


def sigma_gamma_n_nb(meson: str, e_gamma_gev, xs: PhotoproductionXS | None = None) -> np.ndarray:
    """σ(γN → VN) [nb] = σ0 (W/W0)^δ (1 − E_th/E_γ)^ν, zero below E_th (vectorised in E_γ [GeV])."""
    xs = xs or DEFAULT_PHOTOPRODUCTION[meson]
    e = np.asarray(e_gamma_gev, dtype=float)
    e_th = threshold_energy_gev(meson)
    W = np.sqrt(M_NUCLEON_GEV ** 2 + 2.0 * M_NUCLEON_GEV * e)
    above = e > e_th
    with np.errstate(divide="ignore", invalid="ignore"):
        thr = np.where(above, np.clip(1.0 - e_th / e, 0.0, None) ** xs.threshold_power, 0.0)
        val = xs.sigma0_nb * (W / xs.W0_gev) ** xs.delta * thr
    return np.where(above, val, 0.0)


def _sphere(A: float, r0_fm: float):
    R = r0_fm * A ** (1.0 / 3.0)                   # fm
    rho0 = 3.0 * A / (4.0 * math.pi * R ** 3)     # fm^-3
    return R, rho0


_S_X, _S_W = np.polynomial.legendre.leggauss(96)


def a_eff(A: float, sigma_vn_mb: float, r0_fm: float = 1.2, kind: str = "coherent") -> float:
    """Glauber effective nucleon number of a hard-sphere nucleus (Bauer et al., RMP 50 (1978) 261, Sec. V).

    coherent: ∫d²b (2/σ)(1 − e^{−σ T_A(b)/2});  incoherent: ∫d²b (1 − e^{−σ T_A(b)})/σ;  both → A as σ → 0.
    Computed with b = R sqrt(1 − s²), T_A = 2ρ0 R s, d²b = 2π R² s ds (Gauss–Legendre, 96 nodes).
    """
    R, rho0 = _sphere(A, r0_fm)
    s = 0.5 * (_S_X + 1.0)
    w = 0.5 * _S_W
    T = 2.0 * rho0 * R * s                         # fm^-2
    sig = sigma_vn_mb * MB_IN_FM2                  # fm^2
    if sig == 0.0:
        return float(A)
    if kind == "coherent":
        f = (2.0 / sig) * -np.expm1(-0.5 * sig * T)
    else:
        f = -np.expm1(-sig * T) / sig
    return float(np.sum(w * 2.0 * math.pi * R * R * s * f))


def nuclear_factor(meson: str, material: Material | str, e_gamma_gev, nuclear: NuclearModel | None = None,
                   xs: PhotoproductionXS | None = None) -> np.ndarray:
    """f(A, E_γ) = σ(γA → VA)/σ(γN → VN) (dimensionless; vectorised in E_γ [GeV]) — module docstring."""
    nuclear = nuclear or NuclearModel()
    xs = xs or DEFAULT_PHOTOPRODUCTION[meson]
    mat = get_material(material)
    A = float(mat.A)
    e = np.asarray(e_gamma_gev, dtype=float)
    if nuclear.mode == "power":
        return np.full_like(e, nuclear.shadowing * A ** nuclear.power)
    out = np.zeros_like(e)
    if nuclear.mode in ("coherent", "coherent+incoherent"):
        R, _ = _sphere(A, nuclear.r0_fm)
        r2 = 0.6 * (R * FM_IN_INV_GEV) ** 2        # ⟨r²⟩ [GeV^-2]
        M = MESONS[meson].mass_gev
        t_min = (M * M / (2.0 * e)) ** 2
        aeff = a_eff(A, xs.sigma_vn_mb, nuclear.r0_fm, "coherent")
        out = out + xs.slope_b_gev2 * aeff ** 2 * (3.0 / r2) * np.exp(-r2 * t_min / 3.0)
    if nuclear.mode in ("incoherent", "coherent+incoherent"):
        out = out + a_eff(A, xs.sigma_vn_mb, nuclear.r0_fm, "incoherent")
    return out


def conversion_probability(meson: str, material: Material | str, e_gamma_gev,
                           model: MesonModel | None = None) -> np.ndarray:
    """P_V(E_γ) = (9/7) X0 (N_A/A) σ(γN → VN) f(A, E_γ) (docs/physics.md#meson-production; STZ 2022), X0 in g/cm²."""
    model = model or MesonModel()
    mat = get_material(material)
    xs = model.photoproduction[meson]
    x0_g_cm2 = mat.X0_cm * mat.density_g_cm3
    atoms_per_cm2 = (9.0 / 7.0) * x0_g_cm2 * AVOGADRO_PER_MOL / mat.A
    sig_cm2 = sigma_gamma_n_nb(meson, e_gamma_gev, xs) * NB_IN_CM2
    return atoms_per_cm2 * sig_cm2 * nuclear_factor(meson, mat, e_gamma_gev, model.nuclear, xs)


# -- N_V --------------------------------------------------------------------------------------------

def _validate_overrides(exp: Experiment) -> dict:
    out = {}
    for k, v in dict(exp.meson_yields or {}).items():
        if k not in MESONS:
            raise errors.InputError("meson_yields", "keys among " + ", ".join(MESONS), k)
        out[k] = limits.check("meson_yield", v, f"meson_yields.{k}")
    return out


def absorber_for(exp: Experiment, model: MesonModel) -> tuple[str, str]:
    """(material name, why) of the photoproduction absorber."""
    if model.absorber is not None:
        return model.absorber, "user choice (MesonModel.absorber)"
    from physics.signal.experiments import BUILTIN_EXPERIMENTS

    builtin = BUILTIN_EXPERIMENTS.get(exp.id)
    if exp.id in DEFAULT_ABSORBER and builtin is not None and builtin.target == exp.target:
        return DEFAULT_ABSORBER[exp.id], ("thin target: hard photons leave it and are absorbed in the Si–W ECAL "
                                          "(LDMX, Åkesson et al., arXiv:1808.05219)")
    return exp.target, "the experiment's target (the photon is absorbed in it: active thick target)"


_CACHE: dict[str, dict] = {}


def meson_yields_report(experiment, meson_model: MesonModel | None = None) -> dict:
    """N_V per meson with every input: f_brem, ⟨P_V⟩, absorber, radiator depth, overrides, model.

    f_brem counts photons with max(x_min E0, lowest nucleon threshold) < k < x_max E0 (``f_brem_window`` [GeV]).
    Returns {"N_V": {meson: N_V}, "computed_N_V": {...}, "overridden": [...], "f_brem": ...,
    "P_V_mean": {...}, "radiator_x0": T, "absorber": ..., "absorber_reason": ..., "model": {...}, "formula": ...}.
    """
    exp = get_experiment(experiment)
    model = meson_model or MesonModel()
    if not isinstance(model, MesonModel):
        raise errors.InputError("meson_model", "a physics.signal.meson_yields.MesonModel", type(model).__name__)
    overrides = _validate_overrides(exp)
    if getattr(exp, "lepton", "e") != "e":
        return _lepton_beam_report(exp, model, overrides)
    T = float(model.radiator_x0 if model.radiator_x0 is not None else exp.thickness_x0)
    absorber, why = absorber_for(exp, model)
    key = json.dumps([model.to_dict(), T, absorber, get_material(absorber).to_dict(), exp.beam_energy_gev,
                      exp.x_min, exp.x_max, exp.eot], sort_keys=True, default=str)
    if key in _CACHE:
        base = _CACHE[key]
    else:
        E0 = float(exp.beam_energy_gev)
        # photons below the lowest nucleon threshold produce nothing (and y → 0 diverges): start there
        y_lo = max(float(exp.x_min), min(threshold_energy_gev(m) for m in MESONS) / E0)
        computed = {m: 0.0 for m in model.mesons}
        pmean = {m: 0.0 for m in model.mesons}
        f_brem = 0.0
        if y_lo < exp.x_max:
            ys, ws = _y_nodes(y_lo, exp.x_max, model.n_y)
            dndy = photon_spectrum_dn_dy(ys, T, model.n_t, model.n_v)
            f_brem = float(np.sum(ws * dndy))
            for m in model.mesons:
                pv = conversion_probability(m, absorber, ys * E0, model)
                per_e = float(np.sum(ws * dndy * pv))
                computed[m] = exp.eot * per_e
                pmean[m] = per_e / f_brem if f_brem > 0 else 0.0
        base = {"computed_N_V": computed, "f_brem": f_brem, "P_V_mean": pmean, "y_min": y_lo}
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = base
    n_v = {m: overrides.get(m, base["computed_N_V"][m]) for m in model.mesons}
    for m, v in overrides.items():
        n_v.setdefault(m, v)
    return {
        "N_V": n_v,
        "computed_N_V": dict(base["computed_N_V"]),
        "overridden": sorted(overrides),
        "f_brem": base["f_brem"],
        "f_brem_window": [base["y_min"] * exp.beam_energy_gev, exp.x_max * exp.beam_energy_gev],
        "P_V_mean": dict(base["P_V_mean"]),
        "radiator_x0": T,
        "absorber": absorber,
        "absorber_reason": why,
        "thresholds_nucleon_GeV": {m: threshold_energy_gev(m) for m in model.mesons},
        "model": model.to_dict(),
        "formula": "N_V = EOT * int_{x_min E0}^{x_max E0} dk dN_gamma/dk(k; T) * (9/7) X0 (N_A/A) "
                   "sigma(gamma N -> V N)(k) f(A,k)  (Schuster-Toro-Zhou arXiv:2112.02104; docs/physics.md#meson-production)",
    }


#: Why the meson channels are off for a muon beam (shown in the meson report and hence in reach results).
MUON_MESONS_OFF = (
    "meson channels off for a muon beam (N_V = 0 unless overridden in meson_yields): the electron model counts "
    "real bremsstrahlung photons, suppressed ~(m_e/m_mu)^2 for muons (7.5e-4 photons with k > E0/2 per muon in "
    "40 X0 Pb vs 0.36 per electron); the dominant muon source, exclusive electroproduction through the muon's "
    "virtual-photon flux, is not modelled (order-of-magnitude estimate: 0.2-0.4 x the electron yield per beam "
    "particle, i.e. <~1% of NA64e's N_V for NA64mu-2022); docs/physics.md#muon-mesons")


def _lepton_beam_report(exp: Experiment, model: MesonModel, overrides: dict) -> dict:
    """The meson report of a non-electron beam: no computed yields, overrides honoured, the reason stated."""
    computed = {m: 0.0 for m in model.mesons}
    n_v = {m: overrides.get(m, 0.0) for m in model.mesons}
    for m, v in overrides.items():
        n_v.setdefault(m, v)
    return {
        "N_V": n_v,
        "computed_N_V": computed,
        "overridden": sorted(overrides),
        "f_brem": 0.0,
        "f_brem_window": [exp.x_min * exp.beam_energy_gev, exp.x_max * exp.beam_energy_gev],
        "P_V_mean": {m: 0.0 for m in model.mesons},
        "radiator_x0": float(model.radiator_x0 if model.radiator_x0 is not None else exp.thickness_x0),
        "absorber": exp.target,
        "absorber_reason": "not used (muon beam)",
        "thresholds_nucleon_GeV": {m: threshold_energy_gev(m) for m in model.mesons},
        "model": model.to_dict(),
        "muon_beam": MUON_MESONS_OFF,
        "formula": "N_V = 0: no meson model for a muon beam (see muon_beam)",
    }


def meson_yields_nv(experiment, meson_model: MesonModel | None = None) -> dict:
    """N_V per meson (rho, omega, phi, jpsi, upsilon) for the experiment; its ``meson_yields`` override."""
    return meson_yields_report(experiment, meson_model)["N_V"]


__all__ = ["MesonModel", "NuclearModel", "PhotoproductionXS", "DEFAULT_PHOTOPRODUCTION", "DEFAULT_ABSORBER",
           "phi_complete_screening", "absorber_for", "MUON_MESONS_OFF",
           "photon_spectrum_dn_dy", "photon_count", "sigma_gamma_n_nb", "threshold_energy_gev", "a_eff",
           "nuclear_factor", "conversion_probability", "meson_yields_report", "meson_yields_nv"]
