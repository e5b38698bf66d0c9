"""Experiment registry: beam, target, thickness, missing-energy cut, statistics (PHYSICS.md §4).

Built-in benchmarks (ids ``na64e-2023``, ``na64e-projected``, ``ldmx-phase2``). User experiments come from a
TOML or JSON file, e.g.::

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

Every number is user-changeable (``Experiment.replace(...)``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import errors
from .targets import Material, get_material


@dataclass(frozen=True)
class Experiment:
    """An electron fixed-target missing-energy experiment.

    beam_energy_gev: E0 [GeV]; target: material name; thickness_x0: effective target length L_T in units of
    the radiation length X0; x_min/x_max: missing-energy fraction window E_miss/E0; eot: electrons on target;
    background: expected background events; observed: observed events; status: "data" or "projection";
    meson_yields: optional per-meson override of N_V (keys rho, omega, phi, jpsi, upsilon).
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

    def __post_init__(self):
        errors.positive("beam_energy_gev", self.beam_energy_gev, "GeV")
        get_material(self.target)
        errors.positive("thickness_x0", self.thickness_x0, "X0")
        errors.in_range("x_min", self.x_min, 0.0, 1.0, hi_open=True)
        errors.in_range("x_max", self.x_max, 0.0, 1.0, lo_open=True)
        if self.x_max <= self.x_min:
            raise errors.InputError("x_max", f"> x_min = {self.x_min:g} and <= 1", self.x_max)
        errors.positive("eot", self.eot, "electrons")
        errors.non_negative("background", self.background, "events")
        if int(self.observed) != self.observed or self.observed < 0:
            raise errors.InputError("observed", "a non-negative integer", self.observed)
        errors.one_of("status", self.status, ("data", "projection"))

    @property
    def material(self) -> Material:
        return get_material(self.target)

    @property
    def thickness_cm(self) -> float:
        """L_T [cm] = thickness_x0 × X0."""
        return self.thickness_x0 * self.material.X0_cm

    @property
    def luminosity_per_cm2(self) -> float:
        """Integrated luminosity per unit cross section: EOT × n_atoms × L_T [cm^-2] (seed Eq. 8)."""
        return self.eot * self.material.atoms_per_cm3 * self.thickness_cm

    def replace(self, **changes) -> "Experiment":
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["thickness_cm"] = self.thickness_cm
        d["material"] = self.material.to_dict()
        return d


_NA64_REF = ("NA64 Collaboration, Andreev et al., PRL 131 (2023) 161801 (9.37e11 EOT, 0 events); "
             "PHYSICS.md §4")

BUILTIN_EXPERIMENTS: dict[str, Experiment] = {
    "na64e-2023": Experiment(
        id="na64e-2023", name="NA64e (2016–2022 data)", beam_energy_gev=100.0, target="Pb",
        thickness_x0=1.0, x_min=0.5, eot=9.37e11, background=0.0, observed=0, status="data",
        reference=_NA64_REF),
    "na64e-projected": Experiment(
        id="na64e-projected", name="NA64e projected", beam_energy_gev=100.0, target="Pb",
        thickness_x0=1.0, x_min=0.5, eot=5e12, background=0.0, observed=0, status="projection",
        reference="seed paper 'planned statistics' (value not legible; NA64 also quotes 1e13); PHYSICS.md §4"),
    "ldmx-phase2": Experiment(
        id="ldmx-phase2", name="LDMX Phase II", beam_energy_gev=8.0, target="Al",
        thickness_x0=0.4, x_min=0.7, eot=1e16, background=0.0, observed=0, status="projection",
        reference="Akesson et al. (LDMX); thickness 0.4 X0 is an assumption (PHYSICS.md §4)"),
}

_user_experiments: dict[str, Experiment] = {}


def load_experiments(path: str | os.PathLike) -> dict[str, Experiment]:
    """Load user experiments from a TOML/JSON file (table ``experiments``) and register them."""
    p = Path(path)
    if not p.is_file():
        raise errors.InputError("experiment file", "an existing TOML/JSON file", str(path))
    try:
        text = p.read_text()
        data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise errors.InputError("experiment file", "valid TOML or JSON", str(path), str(exc)) from None
    if "materials" in data:
        from .targets import load_materials

        load_materials(p)
    table = data.get("experiments", data)
    allowed = {f.name for f in dataclasses.fields(Experiment)}
    out = {}
    for key, spec in table.items():
        if not isinstance(spec, dict):
            continue
        unknown = set(spec) - allowed
        if unknown:
            raise errors.InputError(f"experiments.{key}", "fields " + ", ".join(sorted(allowed)),
                                    sorted(unknown), "unknown field")
        spec = {"id": key, "name": key, **spec}
        try:
            out[key] = Experiment(**spec)
        except TypeError as exc:
            raise errors.InputError(f"experiments.{key}", "all required fields", spec, str(exc)) from None
    _user_experiments.update(out)
    return out


def all_experiments() -> dict[str, Experiment]:
    env = os.environ.get("DAP_EXPERIMENTS")
    if env and Path(env).is_file():
        load_experiments(env)
    return {**BUILTIN_EXPERIMENTS, **_user_experiments}


def get_experiment(key: str | Experiment) -> Experiment:
    """Look up an experiment by id; a path to a TOML/JSON file loads it (its single/first experiment)."""
    if isinstance(key, Experiment):
        return key
    exps = all_experiments()
    if key in exps:
        return exps[key]
    if isinstance(key, str) and Path(key).is_file():
        loaded = load_experiments(key)
        if loaded:
            return next(iter(loaded.values()))
    raise errors.InputError("experiment", "one of " + ", ".join(exps) + " or a TOML/JSON file", key)
