"""Paper presets (dashboard.presets): every value is allowed by the inputs, applying a preset sets the
inputs (and so the URL), the caption/exports cite the paper, and a changed input ends the citation."""

from __future__ import annotations

import param
import pytest

from dashboard import export, figures, layout, presets
from dashboard.inputs import URL_PARAMS, CustomExperimentForm, Inputs, field_limit


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_preset_values_are_within_the_inputs_bounds(name):
    inp = Inputs()
    for k, v in presets.target_values(name).items():
        p = inp.param[k]
        if isinstance(p, param.Number) and not isinstance(v, bool) and v is not None:
            field_limit(inp, k).check(v, k)                        # raises InputError outside the range
        elif k == "experiments":       # built-in experiments, or the preset's own custom ones
            n = len(presets.target_values(name)["custom"])
            assert set(v) <= set(p.objects) | {f"custom-{i + 1}" for i in range(n)}, v
        elif isinstance(p, param.ListSelector):
            assert set(v) <= set(p.objects.values() if isinstance(p.objects, dict) else p.objects), (k, v)
        elif isinstance(p, param.Selector):
            assert v in (p.objects.values() if isinstance(p.objects, dict) else p.objects), (k, v)
    for spec in presets.target_values(name)["custom"]:
        CustomExperimentForm.build(spec, "custom-1")              # a valid custom experiment (InputError if not)


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_applying_a_preset_sets_every_value_and_cites_the_paper(name):
    inp = Inputs()
    assert presets.active(inp) is None
    presets.apply(inp, name)
    assert inp.refused == {} and presets.active(inp).name == name
    assert set(inp.experiments) == set(presets.target_values(name)["experiments"])   # none dropped
    pr = presets.PRESETS[name]
    assert "arXiv:2602.11405" in pr.caption and pr.source in pr.caption and pr.source in pr.citation
    # any change of an input it fixes: no longer the paper's figure
    inp.alpha_d = 0.05
    assert presets.active(inp) is None


def test_applying_a_preset_changes_the_url():
    """The URL mirrors the inputs (Panel's Location.sync, as DashboardApp.sync_url): a preset changes it."""
    from panel.io.location import Location

    inp = Inputs()
    loc = Location()
    loc.sync(inp, URL_PARAMS)
    before = loc.search
    presets.apply(inp, "fig4")
    assert loc.search != before
    # (single-channel curves are off by default too: the URL spells the initial value "False")
    assert "view=exclusion" in loc.search and "custom-1" in loc.search and "chcurves=false" in loc.search.lower()
    presets.apply(inp, "fig6")
    assert "view=edm" in loc.search and "edm2=true" in loc.search


def test_fig4_preset_data_spec_export_and_csv_cite_the_paper(tmp_path):
    app = layout.DashboardApp()
    presets.apply(app.inputs, "fig4")
    data = app.view_data("exclusion")
    assert data["preset"]["name"] == "fig4"
    s = figures.spec("exclusion", data, (1e-3, 10.0))
    assert "Fig. 4" in s.citation and "arXiv:2602.11405" in s.citation and s.caption.startswith("**Paper Fig. 4**")
    keys = {c.key for c in s.curves}
    assert {"reach:na64e-2023:total", "reach:na64e-projected:total", "reach:ldmx-phase2:total",
            "reach:custom-1:total", "excl:na64e-2023"} <= keys
    assert not any(k.startswith("excl:") for k in keys - {"excl:na64e-2023"})   # projections are lines
    assert any(k.startswith("con:BaBar") for k in keys) and any(k.startswith("con:SN1987A") for k in keys)
    fig = export.spec_figure(s, "slide")
    assert any(t.get_gid() == "citation" and "arXiv:2602.11405" in t.get_text() for t in fig.texts)
    pdf = export.spec_bytes(s, "pdf", "slide")
    assert b"arXiv:2602.11405" in pdf
    head = app.header_lines("exclusion")
    assert any("Fig. 4" in ln and "arXiv:2602.11405" in ln for ln in head)
    csv = export.csv_text("exclusion", data, head)
    assert "# Reproduces Fig. 4 of" in csv
    # not cited in another view, nor after a change
    assert app.view_data("yields")["preset"] is None
    app.inputs.g = 2e-3        # the marker only (Fig. 4 does not name it): still the paper's figure
    assert app.view_data("exclusion")["preset"]["name"] == "fig4"
    app.inputs.bands = True    # bands around the paper's curves: still its figure
    assert app.view_data("exclusion")["preset"]["name"] == "fig4"
    app.inputs.overlays = ["babar", "besiii", "sn1987a"]
    assert app.view_data("exclusion")["preset"] is None


def test_fig6_preset_draws_both_cutoffs_and_table2_preset_the_table():
    app = layout.DashboardApp()
    presets.apply(app.inputs, "fig6")
    data = app.view_data("edm")
    assert data["cutoffs"] == [1000.0, 10000.0] and data["preset"]["name"] == "fig6"
    s = figures.spec("edm", data, (1e-3, 10.0))
    keys = {c.key for c in s.curves}
    for f in ("e", "mu", "n"):
        for sc in ("light-alp", "degenerate"):
            assert {f"edm:{f}:{sc}:1000", f"edm:{f}:{sc}:10000"} <= keys
    b1 = next(c for c in s.curves if c.key == "edm:e:light-alp:1000").y
    b10 = next(c for c in s.curves if c.key == "edm:e:light-alp:10000").y
    assert (b10 < b1).all()                                   # a larger cut-off: a larger loop, a stronger bound
    csv = export.csv_text("edm", data, app.header_lines("edm"))
    assert "Fig. 6" in csv and ",10000.0," in csv
    presets.apply(app.inputs, "table2")
    data = app.view_data("edm")
    assert data["preset"]["name"] == "table2" and data["m_gd_ref"] == 0.1
    assert {r["cutoff_GeV"] for r in data["table"]} == {1000.0, 10000.0} and len(data["table"]) == 12
    assert "Table 2" in export.csv_text("edm", data, app.header_lines("edm")).splitlines()[1]
