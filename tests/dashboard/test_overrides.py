"""Per-experiment N_V overrides and the server-side Dask executor (no browser)."""

from __future__ import annotations

import json
from html import unescape

import numpy as np
import pytest

from dashboard import adapter

from dashboard import tableservice
from dashboard.inputs import NV_PARAMS, URL_PARAMS, Inputs

from .conftest import session, status_rows


def _curve(data, exp_id, channel, key):
    return next(np.asarray(c[key], dtype=float) for c in data["curves"]
                if c["exp_id"] == exp_id and c["channel"] == channel)


# ------------------------------------------------------------------------------------ N_V overrides
def test_settings_have_one_optional_override_per_meson():
    st = Inputs().settings["na64e-2023"]
    assert set(NV_PARAMS) == set(adapter.MESON_KEYS)
    assert all(getattr(st, p) is None for p in NV_PARAMS.values())
    assert st.experiment().meson_yields == {}
    model = st.model_nv()
    assert set(model) == set(adapter.MESON_KEYS) and model["rho"] > 0
    st.nv_phi = 1e6
    assert st.experiment().meson_yields == {"phi": 1e6}


def test_override_scales_meson_yield_and_reach(fresh_cache, wait):
    s = session(method="iww", n_points=20, experiments=["na64e-2023"], channels=["brem", "rho"],
                show_channel_curves=True)
    wait(s)
    st = s.inputs.settings["na64e-2023"]
    y1 = _curve(s.view_data("yields"), "na64e-2023", "rho", "n")
    g1 = _curve(s.view_data("exclusion"), "na64e-2023", "rho", "g")
    brem1 = _curve(s.view_data("exclusion"), "na64e-2023", "brem", "g")
    st.nv_rho = 2.0 * st.model_nv()["rho"]
    assert s.valid
    y2 = _curve(s.view_data("yields"), "na64e-2023", "rho", "n")
    g2 = _curve(s.view_data("exclusion"), "na64e-2023", "rho", "g")
    brem2 = _curve(s.view_data("exclusion"), "na64e-2023", "brem", "g")
    ok = np.isfinite(y1) & (y1 > 0)
    assert ok.sum() > 3
    assert np.allclose(y2[ok] / y1[ok], 2.0, rtol=1e-9)
    # N ∝ N_V g² Br_inv(g); Br_inv ≈ 1 at small coupling → g_90 ∝ N_V^-1/2
    okg = np.isfinite(g1) & np.isfinite(g2) & (g1 < 0.2)
    assert okg.sum() > 3
    assert np.allclose(g2[okg] / g1[okg], 1 / np.sqrt(2), rtol=2e-2)
    np.testing.assert_allclose(brem2, brem1)          # the brem channel does not depend on N_V
    # clearing the override returns to the model
    st.nv_rho = None
    np.testing.assert_allclose(_curve(s.view_data("yields"), "na64e-2023", "rho", "n"), y1)


@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_invalid_override_gives_message_and_keeps_last_good_data(value):
    s = session(method="iww")
    st = s.inputs.settings["na64e-2023"]
    assert st.offer("nv_jpsi", value, "meson_yields.jpsi") is False
    key = "exp.na64e-2023.nv_jpsi"
    assert key in s.errors, s.errors
    assert "meson_yields.jpsi" in s.errors[key]
    assert not s.valid and st.nv_jpsi is None            # the last good value (and plot) is kept
    st.offer("nv_jpsi", 10.0)
    assert s.valid and key not in s.errors


def test_override_controls_in_the_layout(fresh_cache, wait):
    app = session(method="iww", n_points=20, experiments=["na64e-2023"])
    wait(app)
    app.refresh()
    src = app.views["exclusion"].figure.select_one({"name": "dap:reach:na64e-2023:total"}).data_source
    before = np.array(src.data["y"], dtype=float)
    ctl = next(c for c in app.exp_card("na64e-2023")[1] if c.key == "exp.na64e-2023.nv_rho")
    assert ctl.text.value == "" and ctl.text.placeholder.startswith("model ")
    ctl.text.value = "-5"
    assert ctl.alert.visible and "ρ" in unescape(ctl.alert.object)
    assert app.invalid_alert.visible
    assert np.array_equal(np.asarray(src.data["y"], dtype=float), before, equal_nan=True), "last good plot kept"
    ctl.text.value = "1e9"
    assert not ctl.alert.visible and app.inputs.settings["na64e-2023"].nv_rho == 1e9
    assert app.inputs.overrides == {"na64e-2023": {"meson_yields": {"rho": 1e9}}}
    ctl.text.value = ""
    assert app.inputs.settings["na64e-2023"].nv_rho is None and app.inputs.overrides == {}


def test_csv_header_contains_overrides():
    s = session(experiments=["na64e-2023", "ldmx-phase2"])
    s.inputs.settings["na64e-2023"].nv_rho = 5e7
    s.inputs.settings["na64e-2023"].nv_upsilon = 0.0
    text = "\n".join(s.header_lines("yields"))
    line = next(x for x in text.splitlines() if x.startswith("experiment na64e-2023:"))
    assert "N_V_override=rho:5e+07, upsilon:0" in line
    line = next(x for x in text.splitlines() if x.startswith("experiment ldmx-phase2:"))
    assert "N_V_override=none (model)" in line


def test_overrides_round_trip_through_the_url():
    from urllib.parse import urlencode

    from panel.util import parse_query

    a = Inputs()
    a.settings["ldmx-phase2"].nv_omega = 3e9
    a.settings["ldmx-phase2"].eot = 2e15
    assert a.overrides == {"ldmx-phase2": {"eot": 2e15, "meson_yields": {"omega": 3e9}}}
    q = URL_PARAMS["overrides"]
    parsed = parse_query("?" + urlencode({q: json.dumps(a.param["overrides"].serialize(a.overrides))}))
    b = Inputs()
    b.overrides = b.param["overrides"].deserialize(parsed[q])
    assert b.settings["ldmx-phase2"].nv_omega == 3e9 and b.settings["ldmx-phase2"].eot == 2e15
    assert b.settings["ldmx-phase2"].experiment().meson_yields == {"omega": 3e9}
    b.overrides = {}
    assert b.settings["ldmx-phase2"].nv_omega is None


# ------------------------------------------------------------------------------------ Dask executor
def test_custom_job_runs_on_the_servers_dask_cluster(monkeypatch, fresh_cache, wait, server_executor):
    """$DAP_JOB_EXECUTOR (server configuration) sends exact tables to a Dask cluster, connected once."""
    import distributed  # a declared dependency: its absence is a failure, not a skip
    seen = []
    real = tableservice.job_service

    def spy(method):
        svc = real(method)
        seen.append((method, svc))
        return svc

    monkeypatch.setattr(tableservice, "job_service", spy)
    with distributed.LocalCluster(n_workers=1, processes=False, protocol="tcp", dashboard_address=None) as cl:
        monkeypatch.setenv("DAP_JOB_EXECUTOR", cl.scheduler_address)
        ex = tableservice.server_executor()
        assert ex.wait(60) == "connected" and tableservice.server_executor() is ex
        s = session(method="etl", rel_error=0.3, n_points=10, experiments=[])
        assert tableservice.server_executor().note() == ""
        s.inputs.custom_form.beam_energy_gev = 5.0
        assert s.add_custom() == "custom-1"
        try:
            wait(s, timeout=120)
            row = status_rows(s)[0]
            assert row["source"] == "computed (now cached)" and row["done"] == row["total"] > 0
            submits = [x for x in seen if x[0] == "etl"]
            assert submits and all(x[1].describe().startswith("dask") for x in submits)
            assert any(c["exp_id"] == "custom-1" for c in s.view_data("exclusion")["curves"])
        finally:
            s.release()
