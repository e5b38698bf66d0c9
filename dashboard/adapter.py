"""The one place where the dashboard talks to ``physics/``.

Everything the dashboard needs from the physics layer goes through the functions here, so a change of a
physics API is a change in this file only. No physics is done here — only calls, array plumbing and the
bookkeeping of which table a session is waiting for.

Process-wide state kept here is limited to what may be shared between sessions: read-only σ_V tables
(memoised by content key) and the shared job service (``physics.jobs``; identical requests from several
sessions share one computation there, and a computation is cancelled only when every session's handle
has been cancelled).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from physics import __version__ as _pkg_version
from physics import constraints as _constraints
from physics import edm as _edm
from physics import errors
from physics import experiments as _experiments
from physics import factorisation as _fact
from physics import jobs as _jobs
from physics import meson_yields as _meson_yields
from physics import reach as _reach
from physics import sigma_table as _st
from physics import statistics as _stats
from physics import store as _store
from physics import targets as _targets
from physics import yields as _yields
from physics.version import PHYSICS_VERSION, SCHEMA_VERSION

log = logging.getLogger("dashboard.adapter")

InputError = errors.InputError

#: Channel keys as physics.reach returns them (brem, each meson), in display order.
MESON_KEYS = tuple(_yields.MESON_CHANNELS)
CHANNELS = ("brem",) + MESON_KEYS
METHODS = tuple(_yields.METHODS)

TABLE_MIN_MASS_GEV = _st.M_TABLE_MIN_GEV
TABLE_CAP_GEV = _st.M_TABLE_CAP_GEV
M_NEUTRON_GEV = _edm.FERMIONS["n"].mass_gev
M_A_LIGHT_GEV = _edm.DEFAULT_M_A_LIGHT_GEV
FERMIONS = {k: f.name for k, f in _edm.FERMIONS.items()}
EDM_LIMITS = {k: v.to_dict() for k, v in _edm.EDM_LIMITS.items()}
EDM_SCENARIOS = ("light-alp", "degenerate")


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
    if method not in ("iww",):
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
_SERVICES: dict[str, object] = {}
_SERVICES_LOCK = threading.Lock()


#: schemes accepted for a per-session Dask scheduler address (dashboard "Compute" card)
SCHEDULER_SCHEMES = ("tcp://", "tls://")
SCHEDULER_CONNECT_TIMEOUT_S = 5.0


def default_executor_spec() -> str:
    """The server's default job executor (``$DAP_JOB_EXECUTOR``; empty = local process pool)."""
    return os.environ.get("DAP_JOB_EXECUTOR", "").strip()


def job_service(method: str, spec: str | None = None):
    """The process-wide job service for a method (and executor spec).

    Exact tables (VEGAS) go to ``spec`` if given (a Dask scheduler address chosen by a session), else to
    ``$DAP_JOB_EXECUTOR`` ("process", the default: a local process pool, so the server's event loop stays
    responsive; "thread"; or a Dask scheduler address). One service is cached per spec and shared by the
    sessions using it. The analytic IWW points are cheap and run in the service's coordinator thread
    (``physics.jobs.inline_service``), as the store does.

    Raises InputError if a Dask scheduler cannot be reached (nothing is cached then).
    """
    if method == "iww":
        return _jobs.inline_service()
    spec = (spec or "").strip() or default_executor_spec()
    if not spec or spec == "process":
        return _jobs.default_service()
    with _SERVICES_LOCK:
        svc = _SERVICES.get(spec)
        if svc is None:
            kw = {"connect_timeout": SCHEDULER_CONNECT_TIMEOUT_S} if "://" in spec else {}
            svc = _SERVICES[spec] = _jobs.JobService(spec, **kw)
        return svc


def connect_scheduler(address: str) -> str:
    """Check a Dask scheduler address typed in the dashboard and connect to it (cached service).

    Returns the normalised address; raises InputError("scheduler", …) if it is not ``tcp://host:port`` /
    ``tls://host:port`` or the scheduler cannot be reached within SCHEDULER_CONNECT_TIMEOUT_S.
    """
    addr = str(address or "").strip()
    allowed = "a Dask scheduler address tcp://host:port (empty: local process pool)"
    rest = addr.split("://", 1)[1] if "://" in addr else ""
    if not addr.startswith(SCHEDULER_SCHEMES) or not rest or ":" not in rest.strip("[]") \
            or not rest.rsplit(":", 1)[1].isdigit():
        raise InputError("scheduler", allowed, addr)
    try:
        job_service("etl", addr)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any connection problem is a user-visible message
        raise InputError("scheduler", allowed, addr, f"{type(exc).__name__}: {exc}") from None
    return addr


@dataclass
class TableStatus:
    """What a session gets when it asks for a table: the table (if available now), where it came from, or
    its own job handle (``job``: progress / partial_table / state / error)."""

    key: tuple
    source: str                  # "precomputed" | "cache" | "compute" | "failed" | "cancelled"
    table: object = None
    job: object = None
    error: str = ""
    computed: bool = False       # True once a job of this session finished the table

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


def request_table(config, method: str, rel_error: float = 0.01, seed: int = 1,
                  executor: str | None = None) -> TableStatus:
    """Ask for the σ_V table of ``config``; never blocks on a computation.

    Precomputed or cached tables are loaded now (fast) and memoised; otherwise a job is submitted to the
    shared job service (which joins an identical running computation) and its handle returned for polling.
    ``executor``: the session's Dask scheduler address (None/empty: the server default, see job_service).
    """
    errors.one_of("method", method, METHODS)
    key = table_key(config, method, rel_error, seed)
    hit = _TABLES.get(key)
    if hit is not None:
        return TableStatus(key, hit[1], table=hit[0])
    src = _store.table_source(config, method, rel_error=rel_error, seed=seed)
    if src in ("precomputed", "cache"):
        table = _store.get_sigma_table(config, method=method, rel_error=rel_error, seed=seed)
        _TABLES.put(key, (table, src))
        return TableStatus(key, src, table=table)
    handle = job_service(method, executor).submit(config, method=method, rel_error=rel_error, seed=seed)
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
    """90% CL reach g_90 [GeV⁻¹] per channel vs m_γD (physics.reach.reach)."""
    r = _reach.reach(exp, m_gd, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi, method=method, table=table, g_ref=g_ref)
    g90 = dict(r["g90_GeV-1"])
    _mask_partial(g90, table, m_gd, m_a, ("brem", "total"))
    r = dict(r)
    r["g90_GeV-1"] = g90
    return r


def event_yields(exp, m_gd, g: float, m_a, alpha_d: float, m_chi, method: str, table) -> dict:
    """Expected signal events per channel at coupling g vs m_γD (physics.yields.event_yields)."""
    out = dict(_yields.event_yields(exp, m_gd, g, m_a=m_a, alpha_d=alpha_d, m_chi=m_chi, method=method,
                                    table=table))
    _mask_partial(out, table, m_gd, m_a, ("brem", "total"))
    return out


def model_meson_yields(exp) -> dict:
    """N_V per meson of the documented model (physics.meson_yields), ignoring the experiment's overrides."""
    return dict(_meson_yields.meson_yields_report(exp.replace(meson_yields={}))["computed_N_V"])


def validate_meson_yields(exp) -> dict:
    """The experiment's N_V per meson with its ``meson_yields`` overrides validated by physics (raises
    InputError naming ``meson_yields.<meson>``)."""
    if not exp.meson_yields:
        return {}
    return dict(_meson_yields.meson_yields_nv(exp))


def n_upper(exp) -> float:
    """Signal events excluded at 90% CL for the experiment's background/observed (physics.statistics, CLs)."""
    return float(_stats.poisson_upper_limit(int(exp.observed), float(exp.background)))


def spectrum(table, m_a: float, m_gd: float, g: float):
    """(x_edges, dσ/dx [pb per atom]) of e N → e N a γD in the table's x bins (physics.factorisation)."""
    return _fact.dsigma_portal_dx_pb(table, m_a, m_gd, g)


# ------------------------------------------------------------------------------------ other constraints
CONSTRAINT_KEYS = ("babar", "besiii", "sn1987a")
CONSTRAINT_LABELS = {"babar": "BaBar Υ(1S)→inv", "besiii": "BESIII ω/φ→inv", "sn1987a": "SN1987A"}


def _prov_text(prov) -> str:
    if isinstance(prov, str):
        return prov
    parts = [str(prov.get("source", ""))]
    for k in ("cl", "assumptions", "scenario", "units_note", "formula"):
        if prov.get(k) not in (None, ""):
            parts.append(f"{k}: {prov[k]}")
    return "; ".join(p for p in parts if p)


_SN = {}


def constraints(which, m_gd, m_a) -> list[dict]:
    """Other constraints as drawable regions (physics.constraints): dicts with key, label, kind ("upper":
    excluded above ``g``; "band": excluded between ``lo`` and ``hi``, ``hi`` NaN = above the plot), arrays
    ``m`` [GeV], ``g``/``lo``/``hi`` [GeV⁻¹] and ``provenance`` (text)."""
    out = []
    m_gd = np.asarray(m_gd, dtype=float)
    m_a = np.asarray(m_a, dtype=float)
    if "babar" in which:
        r = _constraints.babar_upsilon(m_gd, m_a)
        out.append({"key": "babar", "label": "BaBar Υ(1S)→inv", "kind": "upper", "m": m_gd, "m_a": m_a,
                    "g": np.asarray(r["g_max_GeV-1"], dtype=float), "provenance": _prov_text(r["provenance"])})
    if "besiii" in which:
        for d in _constraints.besiii(m_gd, m_a):
            out.append(dict(d, m_a=np.broadcast_to(m_a, m_gd.shape), provenance=_prov_text(d["provenance"])))
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
