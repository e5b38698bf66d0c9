"""The dashboard's calls into ``physics/`` for view data — the one job of this module: physics calls.

Everything the view data needs from the physics layer (experiments, reach, yields, constraints, EDM, spectra)
goes through the functions here, so a change of a physics API is a change in this file (and, for σ_V table
jobs, :mod:`dashboard.tableservice`) only. No physics is done here — only calls and array plumbing.

The server-wide table jobs (executor, shared job services, fair-share caps, table memo) live in
:mod:`dashboard.tableservice`; this module keeps no job state.
"""

from __future__ import annotations

import functools
import math
import logging

import numpy as np

from physics import __version__ as _pkg_version
from physics.signal import constraints as _constraints
from physics import edm as _edm
from physics import errors
from physics.signal import experiments as _experiments
from physics.xsec import factorisation as _fact
from physics.signal import meson_yields as _meson_yields
from physics.signal import reach as _reach
from physics.xsec import sigma_v as _st
from physics.signal import statistics as _stats
from physics.model import materials as _targets
from physics.model import widths as _widths
from physics.signal import yields as _yields
from physics.version import PHYSICS_VERSION, SCHEMA_VERSION


log = logging.getLogger("dashboard.adapter")

InputError = errors.InputError
Experiment = _experiments.Experiment

#: Channel keys as physics.signal.reach returns them (brem, each meson), in display order.
MESON_KEYS = tuple(_yields.MESON_CHANNELS)
CHANNELS = ("brem",) + MESON_KEYS

TABLE_MIN_MASS_GEV = _st.M_TABLE_MIN_GEV
TABLE_CAP_GEV = _st.M_TABLE_CAP_GEV
M_NEUTRON_GEV = _edm.FERMIONS["n"].mass_gev
M_A_LIGHT_GEV = _edm.DEFAULT_M_A_LIGHT_GEV
FERMIONS = {k: f.name for k, f in _edm.FERMIONS.items()}
EDM_LIMITS = {k: v.to_dict() for k, v in _edm.EDM_LIMITS.items()}
EDM_SCENARIOS = ("light-alp", "degenerate")


# ------------------------------------------------------------------------------------ experiments etc.
def builtin_experiments() -> dict:
    """Experiment registry (id → physics.signal.experiments.Experiment), read-only. A broken ``$DAP_EXPERIMENTS``
    file (server configuration) is logged and the built-in experiments are served."""
    try:
        return dict(_experiments.all_experiments())
    except InputError as exc:
        log.warning("ignoring the server's experiment file: %s", exc)
        return dict(_experiments.BUILTIN_EXPERIMENTS)


def materials() -> list[str]:
    """Material names; a broken ``$DAP_MATERIALS`` file is logged and the built-in materials are served."""
    try:
        return sorted(_targets.all_materials())
    except InputError as exc:
        log.warning("ignoring the server's material file: %s", exc)
        return sorted(_targets.BUILTIN_MATERIALS)


def make_experiment(**fields):
    """A validated Experiment (raises InputError naming the bad field)."""
    return _experiments.Experiment(**fields)


def table_config(exp) -> _st.SigmaVConfig:
    """The σ_V table configuration an experiment needs: its beam and target over the whole x range. The cut
    is not part of it (it is applied to the table), so moving an experiment's cut never starts a table job."""
    return _st.SigmaVConfig.from_experiment(exp)


def validate_experiment_config(exp) -> None:
    """Raise InputError if a σ_V table cannot be made for this experiment (e.g. beam energy too low), or if its
    cut window lies beyond the beam lepton's kinematic end point x ≤ 1 − m_ℓ/E0 (physics.xsec.sigma_v's own
    check, ``x_min``; e.g. x_min = 0.9 for a 1 GeV muon beam, whose end point is 0.894)."""
    config = table_config(exp)
    _st.endpoint_edges(exp.beam_energy_gev, exp.x_min, exp.x_max, config.lepton_mass_gev)


def kinematic_limit_gev(exp) -> float:
    """Largest m_a + m_γD an experiment's σ_V table covers [GeV] (above it the brem channel is closed)."""
    return float(table_config(exp).max_mass_gev)


def versions() -> dict:
    return {"package": _pkg_version, "physics_version": PHYSICS_VERSION, "schema_version": SCHEMA_VERSION}


# ------------------------------------------------------------------------------------ reach and yields
def _mask_partial(out: dict, table, m_gd, m_a, keys) -> None:
    """While a table is still being computed, brem (and anything containing it) is only known between the
    table's first and last computed masses: NaN elsewhere instead of the factorisation's 0 above the grid."""
    if not table.provenance.get("partial"):
        return
    m = np.asarray(m_a) + np.asarray(m_gd)
    lo, hi = float(table.masses_gev[0]), float(table.masses_gev[-1])
    outside = (m < lo) | (m > hi)
    for k in keys:
        if k in out:
            arr = np.array(out[k], dtype=float, copy=True)
            arr[outside] = np.nan
            out[k] = arr


def reach(exp, m_gd, m_a, alpha_d: float, m_chi, method: str, table, g_ref: float = 1e-3) -> dict:
    """90% CL reach g_90 [GeV⁻¹] per channel vs m_γD (physics.signal.reach.reach)."""
    r = _reach.reach(exp, m_gd, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi, table=table, g_ref=g_ref).to_dict()
    g90 = dict(r["g90_GeV-1"])
    _mask_partial(g90, table, m_gd, m_a, ("brem", "total"))
    r = dict(r)
    r["g90_GeV-1"] = g90
    return r


def event_yields(exp, m_gd, g: float, m_a, alpha_d: float, m_chi, method: str, table) -> dict:
    """Expected signal events per channel at coupling g vs m_γD (physics.signal.yields.event_yields)."""
    out = dict(_yields.event_yields(exp, m_gd, g, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi,
                                    table=table))
    _mask_partial(out, table, m_gd, m_a, ("brem", "total"))
    return out


def plane_coefficient(exp, m_gd, m_a, table, channels) -> np.ndarray:
    """Production coefficient K [events/GeV⁻²] of the enabled ``channels`` summed, on the (m_a, m_γD) plane:
    ``m_gd`` (n,) and ``m_a`` (k,) [GeV] → shape (k, n), from ONE physics.signal.yields.coefficients call on
    broadcast arrays (each axis is validated before broadcasting, so k·n may exceed the 1000 values of a
    list; physics.signal.reach.reach cannot be called that way: it re-validates the broadcast grid). K does
    not depend on α_D or m_χ, so it is cached apart from them (see :func:`plane_g90`). Brem is NaN below the
    σ_V table (not counted, as in physics' ``total``) and, while the table is partial, outside its masses."""
    mg = np.asarray(m_gd, dtype=float)[None, :]
    ma = np.asarray(m_a, dtype=float)[:, None]
    k = _yields.coefficients(exp, mg, ma, table=table).k
    out = {"total": sum(np.nan_to_num(np.asarray(k[c], dtype=float)) for c in channels if c in CHANNELS)
           + np.zeros(np.broadcast_shapes(mg.shape, ma.shape))}
    if "brem" in channels:       # as in reach(): unknown (NaN) outside a partial table's computed masses
        _mask_partial(out, table, mg, ma, ("total",))
    return out["total"]


def plane_g90(K, m_gd, m_a, alpha_d: float, m_chi, exp) -> np.ndarray:
    """g_90 [GeV⁻¹] on the (m_a, m_γD) plane from coefficients ``K`` (k, n): physics.signal.reach's exact
    closed form with the widths of physics.model.widths and the experiment's N_90 (NaN where no limit).
    ``m_chi``: None (m_γD/3), a number [GeV] or an array over m_γD (n,)."""
    mg = np.asarray(m_gd, dtype=float)[None, :]
    ma = np.asarray(m_a, dtype=float)[:, None]
    mc = None if m_chi is None else (np.asarray(m_chi, dtype=float)[None, :] if np.ndim(m_chi) else float(m_chi))
    mg_b, ma_b, alpha_d, mc_b = _yields.validate_inputs(mg, ma, alpha_d, mc)
    gc = _widths.width_gd_to_chichi(mg_b, alpha_d, mc_b)
    g1 = _widths.width_gd_to_a_gamma_per_g2(mg_b, ma_b)
    K = np.asarray(K, dtype=float)
    out = _reach.g90_closed_form(K, gc, g1, n_upper(exp))
    return np.where(np.isnan(K), np.nan, out)


def beam_lepton(exp) -> str:
    """The beam lepton of an experiment: "e" or "mu" (physics.limits.LEPTONS)."""
    return getattr(exp, "lepton", "e")


def meson_channels_off_reason(exp) -> str:
    """Why the meson channels of an experiment are off (physics.signal.meson_yields; "" if they are on)."""
    if beam_lepton(exp) == "e":
        return ""
    return str(_meson_yields.MUON_MESONS_OFF)


def model_meson_yields(exp) -> dict:
    """N_V per meson of the documented model (physics.signal.meson_yields), ignoring the experiment's overrides."""
    return dict(_meson_yields.meson_yields_report(exp.replace(meson_yields={}))["computed_N_V"])


def validate_meson_yields(exp) -> dict:
    """The experiment's N_V per meson with its ``meson_yields`` overrides validated by physics (raises
    InputError naming ``meson_yields.<meson>``)."""
    if not exp.meson_yields:
        return {}
    return dict(_meson_yields.meson_yields_nv(exp))


@functools.lru_cache(maxsize=512)
def _n_upper(observed, background) -> float:
    return float(_stats.poisson_upper_limit(observed, background))


def n_upper(exp) -> float:
    """Signal events excluded at 90% CL for the experiment's background/observed (physics.signal.statistics, CLs).

    Raises InputError (never an arithmetic error) when physics cannot compute the limit for these numbers,
    so the dashboard can show it next to the control."""
    try:
        return _n_upper(exp.observed, exp.background)
    except InputError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise InputError("background", "a background for which the 90% CL signal limit can be computed",
                         exp.background, f"{type(exc).__name__} in physics.signal.statistics") from None


def limit_ignores_background(exp) -> bool:
    """True if the 90% CL signal limit of the experiment's counts does not change with the background (CLs
    with 0 observed events: N_90 = ln 10 whatever b; physics.signal.statistics)."""
    try:
        b = float(exp.background)
        # the same limit to the root finder's precision (physics.signal.statistics: xtol 1e-12)
        return math.isclose(_n_upper(exp.observed, b), _n_upper(exp.observed, b + 1.0), rel_tol=1e-9)
    except (InputError, ArithmeticError, ValueError):
        return False


def spectrum(table, m_a: float, m_gd: float, g: float):
    """(x_edges, dσ/dx [pb per atom]) of e N → e N a γD in the table's x bins (physics.xsec.factorisation)."""
    return _fact.dsigma_portal_dx_pb(table, m_a, m_gd, g)


def window_fraction(table, m_a: float, m_gd: float, exp) -> float:
    """Share of σ(e N → e N a γD) inside the experiment's window x_min ≤ x ≤ x_max (physics.xsec.factorisation; NaN
    where the channel is closed)."""
    total, _ = _fact.sigma_portal_pb(table, m_a, m_gd, 1.0)
    inside, _ = _fact.sigma_portal_pb(table, m_a, m_gd, 1.0, **_yields.x_window(exp))
    total, inside = float(total), float(inside)
    return inside / total if total > 0 else float("nan")


# ------------------------------------------------------------------------------------ other constraints
#: The overlays (key → label, labels from physics.signal.constraints.LABELS): BaBar, both BESIII bounds, SN1987A.
CONSTRAINT_LABELS = {"babar": _constraints.LABELS["babar-upsilon"], "besiii": "BESIII ω, φ→inv",
                     "sn1987a": _constraints.LABELS["sn1987a"]}
CONSTRAINT_KEYS = tuple(CONSTRAINT_LABELS)


def _prov_text(prov, m_a_text: str | None = None) -> str:
    """Provenance as one line of text; ``m_a_text`` replaces physics' "array" placeholder for a mass grid."""
    if isinstance(prov, str):
        return prov
    parts = [str(prov.get("source", ""))]
    for k in ("cl", "assumptions", "scenario", "units_note", "formula"):
        v = prov.get(k)
        if v in (None, ""):
            continue
        if k == "assumptions" and isinstance(v, str) and "m_a = array GeV" in v:
            v = v.replace("m_a = array GeV", f"m_a = {m_a_text}" if m_a_text else "m_a varies with m_γD")
        parts.append(f"{k}: {v}")
    return "; ".join(p for p in parts if p)


_SN = {}


def constraints(which, m_gd, m_a, m_a_text: str | None = None) -> list[dict]:
    """Other constraints as drawable regions (physics.signal.constraints): dicts with key, label, kind ("upper":
    excluded above ``g``; "band": excluded between ``lo`` and ``hi``, ``hi`` NaN = above the plot), arrays
    ``m`` [GeV], ``g``/``lo``/``hi`` [GeV⁻¹] and ``provenance`` (text). ``m_a_text`` describes the ALP mass of
    the scenario in the provenance (e.g. "m_γD"); a constant m_a is passed to physics as a number, so its
    provenance states the value."""
    out = []
    m_gd = np.asarray(m_gd, dtype=float)
    m_a = np.asarray(m_a, dtype=float)
    m_a_phys = float(m_a.flat[0]) if m_a.size and np.all(m_a == m_a.flat[0]) else m_a
    if "babar" in which:
        r = _constraints.babar_upsilon(m_gd, m_a_phys)
        out.append({"key": "babar", "label": _constraints.LABELS["babar-upsilon"], "kind": "upper", "m": m_gd,
                    "m_a": m_a, "g": np.asarray(r["g_max_GeV-1"], dtype=float),
                    "provenance": _prov_text(r["provenance"], m_a_text)})
    if "besiii" in which:
        for d in _constraints.besiii(m_gd, m_a_phys):
            out.append(dict(d, m_a=np.broadcast_to(m_a, m_gd.shape), provenance=_prov_text(d["provenance"],
                                                                                         m_a_text)))
    if "sn1987a" in which:
        if "band" not in _SN:
            d = _constraints.sn1987a()
            _SN["band"] = dict(d, provenance=_prov_text(d["provenance"]))
        out.append(_SN["band"])
    return out


# ------------------------------------------------------------------------------------ EDM
def edm_curve(fermion: str, cutoff: float, scenario: str, m_gd_grid) -> np.ndarray:
    """Bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] vs m_γD (physics.edm.edm_bound_curve); NaN outside validity."""
    _, bound = _edm.edm_bound_curve(fermion, cutoff, scenario, m_gd_grid=np.asarray(m_gd_grid, dtype=float))
    return np.asarray(bound, dtype=float)


def edm_table(cutoffs, m_gd_ref: float) -> list[dict]:
    """Rows of the paper's Table 2 (physics.edm.edm_table)."""
    return _edm.edm_table(cutoffs=tuple(cutoffs), m_gd_ref=float(m_gd_ref))


# ------------------------------------------------------------------------------------ uncertainty bands
#: The σ_V form factor of the form-factor variation of the bands (docs/physics.md#form-factor-inelastic).
BAND_FORM_FACTOR = "elastic+inelastic"
#: Variations of the vector-meson model within the uncertainty docs/physics.md#meson-defaults states
#: ("order-of-magnitude model (factor ~2–3)"; "coherent J/ψ at NA64 energies is likely high by ×2–3"):
#: name → (σ0 factor of every meson, extra σ0 factor of J/ψ). N_V ∝ σ0 (P_V ∝ σ(γN → VN); the coherent
#: nuclear factor does not depend on σ0), so these scale the computed N_V (docs/physics.md#uncertainty-bands).
BAND_MESON_FACTORS = {"mesons ×2": (2.0, 1.0), "mesons ÷2": (0.5, 1.0), "J/ψ ÷3": (1.0, 1.0 / 3.0)}


def band_meson_models() -> dict:
    """name → physics.signal.meson_yields.MesonModel of each meson-model variation of the bands."""
    base = _meson_yields.DEFAULT_PHOTOPRODUCTION
    out = {}
    for name, (f_all, f_jpsi) in BAND_MESON_FACTORS.items():
        pp = {m: {"sigma0_nb": xs.sigma0_nb * f_all * (f_jpsi if m == "jpsi" else 1.0)} for m, xs in base.items()}
        out[name] = _meson_yields.MesonModel(photoproduction=pp)
    return out


def reach_mc_variations(exp, m_gd, m_a, alpha_d: float, m_chi, table) -> dict:
    """g_90 [GeV⁻¹] per channel with K_brem moved by ∓ its Monte Carlo error: {"σ_V MC +1σ": {...},
    "σ_V MC −1σ": {...}} (physics.signal.yields.coefficients: K_c and the MC error of K_brem; the exact
    solution physics.signal.reach.g90_closed_form with the widths of physics.model.widths and the
    experiment's N_90). K_brem + δK lowers g_90, K_brem − δK raises it; the meson K_c have no MC error."""
    m_gd_b, m_a_b, alpha_d, m_chi_b = _yields.validate_inputs(m_gd, m_a, alpha_d, m_chi)
    co = _yields.coefficients(exp, m_gd_b, m_a_b, table=table)
    gc = _widths.width_gd_to_chichi(m_gd_b, alpha_d, m_chi_b)
    g1 = _widths.width_gd_to_a_gamma_per_g2(m_gd_b, m_a_b)
    n90 = n_upper(exp)
    out = {}
    for name, sign in (("σ_V MC +1σ", 1.0), ("σ_V MC −1σ", -1.0)):
        kb = np.asarray(co.k["brem"], dtype=float)
        kb = np.where(np.isfinite(kb), np.clip(kb + sign * np.nan_to_num(co.k_brem_err), 0.0, None), kb)
        K = dict(co.k, brem=kb)
        K["total"] = np.nan_to_num(kb) + np.asarray(co.k["mesons"], dtype=float)
        g90 = {c: _reach.g90_closed_form(K[c], gc, g1, n90) for c in ("brem", "total")}
        g90.update({c: _reach.g90_closed_form(co.k[c], gc, g1, n90) for c in MESON_KEYS + ("mesons",)})
        _mask_partial(g90, table, m_gd_b, m_a_b, ("brem", "total"))
        out[name] = g90
    return out


def reach_variations(exp, m_gd, m_a, alpha_d: float, m_chi, table, table_ff=None) -> dict:
    """The variations of an experiment's reach behind its uncertainty band: name → {channel: g_90 [GeV⁻¹]}
    (docs/physics.md#uncertainty-bands): (a) the σ_V Monte Carlo error (:func:`reach_mc_variations`), (b) the
    meson model (physics.signal.reach.reach with each :func:`band_meson_models` model), (c) the
    elastic+inelastic form factor (reach with ``table_ff``, if given). An experiment whose N_V are all
    overridden by the user has no meson-model variation (the override is used as given)."""
    out = reach_mc_variations(exp, m_gd, m_a, alpha_d, m_chi, table)
    overridden = set(exp.meson_yields or {}) >= set(MESON_KEYS)
    if not overridden and beam_lepton(exp) == "e":
        for name, model in band_meson_models().items():
            r = _reach.reach(exp, m_gd, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi, table=table, meson_model=model)
            g90 = dict(r.g90)
            _mask_partial(g90, table, m_gd, m_a, ("brem", "total"))
            out[name] = g90
    if table_ff is not None:
        r = _reach.reach(exp, m_gd, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi, table=table_ff)
        out["form factor el.+inel."] = dict(r.g90)
    return out
