"""The live Bokeh figures: glyphs are created once per curve and then only updated in place (the views' data
dicts go through ``figures.spec``; see also tests/dashboard/test_figures.py)."""

from __future__ import annotations

import numpy as np
from bokeh.document import Document

from dashboard import figures, plots


def _data(partial: bool, g: float = 1e-3, exps=("na64e-2023",)):
    m = np.geomspace(1e-3, 1.0, 20)
    curves = []
    for i, e in enumerate(exps):
        for ch in ("brem", "rho", "total"):
            curves.append({"exp_id": e, "experiment": f"Exp {e}", "channel": ch, "m": m,
                           "g": np.full(20, 1e-3 * (i + 1)), "m_a": np.full(20, 1e-6), "partial": partial,
                           "color_index": i})
    cons = [{"key": "babar", "label": "BaBar Υ(1S)→inv", "kind": "upper", "m": m, "g": np.full(20, 1e-2),
             "provenance": "arXiv:0908.2840"}]
    return {"curves": curves, "constraints": cons, "point": {"m_gd": 0.1, "g": g, "m_a": 1e-6},
            "method": "etl"}


def _labels(fig):
    return [plots._label_text(i) for i in fig.legend.items if i.visible]


def test_exclusion_figure_updates_in_place():
    fig = plots.LiveFigure("exclusion")
    doc = Document()
    doc.add_root(fig.fig)
    fig.render(figures.spec("exclusion", _data(partial=True), (1e-3, 1.0)))
    assert "Exp na64e-2023 (computing…)" in _labels(fig)
    n_renderers = len(fig.fig.renderers)
    items = list(fig.legend.items)
    for partial in (False, True, False):          # relabelling repeatedly (regression: label spec → str)
        fig.render(figures.spec("exclusion", _data(partial=partial), (1e-3, 1.0)))
    assert "Exp na64e-2023" in _labels(fig)
    assert len(fig.fig.renderers) == n_renderers
    assert list(fig.legend.items) == items, "no new legend models for a value change"
    # moving the point only changes the point's data
    src = fig._r["point"].data_source
    fig.render(figures.spec("exclusion", _data(partial=False, g=5e-3), (1e-3, 1.0)))
    assert list(src.data["y"]) == [5e-3]
    assert fig.fig.title.text.startswith("90% CL reach")
    # a second experiment adds glyphs and a legend entry; removing it hides them
    fig.render(figures.spec("exclusion", _data(partial=False, exps=("na64e-2023", "ldmx-phase2")), (1e-3, 1.0)))
    assert "Exp ldmx-phase2" in _labels(fig)
    fig.render(figures.spec("exclusion", _data(partial=False), (1e-3, 1.0)))
    assert "Exp ldmx-phase2" not in _labels(fig)
    assert not fig._r["reach:ldmx-phase2:total"].visible
    assert any(fig._r["reach:ldmx-phase2:total"] in h.renderers for h in fig.hovers.values())


def test_iww_is_labelled_in_titles():
    fig = plots.LiveFigure("exclusion")
    d = _data(partial=False)
    d["method"] = "iww"
    fig.render(figures.spec("exclusion", d, (1e-3, 1.0)))
    assert "IWW" in fig.fig.title.text


def test_step_xy():
    x, y = figures.step_xy([0.0, 0.5, 1.0], [1.0, 2.0])
    assert list(x) == [0.0, 0.5, 0.5, 1.0] and list(y) == [1.0, 1.0, 2.0, 2.0]


def _spectrum(x_min: float):
    edges = np.concatenate([np.linspace(0.0, 0.9, 37), 1 - 0.1 * 10 ** (-np.arange(1, 31) / 10)])
    dsdx = 1e3 * (1.0 + edges[:-1])
    return {"spectra": [{"exp_id": "na64e-2023", "exp_ids": ["na64e-2023", "na64e-projected"],
                         "experiment": "NA64e, NA64e projected", "x_edges": edges, "dsdx_pb": dsdx,
                         "color_index": 0, "beam_energy_gev": 100.0, "target": "Pb"}],
            "cuts": [{"exp_id": "na64e-2023", "experiment": "NA64e", "x_min": x_min, "x_max": 1.0,
                      "color_index": 0, "beam_energy_gev": 100.0, "fraction": 0.8},
                     {"exp_id": "na64e-projected", "experiment": "NA64e projected", "x_min": 0.5, "x_max": 1.0,
                      "color_index": 1, "beam_energy_gev": 100.0, "fraction": 0.9}],
            "point": {"m_gd": 0.1, "g": 1e-3, "m_a": 1e-6}, "notes": [], "method": "etl"}


def test_spectrum_shows_the_whole_range_and_shades_each_cut_in_place():
    fig = plots.LiveFigure("spectrum")
    doc = Document()
    doc.add_root(fig.fig)
    fig.render(figures.spec("spectrum", _spectrum(0.5), None))
    band = fig._r["cut:na64e-2023"]
    assert list(band.data_source.data["x"]) == [0.0, 0.5] and fig._r["cut:na64e-projected"].visible
    assert (fig.fig.x_range.start, fig.fig.x_range.end) == (0.0, 1.0)
    assert list(fig._r["spec:na64e-2023"].data_source.data["x"])[0] == 0.0
    assert any("E_miss ≥ 50 GeV" in lab and "80% of brem" in lab for lab in _labels(fig))
    n = len(fig.fig.renderers)
    fig.render(figures.spec("spectrum", _spectrum(0.73), None))                        # moving the cut: same glyphs, new data and label
    assert list(band.data_source.data["x"]) == [0.0, 0.73]
    assert list(fig._r["cutline:na64e-2023"].data_source.data["x"]) == [0.73, 0.73]
    assert len(fig.fig.renderers) == n
    assert any("x ≥ 0.73" in lab for lab in _labels(fig))


def test_a_curve_the_user_hid_stays_hidden_across_updates():
    fig = plots.LiveFigure("exclusion")
    fig.render(figures.spec("exclusion", _data(partial=False), (1e-3, 1.0)))
    fig._r["reach:na64e-2023:total"].visible = False          # legend click in the browser
    fig.render(figures.spec("exclusion", _data(partial=False, g=2e-3), (1e-3, 1.0)))
    assert not fig._r["reach:na64e-2023:total"].visible
    fig.render(figures.spec("exclusion", _data(partial=False, exps=("ldmx-phase2",)), (1e-3, 1.0)))   # hidden by the renderer …
    fig.render(figures.spec("exclusion", _data(partial=False, exps=("na64e-2023", "ldmx-phase2")), (1e-3, 1.0)))
    assert fig._r["reach:ldmx-phase2:total"].visible                       # … shown again by it


def test_presentation_look_has_large_fonts_and_a_narrower_legend():
    """Large fonts, but the legend beside the plot at the full scale left the plot half the width of a
    1280 px projector: the legend's font grows less."""
    fig = plots.LiveFigure("exclusion")
    Document().add_root(fig.fig)
    fig.render(figures.spec("exclusion", _data(partial=False), (1e-3, 1.0), look=figures.PRESENTATION))
    px = lambda v: float(str(v).removesuffix("px"))  # noqa: E731
    assert px(fig.fig.xaxis[0].axis_label_text_font_size) == round(14 * 1.6)
    assert px(fig.legend.label_text_font_size) == round(12 * 1.6 * 0.75)
    fig.render(figures.spec("exclusion", _data(partial=False), (1e-3, 1.0)))
    assert px(fig.legend.label_text_font_size) == 12


def test_a_line_renderer_carries_one_glyph_model():
    """Selection, non-selection and muted glyphs are left "auto": two models fewer per curve on every page."""
    fig = plots.LiveFigure("exclusion")
    doc = Document()
    doc.add_root(fig.fig)
    fig.render(figures.spec("exclusion", _data(partial=False), (1e-3, 1.0)))
    r = fig._r["reach:na64e-2023:total"]
    assert r.nonselection_glyph == "auto" and r.muted_glyph == "auto" and r.selection_glyph == "auto"
    lines = [m for m in doc.models if type(m).__name__ == "Line"]
    assert len(lines) == sum(1 for k in fig._kind.values() if k == "line")
