"""The σ_V method names (physics/xsec/methods.py): one definition, plain strings wherever they are stored or hashed."""

from __future__ import annotations

import json

import pytest

from physics.service import store
from physics.service.cache import get_cache, point_key, precision_extra, table_key
from physics.xsec.iww import iww_point
from physics.xsec.methods import ANALYTIC_METHODS, DEFAULT_METHOD, LABELS, METHODS, SHORT_LABELS, Method
from physics.xsec.sigma_v import SigmaVConfig


CFG = SigmaVConfig(beam_energy_gev=100.0, target="Pb", x_min=0.5)


def test_members_are_their_names():
    assert METHODS == ("etl", "iww") and DEFAULT_METHOD == "etl"
    assert all(type(m) is str for m in (*METHODS, *ANALYTIC_METHODS, DEFAULT_METHOD))
    assert Method.ETL == "etl" and Method.IWW == "iww"
    assert (str(Method.ETL), f"{Method.IWW}", json.dumps({"m": Method.ETL})) == ("etl", "iww", '{"m": "etl"}')
    assert {"etl": 1}[Method.ETL] == 1  # hashes like its name: dicts keyed by names accept members
    # IWW is the analytic approximation (no Monte Carlo precision or seed); ETL is not analytic
    assert ANALYTIC_METHODS == ("iww",) and Method.ETL not in ANALYTIC_METHODS
    assert set(LABELS) == set(SHORT_LABELS) == set(METHODS)


def test_every_method_has_an_engine():
    assert set(store.POINT_FUNCTIONS) == set(METHODS) == set(store.available_methods())


@pytest.mark.parametrize("method", list(Method))
def test_cache_keys_identical_for_member_and_name(method):
    # cache keys hash the method name: a member must give the very same key as the string
    name = method.value
    for rel, seed in ((0.01, 3),) + (((None, None),) if name in ANALYTIC_METHODS else ()):
        assert point_key(CFG, 0.01, method, rel, seed) == point_key(CFG, 0.01, name, rel, seed)
        assert table_key(CFG, [0.01, 0.02], method, rel, seed) == table_key(CFG, [0.01, 0.02], name, rel, seed)
    assert json.dumps(precision_extra(method, 0.01, 3), sort_keys=True) == \
        json.dumps(precision_extra(name, 0.01, 3), sort_keys=True)


def test_analytic_key_ignores_precision_and_seed():
    assert precision_extra("iww", 0.01, 3) == {"method": "iww", "rel_error": None, "seed": None}
    assert point_key(CFG, 0.01, "iww", 0.01, 3) == point_key(CFG, 0.01, "iww", 0.5, 9)
    assert point_key(CFG, 0.01, "etl", 0.01, 3) != point_key(CFG, 0.01, "etl", 0.01, 4)
    assert precision_extra("etl", 0.01, 3)["precision_cut_max"] is not None


def test_member_finds_a_point_stored_by_name_and_back(cache_dir):
    # an IWW point records settings {"method": "iww"}; the cache's validation compares types strictly, so a
    # member must be compared as its plain name
    c = get_cache()
    p = iww_point(CFG, 0.01)
    assert c.put_point(CFG, p, "iww", None, None)
    assert c.get_point(CFG, 0.01, Method.IWW, None, None) == p
    q = iww_point(CFG, 0.02)
    assert c.put_point(CFG, q, Method.IWW, None, None)
    assert c.get_point(CFG, 0.02, "iww", None, None) == q


def test_request_holds_the_plain_name():
    req = store.make_request(CFG, Method.IWW, masses=[0.01])
    assert type(req.method) is str and req.method == "iww" and req.analytic
    assert not store.make_request(CFG, "etl", masses=[0.01]).analytic
