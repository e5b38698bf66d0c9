"""Fair sharing of the server's σ_V table computations between browser sessions.

One dashboard server is shared by everybody who opens it (a talk, a shared link). Monte Carlo (VEGAS)
tables are the only expensive thing a visitor can start, so their number is capped here, on top of the
public :mod:`physics.service.jobs` API (the job service itself is unaware of sessions):

* at most :data:`MAX_JOBS_PER_SESSION` tables computing (or waiting in the pool) per session;
* at most :data:`MAX_JOBS_TOTAL` *distinct* computations in the whole server process (a request identical
  to one already running joins it: that costs nothing and is always admitted by the server cap);
* a request over a cap is not refused for good: the session keeps it as "queued" and asks again on its
  next poll (:meth:`JobGate.admit` is cheap), with a message saying which cap holds it back.

Two more session limits live in :mod:`dashboard.inputs`: the number of custom experiments
(:data:`MAX_CUSTOM_EXPERIMENTS`) and the finest Monte Carlo precision a session (or a link) may ask for
(:data:`MIN_REL_ERROR`).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

#: σ_V tables one session may have computing at once (the rest wait, queued, in the session)
MAX_JOBS_PER_SESSION = 2
#: distinct σ_V table computations the server process runs at once (all sessions together)
MAX_JOBS_TOTAL = 4
#: custom experiments per session (form and links)
MAX_CUSTOM_EXPERIMENTS = 5
#: finest relative Monte Carlo error a dashboard session may request for new tables (the CLI may go lower)
MIN_REL_ERROR = 1e-3

_FINISHED = ("done", "error", "cancelled")
_session_ids = itertools.count(1)


def new_session_id() -> int:
    """A process-unique id for one dashboard session (the owner of its table jobs)."""
    return next(_session_ids)


@dataclass
class Admission:
    """Result of :meth:`JobGate.admit`: the job handle, or None and the reason it has to wait."""

    handle: object = None
    reason: str = ""

    @property
    def admitted(self) -> bool:
        return self.handle is not None


class JobGate:
    """Counts the live table jobs per session and per distinct computation (thread-safe).

    Jobs are identified by the handles :mod:`physics.service.jobs` returns; a handle whose ``state`` is finished
    ("done", "error", "cancelled") no longer counts, so a session that ends without cleaning up cannot
    hold a slot for ever.
    """

    def __init__(self, per_session: int = MAX_JOBS_PER_SESSION, total: int = MAX_JOBS_TOTAL):
        self.per_session = int(per_session)
        self.total = int(total)
        self._lock = threading.Lock()
        self._live: dict[int, tuple[object, object, object]] = {}   # id(handle) -> (session, key, handle)

    def _prune(self) -> None:
        for hid, (_s, _k, h) in list(self._live.items()):
            try:
                finished = str(h.state) in _FINISHED
            except Exception:  # noqa: BLE001 - a handle in an odd state no longer holds a slot
                finished = True
            if finished:
                del self._live[hid]

    def admit(self, session, key, submit) -> Admission:
        """Call ``submit()`` (which returns a job handle) if ``session`` may start the computation ``key``.

        Returns an :class:`Admission` with the handle, or with ``reason`` (a sentence for the page) when a
        cap is reached; ``submit`` is then not called.
        """
        with self._lock:
            self._prune()
            mine = sum(1 for s, _k, _h in self._live.values() if s == session)
            if mine >= self.per_session:
                return Admission(reason=f"queued: at most {self.per_session} σ_V tables per session are computed "
                                        "at once; this one starts when one of yours is finished")
            running = {k for _s, k, _h in self._live.values()}
            if key not in running and len(running) >= self.total:
                return Admission(reason=f"queued: the server is computing {self.total} σ_V tables (its limit); "
                                        "this one starts when one of them is finished")
            handle = submit()
            self._live[id(handle)] = (session, key, handle)
            return Admission(handle=handle)

    def release(self, handle) -> None:
        """Forget a handle (after cancelling it)."""
        with self._lock:
            self._live.pop(id(handle), None)

    def counts(self, session=None) -> tuple[int, int]:
        """(live jobs of ``session``, distinct computations in the process)."""
        with self._lock:
            self._prune()
            mine = sum(1 for s, _k, _h in self._live.values() if s == session)
            return mine, len({k for _s, k, _h in self._live.values()})
