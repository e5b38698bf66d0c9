"""Offline: every request a dashboard page makes goes to the server that served it (a lecture hall may have
no internet; a CDN stylesheet that cannot load leaves the page unstyled or waiting).

Each test records every request of a page (Playwright ``page.on("request")``) and aborts any request to
another host (``page.route``); it fails on any such request and checks that the plot is still drawn.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from .conftest import launched_server
from .test_browser import _JS_DATA, CHROMIUM, CHROMIUM_ARGS, _require_browser

pytestmark = pytest.mark.browser

_DRAWN = "() => window.Bokeh && (() => { const d = (" + _JS_DATA + ")('dap:reach:na64e-2023:total'); " \
         "return !!d && d.y.some(Number.isFinite); })()"


class RecordedPage:
    """A browser page that records every request and aborts those to a host other than the server's."""

    def __init__(self, browser, url: str):
        self.server = urlsplit(url).netloc
        self.requests: list[str] = []
        self.ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
        self.page = self.ctx.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.route(lambda u: not self._local(u), lambda route: route.abort())
        self.page.goto(url)
        self.page.wait_for_function(_DRAWN, timeout=120_000)

    def _local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("blob", "data"):            # made by the page itself, no network
            return True
        return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == self.server

    def foreign(self) -> list[str]:
        return [u for u in self.requests if not self._local(u)]

    def close(self):
        self.ctx.close()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_page_and_interactions_request_only_the_server(browser, tmp_path_factory):
    """Page load, every tab, an experiment card, the paper presets, presentation mode and a slider: no request
    leaves the server."""
    with launched_server(tmp_path_factory) as srv:
        p = RecordedPage(browser, srv["url"])
        try:
            for title in ("Event yields", "EDM bounds", "Missing-energy spectrum", "Exclusion plane"):
                tab = p.page.get_by_text(title, exact=True).first
                if tab.count():
                    tab.click()
                    time.sleep(0.8)
            p.page.locator(".dap-exp-settings").get_by_text("NA64e 2023", exact=True).first.click()
            p.page.locator(".dap-ctl-exp-na64e-2023-x_min-slider .noUi-handle").first.wait_for(timeout=20_000)
            p.page.get_by_text("About / cite", exact=True).first.click()
            # the paper presets switch views and add/remove a custom experiment: a pane updated while its tab
            # was out of the page once turned shared stylesheets into CDN URLs
            for name in ("fig3", "fig4", "fig6", "table2", "fig4"):
                p.page.locator(f".dap-preset-{name} button").first.click()
                time.sleep(1.5)
            for _ in range(2):
                p.page.locator(".dap-presentation").first.click()
                time.sleep(0.8)
            before = p.page.evaluate("(n) => JSON.stringify((" + _JS_DATA + ")(n))", "dap:reach:na64e-2023:total")
            handle = p.page.locator(".dap-ctl-alpha_d-slider .noUi-handle").first
            handle.focus()
            handle.press("PageUp")
            p.page.wait_for_function("([n, b]) => JSON.stringify((" + _JS_DATA + ")(n)) !== b",
                                     arg=["dap:reach:na64e-2023:total", before], timeout=30_000)
            time.sleep(0.5)
            assert len(p.requests) > 10                 # the page's own files were recorded
            assert p.foreign() == [], p.foreign()
            p.page.wait_for_function(_DRAWN, timeout=10_000)
        finally:
            p.close()


def test_sessions_built_when_the_websocket_connects_use_local_stylesheets(browser, tmp_path_factory):
    """With several server processes (``--num-procs 2``) a page's websocket often reaches a process that did
    not render its HTML; that process builds the session then, without Panel's page-render step. Every page
    must still load only from the server, and draw its plot."""
    with launched_server(tmp_path_factory, "--num-procs", "2") as srv:
        for _ in range(4):
            p = RecordedPage(browser, srv["url"])
            try:
                time.sleep(0.5)
                assert p.foreign() == [], p.foreign()
            finally:
                p.close()
