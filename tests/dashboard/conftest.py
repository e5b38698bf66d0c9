"""Fixtures of the dashboard tests: an empty σ_V cache per test (so nothing depends on a developer's cache)."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty, private σ_V cache directory and a cleared table memo of the dashboard adapter."""
    from dashboard import adapter

    d = tmp_path / "cache"
    d.mkdir()
    monkeypatch.setenv("DAP_CACHE_DIR", str(d))
    adapter.clear_memo()
    yield d
    adapter.clear_memo()


def wait_tables(state, timeout: float = 60.0) -> None:
    """Poll the state's table jobs until none is pending."""
    state.ensure_tables()
    t0 = time.monotonic()
    while state.pending():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"tables still pending after {timeout} s: {state.status_rows()}")
        time.sleep(0.05)
        state.poll()


@pytest.fixture
def wait():
    """The :func:`wait_tables` helper."""
    return wait_tables
