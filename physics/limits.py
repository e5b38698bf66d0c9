"""The one table of allowed input ranges, used by every input source: CLI options, experiment/material files,
dashboard widgets and URL values.

Each entry of :data:`LIMITS` names a quantity, its unit, the closed/open range and *why* the range is what
it is (where the numerics are tested, or what is physically sensible). Checks raise
:class:`physics.errors.InputError` naming the parameter and the allowed range (CLI: exit 2, one line).

Entry points (all return the validated value or raise InputError):

* :func:`check` — a value that should already be a number (API arguments, widget values, numbers read
  from a TOML/JSON file). Strict: ``bool``, text and ``None`` are refused ("1e12" in a file is not a number).
* :func:`parse` — text that should hold a number (URL query values, any other string input): plain
  ASCII decimal notation only, at most :data:`MAX_NUMBER_TEXT_CHARS` characters, then :func:`check`.
* :func:`check_many` / :func:`parse_many` — a list of values (at most :data:`MAX_LIST_LENGTH`).
* :func:`check_text` — a free-text label (legend names); :func:`check_name` — an identifier (experiment
  id, material name) that may end up in a file name or a URL.

The numbers below are deliberately generous around every benchmark (NA64e, LDMX) yet exclude inputs for
which the numerics were never tested or that only make work (1e30 GeV beams, 1e6 masses).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from physics.errors import InputError, one_line

#: Longest list of values (masses, cut-offs) one request may carry.
MAX_LIST_LENGTH = 1000
#: Largest experiment/material file read [bytes] (the benchmarks' definitions take < 1 kB).
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of tables/arrays in a file (experiments.<id>.meson_yields is depth 3).
MAX_NESTING_DEPTH = 16
#: Most experiments or materials one file may define.
MAX_FILE_ENTRIES = 100
#: Longest text accepted where a number is expected (URL values): "-1.2345678901234567e-300" is 24.
MAX_NUMBER_TEXT_CHARS = 64
#: Longest display label (legends) and longest reference/citation text.
MAX_LABEL_CHARS = 80
MAX_REFERENCE_CHARS = 300
#: Longest identifier (experiment id, material name).
MAX_NAME_CHARS = 40

_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# identifiers: letters, digits, '_', '+', '-', '.', starting with a letter or digit; no "..", no '/', no
# spaces — safe in a file name, a URL and a legend
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+.\-]*")


@dataclass(frozen=True)
class Limit:
    """Allowed range of one quantity: ``lo``–``hi`` in ``unit`` (ends closed unless ``*_open``).

    integer: the value must be a whole number (returned as ``int``); rtol: relative slack at closed ends for
    values computed by the program itself (e.g. the last point of a log-spaced grid); why: justification.
    """

    name: str
    unit: str
    lo: float
    hi: float
    why: str
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    rtol: float = 0.0

    @property
    def allowed(self) -> str:
        kind = "an integer " if self.integer else ""
        left, right = ("(" if self.lo_open else "["), (")" if self.hi_open else "]")
        unit = f" {self.unit}" if self.unit else ""
        lo, hi = (f"{int(self.lo)}", f"{int(self.hi)}") if self.integer else (f"{self.lo:g}", f"{self.hi:g}")
        return f"{kind}in {left}{lo}, {hi}{right}{unit}"

    def check(self, value: Any, parameter: str | None = None):
        """The value as float (int for integer quantities) if it is a real number inside the range."""
        name = parameter or self.name
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            what = "text, not a number" if isinstance(value, (str, bytes)) else "not a number"
            raise InputError(name, self.allowed, value, what)
        try:
            x = float(value)
        except (OverflowError, ValueError, TypeError):
            raise InputError(name, self.allowed, value, "not representable as a float") from None
        if not math.isfinite(x):
            raise InputError(name, self.allowed, value, "must be finite")
        lo = self.lo * (1.0 - self.rtol) if self.lo > 0 else self.lo
        hi = self.hi * (1.0 + self.rtol)
        if x < lo or x > hi or (self.lo_open and x == self.lo) or (self.hi_open and x == self.hi):
            raise InputError(name, self.allowed, value)
        if self.integer:
            if x != math.floor(x):
                raise InputError(name, self.allowed, value, "not a whole number")
            return int(value) if isinstance(value, numbers.Integral) else int(x)
        return x

    def parse(self, text: Any, parameter: str | None = None):
        """A number written as text (decimal notation only), then :meth:`check`."""
        name = parameter or self.name
        if not isinstance(text, str):
            return self.check(text, name)
        s = text.strip()
        if len(s) > MAX_NUMBER_TEXT_CHARS or not _NUMBER_RE.fullmatch(s):
            raise InputError(name, self.allowed, text, "not a decimal number")
        if self.integer and re.fullmatch(r"[+-]?[0-9]+", s):
            return self.check(int(s), name)
        return self.check(float(s), name)


def _L(name, unit, lo, hi, why, **kw) -> Limit:
    return Limit(name, unit, float(lo), float(hi), why, **kw)


#: The table. Keys are the names used in messages (a caller may pass another ``parameter`` name).
LIMITS: dict[str, Limit] = {lim.name: lim for lim in (
    # -- beam and masses ----------------------------------------------------------------------------------
    _L("beam_energy", "GeV", 1.0, 1000.0,
       "lepton beams of fixed-target searches: LDMX 4-8 GeV, NA64e 100 GeV (electrons), M3 15 GeV and NA64mu "
       "160 GeV (muons); the ETL engine is tested at 8, 50 and 100 GeV (e) and 15, 160 GeV (mu), the meson "
       "yields down to 1 GeV; 1000 GeV is 6x the highest benchmark"),
    _L("mass", "GeV", 1e-6, 10.0,
       "vector (dark-photon) mass of xsec/sigma-table: ETL is checked against the Tsai formula at 1 keV "
       "(lowest tested mass); 10 GeV is the top of the sigma_V tables (the plane of Gninenko et al., "
       "arXiv:2602.11405)", rtol=1e-12),
    _L("mass_iww", "GeV", 1e-3, 10.0,
       "vector mass with the IWW approximation: it assumes M >> m_e (at 1 keV it is 1e6 x the exact result); "
       "it is compared with ETL on the sigma_V table range from 1 MeV", rtol=1e-12),
    _L("m_gd", "GeV", 1e-3, 10.0,
       "dark-photon mass: the (m_gD, g) plane of Gninenko et al., arXiv:2602.11405 (Figs. 3-4, 6) and the "
       "sigma_V table range 1 MeV-10 GeV", rtol=1e-12),
    _L("m_a", "GeV", 0.0, 10.0, "ALP mass: 0 (massless) up to the top of the mass plane"),
    _L("m_chi", "GeV", 0.0, 10.0, "dark-fermion mass: 0 up to the top of the mass plane"),
    # -- couplings ------------------------------------------------------------------------------------------
    _L("g", "GeV^-1", 0.0, 10.0,
       "g_aγγD: plots end at 1 GeV^-1 (SN1987A upper edge); beyond 10 GeV^-1 the dark photon is no longer a "
       "narrow state at 10 GeV", lo_open=True),
    _L("alpha_D", "", 0.0, 1.0,
       "dark coupling: 0 (no invisible width) up to 1, the perturbative regime (the literature uses <= 0.5)"),
    # -- experiment --------------------------------------------------------------------------------------
    _L("x_min", "", 0.0, 1.0, "missing-energy fraction E_miss/E0", hi_open=True),
    _L("x_max", "", 0.0, 1.0, "missing-energy fraction E_miss/E0", lo_open=True),
    _L("thickness_x0", "X0", 1e-6, 50.0,
       "target depth: thin-target limit tested at 1e-4 X0; NA64's active target is 40 X0 deep, the M3 muon "
       "target 50 X0; the photon spectrum's depth quadrature is accurate to 3e-6 there (6e-4 at 100 X0)"),
    _L("eot", "beam particles", 1.0, 1e22,
       "electrons (or muons) on target: LDMX 1e16, M3 phase 2 1e13 muons; the largest electron beam dumps "
       "reach ~1e20-1e21"),
    _L("background", "events", 0.0, 1e4,
       "expected background: NA64 b ~ 0.5; the CLs/Neyman limits are checked against their definitions up "
       "to b = 1e4 (tests/physics/signal/test_statistics.py)"),
    _L("observed", "events", 0, 10_000, "observed events, as far as the background range", integer=True),
    _L("meson_yield", "mesons", 0.0, 1e22, "N_V override: at most one meson per electron on target"),
    # -- EDM -------------------------------------------------------------------------------------------------
    _L("cutoff", "GeV", 0.0, 1.22e19,
       "UV cut-off of the EDM loop: at most the Planck mass; the loop integral is evaluated with m^2/Λ^2 "
       "(1e155 GeV overflowed Λ^2); it must also exceed the heaviest loop mass", lo_open=True),
    _L("edm_limit", "e cm", 1e-40, 1e-10,
       "EDM limit override: measured limits are 4e-30 (e) to 2e-19 (mu) e cm"),
    # -- Monte Carlo and tables ---------------------------------------------------------------------------
    _L("rel_error", "", 1e-4, 0.5,
       "requested relative MC precision per point: the range of physics.service.store (below 1e-4 VEGAS runs for "
       "hours)"),
    _L("seed", "", 0, 2 ** 31, "random seed (point i uses seed + i): the range of physics.service.store",
       integer=True),
    _L("n_x_bins", "", 1, 200, "bins of dσ/dx: the range of physics.xsec.sigma_v", integer=True),
    _L("n_masses", "", 2, MAX_LIST_LENGTH, "masses of a computed table", integer=True),
    _L("workers", "", 1, 256, "local worker processes (more than any workstation's cores only costs memory)",
       integer=True),
    # -- user materials ------------------------------------------------------------------------------------
    _L("Z", "", 1, 118, "atomic number: hydrogen to oganesson", integer=True),
    _L("A", "g/mol", 1.0, 300.0, "atomic mass: hydrogen (1.008) to the heaviest known nuclei (~294)"),
    _L("density_g_cm3", "g/cm^3", 1e-5, 30.0,
       "density: hydrogen gas (8.4e-5) to osmium (22.6), with margin"),
    _L("X0_cm", "cm", 0.01, 1e7, "radiation length: osmium (0.2 cm) to hydrogen gas (7.5e5 cm), with margin"),
)}


#: Projectile leptons of the beam (choices, not a range): "e" (electron, the default) or "mu" (muon);
#: physics.model.constants.LEPTON_MASSES_GEV holds their masses (docs/physics.md#muon-beams).
LEPTONS: tuple[str, ...] = ("e", "mu")
#: Longest free-text ``assumptions`` of an experiment (the muon benchmarks use ~600 characters).
MAX_ASSUMPTIONS_CHARS = 1500


def check_lepton(value: Any, parameter: str = "lepton") -> str:
    """The beam lepton: one of :data:`LEPTONS` (exact text; InputError naming ``parameter`` otherwise)."""
    if not isinstance(value, str) or value not in LEPTONS:
        raise InputError(parameter, "one of " + ", ".join(LEPTONS), value,
                         None if isinstance(value, str) else "not text")
    return value


def limit(key: str) -> Limit:
    """The :class:`Limit` of ``key`` (KeyError for an unknown key: a programming error, not user input)."""
    return LIMITS[key]


def check(key: str, value: Any, parameter: str | None = None):
    """Validate a number against ``LIMITS[key]`` (strict: no bool, no text). Returns float (int if integer)."""
    return LIMITS[key].check(value, parameter)


def parse(key: str, text: Any, parameter: str | None = None):
    """Validate a number given as text (URL/form values) against ``LIMITS[key]``."""
    return LIMITS[key].parse(text, parameter)


def _as_list(values, name: str, max_len: int, allowed: str) -> list:
    if isinstance(values, (str, bytes, dict)) or values is None:
        raise InputError(name, allowed, values, "not a list of numbers")
    if isinstance(values, np.ndarray):
        if values.ndim > 1:
            raise InputError(name, allowed, values.shape, "not a flat list")
        values = values.ravel().tolist()
    try:
        n = len(values)
    except TypeError:
        values, n = [values], 1
    if n == 0 or n > max_len:
        raise InputError(name, allowed, f"{n} values", f"1 to {max_len} values")
    return list(values)


def check_many(key: str, values, parameter: str | None = None, max_len: int = MAX_LIST_LENGTH) -> np.ndarray:
    """Validate 1…``max_len`` numbers against ``LIMITS[key]``; returns a float array (a scalar → length 1)."""
    lim = LIMITS[key]
    name = parameter or lim.name
    allowed = f"1 to {max_len} values {lim.allowed}"
    return np.array([lim.check(v, name) for v in _as_list(values, name, max_len, allowed)], dtype=float)


def parse_many(key: str, text: str, parameter: str | None = None, max_len: int = MAX_LIST_LENGTH) -> np.ndarray:
    """Comma-separated numbers as text (URL values) validated against ``LIMITS[key]``."""
    lim = LIMITS[key]
    name = parameter or lim.name
    allowed = f"1 to {max_len} comma-separated values {lim.allowed}"
    if not isinstance(text, str):
        return check_many(key, text, parameter, max_len)
    if len(text) > max_len * (MAX_NUMBER_TEXT_CHARS + 1):
        raise InputError(name, allowed, text, "too long")
    items = [t for t in (s.strip() for s in text.split(",")) if t]
    items = _as_list(items, name, max_len, allowed)
    return np.array([lim.parse(t, name) for t in items], dtype=float)


def check_count(parameter: str, n: int, max_len: int = MAX_LIST_LENGTH) -> int:
    """Require 1 <= n <= max_len items (e.g. the n of a 'lo:hi:n' grid) before anything is allocated."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= max_len:
        raise InputError(parameter, f"1 to {max_len} values", n)
    return int(n)


def check_text(parameter: str, value: Any, max_chars: int = MAX_LABEL_CHARS, allow_empty: bool = True) -> str:
    """A free-text label: a string of at most ``max_chars`` printable characters (no control characters,
    no line breaks). Markup is *not* refused here — it is text and must be escaped where it is rendered."""
    if not isinstance(value, str):
        raise InputError(parameter, f"text of at most {max_chars} characters", value, "not text")
    if not value.strip() and not allow_empty:
        raise InputError(parameter, f"non-empty text of at most {max_chars} characters", value)
    if len(value) > max_chars:
        raise InputError(parameter, f"text of at most {max_chars} characters", value, f"{len(value)} characters")
    if one_line(value) != value:
        raise InputError(parameter, "printable text (no control characters or line breaks)", value)
    return value


def check_name(parameter: str, value: Any, max_chars: int = MAX_NAME_CHARS) -> str:
    """An identifier (experiment id, material name): letters, digits and ``_ + - .``, starting with a letter
    or digit, no "..", at most ``max_chars`` characters — safe in a file name, a URL and a legend."""
    allowed = f"a name of letters, digits, _ + - . (at most {max_chars} characters, no '..')"
    if not isinstance(value, str):
        raise InputError(parameter, allowed, value, "not text")
    if len(value) > max_chars or not _NAME_RE.fullmatch(value) or ".." in value:
        raise InputError(parameter, allowed, value)
    return value


def table() -> list[dict]:
    """The limits as rows {name, unit, lo, hi, allowed, why} (documentation, dashboard tooltips)."""
    return [{"name": lim.name, "unit": lim.unit, "lo": lim.lo, "hi": lim.hi, "allowed": lim.allowed,
             "why": lim.why} for lim in LIMITS.values()]


__all__ = ["Limit", "LIMITS", "limit", "check", "parse", "check_many", "parse_many", "check_count", "check_text",
           "check_name", "check_lepton", "LEPTONS", "MAX_ASSUMPTIONS_CHARS", "table", "MAX_LIST_LENGTH", "MAX_FILE_BYTES", "MAX_NESTING_DEPTH", "MAX_FILE_ENTRIES",
           "MAX_NUMBER_TEXT_CHARS", "MAX_LABEL_CHARS", "MAX_REFERENCE_CHARS", "MAX_NAME_CHARS"]
