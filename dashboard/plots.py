"""The live renderer: a :class:`dashboard.figures.FigureSpec` drawn with Bokeh, updated in place.

``LiveFigure(view)`` owns one Bokeh figure per session; ``render(spec)`` creates a glyph the first time a
curve key appears and afterwards only replaces its data (``ColumnDataSource.data``, when it changed) and
style — a slider move costs a few milliseconds on the server and sends only the changed arrays to the
browser. (Re-rendering a HoloViews overlay of ~25 curves took ~1 s per change here, far above the 200 ms
budget.) Everything drawn — labels, colours, dashes, widths, ranges, notice — comes from the spec; the files
of :mod:`dashboard.export` are drawn from the same spec.

Log axes, legend outside the plot (click to hide; an entry hides all curves of its group), hover tooltips
with 3 significant figures and units, the spec's notice drawn on the plot, a colour bar for image specs.
"""

from __future__ import annotations

import contextlib
import textwrap

import numpy as np
from bokeh.core.properties import value
from bokeh.models import (ColorBar, ColumnDataSource, GlyphRenderer, HoverTool, Label, Legend, LegendItem, Line,
                          LinearColorMapper, Quad, Range1d, Scatter, VArea)
from bokeh.palettes import Cividis256, Inferno256, Magma256, Plasma256, Viridis256
from bokeh.plotting import figure

from . import figures, style
from .figures import FigureSpec

HEIGHT = 560
#: printf format of every numeric hover value: 3 significant figures, scientific notation when small/large
HOVER_NUMBER = "%.3g"
_PALETTES = {"viridis": Viridis256, "plasma": Plasma256, "inferno": Inferno256, "magma": Magma256,
             "cividis": Cividis256}
_GLYPH = {"line": "line", "step": "line", "band": "area", "region": "area", "marker": "marker", "image": "image"}


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
        a, b = np.asarray(old[k]), np.asarray(v)
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        if a.dtype.kind == "f":
            if not np.array_equal(a, b, equal_nan=True):
                return False
        elif not np.array_equal(a, b):
            return False
    return True


def _numeric(curve, column: str) -> bool:
    return column in ("x", "y") or column in dict(curve.columns)


def _hover_signature(curve) -> tuple:
    return tuple((f.label, f.column, f.unit, _numeric(curve, f.column)) for f in curve.hover)


def hover_tool(signature: tuple) -> HoverTool:
    """Tooltips for one hover signature: numbers via printf ``%.3g`` (``1e-06 GeV``, ``0.000412 GeV⁻¹``)."""
    tips, formatters = [], {}
    for label, col, unit, numeric in signature:
        if numeric:
            tips.append((label, f"@{{{col}}}{{{HOVER_NUMBER}}}" + (f" {unit}" if unit else "")))
            formatters[f"@{{{col}}}"] = "printf"
        else:
            tips.append((label, f"@{{{col}}}" + (f" {unit}" if unit else "")))
    return HoverTool(tooltips=tips, formatters=formatters, renderers=[], visible=False)


def _xy_data(spec: FigureSpec, c) -> dict:
    """Bokeh columns of a curve (plus its hover columns)."""
    kind = c.kind
    if kind == "step":
        x, y = figures.step_xy(c.x, c.y)
        rep = 2
    elif kind == "region":
        lo, hi = spec.y_range
        return {"x": np.asarray(c.x, dtype=float)[:2], "y1": np.array([lo, lo]), "y2": np.array([hi, hi])}
    elif kind == "image":
        xe, ye = np.asarray(c.x, dtype=float), np.asarray(c.y, dtype=float)
        left, bottom = np.meshgrid(xe[:-1], ye[:-1])
        right, top = np.meshgrid(xe[1:], ye[1:])
        d = {"left": left.ravel(), "right": right.ravel(), "bottom": bottom.ravel(), "top": top.ravel(),
             "z": np.asarray(c.z, dtype=float).ravel(),
             "x": np.sqrt(left * right).ravel(), "y": np.sqrt(bottom * top).ravel()}
        for name, arr in c.columns:
            d[name] = np.asarray(arr, dtype=float).ravel()
        return d
    else:
        x, y = np.asarray(c.x, dtype=float), np.asarray(c.y, dtype=float)
        rep = 1
    if x.size == 0:       # legend-only entry: two points far outside the axis ranges (no visible line)
        x0, y0 = spec.x_range[0], spec.y_range[0]
        x = np.array([x0 * 1e-9, x0 * 2e-9]) if spec.x_log else np.array([x0 - 1e9, x0 - 2e9])
        y = np.array([y0 * 1e-9, y0 * 1e-9])
    if kind == "band":
        return {"x": x, "y1": y, "y2": np.asarray(c.y2, dtype=float)}
    d = {"x": x, "y": y}
    n = len(x)
    info = dict(c.info)
    cols = dict(c.columns)
    for f in c.hover:
        col = f.column
        if col in d:
            continue
        if col == "label":
            d[col] = [c.label] * n
        elif col in info:
            d[col] = [info[col]] * n
        elif col in cols:
            d[col] = np.repeat(np.asarray(cols[col], dtype=float), rep)
    return d


class LiveFigure:
    """One view's Bokeh figure (``.fig``); ``render(spec)`` draws a :class:`FigureSpec` in place."""

    def __init__(self, view: str):
        self.view = view
        x_log = view != "spectrum"
        self.x_log, self.y_log = x_log, True
        x_label, y_label = style.AXIS_LABELS.get(view, ("", ""))
        self.fig = figure(title="", x_axis_type="log" if x_log else "linear", y_axis_type="log",
                          x_axis_label=x_label, y_axis_label=y_label,
                          x_range=Range1d(1e-3 if x_log else 0, 1), y_range=Range1d(1e-3, 1),
                          sizing_mode="stretch_width", height=HEIGHT, min_width=500,
                          tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above",
                          output_backend="canvas")
        for ax in (self.fig.xaxis, self.fig.yaxis):
            ax.axis_label_text_font_style = "normal"
        self.legend = Legend(items=[], click_policy="hide", spacing=1, glyph_width=30, location="top_left")
        self.fig.add_layout(self.legend, "right")
        self.notice = Label(x=12, y=12, x_units="screen", y_units="screen", text="", text_baseline="bottom",
                            background_fill_color="#ffffff", background_fill_alpha=0.85, padding=6)
        self.fig.add_layout(self.notice)
        self.hovers: dict[tuple, HoverTool] = {}
        self.color_bar: ColorBar | None = None
        self._mapper: LinearColorMapper | None = None
        self._r: dict[str, object] = {}
        self._kind: dict[str, str] = {}
        self._off: set[str] = set()                        # keys this renderer hid (the user may hide others)
        self._legend_items: dict[str, LegendItem] = {}
        self._look = None
        self._stack = None
        self.spec: FigureSpec | None = None
        self._apply_look(figures.SCREEN)

    # -- the one update path ------------------------------------------------------------------------
    def render(self, spec: FigureSpec) -> None:
        """Draw ``spec``. When the update adds glyphs or legend entries, the document's model graph is frozen
        from then on, so Bokeh re-walks the page's models once at the end instead of after every new model;
        a pure value update never pays that walk."""
        if spec.x_log != self.x_log or spec.y_log != self.y_log:
            raise ValueError(f"{self.view} figure has fixed axis types; spec {spec.view!r} asks for others")
        self._stack = contextlib.ExitStack()
        try:
            self._render(spec)
        finally:
            stack, self._stack = self._stack, None
            stack.close()
        self.spec = spec

    def _structural_change(self):
        doc = self.fig.document
        if doc is not None and self._stack is not None and not getattr(self._stack, "_dap_frozen", False):
            self._stack.enter_context(doc.models.freeze())
            self._stack._dap_frozen = True

    def _render(self, spec: FigureSpec) -> None:
        used = []
        for c in spec.curves:
            r = self._glyph(spec, c)
            if c.key in self._off:
                self._off.discard(c.key)
                r.visible = True
            used.append(c.key)
        for key, r in self._r.items():
            if key not in used and r.visible:
                r.visible = False
                self._off.add(key)
        self._update_legend(spec)
        self.fig.x_range.update(start=float(spec.x_range[0]), end=float(spec.x_range[1]))
        self.fig.y_range.update(start=float(spec.y_range[0]), end=float(spec.y_range[1]))
        if self.fig.title.text != spec.title:
            self.fig.title.text = spec.title
        if self.fig.xaxis[0].axis_label != spec.x_label:
            self.fig.xaxis.axis_label = spec.x_label
        if self.fig.yaxis[0].axis_label != spec.y_label:
            self.fig.yaxis.axis_label = spec.y_label
        text = "\n".join(textwrap.wrap(spec.notice, 90))
        if self.notice.text != text:
            self.notice.text = text
        self.notice.visible = bool(text)
        if spec.look != self._look:
            self._apply_look(spec.look)

    # -- glyphs ---------------------------------------------------------------------------------------
    def _glyph(self, spec: FigureSpec, c):
        data = _xy_data(spec, c)
        glyph_kind = _GLYPH[c.kind]
        r = self._r.get(c.key)
        if r is not None and self._kind[c.key] == glyph_kind and set(r.data_source.data) == set(data):
            if not _same_data(r.data_source.data, data):
                r.data_source.data = data
        else:
            self._structural_change()
            if r is not None:                       # same key, other kind: retire the old glyph
                r.visible = False
                self._r.pop(c.key)
            if glyph_kind == "line":
                glyph = Line(x="x", y="y")
            elif glyph_kind == "area":
                glyph = VArea(x="x", y1="y1", y2="y2")
            elif glyph_kind == "marker":
                glyph = Scatter(x="x", y="y", marker=c.marker, size=c.size)
            else:
                # cells outlined in their own colour: unstroked, neighbouring cells left anti-aliasing seams
                # that showed as a white grid over the map
                colour = {"field": "z", "transform": self._colour_mapper(c)}
                glyph = Quad(left="left", right="right", bottom="bottom", top="top", fill_color=colour,
                             line_color=colour, line_width=1)
            # the renderer's selection/non-selection/muted glyphs stay "auto" (derived in the browser):
            # `figure.line` and friends make two more glyph models per curve for states this page never uses
            r = GlyphRenderer(data_source=ColumnDataSource(data), glyph=glyph, name=f"dap:{c.key}")
            self.fig.renderers = [*self.fig.renderers, r]     # name: stable handle (browser tests, embedding)
            self._r[c.key] = r
            self._kind[c.key] = glyph_kind
            # hover membership is fixed at creation: changing a list of model references later would make
            # Bokeh re-walk the whole document on every update
            if c.hover:
                sig = _hover_signature(c)
                h = self.hovers.get(sig)
                if h is None:
                    h = self.hovers[sig] = hover_tool(sig)
                    self.fig.add_tools(h)
                h.renderers = [*h.renderers, r]
        g = r.glyph
        if glyph_kind == "line":
            g.update(line_color=c.colour, line_dash=c.dash, line_width=c.width, line_alpha=c.alpha)
        elif glyph_kind == "area":
            g.update(fill_color=c.colour, fill_alpha=c.alpha)
        elif glyph_kind == "marker":
            g.update(fill_color=c.colour, line_color=style.THEMES[spec.look.theme]["foreground"], size=c.size,
                     marker=c.marker)
        else:
            self._mapper.update(low=c.z_range[0], high=c.z_range[1], palette=_PALETTES[c.palette])
            if self.color_bar.title != c.z_label:
                self.color_bar.title = c.z_label
        return r

    def _colour_mapper(self, c) -> LinearColorMapper:
        if self._mapper is None:
            self._mapper = LinearColorMapper(palette=_PALETTES[c.palette], low=c.z_range[0], high=c.z_range[1],
                                             nan_color=(0, 0, 0, 0))
            self.color_bar = ColorBar(color_mapper=self._mapper, title=c.z_label, width=14)
            self.fig.add_layout(self.color_bar, "right")
        return self._mapper

    # -- legend ---------------------------------------------------------------------------------------
    def _update_legend(self, spec: FigureSpec) -> None:
        """Legend items are kept and only shown/hidden/relabelled; the item list itself — a list of model
        references, expensive to change — is rebuilt only when a new entry appears. Labels are always set as
        an explicit ``value(str)``: a bare string sent as a patch can reach BokehJS as a field spec ("Bad column
        name on label" in the browser, legend entry "Invalid field")."""
        entries = spec.legend_entries()
        members: dict[str, list] = {k: [] for k, _ in entries}
        for c in spec.curves:
            if c.entry in members:
                members[c.entry].append(self._r[c.key])
        new_entry = False
        for key, label in entries:
            label = str(label)
            item = self._legend_items.get(key)
            rs = members[key]
            if item is None:
                self._structural_change()
                item = self._legend_items[key] = LegendItem(label=value(label), renderers=rs)
                new_entry = True
                continue
            if [x.id for x in item.renderers] != [x.id for x in rs]:
                self._structural_change()
                item.renderers = rs
            if _label_text(item) != label or not isinstance(item.label, type(value(""))):
                item.label = value(label)
            if not item.visible:
                item.visible = True
        wanted = [k for k, _ in entries]
        for key, item in self._legend_items.items():
            if key not in members and item.visible:
                item.visible = False
        if new_entry:
            rest = [k for k in self._legend_items if k not in members]
            self.legend.items = [self._legend_items[k] for k in wanted + rest]
        self.legend.visible = bool(wanted)

    # -- look -----------------------------------------------------------------------------------------
    def _apply_look(self, look) -> None:
        fs = look.font_scale
        theme = style.THEMES[look.theme]
        px = {k: f"{v * fs:.0f}px" for k, v in style.FONT_PX.items()}
        f = self.fig
        f.title.update(text_font_size=px["title"], text_color=theme["foreground"])
        for ax in (f.xaxis, f.yaxis):
            ax.axis_label_text_font_size = px["axis"]
            ax.major_label_text_font_size = px["tick"]
            ax.axis_label_text_color = theme["foreground"]
            ax.major_label_text_color = theme["foreground"]
            ax.axis_line_color = theme["foreground"]
            ax.major_tick_line_color = theme["foreground"]
            ax.minor_tick_line_color = theme["foreground"]
        for grid in (f.xgrid, f.ygrid):
            grid.grid_line_color = theme["grid"]
        f.background_fill_color = theme["background"]
        f.border_fill_color = theme["background"]
        lfs = fs * look.legend_scale
        self.legend.update(label_text_font_size=f"{style.FONT_PX['legend'] * lfs:.0f}px",
                           label_text_color=theme["foreground"], background_fill_color=theme["background"],
                           glyph_width=int(30 * lfs))
        self.notice.update(text_font_size=px["notice"], text_color=theme["notice"],
                           background_fill_color=theme["background"])
        self._look = look
