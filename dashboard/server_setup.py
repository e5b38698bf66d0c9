"""Run by ``panel serve --setup`` (``dashboard.serve`` passes it) in the server process before it serves its
first page: the server's log hygiene (:func:`dashboard.app.quiet_client_disconnects`) from the first request
on, not only from the first session."""

from dashboard.app import quiet_client_disconnects

quiet_client_disconnects()
