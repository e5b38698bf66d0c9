"""Dark Axion Portal Explorer — the served dashboard script (installed with the package).

Serve it with ``make serve`` / ``python -m dashboard.serve`` (localhost, origin checks, signed session ids;
the rules live in :mod:`dashboard.serve`). ``panel serve`` runs this file once per browser session: it is
the app both in a checkout and in an installed wheel (the repository's top-level ``app.py`` only calls
:func:`serve_session`). The σ_V job executor is server configuration (``$DAP_JOB_EXECUTOR``), never a
browser input.

A server that does not sign its session ids (e.g. a bare ``panel serve``) gets a one-paragraph page saying
how to start it safely instead of the dashboard; ``DAP_ALLOW_UNSIGNED_SESSIONS=1`` overrides this for a
trusted single-user setting. Each browser session gets its own independent state
(``dashboard.layout.create_app``).
"""

from __future__ import annotations

import contextlib
import logging
import os

import panel as pn
from bokeh.settings import settings as bokeh_settings
from bokeh.util.token import check_session_id_signature

log = logging.getLogger("dashboard")

#: environment switch that lets a server without signed session ids show the dashboard anyway
ALLOW_UNSIGNED_ENV = "DAP_ALLOW_UNSIGNED_SESSIONS"
TITLE = "Dark Axion Portal Explorer"


#: the persistent notice shown when the page loses its server (Panel's disconnect notification)
DISCONNECTED = ("Connection to the server lost: this page no longer updates and ignores its controls. "
                "Reload it when the server is back.")


class ClientGoneFilter(logging.Filter):
    """Turns the traceback Tornado/asyncio log when a browser closes its tab while the server is still writing
    to its websocket (``WebSocketClosedError`` / ``StreamClosedError`` in a write future nobody awaits) into
    one INFO line. A viewer leaving is not a server error; every other exception keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from tornado.iostream import StreamClosedError
        from tornado.websocket import WebSocketClosedError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (WebSocketClosedError, StreamClosedError)):
            record.msg, record.args = "a browser closed its connection while a message was in flight", ()
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class RefusedTokenFilter(logging.Filter):
    """Turns Tornado's "Uncaught exception" traceback for a websocket whose session token fails Bokeh's
    signature check (a forged or foreign session) into one WARNING line. Bokeh has already logged the refusal
    itself; a visitor sending forged tokens must not fill the server's log with tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        from bokeh.protocol.exceptions import ProtocolError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ProtocolError) and "token" in str(exc).lower():
            record.msg, record.args = "refused a websocket: %s", (str(exc),)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


#: the loggers that report unretrieved websocket-write failures (asyncio's "exception was never retrieved",
#: Tornado's "Exception in callback") and refused websocket handshakes (Tornado's "Uncaught exception")
CLIENT_GONE_LOGGERS = ("asyncio", "tornado.application", "tornado.general")


def quiet_client_disconnects() -> None:
    """Install :class:`ClientGoneFilter` and :class:`RefusedTokenFilter` on :data:`CLIENT_GONE_LOGGERS`, once
    per server process (``dashboard/server_setup.py`` does it before the server serves; every session again,
    harmlessly, for a server started without it)."""
    for name in CLIENT_GONE_LOGGERS:
        logger = logging.getLogger(name)
        for kind in (ClientGoneFilter, RefusedTokenFilter):
            if not any(isinstance(f, kind) for f in logger.filters):
                logger.addFilter(kind())


def _log_exception(exc: Exception) -> None:
    """Panel's exception handler for every callback: the error is logged on the server; the page only gets a
    short notice (no detail of the error reaches the browser) and keeps its last good plot."""
    log.error("unhandled dashboard callback error", exc_info=exc)
    if pn.state.notifications is not None:
        pn.state.notifications.error("Internal error (logged on the server); the last good plot is kept.",
                                     duration=6000)


def session_is_signed() -> bool:
    """True if this session's id carries a valid signature under the server's secret key, i.e. the server
    signs session ids (Bokeh ``--session-ids signed`` with ``BOKEH_SECRET_KEY``) and refuses forged ones."""
    ctx = pn.state.curdoc.session_context if pn.state.curdoc is not None else None
    session_id = getattr(ctx, "id", None)
    key = bokeh_settings.secret_key_bytes()
    if not session_id or not key:
        return False
    return check_session_id_signature(session_id, secret_key=key, signed=True)


def pin_local_stylesheets() -> None:
    """Point every stylesheet of this session's document at this server's static files, before any model
    is made. Panel fills the document's ``dist_url`` only when it renders the page's HTML; a session built
    without that step (Bokeh re-creates a session whose page connects late, e.g. on a loaded server) would
    otherwise give its models stylesheet URLs on the HoloViz CDN."""
    from panel.io.resources import get_dist_path

    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.template_variables.setdefault("dist_url", get_dist_path(cdn=False))


def serve_session() -> None:
    """Build this browser session's page: the dashboard, or the "not served safely" notice."""
    quiet_client_disconnects()
    pin_local_stylesheets()
    pn.extension(notifications=True, disconnect_notification=DISCONNECTED, ready_notification="",
                 exception_handler=_log_exception)
    if session_is_signed() or os.environ.get(ALLOW_UNSIGNED_ENV) == "1":
        from dashboard.layout import create_app

        template, _app = create_app()
        doc = pn.state.curdoc
        # the template adds its roots one by one; frozen, Bokeh walks the document's models once, not per root
        with doc.models.freeze() if doc is not None else contextlib.nullcontext():
            template.servable(title=TITLE)
    else:
        log.warning("refusing to serve the dashboard: this server does not sign session ids "
                    "(start it with `make serve` / `python -m dashboard.serve`)")
        pn.pane.Alert(
            "This server does not sign its session ids, so any page could drive it. Start the dashboard with "
            "`make serve` (this machine) or `make serve-lan HOST=…` (a room): see the README, section Serving.",
            alert_type="danger").servable(title=f"{TITLE} — not served safely")


if __name__ != "dashboard.app":  # run as the served script (``panel serve .../dashboard/app.py``)
    serve_session()
