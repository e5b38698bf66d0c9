"""A lecture hall on one machine: many browsers on one dashboard server (``python -m benchmarks viewers``).

The real server (``python -m dashboard.serve``, as ``make serve`` starts it, private empty σ_V cache) and
headless Chromium (``/usr/bin/chromium``, Playwright, one browser context per viewer) measure:

* ``one_viewer``: page requested → plot drawn (the NA64e 2023 reach curve has finite points in the page's
  Bokeh document). ``cold_s`` is the first page after start-up; ``warm_s`` the median of the next ones.
  Target ≤ 2 s warm.
* ``ten_viewers``: 10 pages requested at the same moment → each one drawn. Target: all within 15 s.
* ``slider_under_load``: with those 10 sessions open, 3 of them move a slider once a second (α_D, which
  recomputes every reach curve, alternating with g, which moves the marker); latency = key press on the
  slider → the page's plot data changed. Target median ≤ 300 ms.

Server options come from ``$DAP_VIEWERS_SERVE_ARGS`` (e.g. ``--num-procs 2``), so settings can be compared;
every result carries the 1-minute load average at that moment (the machine may be shared). Numbers in
seconds/milliseconds as named. Run time ≈ 1–3 min.
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
TIMEOUT_MS = 180_000

_JS_DATA = """(name) => { for (const d of Bokeh.documents) { const m = d.get_model_by_name(name);
  if (!m) continue; if (!m.visible) return null; const data = m.data_source.data;
  const e = data instanceof Map ? [...data.entries()] : Object.entries(data); const o = {};
  for (const [k, v] of e) o[k] = Array.from(v); return o; } return null; }"""
_JS_DRAWN = ("() => { if (!window.Bokeh) return false; const d = (" + _JS_DATA + ")('dap:reach:na64e-2023:total');"
             " return !!d && d.y.some(Number.isFinite); }")


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


async def _open(browser, url: str) -> tuple[object, float]:
    """A new viewer (own browser context): page requested → plot drawn [s]."""
    ctx = await browser.new_context(viewport={"width": 1600, "height": 1000})
    page = await ctx.new_page()
    t0 = time.perf_counter()
    await page.goto(url, timeout=TIMEOUT_MS)
    await page.wait_for_selector("canvas", timeout=TIMEOUT_MS)          # the figure is laid out (shadow DOM)
    await page.wait_for_function(_JS_DRAWN, timeout=TIMEOUT_MS, polling=50)
    return page, time.perf_counter() - t0


async def _move(page, i: int) -> float:
    """One slider key press → the plot's data changed [ms] (α_D moves every reach curve, g the marker)."""
    slider, model = ((".dap-ctl-alpha_d-slider .noUi-handle", "dap:reach:na64e-2023:total") if i % 2 == 0
                     else (".dap-ctl-g-slider .noUi-handle", "dap:point"))
    before = await page.evaluate("(n) => JSON.stringify((" + _JS_DATA + ")(n))", model)
    handle = page.locator(slider).first
    await handle.focus()
    t0 = time.perf_counter()
    await handle.press("PageUp" if (i // 2) % 2 == 0 else "PageDown")
    await page.wait_for_function("([n, b]) => JSON.stringify((" + _JS_DATA + ")(n)) !== b", arg=[model, before],
                                 timeout=60_000, polling=20)
    return 1e3 * (time.perf_counter() - t0)


async def _mover(page, until: float, out: list[float]) -> None:
    i = 0
    while time.monotonic() < until:
        t_next = time.monotonic() + 1.0
        out.append(await _move(page, i))
        i += 1
        await asyncio.sleep(max(0.0, t_next - time.monotonic()))


async def _run(url: str, pid: int) -> dict:
    from playwright.async_api import async_playwright

    res: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # (a) one viewer: the first page after start-up, then three more one after the other
        page, cold = await _open(browser, url)
        await page.context.close()
        warm = []
        for _ in range(3):
            page, t = await _open(browser, url)
            warm.append(t)
            await page.context.close()
        res["one_viewer"] = {"cold_s": round(cold, 2), "warm_s": round(statistics.median(warm), 2),
                             "warm_all_s": [round(t, 2) for t in warm], "load_1min": _load()}
        # (b) ten viewers at once
        t0 = time.perf_counter()
        opened = await asyncio.gather(*[_open(browser, url) for _ in range(N_VIEWERS)])
        times = sorted(t for _p, t in opened)
        res["ten_viewers"] = {"all_drawn_s": round(time.perf_counter() - t0, 2),
                              "median_s": round(statistics.median(times), 2), "first_s": round(times[0], 2),
                              "each_s": [round(t, 2) for t in times], "load_1min": _load(),
                              "server_rss_mb": _rss_mb_tree(pid)}
        # (c) 3 of the 10 sessions move sliders once a second; latency of every move
        await asyncio.sleep(1.0)
        pages = [p for p, _t in opened]
        lat: list[list[float]] = [[] for _ in range(N_MOVERS)]
        until = time.monotonic() + LOAD_SECONDS
        await asyncio.gather(*[_mover(pages[k], until, lat[k]) for k in range(N_MOVERS)])
        every = [ms for one in lat for ms in one]
        alpha = [ms for one in lat for i, ms in enumerate(one) if i % 2 == 0]
        g = [ms for one in lat for i, ms in enumerate(one) if i % 2 == 1]
        res["slider_under_load"] = {
            "median_ms": round(statistics.median(every), 1), "max_ms": round(max(every), 1), "n": len(every),
            "alpha_d_median_ms": round(statistics.median(alpha), 1) if alpha else None,
            "g_median_ms": round(statistics.median(g), 1) if g else None,
            "sessions_open": N_VIEWERS, "moving_sessions": N_MOVERS, "load_1min": _load()}
        await browser.close()
    return res


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
    log.close()
    res["server_log"] = log.name
    res["meets_targets"] = {
        "one_viewer": res["one_viewer"]["warm_s"] <= TARGETS["one_viewer_warm_s"],
        "ten_viewers": res["ten_viewers"]["all_drawn_s"] <= TARGETS["ten_viewers_all_drawn_s"],
        "slider_under_load": res["slider_under_load"]["median_ms"] <= TARGETS["slider_median_ms"]}
    return res


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
