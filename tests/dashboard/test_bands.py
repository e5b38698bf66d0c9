"""Uncertainty bands of the reach curves (docs/physics.md#uncertainty-bands; dashboard.adapter.reach_variations,
dashboard.viewdata.band_of): each variation moves the curve the way its physics says, the band contains
the central curve, and the figure/CSV carry it."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import adapter, export, figures, layout, presets, viewdata
from physics.service.provider import get_sigma_table
from physics.signal.experiments import get_experiment
from physics.signal.reach import reach
from physics.signal.yields import coefficients
from physics.xsec.sigma_v import SigmaVConfig

M = np.geomspace(1e-3, 5.0, 40)
M_A = 1e-6


@pytest.fixture(scope="module")
def na64():
    exp = get_experiment("na64e-2023")
    return exp, get_sigma_table(SigmaVConfig.from_experiment(exp)), \
        get_sigma_table(SigmaVConfig.from_experiment(exp, form_factor="elastic+inelastic"))


def test_mc_variation_is_the_sigma_v_error_through_the_exact_solution(na64):
    exp, table, _ = na64
    central = reach(exp, M, M_A, table=table).g90
    var = adapter.reach_mc_variations(exp, M, M_A, 0.1, None, table)
    co = coefficients(exp, M, M_A, table=table)
    rel = co.k_brem_err / co.k["brem"]
    assert np.all(rel > 0) and np.all(rel < 0.03)
    up, down = var["σ_V MC +1σ"]["brem"], var["σ_V MC −1σ"]["brem"]
    ok = np.isfinite(central["brem"])
    # more cross section, lower limit; g_90 ∝ K^-1/2 where Br_inv ≈ 1 (light γD: Γ₁ g² ≪ Γ_χχ)
    assert np.all(up[ok] < central["brem"][ok]) and np.all(down[ok] > central["brem"][ok])
    light = ok & (M < 0.05)
    assert np.allclose(up[light] / central["brem"][light], (1 + rel[light]) ** -0.5, rtol=1e-6)
    assert np.allclose(down[light] / central["brem"][light], (1 - rel[light]) ** -0.5, rtol=1e-6)
    # the meson channels carry no MC error; the total moves less than brem alone
    assert np.array_equal(var["σ_V MC +1σ"]["rho"], central["rho"], equal_nan=True)
    tot = np.isfinite(central["total"]) & ok
    assert np.all(np.abs(np.log(var["σ_V MC +1σ"]["total"][tot] / central["total"][tot]))
                  <= np.abs(np.log(up[tot] / central["brem"][tot])) + 1e-12)


def test_meson_and_form_factor_variations(na64):
    exp, table, table_ff = na64
    central = reach(exp, M, M_A, table=table).g90
    var = adapter.reach_variations(exp, M, M_A, 0.1, None, table, table_ff)
    assert set(var) == {"σ_V MC +1σ", "σ_V MC −1σ", "mesons ×2", "mesons ÷2", "J/ψ ÷3", "form factor el.+inel."}
    t = np.isfinite(central["total"])
    # the meson model moves the total, never brem
    assert np.array_equal(var["mesons ×2"]["brem"], central["brem"], equal_nan=True)
    assert np.all(var["mesons ×2"]["total"][t] < central["total"][t])
    assert np.all(var["mesons ÷2"]["total"][t] > central["total"][t])
    # ρ alone: N_V ×2 → g_90 ÷√2 where Br_inv ≈ 1
    light = np.isfinite(central["rho"]) & (M < 0.05)
    assert np.allclose(var["mesons ×2"]["rho"][light] / central["rho"][light], 2 ** -0.5, rtol=1e-6)
    # J/ψ ÷3 leaves ρ alone and moves J/ψ by √3
    assert np.array_equal(var["J/ψ ÷3"]["rho"], central["rho"], equal_nan=True)
    j = np.isfinite(central["jpsi"]) & (M < 0.05)
    assert np.allclose(var["J/ψ ÷3"]["jpsi"][j] / central["jpsi"][j], 3 ** 0.5, rtol=1e-6)
    # the inelastic form factor adds cross section (about 1/Z of the elastic term, docs/physics.md#form-factors)
    b = np.isfinite(central["brem"]) & (M < 1.0)
    r = var["form factor el.+inel."]["brem"][b] / central["brem"][b]
    assert np.all(r < 1.0) and np.all(r > 0.9)
    # user N_V overrides: no meson-model variation
    fixed = exp.replace(meson_yields={m: 1e6 for m in adapter.MESON_KEYS})
    assert not any(k.startswith(("mesons", "J/ψ")) for k in adapter.reach_variations(fixed, M, M_A, 0.1, None, table))


def test_band_contains_the_central_curve_and_widths_respond_to_each_variation():
    c = np.array([1.0, 2.0, np.nan, 4.0])
    b = viewdata.band_of(c, {"a": c * 1.1, "b": c * 0.8, "c": np.array([np.nan, 2.0, 3.0, 5.0])})
    assert np.allclose(b["lo"], [0.8, 1.6, np.nan, 3.2], equal_nan=True)
    assert np.allclose(b["hi"], [1.1, 2.2, np.nan, 5.0], equal_nan=True)
    assert b["widths"]["a"] == pytest.approx(np.log(1.1)) and b["widths"]["b"] == pytest.approx(-np.log(0.8))
    assert b["widths"]["c"] == pytest.approx(np.log(5.0 / 4.0))


def test_bands_in_the_view_data_figure_and_csv():
    app = layout.DashboardApp()
    presets.apply(app.inputs, "fig4")
    assert not any("band" in c for c in app.view_data("exclusion")["curves"])
    app.inputs.param.update(bands=True, show_channel_curves=True)
    data = app.view_data("exclusion")
    for exp_id in ("na64e-2023", "na64e-projected", "ldmx-phase2", "custom-1"):
        assert "form factor el.+inel." in data["band_sources"][exp_id]        # shipped elastic+inelastic tables
        for ch in ("total", "brem"):
            c = next(c for c in data["curves"] if c["exp_id"] == exp_id and c["channel"] == ch)
            g, lo, hi = c["g"], c["band"]["lo"], c["band"]["hi"]
            ok = np.isfinite(g)
            assert np.all(lo[ok] <= g[ok]) and np.all(g[ok] <= hi[ok]) and np.any(hi[ok] > 1.05 * lo[ok])
            w = c["band"]["widths"]
            assert w["σ_V MC +1σ"] > 0 and w["form factor el.+inel."] > 0
            if ch == "total":
                assert w["mesons ×2"] > w["σ_V MC +1σ"]        # the meson model dominates the total's band
            else:
                assert w["mesons ×2"] == 0.0                    # brem does not depend on the meson model
    s = figures.spec("exclusion", data, (1e-3, 10.0))
    bands = [c for c in s.curves if c.key.startswith("band:")]
    assert {c.key for c in bands} >= {"band:na64e-2023:total", "band:na64e-2023:brem", "band:ldmx-phase2:total"}
    assert all(c.kind == "band" for c in bands) and any(e == "swatch:band" for e, _ in s.legend_entries())
    csv = export.csv_text("exclusion", data, app.header_lines("exclusion"))
    assert "reach_band,NA64e (2016–2022 data),total," in csv and "uncertainty bands" in csv
    export.spec_bytes(s, "png", "single")                                    # the export draws the same spec
