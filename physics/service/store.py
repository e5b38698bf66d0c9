"""Where σ_V tables come from: shipped precomputed tables → persistent cache → computation.

``get_sigma_table(config, method="etl", rel_error=0.01, seed=1, masses=None, progress=None)`` is the one
entry point of the CLI (``xsec``, ``reach``) and the dashboard. Lookup order:

1. **precomputed** (method "etl" only): a table shipped in ``precomputed/`` (or ``$DAP_PRECOMPUTED_DIR``)
   whose configuration key matches (the key contains the physics and schema versions), every point ok and
   at least the requested precision (point relative errors ≤ ``rel_error``). With explicit ``masses`` it is
   used when every requested mass is on its grid. A shipped table made by another physics version is
   *stale*: it is never served; a :class:`StalePrecomputedWarning` says so and the table is recomputed.
   The seed does not select precomputed tables (any table at the requested precision serves).
2. **cache**: the whole table (one read) or, failing that, its points in the persistent cache
   (``physics.service.cache``). Entries computed on a non-local executor (a Dask cluster) live in that executor's
   cache namespace and are read only by jobs on it (``physics.service.jobs``), never by local lookups.
3. **compute**: only the missing points, through :mod:`physics.service.jobs` (a local process pool for "etl";
   inline for the cheap analytic "iww"); each point is cached as it lands.

Tables are whole x range tables (``SigmaVConfig.whole_range``; every missing-energy cut is applied to them,
``SigmaVTable.sigma_at(..., x_min=...)``), so experiments that differ only in their cut share one table.

Mass grid (``masses=None``): :func:`mass_grid` — ``SigmaVConfig.default_mass_grid(n)`` with the smallest n
(60 to 100, in steps of 10) whose interpolation error is < 1% for σ_V, for σ_V above the cuts
:data:`GRID_CHECK_CUTS` and for every open dσ_V/dx bin (:func:`dsdx_check_max_mass_gev`), tested on the
IWW approximation by the half-grid test (:func:`half_grid_parts`): ``default_mass_grid(2n − 1)`` holds the
n-point grid (even entries) and the midpoints of its intervals in the grid variable (odd entries); the
interpolation of the n-point table is compared with the exact IWW values at those midpoints. The chosen n is
memoised and cached per configuration.

Seeds: point i of a request (masses sorted ascending) uses ``seed + i``, as ``physics.xsec.etl.compute_table``
does, so a table computed in parallel is identical to the serial one.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import re
import threading
import warnings
from dataclasses import dataclass
from typing import Callable
from pathlib import Path

import numpy as np

from physics import errors
from physics.xsec import sigma_v as _st
from physics.service.cache import get_cache, norm_mass
from physics.xsec.methods import ANALYTIC_METHODS, DEFAULT_METHOD, Method
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint, SigmaVTable, StaleTableError

#: Environment variable overriding the directory of shipped precomputed tables.
ENV_PRECOMPUTED_DIR = "DAP_PRECOMPUTED_DIR"
#: Interpolation tolerance of the automatic mass grid, smallest n, step and largest n.
GRID_TOL = 0.01
GRID_N_MIN, GRID_N_STEP, GRID_N_MAX = 60, 10, 100
#: Allowed requested relative MC precision.
REL_ERROR_RANGE = (1e-4, 0.5)
MAX_MASSES = 1000


class StalePrecomputedWarning(UserWarning):
    """A shipped precomputed table does not match the running physics/schema version (not used)."""


class IncompleteTableWarning(UserWarning):
    """Some points of a computed table did not reach the requested precision (kept, flagged, not cached)."""


#: Sub-directory of the ``physics`` package holding the shipped tables in an installed wheel (package data
#: ``physics.precomputed``: pyproject.toml maps it onto the repository's top-level ``precomputed/``, the one copy).
PRECOMPUTED_SUBDIR = "precomputed"


def precomputed_dir() -> Path:
    """Directory of the shipped σ_V tables: ``$DAP_PRECOMPUTED_DIR`` if set; else, in an installed wheel, the
    package data ``physics/precomputed`` (located with :mod:`importlib.resources`); else — a checkout, used
    directly or through an editable install — the repository's ``precomputed/`` next to this ``physics``
    package (so a checkout never reads another checkout's or an installed copy's tables). Installed packages
    live on a file system (pip never installs zipped), so this is a :class:`~pathlib.Path`."""
    env = os.environ.get(ENV_PRECOMPUTED_DIR)
    if env:
        return Path(env).expanduser()
    from importlib import resources

    shipped = resources.files("physics").joinpath(PRECOMPUTED_SUBDIR)
    if shipped.is_dir():
        if not isinstance(shipped, Path):
            raise RuntimeError(f"the package data {shipped!r} is not on a file system; install the package "
                               "unzipped (pip does)")
        return shipped
    return Path(__file__).resolve().parents[2] / PRECOMPUTED_SUBDIR


#: Longest file name stem :func:`config_slug` returns (file systems allow 255 bytes).
SLUG_MAX_CHARS = 160


def config_slug(config: SigmaVConfig) -> str:
    """File name stem of a precomputed table, e.g. ``sigmaV_Pb_100GeV_x0-1_elastic_endpoint67`` (electrons, whole
    x range, 67 "endpoint" bins), ``sigmaV_mu_Pb_160GeV_x0-1_elastic_endpoint58`` (muons) or ``sigmaV_Pb_100GeV_x0.5-1_elastic_nx20`` (20 uniform bins of [0.5, 1]).

    Safe as a file name: characters other than ``A-Z a-z 0-9 . _ -`` (e.g. the ``/`` of a material named
    ``../../x``) become ``_``; a stem that had to be changed or cut to :data:`SLUG_MAX_CHARS` ends in a hash
    of the original (so different configurations keep different file names)."""
    c = config
    ff = c.form_factor.replace("+", "-")
    bins = f"endpoint{c.n_x_bins}" if getattr(c, "x_binning", "uniform") == "endpoint" else f"nx{c.n_x_bins}"
    lepton = getattr(c, "lepton", "e")
    beam = "" if lepton == "e" else f"{lepton}_"  # electron names unchanged; other beams name their lepton
    raw = f"sigmaV_{beam}{c.target}_{c.beam_energy_gev:g}GeV_x{c.x_min:g}-{c.x_max:g}_{ff}_{bins}"
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", raw)
    if slug != raw or len(slug) > SLUG_MAX_CHARS:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        slug = f"{slug[:SLUG_MAX_CHARS - 13]}_{digest}"
    return slug


# ------------------------------------------------------------------------------------------ requests
#: method -> "module:function" or a top-level callable. Monte Carlo methods are called as
#: fn(config, mass_gev, rel_error=..., seed=...); analytic ones (``physics.xsec.methods.ANALYTIC_METHODS``: "iww")
#: as fn(config, mass_gev). "etl" table points hold their precision above the missing-energy cuts
#: (physics.xsec.table_points).
POINT_FUNCTIONS: dict[str, str | Callable] = {
    Method.ETL.value: "physics.xsec.table_points:etl_table_point",
    Method.IWW.value: "physics.xsec.iww:iww_point",
}


def available_methods() -> tuple[str, ...]:
    """Methods with a registered point function."""
    return tuple(POINT_FUNCTIONS)


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



@dataclass(frozen=True)
class TableRequest:
    """A validated request: configuration, method, precision, base seed, masses (None = automatic grid)."""

    config: SigmaVConfig
    method: str
    rel_error: float
    seed: int
    masses: tuple | None

    @property
    def analytic(self) -> bool:
        """True for an analytic method (no Monte Carlo: precision and seed do not apply)."""
        return self.method in ANALYTIC_METHODS

    def resolved_masses(self) -> list[float]:
        return list(self.masses) if self.masses is not None else [norm_mass(m) for m in mass_grid(self.config)]

    def seeds(self, masses) -> list[int]:
        return [self.seed + i for i in range(len(masses))]


def make_request(config, method: str = DEFAULT_METHOD, rel_error: float = 0.01, seed: int = 1,
                 masses=None) -> TableRequest:
    """Validate everything up front (InputError naming the parameter) — no work starts on bad input."""
    if isinstance(config, dict):
        try:
            config = SigmaVConfig.from_dict(config)
        except TypeError as exc:
            raise errors.InputError("config", "a SigmaVConfig or its dict", config, str(exc)) from None
    if not isinstance(config, SigmaVConfig):
        raise errors.InputError("config", "a SigmaVConfig", type(config).__name__)
    config.validate()
    method = str(errors.one_of("method", method, available_methods()))  # a Method member → its plain name
    rel_error = errors.in_range("rel_error", rel_error, *REL_ERROR_RANGE)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0 or seed > 2 ** 31:
        raise errors.InputError("seed", "an integer in [0, 2^31]", seed)
    if masses is not None:
        try:
            arr = np.asarray(masses, dtype=float).ravel()
        except (TypeError, ValueError):
            raise errors.InputError("masses", "a list of masses in GeV", masses) from None
        mmax = config.max_mass_gev
        allowed = f"1 to {MAX_MASSES} finite masses in (0, {mmax:g}] GeV (0.9 of the kinematic limit)"
        if arr.size == 0 or arr.size > MAX_MASSES:
            raise errors.InputError("masses", allowed, f"{arr.size} masses")
        if not np.all(np.isfinite(arr)):
            raise errors.InputError("masses", allowed, float(arr[~np.isfinite(arr)][0]))
        if np.any(arr <= 0) or np.any(arr > mmax * (1 + 1e-9)):
            bad = arr[(arr <= 0) | (arr > mmax * (1 + 1e-9))]
            raise errors.InputError("masses", allowed, float(bad[0]))
        masses = tuple(sorted({norm_mass(m) for m in arr}))
    return TableRequest(config, method, float(rel_error), int(seed), masses)


# --------------------------------------------------------------------------------------- mass grid
_grid_memo: dict[str, int] = {}
_grid_lock = threading.Lock()


#: A dσ/dx bin [x_lo, x_hi] enters the half-grid check at a midpoint when the upper grid mass of its interval
#: is ≤ this fraction of x_lo E0 (see dsdx_check_max_mass_gev).
DSDX_CHECK_THRESHOLD_FRACTION = 0.9
#: Cuts x_min at which σ_V(x ≥ x_min) is part of the half-grid check (besides the total): the benchmark cuts
#: (NA64e 0.5, LDMX 0.7) and two more across the range of the dashboard's cut control.
GRID_CHECK_CUTS = (0.3, 0.5, 0.7, 0.9)


def dsdx_check_max_mass_gev(config: SigmaVConfig, x_lo: float | None = None) -> float:
    """Largest mass [GeV] at which a dσ/dx bin starting at ``x_lo`` (default: the lowest bin, at x_min) is part
    of the half-grid interpolation check.

    E_V ≥ M, so a bin [x_lo, x_hi] is kinematically closed for M > x_hi E0 and opens between two grid masses
    when x_lo E0 < M < x_hi E0: there dσ/dx(M) of that bin has a kink (threshold) that no smooth
    interpolation in M follows. Below x_lo E0 the bin is open, but it still grows like the V velocity
    β = sqrt(1 − M²/(x E0)²), whose square-root threshold spoils interpolation in the last grid intervals
    before it. A bin is therefore checked only for masses M ≤ 0.9 x_lo E0 (β ≥ 0.44 in the bin). For a whole
    x range table (x_min = 0) the lowest bins are never checked (closed for every mass but at x = 0), the
    bins near x = 1 for every mass up to 0.9 E0. σ_V itself, and σ_V above the cuts of
    :data:`GRID_CHECK_CUTS`, are checked on the whole grid. The rule is recorded in the provenance of every
    table (``interpolation_check``)."""
    lo = float(config.x_min if x_lo is None else x_lo)
    return DSDX_CHECK_THRESHOLD_FRACTION * lo * float(config.beam_energy_gev)


def half_grid_parts(config: SigmaVConfig, n: int) -> dict:
    """Largest relative interpolation errors of an n-point table at its interval midpoints (IWW), per part:
    "sigma" (σ_V over the table window), "cut <c>" (σ_V(x ≥ c) for each c of :data:`GRID_CHECK_CUTS` inside the
    window, where it is > 0) and "dsdx" (every bin above 1e-6 of the largest at that mass whose interval lies
    below :func:`dsdx_check_max_mass_gev` of the bin)."""
    from physics.xsec.iww import iww_point

    fine = config.default_mass_grid(2 * int(n) - 1)
    pts = [iww_point(config, float(m)) for m in fine]
    table = SigmaVTable(config=config, points=pts[::2])
    exact = SigmaVTable(config=config, points=pts[1::2])
    mid = fine[1::2]
    upper = np.asarray(fine[2::2], dtype=float)          # the upper grid mass of each midpoint's interval
    out = {}

    def worst(got, want):
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.where(want > 0, np.abs(got / want - 1.0), 0.0)
        return float(np.nanmax(err)) if err.size else 0.0

    out["sigma"] = worst(table.sigma_at(mid), exact.sigma_pb)
    for c in GRID_CHECK_CUTS:
        if config.x_min < c < config.x_max:
            out[f"cut {c:g}"] = worst(table.sigma_at(mid, x_min=c), exact.window_pb(c)[0])
    exact_d = exact.dsdx_pb
    with np.errstate(divide="ignore", invalid="ignore"):
        got_d = table.dsdx_at(mid)
        relevant = exact_d > 1e-6 * exact_d.max(axis=1, keepdims=True)
        lo_edges = config.x_edges[:-1]
        relevant &= upper[:, None] <= DSDX_CHECK_THRESHOLD_FRACTION * lo_edges[None, :] * config.beam_energy_gev
        err_d = np.where(relevant, np.abs(got_d / exact_d - 1.0), 0.0)
    out["dsdx"] = float(np.nanmax(err_d)) if err_d.size else 0.0
    return out


def half_grid_error(config: SigmaVConfig, n: int) -> float:
    """Max relative interpolation error of an n-point table at its interval midpoints (IWW) over the parts
    of :func:`half_grid_parts`: σ_V, σ_V above the check cuts, and the open dσ/dx bins."""
    return max(half_grid_parts(config, n).values())


def _grid_key(config: SigmaVConfig, tol: float) -> str:
    return config.key(extra={"kind": "grid", "tol": repr(float(tol)), "n_min": GRID_N_MIN,
                             "n_step": GRID_N_STEP, "n_max": GRID_N_MAX,
                             "dsdx_check_fraction": DSDX_CHECK_THRESHOLD_FRACTION,
                             "check_cuts": list(GRID_CHECK_CUTS)})


def choose_n_masses(config: SigmaVConfig, tol: float = GRID_TOL, compute: bool = True) -> int | None:
    """Smallest n (≥ 60, step 10, ≤ 100) with :func:`half_grid_error` < tol; memoised and cached.

    With ``compute=False`` only memory/cache are consulted (None if unknown).
    """
    key = _grid_key(config, tol)
    with _grid_lock:
        if key in _grid_memo:
            return _grid_memo[key]
    cache = get_cache()
    hit = cache.get_json(key)
    if isinstance(hit, dict) and isinstance(hit.get("n"), int):
        with _grid_lock:
            _grid_memo[key] = hit["n"]
        return hit["n"]
    if not compute:
        return None
    n = GRID_N_MIN
    err = half_grid_error(config, n)
    checked = {n: err}
    if err >= tol:
        # interpolation error falls roughly like n^-1.7 here: jump close to the answer, then step up
        guess = n * (err / (0.9 * tol)) ** (1 / 1.7)
        n = min(GRID_N_MAX, int(math.ceil(guess / GRID_N_STEP) * GRID_N_STEP))
        while True:
            err = checked.setdefault(n, half_grid_error(config, n))
            if err < tol or n >= GRID_N_MAX:
                break
            n += GRID_N_STEP
        # never overshoot: step down while the smaller grid still passes
        while n - GRID_N_STEP >= GRID_N_MIN and n - GRID_N_STEP not in checked:
            e = half_grid_error(config, n - GRID_N_STEP)
            checked[n - GRID_N_STEP] = e
            if e >= tol:
                break
            n -= GRID_N_STEP
    cache.put_json(key, {"n": n, "tol": tol, "half_grid_errors": {str(k): v for k, v in checked.items()}})
    with _grid_lock:
        _grid_memo[key] = n
    return n


def mass_grid(config: SigmaVConfig, n: int | None = None, tol: float = GRID_TOL) -> np.ndarray:
    """The automatic mass grid of a configuration (see module docstring), masses normalised."""
    n = choose_n_masses(config, tol) if n is None else int(n)
    return np.array([norm_mass(m) for m in config.default_mass_grid(n)])


# --------------------------------------------------------------------------------------- precomputed
@dataclass
class _Precomputed:
    tables: dict            # key -> SigmaVTable (fresh, validated)
    stale: list             # (canonical config json, path, reason)
    paths: dict             # key -> Path


_pre_memo: dict[tuple, _Precomputed] = {}
_pre_lock = threading.Lock()


def _canon(config_dict: dict) -> str | None:
    try:
        return json.dumps(SigmaVConfig.from_dict(config_dict).canonical(), sort_keys=True)
    except Exception:
        return None


def _precomputed_state() -> _Precomputed:
    d = precomputed_dir()
    try:
        files = sorted(d.glob("*.json"))
        sig = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        files, sig = [], ()
    memo_key = (str(d), sig, _st.PHYSICS_VERSION, _st.SCHEMA_VERSION)
    with _pre_lock:
        hit = _pre_memo.get(memo_key)
        if hit is not None:
            return hit
        tables, stale, paths = {}, [], {}
        for f in files:
            try:
                raw = json.loads(f.read_text())
            except (OSError, ValueError) as exc:
                warnings.warn(f"precomputed table {f} is unreadable ({exc}); ignored", StalePrecomputedWarning,
                              stacklevel=3)
                continue
            if not isinstance(raw, dict) or "points" not in raw:
                continue
            try:
                t = SigmaVTable.from_dict(raw)
                if t.provenance.get("method", Method.ETL.value) != Method.ETL:
                    raise StaleTableError(f"method {t.provenance.get('method')!r}, expected {Method.ETL.value!r}")
                if not t.all_ok or not t.points:
                    raise StaleTableError("incomplete (a point is not ok)")
            except StaleTableError as exc:
                stale.append((_canon(raw.get("config", {})), f, str(exc)))
                warnings.warn(f"precomputed table {f.name} is not usable: {exc}", StalePrecomputedWarning,
                              stacklevel=3)
                continue
            except Exception as exc:
                stale.append((_canon(raw.get("config", {})), f, f"malformed: {exc}"))
                warnings.warn(f"precomputed table {f.name} is malformed ({exc}); ignored",
                              StalePrecomputedWarning, stacklevel=3)
                continue
            k = t.config.key()
            tables[k] = t
            paths[k] = f
        state = _Precomputed(tables, stale, paths)
        _pre_memo.clear()
        _pre_memo[memo_key] = state
        return state


def load_precomputed() -> dict[str, SigmaVTable]:
    """All usable shipped tables, keyed by ``config.key()`` (lazy, memoised; reloaded if files change)."""
    return dict(_precomputed_state().tables)


def _precomputed_for(req: TableRequest, warn: bool = True) -> SigmaVTable | None:
    if req.method != Method.ETL:
        return None
    state = _precomputed_state()
    t = state.tables.get(req.config.key())
    if t is None:
        if warn:
            canon = json.dumps(req.config.canonical(), sort_keys=True)
            for c, path, why in state.stale:
                if c == canon:
                    warnings.warn(f"precomputed table {path.name} for this configuration is not used ({why}); "
                                  "falling back to the cache / a new computation", StalePrecomputedWarning,
                                  stacklevel=4)
        return None
    req_rel = req.rel_error * (1 + 1e-9)
    made_rel = t.provenance.get("rel_error")
    if made_rel is not None and float(made_rel) > req_rel:
        return None
    from physics.xsec.table_points import PRECISION_CUT_MAX

    if (t.provenance.get("settings") or {}).get("precision_cut_max") != PRECISION_CUT_MAX:
        return None                 # made to hold its precision at other cuts
    if any(p.sigma.rel_error > req_rel for p in t.points):
        return None
    if req.masses is None:
        return t
    grid = t.masses_gev
    picked = []
    for m in req.masses:
        i = int(np.argmin(np.abs(grid - m)))
        if not math.isclose(grid[i], m, rel_tol=1e-9):
            return None
        picked.append(t.points[i])
    return SigmaVTable(config=t.config, points=picked,
                       provenance={**t.provenance, "subset_of": state.paths[req.config.key()].name})


# -------------------------------------------------------------------------------------------- lookup
def lookup(req: TableRequest, compute_grid: bool = True, use_precomputed: bool = True,
           use_cache: bool = True, namespace: str | None = None):
    """(source, table or None, masses, cached points {index: point}) without computing any σ_V point.

    source is "precomputed" or "cache" when ``table`` is complete, else "compute" (masses None if the
    automatic grid is not known yet and ``compute_grid`` is False). ``namespace``: the cache namespace of a
    non-local executor (``JobService.cache_namespace``); its entries are used in addition to the local
    (trusted) ones, which are always consulted first. Local lookups (None) never see namespaced entries.
    """
    if use_precomputed:
        t = _precomputed_for(req)
        if t is not None:
            return "precomputed", t, list(t.masses_gev), {}
    if req.masses is None:
        n = choose_n_masses(req.config, compute=compute_grid)
        if n is None:
            return "compute", None, None, {}
        masses = [norm_mass(m) for m in req.config.default_mass_grid(n)]
    else:
        masses = list(req.masses)
    if not use_cache:
        return "compute", None, masses, {}
    cache = get_cache()
    rel = None if req.analytic else req.rel_error
    seed = None if req.analytic else req.seed
    spaces = [None] + ([namespace] if namespace else [])
    for ns in spaces:
        t = cache.get_table(req.config, masses, req.method, rel, seed, namespace=ns)
        if t is not None:
            return "cache", t, masses, {}
    seeds = req.seeds(masses)
    have = {}
    from_namespace = False
    for i, m in enumerate(masses):
        for ns in spaces:
            p = cache.get_point(req.config, m, req.method, rel, None if req.analytic else seeds[i], namespace=ns)
            if p is not None:
                have[i] = p
                from_namespace |= ns is not None
                break
    if len(have) == len(masses):
        table = assemble(req, masses, [have[i] for i in range(len(masses))], source="cache")
        cache.put_table(table, req.method, rel, seed, namespace=namespace if from_namespace else None)
        return "cache", table, masses, have
    return "compute", None, masses, have


def table_source(config, method: str = DEFAULT_METHOD, rel_error: float = 0.01, seed: int = 1,
                 masses=None) -> str:
    """Where :func:`physics.service.provider.get_sigma_table` would get this table now: "precomputed", "cache" or "compute".

    Cheap (no σ_V point is computed; an unknown automatic grid means "compute").
    """
    req = make_request(config, method, rel_error, seed, masses)
    return lookup(req, compute_grid=False)[0]


def provenance_for(req: TableRequest, masses, extra: dict | None = None) -> dict:
    """Provenance header of a table made by this machinery (per-point error, Q, seed and VEGAS settings are
    in each point's ``sigma``)."""
    prov = {"method": req.method, "rel_error": None if req.analytic else req.rel_error,
            "seed": None if req.analytic else req.seed,
            "seeds": None if req.analytic else req.seeds(masses),
            "seed_rule": None if req.analytic else "point i (masses ascending) uses seed + i",
            "n_masses": len(masses), "date": _st.now_iso()}
    if req.masses is None:
        prov["mass_grid"] = (f"SigmaVConfig.default_mass_grid({len(masses)}): "
                             f"{masses[0]:g}–{masses[-1]:g} GeV, n chosen by the IWW half-grid test "
                             f"(interpolation error < {GRID_TOL:g} for sigma_V, sigma_V above the cuts "
                             f"{', '.join(f'{c:g}' for c in GRID_CHECK_CUTS)} and the open dsigma/dx bins; "
                             "physics.service.store.mass_grid)")
    if req.config.x_binning == "endpoint":
        prov["x_binning"] = (f"whole x range: {_st.X_STEP:g} wide bins up to x = {_st.X_LOG_FROM:g}, then "
                             f"{_st.X_LOG_PER_DECADE} per decade of 1 - x down to {_st.X_OMX_MIN:g}, then one bin to "
                             "1 - m_e/E0; a cut is applied by summing bins, PCHIP of the cumulative inside a bin "
                             f"(interpolation error <= {_st.X_INTERPOLATION_ERROR:g} relative)")
    if req.method == Method.ETL:
        try:
            import vegas

            prov["vegas_version"] = vegas.__version__
        except ImportError:  # pragma: no cover
            pass
        prov["engine"] = "physics.xsec.table_points.etl_table_point (physics.xsec.etl.sigma_v_point)"
        try:
            from physics.xsec import etl, table_points

            prov["settings"] = {k.lower(): getattr(etl, k) for k in
                                ("NITN_ADAPT", "NITN_MIN", "NEVAL_MIN", "NEVAL_MAX", "NEVAL_PER_REL2", "MAX_Q_RETRIES",
                                 "FINAL_OMZ_MIN", "ALPHA", "NINC")
                                if hasattr(etl, k)}
            prov["settings"].update({k.lower(): getattr(table_points, k) for k in
                                     ("PRECISION_CUT_MAX", "MAX_RAISES", "SAFETY", "MIN_TOTAL_FRACTION")})
            prov["precision"] = (f"rel_error {req.rel_error:g} holds for sigma_V(x >= c) at every table edge "
                                 f"c <= max(x_min, {table_points.PRECISION_CUT_MAX:g}) (conservative error bound, "
                                 "physics.xsec.sigma_v.window_sums); the total is more precise")
        except ImportError:
            pass
    elif req.method == Method.IWW:
        prov["engine"] = "physics.xsec.iww.iww_point"
        prov["source"] = ("Bjorken, Essig, Schuster, Toro, PRD 80 (2009) 075018, Eqs. (A14)-(A17) "
                          "(docs/physics.md#iww)")
    if extra:
        prov.update(extra)
    return prov


def assemble(req: TableRequest, masses, points, source: str, extra: dict | None = None) -> SigmaVTable:
    prov = provenance_for(req, masses, extra)
    prov["source"] = source if "source" not in prov else f"{prov['source']}; {source}"
    bad = [p.mass_gev for p in points if not p.sigma.ok]
    if bad:
        prov["incomplete_points_gev"] = bad
    return SigmaVTable(config=req.config, points=list(points), provenance=prov)


__all__ = ["POINT_FUNCTIONS", "point_function", "available_methods", "table_source", "load_precomputed", "precomputed_dir", "mass_grid",
           "choose_n_masses", "half_grid_error", "half_grid_parts", "dsdx_check_max_mass_gev", "config_slug",
           "make_request", "TableRequest",
           "StalePrecomputedWarning", "IncompleteTableWarning", "lookup", "SigmaVPoint"]
