"""Table jobs of the whole server process — the one job of this module: job tracking shared by sessions.

The server's σ_V job executor (server configuration, connected once per process in the background — never
chosen by a session) with the shared job services (``physics.service.jobs``: identical requests from several
sessions share one computation, which is cancelled only when every session's handle has been cancelled), the
fair-sharing caps (:mod:`dashboard.fairshare`), the requests/polls/partial tables/cancels a session's
:class:`dashboard.tablejobs.TableJobs` makes, and the read-only σ_V tables memoised by content key.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


from physics import errors
from physics.service import jobs as _jobs
from physics.xsec import sigma_v as _st
from physics.service import store as _store
from physics.xsec.methods import ANALYTIC_METHODS, METHODS
from physics.service import provider as _provider

from . import adapter, fairshare
from .serve import EXECUTOR_ENV, check_executor_spec

log = logging.getLogger("dashboard.tableservice")


# ------------------------------------------------------------------------------------ tables and jobs
def table_key(config, method: str, rel_error: float, seed: int = 1) -> tuple:
    extra = {"method": method}
    if method not in ANALYTIC_METHODS:
        extra.update(rel_error=float(rel_error), seed=int(seed))
    return (config.key(extra),)


class _LRU:
    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
            return None

    def put(self, key, value):
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.maxsize:
                self.data.popitem(last=False)


_TABLES = _LRU(64)          # key -> (SigmaVTable, source when first loaded) — read-only, shared


def clear_memo() -> None:
    """Forget the memoised tables (tests; after the cache directory changed)."""
    with _TABLES.lock:
        _TABLES.data.clear()


# ------------------------------------------------------------------------------------ the server's executor
#: seconds the background connection to the server's Dask scheduler may take (no page ever waits for it);
#: a scheduler silent for longer than this plus SCHEDULER_GRACE_S is given up (distributed's own timeout
#: does not cover a peer that accepts the connection and never answers)
SCHEDULER_CONNECT_TIMEOUT_S = 10.0
SCHEDULER_GRACE_S = 2.0


class ServerExecutor:
    """Where this server process computes exact (VEGAS) σ_V tables — server configuration, fixed at start.

    ``spec`` comes from ``$DAP_JOB_EXECUTOR`` (``python -m dashboard.serve --scheduler``), never from a
    browser: empty/"process" = the local process pool, "thread", or a Dask scheduler ``tcp://host:port`` /
    ``tls://host:port``. A Dask connection is made once, in a background thread, so no page load or event
    loop waits for it; until it succeeds — or for good if it fails — jobs go to the local process pool
    (logged as a warning; :meth:`note` is the non-blocking sentence the pages show).
    """

    def __init__(self, spec: str, connect_timeout: float | None = None):
        self.spec = str(spec or "").strip()
        self.connect_timeout = float(SCHEDULER_CONNECT_TIMEOUT_S if connect_timeout is None else connect_timeout)
        self._lock = threading.Lock()
        self._service = None
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()
        self._state = "local"            # "local" | "connecting" | "connected" | "failed"
        self.detail = ""
        try:
            self.kind = check_executor_spec(self.spec)
        except errors.InputError as exc:
            log.warning("%s; new σ_V tables use the local process pool", exc)
            self.kind, self._state, self.detail = "process", "failed", str(exc)
        if self.kind == "dask":
            self._state = "connecting"
            self._thread = threading.Thread(target=self._connect, name="dap-dask-connect", daemon=True)
            self._thread.start()

    def _connect(self) -> None:
        try:
            svc = _jobs.JobService(self.spec, connect_timeout=self.connect_timeout)
        except Exception as exc:  # noqa: BLE001 - any failure means: stay on the local pool
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        with self._lock:
            late = self._state != "connecting"
            if not late:
                self._service, self._state = svc, "connected"
        if late:        # given up already: this process stays on the local pool (one decision per process)
            svc.shutdown(wait=False)
            return
        log.info("σ_V jobs run on %s (connected in %.1f s)", svc.describe(), time.monotonic() - self._t0)

    def _fail(self, detail: str) -> None:
        with self._lock:
            if self._state != "connecting":
                return
            self._state, self.detail = "failed", detail
        log.warning("Dask scheduler %s not usable after %.1f s (%s); new σ_V tables use the local process pool",
                    self.spec, time.monotonic() - self._t0, detail)

    @property
    def deadline_s(self) -> float:
        """Seconds after start at which a silent scheduler is given up."""
        return self.connect_timeout + SCHEDULER_GRACE_S

    @property
    def state(self) -> str:
        """"local", "connecting", "connected" or "failed" (also once the scheduler stayed silent too long)."""
        if self._state == "connecting" and time.monotonic() - self._t0 > self.deadline_s:
            self._fail(f"no answer within {self.deadline_s:g} s")
        return self._state

    def wait(self, timeout: float | None = None) -> str:
        """Wait for the connection attempt to be decided (tests, benchmarks); returns the state."""
        if self._thread is not None:
            left = self.deadline_s - (time.monotonic() - self._t0)
            self._thread.join(max(0.0, left) if timeout is None else min(timeout, max(0.0, left) + 0.05))
        return self.state

    def service(self):
        """The job service for exact tables now (the local pool while a Dask connection is pending/failed)."""
        state = self.state
        with self._lock:
            if self._service is not None:
                return self._service
            if self.kind == "thread" and state == "local":
                self._service = _jobs.JobService("thread")
                return self._service
        return _jobs.default_service()

    def note(self) -> str:
        """A sentence for the page when jobs do not run where the server was configured to run them."""
        if self.state == "connecting":
            return ("Connecting to this server's Dask cluster; meanwhile new σ_V tables are computed by its local "
                    "process pool.")
        if self.state == "failed":
            return ("The job executor configured for this server is not usable (details in the server log); new "
                    "σ_V tables are computed by its local process pool.")
        return ""

    def shutdown(self) -> None:
        with self._lock:
            svc, self._service = self._service, None
        if svc is not None:
            svc.shutdown(wait=False)


_EXECUTOR: ServerExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def server_executor() -> ServerExecutor:
    """The process-wide :class:`ServerExecutor`, made from ``$DAP_JOB_EXECUTOR`` on first use (idempotent:
    one connection attempt per process, never one per session)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ServerExecutor(os.environ.get(EXECUTOR_ENV, ""))
        return _EXECUTOR


def reset_server_executor() -> None:
    """Forget the process's executor (tests; the next :func:`server_executor` reads the environment again)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        ex, _EXECUTOR = _EXECUTOR, None
    if ex is not None:
        ex.shutdown()


def job_service(method: str):
    """The job service for a method: analytic IWW points run inline in the service's coordinator thread
    (``physics.service.jobs.inline_service``, as the store does); exact tables go to the server's executor."""
    if method in ANALYTIC_METHODS:  # cheap tables: computed inline, outside the fair-sharing caps
        return _jobs.inline_service()
    return server_executor().service()


#: the process-wide caps on table computations (per session and in total)
GATE = fairshare.JobGate()


@dataclass
class TableStatus:
    """What a session gets when it asks for a table: the table (if available now), where it came from, or
    its own job handle (``job``: progress / partial_table / state / error)."""

    key: tuple
    source: str                  # "precomputed" | "cache" | "compute" | "queued" | "failed" | "cancelled"
    table: object = None
    job: object = None
    error: str = ""
    computed: bool = False       # True once a job of this session finished the table
    note: str = ""               # why a "queued" table waits

    @property
    def ready(self) -> bool:
        return self.table is not None

    @property
    def progress(self) -> tuple[int, int]:
        if self.job is not None:
            try:
                done, total = self.job.progress
                return int(done), int(total)
            except Exception:  # noqa: BLE001 - a handle in an odd state shows as "no progress"
                return (0, 0)
        if self.table is not None:
            n = len(self.table.points)
            return n, n
        return (0, 0)


def request_table(config, method: str, rel_error: float = 0.01, seed: int = 1, session=None) -> TableStatus:
    """Ask for the σ_V table of ``config``; never blocks on a computation.

    Precomputed or cached tables are loaded now (fast) and memoised; otherwise a job is submitted to the
    shared job service (which joins an identical running computation) and its handle returned for polling
    — if the fair-sharing caps (:mod:`dashboard.fairshare`) admit it for ``session``; else the status is
    "queued" (``note`` says why) and the caller asks again later.
    """
    errors.one_of("method", method, METHODS)
    key = table_key(config, method, rel_error, seed)
    hit = _TABLES.get(key)
    if hit is not None:
        return TableStatus(key, hit[1], table=hit[0])
    src = _store.table_source(config, method, rel_error=rel_error, seed=seed)
    if src in ("precomputed", "cache"):
        table = _provider.get_sigma_table(config, method=method, rel_error=rel_error, seed=seed)
        _TABLES.put(key, (table, src))
        return TableStatus(key, src, table=table)

    def submit():
        return job_service(method).submit(config, method=method, rel_error=rel_error, seed=seed)

    if method in ANALYTIC_METHODS:
        handle = submit()
    else:
        adm = GATE.admit(session, key, submit)
        if not adm.admitted:
            return TableStatus(key, "queued", note=adm.reason)
        handle = adm.handle
    return poll_table(TableStatus(key, "compute", job=handle))


def poll_table(status: TableStatus) -> TableStatus:
    """Refresh a TableStatus whose job is running."""
    h = status.job
    if h is None or status.ready:
        return status
    state = str(h.state)
    if state == "done":
        try:
            table = h.result(timeout=0)
        except Exception as exc:  # noqa: BLE001 - shown in the status area
            return TableStatus(status.key, "failed", job=h, error=f"{type(exc).__name__}: {exc}")
        src = h.source if h.source in ("precomputed", "cache") else "compute"
        _TABLES.put(status.key, (table, "cache" if src == "compute" else src))
        return TableStatus(status.key, src, table=table, job=h, computed=src == "compute")
    if state == "error":
        return TableStatus(status.key, "failed", job=h, error=str(h.error))
    if state == "cancelled":
        return TableStatus(status.key, "cancelled", job=h)
    return TableStatus(status.key, "compute", job=h)


def partial_table(status: TableStatus):
    """The points computed so far (a SigmaVTable with ≥ 2 points) or None."""
    if status.job is None:
        return None
    try:
        t = status.job.partial_table()
    except Exception:
        log.debug("partial_table failed", exc_info=True)
        return None
    if t is None or len(t.points) < 2:
        return None
    return t


def cancel_table(status: TableStatus) -> None:
    """This session stops waiting; the computation stops once no session's handle is live."""
    if status.job is not None and not status.ready:
        try:
            status.job.cancel()
        except Exception:
            log.warning("cancel failed", exc_info=True)
        GATE.release(status.job)


def band_table(exp, method: str, rel_error: float = 0.01, seed: int = 1):
    """(key, table) of the experiment's σ_V table with the elastic+inelastic form factor if it is available
    *now* (shipped or cached; never computed for a band), else None."""
    try:
        cfg = _st.SigmaVConfig.from_experiment(exp, form_factor=adapter.BAND_FORM_FACTOR)
    except errors.InputError:
        return None
    key = table_key(cfg, method, rel_error, seed)
    hit = _TABLES.get(key)
    if hit is not None:
        return key, hit[0]
    src = _store.table_source(cfg, method, rel_error=rel_error, seed=seed)
    if src not in ("precomputed", "cache"):
        return None
    table = _provider.get_sigma_table(cfg, method=method, rel_error=rel_error, seed=seed)
    _TABLES.put(key, (table, src))
    return key, table
