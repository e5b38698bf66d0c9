"""Other constraints on the (m_γD, g_aγγD) plane (docs/physics.md#constraints; Gninenko et al.,
arXiv:2602.11405, Sec. V). Each returns values plus a provenance dict (formula, source, CL, assumptions).

Invisible vector-meson decays (derived, docs/physics.md#constraint-meson-invisible): with
Br(V → a γD) = α g² M_V³ λ^{3/2} / (24 g_V² Γ_V) (VMD, docs/physics.md#vmd) and an upper limit
Br(V → invisible) < Br_lim,

    g_max = sqrt(24 g_V² Γ_V Br_lim / (α M_V³ λ^{3/2}(1, m_a²/M_V², m_γD²/M_V²)))  [GeV⁻¹],

assuming both a and γD escape (Br(γD → inv) = 1, the paper's assumption). Limits used:

- ``babar-upsilon``: Br(Υ(1S) → invisible) < 3.0e-4, 90% CL — BaBar, Aubert et al., PRL 103 (2009) 251801,
  arXiv:0908.2840 (≈ 1.0e-2 GeV⁻¹ for light m_γD, as in [Gninenko2026, Eqs. (19)–(21)];
  checked in docs/validation.md#babar-upsilon).
- ``besiii-omega``: Br(ω → invisible) < 7.3e-5, 90% CL; ``besiii-phi``: Br(φ → invisible) < 1.7e-4, 90% CL —
  BESIII, Ablikim et al., Phys. Rev. D 98 (2018) 032001, arXiv:1805.05613.

SN1987A (``sn1987a``, docs/physics.md#constraint-sn1987a): the excluded band between the digitised lower
(free-streaming) and upper (trapping) edges of Hook, Marques-Tavares & Ristow, JHEP 06 (2021) 167,
arXiv:2105.06476 Fig. 8, as digitised by K. Jodłowski, arXiv:2305.10409, in the public repository
krzysztofjjodlowski/Looking_forward_to_photon_coupled_LLPs [JodlowskiRepo2023] (MIT licence; files and
metadata in ``physics/data/limits``). Mass unit GeV (the files' header says MeV; see the metadata).
No CL is stated.

Not provided (no data here): the BaBar monophoton recast and "ATLAS as a muon fixed target"
([Gninenko2026, Sec. V.1]; docs/physics.md#constraints-not-provided).
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from physics import errors, limits
from physics.model.mesons import MESONS, coupling_at_br


#: Invisible-decay limits: meson, Br limit, CL, source.
MESON_INVISIBLE_LIMITS: dict[str, dict] = {
    "babar-upsilon": {"meson": "upsilon", "br_limit": 3.0e-4, "cl": 0.90,
                      "source": "BaBar, B. Aubert et al., Phys. Rev. Lett. 103 (2009) 251801, arXiv:0908.2840: "
                                "Br(Upsilon(1S) -> invisible) < 3.0e-4 (90% CL)"},
    "besiii-omega": {"meson": "omega", "br_limit": 7.3e-5, "cl": 0.90,
                     "source": "BESIII, M. Ablikim et al., Phys. Rev. D 98 (2018) 032001: "
                               "Br(omega -> invisible) < 7.3e-5 (90% CL)"},
    "besiii-phi": {"meson": "phi", "br_limit": 1.7e-4, "cl": 0.90,
                   "source": "BESIII, M. Ablikim et al., Phys. Rev. D 98 (2018) 032001: "
                             "Br(phi -> invisible) < 1.7e-4 (90% CL)"},
}
CONSTRAINTS: tuple[str, ...] = (*MESON_INVISIBLE_LIMITS, "sn1987a")
#: Display label of each constraint (plot legends, exported files, the dashboard's overlay choices).
LABELS: dict[str, str] = {"babar-upsilon": "BaBar Υ(1S)→inv", "besiii-omega": "BESIII ω→inv",
                          "besiii-phi": "BESIII φ→inv", "sn1987a": "SN1987A"}

SN_FILES = {"lower": "Heavy_dark_photon_Supernova_Emission_low", "upper": "Heavy_dark_photon_Supernova_Emission_high"}


def _masses(m_gd, m_a):
    for name, v in (("m_gd", m_gd), ("m_a", m_a)):
        if isinstance(v, (str, bytes, bool)):
            raise errors.InputError(name, "masses in GeV", v, "not a number")
    try:
        m_gd_a = np.asarray(m_gd, dtype=float)
        m_a_a = np.asarray(m_a, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise errors.InputError("m_gd", "> 0 GeV (finite)", m_gd, "not a number") from None
    if max(m_gd_a.size, m_a_a.size) > limits.MAX_LIST_LENGTH:
        raise errors.InputError("m_gd", f"at most {limits.MAX_LIST_LENGTH} masses", f"{m_gd_a.size} masses")
    if np.any(~np.isfinite(m_gd_a)) or np.any(m_gd_a <= 0):
        raise errors.InputError("m_gd", "> 0 GeV (finite)", m_gd_a.tolist())
    if np.any(~np.isfinite(m_a_a)) or np.any(m_a_a < 0):
        raise errors.InputError("m_a", ">= 0 GeV (finite)", m_a_a.tolist())
    try:
        return np.broadcast_arrays(m_gd_a, m_a_a)
    except ValueError:
        raise errors.InputError("m_a", "a scalar or an array broadcastable with m_gd", np.shape(m_a)) from None


def meson_invisible_g_max(meson: str, br_limit: float, m_gd, m_a=1e-6) -> np.ndarray:
    """g_max [GeV⁻¹] = sqrt(24 g_V² Γ_V Br_lim / (α M_V³ λ^{3/2})) (module docstring; the inverse of
    Br(V → a γD), :func:`physics.model.mesons.coupling_at_br`); NaN where closed.

    For a single (scalar) point beyond kinematics (m_a + m_γD ≥ M_V) raises InputError.
    """
    V = MESONS[meson]
    br_limit = errors.positive("br_limit", br_limit)
    scalar = np.ndim(m_gd) == 0 and np.ndim(m_a) == 0
    m_gd_b, m_a_b = _masses(m_gd, m_a)
    if scalar and float(m_a_b + m_gd_b) >= V.mass_gev:
        raise errors.InputError("m_a + m_gd", f"< M_{V.key} = {V.mass_gev:g} GeV", float(m_a_b + m_gd_b))
    out = coupling_at_br(V, br_limit, m_a_b, m_gd_b)
    return float(out) if scalar else out


def meson_invisible_constraint(name: str, m_gd, m_a=1e-6) -> dict:
    """{"g_max_GeV-1": ..., "m_gd_GeV": ..., "provenance": {...}} for babar-upsilon, besiii-omega, besiii-phi."""
    errors.one_of("constraint", name, MESON_INVISIBLE_LIMITS)
    lim = MESON_INVISIBLE_LIMITS[name]
    V = MESONS[lim["meson"]]
    g = meson_invisible_g_max(lim["meson"], lim["br_limit"], m_gd, m_a)
    prov = {
        "constraint": name,
        "formula": "g_max = sqrt(24 g_V^2 Gamma_V Br_lim / (alpha M_V^3 lambda^{3/2}(1, m_a^2/M_V^2, m_gD^2/M_V^2)))"
                   " (VMD; derived, docs/physics.md#constraint-meson-invisible)",
        "source": lim["source"],
        "cl": lim["cl"],
        "br_limit": lim["br_limit"],
        "meson": V.to_dict(),
        "meson_table_source": "Gninenko et al., arXiv:2602.11405, Table 1 (M_V, g_V, Gamma_V)",
        "assumptions": "a and gD both escape (Br(gD -> inv) = 1); m_a = %s GeV" % (
            float(m_a) if np.ndim(m_a) == 0 else "array"),
        "closed": "NaN where m_a + m_gD >= M_V",
    }
    return {"g_max_GeV-1": g, "m_gd_GeV": m_gd, "m_a_GeV": m_a, "provenance": prov}


def babar_upsilon(m_gd, m_a=1e-6) -> dict:
    """BaBar Υ(1S) → invisible bound (≈ 1.0e-2 GeV⁻¹ at light m_γD)."""
    return meson_invisible_constraint("babar-upsilon", m_gd, m_a)


def besiii_omega(m_gd, m_a=1e-6) -> dict:
    """BESIII ω → invisible bound."""
    return meson_invisible_constraint("besiii-omega", m_gd, m_a)


def besiii_phi(m_gd, m_a=1e-6) -> dict:
    """BESIII φ → invisible bound."""
    return meson_invisible_constraint("besiii-phi", m_gd, m_a)


# -- SN1987A ------------------------------------------------------------------------------------------

def _read_curve(stem: str) -> tuple[np.ndarray, np.ndarray, dict]:
    base = resources.files("physics.data.limits")
    meta = json.loads(base.joinpath(stem + ".json").read_text(encoding="utf-8"))
    rows = []
    for line in base.joinpath(meta["file"]).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        a, b = line.split()[:2]
        rows.append((float(a), float(b)))
    arr = np.array(rows)
    return arr[:, 0], arr[:, 1], meta


def sn1987a_band(m_gd=None) -> dict:
    """SN1987A excluded band (excluded for g between the lower and upper edges) [GeV⁻¹] vs m_γD [GeV].

    Without ``m_gd``: the digitised edges as arrays. With ``m_gd``: both edges interpolated (linear in
    log m – log g) at those masses; NaN outside each edge's digitised mass range (the upper edge ends at
    g ≈ 1 GeV⁻¹, the plot boundary, at m_γD ≈ 0.094 GeV — beyond it the band extends above the plot).
    """
    m_lo, g_lo, meta_lo = _read_curve(SN_FILES["lower"])
    m_hi, g_hi, meta_hi = _read_curve(SN_FILES["upper"])
    prov = {
        "constraint": "sn1987a",
        "what": "excluded between the lower (free-streaming) and upper (trapping) edges",
        "source": meta_lo["citation"],
        "data": {"lower": meta_lo["source"] | {"file": meta_lo["file"]},
                 "upper": meta_hi["source"] | {"file": meta_hi["file"]}},
        "units": meta_lo["units"],
        "units_note": meta_lo["units_note"],
        "cl": meta_lo["cl"],
        "cl_note": meta_lo["cl_note"],
        "licence": meta_lo["licence"] + " (text: physics/data/limits/" + meta_lo["licence_file"] + ")",
        "scenario": meta_lo["scenario"],
    }
    if m_gd is None:
        return {"lower": {"m_gd_GeV": m_lo, "g_GeV-1": g_lo}, "upper": {"m_gd_GeV": m_hi, "g_GeV-1": g_hi},
                "provenance": prov}
    if isinstance(m_gd, (str, bytes, bool)):
        raise errors.InputError("m_gd", "> 0 GeV (finite)", m_gd, "not a number")
    try:
        m = np.asarray(m_gd, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise errors.InputError("m_gd", "> 0 GeV (finite)", m_gd, "not a number") from None
    if m.size > limits.MAX_LIST_LENGTH:
        raise errors.InputError("m_gd", f"at most {limits.MAX_LIST_LENGTH} masses", f"{m.size} masses")
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise errors.InputError("m_gd", "> 0 GeV (finite)", m.tolist())

    def interp(mx, gy):
        lm = np.log(m)
        out = np.exp(np.interp(lm, np.log(mx), np.log(gy)))
        return np.where((m >= mx[0]) & (m <= mx[-1]), out, np.nan)

    lower, upper = interp(m_lo, g_lo), interp(m_hi, g_hi)
    if m.ndim == 0:
        lower, upper = float(lower), float(upper)
    return {"m_gd_GeV": m_gd, "lower_GeV-1": lower, "upper_GeV-1": upper, "provenance": prov}


def sn1987a_excluded(m_gd, g) -> np.ndarray:
    """True where (m_γD, g) lies inside the digitised SN1987A band (lower ≤ g ≤ upper; above the lower edge
    where the upper edge is beyond the digitised range but the lower one is not)."""
    m = np.asarray(m_gd, dtype=float)
    band = sn1987a_band(m)
    lo, hi = np.asarray(band["lower_GeV-1"]), np.asarray(band["upper_GeV-1"])
    m_hi_end = sn1987a_band()["upper"]["m_gd_GeV"][-1]
    g = np.asarray(g, dtype=float)
    return np.isfinite(lo) & (g >= lo) & (np.where(np.isnan(hi), m > m_hi_end, g <= hi))


def besiii(m_gd, m_a=1e-6) -> list[dict]:
    """Both BESIII bounds as drawable regions: [{"key", "label", "kind": "upper", "m", "g", "provenance"}, ...]."""
    out = []
    for name in ("besiii-omega", "besiii-phi"):
        r = meson_invisible_constraint(name, np.asarray(m_gd, dtype=float), np.asarray(m_a, dtype=float))
        out.append({"key": "besiii", "label": LABELS[name], "kind": "upper", "m": np.asarray(m_gd, dtype=float),
                    "g": r["g_max_GeV-1"], "provenance": r["provenance"]})
    return out


def sn1987a(m_gd=None) -> dict:
    """SN1987A band as a drawable region on one mass grid (default: the union of both edges' masses):
    {"key", "label", "kind": "band", "m", "lo", "hi", "provenance"}; ``hi`` is NaN where the upper edge lies
    above its digitised range (g ≳ 1 GeV⁻¹, m_γD > 0.094 GeV)."""
    if m_gd is None:
        raw = sn1987a_band()
        m_gd = np.union1d(raw["lower"]["m_gd_GeV"], raw["upper"]["m_gd_GeV"])
    b = sn1987a_band(np.asarray(m_gd, dtype=float))
    return {"key": "sn1987a", "label": LABELS["sn1987a"], "kind": "band", "m": np.asarray(m_gd, dtype=float),
            "lo": np.asarray(b["lower_GeV-1"]), "hi": np.asarray(b["upper_GeV-1"]), "provenance": b["provenance"]}


def constraint(name: str, m_gd=None, m_a=1e-6) -> dict:
    """Dispatch by name: babar-upsilon, besiii-omega, besiii-phi (need m_gd), sn1987a (m_gd optional)."""
    errors.one_of("constraint", name, CONSTRAINTS)
    if name == "sn1987a":
        return sn1987a_band(m_gd)
    if m_gd is None:
        raise errors.InputError("m_gd", "> 0 GeV (required for " + name + ")", None)
    return meson_invisible_constraint(name, m_gd, m_a)


__all__ = ["CONSTRAINTS", "LABELS", "MESON_INVISIBLE_LIMITS", "meson_invisible_g_max", "meson_invisible_constraint",
           "babar_upsilon", "besiii_omega", "besiii_phi", "besiii", "sn1987a_band", "sn1987a", "sn1987a_excluded",
           "constraint"]
