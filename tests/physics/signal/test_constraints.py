"""Other constraints: BaBar Υ(1S) → inv, BESIII ω/φ → inv, SN1987A band (physics/signal/constraints.py;
docs/physics.md#constraints, checks in docs/validation.md#babar-upsilon)."""

import json
import math
from importlib import resources

import numpy as np
import pytest

from physics.signal import constraints as cs
from physics.model import mesons
from physics.cli import main
from physics.model.constants import ALPHA_EM
from physics.errors import InputError


def test_upsilon_bound_closed_formula():
    # docs/physics.md#constraint-meson-invisible: g < sqrt(24 g_Υ² Γ_Υ Br_lim / (α M_Υ³ λ^{3/2})) ≈ 1.0e-2 GeV⁻¹
    # at light m_γD, with the Υ(1S) inputs of Gninenko et al., arXiv:2602.11405, Table 1
    hand = math.sqrt(24 * 40.3 ** 2 * 0.054e-3 * 3.0e-4 / (ALPHA_EM * 9.460 ** 3))
    assert hand == pytest.approx(1.0e-2, rel=0.02)  # the two-digit "≈ 1.0e-2" of docs/validation.md#babar-upsilon
    # λ^{3/2}(1, m_a², m_γD²) = 1 − O(m²/M²) ~ 1 − 3e-8 at 1 MeV: rel 1e-6
    assert cs.babar_upsilon(1e-3)["g_max_GeV-1"] == pytest.approx(hand, rel=1e-6)


@pytest.mark.parametrize("name,meson,br", [("babar-upsilon", "upsilon", 3.0e-4), ("besiii-omega", "omega", 7.3e-5),
                                           ("besiii-phi", "phi", 1.7e-4)])
@pytest.mark.parametrize("m_gd,m_a", [(1e-3, 1e-6), (0.3, 1e-6), (0.5, 0.2)])
def test_bound_saturates_the_branching_limit(name, meson, br, m_gd, m_a):
    res = cs.constraint(name, m_gd, m_a)
    g = res["g_max_GeV-1"]
    # at g_max, Br(V → aγD) from physics.model.mesons equals the experimental limit (same formula, rounding only)
    assert mesons.br_to_a_gd(meson, m_a, m_gd, g) == pytest.approx(br, rel=1e-12)
    prov = res["provenance"]
    assert prov["cl"] == 0.90 and prov["br_limit"] == br and ("BaBar" in prov["source"] or "BESIII" in prov["source"])


def test_besiii_weaker_than_babar():
    g = {n: cs.constraint(n, 0.1)["g_max_GeV-1"] for n in ("babar-upsilon", "besiii-omega", "besiii-phi")}
    # docs/validation.md#babar-upsilon: the BESIII bounds are weaker than BaBar's
    assert g["babar-upsilon"] < g["besiii-phi"] < g["besiii-omega"]


def test_closed_kinematics():
    arr = cs.babar_upsilon(np.array([1.0, 9.0, 9.5]))["g_max_GeV-1"]
    assert np.isfinite(arr[:2]).all() and math.isnan(arr[2])
    with pytest.raises(InputError) as exc:
        cs.besiii_phi(1.0, m_a=0.1)  # 1.1 > M_φ = 1.019 GeV, single point → error
    assert exc.value.parameter == "m_a + m_gd"
    for bad, name in ((-0.1, "m_gd"), (float("nan"), "m_gd")):
        with pytest.raises(InputError) as exc:
            cs.babar_upsilon(bad)
        assert exc.value.parameter == name
    with pytest.raises(InputError) as exc:
        cs.babar_upsilon(0.1, m_a=-1.0)
    assert exc.value.parameter == "m_a"
    with pytest.raises(InputError) as exc:
        cs.constraint("atlas", 0.1)
    assert exc.value.parameter == "constraint"


def test_sn1987a_files_and_metadata():
    base = resources.files("physics.data.limits")
    for stem in cs.SN_FILES.values():
        meta = json.loads(base.joinpath(stem + ".json").read_text(encoding="utf-8"))
        assert meta["units"]["mass"] == "GeV" and meta["cl"] is None and meta["licence"] == "MIT"
        assert base.joinpath(meta["file"]).is_file()
        assert "MIT License" in base.joinpath(meta["licence_file"]).read_text(encoding="utf-8")
        assert meta["source"]["commit"] == "c02b9a2256186535e8b72325ebaac1fe454903e5"


def test_sn1987a_band_values():
    band = cs.sn1987a_band()
    lo, hi = band["lower"], band["upper"]
    # first digitised points, read as GeV (README): 0.965 MeV → 1.092e-7 GeV⁻¹; 0.990 MeV → 1.314e-5 GeV⁻¹
    assert lo["m_gd_GeV"][0] == pytest.approx(0.000965277) and lo["g_GeV-1"][0] == pytest.approx(1.0920883e-7)
    assert hi["m_gd_GeV"][0] == pytest.approx(0.000989993) and hi["g_GeV-1"][0] == pytest.approx(1.3144364e-5)
    # interpolation reproduces the nodes (log–log linear), NaN outside the digitised range
    b = cs.sn1987a_band(lo["m_gd_GeV"][3:6])
    np.testing.assert_allclose(b["lower_GeV-1"], lo["g_GeV-1"][3:6], rtol=1e-12)
    out = cs.sn1987a_band(np.array([1e-4, 0.5, 2.0]))
    assert math.isnan(out["lower_GeV-1"][0]) and math.isfinite(out["lower_GeV-1"][1])
    assert math.isnan(out["lower_GeV-1"][2]) and math.isnan(out["upper_GeV-1"][1])
    assert band["provenance"]["cl"] is None and "2105.06476" in " ".join(band["provenance"]["source"])
    # a point inside the band at 10 MeV, and couplings above/below it
    assert cs.sn1987a_excluded([0.01, 0.01, 0.01], [1e-6, 1e-8, 1e-3]).tolist() == [True, False, False]
    # beyond the upper edge's digitised range (m > 94 MeV) the band extends to the plot top
    assert cs.sn1987a_excluded([0.5], [1e-2]).tolist() == [True]


def test_drawable_helpers():
    m = np.array([0.01, 0.5, 0.9])
    regions = cs.besiii(m)
    assert [r["label"] for r in regions] == ["BESIII ω→inv", "BESIII φ→inv"]
    np.testing.assert_allclose(regions[1]["g"], cs.besiii_phi(m)["g_max_GeV-1"], rtol=1e-14)
    assert math.isnan(regions[0]["g"][2])  # ω closed at 0.9 GeV
    band = cs.sn1987a()
    assert band["kind"] == "band" and band["m"].size == 46 and np.isfinite(band["lo"]).sum() >= 23


def _cli(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_constraint(capsys):
    code, out, _ = _cli(["constraint", "babar-upsilon", "--m-gd", "0.1", "--m-a", "1e-6", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["g_max_GeV-1"] == pytest.approx(0.0101, rel=0.01) and "provenance" in data
    code, out, _ = _cli(["constraint", "sn1987a", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and len(data["lower"]["m_gd_GeV"]) == 23 and len(data["upper"]["m_gd_GeV"]) == 23
    code, out, _ = _cli(["constraint", "besiii-omega", "--m-gd", "0.01,0.9", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["g_max_GeV-1"][1] is None and data["g_max_GeV-1"][0] > 1.0


@pytest.mark.parametrize("args,name", [
    (["babar-upsilon", "--m-gd", "9.5"], "m_a + m_gd"),
    (["babar-upsilon", "--m-gd=-1"], "m_gd"),
    (["babar-upsilon"], "m_gd"),
    (["besiii-phi", "--m-gd", "0.1", "--m-a=-1"], "m_a"),
])
def test_cli_constraint_bad_input(args, name, capsys):
    code, out, err = _cli(["constraint", *args, "--json"], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "allowed" in lines[0]
