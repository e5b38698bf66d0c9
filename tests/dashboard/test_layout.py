"""Wiring of widgets, state and figures in one in-process session (no browser)."""

from __future__ import annotations

import io
from html import unescape

import pytest
from bokeh.document import Document

from dashboard.layout import DashboardApp


@pytest.fixture
def app(fresh_cache, wait):
    a = DashboardApp()
    a.state.method = "iww"
    doc = Document()
    a.template().server_doc(doc)
    wait(a.state)
    a.refresh()
    yield a
    a.state.release()


def _control(app, key):
    return next(c for c in app.controls + app.exp_controls + app.custom_controls if c.error_key == key)


def test_typed_values_and_errors_reach_the_alerts(app):
    g = _control(app, "g")
    point = app.views["exclusion"].figure._r["point"].data_source
    g.text.value = "0.004"
    assert app.state.g == 0.004 and list(point.data["y"]) == [0.004]
    g.text.value = "abc"
    assert g.alert.visible and "not a number" in unescape(g.alert.object)
    assert app.invalid_alert.visible
    assert list(point.data["y"]) == [0.004], "last good plot kept"
    g.text.value = "nan"
    assert "finite" in unescape(g.alert.object)
    g.text.value = "0.002"
    assert not g.alert.visible and not app.invalid_alert.visible
    assert list(point.data["y"]) == [0.002]


def test_slider_is_logarithmic(app):
    g = _control(app, "g")
    import param

    with param.edit_constant(g.slider):
        g.slider.value_throttled = -2.0      # log10 (what the browser sends on release)
    assert app.state.g == pytest.approx(0.01)
    assert g.text.value == "0.01"


def test_experiment_statistics_controls(app):
    eot = _control(app, "exp.na64e-2023.eot")
    eot.text.value = "-1"
    assert eot.alert.visible and "eot" in unescape(eot.alert.object)
    eot.text.value = "2e12"
    assert not eot.alert.visible
    assert app.state.overrides == {"na64e-2023": {"eot": 2e12}}


def test_custom_experiment_from_the_form(app, wait):
    _control(app, "custom.beam_energy_gev").text.value = "0.001"
    app._add_custom()
    assert _control(app, "custom.beam_energy_gev").alert.visible
    _control(app, "custom.beam_energy_gev").text.value = "15"
    app._add_custom()
    assert "custom-1" in app.exp_select.value
    assert "custom-1" in app.exp_select.options.values()
    wait(app.state)
    app.refresh()
    assert app.views["exclusion"].figure._r["reach:custom-1:total"].visible
    assert "computed" in app.status.text.object or "cache" in app.status.text.object


def test_views_and_downloads(app):
    for view in ("yields", "edm", "spectrum", "exclusion"):
        app.state.view = view
        assert app.tabs.active == ("exclusion", "yields", "edm", "spectrum").index(view)
        assert not app.views[view].stale
    png = app.views["exclusion"]._export("png")
    assert isinstance(png, io.BytesIO) and png.getvalue()[:4] == b"\x89PNG"
    csv = app.views["yields"]._export("csv")
    assert csv.getvalue().startswith("# Dark Axion Portal Explorer")
    assert not app.internal_alert.visible


def test_labels_have_one_source():
    """Overlay, channel and method labels of the controls and the drawn curves come from one table each."""
    import numpy as np

    from dashboard import adapter, layout, style
    from physics import constraints
    from physics.methods import METHODS, SHORT_LABELS

    # the overlay checkboxes show the labels the adapter defines (from physics.constraints.LABELS)
    assert layout.OVERLAY_OPTIONS == {label: key for key, label in adapter.CONSTRAINT_LABELS.items()}
    assert adapter.CONSTRAINT_LABELS["babar"] == constraints.LABELS["babar-upsilon"]
    # every drawn constraint is labelled as physics.constraints labels it
    drawn = adapter.constraints(adapter.CONSTRAINT_KEYS, np.array([0.01, 0.1]), 1e-6)
    assert [d["label"] for d in drawn] == [constraints.LABELS[k] for k in
                                           ("babar-upsilon", "besiii-omega", "besiii-phi", "sn1987a")]
    assert layout.CHANNEL_OPTIONS == {style.CHANNEL_LABELS[c]: c for c in adapter.CHANNELS}
    assert layout.METHOD_OPTIONS == {SHORT_LABELS[m]: m for m in METHODS}
