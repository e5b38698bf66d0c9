"""Serving safely: ``make serve`` / ``make serve-lan`` and their launcher ``python -m dashboard.serve``.

The server tests start the dashboard exactly as ``make serve`` does and probe it with a raw HTTP/websocket
client (no browser): it listens on 127.0.0.1 only, a websocket from a foreign Origin is refused, and a
session id or token the server did not sign is refused.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from dashboard import serve
from physics.errors import InputError

from .conftest import ROOT, launched_server


# ------------------------------------------------------------------------------------ make targets
def _make_n(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "MAKEFLAGS")}
    return subprocess.run(["make", "-n", *args], cwd=ROOT, env={**e, **(env or {})}, capture_output=True,
                          text=True, timeout=60)


def _recipe(out: str) -> str:
    lines = [ln for ln in out.splitlines() if "dashboard.serve" in ln or "panel serve" in ln]
    assert len(lines) == 1, out
    return lines[0]


def test_make_serve_runs_the_launcher_on_localhost():
    r = _make_n("serve", "PORT=5123")
    assert r.returncode == 0, r.stderr
    line = _recipe(r.stdout)
    assert "-m dashboard.serve" in line and "5123" in line
    assert "*" not in line and "--lan" not in line and "0.0.0.0" not in line


def test_make_serve_lan_needs_host():
    r = _make_n("serve-lan")
    assert r.returncode != 0 and "HOST=" in r.stderr and "dashboard.serve" not in r.stdout
    r = _make_n("serve-lan", "HOST=lab-pc.local", "PORT=5124")
    assert r.returncode == 0, r.stderr
    line = _recipe(r.stdout)
    assert "--lan" in line and "lab-pc.local" in line and "5124" in line and "*" not in line


# ------------------------------------------------------------------------------------ the launcher
@pytest.fixture
def no_exec(monkeypatch):
    """A launcher that got past its checks must not replace the test process with a server."""
    def refuse(*a):
        raise AssertionError(f"the launcher would have started a server: {a[1]}")

    monkeypatch.setattr(serve.os, "execve", refuse)


def test_launcher_defaults_are_local_with_checked_origins_and_signed_sessions():
    argv, env = serve.server_command(5006, environ={"BOKEH_ALLOW_WS_ORIGIN": "*", "PATH": "/bin"})
    assert argv[argv.index("--address") + 1] == "127.0.0.1"
    origins = [a.split("=", 1)[1] for a in argv if a.startswith("--allow-websocket-origin=")]
    assert origins == ["localhost:5006", "127.0.0.1:5006"]
    assert env["BOKEH_ALLOW_WS_ORIGIN"] == "localhost:5006,127.0.0.1:5006"     # an inherited '*' is replaced
    assert argv[argv.index("--session-ids") + 1] == "signed" and env["BOKEH_SIGN_SESSIONS"] == "true"
    assert len(env["BOKEH_SECRET_KEY"]) >= 43                                  # ≥ 256 random bits
    assert serve.server_command(5006, environ={})[1]["BOKEH_SECRET_KEY"] != env["BOKEH_SECRET_KEY"]
    assert not any("*" in a for a in argv)


def test_launcher_lan_keeps_origin_checks():
    argv, env = serve.server_command(8080, "Lab-PC.local", environ={})
    assert argv[argv.index("--address") + 1] == "0.0.0.0"
    assert [a for a in argv if a.startswith("--allow-websocket-origin=")] == \
        ["--allow-websocket-origin=lab-pc.local:8080"]
    assert env["BOKEH_ALLOW_WS_ORIGIN"] == "lab-pc.local:8080" and "--session-ids" in argv
    assert serve.server_command(8080, "192.168.1.20", environ={})[1]["BOKEH_ALLOW_WS_ORIGIN"] == "192.168.1.20:8080"
    argv, _ = serve.server_command(8080, "lab-pc.local", bind="192.168.1.20", environ={})
    assert argv[argv.index("--address") + 1] == "192.168.1.20"


@pytest.mark.parametrize("host", ["", " ", "*", "0.0.0.0", "::1", "[::1]", "http://lab", "lab:80", "lab pc",
                                  "lab/x", "-lab", "lab..x", "a" * 300, "évil.example"])
def test_launcher_refuses_bad_lan_hosts(host, capsys, no_exec):
    with pytest.raises(InputError):
        serve.check_lan_host(host)
    assert serve.main([f"--lan={host}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "HOST" in err and len(err) < 260


@pytest.mark.parametrize("args", [["--port", "0"], ["--port", "70000"], ["--port", "80x"], ["--bind", "127.0.0.1"],
                                  ["--lan", "lab", "--bind", "lab"], ["--lan", "lab", "--bind", "::"],
                                  ["--scheduler", "http://evil.example/x"], ["--scheduler", "tcp://host"]])
def test_launcher_refuses_bad_options(args, capsys, no_exec):
    assert serve.main(args) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_launcher_serves_every_resource_itself_and_keeps_slow_sessions():
    """No CDN (BokehJS and Panel's files from this server); a page that connects late keeps its session."""
    argv, env = serve.server_command(5006, environ={"BOKEH_RESOURCES": "cdn"})
    assert env["BOKEH_RESOURCES"] == "server"
    assert int(argv[argv.index("--unused-session-lifetime") + 1]) >= 60_000
    assert argv[argv.index("--num-procs") + 1] == "1" and "--num-threads" not in argv


def test_launcher_many_viewers_options():
    argv, _ = serve.server_command(5006, "lab-pc.local", num_procs="2", num_threads=4, environ={})
    assert argv[argv.index("--num-procs") + 1] == "2" and argv[argv.index("--num-threads") + 1] == "4"


@pytest.mark.parametrize("args", [["--num-procs", "0"], ["--num-procs", "-1"], ["--num-procs", "two"],
                                  ["--num-procs", "65"], ["--num-threads", "0"], ["--num-threads", "1.5"],
                                  ["--num-threads", ""]])
def test_launcher_refuses_bad_worker_counts(args, capsys, no_exec):
    assert serve.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and args[0].lstrip("-") in err and len(err) < 260


def test_make_serve_lan_passes_the_lecture_hall_setting():
    line = _recipe(_make_n("serve-lan", "HOST=lab-pc.local").stdout)
    assert "--num-procs" in line or "--num-threads" in line
    line = _recipe(_make_n("serve-lan", "HOST=lab-pc.local", "PROCS=3", "THREADS=2").stdout)
    assert "--num-procs '3'" in line and "--num-threads '2'" in line


def test_launcher_scheduler_is_server_configuration():
    _, env = serve.server_command(5006, scheduler="tcp://10.0.0.5:8786", environ={})
    assert env["DAP_JOB_EXECUTOR"] == "tcp://10.0.0.5:8786"
    assert [serve.check_executor_spec(s) for s in ("", "process", "thread", "tls://h:1")] == \
        ["process", "process", "thread", "dask"]


# ------------------------------------------------------------------------------------ the running server
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with launched_server(tmp_path_factory) as srv:
        yield srv


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port`` (Linux /proc/net/tcp{,6})."""
    out = set()
    for name in ("tcp", "tcp6"):
        try:
            rows = open(f"/proc/net/{name}").read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            addr, p = f[1].split(":")
            if int(p, 16) == port and f[3] == "0A":      # 0A = LISTEN
                out.add(addr)
    return out


def test_server_listens_on_localhost_only(served):
    addrs = _listening_addresses(served["port"])
    assert addrs == {"0100007F"}, addrs              # 127.0.0.1 (little-endian hex), nothing else


def _page_token(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as r:
        html = r.read().decode()
    return re.search(r'"token":\s*"([^"]+)"', html).group(1)


def _ws_probe(port: int, token: str, origin: str) -> str:
    """Open the Bokeh websocket with ``token`` from ``origin``: "ACK", "closed" or "refused <HTTP code>"."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def probe():
        req = HTTPRequest(f"ws://127.0.0.1:{port}/app/ws", headers={"Origin": origin})
        try:
            conn = await asyncio.wait_for(websocket_connect(req, subprotocols=["bokeh", token]), 20)
        except HTTPClientError as exc:
            return f"refused {exc.code}"
        try:
            msg = await asyncio.wait_for(conn.read_message(), 20)
        finally:
            conn.close()
        if msg is None:
            return "closed"
        return "ACK" if '"msgtype": "ACK"' in str(msg) else f"message {str(msg)[:60]}"

    return asyncio.run(probe())


def test_the_server_builds_one_session_before_it_serves(served):
    """dashboard/server_setup.py warms the process up (imports, first-use caches): the first viewer's page is
    as fast as the next ones (measured: first page request 1.9 s → 0.5 s)."""
    log = served["log"].read_text()
    assert "dashboard: warmed up in" in log and "warm-up failed" not in log, log[-3000:]


def test_websocket_from_a_foreign_origin_is_refused(served):
    port = served["port"]
    token = _page_token(served["url"])
    assert _ws_probe(port, token, f"http://127.0.0.1:{port}") == "ACK"      # the page's own origin works
    assert _ws_probe(port, token, f"http://localhost:{port}") == "ACK"
    for origin in ("http://evil.example", f"http://evil.example:{port}", "null", f"http://127.0.0.1:{port + 1}"):
        assert _ws_probe(port, token, origin) == "refused 403", origin


def test_forged_session_ids_are_refused(served):
    from bokeh.util.token import generate_jwt_token, generate_session_id

    port, url = served["port"], served["url"]
    with pytest.raises(urllib.error.HTTPError) as e:               # a session id chosen by the client
        urllib.request.urlopen(url + "?bokeh-session-id=forged-by-a-visitor", timeout=30)
    assert e.value.code == 403
    origin = f"http://127.0.0.1:{port}"
    unsigned = generate_jwt_token(generate_session_id(secret_key=None, signed=False), secret_key=None,
                                  signed=False)
    assert _ws_probe(port, unsigned, origin) == "closed"
    other_key = "x" * 44                                            # signed, but not with this start's secret
    foreign = generate_jwt_token(generate_session_id(secret_key=other_key, signed=True), secret_key=other_key,
                                 signed=True)
    assert _ws_probe(port, foreign, origin) == "closed"
    assert _ws_probe(port, _page_token(url), origin) == "ACK"
    # refused, each in a line of the log: no traceback a visitor could fill the log with
    time.sleep(0.5)
    log = served["log"].read_text()
    assert "refused a websocket: Invalid token signature" in log and "Traceback" not in log, log[-3000:]


def test_lan_server_keeps_origin_checks_and_signed_sessions(tmp_path_factory):
    """``make serve-lan HOST=…``: all interfaces, but only pages from http://HOST:PORT open a session."""
    # (the tests serve on 127.0.0.1 only: --bind narrows the default "all interfaces" of --lan)
    with launched_server(tmp_path_factory, "--lan", "127.0.0.1", "--bind", "127.0.0.1") as srv:
        port = srv["port"]
        token = _page_token(srv["url"])
        assert _ws_probe(port, token, f"http://127.0.0.1:{port}") == "ACK"
        assert _ws_probe(port, token, f"http://localhost:{port}") == "refused 403"
        assert _ws_probe(port, token, "http://evil.example") == "refused 403"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(srv["url"] + "?bokeh-session-id=forged", timeout=30)
        assert e.value.code == 403


def _title(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as r:
        return re.search(r"<title>([^<]*)</title>", r.read().decode()).group(1)


def test_app_refuses_a_server_that_does_not_sign_sessions(served, tmp_path):
    """A bare ``panel serve app.py`` (unsigned session ids, even with a secret key in the environment) gets
    a page saying how to serve safely, not the dashboard; the launcher's server gets the dashboard."""
    from .conftest import free_port

    assert _title(served["url"]) == "Dark Axion Portal Explorer"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOKEH_")}
    env.update(DAP_CACHE_DIR=str(tmp_path / "cache"), BOKEH_SECRET_KEY="k" * 44)
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", "app.py", "--port", str(port), "--address",
                             "127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                title = _title(f"http://127.0.0.1:{port}/app")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        assert "not served safely" in title
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
