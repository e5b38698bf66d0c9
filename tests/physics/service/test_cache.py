"""Persistent σ_V cache: keys, validation, no pickle, owner-only directory, corruption and kill-mid-write.

Also home of the fake point function the machinery tests use (deterministic, fast, top-level picklable).
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import uuid
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from physics.service import cache as cache_mod
from physics.xsec import sigma_v as st
from physics.service.cache import CacheCorruptionWarning, SigmaCache, get_cache
from physics.xsec.mc import MCResult
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint, SigmaVTable
from physics.service import provider

ROOT = Path(__file__).resolve().parents[3]
CFG = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.5)


# ----------------------------------------------------------------------------------- fake engine
def fake_point(config, mass_gev, rel_error=0.01, seed=1, *, sleep=0.0, calls_dir=None, fail_above=None,
               not_ok_below=None):
    """A deterministic stand-in for physics.xsec.etl.sigma_v_point (same record, same keyword interface).

    σ = 1e6 (1 GeV / M)² pb × (1 + ½ rel_error · N(0,1; seed)); error = 0.9 rel_error σ; dσ/dx linear in x,
    integrating to σ.
    calls_dir: one file per call (counts calls across processes); fail_above: raise above this mass;
    not_ok_below: return a non-converged point below this mass.
    """
    if calls_dir is not None:
        Path(calls_dir, f"{mass_gev!r}-{seed}-{uuid.uuid4().hex}").touch()
    if sleep:
        time.sleep(sleep)
    if fail_above is not None and mass_gev > fail_above:
        raise ValueError(f"synthetic failure at {mass_gev:g} GeV")
    u = float(np.random.default_rng(int(seed)).standard_normal())
    sigma = 1e6 / mass_gev ** 2 * (1.0 + 0.5 * rel_error * u)
    err = 0.9 * rel_error * sigma
    converged = not (not_ok_below is not None and mass_gev < not_ok_below)
    edges = config.x_edges
    width = edges[-1] - edges[0]
    # a linear spectrum whose bins integrate to σ (as the engine's do: same points), in the config's bins
    centres = 0.5 * (edges[1:] + edges[:-1])
    dsdx = tuple(float(sigma / width * (0.5 + (c - edges[0]) / width)) for c in centres)
    res = MCResult(mean=sigma, error=err, unit="pb", chi2_dof=1.0, q=0.5, neval=1000, seed=int(seed),
                   settings={"fake": True}, converged=converged,
                   message="" if converged else "synthetic: precision not reached")
    return SigmaVPoint(mass_gev=float(mass_gev), sigma=res, dsdx_pb=dsdx,
                       dsdx_err_pb=tuple(0.9 * rel_error * v for v in dsdx))


def count_calls(calls_dir) -> int:
    return len(os.listdir(calls_dir))


def make_fake(tmp_path, **kw):
    d = tmp_path / f"calls-{uuid.uuid4().hex[:6]}"
    d.mkdir()
    return partial(fake_point, calls_dir=str(d), **kw), d


# ------------------------------------------------------------------------------------------ tests
def test_location_env_and_owner_only(cache_dir, monkeypatch):
    c = get_cache()
    assert c.root == cache_dir and c.directory.parent == cache_dir
    for d in (cache_dir, c.directory):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    monkeypatch.delenv("DAP_CACHE_DIR")
    import platformdirs

    assert cache_mod.cache_root() == Path(platformdirs.user_cache_dir("dark-axion-portal"))


def test_point_roundtrip_and_key_components(cache_dir, monkeypatch):
    c = get_cache()
    p = fake_point(CFG, 0.01, 0.01, 3)
    assert c.put_point(CFG, p, "etl", 0.01, 3)
    got = c.get_point(CFG, 0.01, "etl", 0.01, 3)
    assert got == p
    # every ingredient of the key matters
    assert c.get_point(CFG, 0.01, "etl", 0.02, 3) is None
    assert c.get_point(CFG, 0.01, "etl", 0.01, 4) is None
    assert c.get_point(CFG, 0.0100001, "etl", 0.01, 3) is None
    assert c.get_point(CFG, 0.01, "iww", 0.01, 3) is None
    other = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.6)
    assert c.get_point(other, 0.01, "etl", 0.01, 3) is None
    # physics version is in the key: a version bump never serves an old number
    monkeypatch.setattr(st, "PHYSICS_VERSION", "999-test")
    assert c.get_point(CFG, 0.01, "etl", 0.01, 3) is None


def test_only_complete_valid_results_are_written(cache_dir):
    c = get_cache()
    good = fake_point(CFG, 0.02)
    bad = [
        fake_point(CFG, 0.02, not_ok_below=1.0),                                       # not converged
        SigmaVPoint(0.02, MCResult(math.nan, 1.0, "pb", 1, 0.5, 1, 1), good.dsdx_pb, good.dsdx_err_pb),
        SigmaVPoint(0.02, MCResult(1.0, 0.01, "pb", 1, 0.01, 1, 1), good.dsdx_pb, good.dsdx_err_pb),  # Q low
        SigmaVPoint(0.02, good.sigma, good.dsdx_pb[:-1], good.dsdx_err_pb[:-1]),     # wrong bins
        SigmaVPoint(0.02, good.sigma, (math.inf,) * 20, good.dsdx_err_pb),             # non-finite
    ]
    for b in bad:
        assert c.put_point(CFG, b, "etl", 0.01, 1) is False
    assert len(c) == 0
    assert c.put_point(CFG, good, "etl", 0.01, 1) and len(c) == 1


def test_no_pickle_anywhere(cache_dir):
    c = get_cache()
    with pytest.raises(TypeError):
        c._cache.set(("tuple", "key"), {"a": 1})
    with pytest.raises(TypeError):
        c.put_json("k", {"obj": object()})
    c.put_point(CFG, fake_point(CFG, 0.03), "etl", 0.01, 1)
    t = SigmaVTable(CFG, [fake_point(CFG, m, seed=1 + i) for i, m in enumerate(CFG.default_mass_grid(60))])
    assert c.put_table(t, "etl", 0.01, 1)  # large: stored as a file
    con = sqlite3.connect(c.directory / "cache.db")
    modes = {m for (m,) in con.execute("SELECT mode FROM Cache")}
    raws = {r for (r,) in con.execute("SELECT raw FROM Cache")}
    con.close()
    assert modes <= {cache_mod.diskcache.core.MODE_RAW, cache_mod.diskcache.core.MODE_BINARY}
    assert modes != {cache_mod.diskcache.core.MODE_RAW}, "the table should have gone to a file"
    assert raws == {1}
    for f in c.directory.rglob("*.val"):
        assert f.read_bytes().startswith(b"DAPJ1\n")


def _corrupt_row(c: SigmaCache):
    con = sqlite3.connect(c.directory / "cache.db")
    (rowid, value), = con.execute("SELECT rowid, value FROM Cache").fetchall()
    value = bytearray(value)
    value[-5] ^= 0x01  # one flipped bit in the JSON payload
    con.execute("UPDATE Cache SET value = ? WHERE rowid = ?", (bytes(value), rowid))
    con.commit()
    con.close()


def test_corrupt_entry_detected_discarded_recomputed(cache_dir, tmp_path, monkeypatch):
    from physics.service import store

    fn, calls = make_fake(tmp_path)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    masses = [0.01]
    t1 = provider.get_sigma_table(CFG, method="fake", masses=masses)
    c = get_cache()
    assert count_calls(calls) == 1 and len(c) == 2  # point + table
    # corrupt both entries (checksums no longer match)
    c._cache.delete(next(k for k in c.keys() if c.get_json(k).get("table")))
    _corrupt_row(c)
    with pytest.warns(CacheCorruptionWarning, match="checksum"):
        assert c.get_point(CFG, 0.01, "fake", 0.01, 1) is None
    assert len(c) == 0, "the corrupt entry is discarded"
    _ = provider.get_sigma_table(CFG, method="fake", masses=masses)  # recomputed
    assert count_calls(calls) == 2
    assert c.get_point(CFG, 0.01, "fake", 0.01, 1) == t1.points[0]


def test_corrupt_file_entry_detected(cache_dir):
    c = get_cache()
    t = SigmaVTable(CFG, [fake_point(CFG, m, seed=1 + i) for i, m in enumerate(CFG.default_mass_grid(60))])
    assert c.put_table(t, "etl", 0.01, 1)
    assert c.get_table(CFG, t.masses_gev, "etl", 0.01, 1) is not None
    (f,) = list(c.directory.rglob("*.val"))
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x20
    f.write_bytes(bytes(data))
    with pytest.warns(CacheCorruptionWarning):
        assert c.get_table(CFG, t.masses_gev, "etl", 0.01, 1) is None
    assert len(c) == 0
    # a truncated file too
    assert c.put_table(t, "etl", 0.01, 1)
    (f,) = list(c.directory.rglob("*.val"))
    f.write_bytes(f.read_bytes()[:100])
    with pytest.warns(CacheCorruptionWarning):
        assert c.get_table(CFG, t.masses_gev, "etl", 0.01, 1) is None


def test_unreadable_database_is_moved_aside(cache_dir):
    c = get_cache()
    c.put_point(CFG, fake_point(CFG, 0.05), "etl", 0.01, 1)
    cache_mod.close_all()
    (c.directory / "cache.db").write_bytes(b"this is not a sqlite database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(str(c.directory / "cache.db") + suffix).unlink(missing_ok=True)
    with pytest.warns(CacheCorruptionWarning, match="unreadable"):
        c2 = get_cache()
    assert len(c2) == 0
    assert c2.put_point(CFG, fake_point(CFG, 0.05), "etl", 0.01, 1)
    assert list(cache_dir.glob("sigma_v.corrupt-*"))


def test_cache_hit_returns_the_whole_table(cache_dir):
    """A stored table is served whole by one read, repeatedly. (Its speed — ≤ 5 ms per hit — is measured by
    ``python -m benchmarks store``, not asserted here: a timed unit test fails on a loaded machine.)"""
    from physics.service import store

    c = get_cache()
    masses = store.mass_grid(CFG)
    t = SigmaVTable(CFG, [fake_point(CFG, m, seed=1 + i) for i, m in enumerate(masses)])
    assert c.put_table(t, "etl", 0.01, 1)
    for _ in range(3):
        got = c.get_table(CFG, masses, "etl", 0.01, 1)
        assert got is not None and len(got.points) == len(masses)
        assert [p.sigma.mean for p in got.points] == [p.sigma.mean for p in t.points]


# ---------------------------------------------------------------------------- crash consistency
_WRITER = textwrap.dedent("""
    import sys, itertools
    sys.path.insert(0, {root!r})
    from physics.service.cache import get_cache
    from physics.xsec.sigma_v import SigmaVConfig, SigmaVTable
    from tests.physics.service.test_cache import fake_point
    cfg = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.5)
    c = get_cache()
    grid = cfg.default_mass_grid(60)
    for i in itertools.count():
        m = float(grid[i % 60]) * (1 + i // 60 * 1e-6)
        c.put_point(cfg, fake_point(cfg, m, seed=i), "etl", 0.01, i)
        if i % 7 == 0:  # a large value, written to a file before its row is committed
            t = SigmaVTable(cfg, [fake_point(cfg, mm, seed=i + j) for j, mm in enumerate(grid)])
            c.put_table(t, "etl", 0.01, i)
        if i == 3:
            print("ready", flush=True)
""")


def _assert_consistent(directory: Path):
    c = SigmaCache(directory)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no corruption warning allowed
        # orphan value files/folders (killed between writing the file and committing its row) are
        # unreferenced: reported by check(), harmless
        problems = [p for p in c.check() if not p.startswith(("unknown file", "empty directory"))]
        assert problems == []
        n = 0
        for k in c.keys():
            d = c.get_json(k)
            assert d is not None and d["key"] == k
            if "point" in d:
                p = SigmaVPoint.from_dict(d["point"])
                assert not cache_mod.validate_point(CFG, p)
            else:
                t = SigmaVTable.from_dict(d["table"])
                assert len(t.points) == 60 and t.all_ok
            n += 1
    c.close()
    return n


def test_sigkill_mid_write_leaves_no_partial_entry(cache_dir):
    env = {**os.environ, "DAP_CACHE_DIR": str(cache_dir)}
    counts = []
    for delay in (0.05, 0.23, 0.41):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER.format(root=str(ROOT))], env=env,
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(delay)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        counts.append(_assert_consistent(cache_dir))
    assert counts[-1] > counts[0] > 0


_COMPUTER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from functools import partial
    from physics.service import jobs, store
    from physics.xsec.sigma_v import SigmaVConfig
    from tests.physics.service.test_cache import fake_point

    if __name__ == "__main__":
        store.POINT_FUNCTIONS["fake"] = partial(fake_point, sleep=0.15, calls_dir={calls!r})
        cfg = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.5)
        svc = jobs.JobService("process", max_workers=2)
        h = svc.submit(cfg, masses=cfg.default_mass_grid(40), method="fake")
        h.on_point(lambda h, p: print("point", flush=True))
        h.result()
        print("finished", flush=True)
""")


def test_sigkill_mid_computation_keeps_finished_points(cache_dir, tmp_path, monkeypatch):
    from physics.service import store

    calls = tmp_path / "calls"
    calls.mkdir()
    env = {**os.environ, "DAP_CACHE_DIR": str(cache_dir)}
    script = tmp_path / "computer.py"
    script.write_text(_COMPUTER.format(root=str(ROOT), calls=str(calls)))
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        seen = 0
        while seen < 6:
            line = proc.stdout.readline()
            assert line, "computation subprocess died early"
            seen += line.startswith("point")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # parent, forkserver and workers: the whole group
        proc.wait(10)
        proc.stdout.close()
    n = _assert_consistent(cache_dir)
    assert 6 <= n < 40
    done_before = count_calls(calls)
    # restart: only the missing points are computed
    fn = partial(fake_point, calls_dir=str(calls))
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    table = provider.get_sigma_table(CFG, method="fake", masses=CFG.default_mass_grid(40))
    assert len(table.points) == 40 and table.all_ok
    assert count_calls(calls) - done_before == 40 - n
    assert table.provenance["points_from_cache"] == n
