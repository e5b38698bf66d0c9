"""Materials and the experiment registry (PHYSICS.md §4)."""

import json

import pytest

from physics import experiments, targets
from physics.errors import InputError


def test_builtin_materials():
    pb = targets.get_material("Pb")
    assert (pb.Z, pb.A, pb.density_g_cm3, pb.X0_cm) == (82, 207.2, 11.35, 0.5612)
    assert targets.get_material("al").Z == 13  # case-insensitive fallback
    # n = ρ N_A / A for Pb: 11.35 × 6.022e23 / 207.2 = 3.299e22 cm^-3
    assert pb.atoms_per_cm3 == pytest.approx(3.2988e22, rel=1e-3)
    with pytest.raises(InputError, match="target"):
        targets.get_material("Unobtainium")


def test_user_material_toml(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text('[materials.Sn]\nZ = 50\nA = 118.71\ndensity_g_cm3 = 7.31\nX0_cm = 1.206\n')
    targets.load_materials(f)
    assert targets.get_material("Sn").Z == 50
    bad = tmp_path / "bad.toml"
    bad.write_text('[materials.X]\nZ = 50\nA = -1\ndensity_g_cm3 = 7.31\nX0_cm = 1.2\n')
    with pytest.raises(InputError, match="X.A"):
        targets.load_materials(bad)


def test_benchmarks_registry():
    reg = experiments.all_experiments()
    assert {"na64e-2023", "na64e-projected", "ldmx-phase2"} <= set(reg)
    na64 = reg["na64e-2023"]
    assert (na64.beam_energy_gev, na64.target, na64.x_min, na64.eot, na64.status) == (100.0, "Pb", 0.5, 9.37e11,
                                                                                      "data")
    assert na64.thickness_cm == pytest.approx(0.5612)
    ldmx = reg["ldmx-phase2"]
    assert (ldmx.beam_energy_gev, ldmx.target, ldmx.x_min, ldmx.eot) == (8.0, "Al", 0.7, 1e16)
    assert ldmx.thickness_cm == pytest.approx(0.4 * 8.897)
    # luminosity per cm^2 = EOT n L_T
    assert na64.luminosity_per_cm2 == pytest.approx(9.37e11 * na64.material.atoms_per_cm3 * 0.5612, rel=1e-12)


@pytest.mark.parametrize("field,value", [("eot", 0.0), ("eot", -5), ("x_min", 1.0), ("beam_energy_gev", float("nan")),
                                         ("target", "Xx"), ("observed", 1.5), ("background", -1)])
def test_bad_experiment_fields(field, value):
    with pytest.raises(InputError):
        experiments.get_experiment("na64e-2023").replace(**{field: value})


def test_user_experiment_json_and_toml(tmp_path):
    f = tmp_path / "e.json"
    f.write_text(json.dumps({"experiments": {"w50": {"beam_energy_gev": 50, "target": "W", "thickness_x0": 1.0,
                                                     "x_min": 0.5, "eot": 1e12}}}))
    e = experiments.get_experiment(str(f))
    assert e.id == "w50" and e.material.Z == 74
    t = tmp_path / "e.toml"
    t.write_text('[experiments.bad]\nbeam_energy_gev = 50\ntarget = "W"\nthickness_x0 = 1\nx_min = 0.5\neot = 0\n')
    with pytest.raises(InputError, match="eot"):
        experiments.load_experiments(t)
    with pytest.raises(InputError, match="experiment"):
        experiments.get_experiment("no-such-experiment")
