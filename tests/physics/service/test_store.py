"""σ_V table store: shipped precomputed tables (complete, current, reproducible), lookup order, stale tables,
the automatic mass grid and the ``precompute`` command."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from physics.service import cache as cache_mod
from physics import cli
from physics.service import jobs, store
from physics.xsec import sigma_v as st
from physics.errors import InputError
from physics.signal.experiments import BUILTIN_EXPERIMENTS, get_experiment
from physics.xsec.iww import iww_point
from physics.xsec.mc import Q_MIN
from physics.xsec.sigma_v import SigmaVConfig, SigmaVTable
from physics.version import PHYSICS_VERSION, SCHEMA_VERSION
from physics.service import provider

from .test_cache import count_calls, make_fake

SHIPPED = Path(store.__file__).resolve().parents[2] / "precomputed"
NA64 = SigmaVConfig.from_experiment(get_experiment("na64e-2023"))
LDMX = SigmaVConfig.from_experiment(get_experiment("ldmx-phase2"))


pytestmark = pytest.mark.usefixtures("cache_dir")   # a private σ_V cache for every test (conftest.py)




def _shipped_tables():
    files = sorted(SHIPPED.glob("*.json"))
    return [(f, json.loads(f.read_text())) for f in files]


# ---------------------------------------------------------------------------- shipped tables
def test_every_benchmark_experiment_has_a_current_shipped_table(monkeypatch):
    monkeypatch.delenv(store.ENV_PRECOMPUTED_DIR, raising=False)
    assert store.precomputed_dir() == SHIPPED
    tables = store.load_precomputed()
    for eid, exp in BUILTIN_EXPERIMENTS.items():
        cfg = SigmaVConfig.from_experiment(exp)
        assert cfg.key() in tables, f"no usable precomputed table for {eid}"
        assert store.table_source(cfg) == "precomputed"
        # the elastic+inelastic form factor too (the dashboard's form-factor uncertainty band)
        cfg_in = SigmaVConfig.from_experiment(exp, form_factor="elastic+inelastic")
        assert cfg_in.key() in tables, f"no usable elastic+inelastic precomputed table for {eid}"
        assert store.table_source(cfg_in) == "precomputed"
    # NA64e (2023 and projected share one), LDMX, NA64μ (2022 and projected share one), M³ (both phases);
    # each with the elastic and with the elastic+inelastic form factor
    assert len(_shipped_tables()) == 8
    assert (SHIPPED / "README.md").is_file()


def test_shipped_tables_are_complete_and_current():
    files = sorted(SHIPPED.glob("*.json"))
    assert files, "no shipped tables in precomputed/"
    for path in files:
        _check_shipped(path)


def _check_shipped(path):
    raw = json.loads(path.read_text())
    prov = raw["provenance"]
    assert prov["physics_version"] == PHYSICS_VERSION and prov["schema_version"] == SCHEMA_VERSION
    for field in ("method", "rel_error", "seed", "seeds", "vegas_version", "date", "command", "experiments",
                  "mass_grid", "interpolation_check", "engine"):
        assert prov.get(field) not in (None, ""), f"provenance lacks {field}"
    assert prov["method"] == "etl" and prov["command"].startswith("python -m physics precompute")
    t = SigmaVTable.load(path)  # raises StaleTableError if version or key do not match
    assert path.name == store.config_slug(t.config) + ".json"
    rel = float(prov["rel_error"])
    assert rel <= 0.01
    assert t.all_ok
    for i, p in enumerate(t.points):
        s = p.sigma
        assert s.ok and s.converged and s.q >= Q_MIN, (p.mass_gev, s.message)
        assert 0 < s.mean and math.isfinite(s.error) and s.rel_error <= rel, (p.mass_gev, s.rel_error)
        assert s.seed == prov["seed"] + i
        assert s.settings, "VEGAS settings recorded per point"
        assert len(p.dsdx_pb) == t.config.n_x_bins and all(math.isfinite(v) and v >= 0 for v in p.dsdx_pb)
    m = t.masses_gev
    assert m[0] == pytest.approx(st.M_TABLE_MIN_GEV) and m[-1] == pytest.approx(t.config.max_mass_gev)
    assert len(m) >= store.GRID_N_MIN and np.all(np.diff(m) > 0)
    assert np.allclose(m, t.config.default_mass_grid(len(m)), rtol=1e-11)
    assert prov["interpolation_check"]["max_rel_error"] < store.GRID_TOL
    assert store.half_grid_error(t.config, len(m)) < store.GRID_TOL
    # whole x range, every cut: the checked parts include σ_V above the check cuts and the open dσ/dx bins
    parts = prov["interpolation_check"]["parts"]
    assert {"sigma", "dsdx"} | {f"cut {c:g}" for c in store.GRID_CHECK_CUTS} == set(parts)
    assert t.config.covers_whole_range and t.config.x_binning == "endpoint"
    assert len(m) <= store.GRID_N_MAX and path.stat().st_size <= 2_000_000
    assert raw["x_edges"] == t.config.x_edges.tolist()
    assert prov["settings"]["precision_cut_max"] == 0.7 and "cut_precision" in prov


def test_shipped_points_regenerate_with_stored_seeds():
    """Recompute 3 shipped points with their stored seeds: σ, its error and Q reproducible to the last bit,
    dσ/dx to the stored digits."""
    from physics.xsec.table_points import etl_table_point
    tables = {f.name: SigmaVTable.load(f) for f in sorted(SHIPPED.glob("*.json"))}
    assert tables, "no shipped tables"
    picks = []
    for name, t in tables.items():
        picks += [(t, t.points[len(t.points) // 3])]
    na64 = tables[store.config_slug(NA64) + ".json"]
    picks.append((na64, na64.points[-1]))
    for t, p in picks:
        q = etl_table_point(t.config, p.mass_gev, rel_error=float(t.provenance["rel_error"]), seed=p.sigma.seed)
        assert q.sigma.mean == p.sigma.mean and q.sigma.error == p.sigma.error, (p.mass_gev, q.sigma, p.sigma)
        assert q.sigma.q == p.sigma.q
        assert q.sigma.settings["rel_error_total"] == p.sigma.settings["rel_error_total"]
        assert [st.round_sig(v) for v in q.dsdx_pb] == list(p.dsdx_pb)
        assert [st.round_sig(v) for v in q.dsdx_err_pb] == list(p.dsdx_err_pb)


def test_parallel_table_equals_serial_compute_table(tmp_path):
    """The job machinery (pool, seeds seed + i) reproduces the serial table points exactly."""
    from physics.xsec.table_points import etl_table_point
    masses = [store.mass_grid(LDMX)[i] for i in (5, 30)]
    serial = SigmaVTable(LDMX, [etl_table_point(LDMX, m, rel_error=0.01, seed=7 + i) for i, m in enumerate(masses)])
    with jobs.JobService("process", max_workers=2) as svc:
        h = svc.submit(LDMX, masses=masses, rel_error=0.01, seed=7, use_precomputed=False, use_cache=False)
        par = h.result(120)
    assert h.source == "compute" and par.provenance["points_computed"] == 2
    assert np.array_equal(serial.sigma_pb, par.sigma_pb) and np.array_equal(serial.error_pb, par.error_pb)
    assert np.array_equal(serial.dsdx_pb, par.dsdx_pb)


# --------------------------------------------------------------------- lookup machinery (fake engine)
@pytest.fixture
def fake_shipped(tmp_path, monkeypatch, fake_etl):
    """A precomputed dir with one table for the NA64 configuration, made by the precompute machinery."""
    from physics.cli.commands.precompute import precompute_config

    d = tmp_path / "pre"
    with jobs.JobService("inline") as svc:
        path, table = precompute_config(NA64, n_masses=20, service=svc, out_dir=d, command="test")
    monkeypatch.setenv(store.ENV_PRECOMPUTED_DIR, str(d))
    # the points are now also in the cache: start from an empty one to see where tables come from
    cache_mod.get_cache().clear()
    return path, table, fake_etl


def test_lookup_order_precomputed_cache_compute(fake_shipped):
    path, shipped, calls = fake_shipped
    n0 = count_calls(calls)
    t = provider.get_sigma_table(NA64)
    assert store.table_source(NA64) == "precomputed"
    assert count_calls(calls) == n0 and np.array_equal(t.sigma_pb, shipped.sigma_pb)
    # subset of the shipped grid: still precomputed; seed does not select precomputed tables
    sub = list(shipped.masses_gev[[2, 5]])
    assert store.table_source(NA64, masses=sub, seed=99) == "precomputed"
    assert np.array_equal(provider.get_sigma_table(NA64, masses=sub).sigma_pb, shipped.sigma_pb[[2, 5]])
    # higher precision than shipped → compute, then cache
    assert store.table_source(NA64, rel_error=0.005, masses=sub) == "compute"
    t2 = provider.get_sigma_table(NA64, rel_error=0.005, masses=sub)
    assert count_calls(calls) == n0 + 2 and t2.provenance["source"] == "compute"
    assert store.table_source(NA64, rel_error=0.005, masses=sub) == "cache"
    t3 = provider.get_sigma_table(NA64, rel_error=0.005, masses=sub)
    assert count_calls(calls) == n0 + 2 and np.array_equal(t3.sigma_pb, t2.sigma_pb)
    # one more mass (above the others, so their seeds seed + i are unchanged): only it is computed
    more = sub + [1.5 * max(sub)]
    assert store.table_source(NA64, rel_error=0.005, masses=more) == "compute"
    t4 = provider.get_sigma_table(NA64, rel_error=0.005, masses=more)
    assert count_calls(calls) == n0 + 3
    assert t4.provenance["points_from_cache"] == 2 and t4.provenance["points_computed"] == 1


def test_stale_precomputed_is_never_served(fake_shipped, monkeypatch):
    path, shipped, calls = fake_shipped
    n0 = count_calls(calls)
    monkeypatch.setattr(st, "PHYSICS_VERSION", "999-test")
    with pytest.warns(store.StalePrecomputedWarning):
        assert store.load_precomputed() == {}
    with pytest.warns(store.StalePrecomputedWarning, match="not used"):
        assert store.table_source(NA64) == "compute"
    with pytest.warns(store.StalePrecomputedWarning, match="not used"):
        t = provider.get_sigma_table(NA64)
    assert t.provenance["source"] == "compute" and count_calls(calls) > n0
    assert "subset_of" not in t.provenance


def test_incomplete_or_malformed_shipped_table_not_served(fake_shipped, tmp_path, monkeypatch):
    path, shipped, calls = fake_shipped
    raw = json.loads(path.read_text())
    raw["points"][3]["sigma"]["converged"] = False
    path.write_text(json.dumps(raw))
    (path.parent / "broken.json").write_text("{not json")
    with pytest.warns(store.StalePrecomputedWarning):
        assert store.load_precomputed() == {}
    with pytest.warns(store.StalePrecomputedWarning):
        assert store.table_source(NA64, masses=list(shipped.masses_gev[:2])) == "compute"


def test_load_precomputed_cold_start_under_1s(monkeypatch):
    monkeypatch.delenv(store.ENV_PRECOMPUTED_DIR, raising=False)
    store._pre_memo.clear()
    t0 = time.perf_counter()
    tables = store.load_precomputed()
    dt = time.perf_counter() - t0
    assert tables and dt < 1.0, dt
    t0 = time.perf_counter()
    store.load_precomputed()
    assert time.perf_counter() - t0 < 0.01, "memoised"


def test_iww_method_and_cache(fake_etl):
    masses = list(NA64.default_mass_grid(8))
    assert store.table_source(NA64, "iww", masses=masses) == "compute"
    t = provider.get_sigma_table(NA64, method="iww", masses=masses)
    for p in t.points:
        assert p.sigma.mean == iww_point(NA64, p.mass_gev).sigma.mean
    assert t.provenance["method"] == "iww"
    assert store.table_source(NA64, "iww", masses=masses) == "cache"
    assert count_calls(fake_etl) == 0


def test_incomplete_points_flagged_not_cached(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, not_ok_below=0.005)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "etl", fn)
    monkeypatch.setenv(store.ENV_PRECOMPUTED_DIR, str(tmp_path / "none"))
    masses = [0.002, 0.01, 0.1]
    with pytest.warns(store.IncompleteTableWarning, match="0.002"):
        t = provider.get_sigma_table(NA64, masses=masses)
    assert not t.all_ok and t.provenance["incomplete_points_gev"] == [0.002]
    assert store.table_source(NA64, masses=masses) == "compute"
    with pytest.warns(store.IncompleteTableWarning):
        provider.get_sigma_table(NA64, masses=masses)
    assert count_calls(calls) == 4  # 3, then only the one that was not ok


def test_progress_callback_and_cancel_through_it(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, sleep=0.05)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    masses = list(NA64.default_mass_grid(40))
    seen = []
    t = provider.get_sigma_table(NA64, method="fake", masses=masses[:6], progress=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (6, 6) and len(t.points) == 6

    class Stop(Exception):
        pass

    def stop(done, total):
        if done >= 2:
            raise Stop

    with pytest.raises(Stop):
        provider.get_sigma_table(NA64, method="fake", masses=masses, progress=stop)
    time.sleep(0.5)
    n = count_calls(calls)
    time.sleep(0.5)
    assert count_calls(calls) == n < 6 + 40 - 10, "the computation stopped with the exception"


def test_bad_input_raises_input_error_naming_parameter(fake_etl):
    cases = [
        (dict(method="vegas"), "method"), (dict(rel_error=-1), "rel_error"), (dict(rel_error=0.9), "rel_error"),
        (dict(seed="one"), "seed"), (dict(masses=[0.0]), "masses"), (dict(masses=[20.0]), "masses"),
        (dict(masses="abc"), "masses"),
    ]
    for kw, param in cases:
        for fn in (provider.get_sigma_table, store.table_source):
            with pytest.raises(InputError) as exc:
                fn(NA64, **kw)
            assert exc.value.parameter == param and "allowed" in str(exc.value)
    with pytest.raises(InputError):
        provider.get_sigma_table("not a config")
    assert count_calls(fake_etl) == 0


def test_half_grid_check_of_whole_range_tables_covers_cuts_and_open_bins():
    """x_min = 0: the lowest bins are closed for every tabulated mass (never checked), bins near x = 1 are
    checked up to 0.9 E0 x_lo; σ_V above the cuts of GRID_CHECK_CUTS is checked at every midpoint."""
    assert store.dsdx_check_max_mass_gev(LDMX) == 0.0
    assert store.dsdx_check_max_mass_gev(LDMX, 0.7) == pytest.approx(0.9 * 0.7 * 8.0)
    parts = store.half_grid_parts(LDMX, 60)
    assert set(parts) == {"sigma", "dsdx", "cut 0.3", "cut 0.5", "cut 0.7", "cut 0.9"}
    assert parts["dsdx"] > store.GRID_TOL > max(v for k, v in parts.items() if k != "dsdx"), parts
    assert store.choose_n_masses(LDMX) == 70 and store.choose_n_masses(NA64) == 60


@pytest.mark.parametrize("cfg", [NA64, LDMX], ids=["na64e", "ldmx"])
def test_automatic_mass_grid_interpolates_within_1_percent(cfg):
    n = store.choose_n_masses(cfg)
    assert store.GRID_N_MIN <= n <= store.GRID_N_MAX
    assert store.half_grid_error(cfg, n) < store.GRID_TOL
    if n > store.GRID_N_MIN:
        assert store.half_grid_error(cfg, n - store.GRID_N_STEP) >= store.GRID_TOL, "smallest such n"
    # the test itself can fail: a coarse grid does not interpolate to 1%
    assert store.half_grid_error(cfg, 8) > store.GRID_TOL
    assert len(store.mass_grid(cfg)) == n


def test_precompute_command_writes_documented_file(fake_etl, tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["precompute", "--experiment", "na64e-projected", "--n-masses", "6", "--workers", "2",
                   "--out", str(out), "--seed", "3", "--check-midpoints", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    (entry,) = res["tables"]
    path = Path(entry["file"])
    assert path == out / (store.config_slug(NA64) + ".json")
    assert entry["experiments"] == ["na64e-2023", "na64e-projected"] and entry["all_ok"]
    raw = json.loads(path.read_text())
    prov = raw["provenance"]
    assert prov["command"] == ("python -m physics precompute --experiment na64e-projected --rel-error 0.01 "
                               "--seed 3 --n-masses 6 --check-midpoints")
    assert prov["seed"] == 3 and [p["sigma"]["seed"] for p in raw["points"]] == [3, 4, 5, 6, 7, 8]
    assert prov["seeds"] == [3, 4, 5, 6, 7, 8]
    assert prov["physics_version"] == PHYSICS_VERSION and "vegas_version" in prov and "date" in prov
    chk = prov["etl_midpoint_check"]
    assert chk["n_midpoints"] == 5 and chk["max_rel_deviation"] < 0.05  # fake σ ∝ M⁻² interpolates well
    assert count_calls(fake_etl) == 6 + 5
    assert not list(out.glob("*.tmp*")), "atomic save leaves no temporary file"
    # bad input: clean error, nothing computed
    assert cli.main(["precompute", "--experiment", "nope", "--json"]) == 2
    assert cli.main(["precompute", "--experiment", "ldmx-phase2", "--rel-error", "0", "--json"]) == 2
    assert count_calls(fake_etl) == 6 + 5
