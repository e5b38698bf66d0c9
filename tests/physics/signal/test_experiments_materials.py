"""Materials and the experiment registry (docs/physics.md#experiments, #targets)."""

import json

import pytest

from physics.signal import experiments
from physics.model import materials
from physics.errors import InputError


def test_builtin_materials():
    pb = materials.get_material("Pb")
    assert (pb.Z, pb.A, pb.density_g_cm3, pb.X0_cm) == (82, 207.2, 11.35, 0.5612)
    assert materials.get_material("al").Z == 13  # case-insensitive fallback
    # n = ρ N_A / A for Pb: 11.35 × 6.022e23 / 207.2 = 3.299e22 cm^-3
    assert pb.atoms_per_cm3 == pytest.approx(3.2988e22, rel=1e-3)
    with pytest.raises(InputError, match="target"):
        materials.get_material("Unobtainium")


def test_user_material_toml(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text('[materials.Sn]\nZ = 50\nA = 118.71\ndensity_g_cm3 = 7.31\nX0_cm = 1.206\n')
    materials.load_materials(f)
    assert materials.get_material("Sn").Z == 50
    bad = tmp_path / "bad.toml"
    bad.write_text('[materials.X]\nZ = 50\nA = -1\ndensity_g_cm3 = 7.31\nX0_cm = 1.2\n')
    with pytest.raises(InputError, match="X.A"):
        materials.load_materials(bad)


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


# -- files: types are checked, not coerced -----------------------------------------------------------------
@pytest.mark.parametrize("line,param", [
    ('eot = "1e12"', "eot"), ("eot = true", "eot"), ("eot = nan", "eot"), ("eot = inf", "eot"),
    ("observed = 2.5", "observed"), ("background = -1", "background"), ("beam_energy_gev = 1e30", "beam_energy_gev"),
    ('status = "maybe"', "status"), ("x_max = 0.2", "x_max"), ("typo = 1", "experiments.t"),
])
def test_experiment_file_refuses_wrong_types(tmp_path, line, param):
    base = {"beam_energy_gev": "50", "target": '"W"', "thickness_x0": "1", "x_min": "0.5", "eot": "1e12"}
    key = line.split(" = ")[0]
    body = "".join(f"{k} = {v}\n" for k, v in base.items() if k != key) + line + "\n"
    f = tmp_path / "e.toml"
    f.write_text("[experiments.t]\n" + body)
    with pytest.raises(InputError) as exc:
        experiments.load_experiments(f)
    assert param in exc.value.parameter and "\n" not in str(exc.value)
    assert "t" not in experiments._user_experiments


def test_unknown_key_names_the_allowed_keys(tmp_path):
    f = tmp_path / "e.json"
    f.write_text(json.dumps({"experiments": {"t2": {"beam_energy_gev": 50, "target": "W", "thickness_x0": 1,
                                                    "x_min": 0.5, "eot": 1e12, "eot_on_target": 5}}}))
    with pytest.raises(InputError) as exc:
        experiments.load_experiments(f)
    assert "eot_on_target" in str(exc.value) and "beam_energy_gev" in exc.value.allowed


@pytest.mark.parametrize("field,value", [("Z", 50.5), ("Z", "50"), ("Z", True), ("A", "118.7"), ("A", 1e6),
                                         ("density_g_cm3", 0.0), ("X0_cm", 1e30)])
def test_material_file_refuses_wrong_types(tmp_path, field, value):
    spec = {"Z": 50, "A": 118.71, "density_g_cm3": 7.31, "X0_cm": 1.206, field: value}
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"materials": {"Sx": spec}}))
    with pytest.raises(InputError) as exc:
        materials.load_materials(f)
    assert f"Sx.{field}" in exc.value.parameter
    assert "Sx" not in materials._user_materials


def test_observed_from_file_is_an_integer(tmp_path):
    f = tmp_path / "e.toml"
    f.write_text('[experiments.obs2]\nbeam_energy_gev = 50\ntarget = "W"\nthickness_x0 = 1\nx_min = 0.5\n'
                 'eot = 1e12\nobserved = 2.0\n')
    e = experiments.load_experiments(f)["obs2"]
    assert e.observed == 2 and isinstance(e.observed, int)
