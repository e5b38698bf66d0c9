"""One renderer-neutral specification per figure: what to draw, never how.

``spec(view, data, x_range, y_range=None, look=SCREEN)`` turns the data dict a view already has
(``DashboardState.exclusion_data`` / ``yields_data`` / ``edm_data`` / ``spectrum_data``) into a frozen
:class:`FigureSpec` — title, axis labels and scales, axis ranges (each view's default y-range rule lives here
and only here), and the curves with their labels, colours, dashes, widths and hover fields, plus a notice
when nothing can be drawn. :func:`plane_spec` does the same for the (m_γD, m_a) map of g₉₀.

Two thin renderers read only the spec: :class:`dashboard.plots.LiveFigure` (Bokeh, updated in place) and
:func:`dashboard.export.spec_bytes` (matplotlib files). Styles come from :mod:`dashboard.style`. This
module imports no GUI or plotting library.

Units: widths in screen px (the export converts with ``style.EXPORT_PT_PER_PX``), dash patterns in Bokeh
syntax (names or "on off …" px), masses GeV, couplings GeV⁻¹.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from physics.errors import InputError

from . import style

VIEWS = ("exclusion", "yields", "edm", "spectrum")
#: Curve kinds. line: polyline (NaN = gap); step: histogram (x = bin edges, y = one value per bin); band: filled
#: between y and y2; marker: symbols; region: an x-interval [x[0], x[1]] shaded over the whole y range;
#: image: cells with bin edges x, y and values z[len(y)-1, len(x)-1] mapped through a colour palette.
KINDS = ("line", "step", "band", "marker", "region", "image")

#: Decades shown below the top of the default y range (at most).
DECADES = {"exclusion": 8, "yields": 12, "edm": 14, "spectrum": 7}
#: Lowest default lower y limit of the exclusion plot [GeV⁻¹] (SN1987A reaches ~1e-7 GeV⁻¹).
EXCLUSION_Y_FLOOR = 1e-9


# ------------------------------------------------------------------------------------ the types
@dataclass(frozen=True)
class Look:
    """How big text and lines are and on which background: ``font_scale``, ``line_scale`` multiply the screen
    sizes of :mod:`dashboard.style`; ``theme`` is "light" or "dark"; ``legend_scale`` multiplies the font scale
    for the on-screen legend only (large fonts: a legend beside the plot at the full scale took half the width
    of a projector's 1280 px). Exported files size their legend to the export size (:class:`ExportSize`)."""

    name: str
    font_scale: float = 1.0
    line_scale: float = 1.0
    theme: str = "light"
    legend_scale: float = 1.0


SCREEN = Look("screen")
PRESENTATION = Look("presentation", font_scale=1.6, line_scale=1.7, legend_scale=0.75)
DARK = Look("dark", theme="dark")
#: name → Look (for a widget)
LOOKS = {k.name: k for k in (SCREEN, PRESENTATION, DARK)}


@dataclass(frozen=True)
class ExportSize:
    """A file's size [inches] and base font size [pt]; ``legend`` "right" (beside the axes) or "below"."""

    name: str
    width_in: float
    height_in: float
    font_pt: float
    legend: str = "right"


#: name → ExportSize: a 16:9 slide, a journal's single column (≈ 3.4 in) and double column (≈ 7 in).
EXPORT_SIZES = {s.name: s for s in (ExportSize("slide", 10.0, 5.625, 13.0),
                                    ExportSize("single", 3.4, 4.25, 7.0, legend="below"),
                                    ExportSize("double", 7.0, 4.3, 9.0))}


@dataclass(frozen=True)
class HoverField:
    """One tooltip row: ``label``: value of ``column`` (x, y, label — the curve's label — or a name of the
    curve's ``info``/``columns``) and ``unit``. Numbers are shown with 3 significant figures."""

    label: str
    column: str
    unit: str = ""


@dataclass(frozen=True, eq=False)
class Curve:
    """One drawable item, addressed by ``key`` (stable across updates of the same figure)."""

    key: str
    label: str
    kind: str
    x: np.ndarray
    y: np.ndarray | None = None
    y2: np.ndarray | None = None
    z: np.ndarray | None = None
    colour: str = "#000000"
    dash: str = "solid"
    width: float = 2.0                      # screen px, Look's line scale applied
    alpha: float = 1.0
    legend: bool = False
    legend_group: str | None = None         # curves with the same group share one legend entry
    marker: str = "star"
    size: float = style.POINT_SIZE_PX       # marker size [screen px]
    hover: tuple[HoverField, ...] = ()
    info: tuple[tuple[str, str], ...] = ()  # constant text per curve, for hover
    columns: tuple[tuple[str, np.ndarray], ...] = ()  # per-point numbers, for hover
    palette: str = style.PLANE_PALETTE      # image
    z_range: tuple[float, float] | None = None  # image
    z_label: str = ""                       # image: colour-bar label

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"curve kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def entry(self) -> str:
        """Legend entry this curve belongs to."""
        return self.legend_group or self.key


@dataclass(frozen=True, eq=False)
class FigureSpec:
    view: str
    title: str
    x_label: str
    y_label: str
    x_log: bool
    y_log: bool
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    curves: tuple[Curve, ...]
    notice: str = ""                        # drawn on the plot when set (why nothing/part is shown)
    caption: str = ""
    look: Look = SCREEN
    citation: str = ""                      # the paper figure/table a preset reproduces (exports print it)

    def legend_entries(self) -> list[tuple[str, str]]:
        """(entry key, label) in legend order: one per entry, label of its first curve with ``legend``. An entry
        whose curves all lie outside the y range (e.g. Υ(1S) yields of 1e-29 under a 1e-6 floor) is left out:
        the legend names only what can be seen; legend-only swatches (no points) stay."""
        out: dict[str, str] = {}
        seen: set[str] = set()
        for c in self.curves:
            if c.legend and c.entry not in out:
                out[c.entry] = c.label
            if _in_y_range(c, self.y_range):
                seen.add(c.entry)
        return [(k, lab) for k, lab in out.items() if k in seen]


# ------------------------------------------------------------------------------------ helpers
def _in_y_range(c: Curve, y_range) -> bool:
    """Whether a curve can show within ``y_range``: a line, step or band with a finite point inside it (or no
    points at all: a legend swatch); other kinds always."""
    if c.kind not in ("line", "step", "band") or not np.size(c.x):
        return True
    lo, hi = min(y_range), max(y_range)
    for arr in (c.y, c.y2 if c.kind == "band" else None):
        if arr is None:
            continue
        v = np.asarray(arr, dtype=float)
        if np.any(np.isfinite(v) & (v >= lo) & (v <= hi)):
            return True
        below, above = np.isfinite(v) & (v < lo), np.isfinite(v) & (v > hi)     # a segment across the range
        if np.any((below[:-1] & above[1:]) | (above[:-1] & below[1:])):
            return True
    return c.kind == "band" and _band_spans(c, lo, hi)


def _band_spans(c: Curve, lo: float, hi: float) -> bool:
    """A band whose edges lie on both sides of the range covers it."""
    y1, y2 = np.asarray(c.y, dtype=float), np.asarray(c.y2, dtype=float)
    ok = np.isfinite(y1) & np.isfinite(y2)
    return bool(np.any(ok & (np.minimum(y1, y2) < lo) & (np.maximum(y1, y2) > hi)))


def _finite_pos(*arrays) -> np.ndarray:
    vals = [np.asarray(a, dtype=float).ravel() for a in arrays if a is not None and np.size(a)]
    if not vals:
        return np.array([])
    v = np.concatenate(vals)
    return v[np.isfinite(v) & (v > 0)]


def _decade_floor(x: float) -> float:
    return 10.0 ** math.floor(math.log10(x))


def _decade_ceil(x: float) -> float:
    return 10.0 ** math.ceil(math.log10(x))


def _range(name: str, r, log: bool) -> tuple[float, float]:
    """A validated axis range (finite, lo < hi, lo > 0 on a log axis)."""
    allowed = "two finite numbers lo < hi" + (" with lo > 0 (log axis)" if log else "")
    try:
        lo, hi = (float(v) for v in r)
    except (TypeError, ValueError):
        raise InputError(name, allowed, r) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and (lo > 0 or not log)):
        raise InputError(name, allowed, r)
    return lo, hi


def _w(role: str, look: Look) -> float:
    return style.WIDTH[role] * look.line_scale


def _c(colour: str, look: Look) -> str:
    return style.themed(colour, look.theme)


def step_xy(edges, values) -> tuple[np.ndarray, np.ndarray]:
    """Polyline of a histogram: bin edges (n+1) and values (n) → 2n points."""
    e = np.asarray(edges, dtype=float)
    v = np.asarray(values, dtype=float)
    return np.repeat(e, 2)[1:-1], np.repeat(v, 2)


def _swatch(key: str, label: str, look: Look, dash="solid", width_role="swatch", colour=style.SWATCH_COLOR) -> Curve:
    """A legend-only entry (no points)."""
    return Curve(key, label, "line", np.array([]), np.array([]), colour=_c(colour, look), dash=dash,
                 width=_w(width_role, look), legend=True)


_M = HoverField("m_γD", "x", "GeV")
_NAME = HoverField("", "label")


# ------------------------------------------------------------------------------------ exclusion
def exclusion_y_range(data: dict) -> tuple[float, float]:
    """Default y range [GeV⁻¹]: every finite reach value, constraint edge and the current point, the top at
    least 1 GeV⁻¹, the bottom at most ``DECADES['exclusion']`` decades below the top and not below 1e-9."""
    pt = data["point"]
    cons = data["constraints"]
    ys = _finite_pos(*[c["g"] for c in data["curves"]], *[c.get("g") for c in cons],
                     *[c.get("lo") for c in cons], *[c.get("hi") for c in cons], [pt["g"]])
    if not ys.size:
        return 1e-6, 1.0
    hi = max(1.0, _decade_ceil(ys.max() * 1.5))
    lo = max(EXCLUSION_Y_FLOOR, _decade_floor(ys.min() / 1.5), hi * 10.0 ** -DECADES["exclusion"])
    return lo, hi


def chichi_closed(data: dict) -> str:
    """Why no experiment can set an invisible-decay limit, or "".

    γD → χχ̄ is closed where 2 m_χ ≥ m_γD (or α_D = 0): then Br(γD → invisible) = 0 and every reach curve is
    empty. Read from ``data['invisible_closed']`` when the view data carries it, else derived from each
    experiment's ``assumptions`` (m_χ [GeV] per grid mass or a number, α_D) and the curves' mass grid.
    """
    flag = data.get("invisible_closed")
    if flag is not None:
        return "γD → χχ̄ is closed (2 m_χ ≥ m_γD or α_D = 0): no invisible decay, no reach" if flag else ""
    curves = [c for c in data.get("curves", []) if c.get("channel") == "total"] or data.get("curves", [])
    assumptions = data.get("assumptions") or {}
    if not curves or not assumptions:
        return ""
    ratios = []
    for c in curves:
        a = assumptions.get(c.get("exp_id"))
        if not isinstance(a, dict):
            return ""
        if a.get("alpha_D") == 0:
            return "α_D = 0: γD → χχ̄ is closed, no invisible decay, so no experiment sets a limit"
        m_chi = a.get("m_chi_GeV")
        if m_chi is None or isinstance(m_chi, str):       # default m_χ = m_γD/3: always open
            return ""
        m = np.asarray(c["m"], dtype=float)
        r = np.broadcast_to(np.asarray(m_chi, dtype=float), m.shape) / m
        if not np.all(r >= 0.5):
            return ""
        ratios.append(r)
    r = np.concatenate(ratios)
    rtxt = f"{r.min():.3g}" if np.ptp(r) < 1e-9 * r.max() else f"{r.min():.3g}–{r.max():.3g}"
    return (f"γD → χχ̄ is closed: m_χ/m_γD = {rtxt} ≥ 1/2 on the whole mass range, so γD never decays "
            "invisibly and no experiment sets a limit (lower r_χ = m_χ/m_γD below 0.5)")


def _exclusion(data: dict, x_range, y_range, look: Look) -> FigureSpec:
    y_lo, y_hi = y_range or exclusion_y_range(data)
    curves: list[Curve] = []
    for c in data["constraints"]:
        colour = _c(style.CONSTRAINT_COLORS.get(c["key"], "#999999"), look)
        label = f"{c['label']} ({style.cite(c['provenance'])})"
        m, lo, hi, ok = style.constraint_band(c, y_hi)
        if not ok.any():
            continue
        key = f"con:{c['label']}"
        curves.append(Curve(key + ":area", label, "band", m[ok], lo[ok], hi[ok], colour=colour,
                            alpha=style.ALPHA["constraint"], legend=True, legend_group=key))
        curves.append(Curve(key + ":edge", label, "line", m[ok], lo[ok], colour=colour,
                            width=_w("constraint_edge", look), legend=True, legend_group=key,
                            hover=(_NAME, _M, HoverField("g", "y", "GeV⁻¹"), HoverField("source", "source")),
                            info=(("source", style.cite(c["provenance"])),)))
    any_band = False
    for c in data["curves"]:        # under the lines: data's excluded regions, then uncertainty bands
        name = style.short_name(c["experiment"])
        colour = _c(style.experiment_color(c), look)
        if c.get("excluded") and c["channel"] == "total":
            g = np.asarray(c["g"], dtype=float)
            ok = np.isfinite(g) & (g > 0) & (g < y_hi)
            if ok.any():
                curves.append(Curve(f"excl:{c['exp_id']}", f"{name} (excluded)", "band", np.asarray(c["m"])[ok],
                                    g[ok], np.full(int(ok.sum()), y_hi), colour=colour,
                                    alpha=style.ALPHA["excluded"], legend_group=f"exp:{c['exp_id']}"))
        band = c.get("band")
        if band is not None:
            lo, hi = np.asarray(band["lo"], dtype=float), np.asarray(band["hi"], dtype=float)
            ok = np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
            if ok.any():
                any_band = True
                curves.append(Curve(f"band:{c['exp_id']}:{c['channel']}", f"{name} — uncertainty band", "band",
                                    np.asarray(c["m"])[ok], lo[ok], hi[ok], colour=colour, alpha=style.ALPHA["band"],
                                    legend_group=f"exp:{c['exp_id']}"))
    channels: list[str] = []
    any_total = False
    for c in data["curves"]:
        ch = c["channel"]
        total = ch == "total"
        any_total |= total
        name = style.short_name(c["experiment"]) + (" (computing…)" if c.get("partial") else "")
        chl = style.CHANNEL_LABELS.get(ch, ch)
        curves.append(Curve(
            f"reach:{c['exp_id']}:{ch}", name if total else f"{name} — {chl}", "line", c["m"], c["g"],
            colour=_c(style.experiment_color(c), look),
            dash=style.experiment_dash(c) if total else style.CHANNEL_DASH.get(ch, "solid"),
            width=_w("reach_total" if total else "reach_channel", look),
            alpha=1.0 if total else style.ALPHA["reach_channel"], legend=total, legend_group=f"exp:{c['exp_id']}",
            hover=(HoverField("experiment", "experiment"), HoverField("channel", "channel"), _M,
                   HoverField("g₉₀", "y", "GeV⁻¹")),
            info=(("experiment", c["experiment"]), ("channel", chl))))
        if not total and ch not in channels:
            channels.append(ch)
    for ch in channels:
        curves.append(_swatch(f"swatch:{ch}", f"channel {style.CHANNEL_LABELS.get(ch, ch)}", look,
                              dash=style.CHANNEL_DASH.get(ch, "solid")))
    if channels and any_total:
        curves.append(_swatch("swatch:total", "channel total (thick)", look, width_role="reach_total"))
    if any_band:
        curves.append(Curve("swatch:band", "shaded around a line: uncertainty band (σ_V MC, meson model, form factor)",
                            "line", np.array([]), np.array([]), colour=_c(style.SWATCH_COLOR, look),
                            width=style.BAND_SWATCH_PX * look.line_scale, alpha=style.ALPHA["band"], legend=True))
    if any(c.get("excluded") and c["channel"] == "total" for c in data["curves"]):
        curves.append(Curve("swatch:excluded", "shaded above a line: excluded by the experiment's data", "line",
                            np.array([]), np.array([]), colour=_c(style.SWATCH_COLOR, look),
                            width=style.BAND_SWATCH_PX * look.line_scale, alpha=style.ALPHA["excluded"],
                            legend=True))
    pt = data["point"]
    curves.append(Curve("point", "current (m_γD, g)", "marker", np.array([pt["m_gd"]]), np.array([pt["g"]]),
                        colour=style.POINT_COLOR, legend=True, size=style.POINT_SIZE_PX * look.line_scale ** 0.5,
                        hover=(_NAME, _M, HoverField("g", "y", "GeV⁻¹"), HoverField("m_a", "m_a", "GeV")),
                        columns=(("m_a", np.array([pt["m_a"]], dtype=float)),)))
    if not data["curves"]:
        notice = data.get("message", "no experiment selected / tables not ready yet")
    elif not _finite_pos(*[c["g"] for c in data["curves"]]).size:
        notice = chichi_closed(data) or ("no finite 90% CL reach on this mass range (channels closed, or γD → aγ "
                                         "dominates before N₉₀ events)")
    else:
        notice = ""
    x_l, y_l = style.AXIS_LABELS["exclusion"]
    return FigureSpec("exclusion", style.TITLES["exclusion"] + style.method_tag(data), x_l, y_l, True, True,
                      tuple(x_range), (y_lo, y_hi), tuple(curves), notice=notice, look=look)


# ------------------------------------------------------------------------------------ yields
def yields_y_range(data: dict) -> tuple[float, float]:
    """Default y range [events]: from the largest value (×2, up to a decade) down to the smallest, at most
    ``DECADES['yields']`` decades and not below 1e-6 events."""
    v = _finite_pos(*[c["n"] for c in data["curves"]], list(data["n_up"].values()))
    if not v.size:
        return 1e-3, 1e3
    top = _decade_ceil(v.max() * 2)
    return _decade_floor(max(v.min(), top * 10.0 ** -DECADES["yields"], 1e-6)), top


def _yields(data: dict, x_range, y_range, look: Look) -> FigureSpec:
    curves_in = data["curves"]
    exp_ids = list(dict.fromkeys(c["exp_id"] for c in curves_in))
    dash_of = {e: style.EXPERIMENT_DASH[i % len(style.EXPERIMENT_DASH)] for i, e in enumerate(exp_ids)}
    curves: list[Curve] = []
    for c in curves_in:
        ch = c["channel"]
        chl = style.CHANNEL_LABELS.get(ch, ch)
        y = np.where(np.asarray(c["n"], dtype=float) > 0, c["n"], np.nan)
        curves.append(Curve(f"y:{c['exp_id']}:{ch}", chl, "line", c["m"], y,
                            colour=_c(style.CHANNEL_COLORS.get(ch, "#333333"), look), dash=dash_of[c["exp_id"]],
                            width=_w("yield", look), legend=True, legend_group=f"ch:{ch}",
                            hover=(HoverField("experiment", "experiment"), HoverField("channel", "channel"), _M,
                                   HoverField("N", "y")),
                            info=(("experiment", c["experiment"]), ("channel", chl))))
    for e in exp_ids:
        name = next(c["experiment"] for c in curves_in if c["exp_id"] == e)
        curves.append(_swatch(f"swatch:{e}", style.short_name(name), look, dash=dash_of[e], width_role="yield_swatch"))
    for i, v in enumerate(sorted({round(v, 6) for v in data["n_up"].values() if np.isfinite(v) and v > 0})):
        curves.append(Curve(f"nup:{i}", f"N₉₀ = {v:.3g}", "line", np.asarray(x_range, dtype=float),
                            np.array([v, v]), colour=style.N90_COLOR, dash="dashed", width=_w("n90", look),
                            legend=True))
    notice = "" if curves_in else (data.get("message") or
                                   "no yields to show (select an experiment; tables may still be computing)")
    if not curves_in and data.get("invisible_closed"):
        notice = "γD → χχ̄ is closed (2 m_χ ≥ m_γD or α_D = 0): no invisible decay, no signal events"
    x_l, y_l = style.AXIS_LABELS["yields"]
    return FigureSpec("yields", style.TITLES["yields"].format(g=data["g"]) + style.method_tag(data), x_l, y_l,
                      True, True, tuple(x_range), y_range or yields_y_range(data), tuple(curves), notice=notice,
                      look=look)


# ------------------------------------------------------------------------------------ EDM
def edm_y_range(data: dict) -> tuple[float, float]:
    """Default y range [GeV⁻¹]: all finite bounds (÷2 … ×2, to whole decades), at most ``DECADES['edm']``."""
    v = _finite_pos(*[c["bound"] for c in data["curves"]])
    if not v.size:
        return 1e-16, 1e-2
    hi = _decade_ceil(v.max() * 2)
    return max(_decade_floor(v.min() / 2), hi * 10.0 ** -DECADES["edm"]), hi


def _edm(data: dict, x_range, y_range, look: Look) -> FigureSpec:
    curves = []
    cutoffs = list(data.get("cutoffs") or [data["cutoff"]])
    two = len(cutoffs) > 1           # the paper's Fig. 6: both cut-offs, Λ = first thick, the others thin
    for c in data["curves"]:
        f, sc = c["fermion"], c["scenario"]
        fl, sl = style.FERMION_LABELS[f], style.SCENARIO_LABELS[sc]
        lam = float(c.get("cutoff", data["cutoff"]))
        key, label = f"edm:{f}:{sc}", f"{fl}, {sl}"
        if two:
            key, label = f"{key}:{lam:g}", f"{label}, Λ = {_tev(lam)}"
            thick = lam == cutoffs[0]
        else:
            thick = c["current"]
        curves.append(Curve(key, label, "line", c["m"], c["bound"],
                            colour=_c(style.FERMION_COLORS[f], look), dash=style.SCENARIO_DASH[sc],
                            width=_w("edm_current" if thick else "edm_other", look), legend=True,
                            hover=(HoverField("fermion", "fermion"), HoverField("scenario", "scenario"), _M,
                                   HoverField("bound", "y", "GeV⁻¹")),
                            info=(("fermion", fl), ("scenario", sl))))
    has = _finite_pos(*[c["bound"] for c in data["curves"]]).size > 0
    notice = "" if has else f"no EDM bound on this mass range at Λ = {data['cutoff']:.4g} GeV"
    x_l, y_l = style.AXIS_LABELS["edm"]
    title = (style.TITLES["edm"].format(cutoff=data["cutoff"]) if not two else
             "EDM bounds on |g_aγγD g̃_af g_γDf| at Λ = " + " (thick) and ".join(_tev(x) for x in cutoffs)
             + " (thin)")
    return FigureSpec("edm", title, x_l, y_l, True, True,
                      tuple(x_range), y_range or edm_y_range(data), tuple(curves), notice=notice, look=look)


def _tev(cutoff_gev: float) -> str:
    """A cut-off [GeV] as text in TeV (1000 → "1 TeV")."""
    return f"{cutoff_gev / 1000.0:g} TeV"


# ------------------------------------------------------------------------------------ spectrum
def spectrum_y_range(data: dict) -> tuple[float, float]:
    """Default y range [pb per atom]: the largest dσ/dx (×1.5, to a decade) down to the smallest, at most
    ``DECADES['spectrum']`` decades (the whole x range holds thresholds where dσ/dx → 0)."""
    v = _finite_pos(*[s["dsdx_pb"] for s in data["spectra"]])
    if not v.size:
        return 1e-3, 1.0
    hi = _decade_ceil(v.max() * 1.5)
    return max(_decade_floor(v.min() / 1.5), hi * 10.0 ** -DECADES["spectrum"]), hi


def cut_label(c: dict) -> str:
    """Legend text of an experiment's cut: x ≥ x_min, the E_miss threshold and the brem share it keeps."""
    txt = (f"cut {style.short_name(c['experiment'])}: x ≥ {c['x_min']:.3g} "
           f"(E_miss ≥ {c['x_min'] * c['beam_energy_gev']:.3g} GeV")
    frac = c.get("fraction")
    if frac is not None and np.isfinite(frac):
        txt += f"; keeps {100 * frac:.3g}% of brem σ"
    return txt + ")"


def _spectrum(data: dict, x_range, y_range, look: Look) -> FigureSpec:
    lo, hi = y_range or spectrum_y_range(data)
    curves = []
    for c in data.get("cuts", []):          # the rejected regions first (under the curves)
        colour = _c(style.experiment_color(c), look)
        label = cut_label(c)
        group = f"cut:{c['exp_id']}"
        curves.append(Curve(f"cut:{c['exp_id']}", label, "region", np.array([0.0, c["x_min"]]), colour=colour,
                            alpha=style.ALPHA["cut"], legend=True, legend_group=group))
        curves.append(Curve(f"cutline:{c['exp_id']}", label, "line", np.array([c["x_min"], c["x_min"]]),
                            np.array([lo, hi]), colour=colour, dash="dashed", width=_w("cut_edge", look),
                            legend=True, legend_group=group))
        if c.get("x_max", 1.0) < 1.0:
            curves.append(Curve(f"cuthi:{c['exp_id']}", label, "region", np.array([c["x_max"], 1.0]),
                                colour=colour, alpha=style.ALPHA["cut"], legend=True, legend_group=group))
    for s in data["spectra"]:
        y = np.asarray(s["dsdx_pb"], dtype=float)
        curves.append(Curve(f"spec:{s['exp_id']}",
                            f"{style.short_name(s['experiment'])} ({s['beam_energy_gev']:g} GeV, {s['target']})",
                            "step", np.asarray(s["x_edges"], dtype=float), np.where(y > 0, y, np.nan),
                            colour=_c(style.experiment_color(s), look), width=_w("spectrum", look), legend=True,
                            hover=(HoverField("experiment", "experiment"), HoverField("x", "x"),
                                   HoverField("dσ/dx", "y", "pb")),
                            info=(("experiment", s["experiment"]),)))
    notice = "" if data["spectra"] else ("; ".join(data.get("notes", [])) or "no spectrum (select an experiment)")
    pt = data["point"]
    x_l, y_l = style.AXIS_LABELS["spectrum"]
    return FigureSpec("spectrum", style.TITLES["spectrum"].format(**pt) + style.method_tag(data), x_l, y_l,
                      False, True, tuple(x_range), (lo, hi), tuple(curves), notice=notice[:160], look=look)


def _map(data: dict, x_range, y_range, look: Look) -> FigureSpec:
    """The "map" view: :func:`plane_spec` of the data of :func:`dashboard.planeview.map_view`."""
    return plane_spec(data["m_gd"], data["m_a"], data["g90"], data["title"] + style.method_tag(data),
                      x_range=x_range, y_range=y_range, look=look, notice=data.get("message", ""))


_BUILDERS = {"exclusion": _exclusion, "yields": _yields, "edm": _edm, "spectrum": _spectrum, "map": _map}


def spec(view: str, data: dict, x_range, y_range=None, look: Look = SCREEN) -> FigureSpec:
    """The figure of ``view`` for the view's data dict. ``x_range``: the m_γD range [GeV]; for the spectrum the
    interval of x = E_miss/E₀ inside [0, 1] (None → the whole 0…1);
    ``y_range`` None → the view's default rule, else used as given (validated)."""
    if view not in _BUILDERS:
        raise InputError("view", f"one of {', '.join(_BUILDERS)}", view)
    if view == "spectrum":
        x_range = (0.0, 1.0) if x_range is None else _range("x_range", x_range, False)
        if not 0.0 <= x_range[0] < x_range[1] <= 1.0:
            raise InputError("x_range", "0 ≤ lo < hi ≤ 1 (x = E_miss/E₀)", x_range)
    elif view == "map":                     # None → the map's grid
        x_range = None if x_range is None else _range("x_range", x_range, True)
    else:
        x_range = _range("x_range", x_range, True)
    if y_range is not None:
        y_range = _range("y_range", y_range, True)
    s = _BUILDERS[view](data, x_range, y_range, look)
    return _with_caption(s, data.get("preset"))


def _with_caption(s: FigureSpec, preset: dict | None = None) -> FigureSpec:
    """The view's caption; with a paper preset (``data["preset"]``: {caption, citation}) its caption first and
    its citation on the spec (the exports print it)."""
    s = replace(s, caption=style.CAPTIONS.get(s.view, "")) if not s.caption else s
    if preset:
        s = replace(s, caption=f"{preset['caption']}\n\n{s.caption}", citation=preset["citation"])
    return s


# ------------------------------------------------------------------------------------ the (m_γD, m_a) plane
def _log_edges(c: np.ndarray) -> np.ndarray:
    """Cell edges of log-spaced centres (geometric midpoints, end cells symmetric in log)."""
    lc = np.log10(c)
    if lc.size == 1:
        return 10.0 ** np.array([lc[0] - 0.5, lc[0] + 0.5])
    mid = 0.5 * (lc[1:] + lc[:-1])
    return 10.0 ** np.concatenate([[2 * lc[0] - mid[0]], mid, [2 * lc[-1] - mid[-1]]])


def contour_lines(x, y, z, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Contour of ``z`` (shape len(y) × len(x), NaN = no value) at ``level``, computed in log10 of the
    positive coordinates ``x``, ``y``; one polyline with NaN between pieces (contourpy, marching squares)."""
    import contourpy

    lx, ly = np.log10(np.asarray(x, dtype=float)), np.log10(np.asarray(y, dtype=float))
    zz = np.ma.masked_invalid(np.asarray(z, dtype=float))
    gen = contourpy.contour_generator(lx, ly, zz, line_type=contourpy.LineType.Separate)
    pieces = gen.lines(level)
    if not pieces:
        return np.array([]), np.array([])
    xs, ys = [], []
    for p in pieces:
        xs += [10.0 ** p[:, 0], [np.nan]]
        ys += [10.0 ** p[:, 1], [np.nan]]
    return np.concatenate(xs[:-1]), np.concatenate(ys[:-1])


def plane_spec(m_gd, m_a, g90_2d, title: str, *, levels=None, x_range=None, y_range=None, look: Look = SCREEN,
               z_label: str = "log₁₀ g₉₀ [GeV⁻¹]", notice: str = "") -> FigureSpec:
    """The (m_γD, m_a) map of the 90% CL reach: ``m_gd`` [GeV] (n, log-spaced, increasing), ``m_a`` [GeV]
    (k, same), ``g90_2d`` [GeV⁻¹] shape (k, n) (NaN or ≤ 0 = no limit). Cells coloured by log10 g₉₀; contour
    lines at ``levels`` (log10 g₉₀; None → every whole decade inside the data, at most 8)."""
    x = np.asarray(m_gd, dtype=float)
    y = np.asarray(m_a, dtype=float)
    g = np.asarray(g90_2d, dtype=float)
    for name, a in (("m_gd", x), ("m_a", y)):
        if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a) & (a > 0)) or np.any(np.diff(a) <= 0):
            raise InputError(name, "an increasing list of at least 2 positive masses [GeV]", a.tolist()[:5])
    if g.shape != (y.size, x.size):
        raise InputError("g90_2d", f"an array of shape (len(m_a), len(m_gd)) = ({y.size}, {x.size})", g.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(g) & (g > 0), np.log10(np.where(g > 0, g, 1.0)), np.nan)
    finite = z[np.isfinite(z)]
    z_range = (float(finite.min()), float(finite.max())) if finite.size else (-6.0, 0.0)
    if z_range[0] == z_range[1]:
        z_range = (z_range[0] - 0.5, z_range[1] + 0.5)
    if levels is None:
        levels = [float(v) for v in range(math.ceil(z_range[0]), math.floor(z_range[1]) + 1)] if finite.size else []
        if len(levels) > 8:
            levels = levels[:: math.ceil(len(levels) / 8)]
    xe, ye = _log_edges(x), _log_edges(y)
    fg = style.THEMES[look.theme]["foreground"]
    curves = [Curve("plane", z_label, "image", xe, ye, z=z, z_range=z_range, z_label=z_label,
                    hover=(HoverField("m_γD", "x", "GeV"), HoverField("m_a", "y", "GeV"),
                           HoverField("g₉₀", "g", "GeV⁻¹")),
                    columns=(("g", g),))]
    for lv in levels:
        cx, cy = contour_lines(x, y, z, lv) if finite.size else (np.array([]), np.array([]))
        if cx.size:
            curves.append(Curve(f"contour:{lv:g}", f"g₉₀ = 1e{lv:g} GeV⁻¹", "line", cx, cy, colour=fg,
                                width=_w("contour", look), dash="solid",
                                hover=(_NAME,)))
    if not finite.size and not notice:
        notice = "no finite g₉₀ on this grid"
    x_l, y_l = style.AXIS_LABELS["plane"]
    xr = _range("x_range", x_range, True) if x_range is not None else (float(xe[0]), float(xe[-1]))
    yr = _range("y_range", y_range, True) if y_range is not None else (float(ye[0]), float(ye[-1]))
    return FigureSpec("plane", str(title), x_l, y_l, True, True, xr, yr, tuple(curves), notice=notice, look=look,
                      caption=style.CAPTIONS.get("plane", ""))


__all__ = ["Look", "SCREEN", "PRESENTATION", "DARK", "LOOKS", "ExportSize", "EXPORT_SIZES", "HoverField", "Curve",
           "FigureSpec", "spec", "plane_spec", "step_xy", "cut_label", "contour_lines", "chichi_closed",
           "exclusion_y_range", "yields_y_range", "edm_y_range", "spectrum_y_range", "VIEWS", "KINDS"]
