"""Persistent cache of σ_V points and tables (diskcache/SQLite, JSON values with checksums — never pickle).

Location: ``$DAP_CACHE_DIR`` if set, else ``platformdirs.user_cache_dir("dark-axion-portal")``; the cache
lives in the ``sigma_v`` sub-directory. Directories are created owner-only (0700).

Keys are canonical content hashes, :meth:`SigmaVConfig.key` with ``extra`` = kind (point/table/grid),
method, requested precision, seed and mass(es) — the physics and schema versions are inside the hash, so a
physics change can never serve an old number.

Integrity:

* Only complete, validated results are written (``MCResult.ok``, finite σ, error and dσ/dx, the requested
  mass and the right number of x bins). A point that missed its precision is never cached.
* Each value is stored as ``MAGIC + sha256(payload) + payload`` (payload: UTF-8 JSON). A write is one
  SQLite transaction (large values go to a file that is written *before* the row is committed), so a
  crash or ``SIGKILL`` mid-write leaves either the old state or the complete new entry.
* On read the checksum, the JSON and the physics content are verified; a corrupt or unreadable entry is
  discarded with a :class:`CacheCorruptionWarning` and reported as a miss (the caller recomputes). An
  unreadable database file is moved aside (``sigma_v.corrupt-<time>``) and a fresh cache is started.

Keys and values are restricted to ``str`` and JSON-able dicts by :class:`JSONChecksumDisk`; anything else
raises ``TypeError`` (diskcache would otherwise fall back to pickle).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import threading
import time
import warnings
from pathlib import Path

import diskcache
import numpy as np

from .sigma_table import SigmaVConfig, SigmaVPoint, SigmaVTable

#: Environment variable overriding the cache root directory.
ENV_CACHE_DIR = "DAP_CACHE_DIR"
APP_NAME = "dark-axion-portal"
SUBDIR = "sigma_v"
_MAGIC = b"DAPJ1\n"
_DIGEST = 32
#: Methods whose results do not depend on precision/seed (analytic).
EXACT_METHODS = ("iww",)


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
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


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
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptEntryError(f"undecodable JSON: {exc}") from None


class JSONChecksumDisk(diskcache.Disk):
    """diskcache serialiser: str keys, JSON values with a sha256 checksum; refuses anything else (no pickle)."""

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
        return decode_value(super().fetch(mode, filename, value, False))


def norm_mass(m: float) -> float:
    """Masses are normalised to 12 significant digits so keys are stable across platforms."""
    return float(f"{float(m):.12g}")


def precision_extra(method: str, rel_error: float | None, seed: int | None) -> dict:
    """The precision part of a key: analytic methods ignore rel_error and seed."""
    if method in EXACT_METHODS:
        return {"method": method, "rel_error": None, "seed": None}
    return {"method": method, "rel_error": repr(float(rel_error)), "seed": int(seed)}


def point_key(config: SigmaVConfig, mass_gev: float, method: str, rel_error: float | None,
              seed: int | None) -> str:
    return config.key(extra={"kind": "point", "mass": repr(norm_mass(mass_gev)),
                             **precision_extra(method, rel_error, seed)})


def table_key(config: SigmaVConfig, masses, method: str, rel_error: float | None, seed: int | None) -> str:
    ms = [repr(norm_mass(m)) for m in masses]
    return config.key(extra={"kind": "table", "masses": ms, **precision_extra(method, rel_error, seed)})


def validate_point(config: SigmaVConfig, point: SigmaVPoint, mass_gev: float | None = None) -> str:
    """Return "" if ``point`` is a complete, trustworthy result, else the reason it is not."""
    if not isinstance(point, SigmaVPoint):
        return f"not a SigmaVPoint ({type(point).__name__})"
    s = point.sigma
    if not s.ok:
        return f"MC result not ok (converged={s.converged}, Q={s.q:.3g}, {s.message})"
    if not (math.isfinite(s.mean) and math.isfinite(s.error) and s.mean >= 0 and s.error >= 0):
        return "non-finite or negative σ/error"
    if mass_gev is not None and not math.isclose(point.mass_gev, mass_gev, rel_tol=1e-11):
        return f"mass {point.mass_gev!r} differs from the requested {mass_gev!r}"
    if len(point.dsdx_pb) != config.n_x_bins or len(point.dsdx_err_pb) != config.n_x_bins:
        return f"{len(point.dsdx_pb)} dσ/dx bins, expected {config.n_x_bins}"
    if not all(math.isfinite(v) for v in (*point.dsdx_pb, *point.dsdx_err_pb)):
        return "non-finite dσ/dx"
    return ""


class SigmaCache:
    """Persistent, process-safe cache of σ_V points/tables. Cheap to create; use :func:`get_cache`."""

    def __init__(self, directory: str | os.PathLike | None = None, size_limit: int = 2 ** 30):
        root = Path(directory) if directory is not None else cache_root()
        _make_private_dir(root)
        self.root = root
        self.directory = root / SUBDIR
        self._size_limit = size_limit
        self._cache = self._open()

    def _open(self) -> diskcache.Cache:
        try:
            _make_private_dir(self.directory)
            return self._open_raw()
        except sqlite3.DatabaseError as exc:
            bad = self.directory.with_name(f"{SUBDIR}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
            warnings.warn(f"σ_V cache database {self.directory} is unreadable ({exc}); moved to {bad} and "
                          "starting an empty cache", CacheCorruptionWarning, stacklevel=3)
            os.replace(self.directory, bad)
            _make_private_dir(self.directory)
            return self._open_raw()

    def _open_raw(self) -> diskcache.Cache:
        c = diskcache.Cache(str(self.directory), disk=JSONChecksumDisk, size_limit=self._size_limit,
                            statistics=False, eviction_policy="least-recently-stored")
        # touch the table so a corrupt file is detected now rather than at the first read
        c._sql("SELECT COUNT(*) FROM Cache").fetchall()
        return c

    # -- generic JSON entries -------------------------------------------------------------------
    def get_json(self, key: str):
        """The JSON value under ``key`` or None; a corrupt entry is deleted (with a warning) → None."""
        try:
            return self._cache.get(key, default=None, retry=True)
        except (CorruptEntryError, OSError, sqlite3.DatabaseError) as exc:
            self._discard(key, str(exc))
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
    def get_point(self, config: SigmaVConfig, mass_gev: float, method: str = "etl",
                  rel_error: float | None = 0.01, seed: int | None = 1) -> SigmaVPoint | None:
        key = point_key(config, mass_gev, method, rel_error, seed)
        d = self._entry(key, "point")
        if d is None:
            return None
        try:
            p = SigmaVPoint.from_dict(d)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            self._discard(key, f"malformed point ({exc})")
            return None
        why = validate_point(config, p, norm_mass(mass_gev))
        if why:
            self._discard(key, why)
            return None
        return p

    def put_point(self, config: SigmaVConfig, point: SigmaVPoint, method: str = "etl",
                  rel_error: float | None = 0.01, seed: int | None = 1) -> bool:
        """Store a validated point; returns False (and stores nothing) if it is not a complete result."""
        if validate_point(config, point):
            return False
        key = point_key(config, point.mass_gev, method, rel_error, seed)
        self.put_json(key, {"key": key, "point": point.to_dict()})
        return True

    # -- tables -----------------------------------------------------------------------------------
    def get_table(self, config: SigmaVConfig, masses, method: str = "etl", rel_error: float | None = 0.01,
                  seed: int | None = 1) -> SigmaVTable | None:
        masses = [norm_mass(m) for m in masses]
        key = table_key(config, masses, method, rel_error, seed)
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
        bad = [why for p in t.points if (why := validate_point(config, p))]
        if bad:
            self._discard(key, bad[0])
            return None
        return t

    def put_table(self, table: SigmaVTable, method: str = "etl", rel_error: float | None = 0.01,
                  seed: int | None = 1) -> bool:
        """Store a complete table (every point validated) under its request key."""
        if not table.points or any(validate_point(table.config, p) for p in table.points):
            return False
        key = table_key(table.config, table.masses_gev, method, rel_error, seed)
        self.put_json(key, {"key": key, "table": table.to_dict()})
        return True

    # -- maintenance ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._cache)

    def keys(self) -> list[str]:
        return list(self._cache.iterkeys())

    def check(self, fix: bool = False) -> list[str]:
        """Verify every entry (checksums) and the SQLite/file consistency; returns a list of problems.

        Files not referenced by any row ("unknown file", left by a process killed between writing a value
        file and committing its row) are harmless and reported as such; ``fix=True`` removes them.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._cache.check(fix=fix)
        problems = [str(w.message) for w in caught]
        for k in self.keys():
            try:
                self._cache.get(k)
            except (CorruptEntryError, OSError) as exc:
                problems.append(f"{k[:12]}…: {exc}")
        return problems

    def clear(self) -> int:
        return self._cache.clear(retry=True)

    def close(self) -> None:
        self._cache.close()


_caches: dict[str, SigmaCache] = {}
_lock = threading.Lock()


def get_cache(directory: str | os.PathLike | None = None) -> SigmaCache:
    """The process-wide cache for ``directory`` (default :func:`cache_root`, re-read from the environment)."""
    root = Path(directory) if directory is not None else cache_root()
    k = str(root.resolve())
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
           "CorruptEntryError", "point_key", "table_key", "validate_point", "norm_mass", "ENV_CACHE_DIR"]
