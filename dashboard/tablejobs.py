"""Job tracking — the one job of this module: the σ_V tables one session waits for.

:class:`TableJobs` asks :mod:`dashboard.adapter` for the table of each selected experiment (loaded now if
precomputed or cached, else a background job — admitted by the fair-sharing caps of
:mod:`dashboard.fairshare`, or "queued"), polls running jobs, hands out partial tables while points land,
cancels, retries and releases everything when the session ends. No Panel, no param.
"""

from __future__ import annotations

import logging

from . import adapter, fairshare

from . import tableservice

log = logging.getLogger("dashboard.tablejobs")


class TableJobs:
    """Table status per experiment id for one session (the owner of its jobs for fair sharing)."""

    def __init__(self):
        self.session = fairshare.new_session_id()
        self._tables: dict[str, tableservice.TableStatus] = {}
        self._cancelled: set = set()

    # -- requests --------------------------------------------------------------------------------
    def _request(self, exp, method: str, rel_error: float, key) -> tableservice.TableStatus:
        try:
            return tableservice.request_table(adapter.table_config(exp), method, rel_error, 1, session=self.session)
        except adapter.InputError as exc:
            return tableservice.TableStatus(key, "failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the status area, logged
            log.exception("table request failed for %s", exp.id)
            return tableservice.TableStatus(key, "failed", error=f"{type(exc).__name__}: {exc}")

    def ensure(self, experiments, method: str, rel_error: float) -> bool:
        """Ask for the table of every experiment (never blocks on a computation); True if a status changed."""
        changed = False
        for exp in experiments:
            key = tableservice.table_key(adapter.table_config(exp), method, rel_error, 1)
            cur = self._tables.get(exp.id)
            if cur is not None and cur.key == key:
                continue
            if cur is not None and not cur.ready:
                tableservice.cancel_table(cur)
            changed = True
            if key in self._cancelled:
                self._tables[exp.id] = tableservice.TableStatus(key, "cancelled")
            else:
                self._tables[exp.id] = self._request(exp, method, rel_error, key)
        return changed

    def poll(self, experiments, method: str, rel_error: float) -> bool:
        """Refresh running jobs and ask again for queued ones; True if something shown has changed."""
        changed = False
        by_id = {e.id: e for e in experiments}
        for exp_id, st in list(self._tables.items()):
            if st.source == "queued":
                exp = by_id.get(exp_id)
                if exp is None:
                    continue
                new = self._request(exp, method, rel_error, st.key)
                if new.key != st.key or (new.source == "queued" and new.note == st.note):
                    continue
                self._tables[exp_id], changed = new, True
                continue
            if st.job is None or st.ready or st.source in ("failed", "cancelled"):
                continue
            new = tableservice.poll_table(st)
            if new.ready or new.source != st.source or new.progress != st.progress:
                changed = True
            self._tables[exp_id] = new
        return changed

    # -- state -----------------------------------------------------------------------------------
    def status(self, exp_id: str):
        return self._tables.get(exp_id)

    def table_for(self, exp_id: str):
        """(table — complete, partial or None — and its TableStatus or None)."""
        st = self._tables.get(exp_id)
        if st is None:
            return None, None
        return (st.table if st.ready else tableservice.partial_table(st)), st

    def pending(self, selected) -> list[str]:
        """Selected experiment ids whose table is computing or queued."""
        return [k for k, st in self._tables.items() if k in selected and not st.ready
                and (st.source == "queued" or (st.job is not None and st.source == "compute"))]

    def forget(self, exp_id: str) -> None:
        """Stop tracking an experiment (removed custom experiment): its job is cancelled for this session."""
        st = self._tables.pop(exp_id, None)
        if st is not None:
            tableservice.cancel_table(st)

    def status_rows(self, selected, name_of, method: str, known) -> list[dict]:
        """One row per selected experiment: table source, progress, error."""
        rows = []
        for exp_id in selected:
            st = self._tables.get(exp_id)
            if st is None:
                src, prog, err = ("invalid settings" if exp_id in known else "unknown"), (0, 0), ""
            else:
                src, prog, err = st.source, st.progress, st.error
                if st.ready and st.computed:
                    src = "computed (now cached)"
                elif st.source == "compute":
                    src = "computing"
                elif st.source == "queued":
                    err = st.note
            rows.append({"id": exp_id, "name": name_of(exp_id), "source": src, "done": prog[0], "total": prog[1],
                         "error": err, "method": method})
        return rows

    # -- control ---------------------------------------------------------------------------------
    def cancel(self, selected) -> list[str]:
        """Stop waiting for the running tables (a shared computation continues if another session waits)."""
        out = []
        for exp_id in self.pending(selected):
            st = self._tables[exp_id]
            tableservice.cancel_table(st)
            self._cancelled.add(st.key)
            self._tables[exp_id] = tableservice.TableStatus(st.key, "cancelled")
            out.append(exp_id)
        return out

    def retry(self) -> None:
        """Forget cancelled/failed tables so that the next :meth:`ensure` asks for them again."""
        self._cancelled.clear()
        for k in [k for k, st in self._tables.items() if st.source in ("failed", "cancelled")]:
            del self._tables[k]

    def release(self) -> None:
        """The session ended: cancel this session's handles."""
        for st in self._tables.values():
            tableservice.cancel_table(st)
