"""Background σ_V computation: sharing, cancellation, failures, validation, progress, Dask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from physics.service import jobs, store
from physics.service.cache import get_cache
from physics.errors import InputError
from physics.xsec.iww import iww_point
from physics.xsec.sigma_v import SigmaVConfig

from .test_cache import count_calls, make_fake

CFG = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.5)
MASSES = list(CFG.default_mass_grid(12))


pytestmark = pytest.mark.usefixtures("cache_dir")   # a private σ_V cache for every test (conftest.py)


@pytest.fixture(scope="module")
def pool():
    """One local process pool (2 workers) for the module: the real default executor."""
    svc = jobs.JobService("process", max_workers=2)
    yield svc
    svc.shutdown()


def _cached_masses(method="fake", masses=MASSES, seed=1):
    c = get_cache()
    return [m for i, m in enumerate(masses) if c.get_point(CFG, m, method, 0.01, seed + i) is not None]


def test_identical_concurrent_requests_share_one_computation(pool, tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, sleep=0.05)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    h1 = pool.submit(CFG, masses=MASSES, method="fake")
    h2 = pool.submit(CFG, masses=list(reversed(MASSES)), method="fake")  # same request, other order
    t1, t2 = h1.result(60), h2.result(60)
    assert count_calls(calls) == len(MASSES), "each point computed exactly once"
    assert t1 is t2 and len(t1.points) == len(MASSES) and t1.all_ok
    assert [p.sigma.seed for p in t1.points] == [1 + i for i in range(len(MASSES))]
    # a third request now comes from the cache without any computation
    h3 = pool.submit(CFG, masses=MASSES, method="fake")
    t3 = h3.result(30)
    assert h3.source == "cache" and count_calls(calls) == len(MASSES)
    assert np.array_equal(t3.sigma_pb, t1.sigma_pb)


def test_points_in_cache_are_not_recomputed(pool, tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    first = MASSES[:5]
    pool.submit(CFG, masses=first, method="fake").result(30)
    assert count_calls(calls) == 5
    # same masses at the same indices (seeds 1..5) inside a larger request: only the 7 others run
    h = pool.submit(CFG, masses=MASSES, method="fake")
    t = h.result(30)
    assert count_calls(calls) == len(MASSES)
    assert t.provenance["points_from_cache"] == 5 and t.provenance["points_computed"] == len(MASSES) - 5


def test_cancel_stops_remaining_points_and_keeps_finished(pool, tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, sleep=0.3)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    masses = list(CFG.default_mass_grid(30))
    h = pool.submit(CFG, masses=masses, method="fake")
    landed = threading.Event()
    h.on_point(lambda handle, p: landed.set() if handle.progress[0] >= 3 else None)
    assert landed.wait(30)
    done_cb = []
    h.add_done_callback(lambda handle: done_cb.append(handle.state))
    assert h.cancel()
    assert h.state == "cancelled" and done_cb == ["cancelled"]
    with pytest.raises(CancelledError):
        h.result(1)
    time.sleep(1.0)  # let the points already running in the workers finish
    n_calls = count_calls(calls)
    time.sleep(1.0)
    assert count_calls(calls) == n_calls, "point computations go on after the cancel"
    assert n_calls < 30 - 10, f"{n_calls} point computations after cancel: remaining points were not stopped"
    cached = _cached_masses(masses=masses)
    assert len(cached) >= 3, "finished points are cached"
    assert len(cached) <= n_calls
    # a new request picks up where the cancelled one stopped
    t = pool.submit(CFG, masses=masses, method="fake").result(60)
    assert t.provenance["points_from_cache"] == len(cached)


def test_shared_job_survives_one_cancel(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, sleep=0.05)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    with jobs.JobService("thread", max_workers=2) as svc:
        h1 = svc.submit(CFG, masses=MASSES, method="fake")
        h2 = svc.submit(CFG, masses=MASSES, method="fake")
        h1.cancel()
        assert h1.state == "cancelled"
        t = h2.result(30)
        assert h2.state == "done" and len(t.points) == len(MASSES)
        assert count_calls(calls) == len(MASSES)


def test_worker_exception_reported_cache_untouched(pool, tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, fail_above=0.0)  # every point fails
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    h = pool.submit(CFG, masses=MASSES[:4], method="fake")
    with pytest.raises(jobs.JobError, match="synthetic failure"):
        h.result(30)
    assert h.state == "error"
    assert "synthetic failure" in h.error and "ValueError" in h.error and "GeV" in h.error
    assert len(get_cache()) == 0, "nothing written to the cache"


def test_one_failing_point_fails_the_job_but_never_enters_the_cache(tmp_path, monkeypatch):
    bad_mass = MASSES[6]
    fn, calls = make_fake(tmp_path, fail_above=bad_mass * 0.999)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    with jobs.JobService("inline") as svc:
        h = svc.submit(CFG, masses=MASSES, method="fake")
        with pytest.raises(jobs.JobError):
            h.result(30)
    assert h.state == "error" and f"{bad_mass:.6g}" in h.error
    cached = _cached_masses()
    assert bad_mass not in cached and all(m < bad_mass for m in cached)
    assert len(get_cache()) == len(cached)  # no table entry either


def test_bad_configuration_rejected_before_any_work(pool, tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    n_threads = threading.active_count()
    bad = [
        dict(rel_error=0.0), dict(rel_error=float("nan")), dict(rel_error=2.0),
        dict(seed=-1), dict(seed=1.5),
        dict(masses=[0.01, -0.1]), dict(masses=[0.01, 1e3]), dict(masses=[]), dict(masses=[float("inf")]),
        dict(method="nonsense"),
    ]
    for kw in bad:
        args = {"masses": MASSES[:3], "method": "fake", **kw}
        with pytest.raises(InputError) as exc:
            pool.submit(CFG, **args)
        assert exc.value.parameter in ("rel_error", "seed", "masses", "method")
        assert "allowed" in str(exc.value)
    with pytest.raises(InputError, match="x_max"):
        pool.submit({"beam_energy_gev": 100.0, "target": "Pb", "x_min": 0.5, "x_max": 0.4}, method="fake")
    with pytest.raises(InputError, match="target"):
        pool.submit({"beam_energy_gev": 100.0, "target": "Unobtainium"}, method="fake")
    with pytest.raises(InputError, match="executor"):
        jobs.JobService("no-such-executor")
    with pytest.raises(InputError, match="scheduler"):
        jobs.JobService("tcp://127.0.0.1:9", connect_timeout=1.0)
    assert count_calls(calls) == 0 and len(get_cache()) == 0
    assert pool.active_jobs() == []
    assert threading.active_count() <= n_threads + 1


def test_progress_partial_table_and_callbacks(tmp_path, monkeypatch):
    fn, calls = make_fake(tmp_path, sleep=0.02)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
    seen, progress, partial_sizes, done = [], [], [], []
    with jobs.JobService(ThreadPoolExecutor(2)) as svc:
        h = svc.submit(CFG, masses=MASSES, method="fake")

        def on_point(handle, p):
            seen.append(p.mass_gev)
            progress.append(handle.progress)
            pt = handle.partial_table()
            partial_sizes.append(0 if pt is None else len(pt.points))

        h.on_point(on_point)
        h.add_done_callback(lambda handle: done.append(handle.state))
        t = h.result(30)
    assert sorted(seen) == sorted(t.masses_gev.tolist()) and len(seen) == len(MASSES)
    assert all(tot == len(MASSES) for _, tot in progress)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert partial_sizes == sorted(partial_sizes) and partial_sizes[-1] == len(MASSES)
    assert done == ["done"] and h.progress == (len(MASSES), len(MASSES))
    late = []
    h.add_done_callback(lambda handle: late.append(handle.state))  # already finished → immediately
    assert late == ["done"]
    replay = []
    h.on_point(lambda handle, p: replay.append(p))
    assert len(replay) == len(MASSES)


def test_default_pool_is_lazy_and_reused(tmp_path, monkeypatch):
    svc = jobs.JobService()
    try:
        assert svc._executor is None, "created lazily"
        fn, calls = make_fake(tmp_path)
        monkeypatch.setitem(store.POINT_FUNCTIONS, "fake", fn)
        svc.submit(CFG, masses=MASSES[:2], method="fake").result(60)
        ex = svc._executor
        assert ex is not None and type(ex).__name__ == "ProcessPoolExecutor"
        svc.submit(CFG, masses=MASSES[2:4], method="fake").result(60)
        assert svc._executor is ex
        assert svc.n_workers == (__import__("os").cpu_count() or 1)
    finally:
        svc.shutdown()


def test_dask_local_cluster():
    import distributed  # a hard dependency (pyproject.toml): Dask scale-out must be tested
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        svc = jobs.JobService(cluster.scheduler_address)
        try:
            assert svc.n_workers == 2 and svc.describe().startswith("dask")
            masses = MASSES[:8]
            h = svc.submit(CFG, masses=masses, method="iww")
            t = h.result(60)
            assert h.state == "done" and t.provenance["executor"].startswith("dask")
            for p, m in zip(t.points, masses):
                assert p.mass_gev == pytest.approx(m, rel=1e-11)
                assert p.sigma.mean == iww_point(CFG, p.mass_gev).sigma.mean  # same function, remote
            assert all(p.sigma.settings["executor"].startswith("dask ") for p in t.points)
            # cached in the cluster's own namespace: served to jobs on this cluster, never to local runs
            ns = svc.cache_namespace
            assert ns == f"dask {cluster.scheduler_address}" and t.provenance["cache_namespace"] == ns
            c = get_cache()
            assert all(c.get_point(CFG, m, "iww", None, None, namespace=ns) is not None for m in masses)
            assert all(c.get_point(CFG, m, "iww", None, None) is None for m in masses)
            h2 = svc.submit(CFG, masses=masses, method="iww")
            assert h2.result(60) is not None and h2.source == "cache"
            h3 = jobs.inline_service().submit(CFG, masses=masses, method="iww")  # a local run recomputes
            assert h3.result(60).provenance["points_computed"] == len(masses) and h3.source == "compute"
        finally:
            svc.shutdown()


_OWNER = """
import sys
sys.path.insert(0, {root!r})
from physics.service import jobs
from physics.xsec.sigma_v import SigmaVConfig

if __name__ == "__main__":
    cfg = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.5)
    svc = jobs.JobService("process", max_workers=2)
    svc.submit(cfg, masses=cfg.default_mass_grid(4), method="iww").result(60)
    print("ready", flush=True)
    sys.stdin.read()
"""


def _session_processes(sid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:  # field 6 of /proc/pid/stat: session id
                out.append(int(d))
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_pool_workers_exit_when_owner_is_killed(tmp_path, cache_dir):
    script = tmp_path / "owner.py"
    script.write_text(_OWNER.format(root=str(Path(__file__).resolve().parents[3])))
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, start_new_session=True, env={**os.environ, "DAP_CACHE_DIR": str(cache_dir)})
    try:
        assert proc.stdout.readline().strip() == "ready"
        others = [p for p in _session_processes(proc.pid) if p != proc.pid]
        assert len(others) >= 3, "forkserver and two workers expected"
        os.kill(proc.pid, signal.SIGKILL)  # only the owner
        proc.wait(10)
        deadline = time.time() + 10
        while _session_processes(proc.pid) and time.time() < deadline:
            time.sleep(0.2)
        assert _session_processes(proc.pid) == [], "orphaned pool processes left behind"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.stdout.close()
        proc.stdin.close()


def test_silent_scheduler_gives_a_one_line_error_within_the_deadline():
    """A peer that accepts the TCP connection and never answers used to hang ``JobService(address)`` (and
    so ``--scheduler``) forever: distributed's own timeout does not cover it."""
    import socket
    import time as _time

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    try:
        t0 = _time.monotonic()
        with pytest.raises(InputError, match="scheduler") as exc:
            jobs.JobService(f"tcp://127.0.0.1:{port}", connect_timeout=1.0)
        assert _time.monotonic() - t0 < 10.0
        assert "\n" not in str(exc.value)
    finally:
        srv.close()


def test_sigma_config_refuses_beam_energies_outside_the_tested_range():
    from physics.xsec.sigma_v import SigmaVConfig

    for e0 in (1e30, 0.5, float("inf")):
        with pytest.raises(InputError, match="beam_energy_gev"):
            SigmaVConfig(beam_energy_gev=e0, target="Pb")
