"""Dark Axion Portal Explorer — the dashboard. Serve it with ``make serve`` (``python -m dashboard.serve``).

The launcher binds to 127.0.0.1, allows websocket origins of the served host only and signs session ids with
a random secret made at each start; ``make serve-lan HOST=…`` serves a room with the same checks. Running
``panel serve app.py`` by hand gives none of that unless given the same options (see ``dashboard/serve.py``
and the README, "Serving"). The σ_V job executor is server configuration (``$DAP_JOB_EXECUTOR``), never a
browser input.

A server that does not sign its session ids (e.g. a bare ``panel serve app.py``) gets a one-paragraph page
saying how to start it safely instead of the dashboard; ``DAP_ALLOW_UNSIGNED_SESSIONS=1`` overrides this
for a trusted single-user setting.

Each browser session gets its own independent state (``dashboard.layout.create_app``); the module itself
only configures Panel.
"""

import logging
import os

import panel as pn
from bokeh.settings import settings as bokeh_settings
from bokeh.util.token import check_session_id_signature

from dashboard.layout import create_app

log = logging.getLogger("dashboard")


def _log_exception(exc: Exception) -> None:
    """Callback errors are logged on the server; nothing of them reaches the page."""
    log.error("unhandled dashboard callback error", exc_info=exc)


pn.extension(notifications=False, exception_handler=_log_exception)

#: environment switch that lets a server without signed session ids show the dashboard anyway
ALLOW_UNSIGNED_ENV = "DAP_ALLOW_UNSIGNED_SESSIONS"


def session_is_signed() -> bool:
    """True if this session's id carries a valid signature under the server's secret key, i.e. the server
    signs session ids (Bokeh ``--session-ids signed`` with ``BOKEH_SECRET_KEY``) and refuses forged ones."""
    ctx = pn.state.curdoc.session_context if pn.state.curdoc is not None else None
    session_id = getattr(ctx, "id", None)
    key = bokeh_settings.secret_key_bytes()
    if not session_id or not key:
        return False
    return check_session_id_signature(session_id, secret_key=key, signed=True)


pn.extension(notifications=False, exception_handler=_log_exception)

if session_is_signed() or os.environ.get(ALLOW_UNSIGNED_ENV) == "1":
    create_app().servable(title="Dark Axion Portal Explorer")
else:
    log.warning("refusing to serve the dashboard: this server does not sign session ids "
                "(start it with `make serve` / `python -m dashboard.serve`)")
    pn.pane.Alert(
        "This server does not sign its session ids, so any page could drive it. Start the dashboard with "
        "`make serve` (this machine) or `make serve-lan HOST=…` (a room): see the README, section Serving.",
        alert_type="danger").servable(title="Dark Axion Portal Explorer — not served safely")
