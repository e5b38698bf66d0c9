"""Dashboard performance: server start-up, callback latency (server side and in the browser), memory per session.

``bench() -> dict``; run as ``python benchmarks/bench_dashboard.py`` (prints JSON) or ``python -m benchmarks
dashboard``. Benchmark targets: app ready after ``panel serve`` ≤ 10 s; slider change → updated plot
≤ 200 ms server side for cached configurations (also measured in the browser); one session ≤ 300 MB.

Parts:

* ``server``: ``panel serve app.py`` in a subprocess on a free port (private empty σ_V cache): time to the
  liveness answer and to the first served page; with Chromium (``/usr/bin/chromium``) also the time until
  the exclusion plot shows every experiment's curve, the browser-measured latency of slider moves, and the
  server's resident memory per additional browser session.
* ``callbacks``: one session built in-process (``DashboardApp`` rendered into a Bokeh document) with its
  tables loaded; wall time of the full callback chain (parameter change → validation → physics → figure
  models updated) for the controls of the sidebar.
* ``memory``: resident-memory growth of this process per additional in-process session.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from dashboard.serve import running

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import wait_tables  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGETS = {"ready_s": 10.0, "callback_ms": 200.0, "session_mb": 300.0}


def _rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stats(ms: list[float]) -> dict:
    return {"median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1), "n": len(ms)}


# ------------------------------------------------------------------------------------ in-process
def bench_callbacks(repeat: int = 7) -> dict:
    """Server-side callback time: a parameter change until the figure models are updated."""
    from bokeh.document import Document

    from dashboard.layout import DashboardApp

    t_build = time.perf_counter()
    app = DashboardApp()
    doc = Document()
    app.template().server_doc(doc)
    build_s = time.perf_counter() - t_build
    s = app.inputs
    wait_tables(app)
    sources = {r["id"]: r["source"] for r in app.jobs.status_rows(list(s.experiments), s.experiment_name,
                                                                  s.method, s.settings)}

    def timed(setter, values) -> list[float]:
        out = []
        for v in values:
            t = time.perf_counter()
            setter(v)
            out.append(1e3 * (time.perf_counter() - t))
        return out

    res = {"table_sources": sources, "session_build_s": round(build_s, 2)}
    # coupling of the marker: cheap (reach memoised)
    res["g_slider"] = _stats(timed(lambda v: setattr(s, "g", v), [1e-3 * 1.2 ** i for i in range(1, repeat + 1)]))
    # current m_γD (marker + kinematics check)
    res["m_gd_slider"] = _stats(timed(lambda v: setattr(s, "m_gd", v), [0.1 * 1.3 ** i for i in range(repeat)]))
    # α_D: every reach curve recomputed from the cached tables
    res["alpha_d_slider"] = _stats(timed(lambda v: setattr(s, "alpha_d", v),
                                         [0.1 * 1.25 ** i for i in range(1, repeat + 1)]))
    # EOT of one experiment: its reach recomputed
    res["eot_input"] = _stats(timed(lambda v: setattr(s.settings["na64e-2023"], "eot", v),
                                    [1e12 * 1.5 ** i for i in range(repeat)]))
    # axis range: all curves on a new mass grid (constraints too)
    res["m_gd_range_slider"] = _stats(timed(lambda v: setattr(s, "m_gd_max", v),
                                            [4.0 - 0.3 * i for i in range(repeat)]))
    # ALP scenario switch
    res["alp_scenario_switch"] = _stats(timed(lambda v: setattr(s, "alp_mode", v),
                                              ["degenerate", "light", "ratio", "light", "degenerate", "light"]))
    # other views
    s.view = "yields"
    res["yields_g_slider"] = _stats(timed(lambda v: setattr(s, "g", v), [2e-3 * 1.2 ** i for i in range(repeat)]))
    s.view = "spectrum"
    res["spectrum_m_gd_slider"] = _stats(timed(lambda v: setattr(s, "m_gd", v),
                                               [0.05 * 1.3 ** i for i in range(repeat)]))
    s.view = "edm"
    res["edm_cutoff_slider"] = _stats(timed(lambda v: setattr(s, "cutoff", v),
                                            [1000.0 * 1.5 ** i for i in range(1, repeat + 1)]))
    res["view_switch_ms"] = round(min(timed(lambda v: setattr(s, "view", v),
                                            ["exclusion", "yields", "spectrum", "edm", "exclusion"])), 1)
    res["cached_config_max_ms"] = max(v["max_ms"] for k, v in res.items()
                                      if isinstance(v, dict) and "max_ms" in v and k != "m_gd_range_slider")
    app.release()
    return res


def bench_memory(n: int = 3) -> dict:
    """Resident-memory growth of this process per additional in-process session (after one warm-up)."""
    import gc

    from bokeh.document import Document

    from dashboard.layout import DashboardApp

    keep = []

    def session():
        app = DashboardApp()
        doc = Document()
        app.template().server_doc(doc)
        for v in ("yields", "edm", "spectrum", "exclusion"):
            app.inputs.view = v
        keep.append((app, doc))

    session()
    gc.collect()
    before = _rss_mb()
    for _ in range(n):
        session()
    gc.collect()
    after = _rss_mb()
    return {"rss_first_session_process_mb": round(before, 1), "per_session_mb": round((after - before) / n, 1),
            "sessions": n}


# ------------------------------------------------------------------------------------ server + browser
def bench_server(n_sessions: int = 3) -> dict:
    port = _free_port()
    cache = tempfile.mkdtemp(prefix="dap-bench-cache-")
    env = {**os.environ, "DAP_CACHE_DIR": cache, "PYTHONUNBUFFERED": "1"}
    log = tempfile.NamedTemporaryFile("w", prefix="dap-bench-serve-", suffix=".log", delete=False)  # noqa: SIM115
    # served exactly as `make serve` serves it (localhost, origin checks, signed sessions)
    t0 = time.perf_counter()
    out: dict = {}
    with running(port, env=env, log=log, ready_timeout_s=120.0) as proc:
        out["liveness_s"] = round(time.perf_counter() - t0, 2)
        url = f"http://127.0.0.1:{port}/app"
        if Path(CHROMIUM).exists():
            # first: a browser straight after start-up (serve → every curve drawn in the page)
            out.update(_bench_browser(url, proc.pid, t0, n_sessions))
        else:
            out["browser"] = f"skipped: {CHROMIUM} not found"
            with urllib.request.urlopen(url, timeout=120) as r:
                r.read()
            out["ready_after_serve_s"] = round(time.perf_counter() - t0, 2)
        t1 = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as r:
            r.read()
        out["page_request_s"] = round(time.perf_counter() - t1, 2)
    log.close()
    return out


_JS_DATA = """(name) => { for (const d of Bokeh.documents) { const m = d.get_model_by_name(name);
  if (!m) continue; if (!m.visible) return null; const data = m.data_source.data;
  const e = data instanceof Map ? [...data.entries()] : Object.entries(data); const o = {};
  for (const [k, v] of e) o[k] = Array.from(v); return o; } return null; }"""


def _bench_browser(url: str, pid: int, t_start: float, n_sessions: int) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = b.new_context(viewport={"width": 1600, "height": 1000})
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_function(
            "() => window.Bokeh && ['na64e-2023','na64e-projected','ldmx-phase2'].every(e => {"
            " const d = (" + _JS_DATA + ")('dap:reach:' + e + ':total'); return d && d.y.some(Number.isFinite); })",
            timeout=300_000)
        out["browser_first_plot_s"] = round(time.perf_counter() - t0, 2)
        out["ready_after_serve_s"] = round(time.perf_counter() - t_start, 2)
        out["rss_server_1_session_mb"] = round(_rss_mb(pid), 1)
        out["browser_console_errors"] = []
        page.on("console", lambda m: out["browser_console_errors"].append(m.text) if m.type == "error" else None)

        def latency(handle_sel: str, model: str, key: str = "PageUp", repeat: int = 6) -> dict:
            ms = []
            handle = page.locator(handle_sel).first
            for i in range(repeat):
                before = page.evaluate("(n) => JSON.stringify((" + _JS_DATA + ")(n))", model)
                handle.focus()
                t = time.perf_counter()
                handle.press(key if i % 2 == 0 else ("PageDown" if key == "PageUp" else key))
                page.wait_for_function("([n, b]) => JSON.stringify((" + _JS_DATA + ")(n)) !== b",
                                       arg=[model, before], timeout=30_000)
                ms.append(1e3 * (time.perf_counter() - t))
            return _stats(ms)

        out["browser_g_slider"] = latency(".dap-ctl-g-slider .noUi-handle", "dap:point")
        out["browser_alpha_d_slider"] = latency(".dap-ctl-alpha_d-slider .noUi-handle", "dap:reach:na64e-2023:total")
        out["browser_m_gd_slider"] = latency(".dap-ctl-m_gd-slider .noUi-handle", "dap:point")

        pages = [page]
        for _ in range(n_sessions - 1):
            p = ctx.new_page()
            p.goto(url)
            p.wait_for_function("() => window.Bokeh && (" + _JS_DATA + ")('dap:reach:na64e-2023:total')",
                                timeout=120_000)
            pages.append(p)
        time.sleep(1.0)
        rss_n = _rss_mb(pid)
        out[f"rss_server_{n_sessions}_sessions_mb"] = round(rss_n, 1)
        out["rss_per_extra_session_mb"] = round((rss_n - out["rss_server_1_session_mb"]) / max(1, n_sessions - 1), 1)
        b.close()
    return out


def bench() -> dict:
    res: dict = {"targets": TARGETS}
    res["callbacks"] = bench_callbacks()
    res["memory"] = bench_memory()
    res["server"] = bench_server()
    srv = res["server"]
    res["summary"] = {
        "ready_after_serve_s": srv.get("ready_after_serve_s"),
        "server_callback_cached_max_ms": res["callbacks"]["cached_config_max_ms"],
        "browser_g_slider_median_ms": srv.get("browser_g_slider", {}).get("median_ms"),
        "browser_alpha_d_slider_median_ms": srv.get("browser_alpha_d_slider", {}).get("median_ms"),
        "session_memory_mb": max(res["memory"]["per_session_mb"], srv.get("rss_per_extra_session_mb", 0.0)),
    }
    sm = res["summary"]
    res["meets_targets"] = bool(
        (sm["ready_after_serve_s"] or 1e9) <= TARGETS["ready_s"]
        and sm["server_callback_cached_max_ms"] <= TARGETS["callback_ms"]
        and sm["session_memory_mb"] <= TARGETS["session_mb"])
    return res


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
    os._exit(0)  # do not wait for the job service's worker pool
