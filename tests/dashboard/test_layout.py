"""Wiring of widgets, inputs and figures in one in-process session (no browser)."""

from __future__ import annotations

import io
from html import unescape

import numpy as np
import panel as pn
import param
import pytest
from bokeh.document import Document

from .conftest import session


@pytest.fixture
def app(fresh_cache, wait):
    a = session(method="iww")
    a.template().server_doc(Document())
    wait(a)
    a.refresh()
    yield a
    a.release()


def _control(app, key):
    if key.startswith("exp."):
        app.exp_card(key.split(".")[1])            # experiment cards are built when first opened
    for card in ("map", "ranges", "export", "custom"):
        app.open_card(card)                        # so are the collapsed sidebar cards
    return next(c for c in app.controls + app.exp_controls + app.custom_controls if c.key == key)


def _data(app, name, view="exclusion"):
    r = app.views[view].figure.select_one({"name": f"dap:{name}"})
    return None if r is None or not r.visible else r.data_source.data


def test_typed_values_and_errors_reach_the_alerts(app):
    g = _control(app, "g")
    g.text.value = "0.004"
    assert app.inputs.g == 0.004 and list(_data(app, "point")["y"]) == [0.004]
    g.text.value = "abc"
    assert g.alert.visible and "not a number" in unescape(g.alert.object)
    assert app.invalid_alert.visible
    assert list(_data(app, "point")["y"]) == [0.004], "last good plot kept"
    g.text.value = "nan"
    assert "finite" in unescape(g.alert.object)
    g.text.value = "0.002"
    assert not g.alert.visible and not app.invalid_alert.visible
    assert list(_data(app, "point")["y"]) == [0.002]


def test_slider_is_logarithmic_over_the_parameter_range(app):
    import param

    g = _control(app, "g")
    lo, hi = app.inputs.param.g.softbounds
    assert (g.slider.start, g.slider.end) == pytest.approx((np.log10(lo), np.log10(hi)))
    with param.edit_constant(g.slider):
        g.slider.value_throttled = -2.0      # log10 (what the browser sends on release)
    assert app.inputs.g == pytest.approx(0.01)
    assert g.text.value == "0.01"


def test_slider_clears_a_typed_error(app):
    import param

    g = _control(app, "g")
    g.text.value = "abc"
    assert g.alert.visible
    with param.edit_constant(g.slider):
        g.slider.value_throttled = -2.5
    assert not g.alert.visible and not app.invalid_alert.visible


def test_experiment_statistics_controls(app):
    eot = _control(app, "exp.na64e-2023.eot")
    eot.text.value = "-1"
    assert eot.alert.visible and "eot" in unescape(eot.alert.object).lower()
    eot.text.value = "2e12"
    assert not eot.alert.visible
    assert app.inputs.overrides == {"na64e-2023": {"eot": 2e12}}


def test_background_note_beside_the_control(app):
    bkg = _control(app, "exp.na64e-2023.background")
    assert bkg.note.visible and "does not depend on the background" in unescape(bkg.note.object)
    _control(app, "exp.na64e-2023.observed").text.value = "1"
    assert not bkg.note.visible


def test_custom_experiment_from_the_form(app, wait):
    _control(app, "custom.beam_energy_gev").text.value = "0.001"
    app.add_custom()
    assert _control(app, "custom.beam_energy_gev").alert.visible
    _control(app, "custom.beam_energy_gev").text.value = "15"
    assert not _control(app, "custom.beam_energy_gev").alert.visible
    app.add_custom()
    assert "custom-1" in app.exp_select.value
    assert "custom-1" in app.exp_select.options.values()
    wait(app)
    app.refresh()
    assert _data(app, "reach:custom-1:total") is not None
    assert "computed" in app.status.text.object or "cache" in app.status.text.object
    app.add_custom()                                     # the same again: refused beside the form
    assert app.custom_label_alert.visible and "already" in unescape(app.custom_label_alert.object)


def test_views_and_downloads(app):
    for view in ("yields", "edm", "spectrum", "exclusion"):
        app.inputs.view = view
        assert app.tabs.active == ("exclusion", "yields", "edm", "spectrum").index(view)
        assert not app.views[view].stale
    png = app.views["exclusion"].export("png")
    assert isinstance(png, io.BytesIO) and png.getvalue()[:4] == b"\x89PNG"
    csv = app.views["yields"].export("csv")
    assert csv.getvalue().startswith("# Dark Axion Portal Explorer")
    assert not app.internal_alert.visible


def test_export_size_and_font_scale(app):
    from PIL import Image

    sizes = {}
    for size in ("slide", "single", "double"):
        app.inputs.export_size = size
        img = Image.open(io.BytesIO(app.views["exclusion"].export("png").getvalue()))
        sizes[size] = img.size
    w, h = sizes["slide"]
    assert w / h == pytest.approx(16 / 9, rel=0.02)
    assert sizes["single"][0] < sizes["double"][0]
    app.inputs.font_scale = 2.0
    assert app.views["exclusion"].export("svg").getvalue()
    assert not app.inputs.offer("font_scale", "3", "font_scale")           # larger left no room for the axes
    assert app.errors["font_scale"] == "invalid font_scale=3.0: allowed in [0.5, 2]"
    assert app.inputs.font_scale == 2.0


def test_axis_ranges_per_view(app):
    fig = app.views["exclusion"].figure
    assert fig.x_range.start == pytest.approx(app.inputs.m_gd_min)
    assert not hasattr(app, "range_inputs")                  # built when its card is first opened
    app.open_card("ranges")
    app.range_inputs[("y", 0)].value = "1e-6"
    app.range_inputs[("y", 1)].value = "0.1"
    assert app.inputs.axis_ranges == {"exclusion": {"y": [1e-6, 0.1]}}
    assert (fig.y_range.start, fig.y_range.end) == pytest.approx((1e-6, 0.1))
    app.range_inputs[("x", 0)].value = "-1"
    app.range_inputs[("x", 1)].value = "1"
    assert "axis_ranges" in app.errors
    app.inputs.view = "spectrum"
    assert app.range_inputs[("y", 0)].value == ""             # the spectrum keeps its own (default) ranges


def test_presentation_mode_uses_the_presentation_look(app):
    from dashboard import figures

    assert app.look() is figures.SCREEN
    app.inputs.presentation = True
    assert app.views["exclusion"].spec.look is figures.LOOKS["presentation"]


def test_reset_button(app):
    app.inputs.g = 0.05
    reset = next(o for o in pn.Column(*app.sidebar).select(pn.widgets.Button) if "Reset" in o.label)
    reset.clicks += 1
    assert app.inputs.g == 1e-3


def test_clickable_channel_toggle_and_radio_buttons(app):
    """Reported defects: the "draw single channels" label did not toggle it (now a toggle button: the whole
    label is the button) and radio choices looked like checkboxes (now button groups)."""
    assert isinstance(app.show_channels, pn.widgets.Toggle)
    assert "single channels" in app.show_channels.label
    assert app.inputs.show_channel_curves is False                  # totals only by default, as in the paper
    app.show_channels.value = True
    assert app.inputs.show_channel_curves is True
    radios = [w for w in pn.Column(*app.sidebar).select(pn.widgets.RadioBoxGroup)]
    assert radios == []
    assert any(isinstance(w, pn.widgets.RadioButtonGroup) and "dap-alp-mode" in w.css_classes
               for w in pn.Column(*app.sidebar).select(pn.widgets.RadioButtonGroup))


def test_plot_fills_the_window_height(app):
    pane = app.views["exclusion"].pane
    assert "100vh" in pane.styles["height"]
    assert app.views["exclusion"].figure.sizing_mode == "stretch_both"


def test_labels_have_one_source():
    from dashboard import adapter, inputs, layout, style
    from physics.signal import constraints
    from physics.xsec.methods import METHODS, SHORT_LABELS

    assert layout.OVERLAY_OPTIONS == {label: key for key, label in adapter.CONSTRAINT_LABELS.items()}
    assert inputs.Inputs.param.overlays.names == layout.OVERLAY_OPTIONS
    assert adapter.CONSTRAINT_LABELS["babar"] == constraints.LABELS["babar-upsilon"]
    drawn = adapter.constraints(adapter.CONSTRAINT_KEYS, np.array([0.01, 0.1]), 1e-6)
    assert [d["label"] for d in drawn] == [constraints.LABELS[k] for k in
                                           ("babar-upsilon", "besiii-omega", "besiii-phi", "sn1987a")]
    assert layout.CHANNEL_OPTIONS == {style.CHANNEL_LABELS[c]: c for c in adapter.CHANNELS}
    assert layout.METHOD_OPTIONS == {SHORT_LABELS[m]: m for m in METHODS}


def test_no_private_panel_api_in_the_dashboard():
    """No private Panel/Bokeh attribute is read or patched by the dashboard's modules."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "dashboard"
    mine = ["inputs.py", "checks.py", "tablejobs.py", "viewdata.py", "layout.py", "views.py", "controls.py",
            "app.py", "adapter.py"]
    for name in mine:
        text = (root / name).read_text()
        assert not re.search(r"\b(pn|panel|bokeh)\.[\w.]*\._[a-z]", text), name
        assert "_resources" not in text and "_transform_object" not in text, name


def test_the_served_page_sends_the_sidebar_after_the_first_paint():
    """create_app serves the figure first; the controls are put in by show_sidebar (on page load), once."""
    from dashboard.layout import DashboardApp

    a = DashboardApp()
    a.template(defer_sidebar=True).server_doc(Document())
    assert a.sidebar_area.objects == []
    a.show_sidebar()
    assert a.sidebar_area.objects == list(a.sidebar)
    a.show_sidebar()
    assert len(a.sidebar_area.objects) == len(a.sidebar)
    a.release()


def test_a_slider_is_not_moved_back_by_the_rounding_of_its_own_value(app):
    """The slider offers 10**pos rounded to 4 digits; the parameter's echo must not nudge the handle (each
    nudge is a model change the browser redraws), but a real change elsewhere moves it."""
    alpha = _control(app, "alpha_d")
    pos = alpha.slider.value + 3 * alpha.slider.step + 0.0013            # not on a 4-digit value
    with param.edit_constant(alpha.slider):                             # what a release in the browser does
        alpha.slider.param.update(value=pos, value_throttled=pos)
    assert app.inputs.alpha_d == float(f"{10 ** pos:.4g}")
    assert alpha.slider.value == pos                                     # not moved to log10 of the rounded value
    app.inputs.alpha_d = 0.01                                            # a preset, a link, the text box …
    assert alpha.slider.value == pytest.approx(-2.0)


def _custom_spec(label):
    return {"label": label, "beam_energy_gev": 20.0, "target": "Cu", "thickness_x0": 40.0, "x_min": 0.5,
            "eot": 1e11, "background": 0.0, "observed": 0}


def test_replacing_custom_experiments_keeps_one_titled_slot_per_experiment():
    """Unopened cards' slots of removed experiments are dropped too (an id() of a freed settings object can be
    reused: a kept slot would show the old experiment's name)."""
    import gc

    from dashboard.layout import DashboardApp

    a = DashboardApp()
    builtin_st = a.inputs.settings["na64e-2023"]
    for i in range(12):
        a.inputs.custom = [_custom_spec(f"L{i}")]
        gc.collect()
        assert len(a._slots) == len(a.inputs.settings)
        titles = [s.name for s in a.exp_settings.objects]
        assert [unescape(t) for t in titles][-1].startswith(f"L{i}"), titles
    # the refusal watcher of a built-in experiment is set once, not once per change of the custom list
    assert len(builtin_st.param.watchers["refused"]["value"]) == 1
    a.release()


def test_a_tab_first_shown_while_an_input_is_invalid_has_its_figure_and_caption():
    from dashboard.layout import DashboardApp

    a = DashboardApp()
    a.inputs.offer("g", "abc", "g")
    assert not a.valid
    a.inputs.view = "yields"
    panel = a.views["yields"]
    assert panel.live is not None and panel.caption in panel.layout.objects, "the tab stays blank"
    assert panel.pane not in panel.layout.objects          # no empty figure: it is sent once drawn (below)
    a.inputs.offer("g", "0.001", "g")
    assert a.valid and panel.layout.objects[:2] == [panel.pane, panel.export_row]
    a.release()


def test_a_tab_first_shown_gets_its_figure_already_drawn():
    """A figure put in a tab and then given its axes, legend and data was laid out wrongly by BokehJS (a frame
    a few pixels wide, no axes): the tab's figure is attached only after its first drawing."""
    from dashboard.layout import DashboardApp

    a = DashboardApp()
    for view in ("yields", "edm", "spectrum", "map"):
        panel = a.views[view]
        seen = []
        panel.layout.param.watch(lambda e, p=panel: seen.append(
            p.pane in e.new and any(len(r.data_source.data.get("x", [])) for r in p.live.fig.renderers
                                    if hasattr(r, "data_source"))), "objects")
        a.inputs.view = view
        assert seen and all(seen), (view, seen)
    a.release()


def test_create_app_sends_the_sidebar_on_page_load(monkeypatch):
    """The served page starts without the sidebar's controls; the page-load callback puts them in."""
    from dashboard import layout

    loaded = []
    monkeypatch.setattr(pn.state, "onload", lambda cb, threaded=False: loaded.append(cb))
    monkeypatch.setattr(pn.state, "on_session_destroyed", lambda cb: None)
    doc = Document()
    with pn.io.server.set_curdoc(doc):
        tpl, a = layout.create_app()
        tpl.server_doc(doc)
        assert a.sidebar_area.objects == [] and loaded == [a.show_sidebar]
        loaded[0]()
    assert a.sidebar_area.objects == list(a.sidebar)
    a.release()


def test_warm_up_builds_a_page_off_line_and_leaves_nothing_running(monkeypatch):
    """The server's warm-up (dashboard/server_setup.py) builds a whole session's page and sidebar in its own
    document, then releases it: with the default executor no thread is left running, and an error reaches
    the caller (the setup script prints it)."""
    import threading

    from dashboard import layout

    layout.warm_up()                                   # the process's executor exists from here on
    before = set(threading.enumerate())
    t = layout.warm_up()
    assert t > 0
    assert set(threading.enumerate()) <= before
    monkeypatch.setattr(layout.ViewPanel, "refresh", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        layout.warm_up()


def test_a_csv_export_states_the_axis_ranges_shown():
    from dashboard.layout import DashboardApp

    a = DashboardApp()
    a.inputs.axis_ranges = {"exclusion": {"y": [1e-7, 1.0]}}
    text = a.views["exclusion"].export("csv").getvalue()
    line = next(ln for ln in text.splitlines() if ln.startswith("# axis ranges shown:"))
    assert "x = [0.001, 5]" in line and "y = [1e-07, 1]" in line
    a.release()


def test_messages_beside_controls_write_units_as_the_page_does(app):
    app.inputs.offer("g", "0", "g")
    text = _control(app, "g").alert.object
    assert "GeV⁻¹" in text and "GeV&#94;-1" not in text, text
    app.inputs.offer("g", "0.001", "g")


def test_the_reset_beside_presentation_mode_keeps_it():
    from dashboard.layout import DashboardApp

    a = DashboardApp()
    a.inputs.param.update(presentation=True, alpha_d=0.05)
    a.reset(keep=("presentation",))
    assert a.inputs.presentation and a.inputs.alpha_d == 0.1
    a.reset()
    assert not a.inputs.presentation
    a.release()


@pytest.mark.parametrize("lo, hi", [("1e-6", "1e300"), ("1e-6", "inf"), ("nan", "1"), ("-1", "1"), ("1", "1")])
def test_an_axis_range_must_be_finite_ordered_and_at_most_40_decades(app, lo, hi):
    app.open_card("ranges")
    app.range_inputs[("y", 0)].value = lo
    app.range_inputs[("y", 1)].value = hi
    assert "y axis: two numbers with 0 < from < to, finite, at most 40 decades" in app.errors["axis_ranges"]
    assert "y" not in (app.inputs.axis_ranges.get("exclusion") or {})


def test_a_links_axis_range_is_checked_as_typed_ones_are(app):
    app.inputs.axis_ranges = {"exclusion": {"y": [1e-6, 1e300], "x": [0.01, 1.0]}}
    r = app.ranges("exclusion")
    assert r["x"] == (0.01, 1.0) and r["y"] != (1e-6, 1e300)       # the view's default instead
