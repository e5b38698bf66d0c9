"""The live Bokeh figures: glyphs are created once per curve and then only updated in place."""

from __future__ import annotations

import numpy as np
from bokeh.document import Document

from dashboard import plots


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
    fig = plots.ExclusionFigure()
    doc = Document()
    doc.add_root(fig.fig)
    fig.render(_data(partial=True), (1e-3, 1.0))
    assert "Exp na64e-2023 (computing…)" in _labels(fig)
    n_renderers = len(fig.fig.renderers)
    items = list(fig.legend.items)
    for partial in (False, True, False):          # relabelling repeatedly (regression: label spec → str)
        fig.render(_data(partial=partial), (1e-3, 1.0))
    assert "Exp na64e-2023" in _labels(fig)
    assert len(fig.fig.renderers) == n_renderers
    assert list(fig.legend.items) == items, "no new legend models for a value change"
    # moving the point only changes the point's data
    src = fig._r["point"].data_source
    fig.render(_data(partial=False, g=5e-3), (1e-3, 1.0))
    assert list(src.data["y"]) == [5e-3]
    assert fig.fig.title.text.startswith("90% CL reach")
    # a second experiment adds glyphs and a legend entry; removing it hides them
    fig.render(_data(partial=False, exps=("na64e-2023", "ldmx-phase2")), (1e-3, 1.0))
    assert "Exp ldmx-phase2" in _labels(fig)
    fig.render(_data(partial=False), (1e-3, 1.0))
    assert "Exp ldmx-phase2" not in _labels(fig)
    assert not fig._r["reach:ldmx-phase2:total"].visible
    hover = fig.hovers["curve"]
    assert fig._r["reach:ldmx-phase2:total"] in hover.renderers


def test_iww_is_labelled_in_titles():
    fig = plots.ExclusionFigure()
    d = _data(partial=False)
    d["method"] = "iww"
    fig.render(d, (1e-3, 1.0))
    assert "IWW" in fig.fig.title.text


def test_step_xy():
    x, y = plots.step_xy([0.0, 0.5, 1.0], [1.0, 2.0])
    assert list(x) == [0.0, 0.5, 0.5, 1.0] and list(y) == [1.0, 1.0, 2.0, 2.0]
