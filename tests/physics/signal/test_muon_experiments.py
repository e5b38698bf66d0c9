"""Muon-beam experiments: registry entries, σ_V tables, meson channels off, reach and recast
(docs/physics.md#muon-experiments, #muon-mesons; docs/validation.md#muon)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from physics import errors
from physics.model.constants import AVOGADRO_PER_MOL, PB_IN_CM2
from physics.signal import experiments as exps
from physics.signal.meson_yields import meson_yields_report
from physics.signal.reach import reach
from physics.signal.yields import dark_photon_events
from physics.xsec.sigma_v import SigmaVConfig

MUON_IDS = ("na64mu-2022", "na64mu-projected", "m3-phase1", "m3-phase2")


def _reach(*args, **kw) -> dict:
    r = reach(*args, **kw)
    return r.to_dict() if hasattr(r, "to_dict") else r


def _table(exp):
    from physics.service.provider import table_for_experiment

    return table_for_experiment(exp)


def test_muon_benchmarks_are_registered_with_their_inputs():
    b = exps.BUILTIN_EXPERIMENTS
    na = b["na64mu-2022"]
    assert (na.lepton, na.beam_energy_gev, na.target, na.x_min, na.eot, na.observed, na.status) == \
        ("mu", 160.0, "Pb", 0.5, 1.98e10, 0, "data")
    assert na.thickness_cm == pytest.approx(40 * 0.5612) and "2401.01708" in na.reference
    assert b["na64mu-projected"].eot == 1e12 and "2107.13297" in b["na64mu-projected"].reference
    for eid, mot in (("m3-phase1", 1e10), ("m3-phase2", 1e13)):
        e = b[eid]
        assert (e.lepton, e.beam_energy_gev, e.target, e.thickness_x0, e.eot) == ("mu", 15.0, "W", 50.0, mot)
        assert "1804.03144" in e.reference
    for eid in MUON_IDS:
        # every unverified input is flagged in the experiment's own assumptions text
        assert "[unverified" in b[eid].assumptions and "Meson channels off" in b[eid].assumptions
        d = b[eid].to_dict()
        assert d["lepton"] == "mu" and d["assumptions"] == b[eid].assumptions
    # electron experiments are reported exactly as before (no new keys)
    for eid in ("na64e-2023", "na64e-projected", "ldmx-phase2"):
        d = b[eid].to_dict()
        assert "lepton" not in d and "assumptions" not in d and b[eid].lepton == "e"


def test_muon_experiments_use_muon_tables():
    na = exps.get_experiment("na64mu-2022")
    cfg = SigmaVConfig.from_experiment(na)
    assert cfg.lepton == "mu" and cfg.x_edges[-1] == pytest.approx(1 - 0.1056583755 / 160.0)
    e_cfg = SigmaVConfig.from_experiment(na.replace(lepton="e"))
    assert e_cfg.key() != cfg.key()
    t = _table(na)
    assert t.config == cfg and t.provenance.get("method") == "etl"
    # the muon table at M = 1 MeV, x > 0.5, is the muon bremsstrahlung value (~1.0e9 pb on Pb at 160 GeV,
    # tests/physics/xsec/test_muon.py), not the electron's ~1e12 pb
    assert 0.95e9 < float(t.sigma_at(0.001, x_min=0.5)) < 1.05e9


def test_meson_channels_are_off_for_muon_beams_with_a_reason():
    rep = meson_yields_report("na64mu-2022")
    assert all(v == 0.0 for v in rep["N_V"].values()) and all(v == 0.0 for v in rep["computed_N_V"].values())
    assert "muon" in rep["muon_beam"] and "physics.md#muon-mesons" in rep["muon_beam"]
    # an explicit override is still the user's choice
    e = exps.get_experiment("m3-phase1").replace(meson_yields={"rho": 10.0})
    rep = meson_yields_report(e)
    assert rep["N_V"]["rho"] == 10.0 and rep["overridden"] == ["rho"]
    # the electron report is untouched
    assert "muon_beam" not in meson_yields_report("na64e-2023")


def test_reach_of_na64mu_2022_brem_only_and_scaling_with_mot():
    na = exps.get_experiment("na64mu-2022")
    t = _table(na)
    m = np.array([0.01, 0.1, 1.0])
    r = _reach(na, m, table=t)
    g = r["g90_GeV-1"]
    assert np.all(np.isfinite(g["brem"])) and np.all(g["brem"] > 0)
    assert np.all(np.isnan(g["rho"])) and np.all(r["events_at_g"]["mesons"] == 0.0)
    assert "muon_beam" in r["assumptions"]["meson_model"]
    assert r["assumptions"]["experiment"]["lepton"] == "mu"
    # same table and cut: the expected events scale exactly with the MOT, and g90 roughly like MOT^{-1/2}
    # (exactly only where Br(γD → inv) ≈ 1; physics.signal.reach solves the g-dependent Br exactly)
    proj = exps.get_experiment("na64mu-projected")
    rp = _reach(proj, m, table=t)
    assert np.allclose(rp["events_at_g"]["brem"] / r["events_at_g"]["brem"], 1e12 / 1.98e10, rtol=1e-12)
    assert np.allclose(rp["g90_GeV-1"]["brem"] / g["brem"], math.sqrt(1.98e10 / 1e12), rtol=0.02)


def test_dark_photon_recast_events_are_mot_n_l_sigma():
    na = exps.get_experiment("na64mu-2022")
    t = _table(na)
    n_pb = 11.35 * AVOGADRO_PER_MOL / 207.2
    lumi = 1.98e10 * n_pb * 40 * 0.5612
    sig = float(t.sigma_at(0.1, x_min=0.5))
    assert float(dark_photon_events(na, 0.1, 1.0, table=t)) == pytest.approx(lumi * sig * PB_IN_CM2, rel=1e-9)


def test_custom_muon_experiment_file(tmp_path):
    f = tmp_path / "mu.toml"
    f.write_text('[experiments.my-mu]\nbeam_energy_gev = 50\ntarget = "W"\nthickness_x0 = 20\nx_min = 0.5\n'
                 'eot = 1e11\nlepton = "mu"\nassumptions = "test setup"\n')
    got = exps.read_experiments_file(f, register=False)[0]["my-mu"]
    assert got.lepton == "mu" and SigmaVConfig.from_experiment(got).lepton == "mu"
    bad = tmp_path / "bad.json"
    bad.write_text('{"experiments": {"x": {"beam_energy_gev": 50, "target": "W", "thickness_x0": 1, '
                   '"x_min": 0.5, "eot": 1e11, "lepton": "tau"}}}')
    with pytest.raises(errors.InputError) as ei:
        exps.read_experiments_file(bad, register=False)
    assert ei.value.parameter == "experiments.x.lepton" and "e, mu" in str(ei.value)
    for v in (1, True, ["mu"], "MU"):
        with pytest.raises(errors.InputError):
            exps.BUILTIN_EXPERIMENTS["m3-phase1"].replace(lepton=v)


def test_cut_beyond_the_kinematic_end_point_is_refused():
    """x = E_V/E0 ≤ 1 − m_ℓ/E0: a cut at or beyond the end point selects nothing; it is an input error naming
    x_min (a 1 GeV muon beam ends at x = 0.894), while a cut just below the end point is accepted."""
    from physics.errors import InputError
    from physics.signal.experiments import get_experiment

    mu = get_experiment("na64mu-2022")
    with pytest.raises(InputError) as exc:
        mu.replace(beam_energy_gev=1.0, x_min=0.9)
    assert exc.value.parameter == "x_min" and "end point" in str(exc.value)
    assert mu.replace(beam_energy_gev=1.0, x_min=0.89).x_min == 0.89
    e = get_experiment("na64e-2023")
    with pytest.raises(InputError):
        e.replace(beam_energy_gev=1.0, x_min=0.9995)          # 1 − m_e/1 GeV = 0.99949
    assert e.replace(beam_energy_gev=1.0, x_min=0.999).x_min == 0.999
