"""One figure specification per view, drawn by two renderers: the live Bokeh figure and the exported matplotlib
figure must show the same titles, labels, legend entries, styles, ranges and notice — read back from each
renderer's own objects, so a renderer that drifts from the spec fails here."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.models import Line
from matplotlib.colors import to_hex

from dashboard import export, figures, plots, style
from physics.errors import InputError

M = np.geomspace(1e-3, 1.0, 25)


# ------------------------------------------------------------------------------------ synthetic view data
def exclusion_data(exps=("na64e-2023",), partial=False, g=1e-3, m_chi=None, nan=False):
    curves, assumptions = [], {}
    for i, e in enumerate(exps):
        for ch in ("brem", "rho", "total"):
            gv = np.full(M.size, np.nan) if nan else 1e-3 * (i + 1) * (2.0 if ch != "total" else 1.0) * (1 + M)
            curves.append({"exp_id": e, "experiment": f"Exp {e}", "channel": ch, "m": M, "g": gv,
                           "m_a": np.full(M.size, 1e-6), "partial": partial, "color_index": i})
        assumptions[e] = {"alpha_D": 0.1, "m_chi_GeV": "m_gd/3" if m_chi is None else m_chi}
    cons = [{"key": "babar", "label": "BaBar Υ(1S)→inv", "kind": "upper", "m": M, "g": np.full(M.size, 1e-2),
             "provenance": "arXiv:0908.2840"},
            {"key": "sn1987a", "label": "SN1987A", "kind": "band", "m": M, "lo": np.full(M.size, 1.1e-7),
             "hi": np.full(M.size, 1e-5), "provenance": "arXiv:2105.06476"}]
    return {"curves": curves, "constraints": cons, "point": {"m_gd": 0.1, "g": g, "m_a": 1e-6},
            "assumptions": assumptions, "channels": ["brem", "rho"], "method": "etl"}


def yields_data():
    curves = []
    for e in ("na64e-2023", "ldmx-phase2"):
        for ch in ("brem", "rho"):
            curves.append({"exp_id": e, "experiment": f"Exp {e}", "channel": ch, "m": M, "m_a": M * 0 + 1e-6,
                           "n": 10.0 / (M * (2 if ch == "rho" else 1))})
    return {"curves": curves, "n_up": {"na64e-2023": 2.3, "ldmx-phase2": 2.3}, "g": 1e-3,
            "point": {"m_gd": 0.1, "g": 1e-3, "m_a": 1e-6}, "method": "iww"}


def edm_data():
    curves = [{"fermion": f, "scenario": sc, "m": M, "bound": 1e-10 * (i + 1) * M, "m_a_light": 1e-6,
               "current": sc == "light-alp"}
              for i, f in enumerate(("e", "mu", "n")) for sc in ("light-alp", "degenerate")]
    return {"curves": curves, "table": [], "cutoff": 1000.0, "m_gd_ref": 0.1, "limits": {}}


def spectrum_data(x_min=0.5):
    edges = np.concatenate([np.linspace(0.0, 0.9, 37), 1 - 0.1 * 10 ** (-np.arange(1, 31) / 10)])
    return {"spectra": [{"exp_id": "na64e-2023", "exp_ids": ["na64e-2023"], "experiment": "NA64e",
                         "x_edges": edges, "dsdx_pb": 1e3 * (1.0 + edges[:-1]), "color_index": 0,
                         "beam_energy_gev": 100.0, "target": "Pb"}],
            "cuts": [{"exp_id": "na64e-2023", "experiment": "NA64e", "x_min": x_min, "x_max": 0.95,
                      "color_index": 0, "beam_energy_gev": 100.0, "fraction": 0.8}],
            "point": {"m_gd": 0.1, "g": 1e-3, "m_a": 1e-6}, "notes": [], "method": "etl"}


DATA = {"exclusion": exclusion_data, "yields": yields_data, "edm": edm_data, "spectrum": spectrum_data}
XR = (1e-3, 1.0)


def _spec(view, **kw):
    return figures.spec(view, DATA[view](), None if view == "spectrum" else XR, **kw)


def plane():
    m_gd = np.geomspace(1e-2, 1.0, 30)
    m_a = np.geomspace(1e-3, 0.5, 20)
    g = 1e-4 * (m_gd[None, :] / 1e-2) ** 1.5 * (1 + m_a[:, None])
    g[m_a[:, None] + m_gd[None, :] > 1.2] = np.nan           # a closed corner
    return m_gd, m_a, g


# ------------------------------------------------------------------------------------ reading the renderers
def _live(spec):
    lf = plots.LiveFigure(spec.view)
    Document().add_root(lf.fig)
    lf.render(spec)
    return lf


def _bokeh_view(lf) -> dict:
    f = lf.fig
    styles = {}
    for key, r in lf._r.items():
        if not r.visible:
            continue
        g = r.glyph
        if hasattr(g, "line_dash") and type(g).__name__ == "Line":
            styles[key] = {"colour": g.line_color, "dash": g.line_dash, "width": g.line_width, "alpha": g.line_alpha}
        elif type(g).__name__ == "VArea":
            styles[key] = {"colour": g.fill_color, "alpha": g.fill_alpha}
        elif type(g).__name__ == "Scatter":
            styles[key] = {"colour": g.fill_color}
        else:
            styles[key] = {}
    return {"title": f.title.text, "x_label": f.xaxis[0].axis_label, "y_label": f.yaxis[0].axis_label,
            "legend": [plots._label_text(i) for i in lf.legend.items if i.visible],
            "x_range": (f.x_range.start, f.x_range.end), "y_range": (f.y_range.start, f.y_range.end),
            "notice": lf.notice.text.replace("\n", " ") if lf.notice.visible else "", "styles": styles}


def _unescape(text: str) -> str:
    return text.replace(r"\$", "$")


def _unwrap(text: str) -> str:
    return _unescape(text).replace("\n", " ")


def _mpl_view(fig) -> dict:
    ax = fig.axes[0]
    legends = fig.legends
    styles = {}
    for art in [*ax.lines, *ax.collections, *ax.patches]:
        key = art.get_gid()
        if key is None:
            continue
        name = type(art).__name__
        if name == "Line2D" and art.get_linestyle() != "None":
            styles[key] = {"colour": to_hex(art.get_color()), "dash": art._unscaled_dash_pattern,
                           "width": art.get_linewidth(), "alpha": 1.0 if art.get_alpha() is None else art.get_alpha()}
        elif name in ("FillBetweenPolyCollection", "PolyCollection", "Rectangle", "Polygon"):
            fc = art.get_facecolor()
            fc = fc[0] if np.ndim(fc) == 2 else fc
            styles[key] = {"colour": to_hex(fc[:3]), "alpha": art.get_alpha()}
        elif name == "Line2D":
            styles[key] = {"colour": to_hex(art.get_markerfacecolor())}
        else:
            styles[key] = {}
    notice = [t for t in ax.texts if t.get_gid() == "notice"]
    # the file renderer breaks long titles, labels and legend entries into lines (at spaces): same words
    legend = legends[0] if legends else next((a.get_legend() for a in fig.axes if a.get_legend()), None)
    return {"title": _unwrap(ax.get_title()), "x_label": _unwrap(ax.get_xlabel()),
            "y_label": _unwrap(ax.get_ylabel()),
            "legend": [_unwrap(t.get_text()) for t in legend.get_texts()] if legend else [],
            "x_range": ax.get_xlim(), "y_range": ax.get_ylim(),
            "notice": _unescape(notice[0].get_text()).replace("\n", " ") if notice else "", "styles": styles}


def _compare(spec, b: dict, m: dict):
    for k in ("title", "x_label", "y_label"):
        assert b[k] == m[k] == getattr(spec, k), k
    assert b["legend"] == m["legend"] == [lab for _, lab in spec.legend_entries()]
    assert np.allclose(b["x_range"], spec.x_range) and np.allclose(m["x_range"], spec.x_range)
    assert np.allclose(b["y_range"], spec.y_range) and np.allclose(m["y_range"], spec.y_range)
    assert b["notice"] == m["notice"] == spec.notice
    drawn = {c.key: c for c in spec.curves}
    assert set(b["styles"]) == set(m["styles"]) == set(drawn)
    for key, c in drawn.items():
        bs, ms = b["styles"][key], m["styles"][key]
        if "colour" in bs:
            assert bs["colour"].lower() == ms["colour"].lower() == c.colour.lower(), key
        if "width" in bs:
            assert bs["width"] == pytest.approx(c.width), key
            assert ms["width"] == pytest.approx(c.width * style.EXPORT_PT_PER_PX), key
            assert bs["dash"] == Line(line_dash=c.dash).line_dash, key      # Bokeh's normal form of the dash
            # matplotlib's dash lengths [pt] = Bokeh's [px] × EXPORT_PT_PER_PX
            on_off_pt = tuple(v * ms["width"] for v in (ms["dash"][1] or ()))
            bokeh_px = tuple(bs["dash"]) * (2 if len(bs["dash"]) % 2 else 1)
            assert on_off_pt == pytest.approx(tuple(v * style.EXPORT_PT_PER_PX for v in bokeh_px)), key
        if "alpha" in bs:
            assert bs["alpha"] == pytest.approx(c.alpha) and ms["alpha"] == pytest.approx(c.alpha), key


# ------------------------------------------------------------------------------------ the tests
@pytest.mark.parametrize("look", ["screen", "presentation", "dark"])
@pytest.mark.parametrize("view", figures.VIEWS)
def test_live_and_export_draw_the_same_spec(view, look):
    spec = _spec(view, look=figures.LOOKS[look])
    _compare(spec, _bokeh_view(_live(spec)), _mpl_view(export.spec_figure(spec, "double")))


def test_exported_exclusion_legend_keeps_channel_total():
    spec = _spec("exclusion")
    labels = _mpl_view(export.spec_figure(spec))["legend"]
    assert "channel total (thick)" in labels and "channel brem" in labels and "Exp na64e-2023" in labels
    # the total is drawn thicker than a channel in both renderers
    lf = _live(spec)
    assert lf._r["reach:na64e-2023:total"].glyph.line_width > lf._r["reach:na64e-2023:brem"].glyph.line_width


def test_explicit_y_range_is_honoured_and_default_includes_sn1987a():
    d = exclusion_data()
    default = figures.spec("exclusion", d, XR)
    assert default.y_range[0] <= 1.1e-7 / 1.5 or default.y_range[0] <= 1e-7       # SN1987A's lower edge
    assert default.y_range[1] >= 1.0
    spec = figures.spec("exclusion", d, XR, y_range=(1e-8, 0.5))
    assert spec.y_range == (1e-8, 0.5)
    b, m = _bokeh_view(_live(spec)), _mpl_view(export.spec_figure(spec))
    assert np.allclose(b["y_range"], (1e-8, 0.5)) and np.allclose(m["y_range"], (1e-8, 0.5))
    # constraint regions open upwards reach the top of the requested range
    band = next(c for c in spec.curves if c.key == "con:BaBar Υ(1S)→inv:area")
    assert np.all(band.y2 == 0.5)


def test_default_y_range_is_clipped_to_a_few_decades():
    d = exclusion_data()
    d["curves"][0]["g"] = d["curves"][0]["g"] * 1e-30           # an absurd outlier
    lo, hi = figures.spec("exclusion", d, XR).y_range
    assert hi / lo <= 10.0 ** figures.DECADES["exclusion"] * 1.0001


@pytest.mark.parametrize("bad", [(1.0, 0.5), (0.0, 1.0), (float("nan"), 1.0), ("a", 1.0), (1.0,)])
def test_bad_ranges_are_input_errors(bad):
    with pytest.raises(InputError):
        figures.spec("exclusion", exclusion_data(), XR, y_range=bad)
    with pytest.raises(InputError):
        figures.spec("edm", edm_data(), bad)


def test_closed_invisible_decay_gives_a_notice_in_both_renderers():
    d = exclusion_data(m_chi=0.6 * M, nan=True)                 # r_χ = 0.6: γD → χχ̄ closed everywhere
    spec = figures.spec("exclusion", d, XR)
    assert "closed" in spec.notice and "0.6" in spec.notice
    b, m = _bokeh_view(_live(spec)), _mpl_view(export.spec_figure(spec))
    assert b["notice"] == m["notice"] == spec.notice
    # open at r_χ = 1/3 with all-NaN curves: another reason, no claim about χχ̄
    other = figures.spec("exclusion", exclusion_data(nan=True), XR).notice
    assert other and "χχ̄ is closed" not in other
    assert figures.spec("exclusion", exclusion_data(), XR).notice == ""
    assert "closed" in figures.spec("exclusion", {**d, "invisible_closed": True}, XR).notice


def test_hover_numbers_have_three_significant_figures():
    lf = _live(_spec("exclusion"))
    assert lf.hovers
    for h in lf.hovers.values():
        for label, fmt in h.tooltips:
            if "{%" in fmt:
                field = fmt.split("{%")[0]
                assert fmt.startswith(field) and "{%.3g}" in fmt
                assert h.formatters[field] == "printf"
            else:
                assert "{0." not in fmt           # no numeral formats like {0.000} (1e-6 → 0.00000)
    tips = dict(lf.hovers[next(s for s in lf.hovers if any(f[0] == "g₉₀" for f in s))].tooltips)
    assert tips["m_γD"] == "@{x}{%.3g} GeV" and tips["g₉₀"] == "@{y}{%.3g} GeV⁻¹"
    assert plots.HOVER_NUMBER % 1e-6 == "1e-06" and plots.HOVER_NUMBER % 0.000412 == "0.000412"


def test_legend_labels_are_plain_value_strings_on_every_update_path():
    """A label sent as a bare string reaches BokehJS as a *field* spec ("Bad column name on label", legend entry
    "Invalid field"); every label — new items and relabelling patches — must go out as a value spec."""
    from bokeh.core.property.vectorization import Value
    from bokeh.core.serialization import Serializer

    lf = plots.LiveFigure("exclusion")
    doc = Document()
    doc.add_root(lf.fig)
    events = []
    doc.on_change(events.append)
    steps = [exclusion_data(partial=True), exclusion_data(partial=False),
             exclusion_data(exps=("na64e-2023", "custom-1"), partial=True),      # a custom table finishes later
             exclusion_data(exps=("na64e-2023", "custom-1")), exclusion_data(), exclusion_data(partial=True)]
    for d in steps:
        lf.render(figures.spec("exclusion", d, XR))
        for item in lf.legend.items:
            assert isinstance(item.label, Value) and type(item.label.value) is str, item.label
            wire = Serializer().encode(item.label)
            assert wire["type"] == "value" and isinstance(wire["value"], str), wire
    patches = [e.to_serializable(Serializer()) for e in events if getattr(e, "attr", None) == "label"]
    assert patches, "relabelling happened"
    for p in patches:
        assert p["new"]["type"] == "value" and isinstance(p["new"]["value"], str), p
    assert "Exp custom-1" in [plots._label_text(i) for i in lf.legend.items]


def test_a_legend_entry_hides_all_curves_of_its_group():
    lf = _live(_spec("exclusion"))
    item = next(i for i in lf.legend.items if plots._label_text(i) == "Exp na64e-2023")
    names = {r.name for r in item.renderers}
    assert {"dap:reach:na64e-2023:total", "dap:reach:na64e-2023:brem"} <= names


def test_render_updates_in_place():
    lf = _live(_spec("spectrum"))
    n, src = len(lf.fig.renderers), lf._r["cutline:na64e-2023"].data_source
    lf.render(figures.spec("spectrum", spectrum_data(0.73), None))
    assert len(lf.fig.renderers) == n and lf._r["cutline:na64e-2023"].data_source is src
    assert list(src.data["x"]) == [0.73, 0.73]


def test_look_scales_fonts_and_lines():
    s, p = _spec("edm"), _spec("edm", look=figures.PRESENTATION)
    assert all(b.width > a.width for a, b in zip(s.curves, p.curves))
    fs = [export.spec_figure(x).axes[0].title.get_fontsize() for x in (s, p)]
    assert fs[1] == pytest.approx(fs[0] * figures.PRESENTATION.font_scale)
    lf_s, lf_p = _live(s), _live(p)
    assert int(lf_p.fig.title.text_font_size[:-2]) > int(lf_s.fig.title.text_font_size[:-2])
    dark = _spec("yields", look=figures.DARK)
    assert all(c.colour.lower() != "#000000" for c in dark.curves)      # black brem curve readable on dark


@pytest.mark.parametrize("size", list(figures.EXPORT_SIZES))
def test_export_sizes(size):
    from PIL import Image
    import io

    sz = figures.EXPORT_SIZES[size]
    im = Image.open(io.BytesIO(export.spec_bytes(_spec("exclusion"), "png", size)))
    assert im.size == (int(sz.width_in * export.PNG_DPI), int(sz.height_in * export.PNG_DPI))   # matplotlib truncates
    with pytest.raises(InputError):
        export.spec_bytes(_spec("edm"), "png", "poster")


def test_plane_spec_and_both_renderers():
    m_gd, m_a, g = plane()
    spec = figures.plane_spec(m_gd, m_a, g, "g₉₀ over (m_γD, m_a)", levels=[-3.0, -2.0])
    img = spec.curves[0]
    assert img.kind == "image" and img.z.shape == (m_a.size, m_gd.size)
    assert len(img.x) == m_gd.size + 1 and len(img.y) == m_a.size + 1
    assert img.z_range[0] == pytest.approx(np.log10(np.nanmin(g)))
    # contour points lie on the level: interpolate log10 g along m_γD at the contour's m_a
    cont = next(c for c in spec.curves if c.key == "contour:-3")
    ok = np.isfinite(cont.x)
    assert ok.sum() > 5
    for x, y in zip(cont.x[ok], cont.y[ok]):
        row = np.interp(np.log10(y), np.log10(m_a), np.arange(m_a.size))
        i = int(np.clip(np.floor(row), 0, m_a.size - 2))
        t = row - i
        lg = (1 - t) * np.log10(g[i]) + t * np.log10(g[i + 1])
        assert np.interp(np.log10(x), np.log10(m_gd), lg) == pytest.approx(-3.0, abs=0.02)
    lf = _live(spec)
    quads = lf._r["plane"].data_source.data
    assert len(quads["z"]) == g.size and lf.color_bar is not None
    assert lf._mapper.low == pytest.approx(img.z_range[0]) and lf._mapper.high == pytest.approx(img.z_range[1])
    fig = export.spec_figure(spec)
    mesh = next(a for a in fig.axes[0].collections if a.get_gid() == "plane")
    assert mesh.get_array().shape == g.shape and mesh.norm.vmin == pytest.approx(img.z_range[0])
    assert len(fig.axes) == 2                       # the colour bar
    _compare(spec, _bokeh_view(lf), _mpl_view(fig))
    assert export.spec_bytes(spec, "png", "single")[:4] == b"\x89PNG"


def test_plane_spec_input_checks():
    m_gd, m_a, g = plane()
    with pytest.raises(InputError):
        figures.plane_spec(m_gd, m_a, g.T, "t")
    with pytest.raises(InputError):
        figures.plane_spec(m_gd[::-1], m_a, g, "t")
    empty = figures.plane_spec(m_gd, m_a, np.full_like(g, np.nan), "t")
    assert empty.notice and len(empty.curves) == 1


def test_figures_module_imports_no_plotting_library():
    code = ("import sys, dashboard.figures; bad = [m for m in ('bokeh', 'panel', 'matplotlib', 'holoviews') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("size", list(figures.EXPORT_SIZES))
@pytest.mark.parametrize("font_scale", [0.5, 1.0, 2.0])          # the export font scale's whole range
@pytest.mark.parametrize("view", ["exclusion", "edm", "edm-both"])
def test_exported_text_stays_inside_the_file_and_clear_of_other_text(size, font_scale, view):
    """Title, axis labels, legend and the preset's citation: inside the figure, none on top of another (a
    footer printed over the x label, a title cut at the figure's edge and a plot-sized legend marker on the
    legend's text were seen in exports). Boxes from matplotlib's renderer [px]; 1 px of slack for rounding."""
    import dataclasses

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    look = dataclasses.replace(figures.PRESENTATION, font_scale=font_scale)
    if view == "edm-both":          # the paper's Fig. 6: both cut-offs, twelve legend entries
        data = DATA["edm"]()
        data = {**data, "cutoffs": [1000.0, 10000.0],
                "curves": [{**c, "cutoff": lam} for lam in (1000.0, 10000.0) for c in data["curves"]]}
        base = figures.spec("edm", data, XR, look=look)
    else:
        base = _spec(view, look=look)
    spec = dataclasses.replace(base, citation="Reproduces Fig. 4 of S. N. Gninenko et al., arXiv:2602.11405")
    fig = export.spec_figure(spec, size)
    FigureCanvasAgg(fig).draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = fig.legends[0] if fig.legends else next(a.get_legend() for a in fig.axes if a.get_legend())
    cite = next(t for t in fig.texts if t.get_gid() == "citation")
    boxes = {"title": ax.title.get_window_extent(r), "x label": ax.xaxis.label.get_window_extent(r),
             "y label": ax.yaxis.label.get_window_extent(r), "legend": legend.get_window_extent(r),
             "citation": cite.get_window_extent(r)}
    W, H = fig.bbox.width, fig.bbox.height
    for name, b in boxes.items():
        assert b.x0 >= -1 and b.y0 >= -1 and b.x1 <= W + 1 and b.y1 <= H + 1, (name, b, W, H)
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ba, bb = boxes[a].expanded(1.0, 1.0), boxes[b]
            overlap = min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > 1 and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > 1
            assert not overlap, (a, b, boxes[a], boxes[b])
    # the legend's marker is not larger than its text
    for h in legend.legend_handles:
        if hasattr(h, "get_markersize") and h.get_marker() not in (None, "None", ""):
            assert h.get_markersize() <= legend.get_texts()[0].get_fontsize() * 1.01


def test_the_legend_names_only_what_can_be_seen():
    """A channel whose yields all lie under the y axis' floor (Υ(1S): ~1e-29 events under 1e-6) is not in the
    legend; a legend-only swatch (no points) and a band covering the range are."""
    x = np.geomspace(1e-3, 1.0, 5)
    curves = (figures.Curve("y:a:brem", "brem", "line", x, np.full(5, 1e-3), legend=True),
              figures.Curve("y:a:upsilon", "Υ(1S)", "line", x, np.full(5, 1e-29), legend=True),
              figures.Curve("y:a:nan", "none", "line", x, np.full(5, np.nan), legend=True),
              figures.Curve("swatch:a", "NA64e", "line", np.array([]), np.array([]), legend=True),
              figures.Curve("band", "band", "band", x, np.full(5, 1e-9), y2=np.full(5, 1e3), legend=True),
              figures.Curve("jump", "jump", "line", x, np.array([1e-9, 1e3, 1e-9, 1e3, 1e-9]), legend=True))
    spec = figures.FigureSpec("yields", "t", "x", "y", True, True, (1e-3, 1.0), (1e-6, 1e2), curves)
    assert [k for k, _ in spec.legend_entries()] == ["y:a:brem", "swatch:a", "band", "jump"]   # jump: crosses it
    low = figures.FigureSpec("yields", "t", "x", "y", True, True, (1e-3, 1.0), (1e-30, 1e2), curves)
    assert "y:a:upsilon" in [k for k, _ in low.legend_entries()]       # shown once the range reaches it


def test_custom_experiment_colours_differ_from_the_built_in_ones():
    from dashboard import style

    builtin = {c.lower() for c, _dash in style.EXPERIMENT_STYLES.values()}
    custom = [style.experiment_color({"exp_id": f"custom-{i}", "color_index": 7 + i}).lower() for i in range(8)]
    assert not builtin & set(custom) and len(set(custom)) == 8
