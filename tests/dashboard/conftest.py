"""Fixtures of the dashboard tests: an empty σ_V cache per test (so nothing depends on a developer's cache),
and a real server started the way ``make serve`` starts it (``python -m dashboard.serve``)."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def launched_server(tmp_path_factory, *args: str, env: dict | None = None):
    """``python -m dashboard.serve --port <free> --liveness *args`` (what ``make serve`` runs) with a private,
    empty σ_V cache; yields {"url", "port", "proc", "log", "ready_s"}; the process group is terminated after."""
    from dashboard.serve import running

    port = free_port()
    cache = tmp_path_factory.mktemp("dap-cache")
    full_env = {**os.environ, "DAP_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1", **(env or {})}
    log_path = tmp_path_factory.mktemp("dap-log") / "serve.log"
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        try:
            with running(port, *args, env=full_env, log=log, ready_timeout_s=READY_TIMEOUT_S) as proc:
                yield {"url": f"http://127.0.0.1:{port}/app", "port": port, "proc": proc, "log": log_path,
                       "ready_s": time.monotonic() - t0}
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{log_path.read_text()[-3000:]}") from None


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty, private σ_V cache directory and a cleared table memo of the dashboard adapter."""
    from dashboard import tableservice

    d = tmp_path / "cache"
    d.mkdir()
    monkeypatch.setenv("DAP_CACHE_DIR", str(d))
    tableservice.clear_memo()
    yield d
    tableservice.clear_memo()


@pytest.fixture
def server_executor():
    """The dashboard's process-wide job executor is read from $DAP_JOB_EXECUTOR once per process: forget it
    before and after a test that sets the variable."""
    from dashboard import tableservice

    tableservice.reset_server_executor()
    yield
    tableservice.reset_server_executor()


def wait_tables(app, timeout: float = 60.0) -> None:
    """Poll a session's (``dashboard.layout.DashboardApp``) table jobs until none is pending."""
    inp = app.inputs
    app.jobs.ensure(inp.selected_experiments(), inp.method, inp.rel_error)
    t0 = time.monotonic()
    while app.jobs.pending(inp.experiments):
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"tables still pending after {timeout} s: {status_rows(app)}")
        time.sleep(0.05)
        app.poll()


def status_rows(app) -> list[dict]:
    """The status rows of a session's tables (one per selected experiment)."""
    inp = app.inputs
    return app.jobs.status_rows(list(inp.experiments), inp.experiment_name, inp.method, inp.settings)


def session(**inputs):
    """A session (DashboardApp) without a browser, with the given inputs."""
    from dashboard.inputs import Inputs
    from dashboard.layout import DashboardApp

    return DashboardApp(Inputs(**inputs))


@pytest.fixture
def wait():
    """The :func:`wait_tables` helper."""
    return wait_tables
