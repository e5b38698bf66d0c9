"""Cache hardening: rows pointing outside the cache, recovery from any open error, ``cache --check`` with
diskcache's own check, folder modes, unusable ``DAP_CACHE_DIR``; ``precompute --out`` confinement."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import diskcache
import pytest

from physics.service import cache as cache_mod
from physics import cli
from physics.service import jobs, store
from physics.service.cache import CacheCorruptionWarning, SigmaCache, get_cache
from physics.cli.commands import precompute
from physics.errors import InputError
from physics.xsec.sigma_v import SigmaVConfig, SigmaVTable

from .test_cache import count_calls, fake_point, make_fake

ROOT = Path(__file__).resolve().parents[3]
CFG = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.5)


pytestmark = pytest.mark.usefixtures("cache_dir")   # a private σ_V cache for every test (conftest.py)


def run_cli(*argv, env_extra=None, cwd=None):
    """``python -m physics …`` in a subprocess: (exit status, stdout, stderr)."""
    env = {**os.environ, **(env_extra or {})}
    p = subprocess.run([sys.executable, "-m", "physics", *argv], capture_output=True, text=True, env=env,
                       cwd=cwd or ROOT, timeout=120)
    return p.returncode, p.stdout, p.stderr


def _table(c):
    grid = CFG.default_mass_grid(60)
    t = SigmaVTable(CFG, [fake_point(CFG, m, seed=1 + i) for i, m in enumerate(grid)])
    assert c.put_table(t, "etl", 0.01, 1)  # large: its value lives in a file
    return t


def _point_row_to(c, filename):
    """Make the (file-backed) table row point to ``filename``."""
    con = sqlite3.connect(c.directory / "cache.db")
    (n,) = con.execute("SELECT COUNT(*) FROM Cache WHERE filename IS NOT NULL").fetchone()
    assert n == 1
    con.execute("UPDATE Cache SET filename = ? WHERE filename IS NOT NULL", (filename,))
    con.commit()
    con.close()


# ------------------------------------------------------------------------ (a) rows pointing outside
@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
def test_row_pointing_outside_never_reads_or_deletes_that_file(how, cache_dir, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    c = get_cache()
    t = _table(c)
    if how == "absolute":
        name = str(victim)
    elif how == "dotdot":
        name = os.path.relpath(victim, c.directory)
        assert name.startswith("..")
    else:
        (c.directory / "ab").mkdir()
        (c.directory / "ab" / "link.val").symlink_to(victim)
        name = "ab/link.val"
    _point_row_to(c, name)
    with pytest.warns(CacheCorruptionWarning):
        assert c.get_table(CFG, t.masses_gev, "etl", 0.01, 1) is None  # read → discarded
    assert victim.read_text() == "precious"
    _table(c)
    _point_row_to(c, name)
    problems = c.check()
    assert any("outside the cache folder" in p or "not a relative path" in p for p in problems), problems
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheCorruptionWarning)
        c.check(fix=True)
        c.clear()
    assert victim.read_text() == "precious"
    assert c.check() == []


# ------------------------------------------------------------------------ (b) recovery at open
def _bad_db_bytes(d):
    (d / "cache.db").write_bytes(b"\x00not sqlite" * 500)


def _settings_wrong_schema(d):
    con = sqlite3.connect(d / "cache.db")
    con.execute("DROP TABLE Settings")
    con.execute("CREATE TABLE Settings (key INTEGER, value BLOB)")
    con.execute("INSERT INTO Settings VALUES (1, x'00')")
    con.commit()
    con.close()


def _db_is_a_folder(d):
    (d / "cache.db").unlink()
    (d / "cache.db").mkdir()


def _subdir_is_a_file(d):
    shutil.rmtree(d)
    d.write_text("not a folder")


CORRUPTIONS = {"random bytes": _bad_db_bytes,
               "Settings of another schema": _settings_wrong_schema, "database is a folder": _db_is_a_folder,
               "cache folder is a file": _subdir_is_a_file}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_any_open_error_moves_the_cache_aside_and_starts_fresh(name, cache_dir):
    c = get_cache()
    c.put_point(CFG, fake_point(CFG, 0.05), "etl", 0.01, 1)
    cache_mod.close_all()
    for suffix in ("-wal", "-shm"):
        Path(str(c.directory / "cache.db") + suffix).unlink(missing_ok=True)
    CORRUPTIONS[name](c.directory)
    with pytest.warns(CacheCorruptionWarning, match="unreadable"):
        c2 = get_cache()
    assert len(c2) == 0 and c2.recovered
    assert c2.put_point(CFG, fake_point(CFG, 0.05), "etl", 0.01, 1)
    assert c2.get_point(CFG, 0.05, "etl", 0.01, 1) is not None
    assert len(list(cache_dir.glob("sigma_v.corrupt-*"))) == 1
    # every command works again (and the next process finds a healthy cache)
    cache_mod.close_all()
    rc, out, err = run_cli("cache", "--check", "--json")
    assert rc == 0 and json.loads(out)["problems"] == [] and "Traceback" not in err


def test_unicode_decode_error_on_open_is_recovered(cache_dir, monkeypatch):
    """Any exception type at open (here the UnicodeDecodeError a corrupt text setting gave)."""
    get_cache()
    cache_mod.close_all()
    real = diskcache.Cache.__init__
    calls = []

    def flaky(self, *a, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        return real(self, *a, **kw)

    monkeypatch.setattr(diskcache.Cache, "__init__", flaky)
    with pytest.warns(CacheCorruptionWarning, match="UnicodeDecodeError"):
        c = get_cache()
    assert c.put_point(CFG, fake_point(CFG, 0.05), "etl", 0.01, 1) and len(calls) == 2


# ------------------------------------------------------------------------------ (c) cache --check
def test_check_reports_diskcache_findings_missing_and_stray_files(cache_dir, capsys):
    c = get_cache()
    _table(c)
    (val,) = list(c.directory.rglob("*.val"))
    val.unlink()                                     # a missing value file
    stray = c.directory / "ab" / "cd" / "stray.val"  # a file no row refers to
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"stray")
    problems = c.check()
    assert any(p.startswith("file not found") for p in problems), problems
    assert any(p.startswith("unknown file") and "stray.val" in p for p in problems), problems
    with pytest.raises(SystemExit) as exc:
        cli.main(["cache", "--check", "--json"])
    assert exc.value.code == 1
    out, err = capsys.readouterr()
    assert len(json.loads(out)["problems"]) >= 2 and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        cli.main(["cache", "--fix"])
    capsys.readouterr()
    assert not stray.exists() and c.check() == []
    assert cli.main(["cache", "--check"]) == 0


def _corrupt_page(db: Path, page: int, page_size: int):
    b = bytearray(db.read_bytes())
    b[page * page_size + 100:page * page_size + 120] = bytes(range(20))
    db.write_bytes(bytes(b))


def test_check_never_crashes_on_a_malformed_database(cache_dir, tmp_path):
    """Damage each page of a database in turn: opening and check() never raise; a database that opens but
    is damaged has its problems reported; the CLI exits non-zero with one line on stderr, no traceback."""
    c = get_cache()
    for m in CFG.default_mass_grid(150):
        c.put_point(CFG, fake_point(CFG, m, seed=1), "etl", 0.01, 1)
    cache_mod.close_all()
    db = c.directory / "cache.db"
    con = sqlite3.connect(db)
    (page_size,), = con.execute("PRAGMA page_size").fetchall()
    con.close()
    pristine = db.read_bytes()
    reported = []
    work = tmp_path / "work"
    for page in range(len(pristine) // page_size):
        shutil.rmtree(work, ignore_errors=True)
        (work / "sigma_v").mkdir(parents=True)
        (work / "sigma_v" / "cache.db").write_bytes(pristine)
        _corrupt_page(work / "sigma_v" / "cache.db", page, page_size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CacheCorruptionWarning)
            sc = SigmaCache(work)          # never raises
            problems = sc.check()          # never raises
            sc.close()
        if problems and not sc.recovered:
            reported.append(page)
    assert reported, "no damaged page was reported by check() (diskcache's PRAGMA integrity_check)"
    shutil.rmtree(work)
    (work / "sigma_v").mkdir(parents=True)
    (work / "sigma_v" / "cache.db").write_bytes(pristine)
    _corrupt_page(work / "sigma_v" / "cache.db", reported[0], page_size)
    rc, out, err = run_cli("cache", "--check", env_extra={"DAP_CACHE_DIR": str(work)})
    assert rc == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (rc, err)
    assert "problems:" in out


# ----------------------------------------------------------------------------- (d) folder modes
def test_new_folders_are_private_existing_ones_keep_their_mode(tmp_path, monkeypatch):
    new = tmp_path / "a" / "b" / "cache"
    monkeypatch.setenv("DAP_CACHE_DIR", str(new))
    c = get_cache()
    for d in (tmp_path / "a", tmp_path / "a" / "b", new, c.directory):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    cache_mod.close_all()
    shared = tmp_path / "shared"
    (shared / "sigma_v").mkdir(parents=True)
    os.chmod(shared, 0o755)
    os.chmod(shared / "sigma_v", 0o750)
    monkeypatch.setenv("DAP_CACHE_DIR", str(shared))
    c = get_cache()
    assert c.put_point(CFG, fake_point(CFG, 0.05), "etl", 0.01, 1)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "sigma_v").stat().st_mode) == 0o750


# ---------------------------------------------------------------------------- (e) DAP_CACHE_DIR
@pytest.mark.parametrize("where", ["regular file", "below a regular file", "inside /proc"])
def test_unusable_cache_dir_is_one_line_exit_2(where, tmp_path, monkeypatch, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    target = {"regular file": f, "below a regular file": f / "cache", "inside /proc": Path("/proc/dap-cache")}[where]
    rc, out, err = run_cli("cache", "--check", env_extra={"DAP_CACHE_DIR": str(target)})
    assert rc == 2 and out == "" and "Traceback" not in err, (rc, out, err)
    assert len(err.strip().splitlines()) == 1 and "DAP_CACHE_DIR" in err, err
    monkeypatch.setenv("DAP_CACHE_DIR", str(target))
    for argv in (["cache"], ["sigma-table", "--beam-energy", "50", "--target", "W", "--source-only"]):
        assert cli.main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and "DAP_CACHE_DIR" in err, (argv, out, err)
    assert f.read_text() == "x"
    with pytest.raises(InputError, match="DAP_CACHE_DIR"):
        get_cache(target)


# ------------------------------------------------------------------------- precompute --out
def test_output_file_name_is_a_sanitised_slug_inside_out(tmp_path):
    out = tmp_path / "out"
    evil = SimpleNamespace(target="../../x", beam_energy_gev=100.0, x_min=0.0, x_max=1.0, form_factor="elastic",
                           n_x_bins=20)
    path = precompute.output_path(out, evil)
    assert path.parent == out and "/" not in path.name and path.resolve().parent == out.resolve()
    assert precompute.output_path(out, CFG).name == "sigmaV_Pb_100GeV_x0.5-1_elastic_nx20.json"  # unchanged
    long = SimpleNamespace(**{**vars(evil), "target": "L" * 400})
    assert len(precompute.output_path(out, long).name) <= store.SLUG_MAX_CHARS + 5
    assert store.config_slug(SimpleNamespace(**{**vars(evil), "target": "a/b"})) != \
        store.config_slug(SimpleNamespace(**{**vars(evil), "target": "a_b"}))
    # a symlink planted in --out with the table's name is followed by resolve(): refused
    outside = tmp_path / "outside.json"
    out.mkdir()
    (out / f"{store.config_slug(CFG)}.json").symlink_to(outside)
    with pytest.raises(InputError, match="inside --out"):
        precompute.output_path(out, CFG)


def test_precompute_refuses_a_path_outside_out_before_any_work(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "etl", fn)
    monkeypatch.setattr(store, "config_slug", lambda config: "../../escaped")  # as if the slug regressed
    out = tmp_path / "a" / "b" / "out"
    with jobs.JobService("inline") as svc, pytest.raises(InputError, match="inside --out"):
        precompute.precompute_config(CFG, n_masses=4, service=svc, out_dir=out)
    assert count_calls(calls) == 0 and not (tmp_path / "a" / "escaped.json").exists()
    assert cli.main(["precompute", "--experiment", "na64e-2023", "--n-masses", "4", "--out", str(out),
                     "--json"]) == 2
    assert count_calls(calls) == 0 and not list(tmp_path.rglob("escaped.json"))


@pytest.mark.parametrize("argv", [
    ["--workers", "0"], ["--workers", "100000"], ["--n-masses", "1"], ["--n-masses", "5000"],
    ["--rel-error", "0"], ["--rel-error", "nan"], ["--rel-error", "2"], ["--seed", "-1"],
    ["--out", "FILE"], ["--out", "FILE/sub"]])
def test_precompute_options_validated_one_line_exit_2(argv, tmp_path, monkeypatch, capsys):
    fn, calls = make_fake(tmp_path)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "etl", fn)
    f = tmp_path / "FILE"
    f.write_text("x")
    argv = [a.replace("FILE", str(f)) for a in argv]
    rc = cli.main(["precompute", "--experiment", "na64e-2023", *argv, "--json"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1, (argv, rc, out, err)
    assert count_calls(calls) == 0 and f.read_text() == "x" and len(get_cache()) == 0
