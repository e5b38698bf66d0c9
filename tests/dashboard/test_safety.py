"""A dashboard that trusts no visitor (no browser): no compute endpoint chosen by a session, user text never
rendered as markup, every link value through the shared validation, fair sharing of table jobs."""

from __future__ import annotations

import socket
import threading
import time
from html import unescape

import numpy as np
import panel as pn
import pytest

from physics.errors import InputError

from dashboard import adapter, export, fairshare, style

from dashboard import tableservice
from dashboard.inputs import MAX_CUSTOM, MAX_LABEL_CHARS, URL_PARAMS, CustomExperimentForm

from .conftest import session, status_rows

MARKUP_LABELS = ["<img src=x onerror=window.__pwned=1>", "<script>window.__pwned=2</script>",
                 "**bold** [link](javascript:alert(1)) $x$", "www.example.com & <b>x</b>"]


def _spec(label="", beam=8.0, target="Al", **kw):
    return {"label": label, "beam_energy_gev": beam, "target": target, "thickness_x0": 1.0, "x_min": 0.7,
            "eot": 1e12, "background": 0.0, "observed": 0, **kw}


def _md_html(text: str) -> str:
    """The HTML a Panel Markdown pane sends to the browser for ``text``."""
    return unescape(pn.pane.Markdown(text)._transform_object(text)["object"])


# ------------------------------------------------------------------------------------ no compute endpoint
def test_no_scheduler_input_in_state_url_or_page():
    app = session()
    assert "scheduler" not in app.inputs.param and "scheduler" not in URL_PARAMS
    assert not any("sched" in q for q in URL_PARAMS.values())
    assert not hasattr(app, "scheduler_control")
    keys = {c.key for c in app.controls}
    assert not any("sched" in k for k in keys)
    texts = " ".join(str(getattr(o, "object", "")) + str(getattr(o, "title", "")) + str(getattr(o, "label", ""))
                     for o in pn.Column(*app.sidebar).select())
    assert "Dask" not in texts and "scheduler" not in texts.lower()
    assert not hasattr(adapter, "connect_scheduler") and not hasattr(tableservice, "connect_scheduler")


class _SilentServer:
    """A TCP port that accepts connections and never says anything (a hung or hostile "scheduler")."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                continue

    def close(self):
        self._stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


def test_unreachable_scheduler_never_blocks_a_session(monkeypatch, server_executor, fresh_cache):
    """The server's scheduler is connected once, in the background; sessions start at once, use the local
    pool meanwhile and show a non-blocking note; a scheduler that never answers is given up."""
    silent = _SilentServer()
    try:
        monkeypatch.setenv("DAP_JOB_EXECUTOR", f"tcp://127.0.0.1:{silent.port}")
        monkeypatch.setattr(tableservice, "SCHEDULER_CONNECT_TIMEOUT_S", 30.0)
        apps = []

        def sessions():
            tableservice.server_executor()
            for _ in range(2):
                app = session(method="iww")
                app.update_status()
                apps.append(app)

        t0 = time.perf_counter()
        th = threading.Thread(target=sessions, daemon=True)
        th.start()
        th.join(20)
        dt = time.perf_counter() - t0
        assert not th.is_alive() and len(apps) == 2, "a session waited for the scheduler"
        assert dt < 8.0, f"two sessions took {dt:.1f} s"
        ex = tableservice.server_executor()
        assert ex.state == "connecting"
        assert sum(t.name == "dap-dask-connect" for t in threading.enumerate()) == 1   # one attempt per process
        for app in apps:
            assert "local process pool" in unescape(app.status.text.object)
            assert app.valid and not app.invalid_alert.visible
        assert tableservice.job_service("etl") is tableservice._jobs.default_service()
        ex.connect_timeout = 0.0                  # the silence outlasts the deadline: given up, logged
        assert ex.wait(10) == "failed" and "not usable" in tableservice.server_executor().note()
        assert tableservice.job_service("etl") is tableservice._jobs.default_service()
    finally:
        silent.close()


def test_bad_executor_spec_is_a_logged_fallback(monkeypatch, server_executor, caplog):
    monkeypatch.setenv("DAP_JOB_EXECUTOR", "http://evil.example:80/x")
    ex = tableservice.server_executor()
    assert ex.state == "failed" and "DAP_JOB_EXECUTOR" in caplog.text
    assert tableservice.job_service("etl") is tableservice._jobs.default_service()


# ------------------------------------------------------------------------------------ user text is text
@pytest.mark.parametrize("label", MARKUP_LABELS)
def test_plain_text_never_renders_as_markup(label):
    html = _md_html("**name**: " + style.plain(label))
    assert "<strong>name</strong>" in html                      # the surrounding markup still works …
    for tag in ("<img", "<script", "<a ", "<b>", "<em>", "<code"):
        assert tag not in html.replace(label, ""), (tag, html)   # … the user's never does
    assert label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in html


@pytest.mark.parametrize("bad", ["x" * (MAX_LABEL_CHARS + 1), "red\x1b[31m", "two\nlines", "rtl\u202eevil", 42])
def test_custom_label_is_validated(bad):
    with pytest.raises(adapter.InputError) as e:
        CustomExperimentForm.build(_spec(bad), "custom-1")
    assert e.value.parameter == "label"
    assert "\n" not in str(e.value) and len(str(e.value)) <= 200


def test_custom_label_errors_show_beside_the_form():
    app = session(method="iww")
    app.open_card("custom")
    assert app.inputs.custom_form.offer("label", "<b>" + "y" * 200) is True   # text: checked on adding
    assert app.add_custom() is None
    assert "custom.label" in app.errors and app.custom_label_alert.visible
    assert "<b>" not in app.custom_label_alert.object
    assert "label" in unescape(app.custom_label_alert.object)


def test_markup_label_from_a_link_is_shown_literally(fresh_cache):
    specs = [_spec(lab) for lab in MARKUP_LABELS[:2]]
    app = session(method="iww", custom=specs, experiments=["custom-1", "custom-2"])
    assert app.inputs.experiment_name("custom-1") == MARKUP_LABELS[0]     # kept as given …
    names = [c.name for c in app.exp_settings.objects]
    for lab in MARKUP_LABELS[:2]:
        shown = next(n for n in names if unescape(n) == lab)            # … and shown literally
        assert "<" not in shown and ">" not in shown
    app.update_status()
    status = app.status.text.object
    assert "<img" not in status and "<script" not in status
    assert MARKUP_LABELS[0] in unescape(status)
    # the experiment checkboxes are Bokeh labels (text, never HTML): they carry the label unchanged (+ beam)
    assert f"{MARKUP_LABELS[0]} (e⁻)" in app.exp_select.options


def test_error_messages_are_escaped_and_short():
    app = session(method="iww")
    g = next(c for c in app.controls if c.key == "g")
    g.text.value = "<img src=x onerror=alert(1)>" + "9" * 5000
    assert g.alert.visible and "<img" not in g.alert.object
    text = unescape(g.alert.object)
    assert "not a number" in text and len(text) <= 300 and "\n" not in text
    assert "<img" not in app.invalid_alert.object


def test_export_of_a_label_with_dollar_signs(fresh_cache, wait):
    s = session(method="iww", n_points=12, experiments=["custom-1"], custom=[_spec(r"W $\frac{$ 8")])
    wait(s)
    data = s.view_data("exclusion")
    assert any(c["exp_id"] == "custom-1" for c in data["curves"])
    png = export.figure_bytes("exclusion", data, (s.inputs.m_gd_min, s.inputs.m_gd_max), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------------ one validation path
def test_link_background_is_validated_beside_its_control(fresh_cache, wait):
    """?set= values go through the physics' own checks: a message next to the control, the last good plot
    stays, never an internal error."""
    app = session(method="iww", n_points=20, experiments=["na64e-2023"])
    wait(app)
    app.refresh()
    src = app.views["exclusion"].figure.select_one({"name": "dap:reach:na64e-2023:total"}).data_source
    for b in (800.0, 1e30):
        before = np.array(src.data["y"], dtype=float)
        app.inputs.overrides = {"na64e-2023": {"background": b}}      # what the URL's set= does
        wait(app)
        app.refresh()
        assert not app.internal_alert.visible, app.internal_alert.object
        key = "exp.na64e-2023.background"
        ctl = next(c for c in app.exp_card("na64e-2023")[1] if c.key == key)
        if key in app.errors:
            assert ctl.alert.visible and "background" in unescape(ctl.alert.object)
            assert "\n" not in app.errors[key]
            assert np.array_equal(np.asarray(src.data["y"], dtype=float), before, equal_nan=True)
        else:
            assert b == 800.0 and app.valid
            assert np.isfinite(np.asarray(src.data["y"], dtype=float)).any()
    assert "exp.na64e-2023.background" in app.errors        # 1e30 events is never accepted


def test_statistics_failure_is_an_input_error(monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(adapter._stats, "poisson_upper_limit", boom)
    adapter._n_upper.cache_clear()
    try:
        s = session(method="iww", overrides={"na64e-2023": {"background": 3.5}})
        assert "exp.na64e-2023.background" in s.errors and not s.valid
    finally:
        adapter._n_upper.cache_clear()


def test_link_precision_has_a_floor():
    s = session(method="etl")
    assert s.inputs.apply_many({"rel_error": 1e-4}) == ["rel_error"]      # what a link does
    assert "rel_error" in s.errors and not s.valid
    s.inputs.offer("rel_error", fairshare.MIN_REL_ERROR)
    assert "rel_error" not in s.errors and s.valid


def test_custom_experiments_per_session_are_capped():
    specs = [_spec(f"W {i}", beam=10.0 + i, target="W") for i in range(MAX_CUSTOM + 3)]
    app = session(method="iww", custom=specs)
    objs = app.inputs.param.experiments.objects
    assert sum(o.startswith("custom-") for o in objs) == MAX_CUSTOM
    app.show_notes()
    assert app.internal_alert.visible and "at most" in unescape(app.internal_alert.object)
    app.inputs.custom = app.inputs.custom[:MAX_CUSTOM]
    assert app.add_custom() is None and "at most" in app.errors["custom.label"]


# ------------------------------------------------------------------------------------ fair sharing
class _Handle:
    def __init__(self):
        self.state = "running"
        self.progress = (0, 10)
        self.error = ""
        self.source = "compute"

    def partial_table(self):
        return None

    def cancel(self):
        self.state = "cancelled"
        return True


def test_gate_caps_per_session_and_in_total():
    gate = fairshare.JobGate(per_session=2, total=4)
    a1, a2 = gate.admit("A", "k1", _Handle), gate.admit("A", "k2", _Handle)
    assert a1.admitted and a2.admitted
    a3 = gate.admit("A", "k3", _Handle)
    assert not a3.admitted and "per session" in a3.reason
    b1, b2 = gate.admit("B", "k3", _Handle), gate.admit("B", "k4", _Handle)
    assert b1.admitted and b2.admitted and gate.counts("A") == (2, 4)
    c1 = gate.admit("C", "k5", _Handle)                  # a 5th distinct computation waits …
    assert not c1.admitted and "server" in c1.reason
    c2 = gate.admit("C", "k1", _Handle)                  # … joining a running one costs nothing
    assert c2.admitted
    a1.handle.state = "done"                             # finished jobs free their slots by themselves
    assert gate.admit("A", "k3", _Handle).admitted       # (joins B's k3)
    assert not gate.admit("A", "k6", _Handle).admitted   # A is at its cap again
    gate.release(a2.handle)                              # cancelled by the session: k2 is gone
    assert gate.counts("A") == (1, 3)
    assert gate.admit("C", "k5", _Handle).admitted


def test_session_queues_tables_over_its_cap(monkeypatch, fresh_cache):
    handles = []

    class Service:
        def submit(self, config, **kw):
            h = _Handle()
            handles.append(h)
            return h

    monkeypatch.setattr(tableservice, "job_service", lambda method: Service())
    monkeypatch.setattr(tableservice, "GATE", fairshare.JobGate(per_session=2, total=4))
    specs = [_spec(f"W{i}", beam=30.0 + i, target="W") for i in range(3)]
    s = session(method="etl", custom=specs, experiments=["custom-1", "custom-2", "custom-3"])
    rows = {r["id"]: r for r in status_rows(s)}
    assert [rows[k]["source"] for k in ("custom-1", "custom-2", "custom-3")] == ["computing", "computing", "queued"]
    assert "per session" in rows["custom-3"]["error"] and len(handles) == 2
    assert set(s.jobs.pending(s.inputs.experiments)) == {"custom-1", "custom-2", "custom-3"}
    s.update_status()
    assert "queued" in s.status.text.object and s.status.cancel.visible
    handles[0].state, handles[0].error = "error", "boom"      # one finishes: the queued one starts
    s.poll()
    rows = {r["id"]: r for r in status_rows(s)}
    assert rows["custom-1"]["source"] == "failed" and rows["custom-3"]["source"] == "computing"
    assert len(handles) == 3
    s.release()
    assert tableservice.GATE.counts(s.jobs.session) == (0, 0)


def test_other_sessions_wait_when_the_server_is_full(monkeypatch, fresh_cache):
    class Service:
        def submit(self, config, **kw):
            return _Handle()

    monkeypatch.setattr(tableservice, "job_service", lambda method: Service())
    monkeypatch.setattr(tableservice, "GATE", fairshare.JobGate(per_session=2, total=2))
    a = session(method="etl", custom=[_spec("a1", beam=21.0), _spec("a2", beam=22.0)],
                experiments=["custom-1", "custom-2"])
    b = session(method="etl", custom=[_spec("b1", beam=23.0), _spec("a1", beam=21.0)],
                experiments=["custom-1", "custom-2"])
    rows = {r["name"]: r for r in status_rows(b)}
    assert rows["b1"]["source"] == "queued" and "server" in rows["b1"]["error"]
    assert rows["a1"]["source"] == "computing"           # the same table as session a: shared, admitted
    a.cancel_jobs()
    b.poll()
    assert {r["name"]: r for r in status_rows(b)}["b1"]["source"] == "computing"
    b.release()


def test_a_broken_server_material_or_experiment_file_falls_back_to_the_builtins(tmp_path, monkeypatch):
    """``$DAP_MATERIALS``/``$DAP_EXPERIMENTS`` are server configuration: a broken file is logged and the
    built-ins are served, instead of breaking every session."""
    from dashboard import adapter
    from physics.signal import experiments
    from physics.model import materials

    bad = tmp_path / "bad.toml"
    bad.write_text("[materials.X]\nZ = 'fifty'\n")
    monkeypatch.setenv("DAP_MATERIALS", str(bad))
    monkeypatch.setenv("DAP_EXPERIMENTS", str(bad))
    with pytest.raises(InputError, match="DAP_MATERIALS"):
        materials.all_materials()
    assert set(materials.BUILTIN_MATERIALS) <= set(adapter.materials())
    assert set(experiments.BUILTIN_EXPERIMENTS) <= set(adapter.builtin_experiments())
