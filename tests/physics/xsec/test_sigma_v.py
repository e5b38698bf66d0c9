"""σ_V table storage, staleness and interpolation (physics/xsec/sigma_v.py)."""

import json

import numpy as np
import pytest

from physics.xsec import sigma_v as st
from physics.errors import InputError
from physics.xsec.iww import iww_table, sigma_v_iww_pb


def test_config_key_canonical_and_versioned(monkeypatch):
    a = st.SigmaVConfig(100, "Pb", 0.5)
    b = st.SigmaVConfig(100.0, "Pb", 0.5, 1.0)
    assert a.key() == b.key()
    assert a.key() != st.SigmaVConfig(100, "Pb", 0.6).key()
    assert a.key({"rel_error": 0.01}) != a.key({"rel_error": 0.02})
    monkeypatch.setattr(st, "PHYSICS_VERSION", "999")
    k_new = st.SigmaVConfig(100, "Pb", 0.5).key()
    monkeypatch.undo()
    assert k_new != st.SigmaVConfig(100, "Pb", 0.5).key()


@pytest.mark.parametrize("kw,name", [({"x_min": 1.0}, "x_min"), ({"x_max": 0.4, "x_min": 0.5}, "x_max"),
                                     ({"target": "Zz"}, "target"), ({"beam_energy_gev": -1}, "beam_energy_gev"),
                                     ({"form_factor": "magic"}, "form_factor")])
def test_config_validation(kw, name):
    args = {"beam_energy_gev": 100, "target": "Pb", **kw}
    with pytest.raises(InputError, match=name):
        st.SigmaVConfig(**args)


def test_save_load_round_trip_and_stale(tmp_path, monkeypatch):
    cfg = st.SigmaVConfig(100, "Pb", 0.5, n_x_bins=4)
    t = iww_table(cfg, np.geomspace(1e-3, 1, 8))
    p = tmp_path / "t.json"
    t.save(p)
    assert not list(tmp_path.glob("*.tmp*"))
    back = st.SigmaVTable.load(p)
    assert np.array_equal(back.sigma_pb, t.sigma_pb) and back.config == cfg
    head = json.loads(p.read_text())["provenance"]
    assert head["physics_version"] == st.PHYSICS_VERSION and head["units"]["sigma"].startswith("pb")
    monkeypatch.setattr(st, "PHYSICS_VERSION", "0.0-old")
    with pytest.raises(st.StaleTableError):
        st.SigmaVTable.load(p)


def test_interpolation_error_below_one_percent_on_default_grid():
    # 60-point default grid: PCHIP in log-log against exact IWW at the geometric midpoints (< 1%)
    for cfg in (st.SigmaVConfig(100, "Pb", 0.5), st.SigmaVConfig(8, "Al", 0.7)):
        t = iww_table(cfg)
        m = t.masses_gev
        mid = np.sqrt(m[1:] * m[:-1])
        exact = np.array([sigma_v_iww_pb(x, cfg.beam_energy_gev, cfg.target, cfg.x_min, cfg.x_max) for x in mid])
        rel = np.abs(t.sigma_at(mid) / exact - 1)
        assert rel.max() < 0.01, (cfg, rel.max(), mid[np.argmax(rel)])
        assert np.isnan(t.sigma_at(0.5e-3))
        assert t.sigma_at(1e3, beyond_max_zero=True) == 0.0
