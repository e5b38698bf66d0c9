"""Unit tests of the dashboard state (no browser, no Panel server): inputs, validation, view data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dashboard import adapter
from dashboard.state import (
    URL_PARAMS,
    CustomExperimentForm,
    DashboardState,
    ExperimentSettings,
    combine_channels,
)


def iww_state(**kw) -> DashboardState:
    return DashboardState(method="iww", **kw)


# ------------------------------------------------------------------------------------ defaults
def test_defaults_are_valid():
    s = DashboardState()
    assert s.errors == {}
    assert s.valid
    assert s.experiments == ["na64e-2023", "na64e-projected", "ldmx-phase2"]
    assert set(s.settings) == {"na64e-2023", "na64e-projected", "ldmx-phase2"}
    assert s.settings["na64e-2023"].eot == pytest.approx(9.37e11)
    assert s.method == "etl"


def test_mass_grid_and_scenarios():
    s = DashboardState(m_gd_min=1e-2, m_gd_max=1.0, n_points=11)
    grid = s.mass_grid()
    assert grid[0] == pytest.approx(1e-2) and grid[-1] == pytest.approx(1.0) and len(grid) == 11
    assert np.all(s.m_a_of(grid) == adapter.M_A_LIGHT_GEV)
    s.alp_mode = "degenerate"
    assert np.allclose(s.m_a_of(grid), grid)
    assert s.edm_scenario() == "degenerate"
    s.alp_mode = "ratio"
    s.m_a_ratio = 0.25
    assert np.allclose(s.m_a_of(grid), 0.25 * grid)
    s.alp_mode = "fixed"
    s.m_a = 0.05
    assert np.all(s.m_a_of(grid) == 0.05)
    assert s.edm_scenario() == "light-alp"


def test_m_chi_argument():
    s = DashboardState()
    assert s.m_chi_arg(np.array([0.3])) is None          # default m_γD/3 → physics default
    s.m_chi_ratio = 0.1
    assert np.allclose(s.m_chi_arg(np.array([0.3, 0.6])), [0.03, 0.06])
    s.m_chi_mode = "fixed"
    s.m_chi = 0.02
    assert s.m_chi_arg(np.array([0.3])) == 0.02


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("name,value,key", [
    ("m_gd_min", float("nan"), "m_gd_min"),
    ("m_gd_min", 1e-5, "m_gd_min"),           # below the σ_V tables
    ("m_gd_max", 50.0, "m_gd_max"),
    ("m_gd_max", 5e-4, "m_gd_max"),           # below the minimum
    ("g", -1.0, "g"),
    ("g", float("inf"), "g"),
    ("alpha_d", 0.0, "alpha_d"),
    ("cutoff", 3.0, "cutoff"),                # Λ below m_γD max (5 GeV)
    ("cutoff", 0.5, "cutoff"),                # Λ below the neutron mass as well
    ("rel_error", 0.9, "rel_error"),
    ("m_gd", 12.0, "m_gd"),                   # m_a + m_γD beyond the NA64 (10 GeV) and LDMX tables
])
def test_invalid_inputs_are_reported_next_to_their_control(name, value, key):
    s = DashboardState()
    rev = s.revision
    setattr(s, name, value)
    assert key in s.errors, s.errors
    assert not s.valid
    assert s.revision == rev, "views must keep the last good state while an input is invalid"


def test_kinematics_message_names_the_limit():
    s = DashboardState(experiments=["ldmx-phase2"])
    s.m_gd = 7.5                      # LDMX (8 GeV) table ends at 0.9 × E0 ≈ 7.2 GeV
    assert "kinematic" in s.errors["m_gd"]
    s.m_gd = 0.1
    assert s.valid
    s.alp_mode = "fixed"
    s.m_a = 7.5
    assert "m_a" in s.errors
    assert "kinematic" in s.errors["m_a"] or "closes" in s.errors["m_a"]


def test_ratio_scenario_cutoff_uses_heaviest_alp():
    s = DashboardState(m_gd_max=5.0, cutoff=20.0)
    assert s.valid
    s.alp_mode = "ratio"
    s.m_a_ratio = 5.0                 # m_a up to 25 GeV > Λ
    assert "cutoff" in s.errors


def test_recovery_after_invalid_input():
    s = DashboardState()
    s.g = float("nan")
    assert "g" in s.errors
    rev = s.revision
    s.g = 2e-4
    assert s.valid and s.revision > rev


def test_typed_text_that_is_not_a_number():
    s = DashboardState()
    s.set_input_error("g", "'abc' is not a number")
    assert s.errors["g"] == "'abc' is not a number"
    assert not s.valid
    s.set_input_error("g", None)
    assert s.valid


@pytest.mark.parametrize("field,value", [("eot", 0.0), ("eot", -5.0), ("eot", float("nan")),
                                         ("background", -1.0), ("observed", 1.5), ("observed", -1)])
def test_experiment_statistics_validation(field, value):
    s = DashboardState()
    setattr(s.settings["na64e-2023"], field, value)
    key = f"exp.na64e-2023.{field}"
    assert key in s.errors, s.errors
    assert "NA64e" in s.errors[key]
    setattr(s.settings["na64e-2023"], field, 1e12 if field == "eot" else 0)
    assert s.valid


def test_overrides_mirror_settings_both_ways():
    s = DashboardState()
    s.settings["ldmx-phase2"].eot = 4e14
    assert s.overrides == {"ldmx-phase2": {"eot": 4e14}}
    s.overrides = {"na64e-2023": {"background": 0.5, "observed": 1}}
    assert s.settings["na64e-2023"].background == 0.5
    assert s.settings["na64e-2023"].observed == 1
    assert s.settings["ldmx-phase2"].eot == pytest.approx(1e16)  # reset to its default
    exp = s.settings["na64e-2023"].experiment()
    assert exp.background == 0.5 and exp.observed == 1 and isinstance(exp.observed, int)


def test_cut_override_url_and_old_links():
    s = DashboardState()
    s.settings["na64e-2023"].x_min = 0.62
    assert s.overrides == {"na64e-2023": {"x_min": 0.62}}
    assert s.settings["na64e-2023"].experiment().x_min == 0.62
    assert s.settings["na64e-2023"].e_miss_min_gev == pytest.approx(62.0)
    # a link written before the cut control existed (no x_min): every experiment keeps its own cut
    old = DashboardState(overrides={"na64e-2023": {"eot": 2e12}})
    assert old.settings["na64e-2023"].x_min == 0.5 and old.settings["ldmx-phase2"].x_min == 0.7
    assert old.valid
    # an invalid cut is reported next to the experiment's cut control
    s.settings["ldmx-phase2"].x_min = 1.2
    assert "exp.ldmx-phase2.x_min" in s.errors and "LDMX" in s.errors["exp.ldmx-phase2.x_min"]
    s.settings["ldmx-phase2"].x_min = 0.7
    assert s.valid


def test_moving_the_cut_updates_views_without_a_table_job(fresh_cache, monkeypatch):
    """ETL (the default): the shipped tables serve every cut — no job is submitted, the status stays
    "precomputed", the reach, the yields and the spectrum's cut follow the control."""
    s = DashboardState(n_points=30, experiments=["na64e-2023", "ldmx-phase2"])
    s.ensure_tables()
    assert [r["source"] for r in s.status_rows()] == ["precomputed", "precomputed"]

    def no_job(*a, **k):
        raise AssertionError("a table job was started")

    monkeypatch.setattr(adapter, "job_service", no_job)
    before = s.exclusion_data()
    y0 = next(c["n"] for c in s.yields_data()["curves"] if c["exp_id"] == "na64e-2023" and c["channel"] == "brem")
    g0 = next(c["g"] for c in before["curves"] if c["exp_id"] == "na64e-2023" and c["channel"] == "brem")
    rev = s.revision
    s.settings["na64e-2023"].x_min = 0.8
    assert s.revision > rev and not s.pending()
    assert [r["source"] for r in s.status_rows()] == ["precomputed", "precomputed"]
    g1 = next(c["g"] for c in s.exclusion_data()["curves"] if c["exp_id"] == "na64e-2023" and c["channel"] == "brem")
    y1 = next(c["n"] for c in s.yields_data()["curves"] if c["exp_id"] == "na64e-2023" and c["channel"] == "brem")
    ok = np.isfinite(g0) & np.isfinite(g1)
    assert ok.sum() > 10 and np.all(g1[ok] > g0[ok])           # fewer events above a tighter cut
    fin = np.isfinite(y0) & (y0 > 0)
    assert np.all(y1[fin] < y0[fin])
    cut = next(c for c in s.spectrum_data()["cuts"] if c["exp_id"] == "na64e-2023")
    assert cut["x_min"] == 0.8
    # the other experiment is untouched
    ldmx = next(c for c in s.spectrum_data()["cuts"] if c["exp_id"] == "ldmx-phase2")
    assert ldmx["x_min"] == 0.7


def test_experiment_settings_keep_base():
    base = adapter.builtin_experiments()["na64e-2023"]
    st = ExperimentSettings(base)
    st.eot = 2e12
    exp = st.experiment()
    assert exp.eot == 2e12 and exp.beam_energy_gev == base.beam_energy_gev and exp.target == base.target
    assert base.eot == pytest.approx(9.37e11), "the registry experiment must not change"


# ------------------------------------------------------------------------------------ custom experiments
def test_custom_experiment_validation_and_addition():
    s = DashboardState()
    f = s.custom_form
    f.beam_energy_gev = 0.001                        # too low for a σ_V table
    assert s.add_custom() is None
    assert "custom.beam_energy_gev" in s.errors
    assert s.valid, "an invalid custom form must not freeze the views"
    f.beam_energy_gev = 20.0
    f.x_min = 1.2
    assert s.add_custom() is None
    assert "custom.x_min" in s.errors
    f.x_min = 0.6
    f.eot = -1
    assert s.add_custom() is None and "custom.eot" in s.errors
    f.eot = 1e11
    exp_id = s.add_custom()
    assert exp_id == "custom-1"
    assert not any(k.startswith("custom.") for k in s.errors)
    assert "custom-1" in s.experiments and "custom-1" in s.settings
    exp = s.settings["custom-1"].experiment()
    assert (exp.beam_energy_gev, exp.target, exp.x_min, exp.eot) == (20.0, "W", 0.6, 1e11)
    assert s.custom == [f.spec()]
    s.remove_custom("custom-1")
    assert "custom-1" not in s.experiments and "custom-1" not in s.settings and s.custom == []


def test_custom_from_url_spec_rebuilds_experiment():
    spec = {"label": "Cu 30", "beam_energy_gev": 30.0, "target": "Cu", "thickness_x0": 0.5, "x_min": 0.4,
            "eot": 1e12, "background": 0.0, "observed": 0}
    s = DashboardState(custom=[spec], experiments=["custom-1"])
    assert s.experiments == ["custom-1"]
    assert s.experiment_name("custom-1") == "Cu 30"
    bad = dict(spec, target="Unobtainium")
    s2 = DashboardState(custom=[bad])
    assert "custom-1" not in s2.param.experiments.objects
    assert any("ignored" in n for n in s2.notes)


def test_custom_build_rejects_bad_target():
    with pytest.raises(adapter.InputError) as e:
        CustomExperimentForm.build({"beam_energy_gev": 10, "target": "Xx", "thickness_x0": 1, "x_min": 0.5,
                                    "eot": 1e10}, "custom-1")
    assert e.value.parameter == "target"


# ------------------------------------------------------------------------------------ sessions
def test_sessions_are_independent():
    a, b = DashboardState(), DashboardState()
    a.custom_form.beam_energy_gev = 30
    a.add_custom()
    a.g = 3e-3
    a.settings["na64e-2023"].eot = 1e13
    assert "custom-1" not in b.param.experiments.objects
    assert b.g == DashboardState.param.g.default
    assert b.settings["na64e-2023"].eot == pytest.approx(9.37e11)
    assert DashboardState.param.experiments.objects == ["na64e-2023", "na64e-projected", "ldmx-phase2"]


def test_url_parameters_round_trip():
    """Every synced parameter serialises to JSON and back onto a new state (what pn.state.location does)."""
    from urllib.parse import urlencode

    from panel.util import parse_query

    a = DashboardState(m_gd_min=2e-3, g=3e-4, alp_mode="ratio", m_a_ratio=0.3, experiments=["ldmx-phase2"],
                       channels=["brem", "phi"], method="iww", overlays=["sn1987a"], view="yields",
                       overrides={"ldmx-phase2": {"eot": 2e15}},
                       custom=[{"label": "W 20", "beam_energy_gev": 20.0, "target": "W", "thickness_x0": 1.0,
                                "x_min": 0.5, "eot": 1e12, "background": 0.0, "observed": 0}])
    query = {}
    for p, q in URL_PARAMS.items():
        v = a.param[p].serialize(getattr(a, p))
        query[q] = v if isinstance(v, str) else json.dumps(v)
    parsed = parse_query("?" + urlencode(query))
    b = DashboardState()
    inv = {q: p for p, q in URL_PARAMS.items()}
    b.param.update(**{inv[k]: b.param[inv[k]].deserialize(v) for k, v in parsed.items()})
    for p in URL_PARAMS:
        assert getattr(b, p) == getattr(a, p), p
    assert b.settings["ldmx-phase2"].eot == 2e15
    assert "custom-1" in b.param.experiments.objects


# ------------------------------------------------------------------------------------ view data
def test_combine_channels():
    g90 = {"brem": np.array([1e-3, np.nan]), "rho": np.array([2e-3, 1e-2]), "total": np.array([9e-4, 1e-2])}
    tot = combine_channels(g90, ["brem", "rho"], all_enabled=False)
    assert tot[0] == pytest.approx((1e-3 ** -2 + 2e-3 ** -2) ** -0.5)
    assert tot[1] == pytest.approx(1e-2)
    assert np.array_equal(combine_channels(g90, ["brem", "rho"], all_enabled=True), g90["total"])
    only = combine_channels(g90, ["brem"], all_enabled=False)
    assert only[0] == pytest.approx(1e-3) and math.isnan(only[1])


def test_exclusion_data_iww(fresh_cache, wait):
    s = iww_state(n_points=40)
    wait(s)
    d = s.exclusion_data()
    rows = {r["id"]: r for r in s.status_rows()}
    assert all(r["source"] in ("computed (now cached)", "cache") for r in rows.values()), rows
    exps = {c["exp_id"] for c in d["curves"]}
    assert exps == {"na64e-2023", "na64e-projected", "ldmx-phase2"}
    for c in d["curves"]:
        assert c["m"].shape == c["g"].shape == (40,)
    tot = {c["exp_id"]: c["g"] for c in d["curves"] if c["channel"] == "total"}
    brem = {c["exp_id"]: c["g"] for c in d["curves"] if c["channel"] == "brem"}
    for e, t in tot.items():
        ok = np.isfinite(t) & np.isfinite(brem[e])
        assert ok.sum() > 10
        assert np.all(t[ok] <= brem[e][ok] * (1 + 1e-9)), "the total is at least as strong as one channel"
    # more EOT → stronger limit
    assert np.nanmedian(tot["na64e-projected"] / tot["na64e-2023"]) < 1
    keys = {c["key"] for c in d["constraints"]}
    assert keys == {"babar", "besiii", "sn1987a"}
    assert all(c["provenance"] for c in d["constraints"])
    assert d["point"] == {"m_gd": 0.1, "g": 1e-3, "m_a": adapter.M_A_LIGHT_GEV}


def test_channel_toggles_and_experiment_selection(fresh_cache, wait):
    s = iww_state(n_points=30)
    wait(s)
    s.channels = ["brem"]
    d = s.exclusion_data()
    chans = {c["channel"] for c in d["curves"]}
    assert chans == {"brem", "total"}
    for e in ("na64e-2023", "ldmx-phase2"):
        t = next(c["g"] for c in d["curves"] if c["exp_id"] == e and c["channel"] == "total")
        b = next(c["g"] for c in d["curves"] if c["exp_id"] == e and c["channel"] == "brem")
        assert np.allclose(t, b, equal_nan=True)
    s.experiments = ["ldmx-phase2"]
    assert {c["exp_id"] for c in s.exclusion_data()["curves"]} == {"ldmx-phase2"}
    s.overlays = []
    assert s.exclusion_data()["constraints"] == []


def test_eot_changes_reach_as_sqrt(fresh_cache, wait):
    s = iww_state(n_points=20, experiments=["na64e-2023"], channels=["brem"])
    wait(s)
    g1 = next(c["g"] for c in s.exclusion_data()["curves"] if c["channel"] == "total")
    s.settings["na64e-2023"].eot *= 4
    g2 = next(c["g"] for c in s.exclusion_data()["curves"] if c["channel"] == "total")
    ok = np.isfinite(g1) & np.isfinite(g2) & (g1 < 0.02)
    assert ok.sum() > 5
    # N ∝ EOT g² Br(g); Br ≈ 1 at small couplings → g_90 ∝ EOT^-1/2
    assert np.allclose(g2[ok] / g1[ok], 0.5, rtol=2e-2)


def test_yields_spectrum_edm_data(fresh_cache, wait):
    s = iww_state(n_points=25)
    wait(s)
    y = s.yields_data()
    assert {c["channel"] for c in y["curves"]} >= {"brem", "rho", "phi"}
    assert all(v == pytest.approx(2.302585, rel=1e-5) for v in y["n_up"].values())
    n1 = next(c["n"] for c in y["curves"] if c["exp_id"] == "na64e-2023" and c["channel"] == "brem")
    s.g = 2e-3
    n2 = next(c["n"] for c in s.yields_data()["curves"] if c["exp_id"] == "na64e-2023" and c["channel"] == "brem")
    ok = np.isfinite(n1) & (n1 > 0)
    assert np.allclose(n2[ok] / n1[ok], 4.0, rtol=1e-3)          # N ∝ g² (Br_inv ≈ 1)

    sp = s.spectrum_data()
    # NA64e 2023 and projected share beam and target: one spectrum over the whole x range, both names
    assert len(sp["spectra"]) == 2
    na = next(x for x in sp["spectra"] if "na64e-2023" in x["exp_ids"])
    assert na["exp_ids"] == ["na64e-2023", "na64e-projected"]
    assert na["x_edges"][0] == 0.0 and na["x_edges"][-1] == pytest.approx(1.0, abs=1e-5)
    assert len(na["dsdx_pb"]) == len(na["x_edges"]) - 1
    assert np.all(na["dsdx_pb"] >= 0) and np.any(na["dsdx_pb"] > 0)
    # each experiment's cut, with the share of the brem cross section it keeps
    cuts = {c["exp_id"]: c for c in sp["cuts"]}
    assert cuts["na64e-2023"]["x_min"] == 0.5 and cuts["ldmx-phase2"]["x_min"] == 0.7
    assert 0.0 < cuts["ldmx-phase2"]["fraction"] < cuts["na64e-2023"]["fraction"] < 1.0

    e = s.edm_data()
    assert len(e["curves"]) == 6
    assert {(c["fermion"], c["scenario"]) for c in e["curves"]} == {(f, sc) for f in ("e", "mu", "n")
                                                                       for sc in ("light-alp", "degenerate")}
    el = next(c["bound"] for c in e["curves"] if c["fermion"] == "e" and c["scenario"] == "light-alp")
    mu = next(c["bound"] for c in e["curves"] if c["fermion"] == "mu" and c["scenario"] == "light-alp")
    assert np.all(el < mu), "the electron EDM limit is far stronger than the muon's"
    assert {r["cutoff_GeV"] for r in e["table"]} == {1000.0, 10000.0}
    s.cutoff = 3000.0
    assert {r["cutoff_GeV"] for r in s.edm_data()["table"]} == {1000.0, 3000.0, 10000.0}


def test_table_job_progress_then_curve(fresh_cache, wait):
    """A custom experiment starts a background table computation; the status shows it; its curve arrives."""
    s = iww_state(n_points=20, experiments=[])
    s.custom_form.beam_energy_gev = 40.0
    s.custom_form.target = "Cu"
    s.add_custom()
    s.ensure_tables()
    first = s.status_rows()[0]
    assert first["source"] in ("computing", "computed (now cached)")
    wait(s)
    row = s.status_rows()[0]
    assert row["source"] == "computed (now cached)" and row["done"] == row["total"] > 0
    curves = s.exclusion_data()["curves"]
    assert any(c["exp_id"] == "custom-1" and c["channel"] == "total" for c in curves)
    # a second session gets the same table from the cache
    s2 = iww_state(custom=list(s.custom), experiments=["custom-1"])
    s2.ensure_tables()
    assert s2.status_rows()[0]["source"] in ("cache", "computed (now cached)")


def test_cancel_running_job(fresh_cache, monkeypatch, server_executor):
    monkeypatch.setenv("DAP_JOB_EXECUTOR", "thread")
    s = DashboardState(method="etl", rel_error=0.002, experiments=[])
    s.custom_form.beam_energy_gev = 12.0
    s.add_custom()
    s.ensure_tables()
    assert s.pending() == ["custom-1"]
    assert s.cancel_jobs() == ["custom-1"]
    assert s.status_rows()[0]["source"] == "cancelled"
    assert s.pending() == []
    s.g = 2e-4                      # other changes do not restart a cancelled table
    s.ensure_tables()
    assert s.status_rows()[0]["source"] == "cancelled"
    s.retry()
    assert s.status_rows()[0]["source"] in ("computing", "computed (now cached)")
    s.cancel_jobs()


def test_header_lines_state_every_input():
    s = DashboardState()
    lines = s.header_lines("exclusion")
    text = "\n".join(lines)
    for name in DashboardState.INPUTS:
        if name in ("overrides", "custom"):
            continue
        assert f"input {name} = " in text, name
    for exp_id in s.experiments:
        assert f"experiment {exp_id}:" in text
    assert "EOT=9.37e+11" in text
