"""Colours, line styles and labels shared by the interactive (Bokeh) and exported (matplotlib) figures."""

from __future__ import annotations

import re
import string

import numpy as np

from physics.methods import Method

#: Experiment colours (Okabe–Ito, colour-blind safe), assigned in selection order.
EXPERIMENT_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

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

_BOKEH_DASH_MPL = {"solid": "-", "dashed": (0, (6, 4)), "dotted": (0, (1.5, 2.5)), "dotdash": (0, (1.5, 3, 6, 3)),
                   "dashdot": (0, (6, 3, 1.5, 3))}


def method_tag(data: dict) -> str:
    """Title suffix making the approximate σ_V method visible (IWW is never a silent substitute for ETL)."""
    return " — σ_V: IWW approximation" if data.get("method") == Method.IWW else ""


def experiment_color(entry: dict) -> str:
    """Stable colour of an experiment (its position in the session's experiment list, not the selection)."""
    return EXPERIMENT_COLORS[int(entry.get("color_index", 0)) % len(EXPERIMENT_COLORS)]


def mpl_dash(bokeh_dash: str):
    """matplotlib linestyle for a Bokeh dash name or pattern string."""
    if bokeh_dash in _BOKEH_DASH_MPL:
        return _BOKEH_DASH_MPL[bokeh_dash]
    nums = [float(x) for x in re.findall(r"[\d.]+", bokeh_dash)]
    return (0, tuple(n / 1.5 for n in nums)) if nums else "-"


#: characters that mean something in HTML or Markdown (all of ASCII punctuation: emphasis, links, code,
#: tables, entities, raw HTML, math delimiters, autolinks)
_MARKUP_CHARS = frozenset(string.punctuation)


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
