"""Dark Axion Portal Explorer — the dashboard. Run with ``panel serve app.py``.

Each browser session gets its own independent state (``dashboard.layout.create_app``); the module itself
only configures Panel.
"""

import logging

import panel as pn

from dashboard.layout import create_app

log = logging.getLogger("dashboard")


def _log_exception(exc: Exception) -> None:
    """Callback errors are logged on the server; nothing of them reaches the page."""
    log.error("unhandled dashboard callback error", exc_info=exc)


pn.extension(notifications=False, exception_handler=_log_exception)

create_app().servable(title="Dark Axion Portal Explorer")
