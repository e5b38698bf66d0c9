"""Start the dashboard server with safe defaults (used by ``make serve`` and ``make serve-lan``).

    python -m dashboard.serve [--port 5006]                       # this machine only
    python -m dashboard.serve --lan HOST [--port 5006]            # a room: HOST = the name/IP people type
    python -m dashboard.serve --lan HOST --bind 192.168.1.20      # … listening on one interface only
    python -m dashboard.serve ... [--scheduler tcp://host:8786]   # σ_V jobs on a Dask cluster

The rules live here, once, and are passed to ``panel serve`` as the libraries' own options:

* **bind**: 127.0.0.1 only; with ``--lan HOST`` all IPv4 interfaces (or the one address ``--bind``).
* **websocket origins**: exactly the served host — ``localhost:PORT`` and ``127.0.0.1:PORT``, or with
  ``--lan`` only ``HOST:PORT`` (Bokeh ``--allow-websocket-origin``; ``BOKEH_ALLOW_WS_ORIGIN``, which would
  override the option, is set to the same list). A page from any other origin cannot open a session.
* **signed session ids** (Bokeh ``--session-ids signed``) with a random secret made at each start
  (``BOKEH_SECRET_KEY`` from :func:`secrets.token_urlsafe`, kept only in the server's environment): a
  session id or token the server did not issue is refused; a restart invalidates every old session.
* **resources**: every JS/CSS file comes from this server (``BOKEH_RESOURCES=server``; each session's
  document points Panel's stylesheets at the server, see :mod:`dashboard.app`): no CDN request, the page
  works without internet.
* **many viewers**: ``--num-procs N`` server processes (Bokeh; each builds its own sessions, no shared
  memory) and ``--num-threads N`` (Panel's callback thread pool). A page whose websocket is slow to connect
  keeps its session for ``UNUSED_SESSION_LIFETIME_MS`` (Bokeh's default of 15 s made a loaded server throw
  sessions away and build them again). Measured settings: README, section Serving.
* **compute**: the σ_V job executor is server configuration — ``--scheduler`` (or ``$DAP_JOB_EXECUTOR``),
  connected once in the background by :mod:`dashboard.adapter`; no browser input chooses it.

``panel serve app.py`` run by hand gets none of this unless given the same options (see the README).
The launcher replaces itself with ``panel serve`` (``os.execve``): Ctrl-C and SIGTERM reach the server.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from physics.errors import InputError

#: The served script: dashboard/app.py, installed with the package (the checkout's top-level app.py calls it).
APP = Path(__file__).resolve().with_name("app.py")
#: run by the server process before it serves (log hygiene: dashboard.app.quiet_client_disconnects)
SETUP = Path(__file__).resolve().with_name("server_setup.py")
DEFAULT_PORT = 5006
#: environment variable holding the server's job executor (read once per server process)
EXECUTOR_ENV = "DAP_JOB_EXECUTOR"
EXECUTOR_SCHEMES = ("tcp://", "tls://")
#: a session whose page has not opened its websocket yet is kept this long [ms] (Bokeh default 15000)
UNUSED_SESSION_LIFETIME_MS = 120_000
#: upper bound of --num-procs / --num-threads
MAX_WORKERS = 64
_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def check_port(port) -> int:
    """A TCP port 1–65535, given as an integer or its decimal text (InputError otherwise)."""
    allowed = "an integer in [1, 65535]"
    text = str(port).strip()
    if isinstance(port, bool) or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise InputError("port", allowed, port)
    return int(text)


def check_lan_host(host) -> str:
    """The host name or IPv4 address a room types in the browser (no scheme, port or wildcard)."""
    allowed = "this machine's host name or IPv4 address as typed in the browser (e.g. 192.168.1.20 or lab-pc.local)"
    h = str(host or "").strip()
    if not h or len(h) > 253:
        raise InputError("HOST", allowed, host)
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        ip = None
    if ip is not None:
        if ip.version != 4 or ip.is_unspecified:
            raise InputError("HOST", allowed, host, "IPv6 and 0.0.0.0 are not supported")
        return h
    if not all(_HOST_LABEL.match(label) for label in h.split(".")):
        raise InputError("HOST", allowed, host)
    return h.lower()


def check_count(name: str, value, hi: int = MAX_WORKERS) -> int:
    """A count of server processes/threads: an integer in [1, hi] (InputError otherwise)."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= hi:
        raise InputError(name, f"an integer in [1, {hi}]", value)
    return int(text)


def check_executor_spec(spec) -> str:
    """Kind of a server job-executor spec: "process" (empty or "process": local process pool), "thread", or
    "dask" (``tcp://host:port`` / ``tls://host:port``). InputError otherwise."""
    s = str(spec or "").strip()
    if s in ("", "process"):
        return "process"
    if s == "thread":
        return "thread"
    allowed = "empty or 'process' (local process pool), 'thread', or a Dask scheduler tcp://host:port / tls://host:port"
    rest = s.split("://", 1)[1] if s.startswith(EXECUTOR_SCHEMES) else ""
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in rest or "@" in rest:
        raise InputError(EXECUTOR_ENV, allowed, s)
    return "dask"


def check_bind_address(address) -> str:
    """An IPv4 address of this machine to listen on (``--bind``, LAN mode)."""
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        ip = None
    if ip is None or ip.version != 4:
        raise InputError("bind", "an IPv4 address of this machine (e.g. 192.168.1.20, or 0.0.0.0 for all)",
                         address)
    return str(ip)


def websocket_origins(port: int, lan_host: str | None = None) -> list[str]:
    """The only origins whose pages may open a session: the served host."""
    if lan_host:
        return [f"{lan_host}:{port}"]
    return [f"localhost:{port}", f"127.0.0.1:{port}"]


def server_command(port: int = DEFAULT_PORT, lan_host: str | None = None, scheduler: str | None = None,
                   liveness: bool = False, show: bool = False, bind: str | None = None,
                   environ: dict | None = None, num_procs=1, num_threads=None) -> tuple[list[str], dict]:
    """(argv, environment) of the ``panel serve`` process; validates every input (InputError).

    The environment gets a fresh random ``BOKEH_SECRET_KEY`` at every call.
    """
    port = check_port(port)
    num_procs = check_count("num-procs", num_procs)
    num_threads = check_count("num-threads", num_threads) if num_threads is not None else None
    lan_host = check_lan_host(lan_host) if lan_host is not None else None
    if bind is not None and not lan_host:
        raise InputError("bind", "only with --lan HOST (without it the server listens on 127.0.0.1)", bind)
    address = "127.0.0.1" if not lan_host else (check_bind_address(bind) if bind is not None else "0.0.0.0")
    origins = websocket_origins(port, lan_host)
    env = dict(os.environ if environ is None else environ)
    if scheduler is not None:
        check_executor_spec(scheduler)
        env[EXECUTOR_ENV] = scheduler.strip()
    else:
        check_executor_spec(env.get(EXECUTOR_ENV, ""))
    env.update({
        "BOKEH_SECRET_KEY": secrets.token_urlsafe(32),   # 256 random bits, new at every start
        "BOKEH_SIGN_SESSIONS": "true",
        "BOKEH_ALLOW_WS_ORIGIN": ",".join(origins),      # Bokeh lets this variable override the option
        "BOKEH_RESOURCES": "server",                     # BokehJS and Panel's files from this server, never a CDN
    })
    argv = [sys.executable, "-m", "panel", "serve", str(APP), "--port", str(port), "--address", address]
    for o in origins:
        argv.append(f"--allow-websocket-origin={o}")
    argv += ["--setup", str(SETUP)]
    argv += ["--session-ids", "signed", "--num-procs", str(num_procs),
             "--unused-session-lifetime", str(UNUSED_SESSION_LIFETIME_MS)]
    if num_threads is not None:
        argv += ["--num-threads", str(num_threads)]
    if liveness:
        argv.append("--liveness")
    if show and not lan_host:
        argv.append("--show")
    return argv, env


@contextlib.contextmanager
def running(port: int, *args: str, env: dict | None = None, log=None, ready_timeout_s: float = 90.0):
    """Start ``python -m dashboard.serve --port PORT --liveness *args`` (exactly what ``make serve`` runs) in
    its own process group, wait until ``/liveness`` answers, yield the process, and stop the whole group
    afterwards (SIGTERM, then SIGKILL). For tests and benchmarks; ``log`` is a file for the server's output.
    Raises RuntimeError if the server exits early, TimeoutError if it is not live in time."""
    cmd = [sys.executable, "-m", "dashboard.serve", "--port", str(check_port(port)), "--liveness", *args]
    proc = subprocess.Popen(cmd, cwd=APP.parent.parent, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)
    t0 = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dashboard.serve exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > ready_timeout_s:
                raise TimeoutError(f"dashboard.serve not live after {ready_timeout_s:g} s")
            time.sleep(0.1)
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m dashboard.serve",
        description="Serve the Dark Axion Portal Explorer: localhost only, websocket origin = the served host, "
                    "signed session ids with a new random secret at each start.")
    ap.add_argument("--port", default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    ap.add_argument("--lan", metavar="HOST", default=None,
                    help="serve a room: listen on all interfaces; only pages from http://HOST:PORT may connect "
                         "(HOST = this machine's name or IPv4 address as typed in the browser)")
    ap.add_argument("--bind", default=None, metavar="ADDRESS",
                    help="with --lan: listen on this IPv4 address only (default 0.0.0.0: all interfaces)")
    ap.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help=f"Dask scheduler tcp://host:port for new exact σ_V tables (default ${EXECUTOR_ENV}, "
                         "else the local process pool)")
    ap.add_argument("--num-procs", default=1, metavar="N",
                    help="server processes (default 1; each builds its own sessions; see the README, Serving)")
    ap.add_argument("--num-threads", default=None, metavar="N",
                    help="threads for session callbacks (default: none, callbacks run on the server's event loop)")
    ap.add_argument("--liveness", action="store_true", help="add the /liveness endpoint")
    ap.add_argument("--show", action="store_true", help="open a browser (not with --lan)")
    args = ap.parse_args(argv)
    try:
        cmd, env = server_command(args.port, args.lan, args.scheduler, liveness=args.liveness, show=args.show,
                                  bind=args.bind, num_procs=args.num_procs, num_threads=args.num_threads)
    except InputError as exc:
        print(f"dashboard.serve: error: {exc}", file=sys.stderr)
        return 2
    host = args.lan or "localhost"
    print(f"dashboard.serve: http://{host}:{cmd[cmd.index('--port') + 1]}/app "
          f"(bind {cmd[cmd.index('--address') + 1]}, websocket origins {env['BOKEH_ALLOW_WS_ORIGIN']}, "
          "signed sessions)", file=sys.stderr, flush=True)
    os.execve(cmd[0], cmd, env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
