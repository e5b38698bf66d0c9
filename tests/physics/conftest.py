"""Fixtures shared by the physics tests: a private σ_V cache and the fast deterministic fake ETL engine."""

from __future__ import annotations

import pytest

from physics.service import cache as cache_mod
from physics.service import store


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty σ_V cache in the test's own directory ($DAP_CACHE_DIR); closed afterwards."""
    d = tmp_path / "cache"
    monkeypatch.setenv("DAP_CACHE_DIR", str(d))
    yield d
    cache_mod.close_all()


@pytest.fixture
def fake_etl(tmp_path, monkeypatch):
    """The ETL engine replaced by the fast deterministic fake (points record VEGAS-like settings); returns
    the directory where the fake records its calls."""
    from .service.test_cache import make_fake

    fn, calls = make_fake(tmp_path)
    monkeypatch.setitem(store.POINT_FUNCTIONS, "etl", fn)
    return calls
