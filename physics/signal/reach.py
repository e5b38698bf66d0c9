"""90% CL reach g_90(m_γD) of an electron fixed-target experiment, per channel (docs/physics.md#reach;
Gninenko et al., arXiv:2602.11405, Figs. 3–4).

Every channel c has N_c(g) = K_c g² Br_inv(g) with Br_inv(g) = Γ_χχ/(Γ_χχ + Γ₁ g²), Γ₁ = Γ(γD → aγ)/g²
(widths from ``physics.model.widths``, K_c from ``physics.signal.yields``). The limit solves N_c(g) = N_90, N_90 the Poisson upper limit for the experiment's
(background, observed) (``physics.signal.statistics``; 2.3026 for b = n = 0). Because Br_inv depends on g, N is not
∝ g²; the equation is nevertheless solved *exactly* in closed form (derived):

    K g² Γ_χχ = N_90 (Γ_χχ + Γ₁ g²)   ⇒   g_90² = N_90 Γ_χχ / (K Γ_χχ − N_90 Γ₁),

valid when K Γ_χχ > N_90 Γ₁. N(g) rises monotonically to K Γ_χχ/Γ₁ as g → ∞ (the visible γD → aγ takes
over), so if K Γ_χχ ≤ N_90 Γ₁ no g reaches N_90 and the channel sets no limit (NaN). With Γ_χχ = 0 and
Γ₁ = 0 (stable γD) Br_inv = 1 and g_90² = N_90/K. In the limit Γ₁ g² ≪ Γ_χχ this is the paper's
g_90 = g_ref sqrt(N_90 / N(g_ref)). Closed channels (K = 0) give NaN (→ null in JSON).
:func:`solve_g90_numeric` solves the same equation with brentq as an independent check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from physics import limits
from physics.signal.experiments import get_experiment
from physics.signal.meson_yields import MesonModel
from physics.signal.statistics import poisson_limit_report
from physics.xsec.sigma_v import SigmaVTable
from physics.model.widths import br_gd_invisible, width_gd_to_a_gamma_per_g2, width_gd_to_chichi
from physics.signal.yields import CHANNELS, coefficients, event_yields, table_provenance, validate_inputs


def g90_closed_form(K, gamma_chichi, gamma1, n90: float) -> np.ndarray:
    """g_90 [GeV⁻¹] solving K g² Γχχ/(Γχχ + Γ₁ g²) = N_90 exactly (module docstring); NaN where unreachable.

    K [events/GeV⁻²], Γχχ [GeV], Γ₁ = Γ(γD→aγ)/g² [GeV³] (broadcast arrays), n90 [events].
    """
    K = np.nan_to_num(np.asarray(K, dtype=float), nan=0.0)
    gc = np.asarray(gamma_chichi, dtype=float)
    g1 = np.asarray(gamma1, dtype=float)
    K, gc, g1 = np.broadcast_arrays(K, gc, g1)
    out = np.full(K.shape, np.nan)
    stable = (gc == 0) & (g1 == 0) & (K > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(stable, np.sqrt(n90 / np.where(K > 0, K, 1.0)), out)
        denom = K * gc - n90 * g1
        ok = (gc > 0) & (K > 0) & (denom > 0)
        out = np.where(ok, np.sqrt(n90 * gc / np.where(ok, denom, 1.0)), out)
    return out


def solve_g90_numeric(n_of_g, n90: float, g_start: float, g_max: float = 1e12) -> float:
    """Solve N(g) = N_90 for a monotonically rising scalar N(g) with brentq, bracketing from the g² scaling
    g_start·sqrt(N_90/N(g_start)). NaN if N never reaches N_90 below g_max. (Independent check of the closed form.)"""
    n0 = n_of_g(g_start)
    if not np.isfinite(n0) or n0 <= 0:
        return float("nan")
    g0 = g_start * np.sqrt(n90 / n0)
    lo, hi = g0, g0
    f = lambda g: n_of_g(g) - n90  # noqa: E731
    while f(lo) > 0:
        lo /= 2.0
    while f(hi) < 0:
        hi *= 2.0
        if hi > g_max:
            return float("nan")
    from scipy import optimize  # the numeric cross-check only (importing it costs ~0.3 s)

    return float(optimize.brentq(f, lo, hi, xtol=1e-300, rtol=1e-13))


def _statistics(exp, statistics: str) -> dict:
    return poisson_limit_report(exp.observed, exp.background, 0.90, statistics)


@dataclass(frozen=True)
class ReachResult:
    """The 90% CL reach of one experiment (read-only; arrays are not writeable).

    m_gd: dark-photon masses [GeV]; g90: {channel: 90% CL upper limit on g_aγγD [GeV⁻¹]} (NaN where the
    channel is closed or sets no limit); g_ref: the coupling [GeV⁻¹] of ``events_at_g_ref``: {channel:
    expected events}; n_v: {meson: N_V, vector mesons produced}; assumptions: every input, the table's
    provenance and the formulas (JSON-able). :meth:`to_dict` is the public JSON form (the ``reach`` CLI
    output): keys ``m_gd_GeV``, ``g90_GeV-1``, ``events_at_g`` (with ``g_GeV-1``), ``N_V``, ``assumptions``."""

    m_gd: np.ndarray
    g90: Mapping[str, np.ndarray]
    g_ref: float
    events_at_g_ref: Mapping[str, np.ndarray]
    n_v: Mapping[str, float]
    assumptions: Mapping[str, object]

    def __post_init__(self):
        for name in ("g90", "events_at_g_ref", "n_v", "assumptions"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        for arr in (self.m_gd, *self.g90.values(), *self.events_at_g_ref.values()):
            if isinstance(arr, np.ndarray):
                arr.flags.writeable = False

    def to_dict(self) -> dict:
        return {"m_gd_GeV": self.m_gd, "g90_GeV-1": dict(self.g90),
                "events_at_g": {"g_GeV-1": self.g_ref, **self.events_at_g_ref}, "N_V": dict(self.n_v),
                "assumptions": dict(self.assumptions)}


def reach(experiment, m_gd, m_a=1e-6, alpha_d=0.1, m_chi=None, *, table: SigmaVTable,
          meson_model: MesonModel | None = None, g_ref: float = 1e-3, statistics: str = "cls") -> dict:
    """90% CL limits g_90 [GeV⁻¹] vs m_γD [GeV] per channel, events at g_ref, N_V and every assumption.

    experiment: id, Experiment or TOML/JSON path; m_gd [GeV] in [1e-3, 10]; m_a [GeV] scalar or array
    broadcast with m_gd (e.g. m_a = ratio·m_gd); alpha_d = α_D; m_chi [GeV] (None → m_γD/3); table: the
    experiment's σ_V table (its method, "etl" or "iww", is in its provenance; fetched by the caller, e.g.
    ``physics.service.provider.table_for_experiment``); meson_model: N_V model (None → defaults);
    g_ref: coupling for ``events_at_g``; statistics: "cls" or "neyman" Poisson limit.

    Returns a :class:`ReachResult` (``to_dict()``: the CLI's JSON) with NaN where a channel is closed or sets
    no limit.
    """
    exp = get_experiment(experiment)
    m_gd_b, m_a_b, alpha_d, m_chi_b = validate_inputs(m_gd, m_a, alpha_d, m_chi)
    g_ref = limits.check("g", g_ref)
    stats = _statistics(exp, statistics)
    n90 = stats["N_90"]
    co = coefficients(exp, m_gd_b, m_a_b, table=table, meson_model=meson_model)
    K = co.k
    gc = width_gd_to_chichi(m_gd_b, alpha_d, m_chi_b)
    g1 = width_gd_to_a_gamma_per_g2(m_gd_b, m_a_b)
    g90 = {c: g90_closed_form(K[c], gc, g1, n90) for c in CHANNELS}
    br_ref = br_gd_invisible(m_gd_b, m_a_b, g_ref, alpha_d, m_chi_b)
    events = {c: K[c] * g_ref ** 2 * br_ref for c in CHANNELS}
    rep = co.meson_report
    tab = co.table
    with np.errstate(invalid="ignore", divide="ignore"):
        brem_rel_err = np.where(K["brem"] > 0, co.k_brem_err / np.where(K["brem"] > 0, K["brem"], 1.0),
                                np.nan)
    assumptions = {
        "experiment": exp.to_dict(),
        "m_a_GeV": m_a_b if np.ndim(m_a) else float(np.asarray(m_a)),
        "alpha_D": alpha_d,
        "m_chi_GeV": "m_gd/3" if m_chi is None else (m_chi_b if np.ndim(m_chi) else float(np.asarray(m_chi))),
        "method": tab.provenance.get("method"),
        "statistics": stats,
        "meson_model": {k: v for k, v in rep.items() if k != "N_V"},
        "table": table_provenance(tab),
        "brem_sigma_rel_error_max": float(np.nanmax(brem_rel_err)) if np.any(np.isfinite(brem_rel_err))
        else None,
        "x_window": {"x_min": float(exp.x_min), "x_max": float(exp.x_max),
                     "E_miss_min_GeV": float(exp.x_min * exp.beam_energy_gev),
                     "brem": "applied to the whole-x-range sigma_V table (bins summed, PCHIP of the cumulative "
                             "inside the cut bin; physics.xsec.sigma_v.window_sums)",
                     "mesons": "N_V counts bremsstrahlung photons with x_min E0 < k < x_max E0 (E_miss = k)"},
        "formulas": {
            "brem": "N = EOT (rho N_A/A) L_T sigma(x_min<x<x_max) Br(gD->inv), sigma by factorisation over "
                    "sigma_V (docs/physics.md#yields-brem; arXiv:2602.11405 Eq. (8))",
            "mesons": "N = sum_V N_V Br(V->a gD) Br(gD->inv), Br(V->a gD) = alpha g^2 M^3 lambda^{3/2}/(24 g_V^2 "
                      "Gamma_V) (VMD; docs/physics.md#yields-meson)",
            "Br_inv": "Gamma_chichi/(Gamma_chichi + Gamma(gD->a gamma)) (arXiv:2602.11405 Eqs. (6)-(7))",
            "g90": "exact solution of K g^2 Br_inv(g) = N_90 (physics.signal.reach)",
        },
        "notes": "NaN/null: channel closed (m_a+m_gD >= M_V; beyond the sigma_V table) or N(g) never reaches N_90 "
                 "because gD -> a gamma dominates at large g.",
    }
    return ReachResult(m_gd=m_gd_b if np.ndim(m_gd) else m_gd_b.reshape(()), g90=g90, g_ref=g_ref,
                       events_at_g_ref=events, n_v=rep["N_V"], assumptions=assumptions)


__all__ = ["ReachResult", "reach", "event_yields", "g90_closed_form", "solve_g90_numeric"]
