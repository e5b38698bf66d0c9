"""The one place where the dashboard talks to ``physics/``.

Everything the dashboard needs from the physics layer goes through the functions here, so a change of a
physics API is a change in this file only. No physics is done here — only calls, array plumbing and the
bookkeeping of which table a session is waiting for.

Process-wide state kept here is limited to what may be shared between sessions: read-only σ_V tables
(memoised by content key), the server's job executor (server configuration, connected once per process in
the background — never chosen by a session) with the shared job services (``physics.service.jobs``; identical
requests from several sessions share one computation there, and a computation is cancelled only when every
session's handle has been cancelled), and the fair-sharing caps on table jobs (:mod:`dashboard.fairshare`).
"""

from __future__ import annotations

import functools
import math
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from physics import __version__ as _pkg_version
from physics.signal import constraints as _constraints
from physics import edm as _edm
from physics import errors
from physics.signal import experiments as _experiments
from physics.xsec import factorisation as _fact
from physics.service import jobs as _jobs
from physics.signal import meson_yields as _meson_yields
from physics.signal import reach as _reach
from physics.xsec import sigma_v as _st
from physics.signal import statistics as _stats
from physics.service import store as _store
from physics.model import materials as _targets
from physics.signal import yields as _yields
from physics.xsec.methods import ANALYTIC_METHODS, METHODS
from physics.version import PHYSICS_VERSION, SCHEMA_VERSION
from physics.service import provider as _provider

from . import fairshare
from .serve import EXECUTOR_ENV, check_executor_spec

log = logging.getLogger("dashboard.adapter")

InputError = errors.InputError
Experiment = _experiments.Experiment

#: Channel keys as physics.signal.reach returns them (brem, each meson), in display order.
MESON_KEYS = tuple(_yields.MESON_CHANNELS)
CHANNELS = ("brem",) + MESON_KEYS

TABLE_MIN_MASS_GEV = _st.M_TABLE_MIN_GEV
TABLE_CAP_GEV = _st.M_TABLE_CAP_GEV
M_NEUTRON_GEV = _edm.FERMIONS["n"].mass_gev
M_A_LIGHT_GEV = _edm.DEFAULT_M_A_LIGHT_GEV
FERMIONS = {k: f.name for k, f in _edm.FERMIONS.items()}
EDM_LIMITS = {k: v.to_dict() for k, v in _edm.EDM_LIMITS.items()}
EDM_SCENARIOS = ("light-alp", "degenerate")


# ------------------------------------------------------------------------------------ experiments etc.
def builtin_experiments() -> dict:
    """Experiment registry (id → physics.signal.experiments.Experiment), read-only. A broken ``$DAP_EXPERIMENTS``
    file (server configuration) is logged and the built-in experiments are served."""
    try:
        return dict(_experiments.all_experiments())
    except InputError as exc:
        log.warning("ignoring the server's experiment file: %s", exc)
        return dict(_experiments.BUILTIN_EXPERIMENTS)


def materials() -> list[str]:
    """Material names; a broken ``$DAP_MATERIALS`` file is logged and the built-in materials are served."""
    try:
        return sorted(_targets.all_materials())
    except InputError as exc:
        log.warning("ignoring the server's material file: %s", exc)
        return sorted(_targets.BUILTIN_MATERIALS)


def make_experiment(**fields):
    """A validated Experiment (raises InputError naming the bad field)."""
    return _experiments.Experiment(**fields)


def table_config(exp) -> _st.SigmaVConfig:
    """The σ_V table configuration an experiment needs: its beam and target over the whole x range. The cut
    is not part of it (it is applied to the table), so moving an experiment's cut never starts a table job."""
    return _st.SigmaVConfig.from_experiment(exp)


def validate_experiment_config(exp) -> None:
    """Raise InputError if a σ_V table cannot be made for this experiment (e.g. beam energy too low)."""
    table_config(exp)


def kinematic_limit_gev(exp) -> float:
    """Largest m_a + m_γD an experiment's σ_V table covers [GeV] (above it the brem channel is closed)."""
    return float(table_config(exp).max_mass_gev)


def versions() -> dict:
    return {"package": _pkg_version, "physics_version": PHYSICS_VERSION, "schema_version": SCHEMA_VERSION}


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
        except InputError as exc:
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


# ------------------------------------------------------------------------------------ reach and yields
def _mask_partial(out: dict, table, m_gd, m_a, keys) -> None:
    """While a table is still being computed, brem (and anything containing it) is only known between the
    table's first and last computed masses: NaN elsewhere instead of the factorisation's 0 above the grid."""
    if not table.provenance.get("partial"):
        return
    m = np.asarray(m_a) + np.asarray(m_gd)
    lo, hi = float(table.masses_gev[0]), float(table.masses_gev[-1])
    outside = (m < lo) | (m > hi)
    for k in keys:
        if k in out:
            arr = np.array(out[k], dtype=float, copy=True)
            arr[outside] = np.nan
            out[k] = arr


def reach(exp, m_gd, m_a, alpha_d: float, m_chi, method: str, table, g_ref: float = 1e-3) -> dict:
    """90% CL reach g_90 [GeV⁻¹] per channel vs m_γD (physics.signal.reach.reach)."""
    r = _reach.reach(exp, m_gd, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi, table=table, g_ref=g_ref).to_dict()
    g90 = dict(r["g90_GeV-1"])
    _mask_partial(g90, table, m_gd, m_a, ("brem", "total"))
    r = dict(r)
    r["g90_GeV-1"] = g90
    return r


def event_yields(exp, m_gd, g: float, m_a, alpha_d: float, m_chi, method: str, table) -> dict:
    """Expected signal events per channel at coupling g vs m_γD (physics.signal.yields.event_yields)."""
    out = dict(_yields.event_yields(exp, m_gd, g, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi,
                                    table=table))
    _mask_partial(out, table, m_gd, m_a, ("brem", "total"))
    return out


def model_meson_yields(exp) -> dict:
    """N_V per meson of the documented model (physics.signal.meson_yields), ignoring the experiment's overrides."""
    return dict(_meson_yields.meson_yields_report(exp.replace(meson_yields={}))["computed_N_V"])


def validate_meson_yields(exp) -> dict:
    """The experiment's N_V per meson with its ``meson_yields`` overrides validated by physics (raises
    InputError naming ``meson_yields.<meson>``)."""
    if not exp.meson_yields:
        return {}
    return dict(_meson_yields.meson_yields_nv(exp))


@functools.lru_cache(maxsize=512)
def _n_upper(observed, background) -> float:
    return float(_stats.poisson_upper_limit(observed, background))


def n_upper(exp) -> float:
    """Signal events excluded at 90% CL for the experiment's background/observed (physics.signal.statistics, CLs).

    Raises InputError (never an arithmetic error) when physics cannot compute the limit for these numbers,
    so the dashboard can show it next to the control."""
    try:
        return _n_upper(exp.observed, exp.background)
    except InputError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise InputError("background", "a background for which the 90% CL signal limit can be computed",
                         exp.background, f"{type(exc).__name__} in physics.signal.statistics") from None


def limit_ignores_background(exp) -> bool:
    """True if the 90% CL signal limit of the experiment's counts does not change with the background (CLs
    with 0 observed events: N_90 = ln 10 whatever b; physics.signal.statistics)."""
    try:
        b = float(exp.background)
        # the same limit to the root finder's precision (physics.signal.statistics: xtol 1e-12)
        return math.isclose(_n_upper(exp.observed, b), _n_upper(exp.observed, b + 1.0), rel_tol=1e-9)
    except (InputError, ArithmeticError, ValueError):
        return False


def spectrum(table, m_a: float, m_gd: float, g: float):
    """(x_edges, dσ/dx [pb per atom]) of e N → e N a γD in the table's x bins (physics.xsec.factorisation)."""
    return _fact.dsigma_portal_dx_pb(table, m_a, m_gd, g)


def window_fraction(table, m_a: float, m_gd: float, exp) -> float:
    """Share of σ(e N → e N a γD) inside the experiment's window x_min ≤ x ≤ x_max (physics.xsec.factorisation; NaN
    where the channel is closed)."""
    total, _ = _fact.sigma_portal_pb(table, m_a, m_gd, 1.0)
    inside, _ = _fact.sigma_portal_pb(table, m_a, m_gd, 1.0, **_yields.x_window(exp))
    total, inside = float(total), float(inside)
    return inside / total if total > 0 else float("nan")


# ------------------------------------------------------------------------------------ other constraints
#: The overlays (key → label, labels from physics.signal.constraints.LABELS): BaBar, both BESIII bounds, SN1987A.
CONSTRAINT_LABELS = {"babar": _constraints.LABELS["babar-upsilon"], "besiii": "BESIII ω, φ→inv",
                     "sn1987a": _constraints.LABELS["sn1987a"]}
CONSTRAINT_KEYS = tuple(CONSTRAINT_LABELS)


def _prov_text(prov, m_a_text: str | None = None) -> str:
    """Provenance as one line of text; ``m_a_text`` replaces physics' "array" placeholder for a mass grid."""
    if isinstance(prov, str):
        return prov
    parts = [str(prov.get("source", ""))]
    for k in ("cl", "assumptions", "scenario", "units_note", "formula"):
        v = prov.get(k)
        if v in (None, ""):
            continue
        if k == "assumptions" and isinstance(v, str) and "m_a = array GeV" in v:
            v = v.replace("m_a = array GeV", f"m_a = {m_a_text}" if m_a_text else "m_a varies with m_γD")
        parts.append(f"{k}: {v}")
    return "; ".join(p for p in parts if p)


_SN = {}


def constraints(which, m_gd, m_a, m_a_text: str | None = None) -> list[dict]:
    """Other constraints as drawable regions (physics.signal.constraints): dicts with key, label, kind ("upper":
    excluded above ``g``; "band": excluded between ``lo`` and ``hi``, ``hi`` NaN = above the plot), arrays
    ``m`` [GeV], ``g``/``lo``/``hi`` [GeV⁻¹] and ``provenance`` (text). ``m_a_text`` describes the ALP mass of
    the scenario in the provenance (e.g. "m_γD"); a constant m_a is passed to physics as a number, so its
    provenance states the value."""
    out = []
    m_gd = np.asarray(m_gd, dtype=float)
    m_a = np.asarray(m_a, dtype=float)
    m_a_phys = float(m_a.flat[0]) if m_a.size and np.all(m_a == m_a.flat[0]) else m_a
    if "babar" in which:
        r = _constraints.babar_upsilon(m_gd, m_a_phys)
        out.append({"key": "babar", "label": _constraints.LABELS["babar-upsilon"], "kind": "upper", "m": m_gd,
                    "m_a": m_a, "g": np.asarray(r["g_max_GeV-1"], dtype=float),
                    "provenance": _prov_text(r["provenance"], m_a_text)})
    if "besiii" in which:
        for d in _constraints.besiii(m_gd, m_a_phys):
            out.append(dict(d, m_a=np.broadcast_to(m_a, m_gd.shape), provenance=_prov_text(d["provenance"],
                                                                                         m_a_text)))
    if "sn1987a" in which:
        if "band" not in _SN:
            d = _constraints.sn1987a()
            _SN["band"] = dict(d, provenance=_prov_text(d["provenance"]))
        out.append(_SN["band"])
    return out


# ------------------------------------------------------------------------------------ EDM
def edm_curve(fermion: str, cutoff: float, scenario: str, m_gd_grid) -> np.ndarray:
    """Bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] vs m_γD (physics.edm.edm_bound_curve); NaN outside validity."""
    _, bound = _edm.edm_bound_curve(fermion, cutoff, scenario, m_gd_grid=np.asarray(m_gd_grid, dtype=float))
    return np.asarray(bound, dtype=float)


def edm_table(cutoffs, m_gd_ref: float) -> list[dict]:
    """Rows of the paper's Table 2 (physics.edm.edm_table)."""
    return _edm.edm_table(cutoffs=tuple(cutoffs), m_gd_ref=float(m_gd_ref))
