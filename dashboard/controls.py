"""Layout (controls) — widgets made from the input parameters, each with its message beside it.

A number gets a text box and, where its parameter has a range a slider can show, a slider (logarithmic
or linear) over the parameter's ``softbounds`` (else its bounds) — so the widget range is the parameter's
range, which is the :data:`physics.limits.LIMITS` entry. Typed text and slider moves are *offered* to the
input object (:meth:`dashboard.inputs.Offers.offer`), which sets or refuses them; nothing else is decided
here. Messages come from a ``param.Dict`` of control key → text (the session's errors / notes) and are
shown as plain text (they may echo what the user typed).
"""

from __future__ import annotations

import math
import re

import panel as pn

from . import style
from .inputs import field_limit, fmt_number

SIDEBAR_WIDTH = 390
#: longest message shown next to a control [characters]
ERROR_CHARS = 300
#: compact message boxes next to the controls
ALERT_CSS = ".alert { padding: 4px 10px !important; margin: 0 !important; font-size: 12.5px; line-height: 1.35; }"
#: sliders jump to a new value instead of gliding there: noUiSlider animates a key press or click for 0.3 s,
#: and each of those ~10 frames repainted the whole page (measured with a Chrome trace: the page's main thread
#: 138 → 102 ms and its rasterisation 20 → 6 ms per move); with a room of viewers on one machine that work
#: is what delays the plot after a move
SLIDER_CSS = ".noUi-origin, .noUi-connect, .noUi-handle { transition: none !important; }"


def css_tag(key: str) -> str:
    """CSS class of a control (tests and the browser address controls by it)."""
    return "dap-ctl-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


class MessageArea:
    """``messages[key]`` shown as plain text in an alert appended to the column ``into`` (``messages_param``:
    the ``param.Dict`` parameter, e.g. ``app.param.errors``).

    The alert is made when the first message for ``key`` appears, not before: a session has ~90 controls, each
    with an error and a note area, and almost all stay empty — building them all (two Panel panes and their
    Bokeh models each) was the largest single cost of a session's start. ``visible`` and ``object`` read as
    those of the alert (hidden and empty before the first message; once cleared, hidden with its last text).
    """

    def __init__(self, messages_param, key: str, into: pn.Column, kind: str = "danger", css: str = "error"):
        self.key, self.into, self.kind, self.css = key, into, kind, css
        self._owner, self._name = messages_param.owner, messages_param.name
        self._pane: pn.pane.Alert | None = None
        self._watcher = self._owner.param.watch(self._update, self._name)
        self._update()

    def text(self) -> str:
        m = (getattr(self._owner, self._name) or {}).get(self.key)
        return style.plain(style.unicode_units(m), limit=ERROR_CHARS) if m else ""

    def _update(self, *_):
        t = self.text()
        if self._pane is None:
            if not t:
                return
            self._pane = pn.pane.Alert(t, alert_type=self.kind, margin=(2, 10, 4, 10), stylesheets=[ALERT_CSS],
                                       sizing_mode="stretch_width",
                                       css_classes=[f"dap-{self.css}", f"{css_tag(self.key)}-{self.css}"])
            self.into.append(self._pane)
        elif t:
            self._pane.param.update(object=t, visible=True)
        else:
            self._pane.visible = False            # the last text stays in the hidden pane (no re-render)

    @property
    def visible(self) -> bool:
        return self._pane is not None and self._pane.visible

    @property
    def object(self) -> str:
        return self._pane.object if self._pane is not None else ""

    def unwatch(self):
        self._owner.param.unwatch(self._watcher)


def message(messages_param, key: str, kind: str = "danger", css: str = "error") -> tuple[pn.Column, MessageArea]:
    """A stand-alone message area: (its column, the :class:`MessageArea`)."""
    col = pn.Column(sizing_mode="stretch_width", margin=0)
    return col, MessageArea(messages_param, key, col, kind, css)


class NumberControl:
    """Text box (+ optional log/linear slider) for the numeric field ``field`` of ``obj``, with its message.

    ``key`` is the control key of the session's messages (``g``, ``exp.<id>.eot``, ``custom.x_min``).
    The slider offers its value on release (``value_throttled``); the text box on Enter/blur.
    """

    def __init__(self, obj, field: str, key: str, errors_param, *, slider: str | None = None, label=None,
                 notes_param=None, placeholder: str = "", step=None):
        self.obj, self.field, self.key = obj, field, key
        p = obj.param[field]
        self.label = label or p.label
        self.log_scale = slider == "log"
        tag = css_tag(key)
        v = getattr(obj, field)
        self.slider = None
        if slider:
            lim = field_limit(obj, field)
            lo, hi = p.softbounds if p.softbounds is not None else (lim.lo, lim.hi)
            if self.log_scale:
                start, end, st = math.log10(lo), math.log10(hi), step or 0.01
            else:
                start, end, st = lo, hi, step or (hi - lo) / 200
            self.slider = pn.widgets.FloatSlider(label=self.label, start=start, end=end, step=st,
                                                 value=self._to_slider(v, start, end), show_value=False,
                                                 sizing_mode="stretch_width", margin=(5, 10, 0, 10),
                                                 css_classes=["dap-slider", tag + "-slider"],
                                                 stylesheets=[SLIDER_CSS])
            self.slider.param.watch(self._on_slider, "value_throttled")
            self.text = pn.widgets.TextInput(value=fmt_number(v), width=105, margin=(5, 10, 0, 0), align="end",
                                             css_classes=["dap-num", tag])
        else:
            self.text = pn.widgets.TextInput(label=self.label, value=fmt_number(v), sizing_mode="stretch_width",
                                             margin=(5, 10, 0, 10), css_classes=["dap-num", tag],
                                             placeholder=placeholder, description=p.doc)
        self.text.param.watch(self._on_text, "value")
        row = pn.Row(self.slider, self.text, sizing_mode="stretch_width", margin=0) if self.slider else self.text
        self._column = pn.Column(row, sizing_mode="stretch_width", margin=0)
        self.alert = MessageArea(errors_param, key, self._column)
        self.note = (MessageArea(notes_param, key, self._column, kind="info", css="note")
                     if notes_param is not None else None)
        self._watcher = obj.param.watch(self._on_param, field)

    def _to_slider(self, v, start=None, end=None):
        start = self.slider.start if start is None else start
        end = self.slider.end if end is None else end
        if v is None or not math.isfinite(float(v)) or (self.log_scale and float(v) <= 0):
            return start
        s = math.log10(float(v)) if self.log_scale else float(v)
        return min(max(s, start), end)

    def _on_slider(self, event):
        if event.new is None:
            return
        v = 10.0 ** event.new if self.log_scale else event.new
        self.obj.offer(self.field, float(f"{v:.4g}"), self.label)

    def _on_text(self, event):
        if event.new == fmt_number(getattr(self.obj, self.field)) and self.field not in self.obj.refused:
            return                                  # the box only shows the parameter's value
        self.obj.offer(self.field, event.new, self.label)

    def _on_param(self, event):
        if self.slider is not None:
            pos = self._to_slider(event.new)
            # the value the slider offered comes back rounded to 4 digits: moving the handle by less than half
            # a step would only make the browser redraw the slider
            if abs(pos - self.slider.value) > 0.5 * self.slider.step:
                self.slider.value = pos
        self.text.value = fmt_number(event.new)

    def unwatch(self):
        self.obj.param.unwatch(self._watcher)
        for area in (self.alert, self.note):
            if area is not None:
                area.unwatch()

    def panel(self) -> pn.Column:
        """The control: its widgets, then its error and note (made when they first have text)."""
        return self._column
