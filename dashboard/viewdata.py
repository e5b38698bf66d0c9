"""View data — the one job of this module: the data dict behind each view, and the CSV header lines, as
pure functions of the inputs and the σ_V tables.

Inputs arrive as a :class:`dashboard.inputs.ViewInputs` snapshot, experiments as validated
``Experiment`` objects, tables as :class:`TableRef` (content key, number of points, whether partial). The
expensive pieces (reach per experiment, yields, constraints, EDM curves, spectra) are memoised with
``pn.cache`` (bounded ``max_items``, shared by all sessions: inputs → result, nothing mutable), so moving
the coupling recomputes nothing but the marker. The per-view dict formats are those the figure builders
(:mod:`dashboard.figures`, :mod:`dashboard.export`) consume.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json

import numpy as np
import panel as pn

from . import adapter
from .inputs import ALP_MODES, VIEW_TITLES, ViewInputs, m_a_of


@dataclasses.dataclass(frozen=True)
class TableRef:
    """A σ_V table as view data sees it: identified by its content key and number of points."""

    key: tuple
    n_points: int
    partial: bool
    table: object = dataclasses.field(compare=False, repr=False, hash=False)

    @classmethod
    def of(cls, table, status) -> TableRef | None:
        if table is None:
            return None
        return cls(status.key if status is not None else (), len(table.points), not status.ready, table)


def _exp_hash(exp) -> bytes:
    return json.dumps(dataclasses.asdict(exp), sort_keys=True, default=str).encode()


HASH_FUNCS = {TableRef: lambda t: repr((t.key, t.n_points, t.partial)).encode(),
              adapter.Experiment: _exp_hash,
              ViewInputs: lambda v: repr(dataclasses.astuple(v)).encode()}


def _cache(max_items: int):
    return pn.cache(max_items=max_items, policy="LRU", hash_funcs=HASH_FUNCS)


# ------------------------------------------------------------------------------------ derived inputs
def mass_grid(vi: ViewInputs) -> np.ndarray:
    """The m_γD grid [GeV] of every curve."""
    return np.geomspace(vi.m_gd_min, vi.m_gd_max, int(vi.n_points))


def alp_mass(vi: ViewInputs, m_gd):
    """m_a [GeV] at dark-photon masses ``m_gd`` in the session's scenario."""
    return m_a_of(vi.alp_mode, vi.m_a, vi.m_a_ratio, m_gd)


def m_chi_arg(vi: ViewInputs, m_gd=None):
    """m_χ argument for physics.signal.reach: None for the default m_γD/3, else the value (array for ratios)."""
    if vi.m_chi_mode == "ratio":
        if abs(vi.m_chi_ratio - 1.0 / 3.0) < 1e-12:
            return None
        return None if m_gd is None else vi.m_chi_ratio * np.asarray(m_gd, dtype=float)
    return float(vi.m_chi)


def edm_scenario(vi: ViewInputs) -> str:
    return "degenerate" if vi.alp_mode == "degenerate" else "light-alp"


def point(vi: ViewInputs) -> dict:
    return {"m_gd": float(vi.m_gd), "g": float(vi.g), "m_a": float(alp_mass(vi, vi.m_gd))}


def _physics_part(vi: ViewInputs) -> ViewInputs:
    """The inputs a reach/yield curve depends on (the rest zeroed, so e.g. the marker does not enter)."""
    return dataclasses.replace(vi, m_gd=0.0, g=0.0, cutoff=0.0, channels=(), show_channel_curves=False,
                               overlays=(), rel_error=0.0, bands=False, edm_both_cutoffs=False)


def _m_a_text(vi: ViewInputs) -> str:
    """m_a of the scenario as text for the constraints' provenance."""
    if vi.alp_mode == "light":
        return f"{adapter.M_A_LIGHT_GEV:g} GeV"
    if vi.alp_mode == "degenerate":
        return "m_γD"
    if vi.alp_mode == "ratio":
        return f"{vi.m_a_ratio:.4g} × m_γD"
    return f"{vi.m_a:.4g} GeV"


# ------------------------------------------------------------------------------------ memoised pieces
@_cache(64)
def reach(exp, vi: ViewInputs, tref: TableRef) -> dict:
    """physics reach dict (90% CL g per channel) of one experiment on the session's mass grid."""
    grid = mass_grid(vi)
    return adapter.reach(exp, grid, alp_mass(vi, grid), vi.alpha_d, m_chi_arg(vi, grid), vi.method, tref.table)


@_cache(32)
def reach_variations(exp, vi: ViewInputs, tref: TableRef, tref_ff: TableRef | None) -> dict:
    """name → {channel: g_90 [GeV⁻¹]} of the variations behind the uncertainty band of one experiment
    (adapter.reach_variations; docs/physics.md#uncertainty-bands) on the session's mass grid."""
    grid = mass_grid(vi)
    return adapter.reach_variations(exp, grid, alp_mass(vi, grid), vi.alpha_d, m_chi_arg(vi, grid), tref.table,
                                    None if tref_ff is None else tref_ff.table)


def band_of(central, variants: dict) -> dict:
    """Envelope of a curve and its variations: ``lo``/``hi`` [GeV⁻¹] = the pointwise min/max over the central
    curve and every variation with a finite value there (NaN where the central curve is NaN), and
    ``widths``: variation → max over the grid of |ln(g_var/g_central)| (how much each moves the curve)."""
    c = np.asarray(central, dtype=float)
    stack = [c] + [np.asarray(v, dtype=float) for v in variants.values()]
    with np.errstate(invalid="ignore", divide="ignore"):
        arr = np.where(np.isfinite(np.array(stack)), np.array(stack), np.nan)
        lo = np.where(np.isfinite(c), np.nanmin(np.where(np.isnan(arr), np.inf, arr), axis=0), np.nan)
        hi = np.where(np.isfinite(c), np.nanmax(np.where(np.isnan(arr), -np.inf, arr), axis=0), np.nan)
        widths = {}
        for name, v in variants.items():
            r = np.abs(np.log(np.asarray(v, dtype=float) / c))
            r = r[np.isfinite(r)]
            widths[name] = float(r.max()) if r.size else 0.0
    return {"lo": lo, "hi": hi, "widths": widths}


@_cache(64)
def yields(exp, vi: ViewInputs, g: float, tref: TableRef) -> dict:
    grid = mass_grid(vi)
    return adapter.event_yields(exp, grid, g, alp_mass(vi, grid), vi.alpha_d, m_chi_arg(vi, grid), vi.method,
                                tref.table)


@_cache(16)
def constraints(overlays: tuple, vi: ViewInputs) -> list:
    grid = mass_grid(vi)
    return adapter.constraints(overlays, grid, alp_mass(vi, grid), m_a_text=_m_a_text(vi))


@_cache(64)
def edm_curve(fermion: str, scenario: str, cutoff: float, m_gd_min: float, m_gd_max: float, n: int):
    return adapter.edm_curve(fermion, cutoff, scenario, np.geomspace(m_gd_min, m_gd_max, n))


@_cache(16)
def edm_table(cutoffs: tuple, m_ref: float) -> list:
    return adapter.edm_table(cutoffs, m_ref)


@_cache(64)
def spectrum(tref: TableRef, m_a: float, m_gd: float, g: float):
    return adapter.spectrum(tref.table, m_a, m_gd, g)


@_cache(64)
def window_fraction(tref: TableRef, m_a: float, m_gd: float, exp) -> float:
    return adapter.window_fraction(tref.table, m_a, m_gd, exp)


# ------------------------------------------------------------------------------------ views
def combine_channels(g90: dict, enabled: list[str], all_enabled: bool) -> np.ndarray:
    """Total reach of the enabled channels.

    All channels on: physics.signal.reach's own ``total``. Otherwise the yields of the enabled channels add; with
    N ∝ g² (the scaling physics.signal.reach uses, g_90 = g_ref sqrt(N_up/N(g_ref))) that is
    g_tot = (Σ_c g_c^-2)^(-1/2) over channels with a finite limit.
    """
    if all_enabled and "total" in g90:
        return np.asarray(g90["total"], dtype=float)
    acc = None
    for ch in enabled:
        y = np.asarray(g90.get(ch), dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(np.isfinite(y) & (y > 0), 1.0 / (y * y), 0.0)
        acc = inv if acc is None else acc + inv
    if acc is None:
        return np.array([])
    with np.errstate(divide="ignore"):
        return np.where(acc > 0, 1.0 / np.sqrt(acc), np.nan)


def exclusion(vi: ViewInputs, exps: tuple, trefs: dict, colors: dict, band_trefs: dict | None = None) -> dict:
    """Curves of the exclusion plane: per experiment the 90% CL reach of each enabled channel and their total;
    other constraints; the current point. ``trefs``: exp id → TableRef (or None); ``colors``: exp id → index.
    Each curve's ``excluded`` is True for the total of an experiment that has data (status "data": its region
    above the curve is excluded; projections are lines — the paper's Fig. 4). With ``vi.bands``, the brem and
    total curves carry ``band`` ({lo, hi, widths}, :func:`band_of`) from :func:`reach_variations`;
    ``band_trefs``: exp id → TableRef of its elastic+inelastic σ_V table (missing: no form-factor variation)."""
    phys = _physics_part(vi)
    grid = mass_grid(vi)
    m_a = alp_mass(vi, grid)
    curves, assumptions, band_sources = [], {}, {}
    for exp in exps:
        tref = trefs.get(exp.id)
        if tref is None:
            continue
        r = reach(exp, phys, tref)
        g90 = r["g90_GeV-1"]
        assumptions[exp.id] = r.get("assumptions", {})
        enabled = [c for c in vi.channels if c in g90]
        common = {"exp_id": exp.id, "experiment": exp.name, "m": grid, "m_a": m_a, "partial": tref.partial,
                  "color_index": colors.get(exp.id, 0), "lepton": adapter.beam_lepton(exp)}
        if vi.show_channel_curves:
            # closed (all-NaN) channels are kept: an unchanged set of curves is cheap to redraw
            for ch in enabled:
                curves.append({**common, "channel": ch, "g": np.asarray(g90[ch], dtype=float)})
        all_on = set(enabled) == set(adapter.CHANNELS)
        total = combine_channels(g90, enabled, all_enabled=all_on)
        variants = {}
        if vi.bands and not tref.partial:
            variants = reach_variations(exp, phys, tref, (band_trefs or {}).get(exp.id))
            band_sources[exp.id] = list(variants)
            if vi.show_channel_curves and "brem" in enabled:
                for c in curves:
                    if c["exp_id"] == exp.id and c["channel"] == "brem":
                        c["band"] = band_of(c["g"], {k: v["brem"] for k, v in variants.items()})
        if total.size:
            entry = {**common, "channel": "total", "g": total, "excluded": exp.status == "data"}
            if variants:
                entry["band"] = band_of(total, {k: combine_channels(v, enabled, all_enabled=all_on)
                                                for k, v in variants.items()})
            curves.append(entry)
    cons = constraints(tuple(vi.overlays), phys)
    return {"curves": curves, "constraints": cons, "point": point(vi), "assumptions": assumptions,
            "channels": list(vi.channels), "method": vi.method, "bands": bool(vi.bands),
            "band_sources": band_sources}


def yields_view(vi: ViewInputs, exps: tuple, trefs: dict) -> dict:
    """Expected events at the current g vs m_γD, per experiment and enabled channel (paper Fig. 3)."""
    phys = _physics_part(vi)
    grid = mass_grid(vi)
    m_a = alp_mass(vi, grid)
    curves, n_up = [], {}
    for exp in exps:
        tref = trefs.get(exp.id)
        if tref is None:
            continue
        ys = yields(exp, phys, float(vi.g), tref)
        n_up[exp.id] = adapter.n_upper(exp)
        for ch in vi.channels:
            y = ys.get(ch)
            if y is not None and np.any(np.isfinite(y) & (y > 0)):
                curves.append({"exp_id": exp.id, "experiment": exp.name, "channel": ch, "m": grid, "m_a": m_a,
                               "n": np.asarray(y, dtype=float)})
    return {"curves": curves, "n_up": n_up, "g": float(vi.g), "point": point(vi), "method": vi.method}


#: The paper's two benchmark UV cut-offs Λ [GeV] (arXiv:2602.11405, Sec. VI, Table 2 and Fig. 6).
PAPER_CUTOFFS_GEV = (1000.0, 10000.0)


def edm(vi: ViewInputs) -> dict:
    """EDM bounds on |g_aγγD g̃_af g_γDf| vs m_γD for e, μ, n at Λ in both paper scenarios (Fig. 6), and the
    Table 2 numbers at the current m_γD for Λ = 1, 10 TeV and the chosen Λ."""
    grid = mass_grid(vi)
    curves = []
    # with edm_both_cutoffs: the paper's two benchmark cut-offs (Fig. 6), each curve tagged with its Λ
    curve_cutoffs = PAPER_CUTOFFS_GEV if vi.edm_both_cutoffs else (float(vi.cutoff),)
    for fermion in ("e", "mu", "n"):
        for sc in adapter.EDM_SCENARIOS:
            for lam in curve_cutoffs:
                b = edm_curve(fermion, sc, lam, vi.m_gd_min, vi.m_gd_max, int(vi.n_points))
                curves.append({"fermion": fermion, "scenario": sc, "m": grid, "bound": b, "cutoff": lam,
                               "m_a_light": adapter.M_A_LIGHT_GEV, "current": sc == edm_scenario(vi)})
    cutoffs = tuple(sorted({1000.0, 10000.0, float(vi.cutoff)}))
    m_ref = float(vi.m_gd)
    rows = []
    if all(c > max(m_ref, adapter.M_NEUTRON_GEV) for c in cutoffs):
        rows = edm_table(cutoffs, m_ref)
    return {"curves": curves, "table": rows, "cutoff": float(vi.cutoff), "m_gd_ref": m_ref,
            "limits": adapter.EDM_LIMITS, "cutoffs": list(curve_cutoffs)}


def _fmt(x) -> str:
    return f"{float(x):.4g}"


def spectrum_view(vi: ViewInputs, exps: tuple, trefs: dict, colors: dict) -> dict:
    """dσ/dx of e N → e N a γD (brem channel) at the current (m_a, m_γD, g) over the whole x range, per σ_V
    table (experiments on the same beam and target share it), and each experiment's cut: ``cuts`` =
    [{exp_id, experiment, x_min, x_max, color_index, beam_energy_gev, fraction}] with ``fraction`` the share
    of the brem cross section inside the window."""
    pt = point(vi)
    out, notes, by_table, cuts = [], [], {}, []
    for exp in exps:
        tref = trefs.get(exp.id)
        if tref is None:
            continue
        table = tref.table
        m_lo, m_hi = float(table.masses_gev[0]), float(table.masses_gev[-1])
        if not (m_lo <= pt["m_a"] + pt["m_gd"] < m_hi):
            notes.append(f"{exp.name}: m_a + m_γD = {_fmt(pt['m_a'] + pt['m_gd'])} GeV outside its table "
                         f"[{_fmt(m_lo)}, {_fmt(m_hi)}] GeV")
            continue
        cut = {"exp_id": exp.id, "experiment": exp.name, "x_min": float(exp.x_min), "x_max": float(exp.x_max),
               "color_index": colors.get(exp.id, 0), "beam_energy_gev": float(exp.beam_energy_gev)}
        cut["fraction"] = window_fraction(tref, pt["m_a"], pt["m_gd"], exp)
        cuts.append(cut)
        if tref in by_table:  # same beam/target: dσ/dx per atom is identical (neither EOT nor the cut enters)
            entry = by_table[tref]
            entry["experiment"] += f", {exp.name}"
            entry["exp_ids"].append(exp.id)
            continue
        edges, dsdx = spectrum(tref, pt["m_a"], pt["m_gd"], pt["g"])
        entry = {"exp_id": exp.id, "exp_ids": [exp.id], "experiment": exp.name, "x_edges": np.asarray(edges),
                 "color_index": colors.get(exp.id, 0), "dsdx_pb": np.asarray(dsdx),
                 "beam_energy_gev": exp.beam_energy_gev, "target": exp.target}
        by_table[tref] = entry
        out.append(entry)
    return {"spectra": out, "cuts": cuts, "point": pt, "notes": notes, "method": vi.method}


def view_data(view: str, vi: ViewInputs, exps: tuple, trefs: dict, colors: dict,
              band_trefs: dict | None = None) -> dict:
    """The data dict of ``view`` (``band_trefs``: see :func:`exclusion`)."""
    if view == "exclusion":
        return exclusion(vi, exps, trefs, colors, band_trefs)
    if view == "yields":
        return yields_view(vi, exps, trefs)
    if view == "edm":
        return edm(vi)
    return spectrum_view(vi, exps, trefs, colors)


def default_ranges(view: str, vi: ViewInputs) -> dict:
    """The axis ranges a view shows unless the user set others: x = the m_γD axis (spectrum: 0 ≤ x ≤ 1),
    y = None (chosen by the figure from the data)."""
    if view == "spectrum":
        return {"x": (0.0, 1.0), "y": None}
    if view == "map":                  # the map's own grid (dashboard.planeview) sets both axes
        return {"x": None, "y": None}
    return {"x": (float(vi.m_gd_min), float(vi.m_gd_max)), "y": None}


# ------------------------------------------------------------------------------------ export header
def inputs_dict(vi: ViewInputs) -> dict:
    """Every input that changes a number (for export headers)."""
    d = {f.name: getattr(vi, f.name) for f in dataclasses.fields(vi)}
    d["channels"], d["overlays"] = list(vi.channels), list(vi.overlays)
    d["alp_mode"] = f"{vi.alp_mode} ({ALP_MODES[vi.alp_mode]})"
    # every input is stated (the file reproduces the state); those the active mass rules ignore say so
    if vi.alp_mode != "fixed":
        d["m_a"] = f"{vi.m_a:.6g} (not used: ALP mass rule '{vi.alp_mode}')"
    if vi.alp_mode != "ratio":
        d["m_a_ratio"] = f"{vi.m_a_ratio:.6g} (not used: ALP mass rule '{vi.alp_mode}')"
    d["m_a_at_point_GeV"] = float(alp_mass(vi, vi.m_gd))
    if vi.m_chi_mode != "ratio":
        d["m_chi_ratio"] = f"{vi.m_chi_ratio:.6g} (not used: dark-fermion mass rule '{vi.m_chi_mode}')"
    d["m_chi"] = f"{vi.m_chi_ratio:.6g} × m_γD" if vi.m_chi_mode == "ratio" else f"{vi.m_chi:.6g} GeV"
    d["edm_scenario"] = edm_scenario(vi)
    return d


def _nv_text(meson_yields) -> str:
    if not meson_yields:
        return "none (model)"
    return ", ".join(f"{m}:{float(v):.6g}" for m, v in meson_yields.items())


def _short(d, limit=400) -> str:
    s = ", ".join(f"{k}={v}" for k, v in (d or {}).items())
    return s if len(s) <= limit else s[:limit] + "…"


def header_lines(view: str, vi: ViewInputs, selected: list[str], exps: tuple, statuses: dict) -> list[str]:
    """Comment header for CSV exports: every input, every experiment, table sources, versions.
    ``selected``: the experiment ids chosen; ``statuses``: exp id → TableStatus (or missing)."""
    v = adapter.versions()
    lines = [f"Dark Axion Portal Explorer — {VIEW_TITLES[view]} export",
             f"date: {_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()}",
             f"versions: package {v['package']}, physics {v['physics_version']}, schema {v['schema_version']}",
             "units: masses GeV, couplings GeV^-1, cross sections pb per atom"]
    d = inputs_dict(vi)
    d["experiments"] = list(selected)
    for k, val in d.items():
        lines.append(f"input {k} = {val}")
    for exp in exps:
        lines.append(
            f"experiment {exp.id}: name={exp.name}; beam_energy_GeV={exp.beam_energy_gev:g}; target={exp.target}; "
            f"thickness_X0={exp.thickness_x0:g}; x_min={exp.x_min:g}; x_max={exp.x_max:g}; EOT={exp.eot:g}; "
            f"background={exp.background:g}; observed={exp.observed}; N_V_override={_nv_text(exp.meson_yields)}; "
            f"status={exp.status}; reference={exp.reference}")
        st = statuses.get(exp.id)
        if st is not None:
            prov = getattr(st.table, "provenance", {}) if st.table is not None else {}
            lines.append(f"table {exp.id}: method={vi.method}; source={st.source}; "
                         f"points={st.progress[0]}/{st.progress[1]}; provenance={_short(prov)}")
    return lines
