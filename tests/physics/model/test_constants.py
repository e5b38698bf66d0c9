"""Unit conversions against hand-checked values (docs/physics.md#constants, docs/validation.md#constants)."""

import math

import pytest

from physics.model import constants as c


def test_gev_m2_to_pb_matches_physics_md():
    # docs/physics.md#constants: 1 GeV^-2 = 0.3893794 mb = 3.893794e-28 cm^2 = 3.893794e8 pb (7 digits).
    assert c.gev_m2_to_pb(1.0) == pytest.approx(3.893794e8, rel=1e-6)
    assert c.gev_m2_to_cm2(1.0) == pytest.approx(3.893794e-28, rel=1e-6)
    assert c.pb_to_gev_m2(c.gev_m2_to_pb(2.5)) == pytest.approx(2.5, rel=1e-14)
    assert c.pb_to_cm2(1.0) == 1e-36 and c.cm2_to_pb(1e-36) == pytest.approx(1.0)


def test_gev_m2_is_hbarc_squared():
    # (ħc)^2 in cm^2 must equal the GeV^-2 → cm^2 factor (two independently quoted numbers; 1e-6 = their digits)
    assert c.HBARC_GEV_CM ** 2 == pytest.approx(c.GEV_M2_IN_CM2, rel=1e-6)


def test_edm_conversion_round_trip_and_value():
    # d[e cm] = d[GeV^-1]/e × ħc; e = sqrt(4π/137.036) = 0.302822
    assert c.E_CHARGE == pytest.approx(0.3028221, rel=1e-6)
    assert c.edm_inv_gev_to_ecm(1.0) == pytest.approx(1.973269804e-14 / 0.3028221, rel=1e-6)
    assert c.edm_ecm_to_inv_gev(c.edm_inv_gev_to_ecm(3.7e-17)) == pytest.approx(3.7e-17, rel=1e-14)


def test_length_conversion():
    assert c.inv_gev_to_cm(c.cm_to_inv_gev(0.5612)) == pytest.approx(0.5612, rel=1e-14)
    assert c.mev_to_gev(c.gev_to_mev(0.123)) == pytest.approx(0.123)


def test_n90():
    # zero background, zero events: -ln(0.1)
    assert c.N90_ZERO_BACKGROUND == pytest.approx(-math.log(0.1), rel=1e-15)
