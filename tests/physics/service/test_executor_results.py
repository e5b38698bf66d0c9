"""Results from any executor are checked before they are accepted or cached; the executor is part of the
provenance and of the cache namespace; exceptions in pool workers never break the pool; service limits."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import os
import threading
import time
from functools import partial

import pytest

from physics.service import cache as cache_mod
from physics import cli
from physics.service import jobs, store
from physics.service.cache import get_cache, point_key
from physics.errors import InputError
from physics.xsec.iww import iww_point
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint

from .test_cache import count_calls, fake_point, make_fake

#: NA64's table (whole x range): what ``sigma-table --beam-energy 100 --target Pb`` reads and computes
CFG = SigmaVConfig.whole_range(100.0, "Pb")
MASSES = [cache_mod.norm_mass(m) for m in CFG.default_mass_grid(6)]
CLI_SETUP = ["--beam-energy", "100", "--target", "Pb"]


@pytest.fixture(autouse=True)
def _private_cache_no_precomputed(cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV_PRECOMPUTED_DIR, str(tmp_path / "no-precomputed"))  # CFG is NA64's setup




# ------------------------------------------------------------------------------------ forgeries
def _replace_sigma(p: SigmaVPoint, **kw) -> SigmaVPoint:
    return dataclasses.replace(p, sigma=dataclasses.replace(p.sigma, **kw))


class EvilPoint(SigmaVPoint):
    """A SigmaVPoint subclass (a foreign class in a worker's reply must not survive)."""


def _sigma42(p, cfg, mass):
    return _replace_sigma(p, mean=42.0, error=0.1, q=0.5)                    # made-up bins


def _sigma42_flat_bins(p, cfg, mass):
    return dataclasses.replace(_replace_sigma(p, mean=42.0, error=0.1, q=0.5),
                               dsdx_pb=tuple(1.0 for _ in p.dsdx_pb))


def _other_mass(p, cfg, mass):
    return fake_point(cfg, mass * 1.37, 0.01, p.sigma.seed)                  # correct-looking, wrong mass


FORGERIES = {
    "sigma 42 pb, Q 0.5": _sigma42,
    "sigma 42 pb, flat made-up bins": _sigma42_flat_bins,
    "point of another mass": _other_mass,
    "NaN sigma": lambda p, c, m: _replace_sigma(p, mean=float("nan")),
    "negative sigma": lambda p, c, m: _replace_sigma(p, mean=-p.sigma.mean),
    "infinite error": lambda p, c, m: _replace_sigma(p, error=float("inf")),
    "Q above 1": lambda p, c, m: _replace_sigma(p, q=1.5),
    "negative chi2/dof": lambda p, c, m: _replace_sigma(p, chi2_dof=-1.0),
    "converged but imprecise": lambda p, c, m: _replace_sigma(p, error=0.2 * p.sigma.mean),
    "wrong seed": lambda p, c, m: _replace_sigma(p, seed=p.sigma.seed + 7),
    "wrong VEGAS settings": lambda p, c, m: _replace_sigma(p, settings={"method": "etl", "rel_error": 0.5}),
    "wrong number of bins": lambda p, c, m: dataclasses.replace(p, dsdx_pb=p.dsdx_pb[:-1],
                                                                dsdx_err_pb=p.dsdx_err_pb[:-1]),
    "bool as a number": lambda p, c, m: _replace_sigma(p, q=True),
    "not a point": lambda p, c, m: {"mass_gev": m, "sigma": 42.0},
    "foreign subclass": lambda p, c, m: EvilPoint(p.mass_gev, p.sigma, p.dsdx_pb, p.dsdx_err_pb),
}


def _consistent_forgery(p, cfg, mass):
    """σ = 42 pb with bins that integrate to it, right mass/seed/settings: passes every range check."""
    scale = 42.0 / p.sigma.mean
    return dataclasses.replace(_replace_sigma(p, mean=42.0, error=p.sigma.error * scale, q=0.5),
                               dsdx_pb=tuple(v * scale for v in p.dsdx_pb),
                               dsdx_err_pb=tuple(v * scale for v in p.dsdx_err_pb))


class ForgingExecutor(cf.Executor):
    """A hostile executor: runs the task, then returns ``forge(point, config, mass)`` instead."""

    def __init__(self, forge):
        self.forge = forge
        self._max_workers = 2

    def submit(self, fn, /, *args, **kwargs):
        f = cf.Future()
        f.set_running_or_notify_cancel()
        try:
            p = fn(*args, **kwargs)
            f.set_result(self.forge(p, args[1], args[2]))
        except BaseException as exc:
            f.set_exception(exc)
        return f


def _cli_json(capsys, argv):
    rc = cli.main(argv + ["--json"])
    out = capsys.readouterr().out
    return rc, (json.loads(out) if out.strip() else None)


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_points_are_rejected_never_cached_never_served(name, fake_etl, capsys):
    import physics.xsec.etl  # noqa: F401 - the engine's VEGAS constants are checked when it is loaded

    svc = jobs.JobService(ForgingExecutor(FORGERIES[name]))
    h = svc.submit(CFG, masses=MASSES, method="etl", rel_error=0.01, seed=1)
    with pytest.raises(jobs.JobError, match="rejected"):
        h.result(30)
    assert h.state == "error" and "\n" not in h.error and "GeV" in h.error
    assert len(get_cache()) == 0, "nothing of a rejected point (nor of its executor) is cached"
    # the CLI computes afresh (with the honest local engine) and never shows the forged numbers
    rc, r = _cli_json(capsys, ["sigma-table", *CLI_SETUP, "--masses", ",".join(map(repr, MASSES)),
                               "--source-only"])
    assert rc == 0 and r["source"] == "compute"
    rc, r = _cli_json(capsys, ["sigma-table", *CLI_SETUP, "--masses", ",".join(map(repr, MASSES))])
    assert rc == 0 and 42.0 not in r["sigma_pb"]
    assert r["sigma_pb"] == [fake_point(CFG, m, 0.01, 1 + i).sigma.mean for i, m in enumerate(MASSES)]


def test_rejection_reasons_are_specific(fake_etl):
    import physics.xsec.etl  # noqa: F401

    expect = {"sigma 42 pb, Q 0.5": "integrate", "point of another mass": "differs from the requested",
              "wrong seed": "seed", "Q above 1": "Q", "converged but imprecise": "relative error",
              "wrong VEGAS settings": "rel_error", "foreign subclass": "not a SigmaVPoint",
              "not a point": "not a SigmaVPoint"}
    for name, word in expect.items():
        h = jobs.JobService(ForgingExecutor(FORGERIES[name])).submit(CFG, masses=MASSES[:1], method="etl")
        with pytest.raises(jobs.JobError):
            h.result(30)
        assert word in h.error, (name, h.error)


def test_vegas_settings_of_the_engine_are_checked(fake_etl):
    """A point claiming other VEGAS settings than the engine's (here nitn_adapt) is rejected."""
    from physics.xsec import etl

    forge = partial(_with_settings, settings={"method": "etl", "nitn_adapt": etl.NITN_ADAPT + 1, "rel_error": 0.01})
    h = jobs.JobService(ForgingExecutor(forge)).submit(CFG, masses=MASSES[:1], method="etl")
    with pytest.raises(jobs.JobError, match="nitn_adapt"):
        h.result(30)
    honest = partial(_with_settings, settings={"method": "etl", "nitn_adapt": etl.NITN_ADAPT, "rel_error": 0.01})
    assert jobs.JobService(ForgingExecutor(honest)).submit(CFG, masses=MASSES[:1], method="etl").result(30)


def _with_settings(p, cfg, mass, settings):
    return _replace_sigma(p, settings=settings)


def test_a_poisoned_entry_already_in_the_cache_is_discarded_not_served(fake_etl, capsys):
    """An entry that passed the old checks (σ = 42 pb, bins of another σ) is dropped when read."""
    c = get_cache()
    p = _sigma42(fake_point(CFG, MASSES[0], 0.01, 1), CFG, MASSES[0])
    key = point_key(CFG, MASSES[0], "etl", 0.01, 1)
    c.put_json(key, {"key": key, "point": p.to_dict()})
    with pytest.warns(cache_mod.CacheCorruptionWarning, match="integrate"):
        assert c.get_point(CFG, MASSES[0], "etl", 0.01, 1) is None
    assert len(c) == 0
    rc, r = _cli_json(capsys, ["sigma-table", *CLI_SETUP, "--masses", repr(MASSES[0])])
    assert rc == 0 and r["sigma_pb"] == [fake_point(CFG, MASSES[0], 0.01, 1).sigma.mean]


# ----------------------------------------------------------------------- provenance and namespaces
def test_consistent_forgery_stays_in_the_executors_namespace(fake_etl, capsys):
    """What no range check can catch (a self-consistent σ = 42 pb) is confined to the executor's own cache
    namespace: local runs (the CLI) never see it."""
    svc = jobs.JobService(ForgingExecutor(_consistent_forgery))
    ns = svc.cache_namespace
    assert ns == f"executor {ForgingExecutor.__module__}.ForgingExecutor" and not svc.trusted
    t = svc.submit(CFG, masses=MASSES, method="etl").result(30)
    assert list(t.sigma_pb) == [42.0] * len(MASSES)
    assert t.provenance["cache_namespace"] == ns and t.provenance["executor"] == svc.describe() == ns
    assert all(p.sigma.settings["executor"] == t.provenance["executor"] for p in t.points)
    c = get_cache()
    assert len(c) == len(MASSES) + 1  # its points and its table, under its namespace
    assert all(c.get_point(CFG, m, "etl", 0.01, 1 + i) is None for i, m in enumerate(MASSES))
    assert all(c.get_point(CFG, m, "etl", 0.01, 1 + i, namespace=ns) is not None for i, m in enumerate(MASSES))
    # the same executor gets its own results back from the cache
    h = svc.submit(CFG, masses=MASSES, method="etl")
    assert h.result(30) is not None and h.source == "cache"
    # local runs: never served
    for argv in (["--source-only"], []):
        rc, r = _cli_json(capsys, ["sigma-table", *CLI_SETUP, "--masses", ",".join(map(repr, MASSES)), *argv])
        assert rc == 0 and r["source"] == "compute"
    assert 42.0 not in r["sigma_pb"]
    with jobs.JobService("thread", max_workers=2) as local:
        assert 42.0 not in local.submit(CFG, masses=MASSES, method="etl").result(30).sigma_pb


def test_non_local_executor_uses_trusted_local_entries(fake_etl):
    with jobs.JobService("inline") as local:
        local.submit(CFG, masses=MASSES[:3], method="etl").result(30)
    honest = jobs.JobService(ForgingExecutor(lambda p, c, m: p))
    t = honest.submit(CFG, masses=MASSES, method="etl").result(30)
    assert t.provenance["points_from_cache"] == 3 and t.provenance["points_computed"] == len(MASSES) - 3
    assert t.provenance["point_executors"] == {"inline (coordinator thread)": 3,
                                               honest.describe(): len(MASSES) - 3}
    # its own points went to its namespace only; the local ones are untouched
    c = get_cache()
    assert [c.get_point(CFG, m, "etl", 0.01, 1 + i) is not None for i, m in enumerate(MASSES)] == \
        [True] * 3 + [False] * (len(MASSES) - 3)


@pytest.mark.parametrize("spec,expect", [
    ("process", "local process pool (2 workers)"), ("thread", "local thread pool (2 workers)"),
    ("inline", "inline (coordinator thread)")])
def test_executor_is_in_the_provenance_of_points_and_tables(spec, expect, fake_etl):
    with jobs.JobService(spec, max_workers=2) as svc:
        assert svc.describe() == expect and svc.cache_namespace is None and svc.trusted
        t = svc.submit(CFG, masses=MASSES[:3], method="etl").result(60)
    assert t.provenance["executor"] == expect and t.provenance["point_executors"] == {expect: 3}
    assert "cache_namespace" not in t.provenance
    assert [p.sigma.settings["executor"] for p in t.points] == [expect] * 3
    # the cached points keep it
    assert get_cache().get_point(CFG, MASSES[0], "etl", 0.01, 1).sigma.settings["executor"] == expect
    assert jobs.JobService(cf.ThreadPoolExecutor(1)).cache_namespace is None  # a plain local pool


# ------------------------------------------------------------------------- exceptions in workers
class TwoArgError(Exception):
    """Pickles, but cannot be unpickled (its __init__ needs two arguments): broke the pool before."""

    def __init__(self, a, b):
        super().__init__(f"two-arg failure {a} {b}")


def raising_point(config, mass_gev, rel_error=0.01, seed=1, *, kind="two-arg"):
    if kind == "two-arg":
        raise TwoArgError(mass_gev, "multi\nline")
    if kind == "input":
        raise InputError("target", "a known material", "Nope")
    if kind == "exit":
        os._exit(3)  # a worker dying
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def pool():
    svc = jobs.JobService("process", max_workers=2)
    yield svc
    svc.shutdown()


@pytest.mark.parametrize("kind,text", [("two-arg", "TwoArgError: two-arg failure"),
                                       ("input", "InputError: invalid target='Nope'")])
def test_exception_in_a_pool_worker_fails_only_its_job(kind, text, pool, tmp_path, monkeypatch):
    slow, calls = make_fake(tmp_path, sleep=0.2)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "slow", slow)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "bad", partial(raising_point, kind=kind))
    pool.submit(CFG, masses=MASSES[:1], method="slow").result(60)  # the pool is up
    ex = pool._executor
    good = pool.submit(CFG, masses=list(CFG.default_mass_grid(8)), method="slow")
    time.sleep(0.3)
    bad = pool.submit(CFG, masses=MASSES[:2], method="bad")
    with pytest.raises(jobs.JobError):
        bad.result(60)
    assert text in bad.error and "\n" not in bad.error
    t = good.result(60)  # the job running next to it on the same pool is unaffected
    assert good.state == "done" and len(t.points) == 8
    assert pool._executor is ex, "the pool was not broken"
    assert pool.submit(CFG, masses=MASSES[2:4], method="slow").result(60)


def test_dead_worker_one_line_and_next_job_gets_a_fresh_pool(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "ok", fn)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "die", partial(raising_point, kind="exit"))
    with jobs.JobService("process", max_workers=2) as svc:
        h = svc.submit(CFG, masses=MASSES[:2], method="die")
        with pytest.raises(jobs.JobError):
            h.result(60)
        assert "process pool broke" in h.error and "fresh pool" in h.error and "\n" not in h.error
        t = svc.submit(CFG, masses=MASSES[:3], method="ok").result(60)
        assert len(t.points) == 3 and t.all_ok


def test_material_defined_only_in_the_submitting_process_computes_in_pool_workers(tmp_path, monkeypatch):
    """A custom material (e.g. from an experiment file) is known to the submitting process only; the pool
    workers used to raise InputError for it (and broke the pool: BrokenProcessPool)."""
    from physics.model import materials

    # the registry is process-global: restore it afterwards so "Unobtainium" stays unknown to other tests
    monkeypatch.setattr(materials, "_user_materials", dict(materials._user_materials))
    f = tmp_path / "mats.toml"
    f.write_text('[materials.Unobtainium]\nZ = 50\nA = 118.71\ndensity_g_cm3 = 7.31\nX0_cm = 1.206\n')
    materials.load_materials(f)
    cfg = SigmaVConfig(beam_energy_gev=50.0, target="Unobtainium", x_min=0.3)
    masses = [cache_mod.norm_mass(m) for m in cfg.default_mass_grid(4)]
    with jobs.JobService("process", max_workers=2) as svc:
        h = svc.submit(cfg, masses=masses, method="iww")
        t = h.result(120)
    assert h.state == "done" and t.provenance["points_computed"] == 4
    assert [p.sigma.mean for p in t.points] == [iww_point(cfg, m).sigma.mean for m in masses]


# ------------------------------------------------------------------------------------ limits
def test_more_than_max_masses_refused_even_for_a_hand_made_request(fake_etl):
    svc = jobs.JobService("inline")
    masses = tuple(float(m) for m in CFG.default_mass_grid(store.MAX_MASSES + 1))
    with pytest.raises(InputError, match="masses") as exc:
        svc.submit_request(store.TableRequest(CFG, "etl", 0.01, 1, masses))
    assert len(str(exc.value)) < 200
    with pytest.raises(InputError) as exc:
        svc.submit(CFG, masses=[0.01] * 1_000_000, method="etl")
    assert len(str(exc.value)) <= 200 and "\n" not in str(exc.value)
    assert count_calls(fake_etl) == 0 and len(get_cache()) == 0


def test_bounded_queue_runs_jobs_in_order_and_refuses_when_full(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, sleep=0.15)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    grid = [float(m) for m in CFG.default_mass_grid(40)]
    with jobs.JobService("thread", max_workers=2, max_running=1, max_queued=2) as svc:
        a = svc.submit(CFG, masses=grid[0:8], method="fake")
        deadline = time.time() + 10
        while a.state != "running" and time.time() < deadline:
            time.sleep(0.005)
        b = svc.submit(CFG, masses=grid[10:12], method="fake")
        c = svc.submit(CFG, masses=grid[20:22], method="fake")
        deadline = time.time() + 10
        while svc.stats()["queued"] < 2 and time.time() < deadline:
            time.sleep(0.01)
        assert svc.stats() == {"running": 1, "queued": 2, "open": 3, "max_running": 1, "max_queued": 2}
        assert a.state == "running" and a.queue_position is None
        assert (b.state, b.queue_position, c.queue_position) == ("pending", 1, 2)
        with pytest.raises(jobs.QueueFullError, match="busy"):
            svc.submit(CFG, masses=grid[30:32], method="fake")
        joined = svc.submit(CFG, masses=grid[10:12], method="fake")   # identical to b: joins, not refused
        assert joined.queue_position == 1
        assert c.cancel() and c.state == "cancelled"
        finished = []
        for h in (a, b):
            h.add_done_callback(lambda handle: finished.append(handle.id))
        a.result(30), b.result(30), joined.result(30)
        assert finished == [a.id, b.id]
        assert count_calls(calls) == 10, "the cancelled queued job computed nothing"
        deadline = time.time() + 5
        while svc.stats()["running"] and time.time() < deadline:  # slots are released just after finishing
            time.sleep(0.01)
        assert svc.stats()["running"] == 0 and svc.stats()["queued"] == 0
        svc.set_limits(None, None)
        hs = [svc.submit(CFG, masses=grid[30 + i:31 + i], method="fake") for i in range(5)]
        assert all(h.result(30) for h in hs)


def test_limits_and_workers_are_validated():
    for kw in ({"max_running": 0}, {"max_queued": -1}, {"max_workers": 0}, {"max_workers": 10 ** 6},
               {"max_workers": 2.5}, {"max_workers": True}):
        with pytest.raises(InputError):
            jobs.JobService("thread", **kw)


def test_thread_safety_of_slots_under_many_jobs(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, sleep=0.01)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    grid = [float(m) for m in CFG.default_mass_grid(60)]
    peak = []
    with jobs.JobService("thread", max_workers=2, max_running=2) as svc:
        hs = [svc.submit(CFG, masses=grid[i:i + 1], method="fake") for i in range(20)]
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                peak.append(svc.stats()["running"])
                time.sleep(0.002)

        t = threading.Thread(target=watch)
        t.start()
        assert all(h.result(30) for h in hs)
        stop.set()
        t.join()
    assert max(peak) <= 2 and count_calls(calls) == 20
