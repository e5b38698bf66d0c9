"""Persistent cache of σ_V points and tables (diskcache/SQLite, JSON values with checksums — never pickle).

Location: ``$DAP_CACHE_DIR`` if set, else ``platformdirs.user_cache_dir("dark-axion-portal")``; the cache
lives in the ``sigma_v`` sub-directory. Folders the cache *creates* are owner-only (0700); the mode of an
existing folder is never changed. A location that is not a writable directory is an
:class:`~physics.errors.InputError` naming ``DAP_CACHE_DIR``.

Keys are canonical content hashes, :meth:`SigmaVConfig.key` with ``extra`` = kind (point/table/grid),
method, requested precision, seed and mass(es) — the physics and schema versions are inside the hash, so a
physics change can never serve an old number. Results computed on an executor that is not a local pool of
this machine (a Dask cluster, a caller's own executor) carry a *namespace* (e.g. ``"dask tcp://host:8786"``)
in their keys: they are served only to jobs on that same executor, never to local runs.

Integrity:

* Only complete, validated results are written: :func:`point_problem` (types; finite σ ≥ 0, error ≥ 0,
  0 ≤ Q ≤ 1, χ²/dof ≥ 0; the requested mass, seed and VEGAS settings; the error consistent with the claimed
  convergence; the right number of finite dσ/dx bins that integrate to σ within 3 σ-errors) and
  ``MCResult.ok``. A point that missed its precision is never cached. The same checks run on every read.
* Each value is stored as ``MAGIC + sha256(payload) + payload`` (payload: UTF-8 JSON). A write is one
  SQLite transaction (large values go to a file that is written *before* the row is committed), so a
  crash or ``SIGKILL`` mid-write leaves either the old state or the complete new entry.
* On read the checksum, the JSON and the physics content are verified; a corrupt or unreadable entry is
  discarded with a :class:`CacheCorruptionWarning` and reported as a miss (the caller recomputes). A cache
  that cannot be opened (any error: corrupt database, bad settings, undecodable text, a file where the
  folder should be …) is moved aside (``sigma_v.corrupt-<time>-<pid>``) and a fresh cache is started.
* A row whose value file name is absolute or resolves outside the cache folder is never read or deleted
  from disk (the row is discarded; :meth:`SigmaCache.check` reports it).

Keys and values are restricted to ``str`` and JSON-able dicts by :class:`JSONChecksumDisk`; anything else
raises ``TypeError`` (diskcache would otherwise fall back to pickle).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import sqlite3
import sys
import threading
import time
import warnings
from pathlib import Path

import diskcache
import numpy as np

from physics import errors
from physics.xsec.mc import MCResult
from physics.xsec.methods import ANALYTIC_METHODS, DEFAULT_METHOD, Method
from physics.xsec.sigma_v import SigmaVConfig, SigmaVPoint, SigmaVTable
from physics.xsec.table_points import PRECISION_CUT_MAX

#: Environment variable overriding the cache root directory.
ENV_CACHE_DIR = "DAP_CACHE_DIR"
APP_NAME = "dark-axion-portal"
SUBDIR = "sigma_v"
_MAGIC = b"DAPJ1\n"
_DIGEST = 32
#: dσ/dx bins must integrate to σ within this many σ-errors (plus a 1e-9 relative rounding allowance).
BIN_SUM_N_SIGMA = 3.0
BIN_SUM_REL_TOL = 1e-9


class CacheCorruptionWarning(UserWarning):
    """A cache entry (or the cache database) was unreadable and has been discarded."""


class CorruptEntryError(ValueError):
    """Raised by :class:`JSONChecksumDisk` when a stored value fails its checksum or does not decode."""


def cache_root() -> Path:
    """The cache root: ``$DAP_CACHE_DIR`` or the platform user cache dir for ``dark-axion-portal``."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def _make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents owner-only (0700). Existing folders are left as they are."""
    missing = []
    p = Path(path)
    while not (p.exists() or p.is_symlink()) and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:  # created concurrently by someone else: not ours to chmod
            continue
        os.chmod(d, 0o700)  # umask-proof; only for a folder this call created


def _check_root(root: Path) -> None:
    """Make sure the cache root is a usable directory (created 0700 if missing); InputError otherwise."""
    allowed = "a writable directory for the σ_V cache"
    try:
        if root.exists() or root.is_symlink():
            if not root.is_dir():
                raise errors.InputError(ENV_CACHE_DIR, allowed, str(root), "not a directory")
        else:
            _make_private_dir(root)
        if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
            raise errors.InputError(ENV_CACHE_DIR, allowed, str(root), "not writable")
    except OSError as exc:
        raise errors.InputError(ENV_CACHE_DIR, allowed, str(root),
                                f"{type(exc).__name__}: {exc.strerror or exc}") from None


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def encode_value(obj) -> bytes:
    payload = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False,
                         default=_json_default).encode("utf-8")
    return _MAGIC + hashlib.sha256(payload).digest() + payload


def decode_value(data) -> object:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CorruptEntryError(f"stored value has type {type(data).__name__}, expected bytes")
    data = bytes(data)
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + _DIGEST:
        raise CorruptEntryError("bad header")
    digest = data[len(_MAGIC):len(_MAGIC) + _DIGEST]
    payload = data[len(_MAGIC) + _DIGEST:]
    if hashlib.sha256(payload).digest() != digest:
        raise CorruptEntryError("checksum mismatch")
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CorruptEntryError(f"undecodable JSON: {exc}") from None


class JSONChecksumDisk(diskcache.Disk):
    """diskcache serialiser: str keys, JSON values with a sha256 checksum; refuses anything else (no pickle).

    Value files are only ever read or removed inside the cache folder (:meth:`confined`)."""

    def confined(self, filename) -> str:
        """Full path of a value file name from a row; CorruptEntryError if it is absolute, has ``..`` or
        resolves (symlinks followed) outside the cache folder."""
        if not isinstance(filename, str) or not filename or "\x00" in filename or os.path.isabs(filename) \
                or ".." in Path(filename).parts:
            raise CorruptEntryError(f"value file {filename!r} is not a relative path inside the cache folder")
        base = os.path.realpath(self._directory)
        full = os.path.realpath(os.path.join(self._directory, filename))
        if full == base or os.path.commonpath([base, full]) != base:
            raise CorruptEntryError(f"value file {filename!r} resolves outside the cache folder")
        return full

    def put(self, key):
        if type(key) is not str:
            raise TypeError(f"cache keys must be str, got {type(key).__name__}")
        return super().put(key)

    def get(self, key, raw):
        if not raw:
            raise CorruptEntryError("non-raw (pickled) key in cache")
        return super().get(key, raw)

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        if read:
            raise TypeError("file-like values are not supported")
        return super().store(encode_value(value), False, key=key)

    def fetch(self, mode, filename, value, read):
        if mode not in (diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY):
            raise CorruptEntryError(f"unexpected storage mode {mode}")
        if mode == diskcache.core.MODE_BINARY:
            self.confined(filename)
        return decode_value(super().fetch(mode, filename, value, False))

    def remove(self, file_path):
        try:
            self.confined(file_path)
        except CorruptEntryError as exc:
            warnings.warn(f"not removing {file_path!r}: {exc}", CacheCorruptionWarning, stacklevel=2)
            return
        super().remove(file_path)


def norm_mass(m: float) -> float:
    """Masses are normalised to 12 significant digits so keys are stable across platforms."""
    return float(f"{float(m):.12g}")


def precision_extra(method: str, rel_error: float | None, seed: int | None) -> dict:
    """The precision part of a key: analytic methods ignore rel_error and seed; "etl" table points also
    depend on the cuts at which they hold the precision (``physics.xsec.table_points.PRECISION_CUT_MAX``)."""
    if method in ANALYTIC_METHODS:
        return {"method": method, "rel_error": None, "seed": None}
    out = {"method": method, "rel_error": repr(float(rel_error)), "seed": int(seed)}
    if method == Method.ETL:
        out["precision_cut_max"] = PRECISION_CUT_MAX
    return out


def _namespace_extra(namespace: str | None) -> dict:
    """Key part of a non-local executor (absent for local results, so their keys are unchanged)."""
    return {"executor_namespace": str(namespace)} if namespace else {}


def point_key(config: SigmaVConfig, mass_gev: float, method: str, rel_error: float | None,
              seed: int | None, namespace: str | None = None) -> str:
    return config.key(extra={"kind": "point", "mass": repr(norm_mass(mass_gev)),
                             **precision_extra(method, rel_error, seed), **_namespace_extra(namespace)})


def table_key(config: SigmaVConfig, masses, method: str, rel_error: float | None, seed: int | None,
              namespace: str | None = None) -> str:
    ms = [repr(norm_mass(m)) for m in masses]
    return config.key(extra={"kind": "table", "masses": ms, **precision_extra(method, rel_error, seed),
                             **_namespace_extra(namespace)})


# ------------------------------------------------------------------------------------- validation
_PLAIN_NUMBERS = frozenset((float, int))


def _real(x) -> bool:
    return type(x) in _PLAIN_NUMBERS or (isinstance(x, (int, float, np.integer, np.floating))
                                        and not isinstance(x, (bool, np.bool_)))


@functools.lru_cache(maxsize=64)
def _bin_widths(config: SigmaVConfig) -> np.ndarray:
    w = np.diff(config.x_edges)
    w.setflags(write=False)
    return w


def _int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


#: (key in ``MCResult.settings``, constant of ``physics.xsec.etl``) pairs checked when both exist.
_ETL_CONSTANTS = (("nitn_adapt", "NITN_ADAPT"), ("neval_adapt", "NEVAL_ADAPT"), ("nitn", "NITN"),
                  ("nitn_min", "NITN_MIN"), ("alpha", "ALPHA"), ("maxinc_axis", "NINC"))


def engine_settings(method: str | None, rel_error: float | None = None) -> dict:
    """VEGAS settings a point of ``method`` must carry (where it carries them): the engine's own constants
    (see ``_ETL_CONSTANTS``), its default ``max_neval`` and, if the engine defines
    ``neval_per_iteration(rel_error)``, the neval per iteration (``neval_itn``) of the requested precision.

    Read from ``physics.xsec.etl`` only if it is already imported (the job service imports the engine of every
    method it runs; a process that only reads the cache does not pay the engine's ~1 s import)."""
    etl = sys.modules.get("physics.xsec.etl")
    if method != Method.ETL or etl is None:
        return {}
    out = dict(_etl_settings(etl))
    per_itn = getattr(etl, "neval_per_iteration", None)
    if rel_error is not None and callable(per_itn):
        try:
            out["neval_itn"] = per_itn(float(rel_error))
        except Exception:  # pragma: no cover - an engine that refuses this precision: nothing to compare
            pass
    return out


@functools.lru_cache(maxsize=4)
def _etl_settings(etl) -> tuple:
    import inspect

    out = {k: getattr(etl, name) for k, name in _ETL_CONSTANTS if hasattr(etl, name)}
    try:
        default = inspect.signature(etl.sigma_v_point).parameters["max_neval"].default
        if default is not inspect.Parameter.empty:
            out["max_neval"] = default
    except (KeyError, TypeError, ValueError):  # pragma: no cover - engine without that setting
        pass
    return tuple(out.items())


def _same(a, b) -> bool:
    if _real(a) and _real(b):
        return math.isclose(float(a), float(b), rel_tol=1e-12)
    return type(a) is type(b) and a == b


def _point_problem(config, point, mass_gev, method, rel_error, seed) -> str:
    if type(point) is not SigmaVPoint:
        return f"not a SigmaVPoint ({type(point).__name__})"
    s = point.sigma
    if type(s) is not MCResult:
        return f"sigma is a {type(s).__name__}, not an MCResult"
    m = point.mass_gev
    if not _real(m) or not math.isfinite(m) or m <= 0:
        return f"mass {m!r} is not a finite positive number of GeV"
    if mass_gev is not None and not math.isclose(float(m), float(mass_gev), rel_tol=1e-11):
        return f"mass {m!r} GeV differs from the requested {float(mass_gev)!r} GeV"
    for name in ("mean", "error", "chi2_dof", "q"):
        v = getattr(s, name)
        if not _real(v) or not math.isfinite(v):
            return f"{name} = {v!r} is not a finite number"
    if s.mean < 0:
        return f"σ = {s.mean!r} pb is negative"
    if s.error < 0:
        return f"error = {s.error!r} pb is negative"
    if not 0.0 <= s.q <= 1.0:
        return f"Q = {s.q!r} is outside [0, 1]"
    if s.chi2_dof < 0:
        return f"χ²/dof = {s.chi2_dof!r} is negative"
    if not _int(s.neval) or s.neval < 0:
        return f"neval = {s.neval!r} is not a non-negative integer"
    if not _int(s.seed):
        return f"seed = {s.seed!r} is not an integer"
    if not isinstance(s.converged, (bool, np.bool_)):
        return f"converged = {s.converged!r} is not a bool"
    if s.unit != "pb" or not isinstance(s.message, str) or not isinstance(s.settings, dict):
        return "unit, message or settings malformed"
    if s.mean == 0 and s.error != 0:
        return f"σ = 0 with error {s.error!r} pb"
    if s.converged and rel_error is not None and s.error > float(rel_error) * (1 + 1e-9) * s.mean:
        return (f"claims the requested precision but its relative error {s.error / s.mean:.3g} > "
                f"rel_error {float(rel_error):g}")
    if seed is not None and int(s.seed) != int(seed):
        return f"seed {s.seed!r} differs from the requested {int(seed)}"
    st = s.settings
    # an "etl" table point may have run the engine at a tighter total precision to hold rel_error above the
    # cuts (physics.xsec.table_points): its neval per iteration is that precision's
    engine_rel = rel_error
    if method == Method.ETL and rel_error is not None and "rel_error_total" in st:
        total_rel = st["rel_error_total"]
        if not _real(total_rel) or not 0.0 < float(total_rel) <= float(rel_error) * (1 + 1e-9):
            return f"rel_error_total = {total_rel!r} is not in (0, rel_error = {float(rel_error):g}]"
        engine_rel = float(total_rel)
    want = {**engine_settings(method, engine_rel), "form_factor": config.form_factor}
    if method is not None:
        want["method"] = str(method)  # a Method member → its plain name (stored settings hold str)
    if rel_error is not None:
        want["rel_error"] = float(rel_error)
    if method == Method.ETL:
        want["precision_cut_max"] = PRECISION_CUT_MAX
    for k, v in want.items():
        if k in st and not _same(st[k], v):
            return f"VEGAS setting {k} = {st[k]!r} differs from the request ({v!r})"
    if "neval_total" in st and not _same(st["neval_total"], s.neval):
        return f"settings neval_total = {st['neval_total']!r} differs from neval = {s.neval!r}"
    nb = int(config.n_x_bins)
    vals, errs = point.dsdx_pb, point.dsdx_err_pb
    if type(vals) not in (tuple, list) or type(errs) not in (tuple, list) or len(vals) != nb or len(errs) != nb:
        n = len(vals) if type(vals) in (tuple, list) else type(vals).__name__
        return f"{n} dσ/dx bins, expected {nb}"
    if not all(type(v) in _PLAIN_NUMBERS or _real(v) for v in (*vals, *errs)):
        return "dσ/dx bins are not all numbers"
    v_arr, e_arr = np.asarray(vals, dtype=float), np.asarray(errs, dtype=float)
    if not (np.isfinite(v_arr).all() and np.isfinite(e_arr).all()):
        return "non-finite dσ/dx"
    if (e_arr < 0).any():
        return "negative dσ/dx error"
    integral = float(v_arr @ _bin_widths(config))
    tol = BIN_SUM_N_SIGMA * float(s.error) + BIN_SUM_REL_TOL * max(abs(float(s.mean)), abs(integral))
    if not abs(integral - float(s.mean)) <= tol:
        return (f"dσ/dx bins integrate to {integral:.6g} pb but σ = {float(s.mean):.6g} ± "
                f"{float(s.error):.2g} pb")
    return ""


def point_problem(config: SigmaVConfig, point, mass_gev: float | None = None, *, method: str | None = None,
                  rel_error: float | None = None, seed: int | None = None) -> str:
    """"" if ``point`` is an acceptable result for the request (it may still have missed its precision:
    ``point.sigma.ok`` False — kept in a table, flagged, never cached), else the reason it is not.

    Checks: exact types (SigmaVPoint/MCResult, numbers not bools); finite mass > 0 equal to ``mass_gev``;
    finite σ ≥ 0, error ≥ 0 (0 if σ = 0), 0 ≤ Q ≤ 1, χ²/dof ≥ 0, integer neval ≥ 0 and seed (= ``seed``);
    a point claiming convergence meets ``rel_error``; the VEGAS settings it records (method, rel_error,
    form factor, the engine's constants) match the request; ``n_x_bins`` finite dσ/dx bins with errors ≥ 0
    whose integral over x equals σ within 3 σ-errors (+ 1e-9 relative). ``rel_error``/``seed`` None
    (analytic methods) skip those checks.
    """
    try:
        return _point_problem(config, point, mass_gev, method, rel_error, seed)
    except Exception as exc:  # an object whose comparisons misbehave is not a result
        return f"malformed point ({type(exc).__name__}: {exc})"


def validate_point(config: SigmaVConfig, point, mass_gev: float | None = None, *, method: str | None = None,
                   rel_error: float | None = None, seed: int | None = None) -> str:
    """Return "" if ``point`` is a complete, trustworthy result (cacheable), else the reason it is not:
    :func:`point_problem` and ``MCResult.ok`` (converged, Q ≥ Q_MIN)."""
    why = point_problem(config, point, mass_gev, method=method, rel_error=rel_error, seed=seed)
    if why:
        return why
    s = point.sigma
    if not s.ok:
        return f"MC result not ok (converged={s.converged}, Q={s.q:.3g}, {s.message})"
    return ""


def sanitize_point(point) -> SigmaVPoint:
    """A plain copy of a point from an untrusted source (e.g. a worker): rebuilt from its JSON form, as the
    cache stores it, so no foreign subclass or object survives. Raises ValueError if it is not a point."""
    if type(point) is not SigmaVPoint or type(point.sigma) is not MCResult:
        raise ValueError(f"not a SigmaVPoint ({type(point).__name__})")
    try:
        d = json.loads(json.dumps(point.to_dict(), allow_nan=True, default=_json_default))
        return SigmaVPoint.from_dict(d)
    except Exception as exc:
        raise ValueError(f"malformed point ({type(exc).__name__}: {exc})") from None


def _req(method, rel_error, seed):
    """(rel_error, seed) the validation checks for a key's request (None for analytic methods)."""
    if method in ANALYTIC_METHODS:
        return None, None
    return rel_error, seed


class SigmaCache:
    """Persistent, process-safe cache of σ_V points/tables. Cheap to create; use :func:`get_cache`."""

    def __init__(self, directory: str | os.PathLike | None = None, size_limit: int = 2 ** 30):
        root = Path(directory) if directory is not None else cache_root()
        _check_root(root)
        self.root = root
        self.directory = root / SUBDIR
        self._size_limit = size_limit
        #: why the cache found at open time was moved aside ("" if it was not)
        self.recovered = ""
        self._cache = self._open()

    def _open(self) -> diskcache.Cache:
        if not (self.directory.exists() or self.directory.is_symlink()):
            try:
                _make_private_dir(self.directory)
            except OSError as exc:
                raise errors.InputError(ENV_CACHE_DIR, "a writable directory for the σ_V cache", str(self.root),
                                        f"{type(exc).__name__}: {exc.strerror or exc}") from None
        try:
            if not self.directory.is_dir():
                raise NotADirectoryError(f"{self.directory} is not a directory")
            return self._open_raw()
        except Exception as exc:  # any failure: corrupt database, bad settings, undecodable text, …
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise errors.InputError(ENV_CACHE_DIR, "a σ_V cache not locked by another process",
                                        str(self.root), str(exc)) from None
            why = f"{type(exc).__name__}: {exc}"
        bad = self.directory.with_name(f"{SUBDIR}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
        try:
            if self.directory.exists() or self.directory.is_symlink():
                os.replace(self.directory, bad)
            _make_private_dir(self.directory)
            c = self._open_raw()
        except Exception as exc:
            raise errors.InputError(ENV_CACHE_DIR, "a writable directory for the σ_V cache", str(self.root),
                                    f"cache unreadable ({why}); starting a fresh one failed: "
                                    f"{type(exc).__name__}: {exc}") from None
        self.recovered = f"σ_V cache {self.directory} was unreadable ({why}); moved to {bad.name}"
        warnings.warn(f"{self.recovered} and started an empty cache", CacheCorruptionWarning, stacklevel=3)
        return c

    def _open_raw(self) -> diskcache.Cache:
        c = diskcache.Cache(str(self.directory), disk=JSONChecksumDisk, size_limit=self._size_limit,
                            statistics=False, eviction_policy="least-recently-stored")
        try:
            # touch the table so a corrupt file is detected now rather than at the first read
            c._sql("SELECT COUNT(*) FROM Cache").fetchall()
        except BaseException:
            c.close()
            raise
        return c

    # -- generic JSON entries -------------------------------------------------------------------
    def get_json(self, key: str):
        """The JSON value under ``key`` or None; a corrupt entry is deleted (with a warning) → None."""
        try:
            return self._cache.get(key, default=None, retry=True)
        except diskcache.Timeout:  # busy, not corrupt: a miss
            return None
        except Exception as exc:
            self._discard(key, f"{type(exc).__name__}: {exc}" if not isinstance(exc, CorruptEntryError)
                          else str(exc))
            return None

    def put_json(self, key: str, value) -> None:
        self._cache.set(key, value, retry=True)

    def _discard(self, key: str, why: str) -> None:
        warnings.warn(f"discarding corrupt σ_V cache entry {key[:12]}…: {why}; it will be recomputed",
                      CacheCorruptionWarning, stacklevel=3)
        try:
            self._cache.delete(key, retry=True)
        except Exception:  # pragma: no cover - deleting must never break a lookup
            pass

    def _entry(self, key: str, field: str):
        """The ``field`` payload of the entry under ``key``, or None (absent, or discarded because it is not
        a dict carrying its own key and that field)."""
        d = self.get_json(key)
        if d is None:
            return None
        if not isinstance(d, dict) or d.get("key") != key or not isinstance(d.get(field), dict):
            self._discard(key, f"malformed {field} entry (entry does not belong to its key or lacks {field!r})")
            return None
        return d[field]

    # -- points -----------------------------------------------------------------------------------
    def get_point(self, config: SigmaVConfig, mass_gev: float, method: str = DEFAULT_METHOD,
                  rel_error: float | None = 0.01, seed: int | None = 1, *,
                  namespace: str | None = None) -> SigmaVPoint | None:
        key = point_key(config, mass_gev, method, rel_error, seed, namespace)
        d = self._entry(key, "point")
        if d is None:
            return None
        try:
            p = SigmaVPoint.from_dict(d)
        except Exception as exc:
            self._discard(key, f"malformed point ({exc})")
            return None
        rel, sd = _req(method, rel_error, seed)
        why = validate_point(config, p, norm_mass(mass_gev), method=method, rel_error=rel, seed=sd)
        if why:
            self._discard(key, why)
            return None
        return p

    def put_point(self, config: SigmaVConfig, point: SigmaVPoint, method: str = DEFAULT_METHOD,
                  rel_error: float | None = 0.01, seed: int | None = 1, *, namespace: str | None = None) -> bool:
        """Store a validated point; returns False (and stores nothing) if it is not a complete result for
        this request (:func:`validate_point` with the method, precision and seed of the key)."""
        rel, sd = _req(method, rel_error, seed)
        if validate_point(config, point, method=method, rel_error=rel, seed=sd):
            return False
        key = point_key(config, point.mass_gev, method, rel_error, seed, namespace)
        self.put_json(key, {"key": key, "point": point.to_dict()})
        return True

    # -- tables -----------------------------------------------------------------------------------
    def _table_problem(self, table: SigmaVTable, method, rel_error, seed) -> str:
        rel, sd = _req(method, rel_error, seed)
        for i, p in enumerate(table.points):
            why = validate_point(table.config, p, method=method, rel_error=rel,
                                 seed=None if sd is None else int(sd) + i)
            if why:
                return why
        return ""

    def get_table(self, config: SigmaVConfig, masses, method: str = DEFAULT_METHOD, rel_error: float | None = 0.01,
                  seed: int | None = 1, *, namespace: str | None = None) -> SigmaVTable | None:
        masses = [norm_mass(m) for m in masses]
        key = table_key(config, masses, method, rel_error, seed, namespace)
        d = self._entry(key, "table")
        if d is None:
            return None
        try:
            t = SigmaVTable.from_dict(d)
            if t.config != config or len(t.points) != len(masses) or not all(
                    math.isclose(p.mass_gev, m, rel_tol=1e-11) for p, m in zip(t.points, masses)):
                raise CorruptEntryError("table content does not match its key")
        except Exception as exc:  # malformed/stale content: discard and recompute
            self._discard(key, f"malformed table ({exc})")
            return None
        why = self._table_problem(t, method, rel_error, seed)
        if why:
            self._discard(key, why)
            return None
        return t

    def put_table(self, table: SigmaVTable, method: str = DEFAULT_METHOD, rel_error: float | None = 0.01,
                  seed: int | None = 1, *, namespace: str | None = None) -> bool:
        """Store a complete table (every point validated; point i has seed ``seed + i``) under its key."""
        if not table.points or self._table_problem(table, method, rel_error, seed):
            return False
        key = table_key(table.config, table.masses_gev, method, rel_error, seed, namespace)
        self.put_json(key, {"key": key, "table": table.to_dict()})
        return True

    # -- maintenance ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._cache)

    def keys(self) -> list[str]:
        return list(self._cache.iterkeys())

    def check(self, fix: bool = False) -> list[str]:
        """Verify the cache; returns a list of problems (one line each; never raises).

        Reports: a database moved aside at open; rows whose value file lies outside the cache folder;
        diskcache's own ``Cache.check()`` findings (SQLite integrity, missing value files, stray "unknown"
        files, empty folders, counts); entries failing their checksum/JSON or not belonging to their key.
        ``fix=True`` also lets diskcache repair what it can (drops rows whose file is missing, removes stray
        files inside the cache folder) and drops rows pointing outside (their files are never touched).
        """
        problems = [self.recovered] if self.recovered else []
        disk = self._cache.disk
        try:
            rows = self._cache._sql("SELECT rowid, filename FROM Cache WHERE filename IS NOT NULL").fetchall()
            for rowid, filename in rows:
                try:
                    disk.confined(filename)
                except CorruptEntryError as exc:
                    problems.append(f"row {rowid}: {exc}")
                    if fix:
                        self._cache._sql("DELETE FROM Cache WHERE rowid = ?", (rowid,))
        except Exception as exc:
            problems.append(f"database unreadable: {type(exc).__name__}: {exc}")
            return problems
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")  # diskcache records its findings as warnings: never raise them
                found = self._cache.check(fix=fix, retry=True)
            problems.extend(str(w.message) for w in found)
            if fix:  # folders emptied by the fix (diskcache removes one level per pass)
                for dirpath, dirs, files in os.walk(self.directory, topdown=False):
                    if Path(dirpath) != self.directory and not os.listdir(dirpath):
                        os.rmdir(dirpath)
        except Exception as exc:
            problems.append(f"database check failed: {type(exc).__name__}: {exc}")
            return problems
        try:
            for k in self.keys():
                try:
                    d = self._cache.get(k, retry=True)
                except Exception as exc:
                    problems.append(f"entry {k[:12]}…: {type(exc).__name__}: {exc}")
                    continue
                if isinstance(d, dict) and "key" in d and d["key"] != k:
                    problems.append(f"entry {k[:12]}…: does not belong to its key")
        except Exception as exc:
            problems.append(f"database unreadable: {type(exc).__name__}: {exc}")
        return [" ".join(str(p).split()) for p in problems]

    def clear(self) -> int:
        return self._cache.clear(retry=True)

    def close(self) -> None:
        self._cache.close()


_caches: dict[str, SigmaCache] = {}
_lock = threading.Lock()


def get_cache(directory: str | os.PathLike | None = None) -> SigmaCache:
    """The process-wide cache for ``directory`` (default :func:`cache_root`, re-read from the environment).

    Raises :class:`~physics.errors.InputError` (parameter ``DAP_CACHE_DIR``) if the location is not a
    writable directory."""
    root = Path(directory) if directory is not None else cache_root()
    try:
        k = str(root.resolve())
    except (OSError, RuntimeError) as exc:
        raise errors.InputError(ENV_CACHE_DIR, "a writable directory for the σ_V cache", str(root),
                                f"{type(exc).__name__}: {exc}") from None
    with _lock:
        c = _caches.get(k)
        if c is None or not c.directory.is_dir():
            c = _caches[k] = SigmaCache(root)
        return c


def close_all() -> None:
    with _lock:
        for c in _caches.values():
            c.close()
        _caches.clear()


__all__ = ["SigmaCache", "get_cache", "cache_root", "JSONChecksumDisk", "CacheCorruptionWarning",
           "CorruptEntryError", "point_key", "table_key", "validate_point", "point_problem", "sanitize_point",
           "engine_settings", "norm_mass", "ENV_CACHE_DIR"]
