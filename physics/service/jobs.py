"""Background σ_V table computation: a job service over a local process pool or a Dask cluster.

Public API::

    service = JobService()                       # local ProcessPoolExecutor, os.cpu_count() workers (lazy)
    service = JobService("tcp://host:8786")      # Dask: distributed.Client(address).get_executor()
    service = JobService(max_running=2, max_queued=8)   # at most 2 computations at once, 8 waiting
    h = service.submit(config, masses=None, method="etl", rel_error=0.01, seed=1)
    h.state            # "pending" | "running" | "done" | "cancelled" | "error"
    h.queue_position   # 1, 2, … while waiting for a computation slot (max_running), else None
    h.progress         # (done, total) — points available, including those found in the cache
    h.partial_table()  # SigmaVTable of the points landed so far (None before the first)
    h.on_point(lambda handle, point: ...); h.add_done_callback(lambda handle: ...)
    h.result(timeout)  # SigmaVTable; raises JobError (h.error holds the message) or CancelledError
    h.cancel()
    service.describe()         # "local process pool (2 workers)", "dask tcp://host:8786 (8 threads)", …
    service.cache_namespace    # None for local executors, else the cache namespace of this executor
    service.stats()            # {"running", "queued", "open", "max_running", "max_queued"}
    service.set_limits(max_running=…, max_queued=…)

Semantics:

* Input is validated in ``submit``/``submit_request`` (``physics.errors.InputError``) before anything
  starts; at most ``physics.service.store.MAX_MASSES`` (1000) masses per request.
* Lookup is the store's: a shipped precomputed table or a complete cached table finishes the job at once;
  otherwise only the points missing from the cache are computed. Each valid point is written to the cache
  the moment it lands (so a cancel or crash keeps what was done); points that missed the precision are
  kept in the table (flagged) but never cached. A complete table is cached as a whole at the end.
* **Every point from the executor is checked before it is accepted or cached** (whatever the executor):
  it is rebuilt from its JSON form (no foreign object survives) and must pass
  :func:`physics.service.cache.point_problem` for the requested configuration, mass, method, precision and seed
  (finite σ ≥ 0 and error ≥ 0, 0 ≤ Q ≤ 1, χ²/dof ≥ 0, error consistent with the claimed convergence,
  matching VEGAS settings and seed, ``n_x_bins`` finite dσ/dx bins integrating to σ within the errors). A
  rejected point fails the job ("… rejected: <reason>"); nothing of it is cached, nor are the points of
  that executor still in flight.
* **Provenance**: every computed point records its executor in ``point.sigma.settings["executor"]``; a
  table records ``"executor"`` (this job's) and ``"point_executors"`` (count of points per executor).
* **Cache namespaces**: points and tables computed on an executor that is not a local pool of this
  machine (a Dask cluster; any caller-supplied executor other than a plain ``ProcessPoolExecutor``,
  ``ThreadPoolExecutor`` or :class:`InlineExecutor`) are cached under ``cache_namespace`` (e.g.
  ``"dask tcp://host:8786"``): served to later jobs on that same executor only, never to local runs (the
  CLI, other services). Jobs on such an executor still use the local (trusted) cache entries.
* **Fair sharing**: with ``max_running`` set, at most that many jobs compute at once; the others wait
  (state "pending", ``queue_position`` 1, 2, …) in submission order. Jobs served from the precomputed
  tables or the cache never wait. With ``max_queued`` set as well, a new computation is refused with
  :class:`QueueFullError` (a JobError) when ``max_running + max_queued`` jobs are already open. Both are
  None (unbounded) by default.
* Identical concurrent requests (same configuration, method, precision, seed and masses) share one
  computation; every ``submit`` gets its own handle, and the computation is cancelled only when every
  handle sharing it has been cancelled.
* A point function that raises puts the job in state "error" with a one-line message (the failed point
  is not cached; the remaining points are cancelled). In a worker the exception is turned into a
  :class:`WorkerError` (always picklable), so an exception that cannot cross processes never breaks the
  pool. A pool that breaks anyway (a worker died) fails the jobs using it with one line and is replaced
  by a fresh pool for the next job. A point that finishes after a cancel is still checked and cached.
* Points are computed in the worker with the configuration's material as resolved by the submitting
  process (a material defined only there — e.g. by an experiment file — is sent along and registered in
  the worker), so the worker computes exactly what the cache key describes.
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
import dataclasses
import itertools
import logging
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import CancelledError
from typing import Callable

from physics import errors
from physics.service import store as _store
from physics.service.store import POINT_FUNCTIONS, point_function
from physics.service.cache import get_cache, point_problem, sanitize_point, table_key
from physics.xsec.methods import DEFAULT_METHOD
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint, SigmaVTable

log = logging.getLogger("physics.service.jobs")

STATES = ("pending", "running", "done", "cancelled", "error")
#: Largest local pool (workers); more would only queue processes on the machine's cores.
MAX_WORKERS = max(64, os.cpu_count() or 1)
_DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


class JobError(RuntimeError):
    """The computation failed (message in ``JobHandle.error``)."""


class QueueFullError(JobError):
    """The service already has ``max_running + max_queued`` open jobs: try again later."""


class WorkerError(Exception):
    """An exception raised by a point function in a worker, carried back as text (always picklable).

    ``kind``: the original exception's class name; ``message``: its message on one line."""

    def __init__(self, kind: str, message: str):
        super().__init__(kind, message)
        self.kind = str(kind)
        self.message = str(message)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def _one_line(text, limit: int = 300) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit - 1] + "…"


def material_spec(config: SigmaVConfig) -> dict:
    """The material of ``config`` as resolved here (sent to workers with every point)."""
    from physics.model.materials import get_material

    return get_material(config.target).to_dict()


def _ensure_material(target: str, spec: dict) -> None:
    """Make ``target`` resolve to the material ``spec`` in this (worker) process: a material known only to
    the submitting process (e.g. defined by an experiment file) is registered; a different definition under
    that name is an InputError (the worker would compute something else than the cache key says)."""
    from physics.model import materials

    try:
        have = materials.get_material(target).to_dict()
    except errors.InputError:
        have = None
    if have == spec:
        return
    if have is None:
        m = materials.Material(**spec)
        register = getattr(materials, "register_materials", None)
        if register is not None:
            register({m.name: m})
        else:  # pragma: no cover - older materials module
            materials._user_materials[m.name] = m
        try:
            have = materials.get_material(target).to_dict()
        except errors.InputError:
            have = None
    if have != spec:
        raise errors.InputError("target", "a material defined the same way in the worker", target,
                                "the worker resolves this name to a different material")


def compute_point(fn: Callable, config: SigmaVConfig, mass_gev: float, analytic: bool, rel_error: float,
                  seed: int, material: dict | None = None) -> SigmaVPoint:
    """Run one point (in a worker). Top-level so that it pickles by reference.

    ``material``: the config's material as resolved by the submitting process (see :func:`material_spec`).
    Any exception is re-raised as a :class:`WorkerError` (plain text: it always pickles, so no exception
    can break a process pool by failing to cross processes)."""
    try:
        if material is not None:
            _ensure_material(config.target, material)
        if analytic:
            return fn(config, mass_gev)
        return fn(config, mass_gev, rel_error=rel_error, seed=seed)
    except Exception as exc:
        try:
            msg = _one_line(exc)
        except Exception:  # an exception whose __str__ fails
            msg = "(message unavailable)"
        raise WorkerError(type(exc).__name__, msg) from None


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


def _check_workers(n) -> int:
    if isinstance(n, bool) or (isinstance(n, float) and not n.is_integer()):
        raise errors.InputError("workers", f"an integer in [1, {MAX_WORKERS}]", n)
    return int(errors.in_range("workers", n, 1, MAX_WORKERS))


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
        self.namespace = service.cache_namespace
        self.executor_desc = ""

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
                                                    use_cache=self.use_cache, namespace=self.namespace)
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
        if len(self.points) < len(masses):
            if not self.service._acquire_slot(self):
                self._finish("cancelled")
                return
            with self.lock:
                self.state = "running"
            try:
                self._compute(masses)
            finally:
                self.service._release_slot()
        else:
            self._complete(masses)

    def _accept(self, raw, i: int, masses, seeds) -> tuple[SigmaVPoint | None, str]:
        """(point, "") if ``raw`` from the executor is an acceptable result for point i (rebuilt as plain
        data and stamped with the executor), else (None, reason)."""
        req = self.req
        try:
            p = sanitize_point(raw)
        except ValueError as exc:
            return None, str(exc)
        why = point_problem(req.config, p, masses[i], method=req.method,
                            rel_error=None if req.analytic else req.rel_error,
                            seed=None if req.analytic else seeds[i])
        if why:
            return None, why
        sigma = dataclasses.replace(p.sigma, settings={**p.sigma.settings, "executor": self.executor_desc})
        return dataclasses.replace(p, sigma=sigma), ""

    def _compute(self, masses):
        req = self.req
        analytic = req.analytic
        fn = point_function(req.method)
        seeds = req.seeds(masses)
        rel = None if analytic else req.rel_error
        ns = self.namespace
        cache = get_cache()
        material = material_spec(req.config)
        todo = collections.deque(i for i in range(len(masses)) if i not in self.points)
        with self.lock:
            self.state = "running"
        executor = self.service.executor  # may raise InputError (e.g. unreachable scheduler)
        self.executor_desc = self.service.describe()
        window = max(2, 2 * self.service.n_workers)
        inflight: dict[cf.Future, int] = {}

        def late_writer(i):
            def cb(f):
                if f.cancelled() or f.exception() is not None:
                    return
                p, why = self._accept(f.result(), i, masses, seeds)
                if p is None:
                    log.warning("late σ_V point M = %g GeV rejected: %s", masses[i], why)
                    return
                try:
                    cache.put_point(req.config, p, req.method, rel, None if analytic else seeds[i], namespace=ns)
                except Exception:  # pragma: no cover
                    log.warning("could not cache a late point", exc_info=True)
            return cb

        def stop_inflight(keep_late: bool = True):
            for f, i in inflight.items():
                if not f.cancel() and keep_late:
                    f.add_done_callback(late_writer(i))
            inflight.clear()

        def fail(i, what: str, exc=None, keep_late: bool = True):
            stop_inflight(keep_late)
            if isinstance(exc, cf.BrokenExecutor):
                self.service._executor_failed(exc, executor)
            self._finish("error", _one_line(f"point M = {masses[i]:.6g} GeV {what}", 400))

        while todo or inflight:
            if self.cancel_requested.is_set():
                stop_inflight()
                self._finish("cancelled")
                return
            try:
                while todo and len(inflight) < window:
                    i = todo[0]
                    f = executor.submit(compute_point, fn, req.config, masses[i], analytic, rel,
                                        None if analytic else seeds[i], material)
                    todo.popleft()
                    inflight[f] = i
            except Exception as exc:
                stop_inflight()
                self.service._executor_failed(exc, executor)
                self._finish("error", _one_line(f"could not submit work to {self.executor_desc}: "
                                                f"{_describe_exc(exc)}", 400))
                return
            done, _ = cf.wait(list(inflight), timeout=0.1, return_when=cf.FIRST_COMPLETED)
            for f in sorted(done, key=lambda f: inflight[f]):
                i = inflight.pop(f)
                if f.cancelled():
                    continue
                exc = f.exception()
                if exc is not None:
                    fail(i, f"failed: {_describe_exc(exc)}", exc)
                    return
                p, why = self._accept(f.result(), i, masses, seeds)
                if p is None:
                    fail(i, f"from {self.executor_desc} rejected: {why}", keep_late=False)
                    return
                if p.sigma.ok:
                    try:
                        cache.put_point(req.config, p, req.method, rel, None if analytic else seeds[i], namespace=ns)
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
        per_executor = collections.Counter(str(p.sigma.settings.get("executor", "unrecorded")) for p in pts)
        extra = {**self.extra_provenance, "wall_time_s": round(time.perf_counter() - self.t_start, 3),
                 "points_from_cache": self.n_cached, "points_computed": self.n_computed,
                 "executor": self.executor_desc or self.service.describe(),
                 "point_executors": dict(sorted(per_executor.items()))}
        if self.namespace:
            extra["cache_namespace"] = self.namespace
        table = _store.assemble(req, masses, pts, source="compute", extra=extra)
        rel = None if req.analytic else req.rel_error
        if table.all_ok:
            try:
                get_cache().put_table(table, req.method, rel, None if req.analytic else req.seed,
                                      namespace=self.namespace)
            except Exception:
                log.warning("could not cache σ_V table", exc_info=True)
        else:
            log.warning("σ_V job %s: %d point(s) missed the requested precision (kept, flagged, not cached)",
                        self.id, len(table.provenance.get("incomplete_points_gev", [])))
        self.table = table
        self._finish("done")


def _describe_exc(exc: BaseException) -> str:
    """One line for an exception from a worker/executor."""
    if isinstance(exc, cf.process.BrokenProcessPool):
        return ("the local process pool broke (a worker process died or a result could not be unpickled); "
                "the next job starts a fresh pool")
    if isinstance(exc, cf.BrokenExecutor):
        return f"the executor broke ({type(exc).__name__}: {_one_line(exc, 200)}); the next job starts a fresh one"
    try:
        return f"{type(exc).__name__}: {_one_line(exc)}" if not isinstance(exc, WorkerError) else _one_line(exc)
    except Exception:
        return type(exc).__name__


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

    @property
    def queue_position(self) -> int | None:
        """1, 2, … while the job waits for a computation slot (``max_running``), else None."""
        return self._job.service._queue_position(self._job)

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

    def __init__(self, executor=None, max_workers: int | None = None, connect_timeout: float = 10.0, *,
                 max_running: int | None = None, max_queued: int | None = None):
        self._spec = executor
        self._connect_timeout = float(errors.in_range("connect_timeout", connect_timeout, 0.01, 600, "s"))
        self._max_workers = None if max_workers is None else _check_workers(max_workers)
        self._executor: cf.Executor | None = None
        self._owned = True
        self._client = None
        self._lock = threading.RLock()
        self._active: dict[str, _Job] = {}
        self._slots = threading.Condition(threading.Lock())
        self._running = 0
        self._waiting: collections.deque[_Job] = collections.deque()
        self._max_running: int | None = None
        self._max_queued: int | None = None
        self.set_limits(max_running, max_queued)
        self._kind = self._parse(executor)
        if self._kind == "dask":
            self._connect()

    # -- limits ----------------------------------------------------------------------------------
    def set_limits(self, max_running: int | None = None, max_queued: int | None = None) -> None:
        """At most ``max_running`` jobs compute at once (the rest wait in order); with ``max_queued`` too, a
        new computation is refused (QueueFullError) when ``max_running + max_queued`` jobs are open. None:
        unbounded."""
        mr = None if max_running is None else int(errors.in_range("max_running", max_running, 1, 10_000))
        mq = None if max_queued is None else int(errors.in_range("max_queued", max_queued, 0, 100_000))
        with self._slots:
            self._max_running, self._max_queued = mr, mq
            self._slots.notify_all()

    def stats(self) -> dict:
        """Jobs computing now, waiting for a slot, open in total (incl. looking up), and the limits."""
        with self._lock:
            n_open = sum(1 for j in self._active.values() if not j.finished.is_set())
        with self._slots:
            return {"running": self._running, "queued": len(self._waiting), "open": n_open,
                    "max_running": self._max_running, "max_queued": self._max_queued}

    def _acquire_slot(self, job: "_Job") -> bool:
        """Wait (in submission order: job ids increase with submission) for a computation slot; False if the
        job was cancelled meanwhile."""
        with self._slots:
            pos = len(self._waiting)
            while pos > 0 and self._waiting[pos - 1].id > job.id:
                pos -= 1
            self._waiting.insert(pos, job)
            try:
                while True:
                    if job.cancel_requested.is_set():
                        return False
                    if self._waiting[0] is job and (self._max_running is None
                                                    or self._running < self._max_running):
                        self._waiting.popleft()
                        self._running += 1
                        return True
                    self._slots.wait(0.1)
            finally:
                if job in self._waiting:
                    self._waiting.remove(job)
                self._slots.notify_all()

    def _release_slot(self) -> None:
        with self._slots:
            self._running -= 1
            self._slots.notify_all()

    def _queue_position(self, job: "_Job") -> int | None:
        with self._slots:
            for n, j in enumerate(self._waiting, 1):
                if j is job:
                    return n
        return None

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
            self._client = self._connect_with_deadline(distributed)
        self._executor = self._client.get_executor()

    def _connect_with_deadline(self, distributed):
        """``distributed.Client(address)`` with a hard deadline of connect_timeout + 2 s: distributed's own
        timeout does not cover a peer that accepts the connection and never answers, which would hang the
        caller forever. The attempt runs in a daemon thread; a client that arrives after the deadline is
        closed at once."""
        allowed = "a reachable Dask scheduler address, e.g. tcp://host:8786"
        box: dict = {}
        lock = threading.Lock()

        def attempt():
            try:
                client = distributed.Client(self._spec, timeout=self._connect_timeout, set_as_default=False)
            except Exception as exc:
                with lock:
                    box["error"] = exc
                return
            with lock:
                late = box.get("abandoned", False)
                if not late:
                    box["client"] = client
            if late:
                client.close()

        t = threading.Thread(target=attempt, name="dap-dask-client", daemon=True)
        t.start()
        t.join(self._connect_timeout + 2.0)
        with lock:
            if "client" in box:
                return box["client"]
            box["abandoned"] = True
            exc = box.get("error")
        if exc is not None:
            raise errors.InputError("scheduler", allowed, self._spec, f"{type(exc).__name__}: {exc}") from None
        raise errors.InputError("scheduler", allowed, self._spec,
                                f"no answer within {self._connect_timeout + 2.0:g} s")

    @property
    def executor(self) -> cf.Executor:
        with self._lock:
            if self._executor is None:
                if self._kind == "process":
                    method = os.environ.get("DAP_MP_START") or (
                        "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
                    ctx = mp.get_context(method)
                    if method == "forkserver":
                        ctx.set_forkserver_preload(["physics.xsec.sigma_v", "physics.xsec.iww", "physics.xsec.etl",
                                                    "physics.xsec.table_points"])
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

    def _scheduler_address(self) -> str:
        addr = getattr(getattr(self._client, "scheduler", None), "address", None) or self._spec
        return str(addr if isinstance(addr, str) else type(addr).__name__)

    def describe(self) -> str:
        """The executor, for provenance: "local process pool (2 workers)", "dask tcp://… (8 threads)", …"""
        if self._kind == "dask":
            return f"dask {self._scheduler_address()} ({self.n_workers} threads)"
        if self._kind == "external":
            t = type(self._executor)
            where = "local " if self.cache_namespace is None else ""
            return f"{where}executor {t.__module__}.{t.__qualname__}"
        if self._kind == "inline":
            return "inline (coordinator thread)"
        return f"local {self._kind} pool ({self.n_workers} workers)"

    @property
    def trusted(self) -> bool:
        """True for the local pools of this machine, whose results go to the shared cache."""
        return self.cache_namespace is None

    @property
    def cache_namespace(self) -> str | None:
        """None for local executors (process/thread/inline pools of this machine); otherwise the namespace
        under which this executor's results are cached (never served to local runs): ``"dask <address>"``
        or ``"executor <module>.<class>"``."""
        if self._kind in ("process", "thread", "inline"):
            return None
        if self._kind == "dask":
            return f"dask {self._scheduler_address()}"
        if type(self._executor) in _LOCAL_EXECUTOR_TYPES:
            return None
        t = type(self._executor)
        return f"executor {t.__module__}.{t.__qualname__}"

    def _executor_failed(self, exc, executor=None):
        """A broken local pool is dropped so the next job gets a fresh one (only if ``executor`` — the one
        that failed — is still the current one: a pool already replaced is left alone)."""
        if self._kind in ("process", "thread") and isinstance(exc, (cf.BrokenExecutor, RuntimeError)):
            with self._lock:
                if executor is not None and self._executor is not executor:
                    return
                ex, self._executor = self._executor, None
            if ex is not None:
                log.warning("σ_V %s pool broke (%s); a fresh pool will be started", self._kind, type(exc).__name__)
                ex.shutdown(wait=False, cancel_futures=True)

    # -- jobs ------------------------------------------------------------------------------------
    def submit(self, config, masses=None, method: str = DEFAULT_METHOD, rel_error: float = 0.01, seed: int = 1, *,
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
        """Start (or join) the computation of a validated request (see :func:`physics.service.store.make_request`).

        InputError for more than ``physics.service.store.MAX_MASSES`` masses; QueueFullError when the service is
        full (``max_running + max_queued`` open jobs)."""
        if not isinstance(req, _store.TableRequest):
            raise errors.InputError("request", "a physics.service.store.TableRequest", type(req).__name__)
        if req.masses is not None and not 1 <= len(req.masses) <= _store.MAX_MASSES:
            raise errors.InputError("masses", f"1 to {_store.MAX_MASSES} masses", f"{len(req.masses)} masses")
        point_function(req.method)  # the engine must import before any work starts
        rel = None if req.analytic else req.rel_error
        masses_key = "auto" if req.masses is None else table_key(req.config, req.masses, req.method, rel,
                                                                  None if req.analytic else req.seed)
        key = req.config.key(extra={"kind": "job", "masses": masses_key, "method": req.method, "rel_error": rel,
                                    "seed": None if req.analytic else req.seed,
                                    "use_precomputed": use_precomputed, "use_cache": use_cache})
        with self._lock:
            job = self._active.get(key)
            if job is not None and not job.finished.is_set() and not job.cancel_requested.is_set():
                h = JobHandle(job)
                with job.lock:
                    job.handles.append(h)
                return h
            if self._max_running is not None and self._max_queued is not None:
                n_open = sum(1 for j in self._active.values() if not j.finished.is_set())
                if n_open >= self._max_running + self._max_queued:
                    raise QueueFullError(f"the σ_V job service is busy: {n_open} computations running or "
                                         f"waiting (at most {self._max_running + self._max_queued}); try again later")
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


#: Executor types that run in this machine's processes (their results go to the shared cache).
_LOCAL_EXECUTOR_TYPES = (cf.ProcessPoolExecutor, cf.ThreadPoolExecutor, InlineExecutor)


__all__ = ["JobService", "JobHandle", "JobError", "QueueFullError", "WorkerError", "POINT_FUNCTIONS",
           "point_function", "compute_point", "material_spec", "InlineExecutor", "default_service",
           "inline_service", "CancelledError", "MAX_WORKERS"]
