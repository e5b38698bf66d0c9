"""σ_V(M) tables: configuration, points, interpolation and JSON storage (PHYSICS.md §3).

σ_V(M; E0, target, x_min, x_max) is the cross section of e N → e N V for a massive vector V of mass M coupled
to the electron like a photon (ε = 1), per atom, in pb, with the missing-energy fraction x = E_V/E0 in
[x_min, x_max]. One table per configuration serves every (m_a, m_γD, g) of the dark axion portal through the
factorisation (``physics.factorisation``). Tables also hold dσ_V/dx in ``n_x_bins`` equal bins of x.

Storage: JSON (never pickle) with a provenance header (configuration, physics/schema versions, generator
and vegas versions, VEGAS settings, seeds, per-point error and Q, date). A table whose physics or schema
version differs from the running code is *stale* and refused (:class:`StaleTableError`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, errors, limits
from .constants import M_ELECTRON_GEV
from .mc import MCResult
from .targets import get_material
from .version import PHYSICS_VERSION, SCHEMA_VERSION

FORM_FACTORS = ("elastic", "elastic+inelastic")
#: Lowest tabulated vector mass [GeV] (PHYSICS.md §4: reach from 1 MeV).
M_TABLE_MIN_GEV = 1.0e-3
#: Highest mass ever tabulated [GeV]: the paper's plane ends at 10 GeV.
M_TABLE_CAP_GEV = 10.0


class StaleTableError(RuntimeError):
    """A stored table was produced by another physics/schema version or a different configuration."""


@dataclass(frozen=True)
class SigmaVConfig:
    """What a σ_V table depends on. Hashable; ``key()`` is a canonical content hash (with versions).

    beam_energy_gev: E0 [GeV]; target: material name (physics.targets); x_min/x_max: window of x = E_V/E0;
    form_factor: "elastic" (default, PHYSICS.md §3) or "elastic+inelastic"; n_x_bins: bins of dσ/dx.
    """

    beam_energy_gev: float
    target: str
    x_min: float = 0.0
    x_max: float = 1.0
    form_factor: str = "elastic"
    n_x_bins: int = 20

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        limits.check("beam_energy", self.beam_energy_gev, "beam_energy_gev")
        if self.beam_energy_gev <= 2 * M_TABLE_MIN_GEV:
            raise errors.InputError("beam_energy_gev", f"> {2 * M_TABLE_MIN_GEV:g} GeV",
                                    self.beam_energy_gev)
        get_material(self.target)
        errors.in_range("x_min", self.x_min, 0.0, 1.0, hi_open=True)
        errors.in_range("x_max", self.x_max, 0.0, 1.0, lo_open=True)
        if self.x_max <= self.x_min:
            raise errors.InputError("x_max", f"in (x_min={self.x_min:g}, 1]", self.x_max)
        errors.one_of("form_factor", self.form_factor, FORM_FACTORS)
        errors.in_range("n_x_bins", self.n_x_bins, 1, 200)

    @classmethod
    def from_experiment(cls, exp, form_factor: str = "elastic", n_x_bins: int = 20) -> "SigmaVConfig":
        """The configuration an experiment needs (beam energy, target, its x window)."""
        return cls(beam_energy_gev=float(exp.beam_energy_gev), target=exp.target, x_min=float(exp.x_min),
                   x_max=float(exp.x_max), form_factor=form_factor, n_x_bins=n_x_bins)

    def canonical(self) -> dict:
        """Canonical JSON-able form: material spelled out so a changed material definition changes the key."""
        mat = get_material(self.target)
        return {
            "beam_energy_gev": float(repr_float(self.beam_energy_gev)),
            "target": mat.to_dict(),
            "x_min": float(repr_float(self.x_min)),
            "x_max": float(repr_float(self.x_max)),
            "form_factor": self.form_factor,
            "n_x_bins": int(self.n_x_bins),
        }

    def key(self, extra: dict | None = None) -> str:
        """sha256 of canonical config + physics/schema versions (+ ``extra``, e.g. precision)."""
        payload = {"config": self.canonical(), "physics_version": PHYSICS_VERSION,
                   "schema_version": SCHEMA_VERSION, **(extra or {})}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @property
    def x_edges(self) -> np.ndarray:
        return np.linspace(self.x_min, self.x_max, self.n_x_bins + 1)

    @property
    def kinematic_mass_limit_gev(self) -> float:
        """Largest V mass that can be produced with E_V ≤ x_max E0 [GeV]: min(x_max E0, √S − M_N − m_e) with
        S = M_N² + 2 M_N E0 + m_e² (nuclear recoil included; M_N ≈ A u)."""
        e0 = self.beam_energy_gev
        mn = get_material(self.target).nucleus_mass_gev
        sqrt_s = math.sqrt(mn * mn + 2.0 * mn * e0 + M_ELECTRON_GEV ** 2)
        return min(self.x_max * e0, sqrt_s - mn - M_ELECTRON_GEV)

    @property
    def max_mass_gev(self) -> float:
        """Largest vector mass the table covers [GeV]: 0.9 of :attr:`kinematic_mass_limit_gev` (keeps VEGAS
        away from the vanishing phase space at the end point), capped at :data:`M_TABLE_CAP_GEV`."""
        return min(M_TABLE_CAP_GEV, 0.9 * self.kinematic_mass_limit_gev)

    def default_mass_grid(self, n: int = 60) -> np.ndarray:
        """n masses from 1 MeV to :attr:`max_mass_gev` [GeV], uniform in u = ln[M / (1 − M/M_end)] with
        M_end = x_max E0: log-spaced where M ≪ E0, and denser towards the kinematic end point where σ_V
        falls steeply (keeps the log-log interpolation error < 1%, tests/physics/test_sigma_table.py)."""
        m_end = self.kinematic_mass_limit_gev

        def u(m):
            return math.log(m) - math.log1p(-m / m_end)

        us = np.linspace(u(M_TABLE_MIN_GEV), u(self.max_mass_gev), int(n))
        grid = np.exp(us) / (1.0 + np.exp(us) / m_end)
        grid[0], grid[-1] = M_TABLE_MIN_GEV, self.max_mass_gev
        return grid

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SigmaVConfig":
        keys = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in keys})


def repr_float(x: float) -> str:
    """Shortest round-trip representation, so 100 and 100.0 hash alike."""
    return repr(float(x))


@dataclass(frozen=True)
class SigmaVPoint:
    """One computed mass point: σ_V [pb] as an MCResult, and dσ_V/dx [pb] per x bin with 1σ errors."""

    mass_gev: float
    sigma: MCResult
    dsdx_pb: tuple = ()
    dsdx_err_pb: tuple = ()

    def to_dict(self) -> dict:
        return {"mass_gev": self.mass_gev, "sigma": self.sigma.to_dict(),
                "dsdx_pb": list(map(float, self.dsdx_pb)), "dsdx_err_pb": list(map(float, self.dsdx_err_pb))}

    @classmethod
    def from_dict(cls, d: dict) -> "SigmaVPoint":
        return cls(mass_gev=float(d["mass_gev"]), sigma=MCResult.from_dict(d["sigma"]),
                   dsdx_pb=tuple(d.get("dsdx_pb", ())), dsdx_err_pb=tuple(d.get("dsdx_err_pb", ())))


@dataclass
class SigmaVTable:
    """σ_V(M) for one configuration on a mass grid, with per-point MC errors and interpolation.

    Interpolation: monotone cubic (PCHIP) in (ln M, ln σ); outside [M_min, M_max] the table answers NaN
    below M_min (not covered) and 0 above M_max only if the caller asks with ``beyond_max_zero`` (the
    factorisation does: σ_V there is negligible by construction of the grid).
    """

    config: SigmaVConfig
    points: list[SigmaVPoint]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        self.points = sorted(self.points, key=lambda p: p.mass_gev)
        self._interp = None
        self._interp_dsdx = None

    # -- arrays ---------------------------------------------------------------------------------
    @property
    def masses_gev(self) -> np.ndarray:
        return np.array([p.mass_gev for p in self.points])

    @property
    def sigma_pb(self) -> np.ndarray:
        return np.array([p.sigma.mean for p in self.points])

    @property
    def error_pb(self) -> np.ndarray:
        return np.array([p.sigma.error for p in self.points])

    @property
    def q(self) -> np.ndarray:
        return np.array([p.sigma.q for p in self.points])

    @property
    def dsdx_pb(self) -> np.ndarray:
        return np.array([p.dsdx_pb for p in self.points], dtype=float)

    @property
    def all_ok(self) -> bool:
        return all(p.sigma.ok for p in self.points)

    # -- interpolation --------------------------------------------------------------------------
    def _build(self):
        from scipy.interpolate import PchipInterpolator

        m = self.masses_gev
        s = self.sigma_pb
        good = s > 0
        if good.sum() < 2:
            raise errors.InputError("table", "at least two points with σ > 0", int(good.sum()))
        lm, ls = np.log(m[good]), np.log(s[good])
        self._interp = PchipInterpolator(lm, ls, extrapolate=False)
        self._rel_err = PchipInterpolator(lm, (self.error_pb[good] / s[good]), extrapolate=False)
        ds = self.dsdx_pb
        if ds.ndim == 2 and ds.shape[1] > 0:
            self._interp_dsdx = PchipInterpolator(lm, np.log(np.clip(ds[good], 1e-300, None)), axis=0,
                                                  extrapolate=False)

    def sigma_at(self, mass_gev, beyond_max_zero: bool = False) -> np.ndarray:
        """Interpolated σ_V(M) [pb]; NaN below the grid, NaN (or 0) above it."""
        if self._interp is None:
            self._build()
        m = np.asarray(mass_gev, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(self._interp(np.log(m)))
        if beyond_max_zero:
            out = np.where(m > self.masses_gev[-1], 0.0, out)
        return out

    def rel_error_at(self, mass_gev) -> np.ndarray:
        """Interpolated relative MC error of σ_V(M)."""
        if self._interp is None:
            self._build()
        m = np.asarray(mass_gev, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._rel_err(np.log(m))

    def dsdx_at(self, mass_gev, beyond_max_zero: bool = False) -> np.ndarray:
        """Interpolated dσ_V/dx [pb] per x bin, shape (..., n_x_bins)."""
        if self._interp is None:
            self._build()
        if self._interp_dsdx is None:
            raise errors.InputError("table", "a table with dσ/dx bins", "none stored")
        m = np.asarray(mass_gev, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(self._interp_dsdx(np.log(m)))
            out = np.where(out < 1e-250, 0.0, out)
        if beyond_max_zero:
            out = np.where((m > self.masses_gev[-1])[..., None], 0.0, out)
        return out

    # -- storage --------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "provenance": {
                "what": "sigma_V(M): e N -> e N V, V coupled like a photon (eps = 1), per atom, "
                        "x = E_V/E0 in [x_min, x_max]",
                "units": {"mass": "GeV", "sigma": "pb per atom", "dsdx": "pb per unit x, per x bin"},
                "physics_version": PHYSICS_VERSION,
                "schema_version": SCHEMA_VERSION,
                "generator": f"dark-axion-portal-explorer {__version__}",
                **self.provenance,
            },
            "config": self.config.to_dict(),
            "config_canonical": self.config.canonical(),
            "key": self.config.key(),
            "x_edges": self.config.x_edges.tolist(),
            "points": [p.to_dict() for p in self.points],
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically (temp file + os.replace) so a crash never leaves a partial file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False))
        os.replace(tmp, path)

    @classmethod
    def from_dict(cls, d: dict, check_version: bool = True) -> "SigmaVTable":
        prov = dict(d.get("provenance", {}))
        if check_version:
            pv, sv = prov.get("physics_version"), prov.get("schema_version")
            if pv != PHYSICS_VERSION or sv != SCHEMA_VERSION:
                raise StaleTableError(
                    f"table made with physics {pv!r}/schema {sv!r}, code is physics {PHYSICS_VERSION!r}/"
                    f"schema {SCHEMA_VERSION!r}: regenerate it")
        config = SigmaVConfig.from_dict(d["config"])
        if check_version and d.get("key") not in (None, config.key()):
            raise StaleTableError("table key does not match its configuration (material definition changed?)")
        for k in ("what", "units", "physics_version", "schema_version", "generator"):
            prov.pop(k, None)
        return cls(config=config, points=[SigmaVPoint.from_dict(p) for p in d["points"]], provenance=prov)

    @classmethod
    def load(cls, path: str | os.PathLike, check_version: bool = True) -> "SigmaVTable":
        return cls.from_dict(json.loads(Path(path).read_text()), check_version=check_version)


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def log_mass_grid(lo: float, hi: float, n: int) -> np.ndarray:
    """n log-spaced masses [GeV] (validated)."""
    lo = errors.positive("m_min", lo, "GeV")
    hi = errors.positive("m_max", hi, "GeV")
    if hi <= lo:
        raise errors.InputError("m_max", f"> m_min = {lo:g} GeV", hi)
    return np.geomspace(lo, hi, int(n))


__all__ = ["SigmaVConfig", "SigmaVPoint", "SigmaVTable", "StaleTableError", "FORM_FACTORS", "math"]
