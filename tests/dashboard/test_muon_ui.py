"""Muon beams in the dashboard: listed with their beam, own styles on the exclusion plane, "muons on target"
and meson channels off (with the reason) in their settings card, their assumptions shown as plain text, and
the custom form's lepton choice validated by physics."""

from __future__ import annotations

from html import unescape

import numpy as np
import panel as pn

from physics.signal import experiments as phys_exps

from dashboard import adapter, checks, figures, style
from dashboard.inputs import CustomExperimentForm, ExperimentSettings, same_setup

from .conftest import session

MUON = ["na64mu-2022", "na64mu-projected", "m3-phase1", "m3-phase2"]
ELECTRON = ["na64e-2023", "na64e-projected", "ldmx-phase2"]


def _texts(obj) -> str:
    """Every Markdown text and control label below a Panel object."""
    out = []
    for o in pn.Column(obj).select():
        if isinstance(o, pn.pane.Markdown):
            out.append(str(o.object))
        elif isinstance(o, pn.widgets.Widget) and getattr(o, "name", ""):
            out.append(str(o.name))
    return "\n".join(out)


def test_muon_experiments_are_listed_with_their_beam():
    app = session()
    opts = app.inputs.experiment_options()
    by_id = {v: k for k, v in opts.items()}
    for e in MUON:
        assert e in by_id and by_id[e].endswith("(μ)"), by_id.get(e)
    for e in ELECTRON:
        assert by_id[e].endswith("(e⁻)")
    assert dict(app.exp_select.options) == opts


def test_style_table_has_distinct_styles_for_every_builtin_experiment():
    ids = list(phys_exps.BUILTIN_EXPERIMENTS)
    assert set(ids) <= set(style.EXPERIMENT_STYLES)
    colours = [style.EXPERIMENT_STYLES[e][0].lower() for e in ids]
    assert len(set(colours)) == len(ids)
    pairs = {style.EXPERIMENT_STYLES[e] for e in ids}
    assert len(pairs) == len(ids)
    for e in ids:                     # the dash tells the beam
        lepton = phys_exps.BUILTIN_EXPERIMENTS[e].lepton
        assert (style.EXPERIMENT_STYLES[e][1] == style.MUON_DASH) == (lepton == "mu")
    # other experiments: colour by position, dash by beam
    assert style.experiment_dash({"exp_id": "custom-1", "lepton": "mu"}) == style.MUON_DASH
    assert style.experiment_dash({"exp_id": "custom-1"}) == "solid"


def test_exclusion_plane_draws_muon_experiments_in_their_style(fresh_cache, wait):
    app = session(experiments=["na64e-2023", "na64mu-2022", "m3-phase2", "ldmx-phase2"])
    wait(app)
    data = app.view_data("exclusion")
    spec = figures.spec("exclusion", data, (1e-3, 5.0))
    totals = {c.key.split(":")[1]: c for c in spec.curves if c.key.startswith("reach:") and c.key.endswith(":total")}
    assert set(totals) == {"na64e-2023", "na64mu-2022", "m3-phase2", "ldmx-phase2"}
    for e, c in totals.items():
        assert (c.colour, c.dash) == style.EXPERIMENT_STYLES[e]
        assert np.isfinite(np.asarray(c.y, dtype=float)).any()
    legend = [lab for _, lab in spec.legend_entries()]
    assert any("NA64μ" in lab for lab in legend) and any("M³ Phase 2" in lab for lab in legend)
    # meson channels are off for muon beams: no limit from them
    for c in data["curves"]:
        if c["exp_id"] in MUON and c["channel"] in adapter.MESON_KEYS:
            assert np.all(np.isnan(c["g"])), (c["exp_id"], c["channel"])


def test_muon_settings_card_mot_mesons_off_and_assumptions():
    app = session()
    for e in MUON + ELECTRON:
        st = app.inputs.settings[e]
        card, ctls = app.exp_card(e)
        eot = next(c for c in ctls if c.field == "eot")
        text = _texts(card)
        base = st.base
        if e in MUON:
            assert eot.label == "muons on target (MOT)"
            assert "Meson channels: off" in text and "muon beam" in text
            assert "GeV μ on" in text
            assert "Assumptions:" in text
        else:
            assert "MOT" not in eot.label and "Meson channels: off" not in text
            assert "GeV e⁻ on" in text
        if base.assumptions:
            assert unescape(style.plain(base.assumptions, limit=None)) == base.assumptions.replace("\n", " ")


def test_assumptions_from_a_file_are_shown_as_text_never_markup():
    app = session()
    evil = phys_exps.BUILTIN_EXPERIMENTS["m3-phase1"].replace(
        id="file-exp", assumptions="<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))")
    card, _ = app._exp_card("file-exp", ExperimentSettings(evil))
    md = [o for o in pn.Column(card).select(pn.pane.Markdown) if "dap-exp-assumptions" in o.css_classes]
    assert len(md) == 1
    html = unescape(md[0]._transform_object(md[0].object)["object"])
    assert "<img" not in html and "<strong>" not in html and "<a " not in html
    assert "&lt;img src=x" in html or "&#60;img" in md[0].object


def _spec(**kw):
    return {"label": "", "beam_energy_gev": 1.0, "target": "W", "thickness_x0": 1.0, "x_min": 0.9, "eot": 1e12,
            "background": 0.0, "observed": 0, **kw}


def test_custom_form_lepton_choice_and_validation():
    form = CustomExperimentForm()
    assert form.lepton == "e" and "lepton" in form.spec()
    # 1 GeV, x >= 0.9: open for an electron (end point 1 - m_e/E0), closed for a muon (1 - m_mu/E0 = 0.894)
    form.param.update(beam_energy_gev=1.0, x_min=0.9, lepton="e")
    assert checks.check_custom(form, []) == {}
    form.lepton = "mu"
    errs = checks.check_custom(form, [])
    assert list(errs) == ["custom.x_min"] and "kinematic end point" in errs["custom.x_min"]
    assert len(errs["custom.x_min"]) <= 200 and "\n" not in errs["custom.x_min"]
    form.x_min = 0.5
    assert checks.check_custom(form, []) == {}
    exp = CustomExperimentForm.build(form.spec(), "custom-1")
    assert exp.lepton == "mu"
    assert adapter.meson_channels_off_reason(exp)
    # beam below the kinematic threshold: physics refuses it, shown next to the beam energy
    bad = _spec(lepton="mu", beam_energy_gev=0.1)
    try:
        CustomExperimentForm.build(bad, "custom-1")
    except adapter.InputError as exc:
        assert checks.custom_field(exc.parameter) == "beam_energy_gev"
    else:
        raise AssertionError("a 0.1 GeV muon beam was accepted")
    # a bad lepton from a link: refused with a message naming the lepton
    try:
        CustomExperimentForm.build(_spec(lepton="tau"), "custom-1")
    except adapter.InputError as exc:
        assert checks.custom_field(exc.parameter) == "lepton"
    else:
        raise AssertionError("lepton 'tau' was accepted")
    # specs of older links (no lepton) are electron beams, and the same setup as an explicit "e"
    old = _spec(x_min=0.5)
    assert CustomExperimentForm.build(old, "custom-1").lepton == "e"
    assert same_setup(old, {**old, "lepton": "e"}) and not same_setup(old, {**old, "lepton": "mu"})


def test_session_adds_a_custom_muon_experiment_with_a_mot_card():
    app = session()
    app.inputs.custom_form.param.update(beam_energy_gev=1.0, x_min=0.9, lepton="mu")
    assert app.add_custom() is None
    assert "kinematic end point" in app.errors["custom.x_min"]
    app.open_card("custom")
    radios = [w for w in pn.Column(*app.sidebar).select(pn.widgets.RadioButtonGroup)
              if "dap-custom-lepton" in w.css_classes]
    assert len(radios) == 1 and set(radios[0].options.values()) == {"e", "mu"} and radios[0].value == "mu"
    app.inputs.custom_form.x_min = 0.5
    exp_id = app.add_custom()
    assert exp_id == "custom-1" and app.inputs.settings[exp_id].base.lepton == "mu"
    assert app.inputs.custom[0]["lepton"] == "mu"
    card, ctls = app.exp_card(exp_id)
    assert next(c for c in ctls if c.field == "eot").label == "muons on target (MOT)"
    assert "(μ)" in next(k for k, v in app.inputs.experiment_options().items() if v == exp_id)
