"""Interactive figures of the four views (Bokeh), fed by the data dicts of :class:`DashboardState`.

Each view is a :class:`LiveFigure`: one Bokeh figure per session whose glyphs are created once per curve
key and afterwards only get new data (``ColumnDataSource.data``) and style — so a slider move costs a few
milliseconds on the server and sends only the changed arrays to the browser. (Re-rendering a HoloViews
overlay of ~25 curves took ~1 s per change here, far above the 200 ms budget; the exported figures are
drawn with matplotlib in :mod:`dashboard.export` from the same data.)

Log axes, units in the axis labels, legends outside the plot (click to hide), hover tooltips with values
and provenance.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, HoverTool, Label, Legend, LegendItem, Range1d
from bokeh.plotting import figure

from . import style

HEIGHT = 560
M_LABEL = "dark-photon mass m_γD [GeV]"


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


def _label_text(item) -> str:
    """A LegendItem's label text (Bokeh keeps it as a value spec or, once assigned, as the plain string)."""
    lab = item.label
    if isinstance(lab, dict):
        return lab.get("value")
    return getattr(lab, "value", lab)


def _same_data(old: dict, new: dict) -> bool:
    if old.keys() != new.keys():
        return False
    for k, v in new.items():
        o = old[k]
        if isinstance(v, np.ndarray) or isinstance(o, np.ndarray):
            a, b = np.asarray(o), np.asarray(v)
            if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
                return False
            if a.dtype.kind == "f":
                if not np.array_equal(a, b, equal_nan=True):
                    return False
            elif not np.array_equal(a, b):
                return False
        elif list(o) != list(v):
            return False
    return True


class LiveFigure:
    """A Bokeh figure whose curves are addressed by key and updated in place.

    Usage per update: ``begin()``, then ``line``/``area``/``points`` for every curve to show (creating the
    glyph on first use, else only replacing data and style), then ``end(xlim, ylim)`` which hides unused
    glyphs, rebuilds the legend and sets the axis ranges.
    """

    def __init__(self, title: str, x_label: str, y_label: str, y_log: bool = True, x_log: bool = True,
                 hover: dict | None = None):
        self.fig = figure(title=title, x_axis_type="log" if x_log else "linear",
                          y_axis_type="log" if y_log else "linear", x_axis_label=x_label, y_axis_label=y_label,
                          x_range=Range1d(1e-3 if x_log else 0, 1), y_range=Range1d(1e-3 if y_log else 0, 1),
                          sizing_mode="stretch_width", height=HEIGHT, min_width=500,
                          tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above",
                          output_backend="canvas")
        self.fig.title.text_font_size = "15px"
        for ax in (self.fig.xaxis, self.fig.yaxis):
            ax.axis_label_text_font_size = "14px"
            ax.axis_label_text_font_style = "normal"
            ax.major_label_text_font_size = "12px"
        self.legend = Legend(items=[], click_policy="hide", label_text_font_size="12px", spacing=1,
                             glyph_width=30, location="top_left")
        self.fig.add_layout(self.legend, "right")
        self.hovers: dict[str, HoverTool] = {}
        for name, tooltips in (hover or {}).items():
            h = HoverTool(tooltips=tooltips, renderers=[], visible=False)
            self.fig.add_tools(h)
            self.hovers[name] = h
        self.message = Label(x=70, y=HEIGHT // 2 - 40, x_units="screen", y_units="screen", text="",
                             text_font_size="15px", text_color="#666")
        self.fig.add_layout(self.message)
        self._r: dict[str, object] = {}
        self._kind: dict[str, str] = {}
        self._hover_of: dict[str, str | None] = {}
        self._used: set = set()
        self._items: list[tuple[str, str, list]] = []          # (legend key, label, renderers) this update
        self._legend_items: dict[str, LegendItem] = {}          # legend key -> LegendItem (kept for reuse)

    # -- updating ---------------------------------------------------------------------------------
    def render(self, *args, **kwargs):
        """``update(*args)``. When the update adds glyphs or legend entries, the document's model graph is
        frozen from then on, so Bokeh re-walks the page's ~1500 models once at the end instead of after every
        new model; a pure value update never pays that walk."""
        self._stack = contextlib.ExitStack()
        try:
            return self.update(*args, **kwargs)
        finally:
            stack, self._stack = self._stack, None
            stack.close()

    def _structural_change(self):
        """Called before adding models: freeze the document's model graph for the rest of this update."""
        doc = self.fig.document
        stack = getattr(self, "_stack", None)
        if doc is not None and stack is not None and not getattr(stack, "_dap_frozen", False):
            stack.enter_context(doc.models.freeze())
            stack._dap_frozen = True

    def update(self, *args, **kwargs):  # pragma: no cover - implemented by the views
        raise NotImplementedError

    # -- glyph management -------------------------------------------------------------------------
    def begin(self):
        self._used = set()
        self._items = []

    def _renderer(self, key: str, kind: str, data: dict, hover: str | None):
        r = self._r.get(key)
        if r is not None and self._kind[key] == kind:
            if not _same_data(r.data_source.data, data):
                r.data_source.data = data
            return r, False
        self._structural_change()
        src = ColumnDataSource(data)
        if kind == "line":
            r = self.fig.line("x", "y", source=src)
        elif kind == "area":
            r = self.fig.varea("x", "y1", "y2", source=src)
        elif kind == "points":
            r = self.fig.scatter("x", "y", source=src, marker="star", size=20)
        else:  # pragma: no cover
            raise ValueError(kind)
        r.name = f"dap:{key}"  # stable handle (browser tests, embedding)
        self._r[key] = r
        self._kind[key] = kind
        # hover membership is fixed at creation: changing a list of model references later would make Bokeh
        # re-walk the whole document on every update
        if hover and hover in self.hovers:
            h = self.hovers[hover]
            h.renderers = [*h.renderers, r]
        return r, True

    def _finish(self, key, r, legend, legend_key=None):
        self._used.add(key)
        if not r.visible:
            r.visible = True
        if legend:
            lkey = legend_key or legend
            for i, (k, lab, rs) in enumerate(self._items):
                if k == lkey:
                    rs.append(r)
                    break
            else:
                self._items.append((lkey, legend, [r]))

    def line(self, key: str, x, y, legend: str | None = None, hover: str | None = None, extra: dict | None = None,
             color="#000", dash="solid", width=2.0, alpha=1.0, legend_key: str | None = None):
        data = {"x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float), **(extra or {})}
        r, _ = self._renderer(key, "line", data, hover)
        r.glyph.update(line_color=color, line_dash=dash, line_width=width, line_alpha=alpha)
        self._finish(key, r, legend, legend_key)
        return r

    def area(self, key: str, x, y1, y2, legend: str | None = None, color="#999", alpha=0.35,
             legend_key: str | None = None):
        data = {"x": np.asarray(x, dtype=float), "y1": np.asarray(y1, dtype=float), "y2": np.asarray(y2, dtype=float)}
        r, _ = self._renderer(key, "area", data, None)
        r.glyph.update(fill_color=color, fill_alpha=alpha)
        self._finish(key, r, legend, legend_key)
        return r

    def points(self, key: str, x, y, legend: str | None = None, hover: str | None = None, extra: dict | None = None,
               color="#E41A1C"):
        data = {"x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float), **(extra or {})}
        r, _ = self._renderer(key, "points", data, hover)
        r.glyph.update(fill_color=color, line_color="black")
        self._finish(key, r, legend)
        return r

    def swatch(self, key: str, label: str, color="#444", dash="solid", width=1.5):
        """Legend-only entry: a line far outside the (explicit) axis ranges — Bokeh draws no legend glyph for a
        renderer without data."""
        return self.line(key, [1e-30, 2e-30], [1e-30, 1e-30], legend=label, color=color, dash=dash, width=width,
                         legend_key=key)

    def end(self, xlim, ylim, title: str | None = None, message: str = ""):
        for key, r in self._r.items():
            if key not in self._used and r.visible:
                r.visible = False
        # Legend items are kept and only shown/hidden/relabelled (plain properties); the item list itself —
        # a list of model references, expensive to change — is rebuilt only when a new entry appears.
        new_entry = False
        wanted = []
        for lkey, label, rs in self._items:
            item = self._legend_items.get(lkey)
            if item is None:
                self._structural_change()
                item = self._legend_items[lkey] = LegendItem(label=value(label), renderers=rs)
                new_entry = True
            else:
                if [x.id for x in item.renderers] != [x.id for x in rs]:
                    self._structural_change()
                    item.renderers = rs
                if _label_text(item) != label:
                    # always an explicit value spec: a bare string sent as a patch can reach BokehJS as a
                    # field spec ("Bad column name on label" in the browser, legend entry "Invalid field")
                    item.label = value(label)
                if not item.visible:
                    item.visible = True
            wanted.append(lkey)
        for lkey, item in self._legend_items.items():
            if lkey not in wanted and item.visible:
                item.visible = False
        if new_entry:
            rest = [k for k in self._legend_items if k not in wanted]
            self.legend.items = [self._legend_items[k] for k in wanted + rest]
        self.legend.visible = bool(wanted)
        self.fig.x_range.update(start=float(xlim[0]), end=float(xlim[1]))
        self.fig.y_range.update(start=float(ylim[0]), end=float(ylim[1]))
        if title is not None and self.fig.title.text != title:
            self.fig.title.text = title
        if self.message.text != message:
            self.message.text = message


_CURVE_TIPS = [("experiment", "@experiment"), ("channel", "@channel"), ("m_γD", "@x{0.000e0} GeV"),
               ("value", "@y{0.00e0}")]


# ------------------------------------------------------------------------------------ exclusion
class ExclusionFigure(LiveFigure):
    """g_aγγD vs m_γD: reach per experiment (total thick, channels thin with dash per channel), other
    constraints shaded with their source in legend and hover, the current (m_γD, g) point."""

    def __init__(self):
        super().__init__("90% CL reach on g_aγγD (invisible γD)", M_LABEL, "coupling g_aγγD [GeV⁻¹]",
                         hover={"curve": [("experiment", "@experiment"), ("channel", "@channel"),
                                          ("m_γD", "@x{0.000e0} GeV"), ("g₉₀", "@y{0.00e0} GeV⁻¹")],
                                "constraint": [("constraint", "@constraint"), ("m_γD", "@x{0.000e0} GeV"),
                                               ("g", "@y{0.00e0} GeV⁻¹"), ("source", "@source")],
                                "point": [("current point", ""), ("m_γD", "@x{0.000e0} GeV"),
                                          ("g", "@y{0.00e0} GeV⁻¹"), ("m_a", "@m_a{0.000e0} GeV")]})

    @staticmethod
    def y_limits(data: dict) -> tuple[float, float]:
        curves, cons, pt = data["curves"], data["constraints"], data["point"]
        ys = _finite_pos(*[c["g"] for c in curves], *[c.get("g") for c in cons if c["kind"] == "upper"],
                         [pt["g"]])
        lo = max(1e-9, _decade_floor(ys.min() / 1.5)) if ys.size else 1e-6
        hi = max(1.0, _decade_ceil(pt["g"] * 1.5))
        return lo, hi

    def update(self, data: dict, x_range) -> None:
        self.begin()
        y_lo, y_hi = self.y_limits(data)
        for i, c in enumerate(data["constraints"]):
            color = style.CONSTRAINT_COLORS.get(c["key"], "#999")
            label = f"{c['label']} ({style.cite(c['provenance'])})"
            m, lo, hi, ok = style.constraint_band(c, y_hi)
            if not ok.any():
                continue
            key = f"con:{c['label']}"
            self.area(key + ":area", m[ok], lo[ok], hi[ok], legend=label, color=color, alpha=0.35)
            n = int(ok.sum())
            self.line(key + ":edge", m[ok], lo[ok], legend=label, hover="constraint", color=color, width=1.5,
                      extra={"constraint": [c["label"]] * n, "source": [style.cite(c["provenance"])] * n})
        exp_ids = list(dict.fromkeys(c["exp_id"] for c in data["curves"]))
        channels = []
        for c in data["curves"]:
            ch = c["channel"]
            total = ch == "total"
            n = len(c["m"])
            name = style.short_name(c["experiment"]) + (" (computing…)" if c.get("partial") else "")
            self.line(f"reach:{c['exp_id']}:{ch}", c["m"], c["g"], legend=name if total else None, hover="curve",
                      legend_key=f"exp:{c['exp_id']}",
                      color=style.experiment_color(c), dash=style.CHANNEL_DASH.get(ch, "solid"),
                      width=3.2 if total else 1.4, alpha=1.0 if total else 0.8,
                      extra={"experiment": [c["experiment"]] * n, "channel": [style.CHANNEL_LABELS.get(ch, ch)] * n})
            if not total and ch not in channels:
                channels.append(ch)
        for ch in channels:
            self.swatch(f"swatch:{ch}", f"channel {style.CHANNEL_LABELS[ch]}", dash=style.CHANNEL_DASH[ch])
        if exp_ids and channels:
            self.swatch("swatch:total", "channel total (thick)", dash="solid", width=3.2)
        pt = data["point"]
        self.points("point", [pt["m_gd"]], [pt["g"]], legend="current (m_γD, g)", hover="point",
                    extra={"m_a": [pt["m_a"]]})
        msg = "" if data["curves"] else data.get("message", "no experiment selected / tables not ready yet")
        self.end(x_range, (y_lo, y_hi), message=msg,
                 title="90% CL reach on g_aγγD (invisible γD)" + style.method_tag(data))


# ------------------------------------------------------------------------------------ yields
def yields_ylim(curves, n_up: dict) -> tuple[float, float]:
    v = _finite_pos(*[c["n"] for c in curves], list(n_up.values()))
    if not v.size:
        return 1e-3, 1e3
    top = _decade_ceil(v.max() * 2)
    bottom = max(v.min(), top * 1e-12, 1e-6)
    return _decade_floor(bottom), top


class YieldsFigure(LiveFigure):
    """Expected signal events vs m_γD at the chosen g: brem vs each meson (paper Fig. 3); colour = channel,
    dash = experiment; the 90% CL event limit as a red dashed line."""

    def __init__(self):
        super().__init__("Signal events", M_LABEL, "expected signal events N", hover={"curve": [
            ("experiment", "@experiment"), ("channel", "@channel"), ("m_γD", "@x{0.000e0} GeV"),
            ("N", "@y{0.00e0}")]})

    def update(self, data: dict, x_range) -> None:
        self.begin()
        curves = data["curves"]
        exp_ids = list(dict.fromkeys(c["exp_id"] for c in curves))
        dash_of = {e: style.EXPERIMENT_DASH[i % len(style.EXPERIMENT_DASH)] for i, e in enumerate(exp_ids)}
        seen = set()
        for c in curves:
            ch = c["channel"]
            n = len(c["m"])
            first = ch not in seen
            seen.add(ch)
            y = np.where(np.asarray(c["n"]) > 0, c["n"], np.nan)
            self.line(f"y:{c['exp_id']}:{ch}", c["m"], y, legend=style.CHANNEL_LABELS.get(ch, ch) if first else None,
                      hover="curve", color=style.CHANNEL_COLORS.get(ch, "#333"), dash=dash_of[c["exp_id"]],
                      width=2.4, extra={"experiment": [c["experiment"]] * n,
                                        "channel": [style.CHANNEL_LABELS.get(ch, ch)] * n})
        for e in exp_ids:
            name = next(c["experiment"] for c in curves if c["exp_id"] == e)
            self.swatch(f"swatch:{e}", style.short_name(name), dash=dash_of[e], width=1.8)
        nups = sorted({round(v, 6) for v in data["n_up"].values() if np.isfinite(v) and v > 0})
        for i, v in enumerate(nups):
            self.line(f"nup:{i}", list(x_range), [v, v], legend=f"N₉₀ = {v:.3g}", color="#E41A1C", dash="dashed",
                      width=1.3)
        msg = "" if curves else "no yields to show (select an experiment; tables may still be computing)"
        self.end(x_range, yields_ylim(curves, data["n_up"]),
                 title=f"Expected signal events at g_aγγD = {data['g']:.3g} GeV⁻¹" + style.method_tag(data),
                 message=msg)


# ------------------------------------------------------------------------------------ EDM
class EdmFigure(LiveFigure):
    """Bounds on |g_aγγD g̃_af g_γDf| vs m_γD for e, μ, n at cut-off Λ, both scenarios (paper Fig. 6)."""

    def __init__(self):
        super().__init__("EDM bounds", M_LABEL, "|g_aγγD g̃_af g_γDf| [GeV⁻¹]", hover={"curve": [
            ("fermion", "@fermion"), ("scenario", "@scenario"), ("m_γD", "@x{0.000e0} GeV"),
            ("bound", "@y{0.00e0} GeV⁻¹")]})

    def update(self, data: dict, x_range) -> None:
        self.begin()
        for c in data["curves"]:
            f, sc = c["fermion"], c["scenario"]
            n = len(c["m"])
            self.line(f"edm:{f}:{sc}", c["m"], c["bound"],
                      legend=f"{style.FERMION_LABELS[f]}, {style.SCENARIO_LABELS[sc]}", hover="curve",
                      color=style.FERMION_COLORS[f], dash=style.SCENARIO_DASH[sc],
                      width=3.2 if c["current"] else 1.6,
                      extra={"fermion": [style.FERMION_LABELS[f]] * n, "scenario": [style.SCENARIO_LABELS[sc]] * n})
        v = _finite_pos(*[c["bound"] for c in data["curves"]])
        ylim = (_decade_floor(v.min() / 2), _decade_ceil(v.max() * 2)) if v.size else (1e-16, 1e-2)
        self.end(x_range, ylim, title=f"EDM bounds on |g_aγγD g̃_af g_γDf| at Λ = {data['cutoff']:.4g} GeV "
                                      "(thick: current scenario)")


# ------------------------------------------------------------------------------------ spectrum
def step_xy(edges, values):
    e = np.asarray(edges, dtype=float)
    v = np.asarray(values, dtype=float)
    x = np.repeat(e, 2)[1:-1]
    y = np.repeat(v, 2)
    return x, y


#: Decades of dσ/dx shown below the largest value (the whole x range holds thresholds where dσ/dx → 0).
SPECTRUM_DECADES = 7


def spectrum_ylim(vals) -> tuple[float, float]:
    v = _finite_pos(*vals)
    if not v.size:
        return 1e-3, 1.0
    hi = _decade_ceil(v.max() * 1.5)
    return max(_decade_floor(v.min() / 1.5), hi * 10.0 ** -SPECTRUM_DECADES), hi


def cut_label(c: dict) -> str:
    """Legend text of an experiment's cut: x ≥ x_min, the E_miss threshold and the brem share it keeps."""
    txt = (f"cut {style.short_name(c['experiment'])}: x ≥ {c['x_min']:.3g} "
           f"(E_miss ≥ {c['x_min'] * c['beam_energy_gev']:.3g} GeV")
    frac = c.get("fraction")
    if frac is not None and np.isfinite(frac):
        txt += f"; keeps {100 * frac:.3g}% of brem σ"
    return txt + ")"


class SpectrumFigure(LiveFigure):
    """dσ/dx of e N → e N a γD (brem channel) over the whole 0 ≤ x ≤ 1 per σ_V table at the current
    (m_a, m_γD, g), with the region each experiment's cut rejects shaded (x < x_min, and x > x_max if < 1)."""

    def __init__(self):
        super().__init__("Missing-energy spectrum", "missing-energy fraction x = E_miss/E₀",
                         "dσ/dx [pb per atom]", x_log=False,
                         hover={"curve": [("experiment", "@experiment"), ("x", "@x{0.000}"),
                                          ("dσ/dx", "@y{0.00e0} pb")]})

    def update(self, data: dict) -> None:
        self.begin()
        vals = []
        curves = []
        for i, s in enumerate(data["spectra"]):
            x, y = step_xy(s["x_edges"], s["dsdx_pb"])
            y = np.where(y > 0, y, np.nan)
            vals.append(y)
            curves.append((s, x, y))
        ylim = spectrum_ylim(vals)
        # the rejected regions first (under the curves), one band and one edge line per experiment
        for c in data.get("cuts", []):
            color = style.experiment_color(c)
            label = cut_label(c)
            lkey = f"cut:{c['exp_id']}"
            lo, hi = ylim
            self.area(f"cut:{c['exp_id']}", [0.0, c["x_min"]], [lo, lo], [hi, hi], legend=label, color=color,
                      alpha=0.12, legend_key=lkey)
            self.line(f"cutline:{c['exp_id']}", [c["x_min"], c["x_min"]], [lo, hi], legend=label, color=color,
                      dash="dashed", width=1.6, legend_key=lkey)
            if c.get("x_max", 1.0) < 1.0:
                self.area(f"cuthi:{c['exp_id']}", [c["x_max"], 1.0], [lo, lo], [hi, hi], legend=label,
                          color=color, alpha=0.12, legend_key=lkey)
        for s, x, y in curves:
            color = style.experiment_color(s)
            label = f"{style.short_name(s['experiment'])} ({s['beam_energy_gev']:g} GeV, {s['target']})"
            self.line(f"spec:{s['exp_id']}", x, y, legend=label, hover="curve", color=color, width=2.4,
                      legend_key=f"spec:{s['exp_id']}",
                      extra={"experiment": [s["experiment"]] * len(x)})
        pt = data["point"]
        msg = "" if data["spectra"] else ("; ".join(data.get("notes", [])) or "no spectrum (select an experiment)")
        self.end((0.0, 1.0), ylim, message=msg[:120],
                 title=(f"dσ/dx (brem): m_γD = {pt['m_gd']:.3g} GeV, m_a = {pt['m_a']:.3g} GeV, "
                        f"g = {pt['g']:.3g} GeV⁻¹" + style.method_tag(data)))
