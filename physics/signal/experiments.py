"""Experiment registry: beam, target, thickness, missing-energy cut, statistics (docs/physics.md#experiments).

Built-in benchmarks: electron beams ``na64e-2023``, ``na64e-projected``, ``ldmx-phase2``; muon beams
``na64mu-2022``, ``na64mu-projected``, ``m3-phase1``, ``m3-phase2`` (docs/physics.md#muon-experiments). User
experiments come from a TOML or JSON file, e.g.::

    [experiments.my-setup]
    name = "My W target"
    beam_energy_gev = 50
    target = "W"
    thickness_x0 = 1.0
    x_min = 0.5
    eot = 1e12
    background = 0.0
    observed = 0
    status = "projection"
    lepton = "mu"            # optional: the beam lepton, "e" (default) or "mu"

Every number is user-changeable (``Experiment.replace(...)``) and checked against :mod:`physics.limits`
(strictly: ``eot = "1e12"`` is text, not a number, and ``true`` is not 1). A file is read with
:func:`physics.userfiles.read_mapping` (size, encoding, nesting, top-level type), unknown keys are refused,
and a file is all-or-nothing: nothing (neither its experiments nor its materials) is registered unless every
entry is valid. ``DAP_EXPERIMENTS`` is read lazily — only when the registry is listed or an id that is not
built in is looked up — so a broken file never breaks ``--help`` or commands that do not use it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from physics import errors, limits, userfiles
from physics.model.materials import Material, get_material

#: Environment variable naming a TOML/JSON experiments file.
ENV_EXPERIMENTS = "DAP_EXPERIMENTS"
STATUSES = ("data", "projection")
#: Mesons whose N_V may be overridden (``meson_yields``); the keys of physics.model.mesons.MESONS.
MESON_YIELD_KEYS = ("rho", "omega", "phi", "jpsi", "upsilon")


@dataclass(frozen=True)
class Experiment:
    """A lepton (electron or muon) fixed-target missing-energy experiment.

    beam_energy_gev: E0 [GeV]; target: material name; thickness_x0: effective target length L_T in units of
    the radiation length X0; x_min/x_max: missing-energy fraction window E_miss/E0 (applied to the σ_V table of
    the beam and target, which covers the whole x range: changing the cut with ``replace(x_min=...)`` needs no
    new table); eot: beam particles on target (electrons, or muons for a muon beam: "MOT");
    background: expected background events; observed: observed events; status: "data" or "projection";
    meson_yields: optional per-meson override of N_V (keys rho, omega, phi, jpsi, upsilon);
    lepton: the beam lepton, "e" (default) or "mu" (:data:`physics.limits.LEPTONS`; it selects the σ_V table,
    ``SigmaVConfig.from_experiment``, and switches the meson channels off for muons,
    docs/physics.md#muon-mesons); assumptions: free text stating the choices and unverified inputs behind the
    numbers (shown with every result). Ranges: :data:`physics.limits.LIMITS`.
    ``to_dict`` leaves out ``lepton`` and ``assumptions`` when they have their defaults ("e", ""), so electron
    experiments are reported exactly as before muon beams existed.
    """

    id: str
    name: str
    beam_energy_gev: float
    target: str
    thickness_x0: float
    x_min: float
    eot: float
    background: float = 0.0
    observed: int = 0
    status: str = "projection"
    x_max: float = 1.0
    reference: str = ""
    meson_yields: dict = field(default_factory=dict)
    lepton: str = "e"
    assumptions: str = ""

    def __post_init__(self):
        limits.check_name("experiment id", self.id)
        limits.check_text("name", self.name)
        limits.check("beam_energy", self.beam_energy_gev, "beam_energy_gev")
        if not isinstance(self.target, (str, Material)):
            raise errors.InputError("target", "a material name", self.target, "not text")
        get_material(self.target)
        limits.check("thickness_x0", self.thickness_x0)
        limits.check("x_min", self.x_min)
        limits.check("x_max", self.x_max)
        if self.x_max <= self.x_min:
            raise errors.InputError("x_max", f"> x_min = {self.x_min:g} and <= 1", self.x_max)
        limits.check("eot", self.eot)
        limits.check("background", self.background)
        # observed is an integer (2.0 from a file becomes 2: the text output formats it as one)
        object.__setattr__(self, "observed", limits.check("observed", self.observed))
        if not isinstance(self.status, str):
            raise errors.InputError("status", "one of " + ", ".join(STATUSES), self.status)
        errors.one_of("status", self.status, STATUSES)
        limits.check_text("reference", self.reference, limits.MAX_REFERENCE_CHARS)
        if not isinstance(self.meson_yields, dict):
            raise errors.InputError("meson_yields", "a table meson -> N_V", self.meson_yields)
        for k, v in self.meson_yields.items():
            errors.one_of("meson_yields", k, MESON_YIELD_KEYS)
            limits.check("meson_yield", v, f"meson_yields.{k}")
        limits.check_lepton(self.lepton)
        limits.check_text("assumptions", self.assumptions, limits.MAX_ASSUMPTIONS_CHARS)
        # the beam must be above the production threshold of the lightest tabulated vector
        from physics.model.constants import LEPTON_MASSES_GEV
        from physics.xsec.sigma_v import M_TABLE_MIN_GEV

        if self.beam_energy_gev <= LEPTON_MASSES_GEV[self.lepton] + M_TABLE_MIN_GEV:
            raise errors.InputError("beam_energy_gev", f"> m_{self.lepton} + {M_TABLE_MIN_GEV:g} GeV "
                                    "(kinematic threshold)", self.beam_energy_gev)
        # the scattered lepton keeps at least its mass: E' >= m_l, so x = E_V/E0 <= 1 - m_l/E0; a cut at or beyond
        # that end point would select nothing (zero signal, "no limit") — refuse it instead
        x_end = 1.0 - LEPTON_MASSES_GEV[self.lepton] / self.beam_energy_gev
        if self.x_min >= x_end:
            raise errors.InputError("x_min", f"< 1 − m_{self.lepton}/E0 = {x_end:.6g} (kinematic end point of "
                                    f"a {self.beam_energy_gev:g} GeV beam)", self.x_min)

    @property
    def material(self) -> Material:
        return get_material(self.target)

    @property
    def thickness_cm(self) -> float:
        """L_T [cm] = thickness_x0 × X0."""
        return self.thickness_x0 * self.material.X0_cm

    @property
    def luminosity_per_cm2(self) -> float:
        """Integrated luminosity per unit cross section: EOT × n_atoms × L_T [cm^-2] (Gninenko et al.,
        arXiv:2602.11405, Eq. (8))."""
        return self.eot * self.material.atoms_per_cm3 * self.thickness_cm

    def replace(self, **changes) -> "Experiment":
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k, default in (("lepton", "e"), ("assumptions", "")):
            if d[k] == default:
                del d[k]
        d["thickness_cm"] = self.thickness_cm
        d["material"] = self.material.to_dict()
        return d


_NA64_REF = ("NA64 Collaboration, Andreev et al., PRL 131 (2023) 161801 (9.37e11 EOT, 0 events); "
             "docs/physics.md#experiments")

BUILTIN_EXPERIMENTS: dict[str, Experiment] = {
    "na64e-2023": Experiment(
        id="na64e-2023", name="NA64e (2016–2022 data)", beam_energy_gev=100.0, target="Pb",
        thickness_x0=1.0, x_min=0.5, eot=9.37e11, background=0.0, observed=0, status="data",
        reference=_NA64_REF),
    "na64e-projected": Experiment(
        id="na64e-projected", name="NA64e projected", beam_energy_gev=100.0, target="Pb",
        thickness_x0=1.0, x_min=0.5, eot=5e12, background=0.0, observed=0, status="projection",
        reference="Gninenko et al., arXiv:2602.11405, 'planned statistics' (value not legible; NA64 also quotes "
                  "1e13); docs/physics.md#experiments"),
    "ldmx-phase2": Experiment(
        id="ldmx-phase2", name="LDMX Phase II", beam_energy_gev=8.0, target="Al",
        thickness_x0=0.4, x_min=0.7, eot=1e16, background=0.0, observed=0, status="projection",
        reference="Akesson et al. (LDMX); thickness 0.4 X0 is an assumption (docs/physics.md#experiments)"),
}

# -- muon beams (docs/physics.md#muon-experiments). Inputs marked [unverified] are recollections of the papers
# that could not be checked against their full text; each is stated in the experiment's ``assumptions`` and
# can be changed with Experiment.replace(...) or a user file.
_NA64MU_2022_REF = ("NA64 Collaboration, Andreev et al., PRL 132 (2024) 211803, arXiv:2401.01708 (160 GeV/c muons "
                    "from the CERN SPS M2 line, (1.98 +- 0.02)e10 MOT, 0 events, scattered muon p < 80 GeV/c); "
                    "docs/physics.md#muon-experiments")
_NA64MU_TARGET = ("target: the Pb/Sc active ECAL, taken as 40 X0 of Pb = 22.45 cm [unverified: 40 X0 and the module "
                  "type are recalled]; the muon keeps ~E0 through it (mean loss ~0.3 GeV), so production counts "
                  "over the full depth (no shower track length); production in the downstream HCAL is not counted. "
                  "Signal efficiency 1 (the paper's MC efficiency, O(0.1-0.5) [unverified], is not applied). ")
_M3_REF = ("Kahn, Krnjaic, Tran & Whitbeck, JHEP 09 (2018) 153, arXiv:1804.03144 (M3: Phase 1 ~1e10, Phase 2 ~1e13 "
           "muons on target, thick active target, missing momentum); docs/physics.md#muon-experiments")
_M3_ASSUMPTIONS = ("Projection. E0 = 15 GeV [unverified: Fermilab muon beam energy recalled], tungsten active target "
                   "50 X0 = 17.52 cm [unverified], recoil muon below half the beam energy: x = E_miss/E0 >= 0.5 "
                   "[unverified: the paper's exact missing-momentum threshold was not recovered; x >= 2/3 would "
                   "match E_mu' < 5 GeV], background-free (N_90 = 2.3), efficiency 1; thin-target formula "
                   "N = MOT n L_T sigma (the muon loses ~3% of E0 in the target). Meson channels off (muon beam).")

BUILTIN_EXPERIMENTS.update({
    "na64mu-2022": Experiment(
        id="na64mu-2022", name="NA64μ (2022 data)", beam_energy_gev=160.0, target="Pb",
        thickness_x0=40.0, x_min=0.5, eot=1.98e10, background=0.0, observed=0, status="data",
        reference=_NA64MU_2022_REF, lepton="mu",
        assumptions=("Data: 160 GeV muons, (1.98 +- 0.02)e10 MOT, 0 observed; signal = scattered muon with "
                     "p < 80 GeV/c, i.e. x = E_miss/E0 >= 0.5 up to the end point 1 - m_mu/E0 (a lower bound on "
                     "the muon momentum from the spectrometer acceptance, if any, is not applied). Background "
                     "set to 0: with 0 observed the CLs limit does not depend on it (the paper's expected "
                     "background, ~0.07 [unverified], matters only for --statistics neyman). " + _NA64MU_TARGET
                     + "Meson channels off (muon beam).")),
    "na64mu-projected": Experiment(
        id="na64mu-projected", name="NA64μ projected (1e12 MOT)", beam_energy_gev=160.0, target="Pb",
        thickness_x0=40.0, x_min=0.5, eot=1e12, background=0.0, observed=0, status="projection",
        reference=("Kirpichnikov, Sieber, Molina Bueno, Crivelli, Kirsanov, PRD 104 (2021) 076012, arXiv:2107.13297 "
                   "('10^12 muons accumulated on target'); setup as na64mu-2022; docs/physics.md#muon-experiments"),
        lepton="mu",
        assumptions=("Projection: 1e12 MOT (the NA64mu phenomenology paper's benchmark; 1e13 is a user option), "
                     "background-free (N_90 = 2.3), same beam, cut (x >= 0.5) and target as na64mu-2022. "
                     + _NA64MU_TARGET + "Meson channels off (muon beam).")),
    "m3-phase1": Experiment(
        id="m3-phase1", name="M³ Phase 1", beam_energy_gev=15.0, target="W", thickness_x0=50.0, x_min=0.5,
        eot=1e10, background=0.0, observed=0, status="projection", reference=_M3_REF, lepton="mu",
        assumptions="Phase 1: 1e10 MOT. " + _M3_ASSUMPTIONS),
    "m3-phase2": Experiment(
        id="m3-phase2", name="M³ Phase 2", beam_energy_gev=15.0, target="W", thickness_x0=50.0, x_min=0.5,
        eot=1e13, background=0.0, observed=0, status="projection", reference=_M3_REF, lepton="mu",
        assumptions="Phase 2: 1e13 MOT. " + _M3_ASSUMPTIONS),
})

_user_experiments: dict[str, Experiment] = {}
_lock = threading.RLock()
_env_state: dict = {"key": None, "error": None}

#: Keys of an experiment entry in a file ("id" is the entry's table key; "name" defaults to it).
FILE_FIELDS = tuple(f.name for f in dataclasses.fields(Experiment) if f.name != "id")
REQUIRED_FIELDS = tuple(f.name for f in dataclasses.fields(Experiment)
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                        and f.name not in ("id", "name"))


def parse_experiments(table, where: str = "experiments") -> dict[str, Experiment]:
    """Validate an ``experiments`` table (id → fields) without registering anything. Materials it uses must
    be registered (or built in) already."""
    table = userfiles.table_of(where, table)
    out = {}
    for key, spec in table.items():
        limits.check_name(f"{where} id", key)
        if key in BUILTIN_EXPERIMENTS:
            raise errors.InputError(f"{where}.{key}", "an id that is not built in (" + ", ".join(BUILTIN_EXPERIMENTS)
                                    + ")", key, "benchmarks are fixed; use Experiment.replace")
        spec = userfiles.table_of(f"{where}.{key}", spec)
        spec = dict(spec)
        if "id" in spec:  # tolerated only if it repeats the table key
            if spec.pop("id") != key:
                raise errors.InputError(f"{where}.{key}.id", f"omitted or equal to the table key {key!r}",
                                        "(differs)")
        userfiles.check_keys(f"{where}.{key}", spec, FILE_FIELDS, required=REQUIRED_FIELDS)
        if "meson_yields" in spec:
            yields = userfiles.table_of(f"{where}.{key}.meson_yields", spec["meson_yields"])
            userfiles.check_keys(f"{where}.{key}.meson_yields", yields, MESON_YIELD_KEYS)
            spec["meson_yields"] = dict(yields)
        try:
            out[key] = Experiment(id=key, **{"name": key, **spec})
        except errors.InputError as exc:  # name the entry: experiments.<id>.<field>
            raise errors.InputError(f"{where}.{key}.{exc.parameter}", exc.allowed, exc.value, exc.detail) from None
    return out


def read_experiments_file(path: str | os.PathLike, what: str = "experiment file", register: bool = True):
    """Read and validate an experiments file; returns (experiments, materials defined in it).

    With ``register`` the file's materials and experiments are registered — only once everything is valid.
    The experiments table is ``experiments`` (a file may also carry ``materials``); a file with neither key
    is taken to be the experiments table itself.
    """
    from physics.model import materials

    data = userfiles.read_mapping(path, what)
    if "experiments" in data or "materials" in data:
        userfiles.check_keys(what, data, ("experiments", "materials"))
        mats = materials.parse_materials(data["materials"]) if "materials" in data else {}
        table = data.get("experiments", {})
    else:
        mats, table = {}, data
    with _lock, materials._lock:
        # the experiments may use the file's own materials: register them provisionally, undo on error
        saved = dict(materials._user_materials)
        materials._user_materials.update(mats)
        try:
            exps = parse_experiments(table)
        except BaseException:
            materials._user_materials.clear()
            materials._user_materials.update(saved)
            raise
        if not register:
            materials._user_materials.clear()
            materials._user_materials.update(saved)
        else:
            _user_experiments.update(exps)
    return exps, mats


def load_experiments(path: str | os.PathLike) -> dict[str, Experiment]:
    """Load user experiments from a TOML/JSON file (table ``experiments``) and register them (all or nothing)."""
    return read_experiments_file(path)[0]


def _load_env_experiments() -> None:
    """Load ``$DAP_EXPERIMENTS`` once per file version (path, size, mtime); a broken file raises every time."""
    userfiles.load_env_file(ENV_EXPERIMENTS, _env_state, _lock, read_experiments_file)


def all_experiments() -> dict[str, Experiment]:
    """Built-in and user experiments (reads ``$DAP_EXPERIMENTS``; InputError if that file is broken)."""
    _load_env_experiments()
    with _lock:
        return {**BUILTIN_EXPERIMENTS, **_user_experiments}


def _looks_like_path(key: str) -> bool:
    if os.sep in key or "/" in key or key.lower().endswith((".toml", ".json")):
        return True
    try:
        return bool(key) and Path(key).exists()
    except (OSError, ValueError):  # name too long, NUL byte: not a file we could read anyway
        return False


def get_experiment(key: str | Experiment) -> Experiment:
    """Look up an experiment by id; a path to a TOML/JSON file loads it (its single/first experiment).

    Built-in ids are found without reading ``$DAP_EXPERIMENTS``."""
    if isinstance(key, Experiment):
        return key
    if not isinstance(key, str):
        raise errors.InputError("experiment", "an experiment id or a TOML/JSON file", key, "not text")
    if key in BUILTIN_EXPERIMENTS:
        return BUILTIN_EXPERIMENTS[key]
    with _lock:
        if key in _user_experiments:
            return _user_experiments[key]
    if _looks_like_path(key):
        loaded = load_experiments(key)
        if not loaded:
            raise errors.InputError("experiment file", "a file defining at least one experiment", key)
        return next(iter(loaded.values()))
    exps = all_experiments()
    if key in exps:
        return exps[key]
    raise errors.InputError("experiment", "one of " + ", ".join(exps) + " or a TOML/JSON file", key)
