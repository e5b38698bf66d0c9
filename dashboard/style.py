"""The one table of colours, line styles, widths, fonts and labels of the figures.

Read by :mod:`dashboard.figures` (which turns a view's data into a renderer-neutral figure specification);
the two renderers (:mod:`dashboard.plots`, Bokeh; :mod:`dashboard.export`, matplotlib) only translate units
(dash patterns, px → pt) and never choose a style themselves.
"""

from __future__ import annotations

import re
import string

import numpy as np

from physics.xsec.methods import Method

#: Colours of experiments without a style of their own (custom, a server's file), by list position: none is a
#: built-in experiment's colour (EXPERIMENT_STYLES) and none is yellow (a yellow line vanished in the SN1987A
#: shading) — black and Paul Tol's muted scheme, colour-blind safe.
EXPERIMENT_COLORS = ["#000000", "#332288", "#AA4499", "#44AA99", "#999933", "#661100", "#6699CC", "#117733"]

#: The one table of the built-in experiments' styles: id → (colour, dash of the thick "total" reach curve).
#: Every colour differs; the dash tells the beam: electron beams solid, muon beams long dashes (MUON_DASH; the
#: thin single-channel curves keep CHANNEL_DASH). Other experiments (custom, a server's file) take
#: EXPERIMENT_COLORS by list position and the dash of their beam.
MUON_DASH = "12 4"
EXPERIMENT_STYLES = {
    "na64e-2023": ("#0072B2", "solid"),
    "na64e-projected": ("#D55E00", "solid"),
    "ldmx-phase2": ("#009E73", "solid"),
    "na64mu-2022": ("#CC79A7", MUON_DASH),
    "na64mu-projected": ("#E69F00", MUON_DASH),
    "m3-phase1": ("#56B4E9", MUON_DASH),
    "m3-phase2": ("#882255", MUON_DASH),
}
#: Beam labels of physics.limits.LEPTONS (experiment list, settings cards).
BEAM_LABELS = {"e": "e⁻", "mu": "μ"}
#: What the EOT field counts, per beam lepton.
EOT_LABELS = {"e": "EOT", "mu": "muons on target (MOT)"}

#: Channel colours for the yields view (paper Fig. 3: brem vs each meson).
CHANNEL_COLORS = {"brem": "#000000", "rho": "#D55E00", "omega": "#0072B2", "phi": "#009E73", "jpsi": "#CC79A7",
                  "upsilon": "#E69F00", "total": "#555555"}

#: Dash patterns of the channels on the exclusion plot (Bokeh syntax; matplotlib converts below).
CHANNEL_DASH = {"total": "solid", "brem": "dashed", "rho": "dotted", "omega": "8 3 2 3 2 3", "phi": "dashdot",
                "jpsi": "14 5", "upsilon": "2 6"}
#: Dash patterns distinguishing experiments on the yields view.
EXPERIMENT_DASH = ["solid", "dashed", "dotted", "dotdash", "dashdot", "10 4 2 4", "2 6", "8 3"]

CONSTRAINT_COLORS = {"babar": "#7F7F7F", "besiii": "#B8B8B8", "sn1987a": "#E8C547"}
FERMION_COLORS = {"e": "#0072B2", "mu": "#D55E00", "n": "#009E73"}
FERMION_LABELS = {"e": "electron", "mu": "muon", "n": "neutron"}
SCENARIO_DASH = {"light-alp": "solid", "degenerate": "dashed"}
SCENARIO_LABELS = {"light-alp": "m_a ≪ m_γD", "degenerate": "m_a = m_γD"}

CHANNEL_LABELS = {"brem": "brem", "rho": "ρ", "omega": "ω", "phi": "φ", "jpsi": "J/ψ", "upsilon": "Υ(1S)",
                  "total": "total"}

#: Axis labels and titles of the views (plain Unicode, identical on screen and in exported files).
M_GD_LABEL = "dark-photon mass m_γD [GeV]"
M_A_LABEL = "ALP mass m_a [GeV]"
AXIS_LABELS = {
    "exclusion": (M_GD_LABEL, "coupling g_aγγD [GeV⁻¹]"),
    "yields": (M_GD_LABEL, "expected signal events N"),
    "edm": (M_GD_LABEL, "|g_aγγD g̃_af g_γDf| [GeV⁻¹]"),
    "spectrum": ("missing-energy fraction x = E_miss/E₀", "dσ/dx [pb per atom]"),
    "plane": (M_GD_LABEL, M_A_LABEL),
}
TITLES = {
    "exclusion": "90% CL reach on g_aγγD (invisible γD)",
    "yields": "Expected signal events at g_aγγD = {g:.3g} GeV⁻¹",
    "edm": "EDM bounds on |g_aγγD g̃_af g_γDf| at Λ = {cutoff:.4g} GeV (thick: current scenario)",
    "spectrum": "dσ/dx (brem): m_γD = {m_gd:.3g} GeV, m_a = {m_a:.3g} GeV, g = {g:.3g} GeV⁻¹",
}

#: Caption under each view (FigureSpec.caption).
CAPTIONS = {
    "exclusion": ("Expected 90% CL upper limits on g_aγγD for an invisibly decaying dark photon (γD → χχ̄ "
                  "dominant). Thick lines: all enabled channels combined; thin lines (\"draw single channels\"): "
                  "single channels (brem = "
                  "e N → e N a γD via σ_V tables, mesons via V → a γD), each with the experiment's missing-energy "
                  "cut x_min (sidebar, per experiment). Shaded: other constraints (hover for source). ★: the "
                  "current (m_γD, g)."),
    "yields": ("Expected signal events at the chosen g_aγγD, per channel (colour) and experiment (dash) — "
               "bremsstrahlung-like production vs vector-meson decays V → a γD (paper Fig. 3), above each "
               "experiment's cut x_min. The red line is the 90% CL event limit of the experiment's "
               "background/observed counts."),
    "edm": ("One-loop EDM bounds on the CP-odd coupling product at UV cut-off Λ for the electron, muon and "
            "neutron (paper Fig. 6): solid m_a ≪ m_γD, dashed m_a = m_γD; the thick pair is the scenario of the "
            "sidebar. Table: the paper's Table 2 at the current m_γD."),
    "spectrum": ("Missing-energy spectrum dσ/dx of the bremsstrahlung-like channel at the current (m_a, m_γD, g) "
                 "over the whole 0 ≤ x ≤ 1 (σ_V table bins — 0.025 wide up to x = 0.9, then 10 per decade of "
                 "1 − x — factorised over the a γD invariant mass). Shaded: the region each experiment's cut "
                 "rejects (x < x_min); the legend gives E_miss ≥ x_min E₀ and the share of the brem cross section "
                 "kept. The cut is applied to the same table: moving it recomputes nothing. Meson channels: the "
                 "vector meson carries the energy k of the bremsstrahlung photon that made it (E_miss = k), so "
                 "their yields N_V count photons with x_min E₀ < k < E₀ (physics.signal.meson_yields) — they follow "
                 "the cut too, through the photon spectrum, not through this brem spectrum."),
    "plane": ("Expected 90% CL upper limit g₉₀ on g_aγγD over the (m_γD, m_a) plane: colour log₁₀ g₉₀ [GeV⁻¹], "
              "lines at whole decades of g₉₀. Blank cells: no limit (channel closed or never N₉₀ events)."),
}

#: Line widths [screen px, before the Look's line scale] and alphas of the curve roles.
WIDTH = {"reach_total": 3.2, "reach_channel": 1.4, "constraint_edge": 1.5, "swatch": 1.5, "yield": 2.4,
         "yield_swatch": 1.8, "n90": 1.3, "edm_current": 3.2, "edm_other": 1.6, "spectrum": 2.4, "cut_edge": 1.6,
         "contour": 1.2}
ALPHA = {"reach_channel": 0.8, "constraint": 0.35, "cut": 0.12, "band": 0.25, "excluded": 0.18}
#: Width of the legend swatch of the uncertainty bands [screen px].
BAND_SWATCH_PX = 9.0
POINT_COLOR = "#E41A1C"
N90_COLOR = "#E41A1C"
SWATCH_COLOR = "#444444"
POINT_SIZE_PX = 20

#: Font sizes on screen [CSS px, before the Look's font scale].
FONT_PX = {"title": 15, "axis": 14, "tick": 12, "legend": 12, "notice": 15}
#: Exported line width [pt] per screen px: a 3.2 px line on a ~1000 px wide plot reads like a ~2 pt line on a
#: 7-inch figure.
EXPORT_PT_PER_PX = 0.65

#: Colours of the themes (background, text/axes, grid) and the curve colours that would vanish on the
#: background (replaced by the foreground colour).
THEMES = {"light": {"background": "#ffffff", "foreground": "#222222", "grid": "#dddddd", "notice": "#666666",
                    "invisible": ()},
          "dark": {"background": "#1e1e1e", "foreground": "#e6e6e6", "grid": "#444444", "notice": "#bbbbbb",
                   "invisible": ("#000000", "#444444", "#555555")}}


def themed(colour: str, theme: str) -> str:
    """A curve colour readable on the theme's background."""
    t = THEMES[theme]
    return t["foreground"] if colour.lower() in t["invisible"] else colour


#: Colour map of the (m_a, m_γD) plane (a name both Bokeh — ``Viridis256`` — and matplotlib know).
PLANE_PALETTE = "viridis"


#: Bokeh's named dash patterns [px on, px off, …] (as BokehJS draws them).
BOKEH_DASHES = {"solid": (), "dashed": (6,), "dotted": (2, 4), "dotdash": (2, 4, 6, 4), "dashdot": (6, 4, 2, 4)}


def method_tag(data: dict) -> str:
    """Title suffix making the approximate σ_V method visible (IWW is never a silent substitute for ETL)."""
    return " — σ_V: IWW approximation" if data.get("method") == Method.IWW else ""


def experiment_color(entry: dict) -> str:
    """Stable colour of an experiment: its EXPERIMENT_STYLES entry, else its position in the session's
    experiment list (not the selection)."""
    st = EXPERIMENT_STYLES.get(entry.get("exp_id"))
    if st is not None:
        return st[0]
    return EXPERIMENT_COLORS[int(entry.get("color_index", 0)) % len(EXPERIMENT_COLORS)]


def experiment_dash(entry: dict) -> str:
    """Dash of an experiment's thick total reach curve: its EXPERIMENT_STYLES entry, else by the entry's beam
    lepton ("lepton": "mu" → MUON_DASH; otherwise solid)."""
    st = EXPERIMENT_STYLES.get(entry.get("exp_id"))
    if st is not None:
        return st[1]
    return MUON_DASH if entry.get("lepton") == "mu" else "solid"


def dash_px(dash: str) -> tuple[float, ...]:
    """A Bokeh dash (name or "on off …" string) as an even-length on/off sequence [px]; () = solid."""
    seq = BOKEH_DASHES.get(dash)
    if seq is None:
        seq = tuple(float(x) for x in re.findall(r"[\d.]+", dash))
    seq = tuple(float(v) for v in seq)
    return seq + seq if len(seq) % 2 else seq


def mpl_dash(bokeh_dash: str, width_px: float):
    """matplotlib linestyle drawing the Bokeh dash of a ``width_px`` line at the export scale: matplotlib
    multiplies dash lengths by the line width, so on/off = px / width_px (printed length px·EXPORT_PT_PER_PX)."""
    seq = dash_px(bokeh_dash)
    if not seq:
        return "-"
    return (0, tuple(v / width_px for v in seq))


#: characters that mean something in HTML or Markdown (all of ASCII punctuation: emphasis, links, code,
#: tables, entities, raw HTML, math delimiters, autolinks)
_MARKUP_CHARS = frozenset(string.punctuation)


_UNIT_POWERS = {"^-1": "⁻¹", "^-2": "⁻²", "^2": "²"}


def unicode_units(text) -> str:
    """Messages from the validation layer write units in ASCII for terminals (``GeV^-1``); the page writes
    them as it labels its axes (``GeV⁻¹``)."""
    s = str(text)
    for ascii_, uni in _UNIT_POWERS.items():
        s = s.replace("GeV" + ascii_, "GeV" + uni).replace("cm" + ascii_, "cm" + uni)
    return s


def plain(text, limit: int | None = 300) -> str:
    """User-supplied text (labels, names from files or links, messages echoing user values) made literal
    for a Panel Markdown/HTML pane — the rendering edge of every such string.

    Control and format characters (line breaks, escapes, bidi overrides) become spaces; text longer than
    ``limit`` characters is shortened with "…"; every ASCII punctuation character becomes a numeric
    character reference (``<`` → ``&#60;``), which both HTML and Markdown (CommonMark) show as that
    character and never read as markup. Not for Bokeh text (legends, titles, tooltips): Bokeh draws text
    on the canvas or escapes it itself and would show the references verbatim.
    """
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return "".join(f"&#{ord(ch)};" if ch in _MARKUP_CHARS else ch for ch in s)


def mpl_text(text) -> str:
    """User-supplied text for a matplotlib label: ``$`` would start mathtext (and fail on unbalanced input)."""
    return str(text).replace("$", r"\$")


def short_name(name: str) -> str:
    """Compact experiment name for legends."""
    return name.replace(" (2016–2022 data)", " 2023").replace("Phase II", "Ph. II")


_JOURNALS = {"Phys. Rev. Lett.": "PRL", "Phys. Rev. D": "PRD", "JHEP": "JHEP", "Phys. Lett. B": "PLB"}


def cite(provenance: str) -> str:
    """Short citation (arXiv number, else journal reference, else first clause) from a provenance text."""
    text = provenance or ""
    m = re.search(r"arXiv:\s*([\d.]+\d)", text)
    if m:
        return f"arXiv:{m.group(1)}"
    for long, short in _JOURNALS.items():
        m = re.search(re.escape(long) + r"\s*(\d+)\s*\((\d{4})\)\s*([\d]+)", text)
        if m:
            return f"{short} {m.group(1)} ({m.group(2)}) {m.group(3)}"
    first = text.split(";")[0].split(":")[0]
    return first[:40]


def constraint_band(c: dict, y_hi: float):
    """Shaded region of a constraint (an upper bound shades g above it; a band shades between its edges,
    open upwards where the upper edge is missing): returns (m, lo, hi, ok) with ``ok`` the drawable points.
    Shared by the Bokeh view and the matplotlib export, so both show the same region."""
    m = np.asarray(c["m"], dtype=float)
    if c["kind"] == "upper":
        lo = np.asarray(c["g"], dtype=float)
        hi = np.where(np.isfinite(lo), y_hi, np.nan)
    else:
        lo = np.asarray(c["lo"], dtype=float)
        hi = np.asarray(c["hi"], dtype=float)
        hi = np.where(np.isfinite(lo) & ~np.isfinite(hi), y_hi * 10, hi)
    ok = np.isfinite(lo) & np.isfinite(hi) & (m > 0)
    return m, lo, hi, ok
