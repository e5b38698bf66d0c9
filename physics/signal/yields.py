"""Signal yields of the dark axion portal at an electron fixed-target experiment (docs/physics.md#yields-brem,
#yields-meson, #br-inv).

Channels (all events with E_miss/E0 in the experiment's [x_min, x_max], g = g_aγγD in GeV⁻¹):

- ``brem`` — bremsstrahlung-like e N → e N γ*(→ a γD) (Gninenko et al., arXiv:2602.11405, Eq. (8)):
      N = EOT · (ρ N_A / A) · L_T · σ(x_min < x < x_max) · Br(γD → inv),
  σ [pb per atom] from the factorisation over the σ_V table of the experiment's beam and target
  (``physics.xsec.factorisation``), i.e. N = luminosity_per_cm2 × σ × 1e-36 cm²/pb × Br. The table covers the
  whole x range; the experiment's cut is applied to it (``x_window``: bins summed, no recomputation), so
  changing x_min changes N at once.
- ``rho``, ``omega``, ``phi``, ``jpsi``, ``upsilon`` — vector mesons (docs/physics.md#yields-meson):
      N_V,sig = N_V · Br(V → a γD) · Br(γD → inv),  Br(V → aγD) = α g² M_V³ λ^{3/2}(1, m_a²/M_V², m_γD²/M_V²)
      / (24 g_V² Γ_V)  (VMD, docs/physics.md#vmd; ``physics.model.mesons``), N_V from ``physics.signal.meson_yields``. The
  cut enters through N_V: the meson carries the energy of the bremsstrahlung photon that made it (E_miss = k),
  and N_V counts photons with x_min E0 < k < x_max E0 (above the meson's photoproduction threshold);
  Br(V → a γD) has no x.
- ``mesons`` = sum of the five meson channels; ``total`` = brem + mesons.

Br(γD → inv) = Γ_χχ / (Γ_χχ + Γ_aγ) with Γ_χχ = (α_D m_γD/3)(1 + 2m_χ²/m_γD²) sqrt(1 − 4m_χ²/m_γD²) and
Γ_aγ = g² m_γD³ (1 − m_a²/m_γD²)³ / (96π) (arXiv:2602.11405, Eqs. (6)–(7); ``physics.model.widths``). Every channel
is therefore N(g) = K · g² · Br_inv(g) with a g-independent production coefficient K [events/GeV⁻²]
(``coefficients``); Br_inv depends on g, so N is not exactly ∝ g² (``physics.signal.reach`` solves N(g) = N_90 exactly).

A closed channel (m_a + m_γD ≥ M_V; m_a + m_γD beyond the σ_V table) has K = 0 and yields 0 events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from physics import errors, limits
from physics.model.constants import PB_IN_CM2
from physics.signal.experiments import Experiment, get_experiment
from physics.xsec.factorisation import sigma_portal_pb
from physics.model.mesons import MESONS, br_to_a_gd
from physics.signal.meson_yields import MesonModel, meson_yields_report
from physics.model.widths import br_gd_invisible
from physics.xsec.sigma_v import SigmaVTable

MESON_CHANNELS: tuple[str, ...] = tuple(MESONS)
CHANNELS: tuple[str, ...] = ("brem", *MESON_CHANNELS, "mesons", "total")


# -- input validation -------------------------------------------------------------------------------

def _array(name: str, value, allowed: str, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False) -> np.ndarray:
    if isinstance(value, (str, bytes, bool)) or (isinstance(value, (list, tuple))
                                                 and any(isinstance(v, (str, bytes, bool)) for v in value)):
        raise errors.InputError(name, allowed, value, "not a number")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise errors.InputError(name, allowed, value, "not a number") from None
    if arr.size > limits.MAX_LIST_LENGTH:
        raise errors.InputError(name, f"at most {limits.MAX_LIST_LENGTH} values {allowed}", f"{arr.size} values")
    bad = ~np.isfinite(arr)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= arr > hi
    if np.any(bad):
        raise errors.InputError(name, allowed, arr[bad].ravel()[:3].tolist() if arr.ndim else arr.item())
    return arr


def _limited(key: str, value, name: str | None = None) -> np.ndarray:
    lim = limits.limit(key)
    lo = lim.lo * (1 - lim.rtol) if lim.lo > 0 else lim.lo
    return _array(name or lim.name, value, lim.allowed + " (finite)", lo=lo, hi=lim.hi * (1 + lim.rtol),
                  lo_open=lim.lo_open)


def validate_m_gd(m_gd) -> np.ndarray:
    """Dark-photon masses [GeV]: finite, in [1 MeV, 10 GeV] (the plane of the paper's Figs. 3–4; the σ_V table
    range M_TABLE_MIN_GEV–M_TABLE_CAP_GEV, ``physics.limits`` "m_gd"), at most 1000 of them."""
    return _limited("m_gd", m_gd)


def validate_m_a(m_a) -> np.ndarray:
    """ALP masses [GeV]: finite, in [0, 10] (``physics.limits`` "m_a")."""
    return _limited("m_a", m_a)


def validate_inputs(m_gd, m_a, alpha_d, m_chi):
    """Validate and broadcast (m_gd, m_a, m_χ) [GeV]; α_D in [0, 1]. m_χ None → m_γD/3 (the default, docs/physics.md#br-inv)."""
    m_gd = validate_m_gd(m_gd)
    m_a = validate_m_a(m_a)
    alpha_d = limits.check("alpha_D", alpha_d)
    if m_chi is None:
        m_chi_arr = m_gd / 3.0
    else:
        m_chi_arr = _limited("m_chi", m_chi)
    try:
        m_gd_b, m_a_b, m_chi_b = np.broadcast_arrays(m_gd, m_a, m_chi_arr)
    except ValueError:
        raise errors.InputError("m_a", f"a scalar or an array broadcastable with m_gd (shape {m_gd.shape})",
                                np.shape(m_a)) from None
    return m_gd_b.astype(float), m_a_b.astype(float), float(alpha_d), m_chi_b.astype(float)


# -- σ_V tables -----------------------------------------------------------------------------------

def _check_table(table: SigmaVTable, exp: Experiment) -> SigmaVTable:
    """``table`` if it is a σ_V table of the experiment's beam and target whose x range holds the experiment's
    window [x_min, x_max] (the cut is applied to it); InputError otherwise."""
    if not isinstance(table, SigmaVTable):
        raise errors.InputError("table", "a physics.xsec.sigma_v.SigmaVTable", type(table).__name__)
    c = table.config
    same = (math.isclose(c.beam_energy_gev, exp.beam_energy_gev, rel_tol=1e-9) and c.target == exp.target
            and c.x_min <= exp.x_min + 1e-12 and c.x_max >= exp.x_max - 1e-12)
    if not same:
        raise errors.InputError(
            "table", f"a σ_V table for E0 = {exp.beam_energy_gev:g} GeV, target {exp.target}, "
                     f"x range holding [{exp.x_min:g}, {exp.x_max:g}]",
            f"E0 = {c.beam_energy_gev:g} GeV, target {c.target}, x in [{c.x_min:g}, {c.x_max:g}]")
    return table


def x_window(exp: Experiment) -> dict:
    """The experiment's missing-energy window as keyword arguments of ``SigmaVTable.sigma_at``."""
    return {"x_min": float(exp.x_min), "x_max": float(exp.x_max)}


def experiment_table(experiment, table: SigmaVTable) -> SigmaVTable:
    """``table`` checked against the experiment: a σ_V table of its beam and target whose x range holds its
    window (the whole-x-range table of ``SigmaVConfig.from_experiment`` serves every cut). The caller fetches
    the table (``physics.service.provider.table_for_experiment``: precomputed → disk cache → VEGAS); the
    pure physics never does."""
    return _check_table(table, get_experiment(experiment))


def table_provenance(table: SigmaVTable) -> dict:
    """Short provenance of a σ_V table for the ``assumptions`` block."""
    m = table.masses_gev
    return {"config": table.config.to_dict(), "n_points": int(m.size), "mass_range_GeV": [float(m[0]),
            float(m[-1])], "all_points_ok": bool(table.all_ok), **{k: v for k, v in table.provenance.items()
                                                                 if isinstance(v, (str, int, float, bool))}}


# -- production coefficients -----------------------------------------------------------------------

def brem_coefficient(exp: Experiment, table: SigmaVTable, m_gd, m_a) -> tuple[np.ndarray, np.ndarray]:
    """K_brem = EOT n L_T σ(g = 1) [events/GeV⁻²] and its MC error, on broadcast (m_gd, m_a).

    NaN where m_a + m_γD is below the table's first mass; 0 above its last (factorisation convention).
    """
    m_gd, m_a = np.broadcast_arrays(np.asarray(m_gd, dtype=float), np.asarray(m_a, dtype=float))
    k = np.full(m_gd.shape, np.nan)
    err = np.full(m_gd.shape, np.nan)
    ok = (m_a + m_gd) >= table.masses_gev[0] * (1 - 1e-9)
    if np.any(ok):
        sig, sig_err = sigma_portal_pb(table, m_a[ok], m_gd[ok], 1.0, **x_window(exp))
        lumi = exp.luminosity_per_cm2
        k[ok] = lumi * sig * PB_IN_CM2
        err[ok] = lumi * sig_err * PB_IN_CM2
    return k, err


@dataclass(frozen=True)
class Coefficients:
    """Production coefficients of one experiment on broadcast (m_γD, m_a): N_c(g) = K_c g² Br(γD → inv)(g).

    k: {channel: K_c [events/GeV⁻²]} (closed channels 0; brem below the σ_V table NaN); k_brem_err: MC error
    of K_brem [events/GeV⁻²]; meson_report: N_V and the meson model (JSON-able); table: the σ_V table used;
    experiment: the experiment."""

    k: Mapping[str, np.ndarray]
    k_brem_err: np.ndarray
    meson_report: Mapping[str, object]
    table: SigmaVTable
    experiment: Experiment

    def __post_init__(self):
        object.__setattr__(self, "k", MappingProxyType(dict(self.k)))


def coefficients(experiment, m_gd, m_a=1e-6, *, table: SigmaVTable,
                 meson_model: MesonModel | None = None) -> Coefficients:
    """Production coefficients K_c [events/GeV⁻²] per channel (:class:`Coefficients`)."""
    exp = get_experiment(experiment)
    m_gd = validate_m_gd(m_gd)
    m_a = validate_m_a(m_a)
    m_gd, m_a = np.broadcast_arrays(m_gd, m_a)
    tab = _check_table(table, exp)
    rep = meson_yields_report(exp, meson_model)
    K = {}
    K["brem"], k_err = brem_coefficient(exp, tab, m_gd, m_a)
    for m in MESON_CHANNELS:
        n_v = rep["N_V"].get(m, 0.0)
        K[m] = n_v * br_to_a_gd(m, m_a, m_gd)  # Br(V → a γD)/g² [GeV²]
    K["mesons"] = sum(K[m] for m in MESON_CHANNELS)
    K["total"] = np.nan_to_num(K["brem"]) + K["mesons"]
    return Coefficients(k=K, k_brem_err=k_err, meson_report=rep, table=tab, experiment=exp)


def event_yields(experiment, m_gd, g, m_a=1e-6, alpha_d=0.1, m_chi=None, *, table: SigmaVTable,
                 meson_model: MesonModel | None = None) -> dict:
    """Expected signal events per channel at coupling g [GeV⁻¹] (the paper's Fig. 3 view).

    m_gd [GeV] array; m_a [GeV] scalar or array broadcast with m_gd; α_D; m_χ [GeV] (None → m_γD/3).
    Returns {channel: array} for brem, rho, omega, phi, jpsi, upsilon, mesons, total (0 where closed; brem NaN
    below the σ_V table).
    """
    m_gd, m_a, alpha_d, m_chi = validate_inputs(m_gd, m_a, alpha_d, m_chi)
    g = _array("g", g, ">= 0 GeV^-1 (finite)", lo=0.0)
    co = coefficients(experiment, m_gd, m_a, table=table, meson_model=meson_model)
    br = br_gd_invisible(m_gd, m_a, g, alpha_d, m_chi)
    return {c: co.k[c] * g ** 2 * br for c in CHANNELS}


# -- the dark-photon recast (validation) -----------------------------------------------------------

def dark_photon_events(experiment, m_ap, eps, *, table: SigmaVTable):
    """Invisible dark-photon yield with the same machinery: N = EOT · n · L_T · ε² · σ_V(m_A', x window) [events]
    (σ_V is the ε = 1 table itself; Br(A' → inv) = 1)."""
    exp = get_experiment(experiment)
    m = validate_m_gd(m_ap)
    eps = _array("eps", eps, ">= 0 (finite)", lo=0.0)
    tab = _check_table(table, exp)
    return exp.luminosity_per_cm2 * eps ** 2 * tab.sigma_at(m, beyond_max_zero=True, **x_window(exp)) * PB_IN_CM2


__all__ = ["x_window", "CHANNELS", "MESON_CHANNELS", "experiment_table", "table_provenance", "brem_coefficient",
           "Coefficients", "coefficients", "event_yields", "dark_photon_events", "validate_inputs", "validate_m_gd", "validate_m_a"]
