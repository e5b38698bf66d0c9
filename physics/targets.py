"""Target materials (Z, A, density, radiation length) — PHYSICS.md §4.

Built-in: Pb, W, Al (PHYSICS.md §4; PDG "Atomic and nuclear properties of materials"), plus Fe and Cu
for convenience (same source). Users may add materials from a TOML or JSON file::

    [materials.Cu]
    Z = 29
    A = 63.546          # g/mol
    density_g_cm3 = 8.96
    X0_cm = 1.436

and pass it with ``load_materials(path)`` or the ``DAP_MATERIALS`` environment variable.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from . import errors
from .constants import AMU_GEV, AVOGADRO_PER_MOL


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
        errors.in_range(f"{self.name}.Z", self.Z, 1, 120)
        errors.positive(f"{self.name}.A", self.A, "g/mol")
        errors.positive(f"{self.name}.density_g_cm3", self.density_g_cm3, "g/cm^3")
        errors.positive(f"{self.name}.X0_cm", self.X0_cm, "cm")

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
    # PHYSICS.md §4 (PDG material tables)
    "Pb": Material("Pb", 82, 207.2, 11.35, 0.5612),
    "W": Material("W", 74, 183.84, 19.3, 0.3504),
    "Al": Material("Al", 13, 26.98, 2.70, 8.897),
    # PDG atomic and nuclear properties
    "Fe": Material("Fe", 26, 55.845, 7.874, 1.757),
    "Cu": Material("Cu", 29, 63.546, 8.96, 1.436),
}

_user_materials: dict[str, Material] = {}


def _read_mapping(path: Path) -> dict:
    text = path.read_text()
    if path.suffix.lower() == ".toml":
        return tomllib.loads(text)
    return json.loads(text)


def load_materials(path: str | os.PathLike) -> dict[str, Material]:
    """Load user materials from a TOML/JSON file (table ``materials``) and register them."""
    p = Path(path)
    if not p.is_file():
        raise errors.InputError("materials file", "an existing TOML/JSON file", str(path))
    try:
        data = _read_mapping(p)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise errors.InputError("materials file", "valid TOML or JSON", str(path), str(exc)) from None
    table = data.get("materials", data)
    out = {}
    for name, spec in table.items():
        try:
            out[name] = Material(name=name, Z=int(spec["Z"]), A=float(spec["A"]),
                                 density_g_cm3=float(spec["density_g_cm3"]), X0_cm=float(spec["X0_cm"]))
        except KeyError as exc:
            raise errors.InputError(f"materials.{name}", "keys Z, A, density_g_cm3, X0_cm", spec,
                                    f"missing {exc}") from None
    _user_materials.update(out)
    return out


def all_materials() -> dict[str, Material]:
    env = os.environ.get("DAP_MATERIALS")
    if env and Path(env).is_file():
        load_materials(env)
    return {**BUILTIN_MATERIALS, **_user_materials}


def get_material(name: str | Material) -> Material:
    """Look a material up by name (case-sensitive symbol, case-insensitive fallback)."""
    if isinstance(name, Material):
        return name
    mats = all_materials()
    if name in mats:
        return mats[name]
    for key, m in mats.items():
        if key.lower() == str(name).lower():
            return m
    raise errors.InputError("target", "one of " + ", ".join(sorted(mats)), name)
