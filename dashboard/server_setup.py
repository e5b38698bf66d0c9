"""Run by ``panel serve --setup`` (``dashboard.serve`` passes it) in each server process before its first
session: the server's log hygiene (:func:`dashboard.app.quiet_client_disconnects`) from the first request
on, not only from the first session; and one session's page built off-line (:func:`dashboard.layout.warm_up`),
so the first viewer gets a page as fast as the next ones."""

import sys

from dashboard.app import quiet_client_disconnects

quiet_client_disconnects()

try:
    from dashboard.layout import warm_up

    print(f"dashboard: warmed up in {warm_up():.2f} s (one session built off-line)", file=sys.stderr, flush=True)
except Exception as exc:  # noqa: BLE001 — an optimisation: the server serves anyway, sessions report errors
    print(f"dashboard: warm-up failed, the first page will be slower: {type(exc).__name__}: {exc}",
          file=sys.stderr, flush=True)
