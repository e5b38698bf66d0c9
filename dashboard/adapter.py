"""The one place where the dashboard talks to ``physics/``.

Everything the dashboard needs from the physics layer goes through the functions here, so a change of a
physics API is a change in this file only. Modules that may not exist yet (``store``, ``jobs``, ``reach``,
``constraints``) are imported lazily; while one is missing a thin, clearly labelled fallback built only from
existing physics functions is used, and :func:`capabilities` says so (the status area shows it).

Process-wide state kept here is limited to what the brief allows to be shared between sessions: read-only
σ_V tables (memoised by content key), read-only constraint data, and the shared job service with a
reference-counted registry of running table computations (so two sessions asking for the same table share
one job, and one session's "cancel" does not kill another session's curve).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from physics import edm as _edm
from physics import errors
from physics import experiments as _experiments
from physics import factorisation as _fact
from physics import iww as _iww
from physics import mesons as _mesons
from physics import portal as _portal
from physics import sigma_table as _st
from physics import targets as _targets
from physics.constants import N90_ZERO_BACKGROUND

log = logging.getLogger("dashboard.adapter")

InputError = errors.InputError

#: Channel keys as physics.reach returns them (brem, each meson), in display order.
MESON_KEYS = ("rho", "omega", "phi", "jpsi", "upsilon")
CHANNELS = ("brem",) + MESON_KEYS
METHODS = ("etl", "iww")


# ------------------------------------------------------------------------------------ optional modules
_OPTIONAL: dict[str, object] = {}
_OPTIONAL_LOCK = threading.Lock()
_OPTIONAL_FAIL: dict[str, float] = {}


def _optional(name: str):
    """physics.<name> if it exists and imports cleanly, else None (re-tried at most every 30 s)."""
    with _OPTIONAL_LOCK:
        if name in _OPTIONAL:
            return _OPTIONAL[name]
        last = _OPTIONAL_FAIL.get(name)
        if last is not None and time.monotonic() - last < 30.0:
            return None
        full = f"physics.{name}"
        try:
            if importlib.util.find_spec(full) is None:
                _OPTIONAL_FAIL[name] = time.monotonic()
                return None
            mod = importlib.import_module(full)
        except Exception:  # a module being edited may not import: fall back, log once per retry
            log.warning("physics.%s present but failed to import; using the dashboard fallback", name,
                        exc_info=True)
            _OPTIONAL_FAIL[name] = time.monotonic()
            return None
        _OPTIONAL[name] = mod
        return mod


def capabilities() -> dict[str, bool]:
    """Which physics modules are live (False: the dashboard uses its labelled fallback)."""
    return {name: _optional(name) is not None for name in ("store", "jobs", "reach", "constraints")}


# ------------------------------------------------------------------------------------ experiments etc.
def builtin_experiments() -> dict:
    """Experiment registry (id → physics.experiments.Experiment), read-only."""
    return dict(_experiments.all_experiments())


def materials() -> list[str]:
    return sorted(_targets.all_materials())


def make_experiment(**fields):
    """A validated Experiment (raises InputError naming the bad field)."""
    return _experiments.Experiment(**fields)


def table_config(exp) -> _st.SigmaVConfig:
    """The σ_V table configuration an experiment needs (beam, target, x window)."""
    return _st.SigmaVConfig.from_experiment(exp)


def kinematic_limit_gev(exp) -> float:
    """Largest m_a + m_γD an experiment's table covers [GeV] (above it the brem channel is closed)."""
    return float(table_config(exp).max_mass_gev)


TABLE_MIN_MASS_GEV = _st.M_TABLE_MIN_GEV
TABLE_CAP_GEV = _st.M_TABLE_CAP_GEV
M_NEUTRON_GEV = _edm.FERMIONS["n"].mass_gev
M_A_LIGHT_GEV = _edm.DEFAULT_M_A_LIGHT_GEV
FERMIONS = {k: f.name for k, f in _edm.FERMIONS.items()}
EDM_LIMITS = {k: v.to_dict() for k, v in _edm.EDM_LIMITS.items()}


def validate_experiment_config(exp) -> None:
    """Raise InputError if a σ_V table cannot be made for this experiment (e.g. beam energy too low)."""
    table_config(exp)


# ------------------------------------------------------------------------------------ tables and jobs
def _table_key(config, method: str, rel_error: float, seed: int) -> tuple:
    extra = {"method": method}
    if method == "etl":
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


_TABLES = _LRU(64)          # key -> (SigmaVTable, source at first load)


class _ThreadJob:
    """Fallback job (used only while physics.jobs is missing): computes a table point by point in a thread,
    with the JobHandle interface the dashboard uses (progress, partial_table, cancel, state, error, result)."""

    _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dap-table")

    def __init__(self, config, method: str, rel_error: float, seed: int):
        self.config, self.method, self.rel_error, self.seed = config, method, rel_error, seed
        self.masses = config.default_mass_grid()
        self._points: list = []
        self._cancel = threading.Event()
        self.state = "pending"
        self.error: BaseException | None = None
        self._result = None
        self._lock = threading.Lock()
        self._future = self._pool.submit(self._run)

    @property
    def progress(self):
        with self._lock:
            return len(self._points), len(self.masses)

    def _run(self):
        self.state = "running"
        try:
            store = _optional("store") if _optional("jobs") is not None else None
            if store is not None:
                # store computes and caches the whole table; report progress via its callback
                def progress(done, total=None, *_a, **_k):
                    if self._cancel.is_set():
                        raise _Cancelled()

                table = store.get_sigma_table(self.config, method=self.method, rel_error=self.rel_error,
                                              seed=self.seed, progress=progress)
                with self._lock:
                    self._points = list(table.points)
                self._result = table
            elif self.method == "iww":
                for m in self.masses:
                    if self._cancel.is_set():
                        raise _Cancelled()
                    p = _iww.iww_point(self.config, float(m))
                    with self._lock:
                        self._points.append(p)
                self._result = _st.SigmaVTable(
                    config=self.config, points=list(self._points),
                    provenance={"method": "iww", "source": "BESTo 2009 A14-A17 (PHYSICS.md §3)",
                                "date": _st.now_iso()})
            else:
                raise RuntimeError("exact (ETL/VEGAS) tables need physics.store, which is not available yet")
            self.state = "done"
        except _Cancelled:
            self.state = "cancelled"
        except BaseException as exc:  # reported through .error / .state
            self.error = exc
            self.state = "failed"

    def partial_table(self):
        with self._lock:
            pts = list(self._points)
        if len(pts) < 2:
            return None
        return _st.SigmaVTable(config=self.config, points=pts, provenance={"method": self.method, "partial": True})

    def cancel(self):
        self._cancel.set()

    def result(self, timeout=None):
        self._future.result(timeout)
        if self.error is not None:
            raise self.error
        return self._result


class _Cancelled(Exception):
    pass


_JOB_SERVICE = None
_JOB_SERVICE_LOCK = threading.Lock()


def job_service():
    """The process-wide physics.jobs.JobService (created on first use), or None while it does not exist.

    Executor from env DAP_JOB_EXECUTOR: "process" (default: VEGAS in worker processes keeps the server's
    event loop responsive), "thread" (in-process threads), or a dask scheduler address.
    """
    global _JOB_SERVICE
    jobs = _optional("jobs")
    if jobs is None:
        return None
    with _JOB_SERVICE_LOCK:
        if _JOB_SERVICE is None:
            ex = os.environ.get("DAP_JOB_EXECUTOR", "process")
            ex = None if ex in ("", "thread", "none") else ex
            try:
                _JOB_SERVICE = jobs.JobService(executor=ex)
            except Exception:
                log.warning("JobService(executor=%r) failed; using the default executor", ex, exc_info=True)
                _JOB_SERVICE = jobs.JobService()
        return _JOB_SERVICE


@dataclass
class _SharedJob:
    handle: object
    subscribers: set = field(default_factory=set)


_JOBS: dict[tuple, _SharedJob] = {}
_JOBS_LOCK = threading.Lock()


@dataclass
class TableStatus:
    """What a session gets when it asks for a table: the table (if available now), where it came from, or
    the running job (``job``: a handle with progress/partial_table/state/error)."""

    key: tuple
    source: str                  # "precomputed" | "cache" | "memory" | "compute" | "failed" | "cancelled"
    table: object = None
    job: object = None
    error: str = ""

    @property
    def ready(self) -> bool:
        return self.table is not None

    @property
    def progress(self) -> tuple[int, int]:
        if self.job is None:
            return (1, 1) if self.ready else (0, 0)
        try:
            done, total = self.job.progress
            return int(done), int(total)
        except Exception:
            return (0, 0)


def _store_source(store, config, method, rel_error, seed) -> str:
    try:
        return str(store.table_source(config, method, rel_error=rel_error, seed=seed))
    except TypeError:
        return str(store.table_source(config, method))


def request_table(config, method: str, rel_error: float = 0.01, seed: int = 1,
                  subscriber: object = None) -> TableStatus:
    """Ask for the σ_V table of ``config``: never blocks on a computation.

    Precomputed or cached tables are loaded now (fast) and memoised; otherwise a job is started on the shared
    job service (or joined, if another session already started it) and returned for polling.
    """
    errors.one_of("method", method, METHODS)
    key = _table_key(config, method, rel_error, seed)
    hit = _TABLES.get(key)
    if hit is not None:
        table, source = hit
        return TableStatus(key, source, table=table)

    with _JOBS_LOCK:
        shared = _JOBS.get(key)
        if shared is not None:
            st = _job_state(shared.handle)
            if st in ("failed", "cancelled"):
                _JOBS.pop(key, None)
                shared = None
        if shared is not None:
            shared.subscribers.add(subscriber)
            return _status_from_job(key, shared.handle)

    store = _optional("store")
    src = None
    if store is not None:
        try:
            src = _store_source(store, config, method, rel_error, seed)
        except InputError:
            raise
        except Exception:
            log.warning("physics.store.table_source failed; computing through the fallback job", exc_info=True)
            store = None
        if src in ("precomputed", "cache"):
            table = store.get_sigma_table(config, method=method, rel_error=rel_error, seed=seed)
            _TABLES.put(key, (table, src))
            return TableStatus(key, src, table=table)

    with _JOBS_LOCK:
        shared = _JOBS.get(key)
        if shared is None:
            service = job_service() if store is not None else None
            if service is not None:
                handle = service.submit(config, method=method, rel_error=rel_error, seed=seed)
            else:
                handle = _ThreadJob(config, method, rel_error, seed)
            shared = _JOBS[key] = _SharedJob(handle)
        shared.subscribers.add(subscriber)
        return _status_from_job(key, shared.handle)


def _job_state(handle) -> str:
    st = getattr(handle, "state", "")
    st = getattr(st, "value", st)
    return str(st).lower()


def _status_from_job(key, handle) -> TableStatus:
    st = _job_state(handle)
    if st in ("done", "finished", "completed", "success", "succeeded"):
        try:
            table = handle.result(timeout=0)
        except Exception as exc:
            return TableStatus(key, "failed", job=handle, error=_describe(exc))
        _TABLES.put(key, (table, "compute"))
        with _JOBS_LOCK:
            _JOBS.pop(key, None)
        return TableStatus(key, "compute", table=table)
    if st in ("failed", "error"):
        return TableStatus(key, "failed", job=handle, error=_describe(getattr(handle, "error", None)))
    if st in ("cancelled", "canceled"):
        return TableStatus(key, "cancelled", job=handle)
    return TableStatus(key, "compute", job=handle)


def poll_table(status: TableStatus, subscriber: object = None) -> TableStatus:
    """Refresh a TableStatus whose job is running."""
    if status.job is None:
        return status
    hit = _TABLES.get(status.key)
    if hit is not None:
        return TableStatus(status.key, "compute", table=hit[0])
    return _status_from_job(status.key, status.job)


def partial_table(status: TableStatus):
    """The points computed so far (a SigmaVTable with ≥ 2 points) or None."""
    if status.job is None:
        return None
    try:
        return status.job.partial_table()
    except Exception:
        log.debug("partial_table failed", exc_info=True)
        return None


def release_table(status: TableStatus, subscriber: object, cancel: bool = False) -> None:
    """A session stops waiting for a job; with ``cancel`` the job is cancelled once nobody else waits."""
    with _JOBS_LOCK:
        shared = _JOBS.get(status.key)
        if shared is None:
            return
        shared.subscribers.discard(subscriber)
        if cancel and not shared.subscribers:
            try:
                shared.handle.cancel()
            finally:
                _JOBS.pop(status.key, None)


def _describe(exc) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)


# ------------------------------------------------------------------------------------ reach and yields
def _valid_mass_mask(table, m_a, m_gd):
    """Points where m_a + m_γD is inside the table's lower edge (a partial table may start higher)."""
    m_lo = float(table.masses_gev[0])
    return (np.asarray(m_a) + np.asarray(m_gd)) >= m_lo * (1 + 1e-9)


def reach(exp, m_gd, m_a, alpha_d: float, m_chi, method: str, table, g_ref: float = 1e-3) -> dict:
    """90% CL reach g_90 [GeV⁻¹] per channel vs m_γD (physics.reach; fallback: brem channel only)."""
    m_gd = np.asarray(m_gd, dtype=float)
    m_a = np.broadcast_to(np.asarray(m_a, dtype=float), m_gd.shape)
    rmod = _optional("reach")
    ok = _valid_mass_mask(table, m_a, m_gd)
    if rmod is not None:
        out = _nan_reach(m_gd)
        if np.any(ok):
            r = rmod.reach(exp, m_gd[ok], m_a=m_a[ok], alpha_d=alpha_d, m_chi=m_chi, method=method,
                           table=table, g_ref=g_ref)
            for ch, v in r.get("g90_GeV-1", {}).items():
                arr = np.full(m_gd.shape, np.nan)
                arr[ok] = np.asarray(v, dtype=float)
                out["g90_GeV-1"][ch] = arr
            out["assumptions"] = r.get("assumptions", {})
        return out
    # fallback (until physics.reach lands): brem channel only, zero-background 90% CL
    out = _nan_reach(m_gd)
    n_up = n_upper(exp)
    out["assumptions"] = {"fallback": f"physics.reach not available: brem channel only, N_up = {n_up:.4g} "
                                      "(physics.statistics, CLs 90%)"}
    if np.any(ok) and np.isfinite(n_up):
        n = _fallback_brem_events(exp, m_gd[ok], m_a[ok], g_ref, alpha_d, m_chi, table)
        with np.errstate(divide="ignore", invalid="ignore"):
            g90 = np.where(n > 0, g_ref * np.sqrt(n_up / n), np.nan)
        out["g90_GeV-1"]["brem"][ok] = g90
        out["g90_GeV-1"]["total"][ok] = g90
    return out


def _nan_reach(m_gd):
    nan = lambda: np.full(np.shape(m_gd), np.nan)  # noqa: E731
    return {"m_gd_GeV": np.asarray(m_gd), "g90_GeV-1": {ch: nan() for ch in CHANNELS + ("mesons", "total")},
            "assumptions": {}}


def _br_inv(m_gd, m_a, g, alpha_d, m_chi):
    return np.array([_portal.br_gd_invisible(float(mg), float(ma), g, alpha_d=alpha_d,
                                             m_chi=None if m_chi is None else float(m_chi))
                     for mg, ma in zip(np.ravel(m_gd), np.ravel(np.broadcast_to(m_a, np.shape(m_gd))))])


def _fallback_brem_events(exp, m_gd, m_a, g, alpha_d, m_chi, table):
    sig_pb, _ = _fact.sigma_portal_pb(table, m_a, m_gd, g)
    return exp.luminosity_per_cm2 * sig_pb * 1e-36 * _br_inv(m_gd, m_a, g, alpha_d, m_chi)


def event_yields(exp, m_gd, g: float, m_a, alpha_d: float, m_chi, method: str, table) -> dict:
    """Expected signal events per channel at coupling g vs m_γD (physics.reach.event_yields; fallback brem)."""
    m_gd = np.asarray(m_gd, dtype=float)
    m_a = np.broadcast_to(np.asarray(m_a, dtype=float), m_gd.shape)
    ok = _valid_mass_mask(table, m_a, m_gd)
    out = {}
    rmod = _optional("reach")
    if rmod is not None:
        if np.any(ok):
            r = rmod.event_yields(exp, m_gd[ok], g, m_a=m_a[ok], alpha_d=alpha_d, m_chi=m_chi, method=method,
                                  table=table)
            for ch, v in r.items():
                v = np.asarray(v, dtype=float)
                if v.shape != (int(ok.sum()),):
                    continue
                arr = np.full(m_gd.shape, np.nan)
                arr[ok] = v
                out[ch] = arr
        return out
    arr = np.full(m_gd.shape, np.nan)
    if np.any(ok):
        arr[ok] = _fallback_brem_events(exp, m_gd[ok], m_a[ok], g, alpha_d, m_chi, table)
    out["brem"] = arr
    return out


def n_upper(exp) -> float:
    """Signal events excluded at 90% CL for the experiment's background/observed (physics.statistics)."""
    stats = _optional("statistics")
    if stats is not None:
        return float(stats.poisson_upper_limit(int(exp.observed), float(exp.background)))
    if exp.background == 0 and exp.observed == 0:
        return N90_ZERO_BACKGROUND
    return float("nan")


def spectrum(table, m_a: float, m_gd: float, g: float):
    """dσ/dx [pb per atom] of e N → e N a γD in the table's x bins (physics.factorisation)."""
    return _fact.dsigma_portal_dx_pb(table, m_a, m_gd, g)


def sigma_total_pb(table, m_a: float, m_gd: float, g: float) -> tuple[float, float]:
    s, e = _fact.sigma_portal_pb(table, m_a, m_gd, g)
    return float(s), float(e)


# ------------------------------------------------------------------------------------ other constraints
CONSTRAINT_KEYS = ("babar", "besiii", "sn1987a")
CONSTRAINT_LABELS = {"babar": "BaBar Υ(1S)→inv", "besiii": "BESIII ω/φ→inv", "sn1987a": "SN1987A"}

_LIMITS_DIRS = [Path(os.environ.get("DAP_LIMITS_DATA", "")) if os.environ.get("DAP_LIMITS_DATA") else None,
                Path(__file__).resolve().parent.parent / "physics" / "data" / "limits",
                Path("/work/shared/limits-data/jodlowski2023_massless_alp")]


def _read_two_columns(path: Path):
    rows = []
    for line in path.read_text().splitlines():
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        a, b = s.split()[:2]
        rows.append((float(a), float(b)))
    arr = np.array(sorted(rows))
    return arr[:, 0], arr[:, 1]


def constraints(which, m_gd, m_a) -> list[dict]:
    """Other constraints on the (m_γD, g) plane as drawable regions.

    Each dict: key, label, kind ("upper": excluded above ``g``; "band": excluded between ``lo`` and ``hi``),
    arrays ``m`` [GeV] and ``g``/``lo``/``hi`` [GeV⁻¹], ``provenance`` (citation / assumptions).
    Uses physics.constraints when available; otherwise the closed formulas of PHYSICS.md §6 on top of
    physics.mesons and the digitised SN1987A band of limits-data.
    """
    which = [w for w in which if w in CONSTRAINT_KEYS]
    if not which:
        return []
    cmod = _optional("constraints")
    if cmod is not None:
        try:
            return _constraints_from_module(cmod, which, m_gd, m_a)
        except Exception:
            log.warning("physics.constraints call failed; using the dashboard fallback", exc_info=True)
    return _constraints_fallback(which, m_gd, m_a)


def _constraints_from_module(cmod, which, m_gd, m_a) -> list[dict]:
    out = []
    for key in which:
        fn = None
        for name in {"babar": ("babar_upsilon", "babar_upsilon_invisible", "babar"),
                     "besiii": ("besiii", "besiii_invisible", "besiii_omega_phi"),
                     "sn1987a": ("sn1987a", "sn1987a_band", "supernova")}[key]:
            fn = getattr(cmod, name, None)
            if callable(fn):
                break
        if fn is None:
            raise AttributeError(f"physics.constraints has no function for {key}")
        res = fn(m_gd, m_a) if key != "sn1987a" else fn()
        out.extend(_normalise_constraint(key, res))
    return out


def _normalise_constraint(key, res) -> list[dict]:
    if isinstance(res, dict) and "kind" in res:
        res.setdefault("key", key)
        res.setdefault("label", CONSTRAINT_LABELS[key])
        return [res]
    if isinstance(res, (list, tuple)) and res and isinstance(res[0], dict):
        return [dict(r, key=r.get("key", key)) for r in res]
    if isinstance(res, dict):
        d = {"key": key, "label": res.get("label", CONSTRAINT_LABELS[key]),
             "provenance": res.get("provenance", res.get("source", ""))}
        m = res.get("m_gd_GeV", res.get("m", res.get("m_gd")))
        if "g_max" in res or "g_max_GeV-1" in res or "g" in res:
            d.update(kind="upper", m=np.asarray(m, float),
                     g=np.asarray(res.get("g_max", res.get("g_max_GeV-1", res.get("g"))), float))
        else:
            d.update(kind="band", m=np.asarray(m, float),
                     lo=np.asarray(res.get("lo", res.get("g_low")), float),
                     hi=np.asarray(res.get("hi", res.get("g_high")), float))
        return [d]
    raise TypeError(f"unexpected constraint result for {key}: {type(res)}")


# PHYSICS.md §6: BaBar Υ(1S) → invisible Br < 3.0e-4 (arXiv:0908.2840); BESIII ω → inv < 7.3e-5,
# φ → inv < 1.7e-4 (90% CL).
_MESON_INV_LIMITS = {
    "upsilon": (3.0e-4, "BaBar, PRL 103 (2009) 251801, arXiv:0908.2840: Br(Υ(1S)→inv) < 3.0e-4 (90% CL)"),
    "omega": (7.3e-5, "BESIII, PRD 98 (2018) 032001: Br(ω→inv) < 7.3e-5 (90% CL)"),
    "phi": (1.7e-4, "BESIII, PRD 98 (2018) 032001: Br(φ→inv) < 1.7e-4 (90% CL)"),
}


def _meson_bound(meson, m_gd, m_a):
    lim, cite = _MESON_INV_LIMITS[meson]
    V = _mesons.get_meson(meson)
    g = np.full(np.shape(m_gd), np.nan)
    for i, (mg, ma) in enumerate(zip(np.ravel(m_gd), np.ravel(np.broadcast_to(m_a, np.shape(m_gd))))):
        if ma + mg < V.mass_gev:
            br1 = _mesons.br_to_a_gd(V, float(ma), float(mg), 1.0)
            if br1 > 0:
                g[i] = math.sqrt(lim / br1)
    return g, cite


def _constraints_fallback(which, m_gd, m_a) -> list[dict]:
    out = []
    note = ("Br(V→aγD)·Br(γD→inv) with Br(γD→inv)=1 (m_a ≪ m_γD, α_D ≫ g² m_γD²); "
            "VMD widths of PHYSICS.md §2; bound derived in PHYSICS.md §6")
    if "babar" in which:
        g, cite = _meson_bound("upsilon", m_gd, m_a)
        out.append({"key": "babar", "label": "BaBar Υ(1S)→inv", "kind": "upper", "m": np.asarray(m_gd), "g": g,
                    "provenance": f"{cite}; {note}"})
    if "besiii" in which:
        for mes, lab in (("omega", "BESIII ω→inv"), ("phi", "BESIII φ→inv")):
            g, cite = _meson_bound(mes, m_gd, m_a)
            out.append({"key": "besiii", "label": lab, "kind": "upper", "m": np.asarray(m_gd), "g": g,
                        "provenance": f"{cite}; {note}"})
    if "sn1987a" in which:
        band = _sn_band()
        if band is not None:
            out.append(band)
    return out


_SN_CACHE: dict = {}


def _sn_band():
    if "band" in _SN_CACHE:
        return _SN_CACHE["band"]
    band = None
    for d in _LIMITS_DIRS:
        if d is None:
            continue
        lo_f, hi_f = d / "Heavy_dark_photon_Supernova_Emission_low.txt", d / "Heavy_dark_photon_Supernova_Emission_high.txt"
        if lo_f.is_file() and hi_f.is_file():
            ml, gl = _read_two_columns(lo_f)
            mh, gh = _read_two_columns(hi_f)
            lo_m, hi_m = max(ml.min(), mh.min()), min(ml.max(), mh.max())
            m = np.geomspace(lo_m, hi_m, 120)
            lo = np.exp(np.interp(np.log(m), np.log(ml), np.log(gl)))
            hi = np.exp(np.interp(np.log(m), np.log(mh), np.log(gh)))
            band = {"key": "sn1987a", "label": "SN1987A", "kind": "band", "m": m, "lo": lo, "hi": hi,
                    "provenance": ("Hook, Marques-Tavares, Ristow, JHEP 06 (2021) 167, arXiv:2105.06476 Fig. 8, "
                                   "digitised by K. Jodłowski (github.com/krzysztofjjodlowski/"
                                   "Looking_forward_to_photon_coupled_LLPs, MIT); masses in GeV; m_a ≪ m_γD")}
            break
    _SN_CACHE["band"] = band
    return band


# ------------------------------------------------------------------------------------ EDM
EDM_SCENARIOS = ("light-alp", "degenerate")


def edm_curve(fermion: str, cutoff: float, scenario: str, m_gd_grid) -> np.ndarray:
    """Bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] vs m_γD (physics.edm.edm_bound_curve)."""
    _, bound = _edm.edm_bound_curve(fermion, cutoff, scenario, m_gd_grid=np.asarray(m_gd_grid, dtype=float))
    return np.asarray(bound, dtype=float)


def edm_table(cutoffs, m_gd_ref: float) -> list[dict]:
    return _edm.edm_table(cutoffs=tuple(cutoffs), m_gd_ref=float(m_gd_ref))


def versions() -> dict:
    from physics import __version__
    from physics.version import PHYSICS_VERSION, SCHEMA_VERSION

    return {"package": __version__, "physics_version": PHYSICS_VERSION, "schema_version": SCHEMA_VERSION}
