"""Target materials (Z, A, density, radiation length) — docs/physics.md#targets.

Built-in: Pb, W, Al (docs/physics.md#targets; PDG "Atomic and nuclear properties of materials"), plus Fe and Cu
for convenience (same source). Users may add materials from a TOML or JSON file::

    [materials.Cu]
    Z = 29
    A = 63.546          # g/mol
    density_g_cm3 = 8.96
    X0_cm = 1.436

and pass it with ``load_materials(path)`` or the ``DAP_MATERIALS`` environment variable. Every field is
checked against :mod:`physics.limits` (numbers must be numbers, not text; unknown keys are refused); a file
is all-or-nothing (nothing is registered if any entry is bad); built-in names cannot be redefined. The
``DAP_MATERIALS`` file is read lazily — only when a material that is not built in is looked up, or the list
of all materials is asked for — so a broken file never breaks ``--help`` or commands that do not use it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass

from physics import errors, limits, userfiles
from physics.model.constants import AMU_GEV, AVOGADRO_PER_MOL

#: Environment variable naming a TOML/JSON materials file.
ENV_MATERIALS = "DAP_MATERIALS"
#: Fields of a material entry in a file.
MATERIAL_FIELDS = ("Z", "A", "density_g_cm3", "X0_cm")


@dataclass(frozen=True)
class Material:
    """A target material.

    Z: atomic number; A: atomic mass [g/mol]; density_g_cm3: density [g/cm^3]; X0_cm: radiation length [cm].
    """

    name: str
    Z: int
    A: float
    density_g_cm3: float
    X0_cm: float

    def __post_init__(self):
        limits.check_name("material name", self.name)
        object.__setattr__(self, "Z", limits.check("Z", self.Z, f"{self.name}.Z"))
        for key in ("A", "density_g_cm3", "X0_cm"):
            object.__setattr__(self, key, limits.check(key, getattr(self, key), f"{self.name}.{key}"))

    @property
    def atoms_per_cm3(self) -> float:
        """Number density of atoms n = ρ N_A / A [cm^-3]."""
        return self.density_g_cm3 * AVOGADRO_PER_MOL / self.A

    @property
    def nucleus_mass_gev(self) -> float:
        """Nuclear mass M_N ≈ A × u [GeV] (electron binding neglected)."""
        return self.A * AMU_GEV

    def to_dict(self) -> dict:
        return asdict(self)


BUILTIN_MATERIALS: dict[str, Material] = {
    # PDG material tables (docs/physics.md#targets)
    "Pb": Material("Pb", 82, 207.2, 11.35, 0.5612),
    "W": Material("W", 74, 183.84, 19.3, 0.3504),
    "Al": Material("Al", 13, 26.98, 2.70, 8.897),
    # PDG atomic and nuclear properties
    "Fe": Material("Fe", 26, 55.845, 7.874, 1.757),
    "Cu": Material("Cu", 29, 63.546, 8.96, 1.436),
}

_user_materials: dict[str, Material] = {}
_lock = threading.RLock()
_env_state: dict = {"key": None, "error": None}


def parse_materials(table, where: str = "materials") -> dict[str, Material]:
    """Validate a ``materials`` table (name → {Z, A, density_g_cm3, X0_cm}) without registering anything."""
    table = userfiles.table_of(where, table)
    out = {}
    builtin_lower = {k.lower() for k in BUILTIN_MATERIALS}
    for name, spec in table.items():
        limits.check_name(f"{where} name", name)
        if name.lower() in builtin_lower:
            raise errors.InputError(f"{where}.{name}", "a name that is not built in (" +
                                    ", ".join(BUILTIN_MATERIALS) + ")", name, "built-in materials are fixed")
        spec = userfiles.table_of(f"{where}.{name}", spec)
        userfiles.check_keys(f"{where}.{name}", spec, MATERIAL_FIELDS, required=MATERIAL_FIELDS)
        try:
            out[name] = Material(name=name, **{k: spec[k] for k in MATERIAL_FIELDS})
        except errors.InputError as exc:  # name the entry: materials.<name>.<field>
            raise errors.InputError(f"{where}.{exc.parameter}", exc.allowed, exc.value, exc.detail) from None
    return out


def read_materials_file(path: str | os.PathLike, what: str = "materials file") -> dict[str, Material]:
    """Read and validate a materials file (top-level ``materials`` table, or the table itself); registers nothing."""
    data = userfiles.read_mapping(path, what)
    if "materials" in data:
        userfiles.check_keys(what, data, ("materials", "experiments"))
        return parse_materials(data["materials"])
    return parse_materials(data)


def register_materials(mats: dict[str, Material]) -> None:
    with _lock:
        _user_materials.update(mats)


def load_materials(path: str | os.PathLike) -> dict[str, Material]:
    """Load user materials from a TOML/JSON file (table ``materials``) and register them (all or nothing)."""
    out = read_materials_file(path)
    register_materials(out)
    return out


def _load_env_materials() -> None:
    """Load ``$DAP_MATERIALS`` once per file version (path, size, mtime); a broken file raises every time."""
    userfiles.load_env_file(ENV_MATERIALS, _env_state, _lock,
                            lambda path, what: register_materials(read_materials_file(path, what)))


def all_materials() -> dict[str, Material]:
    """Built-in and user materials (reads ``$DAP_MATERIALS``; InputError if that file is broken)."""
    _load_env_materials()
    with _lock:
        return {**BUILTIN_MATERIALS, **_user_materials}


def get_material(name: str | Material) -> Material:
    """Look a material up by name (case-sensitive symbol, case-insensitive fallback).

    Built-in materials are found without reading ``$DAP_MATERIALS``."""
    if isinstance(name, Material):
        return name
    if isinstance(name, str):
        if name in BUILTIN_MATERIALS:
            return BUILTIN_MATERIALS[name]
        with _lock:
            if name in _user_materials:
                return _user_materials[name]
        for key, m in BUILTIN_MATERIALS.items():
            if key.lower() == name.lower():
                return m
    mats = all_materials()
    if isinstance(name, str):
        if name in mats:
            return mats[name]
        for key, m in mats.items():
            if key.lower() == name.lower():
                return m
    raise errors.InputError("target", "one of " + ", ".join(sorted(mats)), name)
