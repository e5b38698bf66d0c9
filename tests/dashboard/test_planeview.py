"""The (m_γD, m_a) map (dashboard/planeview.py): its numbers are physics.signal.reach's at every grid point,
the combination is the best experiment per point, α_D / r_χ moves reuse the production coefficients, and the
Map tab, its inputs, URL names, figure and CSV. (Timing: ``python -m benchmarks map``, not a test.)"""

from __future__ import annotations

import numpy as np
import pytest

from physics.signal.reach import reach

from dashboard import adapter, export, figures, planeview
from dashboard.inputs import MAP_COMBINED, URL_PARAMS, VIEWS

from .conftest import session

EXPS = ["na64e-2023", "na64mu-2022", "ldmx-phase2"]
ROWS = (0, 17, 55, 99)


@pytest.fixture
def app(fresh_cache, wait):
    a = session(experiments=list(EXPS), alpha_d=0.3, m_chi_ratio=0.2, map_n=40, view="map")
    wait(a)
    planeview.coefficient.clear()
    planeview.reach_map.clear()
    return a


def _direct(app, exp_id, m_gd, m_a_value, channel="total"):
    exp = app.inputs.settings[exp_id].experiment()
    table = app.jobs.table_for(exp_id)[0]
    vi = app.inputs.view_inputs()
    r = reach(exp, m_gd, m_a=m_a_value, alpha_d=vi.alpha_d, m_chi=vi.m_chi_ratio * m_gd, table=table)
    return np.asarray(r.g90[channel], dtype=float)


@pytest.mark.parametrize("exp_id", EXPS)
def test_map_equals_physics_reach_at_grid_points(app, exp_id):
    app.inputs.map_experiment = exp_id
    data = app.view_data("map")
    assert data["experiments"] == [exp_id] and data["message"] == ""
    g = data["g90"]
    assert g.shape == (40, 40) and np.isfinite(g).mean() > 0.5
    for j in (0, 13, 27, 39):
        want = _direct(app, exp_id, data["m_gd"], data["m_a"][j])
        np.testing.assert_allclose(g[j], want, rtol=1e-12, equal_nan=True)


def test_combined_map_is_the_best_experiment_per_point(app):
    app.inputs.map_experiment = MAP_COMBINED
    data = app.view_data("map")
    assert sorted(data["experiments"]) == sorted(EXPS)
    for j in (5, 30):
        rows = np.array([_direct(app, e, data["m_gd"], data["m_a"][j]) for e in EXPS])
        np.testing.assert_allclose(data["g90"][j], np.fmin.reduce(rows), rtol=1e-12, equal_nan=True)
        for i, e in enumerate(data["best"][j]):
            if e:
                assert data["g90"][j, i] == pytest.approx(rows[EXPS.index(e), i], rel=1e-12)
            else:
                assert np.all(np.isnan(rows[:, i]))


def test_enabled_channels_only_brem(app):
    app.inputs.channels = ["brem"]
    app.inputs.map_experiment = "na64e-2023"
    data = app.view_data("map")
    for j in (3, 21):
        want = _direct(app, "na64e-2023", data["m_gd"], data["m_a"][j], channel="brem")
        np.testing.assert_allclose(data["g90"][j], want, rtol=1e-12, equal_nan=True)


def test_alpha_d_and_r_chi_moves_reuse_the_coefficients(app, monkeypatch):
    calls = []
    real = adapter.plane_coefficient
    monkeypatch.setattr(adapter, "plane_coefficient", lambda *a, **k: calls.append(a[0].id) or real(*a, **k))
    app.inputs.map_experiment = MAP_COMBINED
    first = app.view_data("map")["g90"]
    assert sorted(calls) == sorted(EXPS)
    app.inputs.alpha_d = 0.05
    app.inputs.m_chi_ratio = 0.4
    second = app.view_data("map")["g90"]
    assert sorted(calls) == sorted(EXPS)                 # K memoised: only the closed form ran again
    assert not np.allclose(first, second, equal_nan=True)
    app.inputs.settings["ldmx-phase2"].eot = 1e15        # an experiment's numbers change its K only
    app.view_data("map")
    assert sorted(calls) == sorted(EXPS + ["ldmx-phase2"])


def test_invalid_ranges_are_flagged_beside_the_control_and_the_data_says_why(app):
    app.inputs.map_experiment = "na64e-2023"
    app.inputs.map_m_a_min = 6.0                         # above 'to' (5 GeV)
    # the page: a message beside 'map m_a to'; the views keep their last valid state until it is fixed
    assert "map m_a to must exceed map m_a from = 6 GeV" in app.errors["map_m_a_max"] and not app.valid
    # the map's own data for such a grid (a script calling it directly): a notice, no numbers
    data = app.view_data("map")
    assert "m_a range" in data["message"] and np.all(np.isnan(data["g90"]))
    spec = figures.spec("map", data, None)
    assert "m_a range" in spec.notice
    app.inputs.map_m_a_min = 1e-6
    assert "map_m_a_max" not in app.errors and app.valid


def test_unselected_experiment_is_explained(app):
    app.inputs.map_experiment = "m3-phase2"
    data = app.view_data("map")
    assert "select m3-phase2" in data["message"] and data["experiments"] == []


def test_map_inputs_bounds_and_url_names():
    app = session()
    inp = app.inputs
    assert "map" in VIEWS and "map" in app.views
    for p in planeview.FIELDS:
        assert p in URL_PARAMS
    assert len(set(URL_PARAMS.values())) == len(URL_PARAMS)
    assert not inp.offer("map_n", 1000) and "map_n" in inp.refused
    assert not inp.offer("map_m_a_min", 0.0)              # log axis
    assert not inp.offer("map_m_gd_max", 20.0)
    assert inp.offer("map_n", 60) and inp.map_n == 60
    with pytest.raises(ValueError):
        inp.map_experiment = "no-such-experiment"
    assert set(inp.param.map_experiment.objects) == {MAP_COMBINED, *inp.param.experiments.objects}


def test_map_figure_csv_and_export(app):
    app.inputs.map_experiment = MAP_COMBINED
    app.refresh()
    view = app.views["map"]
    spec = view.spec
    kinds = [c.kind for c in spec.curves]
    assert kinds.count("image") == 1 and kinds.count("line") >= 2       # colour map and contour lines
    img = spec.curves[0]
    assert [h.column for h in img.hover] == ["x", "y", "g"]
    assert "dap:plane" in {r.name for r in view.figure.renderers}
    csv = export.csv_text("map", view.data, app.header_lines("map"))
    lines = csv.splitlines()
    head = [x for x in lines if x.startswith("#")]
    assert any("map grid: 40 x 40" in x for x in head) and any("alpha_D = 0.3" in x for x in head)
    body = lines[len(head):]
    assert body[0] == "m_gd_GeV,m_a_GeV,g90_GeV-1,experiment" and len(body) == 1 + 40 * 40
    assert view.export("png").getvalue()[:4] == b"\x89PNG"
