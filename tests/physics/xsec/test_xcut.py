"""The missing-energy cut applied to whole-x-range σ_V tables: x bins, interpolation in x (against exact IWW
spectra and direct ETL points), MC error bounds, the precision of table points above the cuts, the shipped
tables, and ``reach``/``xsec --x-min`` answered from the shipped tables without any new computation."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from physics.service import cache as cache_mod
from physics import cli
from physics.xsec import etl
from physics.service import store
from physics.xsec import sigma_v as st
from physics.model.constants import M_ELECTRON_GEV
from physics.errors import InputError
from physics.signal.experiments import get_experiment
from physics.xsec.factorisation import sigma_portal_pb
from physics.xsec.iww import iww_point, sigma_v_iww_pb
from physics.signal.reach import reach
from physics.xsec.sigma_v import SigmaVConfig, SigmaVTable, window_sums
from physics.xsec.table_points import PRECISION_CUT_MAX, cut_rel_errors, etl_table_point, precision_cuts

SHIPPED = Path(store.__file__).resolve().parents[2] / "precomputed"
NA64 = SigmaVConfig.whole_range(100.0, "Pb")
LDMX = SigmaVConfig.whole_range(8.0, "Al")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(store.ENV_PRECOMPUTED_DIR, raising=False)
    yield
    cache_mod.close_all()


def _shipped(cfg) -> SigmaVTable:
    return SigmaVTable.load(SHIPPED / f"{store.config_slug(cfg)}.json")


# ------------------------------------------------------------------------------------ x bins
@pytest.mark.parametrize("e0", [100.0, 8.0, 1.0])
def test_endpoint_bins_cover_the_whole_range(e0):
    cfg = SigmaVConfig.whole_range(e0, "Pb")
    e = cfg.x_edges
    assert cfg.n_x_bins == len(e) - 1 and np.all(np.diff(e) > 0)
    assert e[0] == 0.0 and e[-1] == pytest.approx(1.0 - M_ELECTRON_GEV / e0, rel=0, abs=1e-15)
    uni = e[e <= st.X_LOG_FROM + 1e-12]
    assert np.allclose(np.diff(uni), st.X_STEP, rtol=1e-9)                  # 0.025 up to 0.9
    assert 0.5 in list(e) and 0.7 in list(e)                                  # the benchmark cuts are edges
    omx = 1.0 - e[(e > st.X_LOG_FROM + 1e-12)][:-1]
    ratios = omx[:-1] / omx[1:]
    assert np.allclose(ratios, 10 ** (1 / st.X_LOG_PER_DECADE), rtol=1e-6)  # 10 per decade of 1 − x
    assert omx.min() >= max(st.X_OMX_MIN, M_ELECTRON_GEV / e0) * (1 - 1e-9)
    if e0 >= 8.0:
        assert cfg.n_x_bins == 67 and omx.min() == pytest.approx(st.X_OMX_MIN, rel=1e-9)


def test_binning_is_part_of_the_key_and_independent_of_the_cut():
    na64, proj = get_experiment("na64e-2023"), get_experiment("na64e-projected")
    assert SigmaVConfig.from_experiment(na64) == SigmaVConfig.from_experiment(proj) == NA64
    assert SigmaVConfig.from_experiment(na64.replace(x_min=0.62)).key() == NA64.key()
    assert SigmaVConfig.from_experiment(get_experiment("ldmx-phase2")) == LDMX
    assert NA64.canonical()["x_edges"] == NA64.x_edges.tolist()
    uniform = SigmaVConfig(100.0, "Pb", n_x_bins=67)
    assert uniform.key() != NA64.key()
    # windowed endpoint bins: the window ends are edges, no slivers next to them
    w = SigmaVConfig(100.0, "Pb", 0.51, 1.0, x_binning="endpoint").x_edges
    assert w[0] == 0.51 and w[1] == 0.525
    assert SigmaVConfig(100.0, "Pb", 0.52, 1.0, x_binning="endpoint").x_edges[1] == 0.55
    with pytest.raises(InputError, match="x_binning"):
        SigmaVConfig(100.0, "Pb", x_binning="log")


# ------------------------------------------------------------------------------------ interpolation in x
@pytest.mark.parametrize("cfg", [NA64, LDMX], ids=["Pb100", "Al8"])
def test_cut_interpolation_against_exact_iww_spectrum(cfg):
    """σ_V(x ≥ c) from the bins of an exact (IWW) table vs the IWW integral from c: within the stated
    X_INTERPOLATION_ERROR for 14 masses × 70 cuts; exact where the cut is an edge."""
    masses = cfg.default_mass_grid(40)[::3]
    pts = [iww_point(cfg, float(m)) for m in masses]
    ds = np.array([p.dsdx_pb for p in pts])
    tot = np.array([p.sigma.mean for p in pts])
    rng = np.random.default_rng(7)
    cuts = np.concatenate([[0.3, 0.5, 0.6, 0.7, 0.85, 0.95, 0.99, 0.999], rng.uniform(0.0, 0.999, 62)])
    worst = 0.0
    for c in cuts:
        got, _ = window_sums(cfg, ds, 0 * ds, tot, 0 * tot, float(c))
        exact = np.array([sigma_v_iww_pb(m, cfg.beam_energy_gev, cfg.target, float(c)) for m in masses])
        ok = exact > 1e-9 * tot
        rel = np.abs(got[ok] / exact[ok] - 1.0)
        worst = max(worst, float(rel.max()))
        if float(c) in list(cfg.x_edges):
            assert rel.max() < 1e-9, (c, rel.max())            # a cut on an edge is a plain sum of bins
    assert worst < st.X_INTERPOLATION_ERROR, worst
    print(f"\n{cfg.target} {cfg.beam_energy_gev:g} GeV: largest interpolation error in x {worst:.2e}")


def _direct_cases():
    out = []
    for cfg in (NA64, LDMX):
        for m_index in (12, 45):
            for cut in (0.3, 0.61, 0.85, 0.95):
                out.append(pytest.param(cfg, m_index, cut, id=f"{cfg.target}-m{m_index}-x{cut}"))
    return out


@pytest.mark.parametrize("cfg,m_index,cut", _direct_cases())
def test_cut_from_shipped_table_matches_direct_etl_point(cfg, m_index, cut):
    """The shipped table at a cut vs an independent ETL point computed with x_min = cut (0.4%): equal within
    3 combined MC errors (the table's conservative bound) + the stated interpolation error."""
    t = _shipped(cfg)
    p = t.points[m_index]
    sig, err = t.window_pb(cut)
    i = m_index
    direct = etl.sigma_v_point(SigmaVConfig(cfg.beam_energy_gev, cfg.target, cut, 1.0, n_x_bins=1), p.mass_gev,
                               rel_error=0.004, seed=4242).sigma
    assert direct.ok
    tol = 3.0 * math.hypot(err[i], direct.error) + st.X_INTERPOLATION_ERROR * direct.mean
    assert abs(sig[i] - direct.mean) < tol, (p.mass_gev, sig[i] / direct.mean - 1, tol / direct.mean)


# ------------------------------------------------------------------------------------ MC errors of a cut
def test_cut_error_bound_is_conservative_but_not_absurd():
    """40 seeds at a light mass (where bins anti-correlate most): the spread of σ(x ≥ 0.7) is below the
    bound, and the bound is less than 2.5× the spread."""
    vals, bounds = [], []
    for s in range(40):
        p = etl.sigma_v_point(LDMX, 0.001, rel_error=0.02, seed=500 + s)
        v, e = window_sums(LDMX, [p.dsdx_pb], [p.dsdx_err_pb], [p.sigma.mean], [p.sigma.error], 0.7)
        vals.append(v[0])
        bounds.append(e[0])
    spread = float(np.std(vals, ddof=1))
    assert spread < float(np.mean(bounds)) < 2.5 * spread, (spread, np.mean(bounds))


def test_window_of_the_whole_range_is_the_total_and_bounds_are_consistent():
    t = _shipped(NA64)
    sig, err = t.window_pb(0.0)
    assert np.array_equal(sig, t.sigma_pb) and np.array_equal(err, t.error_pb)
    assert np.array_equal(t.sigma_at(t.masses_gev, x_min=0.0), t.sigma_at(t.masses_gev))
    s5, e5 = t.window_pb(0.5)
    s7, _ = t.window_pb(0.7)
    assert np.all(s7 <= s5) and np.all(s5 <= t.sigma_pb) and np.all(e5 >= 0)
    # a window = difference of two cuts
    s57, _ = t.window_pb(0.5, 0.7)
    np.testing.assert_allclose(s57, s5 - s7, rtol=1e-9, atol=0)
    # E_V ≥ M: above x_max E0 a window is closed
    assert float(t.sigma_at(0.5, x_max=0.004)) == 0.0
    with pytest.raises(InputError, match="x_max"):
        t.sigma_at(0.1, x_min=0.7, x_max=0.6)
    windowed = SigmaVTable(SigmaVConfig(100.0, "Pb", 0.5, 1.0, n_x_bins=4), [iww_point(
        SigmaVConfig(100.0, "Pb", 0.5, 1.0, n_x_bins=4), m) for m in (0.01, 0.1, 1.0)])
    with pytest.raises(InputError, match="x_min"):
        windowed.sigma_at(0.1, x_min=0.3)


# ------------------------------------------------------------------------------------ precision of points
def test_table_point_holds_the_precision_above_the_cuts():
    """At 1% on the total, σ(x ≥ 0.7) of a light vector is ~2% (bound): the table point runs again with a
    tighter total until every cut ≤ 0.7 is within 1%; reproducible from its seed."""
    plain = etl.sigma_v_point(LDMX, 0.002, rel_error=0.01, seed=3)
    assert float(np.max(cut_rel_errors(LDMX, plain, precision_cuts(LDMX)))) > 0.01   # the need
    p = etl_table_point(LDMX, 0.002, rel_error=0.01, seed=3)
    s = p.sigma
    assert s.ok and s.settings["rel_error"] == 0.01 and s.settings["rel_error_total"] < 0.01
    assert s.settings["precision_cut_max"] == PRECISION_CUT_MAX and s.settings["neval_discarded"] > 0
    assert float(np.max(cut_rel_errors(LDMX, p, precision_cuts(LDMX)))) <= 0.01
    assert precision_cuts(LDMX).max() == pytest.approx(0.7)
    again = etl_table_point(LDMX, 0.002, rel_error=0.01, seed=3)
    assert again.sigma.mean == s.mean and again.dsdx_pb == p.dsdx_pb
    # the cache accepts it for the request it answers, and refuses it for another precision
    assert cache_mod.point_problem(LDMX, p, 0.002, method="etl", rel_error=0.01, seed=3) == ""
    assert "rel_error" in cache_mod.point_problem(LDMX, p, 0.002, method="etl", rel_error=0.005, seed=3)


# ------------------------------------------------------------------------------------ shipped tables
@pytest.mark.parametrize("cfg,cut", [(NA64, 0.5), (LDMX, 0.7)], ids=["na64e", "ldmx"])
def test_shipped_tables_are_whole_range_small_and_precise_at_the_benchmark_cut(cfg, cut):
    path = SHIPPED / f"{store.config_slug(cfg)}.json"
    assert path.stat().st_size <= 2_000_000
    t = SigmaVTable.load(path)
    assert t.config == cfg and t.config.covers_whole_range
    assert store.GRID_N_MIN <= len(t.points) <= store.GRID_N_MAX
    rel = float(t.provenance["rel_error"])
    assert rel == 0.01
    for c in (0.5, 0.7):                       # both benchmark cuts hold the requested 1%, for every mass
        sig, err = t.window_pb(c)
        ok = sig > 0
        assert np.all(err[ok] <= rel * sig[ok] * (1 + 1e-6)), (c, np.max(err[ok] / sig[ok]))
    prec = t.provenance["cut_precision"]
    assert prec[f"{cut:g}"]["max_rel_error"] <= rel and "0.95" in prec
    assert t.provenance["experiments"] == (["na64e-2023", "na64e-projected"] if cfg is NA64 else ["ldmx-phase2"])
    assert "cuts" in t.provenance["etl_midpoint_check"]


# ------------------------------------------------------------------------------------ CLI: a new cut, no computation
@pytest.fixture
def no_engine(monkeypatch):
    """Any σ_V point computation fails the test."""
    def refuse(*a, **k):
        raise AssertionError("a σ_V point was computed")

    monkeypatch.setitem(store.POINT_FUNCTIONS, "etl", refuse)


def _cli_json(capsys, argv):
    rc = cli.main(argv)
    out = capsys.readouterr().out
    return rc, json.loads(out) if rc == 0 else None


def test_reach_x_min_from_the_shipped_table_without_computing(no_engine, capsys):
    m = "0.01,0.1,1"
    rc, base = _cli_json(capsys, ["reach", "--experiment", "na64e-2023", "--m-gd", m, "--json"])
    assert rc == 0
    t0 = time.perf_counter()
    rc, r = _cli_json(capsys, ["reach", "--experiment", "na64e-2023", "--m-gd", m, "--x-min", "0.62", "--json"])
    dt = time.perf_counter() - t0
    assert rc == 0
    a = r["assumptions"]
    assert a["experiment"]["x_min"] == 0.62 and a["x_window"]["x_min"] == 0.62
    assert a["table"]["source"] if "source" in a["table"] else True
    g_new, g_old = np.array(r["g90_GeV-1"]["brem"], float), np.array(base["g90_GeV-1"]["brem"], float)
    assert np.all(g_new > g_old)                                   # a tighter cut: fewer events, weaker limit
    # the same numbers as the Python API on the shipped table with the experiment's cut moved
    exp = get_experiment("na64e-2023").replace(x_min=0.62)
    ref = reach(exp, np.array([0.01, 0.1, 1.0]), table=_shipped(NA64))
    np.testing.assert_allclose(g_new, ref.g90["brem"], rtol=1e-12)
    print(f"\nreach at a new cut (in process, shipped table): {dt * 1000:.0f} ms")
    assert cli.main(["reach", "--experiment", "na64e-2023", "--x-min", "0.7", "--x-max", "0.6"]) == 2


def test_xsec_x_min_from_the_shipped_table_without_computing(no_engine, capsys):
    args = ["xsec", "--model", "dark-axion-portal", "--m-gd", "0.05", "--g", "1e-3", "--experiment", "ldmx-phase2"]
    rc, r = _cli_json(capsys, args + ["--x-min", "0.85", "--json"])
    assert rc == 0 and r["x_min"] == 0.85 and r["target"] == "Al" and r["beam_energy_GeV"] == 8.0
    sig, err = sigma_portal_pb(_shipped(LDMX), 1e-6, 0.05, 1e-3, x_min=0.85)
    assert r["sigma_pb"] == pytest.approx(float(sig), rel=1e-12) and r["error_pb"] == pytest.approx(float(err))
    rc, r7 = _cli_json(capsys, args + ["--json"])                  # the experiment's own cut, 0.7
    assert rc == 0 and r7["x_min"] == 0.7 and r7["sigma_pb"] > r["sigma_pb"]
    rc, rb = _cli_json(capsys, ["xsec", "--model", "dark-axion-portal", "--m-gd", "0.05", "--g", "1e-3",
                                "--beam-energy", "8", "--target", "Al", "--x-min", "0.7", "--json"])
    assert rc == 0 and rb["sigma_pb"] == r7["sigma_pb"]
    assert cli.main(["xsec", "--model", "dark-axion-portal", "--m-gd", "0.05"]) == 2   # no beam, no experiment


def test_sigma_table_applies_the_cut(no_engine, capsys):
    rc, r = _cli_json(capsys, ["sigma-table", "--experiment", "na64e-projected", "--json"])
    assert rc == 0 and r["source"] == "precomputed" and r["x_min"] == 0.5
    t = _shipped(NA64)
    np.testing.assert_allclose(r["sigma_pb"], t.window_pb(0.5)[0], rtol=1e-12)
    np.testing.assert_allclose(r["sigma_total_pb"], t.sigma_pb, rtol=1e-12)
    rc, r9 = _cli_json(capsys, ["sigma-table", "--experiment", "na64e-2023", "--x-min", "0.9", "--json"])
    assert rc == 0 and r9["source"] == "precomputed" and all(a < b for a, b in zip(r9["sigma_pb"], r["sigma_pb"]))
