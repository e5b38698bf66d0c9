"""Dark Axion Portal Explorer — the dashboard. Serve it with ``make serve`` (``python -m dashboard.serve``).

The app itself is ``dashboard/app.py`` (installed with the package, so an installed copy serves it too); this
file keeps ``panel serve app.py`` working in a checkout. The launcher binds to 127.0.0.1, allows websocket
origins of the served host only and signs session ids with a random secret made at each start; ``make
serve-lan HOST=…`` serves a room with the same checks. A bare ``panel serve app.py`` (unsigned session ids)
gets a page saying how to start it safely (``DAP_ALLOW_UNSIGNED_SESSIONS=1`` overrides this for a trusted
single-user setting); see ``dashboard/app.py``, ``dashboard/serve.py`` and the README, "Serving".
"""

from dashboard.app import serve_session

serve_session()
