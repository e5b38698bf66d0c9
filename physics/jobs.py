"""Background σ_V table computation: a job service over a local process pool or a Dask cluster.

    service = JobService()                       # local ProcessPoolExecutor, os.cpu_count() workers (lazy)
    service = JobService("tcp://host:8786")      # Dask: distributed.Client(address).get_executor()
    h = service.submit(config, masses=None, method="etl", rel_error=0.01, seed=1)
    h.state            # "pending" | "running" | "done" | "cancelled" | "error"
    h.progress         # (done, total) — points available, including those found in the cache
    h.partial_table()  # SigmaVTable of the points landed so far (None before the first)
    h.on_point(lambda handle, point: ...); h.add_done_callback(lambda handle: ...)
    h.result(timeout)  # SigmaVTable; raises JobError (h.error holds the message) or CancelledError
    h.cancel()

Semantics:

* Input is validated in ``submit`` (``physics.errors.InputError``) before anything starts.
* Lookup is the store's: a shipped precomputed table or a complete cached table finishes the job at once;
  otherwise only the points missing from the cache are computed. Each valid point is written to the cache
  the moment it lands (so a cancel or crash keeps what was done); points that missed the precision are
  kept in the table (flagged) but never cached. A complete table is cached as a whole at the end.
* Identical concurrent requests (same configuration, method, precision, seed and masses) share one
  computation; every ``submit`` gets its own handle, and the computation is cancelled only when every
  handle sharing it has been cancelled.
* A point function that raises puts the job in state "error" with the message (the failed point is not
  cached; the remaining points are cancelled). A point that finishes after a cancel is still cached.
* Callbacks run in the service's coordinator thread (or the caller's thread if the job is already
  finished): a GUI should marshal them to its own thread. Exceptions in callbacks are logged, not raised.
* Point functions are top-level, picklable callables: ``POINT_FUNCTIONS`` maps a method to
  ``"module:function"`` (or a callable). Point i of a request (masses ascending) uses ``seed + i``.

Executors: ``None``/"process" — a ``ProcessPoolExecutor`` (start method "forkserver" where available, so a
threaded host such as the dashboard is never forked; env ``DAP_MP_START`` overrides), created on first
use and reused; "thread" — a ``ThreadPoolExecutor``; "inline" — run in the coordinator thread; a Dask
scheduler address (``tcp://…``, ``tls://…``, ``inproc://…``) or a ``distributed.Client`` — the client's
standard ``concurrent.futures`` executor (connection checked in the constructor: an unreachable scheduler
is an InputError; ``connect_timeout`` seconds); or any ``concurrent.futures.Executor`` instance.
``max_workers`` sizes the local pools (default ``os.cpu_count()``); pool workers exit by themselves when
the owning process dies (even by SIGKILL), so no orphans keep computing. As with any multiprocessing pool that
does not fork, a *script* using the process pool needs the ``if __name__ == "__main__":`` guard (the
workers import the main module); ``python -m physics``, pytest and ``panel serve`` are fine.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import importlib
import itertools
import logging
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import CancelledError
from typing import Callable

from . import errors
from . import store as _store
from .cache import get_cache, table_key, validate_point
from .sigma_table import SigmaVConfig, SigmaVPoint, SigmaVTable

log = logging.getLogger("physics.jobs")

#: method -> "module:function" or a top-level callable. Non-exact methods are called as
#: fn(config, mass_gev, rel_error=..., seed=...); exact ones ("iww") as fn(config, mass_gev).
POINT_FUNCTIONS: dict[str, str | Callable] = {
    "etl": "physics.etl:sigma_v_point",
    "iww": "physics.iww:iww_point",
}

STATES = ("pending", "running", "done", "cancelled", "error")
_DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


class JobError(RuntimeError):
    """The computation failed (message in ``JobHandle.error``)."""


def point_function(method: str) -> Callable:
    """Resolve the point function of ``method`` (imports lazily)."""
    errors.one_of("method", method, tuple(POINT_FUNCTIONS))
    fn = POINT_FUNCTIONS[method]
    if isinstance(fn, str):
        mod, _, name = fn.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError) as exc:
            raise errors.InputError("method", f"a method whose engine is installed ({fn})", method,
                                    str(exc)) from None
    return fn


def compute_point(fn: Callable, config: SigmaVConfig, mass_gev: float, exact: bool, rel_error: float,
                  seed: int) -> SigmaVPoint:
    """Run one point (in a worker). Top-level so that it pickles by reference."""
    if exact:
        return fn(config, mass_gev)
    return fn(config, mass_gev, rel_error=rel_error, seed=seed)


def _watch_owner(owner_pid: int, interval: float = 1.0) -> None:
    """Worker initializer: exit when the process that owns the pool is gone (e.g. killed with SIGKILL), so
    no orphaned workers are left behind computing for nobody."""

    def watch():
        while True:
            time.sleep(interval)
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # pragma: no cover - pid reused by another user: owner is gone
                os._exit(0)

    threading.Thread(target=watch, name="dap-owner-watch", daemon=True).start()


class InlineExecutor(cf.Executor):
    """Runs each task immediately in the submitting thread (cheap analytic points, tests)."""

    def submit(self, fn, /, *args, **kwargs):
        f = cf.Future()
        if f.set_running_or_notify_cancel():
            try:
                f.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # reported through the future
                f.set_exception(exc)
        return f


# ------------------------------------------------------------------------------------------- jobs
class _Job:
    """One computation shared by the handles of identical requests."""

    _ids = itertools.count(1)

    def __init__(self, service: "JobService", req: _store.TableRequest, key: str, use_precomputed: bool,
                 use_cache: bool, extra_provenance: dict | None):
        self.id = next(self._ids)
        self.service = service
        self.req = req
        self.key = key
        self.use_precomputed = use_precomputed
        self.use_cache = use_cache
        self.extra_provenance = dict(extra_provenance or {})
        self.lock = threading.RLock()
        self.state = "pending"
        self.error = ""
        self.source = ""
        self.masses: list[float] | None = None
        self.points: dict[int, SigmaVPoint] = {}
        self.n_cached = 0          # points found in the cache
        self.n_computed = 0        # points computed by this job
        self.table: SigmaVTable | None = None
        self.finished = threading.Event()
        self.cancel_requested = threading.Event()
        self.handles: list[JobHandle] = []
        self.t_start = time.perf_counter()
        self.wall_s = 0.0

    # -- state helpers -------------------------------------------------------------------------
    def _live_handles(self):
        with self.lock:
            return [h for h in self.handles if not h._cancelled]

    def _emit_point(self, point):
        for h in self._live_handles():
            h._fire_point(point)

    def _finish(self, state: str, error: str = ""):
        with self.lock:
            if self.finished.is_set():
                return
            self.state = state
            self.error = error
            self.wall_s = time.perf_counter() - self.t_start
            self.finished.set()
            handles = list(self.handles)
        self.service._forget(self)
        for h in handles:
            h._fire_done()

    def request_cancel_if_orphaned(self):
        if not self._live_handles():
            self.cancel_requested.set()

    # -- the coordinator -------------------------------------------------------------------------
    def run(self):
        try:
            self._run()
        except errors.InputError as exc:
            self._finish("error", str(exc))
        except Exception as exc:  # never leave a job hanging
            log.exception("job %s failed", self.id)
            self._finish("error", f"{type(exc).__name__}: {exc}")

    def _run(self):
        req = self.req
        if self.cancel_requested.is_set():
            self._finish("cancelled")
            return
        source, table, masses, have = _store.lookup(req, use_precomputed=self.use_precomputed,
                                                    use_cache=self.use_cache)
        with self.lock:
            self.masses = list(masses)
            if table is not None:
                self.points = dict(enumerate(table.points))
            else:
                self.points = dict(have)
            self.n_cached = len(self.points)
            self.source = source
        if table is not None:
            self.table = table
            self._finish("done")
            return
        for i in sorted(have):
            self._emit_point(have[i])
        self._compute(masses)

    def _compute(self, masses):
        req = self.req
        exact = req.exact
        fn = point_function(req.method)
        seeds = req.seeds(masses)
        rel = None if exact else req.rel_error
        cache = get_cache()
        todo = collections.deque(i for i in range(len(masses)) if i not in self.points)
        with self.lock:
            self.state = "running"
        if not todo:
            self._complete(masses)
            return
        executor = self.service.executor  # may raise InputError (e.g. unreachable scheduler)
        window = max(2, 2 * self.service.n_workers)
        inflight: dict[cf.Future, int] = {}

        def late_writer(i):
            def cb(f):
                if not f.cancelled() and f.exception() is None:
                    p = f.result()
                    if isinstance(p, SigmaVPoint) and not validate_point(req.config, p, masses[i]):
                        try:
                            cache.put_point(req.config, p, req.method, rel, None if exact else seeds[i])
                        except Exception:  # pragma: no cover
                            log.warning("could not cache a late point", exc_info=True)
            return cb

        def stop_inflight():
            for f, i in inflight.items():
                if not f.cancel():
                    f.add_done_callback(late_writer(i))
            inflight.clear()

        while todo or inflight:
            if self.cancel_requested.is_set():
                stop_inflight()
                self._finish("cancelled")
                return
            try:
                while todo and len(inflight) < window:
                    i = todo[0]
                    f = executor.submit(compute_point, fn, req.config, masses[i], exact, rel,
                                        None if exact else seeds[i])
                    todo.popleft()
                    inflight[f] = i
            except Exception as exc:
                stop_inflight()
                self.service._executor_failed(exc)
                self._finish("error", f"could not submit work: {type(exc).__name__}: {exc}")
                return
            done, _ = cf.wait(list(inflight), timeout=0.1, return_when=cf.FIRST_COMPLETED)
            for f in sorted(done, key=lambda f: inflight[f]):
                i = inflight.pop(f)
                if f.cancelled():
                    continue
                exc = f.exception()
                if exc is None:
                    p = f.result()
                    if not isinstance(p, SigmaVPoint):
                        exc = TypeError(f"point function returned {type(p).__name__}, not SigmaVPoint")
                    elif validate_point(req.config, p, masses[i]).startswith("mass"):
                        exc = ValueError(validate_point(req.config, p, masses[i]))
                if exc is not None:
                    stop_inflight()
                    if isinstance(exc, cf.process.BrokenProcessPool):
                        self.service._executor_failed(exc)
                    self._finish("error", f"point M = {masses[i]:.6g} GeV failed: {type(exc).__name__}: {exc}")
                    return
                if not validate_point(req.config, p, masses[i]):
                    try:
                        cache.put_point(req.config, p, req.method, rel, None if exact else seeds[i])
                    except Exception:  # a full disk must not lose the computed point
                        log.warning("could not cache σ_V point M = %g GeV", masses[i], exc_info=True)
                with self.lock:
                    self.points[i] = p
                    self.n_computed += 1
                self._emit_point(p)
        self._complete(masses)

    def _complete(self, masses):
        req = self.req
        pts = [self.points[i] for i in range(len(masses))]
        extra = {**self.extra_provenance, "wall_time_s": round(time.perf_counter() - self.t_start, 3),
                 "points_from_cache": self.n_cached, "points_computed": self.n_computed,
                 "executor": self.service.describe()}
        table = _store.assemble(req, masses, pts, source="compute", extra=extra)
        rel = None if req.exact else req.rel_error
        if table.all_ok:
            try:
                get_cache().put_table(table, req.method, rel, None if req.exact else req.seed)
            except Exception:
                log.warning("could not cache σ_V table", exc_info=True)
        else:
            log.warning("σ_V job %s: %d point(s) missed the requested precision (kept, flagged, not cached)",
                        self.id, len(table.provenance.get("incomplete_points_gev", [])))
        self.table = table
        self._finish("done")


class JobHandle:
    """A caller's view of a (possibly shared) computation."""

    def __init__(self, job: _Job):
        self._job = job
        self._cancelled = False
        self._point_cbs: list[Callable] = []
        self._done_cbs: list[Callable] = []
        self._delivered: set[float] = set()   # masses already passed to on_point callbacks
        self._lock = threading.Lock()

    # -- status ----------------------------------------------------------------------------------
    @property
    def id(self) -> int:
        return self._job.id

    @property
    def request(self) -> _store.TableRequest:
        return self._job.req

    @property
    def config(self) -> SigmaVConfig:
        return self._job.req.config

    @property
    def state(self) -> str:
        return "cancelled" if self._cancelled else self._job.state

    @property
    def error(self) -> str:
        return self._job.error

    @property
    def source(self) -> str:
        """"precomputed", "cache" or "compute" (empty until the lookup ran)."""
        return self._job.source

    @property
    def finished(self) -> bool:
        return self._cancelled or self._job.finished.is_set()

    def done(self) -> bool:
        return self.finished

    @property
    def progress(self) -> tuple[int, int]:
        """(points available, total points); (0, 0) before the mass grid is known."""
        j = self._job
        with j.lock:
            return len(j.points), (len(j.masses) if j.masses is not None else 0)

    @property
    def masses(self) -> list[float] | None:
        return None if self._job.masses is None else list(self._job.masses)

    def partial_table(self) -> SigmaVTable | None:
        """Table of the points available so far (sorted by mass), or None if there are none yet."""
        j = self._job
        with j.lock:
            if j.table is not None:
                return j.table
            pts = [j.points[i] for i in sorted(j.points)]
        if not pts:
            return None
        return SigmaVTable(config=j.req.config, points=pts,
                           provenance={"method": j.req.method, "partial": True,
                                       "n_points": len(pts), "n_total": len(j.masses or ())})

    partial = partial_table

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until finished; True if it is."""
        if self._cancelled:
            return True
        return self._job.finished.wait(timeout)

    def result(self, timeout: float | None = None) -> SigmaVTable:
        if self._cancelled:
            raise CancelledError("job cancelled")
        if not self._job.finished.wait(timeout):
            raise TimeoutError(f"σ_V job {self.id} not finished after {timeout} s "
                               f"({self.progress[0]}/{self.progress[1]} points)")
        st = self.state
        if st == "done":
            return self._job.table
        if st == "cancelled":
            raise CancelledError("job cancelled")
        raise JobError(self._job.error)

    # -- control ---------------------------------------------------------------------------------
    def cancel(self) -> bool:
        """Stop this handle; the computation stops when no other handle shares it. Points that are done
        stay cached. Returns False if the job had already finished."""
        if self._job.finished.is_set() or self._cancelled:
            return False
        with self._job.lock:
            self._cancelled = True
        self._job.request_cancel_if_orphaned()
        self._fire_done()
        return True

    # -- callbacks -------------------------------------------------------------------------------
    def on_point(self, fn: Callable) -> None:
        """fn(handle, point) for every point as it lands (points already available are replayed now)."""
        with self._job.lock:
            have = [self._job.points[i] for i in sorted(self._job.points)]
            with self._lock:
                self._point_cbs.append(fn)
                self._delivered.update(p.mass_gev for p in have)
        for p in have:
            self._call(fn, p)

    def add_done_callback(self, fn: Callable) -> None:
        """fn(handle) when the job is done, cancelled or failed (immediately if it already is)."""
        with self._lock:
            if not self.finished:
                self._done_cbs.append(fn)
                return
        self._call(fn)

    def _fire_point(self, point):
        with self._lock:
            if point.mass_gev in self._delivered:
                return
            self._delivered.add(point.mass_gev)
            cbs = list(self._point_cbs)
        for fn in cbs:
            self._call(fn, point)

    def _fire_done(self):
        with self._lock:
            cbs, self._done_cbs = self._done_cbs, []
        for fn in cbs:
            self._call(fn)

    def _call(self, fn, *args):
        try:
            fn(self, *args)
        except Exception:
            log.exception("σ_V job callback %r failed", fn)

    def __repr__(self):
        d, t = self.progress
        return f"<JobHandle {self.id} {self.state} {d}/{t} {self.config}>"


# ---------------------------------------------------------------------------------------- service
class JobService:
    """Runs σ_V table jobs on a local process pool (default) or a Dask cluster. Thread-safe."""

    def __init__(self, executor=None, max_workers: int | None = None, connect_timeout: float = 10.0):
        self._spec = executor
        self._connect_timeout = float(connect_timeout)
        self._max_workers = None if max_workers is None else int(errors.in_range(
            "workers", max_workers, 1, 4096))
        self._executor: cf.Executor | None = None
        self._owned = True
        self._client = None
        self._lock = threading.RLock()
        self._active: dict[str, _Job] = {}
        self._kind = self._parse(executor)
        if self._kind == "dask":
            self._connect()

    # -- executors -------------------------------------------------------------------------------
    def _parse(self, spec) -> str:
        if spec is None or spec == "process":
            return "process"
        if spec in ("thread", "inline"):
            return spec
        if isinstance(spec, cf.Executor):
            self._executor, self._owned = spec, False
            return "external"
        try:
            import distributed
        except ImportError:  # pragma: no cover
            distributed = None
        if distributed is not None and isinstance(spec, distributed.Client):
            return "dask"
        if isinstance(spec, str) and spec.startswith(_DASK_SCHEMES):
            return "dask"
        raise errors.InputError("executor", "None, 'process', 'thread', 'inline', a Dask scheduler address "
                                "(tcp://host:port) or a concurrent.futures.Executor", spec)

    def _connect(self):
        import distributed

        if isinstance(self._spec, distributed.Client):
            self._client, self._owned = self._spec, False
        else:
            try:
                self._client = distributed.Client(self._spec, timeout=self._connect_timeout, set_as_default=False)
            except Exception as exc:
                raise errors.InputError("scheduler", "a reachable Dask scheduler address, e.g. tcp://host:8786",
                                        self._spec, f"{type(exc).__name__}: {exc}") from None
        self._executor = self._client.get_executor()

    @property
    def executor(self) -> cf.Executor:
        with self._lock:
            if self._executor is None:
                if self._kind == "process":
                    method = os.environ.get("DAP_MP_START") or (
                        "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
                    ctx = mp.get_context(method)
                    if method == "forkserver":
                        ctx.set_forkserver_preload(["physics.sigma_table", "physics.iww", "physics.etl"])
                    self._executor = cf.ProcessPoolExecutor(max_workers=self.n_workers, mp_context=ctx,
                                                            initializer=_watch_owner, initargs=(os.getpid(),))
                elif self._kind == "thread":
                    self._executor = cf.ThreadPoolExecutor(max_workers=self.n_workers,
                                                           thread_name_prefix="dap-point")
                elif self._kind == "inline":
                    self._executor = InlineExecutor()
                elif self._kind == "dask":
                    self._connect()
            return self._executor

    @property
    def n_workers(self) -> int:
        if self._kind == "dask" and self._client is not None:
            try:
                return max(1, sum(self._client.nthreads().values()))
            except Exception:
                return 1
        if self._kind == "inline":
            return 1
        if self._kind == "external":
            return max(1, int(getattr(self._executor, "_max_workers", 0) or os.cpu_count() or 1))
        return self._max_workers or os.cpu_count() or 1

    def describe(self) -> str:
        if self._kind == "dask":
            addr = getattr(getattr(self._client, "scheduler", None), "address", self._spec)
            return f"dask {addr} ({self.n_workers} threads)"
        if self._kind == "external":
            return f"{type(self._executor).__name__}"
        if self._kind == "inline":
            return "inline"
        return f"local {self._kind} pool ({self.n_workers} workers)"

    def _executor_failed(self, exc):
        """A broken local pool is dropped so the next job gets a fresh one."""
        if self._kind in ("process", "thread") and isinstance(exc, (cf.process.BrokenProcessPool, RuntimeError)):
            with self._lock:
                ex, self._executor = self._executor, None
            if ex is not None:
                ex.shutdown(wait=False, cancel_futures=True)

    # -- jobs ------------------------------------------------------------------------------------
    def submit(self, config, masses=None, method: str = "etl", rel_error: float = 0.01, seed: int = 1, *,
               use_precomputed: bool = True, use_cache: bool = True,
               provenance: dict | None = None) -> JobHandle:
        """Start (or join) the computation of a σ_V table; returns at once. InputError on bad input.

        use_precomputed/use_cache=False force a fresh computation (the cache is still written).
        provenance: extra provenance entries for the resulting table.
        """
        req = _store.make_request(config, method, rel_error, seed, masses)
        return self.submit_request(req, use_precomputed=use_precomputed, use_cache=use_cache,
                                   provenance=provenance)

    def submit_request(self, req: _store.TableRequest, *, use_precomputed: bool = True, use_cache: bool = True,
                       provenance: dict | None = None) -> JobHandle:
        point_function(req.method)  # the engine must import before any work starts
        rel = None if req.exact else req.rel_error
        masses_key = "auto" if req.masses is None else table_key(req.config, req.masses, req.method, rel,
                                                                  None if req.exact else req.seed)
        key = req.config.key(extra={"kind": "job", "masses": masses_key, "method": req.method, "rel_error": rel,
                                    "seed": None if req.exact else req.seed,
                                    "use_precomputed": use_precomputed, "use_cache": use_cache})
        with self._lock:
            job = self._active.get(key)
            if job is not None and not job.finished.is_set() and not job.cancel_requested.is_set():
                h = JobHandle(job)
                with job.lock:
                    job.handles.append(h)
                return h
            job = _Job(self, req, key, use_precomputed, use_cache, provenance)
            h = JobHandle(job)
            job.handles.append(h)
            self._active[key] = job
        t = threading.Thread(target=job.run, name=f"dap-job-{job.id}", daemon=True)
        t.start()
        return h

    def _forget(self, job: _Job):
        with self._lock:
            if self._active.get(job.key) is job:
                del self._active[job.key]

    def active_jobs(self) -> list[_Job]:
        with self._lock:
            return list(self._active.values())

    def shutdown(self, wait: bool = True, cancel: bool = True) -> None:
        """Cancel running jobs (if ``cancel``) and release owned executors/clients."""
        if cancel:
            for j in self.active_jobs():
                j.cancel_requested.set()
        if wait:
            for j in self.active_jobs():
                j.finished.wait(30)
        with self._lock:
            ex, self._executor = self._executor, None
            client, self._client = self._client, None
        if self._owned:
            if ex is not None and self._kind != "dask":
                ex.shutdown(wait=wait, cancel_futures=True)
            if client is not None:
                client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()


_default: JobService | None = None
_inline: JobService | None = None
_default_lock = threading.Lock()


def default_service() -> JobService:
    """Process-wide service with the local process pool (created lazily, reused)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JobService()
        return _default


def inline_service() -> JobService:
    """Process-wide service that computes in the coordinator thread (cheap analytic methods)."""
    global _inline
    with _default_lock:
        if _inline is None:
            _inline = JobService("inline")
        return _inline


__all__ = ["JobService", "JobHandle", "JobError", "POINT_FUNCTIONS", "point_function", "compute_point",
           "InlineExecutor", "default_service", "inline_service", "CancelledError"]
