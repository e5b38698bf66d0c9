"""Sidebar controls: widgets bound two-way to the state objects, each with its error message next to it.

The widgets hold no logic: they write into the ``param`` objects of :mod:`dashboard.state` (which validate)
and mirror them back. Typed text that is not a number is reported to the state
(``DashboardState.set_input_error``) so it shows like any other invalid value.
"""

from __future__ import annotations

import functools
import logging
import math
import re

import panel as pn

from . import style

log = logging.getLogger("dashboard.controls")

SIDEBAR_WIDTH = 390
#: longest error message shown next to a control, and longest echo of typed text in it [characters]
ERROR_CHARS = 300
ECHO_CHARS = 60
#: compact error boxes next to the controls
ALERT_CSS = ".alert { padding: 4px 10px !important; margin: 0 !important; font-size: 12.5px; line-height: 1.35; }"


def guarded(fn):
    """Never let an exception from a widget callback reach Panel (and thus the page): log it server-side."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("callback %s failed", getattr(fn, "__qualname__", fn))
            return None

    return wrapper


def fmt_number(v) -> str:
    if v is None:
        return ""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.4g}"


def parse_number(text: str) -> float:
    """Parse typed text as a float; 'nan'/'inf' parse (and are then rejected by validation)."""
    t = str(text).strip().replace("−", "-").replace("×10^", "e").replace("x10^", "e").replace(" ", "")
    if not t:
        raise ValueError("empty")
    return float(t)


class _AlertedControl:
    """Shared by the controls: an error alert next to the widget and a watcher on the state parameter."""

    def set_error(self, msg: str | None):
        """Show ``msg`` (plain text: it may echo what the user typed or a link carried) next to the widget."""
        text = style.plain(msg, limit=ERROR_CHARS) if msg else ""
        if self.alert.object != text:
            self.alert.object = text
        self.alert.visible = bool(text)

    def unwatch(self):
        try:
            self.obj.param.unwatch(self._watcher)
        except (ValueError, KeyError):  # already removed
            log.debug("watcher already removed", exc_info=True)


class NumberControl(_AlertedControl):
    """A number: optional log (or linear) slider + a text box for typed values + an error alert.

    ``obj.<pname>`` is the bound parameter; ``error_key`` the key under which the state reports its errors.
    The slider updates the parameter on release (``value_throttled``); the text box on Enter/blur.
    ``optional``: blank text sets the parameter to None (e.g. "use the model value", shown as ``placeholder``).
    """

    def __init__(self, state, obj, pname: str, label: str, *, lo=None, hi=None, log_scale=True, step=None,
                 error_key: str | None = None, unit: str = "", integer: bool = False, optional: bool = False,
                 placeholder: str = "", description: str | None = None):
        self.state, self.obj, self.pname = state, obj, pname
        self.error_key = error_key or pname
        self.log_scale = log_scale
        self.integer = integer
        self.optional = optional
        self._busy = False
        v = getattr(obj, pname)
        title = f"{label}{f' [{unit}]' if unit else ''}"
        tag = "dap-ctl-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.error_key)
        self.slider = None
        if lo is not None and hi is not None:
            if log_scale:
                start, end = math.log10(lo), math.log10(hi)
                st = step or 0.01
            else:
                start, end = lo, hi
                st = step or (hi - lo) / 200
            self.slider = pn.widgets.FloatSlider(label=title, start=start, end=end, step=st,
                                                 value=self._to_slider(v, start, end), show_value=False,
                                                 sizing_mode="stretch_width", margin=(5, 10, 0, 10),
                                                 css_classes=["dap-slider", tag + "-slider"])
            self.slider.param.watch(self._on_slider, "value_throttled")
            self.text = pn.widgets.TextInput(value=fmt_number(v), width=105, margin=(5, 10, 0, 0), align="end",
                                             css_classes=["dap-num", tag])
        else:
            self.text = pn.widgets.TextInput(label=title, value=fmt_number(v), sizing_mode="stretch_width",
                                             margin=(5, 10, 0, 10), css_classes=["dap-num", tag],
                                             placeholder=placeholder, description=description)
        self.text.param.watch(self._on_text, "value")
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, margin=(2, 10, 4, 10),
                                   stylesheets=[ALERT_CSS],
                                   sizing_mode="stretch_width", css_classes=["dap-error", tag + "-error"])
        self._watcher = obj.param.watch(self._on_param, pname)

    # -- conversions -----------------------------------------------------------------------------
    def _to_slider(self, v, start=None, end=None):
        start = self.slider.start if start is None else start
        end = self.slider.end if end is None else end
        try:
            x = float(v)
        except (TypeError, ValueError):
            return start
        if not math.isfinite(x) or (self.log_scale and x <= 0):
            return start
        s = math.log10(x) if self.log_scale else x
        return min(max(s, start), end)

    def _from_slider(self, s):
        v = 10.0 ** s if self.log_scale else s
        return float(f"{v:.4g}") if not self.integer else float(round(v))

    # -- callbacks -------------------------------------------------------------------------------
    @guarded
    def _on_slider(self, event):
        if self._busy or event.new is None:
            return
        self._set(self._from_slider(event.new))

    @guarded
    def _on_text(self, event):
        if self._busy:
            return
        if self.optional and not str(event.new or "").strip():
            self.state.input_errors.pop(self.error_key, None)
            if getattr(self.obj, self.pname) is None:
                self.state.validate()
            else:
                self._set(None)
            return
        try:
            v = parse_number(event.new)
        except ValueError:
            typed = str(event.new)
            shown = typed if len(typed) <= ECHO_CHARS else typed[: ECHO_CHARS - 1] + "…"
            self.state.set_input_error(self.error_key, f"'{shown}' is not a number")
            return
        if self.error_key in self.state.input_errors:
            self.state.input_errors.pop(self.error_key, None)
        if v == getattr(self.obj, self.pname) or (math.isnan(v) and _isnan(getattr(self.obj, self.pname))):
            self.state.validate()
            return
        self._set(v)

    def _set(self, v):
        self._busy = True
        try:
            setattr(self.obj, self.pname, v)
        finally:
            self._busy = False
        self._sync_widgets(v, text=True)

    @guarded
    def _on_param(self, event):
        if self._busy:
            return
        self._sync_widgets(event.new, text=True)

    def _sync_widgets(self, v, text=True):
        self._busy = True
        try:
            if self.slider is not None:
                self.slider.value = self._to_slider(v)
            if text:
                try:
                    cur = parse_number(self.text.value)
                except ValueError:
                    cur = None
                if (v is None or cur is None or cur != v) and self.text.value != fmt_number(v):
                    self.text.value = fmt_number(v)
        finally:
            self._busy = False


    def panel(self):
        row = pn.Row(self.slider, self.text, sizing_mode="stretch_width", margin=0) if self.slider else self.text
        return pn.Column(row, self.alert, sizing_mode="stretch_width", margin=0)


def _isnan(v) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return False


class ChoiceControl:
    """A Select/RadioBoxGroup/CheckBoxGroup whose options are {label: value}, linked two-way to a parameter."""

    def __init__(self, obj, pname: str, widget):
        self.obj, self.pname, self.widget = obj, pname, widget
        self._busy = False
        widget.value = list(getattr(obj, pname)) if isinstance(getattr(obj, pname), list) else getattr(obj, pname)
        widget.param.watch(self._on_widget, "value")
        obj.param.watch(self._on_param, pname)

    @guarded
    def _on_widget(self, event):
        if self._busy:
            return
        self._busy = True
        try:
            setattr(self.obj, self.pname, list(event.new) if isinstance(event.new, list) else event.new)
        finally:
            self._busy = False

    @guarded
    def _on_param(self, event):
        if self._busy:
            return
        self._busy = True
        try:
            self.widget.value = list(event.new) if isinstance(event.new, list) else event.new
        finally:
            self._busy = False
