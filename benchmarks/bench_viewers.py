"""A lecture hall on one machine: many browsers on one dashboard server (``python -m benchmarks viewers``).

The real server (``python -m dashboard.serve``, as ``make serve`` starts it, private empty σ_V cache) and
headless Chromium (``/usr/bin/chromium``, Playwright, one browser context per viewer) measure:

* ``one_viewer``: page requested → plot drawn (the NA64e 2023 reach curve has finite points in the page's
  Bokeh document and BokehJS has finished painting its plot). ``cold_s`` is the first page after start-up;
  ``warm_s`` the median of the next ones. Target ≤ 2 s warm. The sidebar's controls arrive after the first paint: ``controls_ready_warm_s``.
* ``ten_viewers``: 10 pages requested at the same moment → each one drawn. Target: all within 15 s.
* ``ten_viewers_server_only``: the server's side of 10 viewers without browsers on this machine (in a lecture
  hall the browsers run on the viewers' machines) — page request, document pull, "drawn" event and the
  sidebar's controls for 10 sessions at once: all served [s] and server CPU per session [s].
* ``bare_panel_page``: the ten-viewer and slider phases on ``benchmarks/bare_page.py`` (Panel's template, one
  figure, two sliders) — what this machine allows any Panel dashboard, for comparison.
* ``slider_under_load``: with those 10 sessions open, 3 of them move a slider once a second (α_D, which
  recomputes every reach curve, alternating with g, which moves the marker); latency = key press on the
  slider → the page's plot data changed and the frame that repaints it has run. Target median ≤ 300 ms. It
  starts once the machine is quiet: after loading, each browser keeps busy for 10–25 s (V8 background compile
  and after-load garbage collection), ten of them for about two cores' worth — a room that opened the link
  and then watches the talk. ``slider_right_after_load`` is the same started 1 s after the last page loaded.

Server options come from ``$DAP_VIEWERS_SERVE_ARGS`` (e.g. ``--num-procs 2``), so settings can be compared;
every result carries the 1-minute load average at that moment (the machine may be shared) and the CPU seconds
the server (process tree) and everything else (the headless browsers, which share these 2 cores here; in a
lecture hall each viewer's browser runs on their own machine) used in that phase. Numbers in
seconds/milliseconds as named. Run time ≈ 3–5 min.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.serve import running  # noqa: E402

CHROMIUM = os.environ.get("DAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGETS = {"one_viewer_warm_s": 2.0, "ten_viewers_all_drawn_s": 15.0, "slider_median_ms": 300.0}
N_VIEWERS = 10
N_MOVERS = 3
LOAD_SECONDS = 20.0
#: the machine counts as quiet below this many busy cores (of 2), and is waited for at most this long [s]
SETTLE_CORES = 0.25
SETTLE_MAX_S = 60.0
TIMEOUT_MS = 180_000

_JS_DATA = """(name) => { for (const d of Bokeh.documents) { const m = d.get_model_by_name(name);
  if (!m) continue; if (!m.visible) return null; const data = m.data_source.data;
  const e = data instanceof Map ? [...data.entries()] : Object.entries(data); const o = {};
  for (const [k, v] of e) o[k] = Array.from(v); return o; } return null; }"""
#: the BokehJS view of the first model that ``pred`` accepts, and the plot it is drawn in (a renderer's) or
#: null: walks the page's views from its roots
_JS_VIEW = """(pred) => { if (!window.Bokeh || !Bokeh.index) return null; const seen = new Set();
  const stack = [...Bokeh.index.roots];
  while (stack.length) { const v = stack.pop(); if (!v || seen.has(v)) continue; seen.add(v);
    if (v.model && pred(v.model)) return {view: v, plot: null};
    if (v.renderer_views) for (const [m, rv] of v.renderer_views) if (pred(m)) return {view: rv, plot: v};
    if (v.child_views) for (const c of v.child_views) stack.push(c); }
  return null; }"""
#: the page is drawn: the NA64e 2023 reach curve has finite points and its plot has finished painting
#: (BokehJS marks a view finished after its first paint); checked in the page every 50 ms
_JS_DRAWN = ("() => { const f = (" + _JS_VIEW + ")((m) => m.name === 'dap:reach:na64e-2023:total');"
             " if (!f || !f.plot) return false; const d = (" + _JS_DATA + ")('dap:reach:na64e-2023:total');"
             " return !!d && d.y.some(Number.isFinite) && f.plot.has_finished(); }")
#: the sidebar's controls are there: the g slider's view has finished rendering
_JS_CONTROLS = ("() => { const f = (" + _JS_VIEW + ")((m) => Array.isArray(m.css_classes)"
                " && m.css_classes.includes('dap-ctl-g-slider')); return !!f && f.view.has_finished(); }")
#: resolves once the model named ``n``'s data differs from ``b`` (JSON) and the frame that paints it has run:
#: BokehJS repaints in an animation frame requested when the data changed (or, within 1/60 s of its last
#: paint, in the frame after that), so the second frame after the change runs after the repaint (checked
#: every 20 ms)
_JS_CHANGED_AND_PAINTED = ("([n, b]) => new Promise((done) => { const data = " + _JS_DATA + ";"
                           " const check = () => { if (JSON.stringify(data(n)) !== b)"
                           " requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
                           " else setTimeout(check, 20); }; check(); })")


def _load() -> float:
    return float(open("/proc/loadavg").read().split()[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb_tree(pid: int) -> float:
    """Resident memory of the server and its child processes [MB]."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:")) / 1024.0
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            pass
    return round(total, 1)


def _cpu_s_tree(pid: int) -> float:
    """CPU time (user + system) used so far by the server and its child processes [s]."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, IndexError, ValueError):
            pass
    return total


def _cpu_s_machine() -> float:
    """CPU time used by the whole machine so far (every core, all but idle and iowait) [s]."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def _cpu_split(pid: int, since: tuple[float, float]) -> dict:
    """CPU seconds since ``since`` = (server, machine): the server's and everything else's (the browsers)."""
    srv, mach = _cpu_s_tree(pid) - since[0], _cpu_s_machine() - since[1]
    return {"server_cpu_s": round(srv, 2), "other_cpu_s": round(max(mach - srv, 0.0), 2)}


async def _open(browser, url: str, controls: list | None = None, t0: float | None = None) -> tuple[object, float]:
    """A new viewer (own browser context): page requested → plot drawn [s]; with ``controls`` (a list), the
    time until the sidebar's controls are there too is appended to it [s]. ``t0``: count from then (the moment
    ten viewers start together, so making their browser contexts counts too) instead of from the request."""
    ctx = await browser.new_context(viewport={"width": 1600, "height": 1000})
    page = await ctx.new_page()
    t0 = time.perf_counter() if t0 is None else t0
    await page.goto(url, timeout=TIMEOUT_MS)
    # conditions checked by the page itself (a Playwright selector wait polls from outside with a back-off of up
    # to 0.5 s, which was part of the measured times)
    await page.wait_for_function(_JS_DRAWN, timeout=TIMEOUT_MS, polling=50)
    drawn = time.perf_counter() - t0
    await page.wait_for_function(_JS_CONTROLS, timeout=TIMEOUT_MS, polling=50)      # controls follow
    if controls is not None:
        controls.append(time.perf_counter() - t0)
    return page, drawn


async def _move(page, i: int) -> float:
    """One slider key press → the plot's data changed and repainted [ms] (α_D moves every reach curve, g the
    marker)."""
    slider, model = ((".dap-ctl-alpha_d-slider .noUi-handle", "dap:reach:na64e-2023:total") if i % 2 == 0
                     else (".dap-ctl-g-slider .noUi-handle", "dap:point"))
    before = await page.evaluate("(n) => JSON.stringify((" + _JS_DATA + ")(n))", model)
    handle = page.locator(slider).first
    await handle.focus()
    t0 = time.perf_counter()
    await handle.press("PageUp" if (i // 2) % 2 == 0 else "PageDown")
    await asyncio.wait_for(page.evaluate(_JS_CHANGED_AND_PAINTED, [model, before]), timeout=60.0)
    return 1e3 * (time.perf_counter() - t0)


async def _mover(page, until: float, out: list[float]) -> None:
    i = 0
    while time.monotonic() < until:
        t_next = time.monotonic() + 1.0
        out.append(await _move(page, i))
        i += 1
        await asyncio.sleep(max(0.0, t_next - time.monotonic()))


async def _server_session(url: str) -> float:
    """What the server does for one viewer, without a browser: the page request (builds the session), the
    websocket with the page's token, the document pull (serialises every model), then the page's "drawn"
    event and the sidebar's controls sent back → seconds."""
    import re
    from urllib.parse import urlsplit

    from bokeh.protocol import Protocol
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest
    from tornado.websocket import websocket_connect

    t0 = time.perf_counter()
    html = (await AsyncHTTPClient().fetch(url, request_timeout=TIMEOUT_MS / 1e3)).body.decode()
    token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
    parts = urlsplit(url)
    req = HTTPRequest(f"ws://{parts.netloc}{parts.path}/ws", headers={"Origin": f"http://{parts.netloc}"},
                      request_timeout=TIMEOUT_MS / 1e3)
    conn = await websocket_connect(req, subprotocols=["bokeh", token])
    try:
        await conn.read_message()                                   # ACK (header, metadata, content)
        await conn.read_message()
        await conn.read_message()
        msg = Protocol().create("PULL-DOC-REQ")
        for frame in (msg.header_json, msg.metadata_json, msg.content_json):
            await conn.write_message(frame)
        while True:                                                 # up to the reply's header
            frame = await conn.read_message()
            if frame is None or (isinstance(frame, str) and "PULL-DOC-REPLY" in frame):
                break
        n_buffers = json.loads(frame).get("num_buffers", 0) if frame else 0
        for _ in range(2 + 2 * n_buffers):                          # metadata, content, buffers
            await conn.read_message()
        # the page tells the server it is drawn (BokehJS's document_ready event); the server then sends the
        # sidebar's controls (dashboard.layout.DashboardApp.show_sidebar): wait for them
        ready = {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {
            "type": "event", "name": "document_ready", "values": {"type": "map", "entries": []}}}]}
        for frame in (json.dumps({"msgid": "ready-1", "msgtype": "PATCH-DOC"}), "{}", json.dumps(ready)):
            await conn.write_message(frame)
        while True:
            frame = await conn.read_message()
            if frame is None or (isinstance(frame, str) and "dap-ctl-g-slider" in frame):
                break
    finally:
        conn.close()
    return time.perf_counter() - t0


async def _server_only(url: str, pid: int) -> dict:
    """Ten viewers' sessions requested at once with no browser on this machine (a lecture hall: the viewers'
    browsers run on their own machines): all served [s], and the server's CPU seconds for them."""
    since = (_cpu_s_tree(pid), _cpu_s_machine())
    t0 = time.perf_counter()
    times = sorted(await asyncio.gather(*[_server_session(url) for _ in range(N_VIEWERS)]))
    return {"all_served_s": round(time.perf_counter() - t0, 2), "median_s": round(statistics.median(times), 2),
            "first_s": round(times[0], 2), "server_cpu_s_per_session":
            round(_cpu_split(pid, since)["server_cpu_s"] / N_VIEWERS, 3), "load_1min": _load()}


async def _settle(max_s: float = SETTLE_MAX_S) -> float:
    """Wait until the machine is quiet (under :data:`SETTLE_CORES` busy cores for two 1-s windows in a row, at
    most ``max_s``): after a page has loaded its browser keeps working for 10–25 s (V8's background compile
    and after-load garbage collection — measured per thread), ten browsers at once for ~2 cores' worth.
    Returns the seconds waited."""
    t0, quiet = time.perf_counter(), 0
    while time.perf_counter() - t0 < max_s and quiet < 2:
        c0 = _cpu_s_machine()
        await asyncio.sleep(1.0)
        quiet = quiet + 1 if _cpu_s_machine() - c0 < SETTLE_CORES else 0
    return round(time.perf_counter() - t0, 1)


async def _sliders(pages: list, pid: int, settle: bool) -> dict:
    """3 of the open pages move a slider once a second for :data:`LOAD_SECONDS`: latency of every move [ms].
    ``settle``: start when the machine is quiet (:func:`_settle`), else 1 s after the pages loaded."""
    waited = await _settle() if settle else (await asyncio.sleep(1.0) or 1.0)
    lat: list[list[float]] = [[] for _ in range(N_MOVERS)]
    until = time.monotonic() + LOAD_SECONDS
    since = (_cpu_s_tree(pid), _cpu_s_machine())
    await asyncio.gather(*[_mover(pages[k], until, lat[k]) for k in range(N_MOVERS)])
    every = [ms for one in lat for ms in one]
    alpha = [ms for one in lat for i, ms in enumerate(one) if i % 2 == 0]
    g = [ms for one in lat for i, ms in enumerate(one) if i % 2 == 1]
    return {"median_ms": round(statistics.median(every), 1), "max_ms": round(max(every), 1), "n": len(every),
            "alpha_d_median_ms": round(statistics.median(alpha), 1) if alpha else None,
            "g_median_ms": round(statistics.median(g), 1) if g else None,
            "sessions_open": len(pages), "moving_sessions": N_MOVERS, "started_after_s": waited,
            "load_1min": _load(), "cpu": _cpu_split(pid, since)}


async def _run(url: str, pid: int) -> dict:
    from playwright.async_api import async_playwright

    res: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # (a) one viewer: the first page after start-up, then three more one after the other
        page, cold = await _open(browser, url)
        await page.context.close()
        warm, ready = [], []
        since = (_cpu_s_tree(pid), _cpu_s_machine())
        for _ in range(3):
            page, t = await _open(browser, url, ready)
            warm.append(t)
            await page.context.close()
        res["one_viewer"] = {"cold_s": round(cold, 2), "warm_s": round(statistics.median(warm), 2),
                             "warm_all_s": [round(t, 2) for t in warm],
                             "controls_ready_warm_s": round(statistics.median(ready), 2), "load_1min": _load(),
                             "cpu_of_3_pages": _cpu_split(pid, since)}
        res["ten_viewers_server_only"] = await _server_only(url, pid)
        # (b) ten viewers at once
        since = (_cpu_s_tree(pid), _cpu_s_machine())
        t0 = time.perf_counter()
        ready = []
        opened = await asyncio.gather(*[_open(browser, url, ready, t0) for _ in range(N_VIEWERS)])
        times = sorted(t for _p, t in opened)
        res["ten_viewers"] = {"all_drawn_s": round(max(times), 2), "all_controls_ready_s": round(max(ready), 2),
                              "median_s": round(statistics.median(times), 2), "first_s": round(times[0], 2),
                              "each_s": [round(t, 2) for t in times], "load_1min": _load(),
                              "server_rss_mb": _rss_mb_tree(pid), "cpu": _cpu_split(pid, since)}
        # (c) 3 of the 10 sessions move sliders once a second; latency of every move: right after the pages
        # loaded, and once the browsers have finished their after-load work (the target)
        pages = [p for p, _t in opened]
        res["slider_right_after_load"] = await _sliders(pages, pid, settle=False)
        res["slider_under_load"] = await _sliders(pages, pid, settle=True)
        await browser.close()
    return res


async def _bare(url: str, pid: int) -> dict:
    """The same ten-viewer and slider phases on ``benchmarks/bare_page.py`` (a bare Panel page): what this
    machine allows any Panel dashboard."""
    from playwright.async_api import async_playwright

    out: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page, _t = await _open(browser, url)
        await page.context.close()
        since = (_cpu_s_tree(pid), _cpu_s_machine())
        t0 = time.perf_counter()
        opened = await asyncio.gather(*[_open(browser, url, None, t0) for _ in range(N_VIEWERS)])
        times = sorted(t for _p, t in opened)
        out["ten_viewers"] = {"all_drawn_s": round(times[-1], 2), "median_s": round(statistics.median(times), 2),
                              "cpu": _cpu_split(pid, since), "load_1min": _load()}
        pages = [p for p, _t in opened]
        out["slider_right_after_load"] = await _sliders(pages, pid, settle=False)
        out["slider_under_load"] = await _sliders(pages, pid, settle=True)
        await browser.close()
    return out


def _serve_bare(port: int, log):
    import subprocess

    bare = Path(__file__).resolve().with_name("bare_page.py")
    return subprocess.Popen([sys.executable, "-m", "panel", "serve", str(bare), "--port", str(port),
                             "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"],
                            env={**os.environ, "BOKEH_RESOURCES": "server"}, stdout=log, stderr=log)


def bench() -> dict:
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} not found"}
    serve_args = shlex.split(os.environ.get("DAP_VIEWERS_SERVE_ARGS", ""))
    port = _free_port()
    env = {**os.environ, "DAP_CACHE_DIR": tempfile.mkdtemp(prefix="dap-viewers-cache-"), "PYTHONUNBUFFERED": "1"}
    log = tempfile.NamedTemporaryFile("w", prefix="dap-viewers-serve-", suffix=".log", delete=False)  # noqa: SIM115
    res: dict = {"targets": TARGETS, "serve_args": serve_args, "cpus": os.cpu_count(), "load_1min_start": _load()}
    with running(port, *serve_args, env=env, log=log, ready_timeout_s=120.0) as proc:
        res.update(asyncio.run(_run(f"http://127.0.0.1:{port}/app", proc.pid)))
    port = _free_port()
    with _serve_bare(port, log) as proc:
        try:
            url = f"http://127.0.0.1:{port}/bare_page"
            for _ in range(60):                                 # wait for the server to answer
                try:
                    urllib.request.urlopen(url, timeout=5).close()
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError(f"the bare page's server did not answer on {url} (log: {log.name})")
            res["bare_panel_page"] = asyncio.run(_bare(url, proc.pid))
        finally:
            proc.terminate()
    log.close()
    res["server_log"] = log.name
    res["meets_targets"] = {
        "one_viewer": res["one_viewer"]["warm_s"] <= TARGETS["one_viewer_warm_s"],
        "ten_viewers": res["ten_viewers"]["all_drawn_s"] <= TARGETS["ten_viewers_all_drawn_s"],
        "slider_under_load": res["slider_under_load"]["median_ms"] <= TARGETS["slider_median_ms"]}
    return res


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
