"""Layout — the one job of this module: assemble one session's page from the input parameters, and wire it.

:func:`create_app` builds one independent session: its :class:`dashboard.inputs.Inputs`, widgets made from
their parameters (``from_param`` for choices, :class:`dashboard.controls.NumberControl` for numbers), the
four view tabs (:mod:`dashboard.views`) and the table jobs (:mod:`dashboard.tablejobs`). Wiring: any input
change → ``errors``/``notes`` (:mod:`dashboard.checks`) → when valid, the tables are requested and the
shown view is refreshed; while anything is invalid the views keep their last good plot. The URL mirrors the
inputs (``pn.state.location.sync``). Exceptions in callbacks go to Panel's exception handler (configured
in :mod:`dashboard.app`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time

import panel as pn
import param
from bokeh.models import Tooltip
from panel.io.document import unlocked

from . import about, adapter, checks, figures, planeview, presets, style, viewdata

from . import tableservice
from .controls import ERROR_CHARS, SIDEBAR_WIDTH, NumberControl, message
from .inputs import (
    CHANNEL_OPTIONS,
    METHOD_OPTIONS,
    NV_PARAMS,
    OVERLAY_OPTIONS,
    URL_PARAMS,
    VIEWS,
    Inputs,
)
from .tablejobs import TableJobs
from .views import StatusPanel, ViewPanel

log = logging.getLogger("dashboard.layout")

__all__ = ["DashboardApp", "create_app", "CHANNEL_OPTIONS", "OVERLAY_OPTIONS", "METHOD_OPTIONS"]

TITLE = "Dark Axion Portal Explorer"
DESCRIPTION = (
    "**Dark axion portal**: an axion-like particle *a*, the photon and a dark photon γD coupled by "
    "(g_aγγD/2) a F F̃_D (g_aγγD in GeV⁻¹); γD decays invisibly to dark fermions χχ̄ (coupling α_D). "
    "Electron beams on fixed targets (NA64e, LDMX) produce *a* γD by bremsstrahlung-like emission "
    "e N → e N a γD and in vector-meson decays V → a γD, seen as missing energy; fermion EDMs bound the "
    "CP-odd couplings. Move the controls on the left; every view can be exported for a paper.")
CSS = """
.bk-input-group input.bk-input { font-variant-numeric: tabular-nums; }
"""
#: JS run in the page when presentation mode is switched: the template's sidebar is hidden/shown
SIDEBAR_JS = """
const sb = document.getElementById('sidebar');
if (sb) { if (cb_obj.active) { sb.classList.remove('show'); } else { sb.classList.add('show'); } }
"""
#: JS of the dark-theme switch: reload the page with (without) Panel's ``theme=dark`` (every input is in the
#: page's address, so the view comes back as it was)
DARK_JS = """
const u = new URL(window.location.href);
if (cb_obj.active) { u.searchParams.set('theme', 'dark'); } else { u.searchParams.delete('theme'); }
window.location.assign(u.toString());
"""
#: how often running table jobs are polled [ms]
POLL_MS = 400
#: sliders of the numeric inputs ("log" or "linear"; others: text box only)
SLIDERS = {"m_gd_min": "log", "m_gd_max": "log", "m_gd": "log", "g": "log", "m_a": "log", "m_a_ratio": "log",
           "alpha_d": "log", "m_chi_ratio": "log", "m_chi": "log", "cutoff": "log", "rel_error": "log",
           "eot": "log", "x_min": "linear"}
X_MIN_STEP = 0.005


class DashboardApp(param.Parameterized):
    """One browser session: inputs, their messages, the table jobs and the page."""

    errors = param.Dict(default={}, doc="control key → message for every invalid input")
    notes = param.Dict(default={}, doc="control key → informational message (a control that has no effect)")

    def __init__(self, inputs: Inputs | None = None, **params):
        super().__init__(**params)
        self.inputs = inputs if inputs is not None else Inputs()
        #: the page's colours ("light" or "dark": Panel's ``theme=dark`` in the address, validated by Panel);
        #: the figures and exports follow them
        self.theme = "dark" if pn.config.theme == "dark" else "light"
        self.jobs = TableJobs()
        self._periodic = None
        self.controls: list[NumberControl] = []
        self._cards: dict = {}       # (experiment id, id(settings)) → (card, its NumberControls), built on first open
        self._slots: dict = {}       # (experiment id, id(settings)) → the accordion's slot for that card
        self.custom_controls: list[NumberControl] = []
        self._lazy_cards: dict = {}  # css name → (collapsed sidebar card, function building its contents)
        self.internal_alert = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width",
                                            css_classes=["dap-internal-error"])
        self.invalid_alert = pn.pane.Alert(pn.bind(self._invalid_text, self.param.errors), alert_type="danger",
                                           visible=pn.bind(lambda e: bool(checks.blocking(e)), self.param.errors),
                                           sizing_mode="stretch_width", css_classes=["dap-invalid-summary"])
        self.views = {v: ViewPanel(self, v) for v in VIEWS}
        self.status = StatusPanel(self.cancel_jobs, self.retry_jobs)
        # not Panel's dynamic tabs: they take a hidden tab's models out of the page, and a pane updated while
        # out of it (document None) re-pointed stylesheets its models share with the page at the HoloViz CDN
        # (seen after the Fig. 4 preset). Tabs are cheap anyway: a view is built when first shown.
        self.tabs = pn.Tabs(*[(p.layout.name, p.layout) for p in self.views.values()], dynamic=False,
                            active=VIEWS.index(self.inputs.view), css_classes=["dap-tabs"])
        self.tabs.param.watch(lambda e: setattr(self.inputs, "view", VIEWS[e.new]), "active")
        self.sidebar = self._build_sidebar()
        self.header = self._build_header()
        self.preset_bar = self._build_presets()
        inp = self.inputs
        inp.param.watch(self._on_inputs, [p for p in inp.param if p not in ("name", "view")])
        inp.param.watch(self._on_view, "view")
        inp.param.watch(self._on_custom, "custom")
        inp.custom_form.param.watch(self._on_form, list(inp.custom_form.param))
        self._watch_refusals()
        self._on_inputs()

    # ------------------------------------------------------------------------------ data for the views
    def view_data(self, view: str) -> dict:
        inp = self.inputs
        exps = tuple(inp.selected_experiments())
        trefs = {e.id: viewdata.TableRef.of(*self.jobs.table_for(e.id)) for e in exps}
        colors = {e.id: inp.color_index(e.id) for e in exps}
        if view == "map":
            return planeview.map_view(planeview.MapInputs.of(inp), inp.view_inputs(), exps, trefs)
        band_trefs = None
        if view == "exclusion" and inp.bands:      # elastic+inelastic tables only if shipped/cached (no job)
            band_trefs = {}
            for e in exps:
                hit = tableservice.band_table(e, inp.method, inp.rel_error)
                if hit is not None:
                    band_trefs[e.id] = viewdata.TableRef(hit[0], len(hit[1].points), False, hit[1])
        data = viewdata.view_data(view, inp.view_inputs(), exps, trefs, colors, band_trefs)
        data["preset"] = presets.caption_data(inp, view)      # a paper preset: caption and citation
        return data

    def ranges(self, view: str) -> dict:
        d = viewdata.default_ranges(view, self.inputs.view_inputs())
        user = (self.inputs.axis_ranges or {}).get(view) or {}
        for ax in ("x", "y"):
            r = user.get(ax)
            if isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(v, (int, float)) for v in r) \
                    and axis_range_ok(view, ax, float(r[0]), float(r[1])):     # (a link's are checked here)
                d[ax] = (float(r[0]), float(r[1]))
        return d

    def look(self):
        """Screen or presentation sizes, on the page's theme (dark: ``?theme=dark``, Panel's own switch)."""
        base = figures.LOOKS["presentation" if self.inputs.presentation else "screen"]
        return dataclasses.replace(base, theme=self.theme) if self.theme != base.theme else base

    def export_options(self):
        return self.inputs.export_size, float(self.inputs.font_scale)

    def header_lines(self, view: str) -> list[str]:
        inp = self.inputs
        exps = tuple(inp.selected_experiments())
        lines = viewdata.header_lines(view, inp.view_inputs(), list(inp.experiments), exps,
                                      {e.id: self.jobs.status(e.id) for e in exps if self.jobs.status(e.id)})
        if view == "map":
            lines += planeview.header_lines(self.view_data("map"))
        cited = presets.caption_data(inp, view)
        if cited:
            lines.insert(1, f"{cited['citation']} (dashboard preset '{cited['name']}')")
        return lines

    @property
    def valid(self) -> bool:
        return not checks.blocking(self.errors)

    # ------------------------------------------------------------------------------ reactions
    def _on_inputs(self, *events):
        """Any input changed: recompute the messages; when valid, ask for tables and refresh."""
        inp = self.inputs
        errors = checks.check(inp)
        errors.update({k: v for k, v in self.errors.items() if k.startswith("custom.")})
        self.param.update(errors=errors, notes=checks.notes(inp))
        if events and all(getattr(e, "name", "") in ("presentation", "axis_ranges", "export_size", "font_scale")
                          for e in events):
            for p in self.views.values():
                p.stale = True
            self.refresh()
            return
        if self.valid:
            self.jobs.ensure(inp.selected_experiments(), inp.method, inp.rel_error)
            for p in self.views.values():
                p.stale = True
            self.refresh()
            if self.jobs.pending(inp.experiments):
                self._start_polling()

    def _on_view(self, event):
        idx = VIEWS.index(event.new)
        if self.tabs.active != idx:
            self.tabs.active = idx
        if self.views[event.new].stale:
            self.refresh()

    def _watch_refusals(self):
        """Watch each experiment's refused values, once per settings object (re-watching on every change of
        the custom list ran ``_on_inputs`` once per earlier change)."""
        live = {id(st): st for st in self.inputs.settings.values()}
        watched = getattr(self, "_refusal_watchers", {})
        for key in [k for k in watched if k not in live]:
            st, w = watched.pop(key)
            st.param.unwatch(w)
        for key, st in live.items():
            if key not in watched:
                watched[key] = (st, st.param.watch(self._on_inputs, "refused"))
        self._refusal_watchers = watched

    def _on_custom(self, *_):
        self._build_exp_settings()
        self.show_notes()
        self._watch_refusals()
        for exp_id in [k for k in list(self.jobs._tables) if k not in self.inputs.settings]:
            self.jobs.forget(exp_id)

    def _on_form(self, *_):
        """A field of the custom form changed: its message is recomputed (or cleared) right away."""
        errs = {k: v for k, v in self.errors.items() if not k.startswith("custom.")}
        shown = [k for k in self.errors if k.startswith("custom.")]
        if shown or self.inputs.custom_form.refused:
            errs.update(checks.check_custom(self.inputs.custom_form, list(self.inputs.custom or [])))
        self.errors = errs

    def add_custom(self) -> str | None:
        """Add the custom form's experiment (selected) if it passes the checks; else show why beside the form."""
        inp = self.inputs
        errs = checks.check_custom(inp.custom_form, list(inp.custom or []))
        self.errors = {**{k: v for k, v in self.errors.items() if not k.startswith("custom.")}, **errs}
        if errs:
            return None
        return inp.add_custom(inp.custom_form.spec())

    def refresh(self):
        """Update the shown view and the status area (other views when they are shown). Figures are Bokeh
        models: ``pn.state.execute`` runs the update under this session's document lock."""
        if pn.state.curdoc is not None:
            pn.state.execute(self._refresh_now)
        else:
            self._refresh_now()

    def _refresh_now(self):
        view = self.views[self.inputs.view]
        if not self.valid:
            view.build()              # a tab first shown while an input is invalid: figure, caption
        else:
            # (a tab shown for the first time is made by its refresh, drawn before it is attached)
            # Panel may run this outside the Bokeh document lock (e.g. on URL/location events): `unlocked`
            # collects the model changes and dispatches them to the browser safely in every case
            with unlocked():
                view.refresh()
            if self.internal_alert.visible and str(self.internal_alert.object).startswith("**Could not update"):
                self.internal_alert.visible = False
        self.update_status()

    def update_status(self):
        inp = self.inputs
        rows = self.jobs.status_rows(list(inp.experiments), inp.experiment_name, inp.method, inp.settings)
        self.status.update(rows, inp.method, tableservice.server_executor().note())

    def show_internal_error(self, msg: str):
        """A message above the views (Markdown: any user text in it must be ``style.plain`` already)."""
        self.internal_alert.object = msg
        self.internal_alert.visible = True

    def show_notes(self):
        """Show (once) what the inputs ignored, e.g. custom experiments of a link that are invalid or too many."""
        notes, self.inputs.notes[:] = list(self.inputs.notes), []
        if notes:
            self.show_internal_error("**Ignored**: " + "; ".join(style.plain(n, ERROR_CHARS) for n in notes[:6]))

    @staticmethod
    def _invalid_text(errors) -> str:
        blocking = checks.blocking(errors)
        if not blocking:
            return ""
        return ("**Invalid input** — the plots keep the last valid state until it is fixed: "
                + "; ".join(style.plain(style.unicode_units(m), limit=ERROR_CHARS) for m in blocking.values()))

    # ------------------------------------------------------------------------------ jobs
    def poll(self) -> bool:
        """Poll this session's table jobs; refresh when new points landed. True if something changed."""
        inp = self.inputs
        changed = self.jobs.poll(inp.selected_experiments(), inp.method, inp.rel_error)
        if changed:
            for p in self.views.values():
                p.stale = True
            self.refresh()
        else:
            self.update_status()
        return changed

    def _start_polling(self):
        if self._periodic is not None or pn.state.curdoc is None or pn.state.curdoc.session_context is None:
            return
        self._periodic = pn.state.add_periodic_callback(self._tick, period=POLL_MS)

    def _tick(self):
        self.poll()
        if not self.jobs.pending(self.inputs.experiments) and self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def cancel_jobs(self):
        self.jobs.cancel(self.inputs.experiments)
        self.update_status()

    def retry_jobs(self):
        self.jobs.retry()
        self._on_inputs()

    def reset(self, keep: tuple[str, ...] = ()):
        """Every input back to its default (but those named in ``keep``)."""
        self.inputs.reset(keep)
        self.errors = {k: v for k, v in self.errors.items() if not k.startswith("custom.")}

    def release(self):
        """The session ended: stop polling, cancel this session's table jobs."""
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None
        self.jobs.release()

    # ------------------------------------------------------------------------------ sidebar
    def _num(self, obj, field, key=None, group=None, **kw) -> NumberControl:
        key = key or field
        slider = SLIDERS.get(field)
        c = NumberControl(obj, field, key, self.param.errors, slider=slider, notes_param=self.param.notes,
                          step=X_MIN_STEP if field == "x_min" and slider else None, **kw)
        (self.controls if group is None else group).append(c)
        return c

    def _build_sidebar(self):
        inp = self.inputs
        p = inp.param
        m_min, m_max, m_pt, g_pt = (self._num(inp, f) for f in ("m_gd_min", "m_gd_max", "m_gd", "g"))
        alp = pn.widgets.RadioButtonGroup.from_param(p.alp_mode, label="", orientation="vertical",
                                                     color="primary", variant="outline",
                                                     sizing_mode="stretch_width", margin=(0, 10),
                                                     css_classes=["dap-alp-mode"])
        m_a, r_a = self._num(inp, "m_a"), self._num(inp, "m_a_ratio")
        m_a_box = pn.Column(m_a.panel(), visible=p.alp_mode.rx() == "fixed", sizing_mode="stretch_width", margin=0)
        r_a_box = pn.Column(r_a.panel(), visible=p.alp_mode.rx() == "ratio", sizing_mode="stretch_width", margin=0)
        alpha = self._num(inp, "alpha_d")
        chi_mode = pn.widgets.Select.from_param(p.m_chi_mode, sizing_mode="stretch_width", margin=(5, 10))
        r_chi, m_chi = self._num(inp, "m_chi_ratio"), self._num(inp, "m_chi")
        r_chi_box = pn.Column(r_chi.panel(), visible=p.m_chi_mode.rx() == "ratio", sizing_mode="stretch_width",
                              margin=0)
        m_chi_box = pn.Column(m_chi.panel(), visible=p.m_chi_mode.rx() == "fixed", sizing_mode="stretch_width",
                              margin=0)

        self.exp_select = pn.widgets.CheckBoxGroup(options=inp.experiment_options(), value=list(inp.experiments),
                                                   inline=False, margin=(0, 10), css_classes=["dap-experiments"])
        self.exp_select.param.watch(lambda e: setattr(inp, "experiments", list(e.new)), "value")
        inp.param.watch(self._sync_exp_select, ["experiments", "custom"])
        self.exp_settings = pn.Accordion(sizing_mode="stretch_width", margin=(0, 5), css_classes=["dap-exp-settings"])
        self.exp_settings.param.watch(self._fill_open_slots, "active")
        self._build_exp_settings()

        channels = pn.widgets.CheckBoxGroup.from_param(p.channels, inline=True, margin=(0, 10),
                                                       css_classes=["dap-channels"])
        self.show_channels = pn.widgets.Toggle.from_param(p.show_channel_curves, color="primary",
                                                          variant="outline", margin=(5, 10),
                                                          sizing_mode="stretch_width",
                                                          css_classes=["dap-show-channels"])
        self.bands_toggle = pn.widgets.Toggle.from_param(p.bands, color="primary", variant="outline",
                                                         margin=(5, 10), sizing_mode="stretch_width",
                                                         css_classes=["dap-bands"])
        edm_both = pn.widgets.Checkbox.from_param(p.edm_both_cutoffs, margin=(5, 10), css_classes=["dap-edm-both"])
        method = pn.widgets.RadioButtonGroup.from_param(p.method, color="primary", variant="outline",
                                                        margin=(5, 10), css_classes=["dap-method"])
        rel = self._num(inp, "rel_error")
        overlays = pn.widgets.CheckBoxGroup.from_param(p.overlays, inline=False, margin=(0, 10),
                                                       css_classes=["dap-overlays"])
        cutoff = self._num(inp, "cutoff")
        export_size = pn.widgets.RadioButtonGroup.from_param(p.export_size, color="primary",
                                                             variant="outline", margin=(5, 10),
                                                             css_classes=["dap-export-size"])
        reset = pn.widgets.Button(label="Reset all inputs to defaults", color="light", margin=(8, 10),
                                  sizing_mode="stretch_width", css_classes=["dap-reset"])
        reset.on_click(lambda e: self.reset())

        def card(title, *objs, collapsed=False):
            return pn.Card(*objs, title=title, collapsed=collapsed, sizing_mode="stretch_width", margin=(4, 2))

        def later(title, css, build):
            """A collapsed card whose contents are built when it is first opened."""
            c = pn.Card(title=title, collapsed=True, sizing_mode="stretch_width", margin=(4, 2),
                        css_classes=[f"dap-card-{css}"])
            self._lazy_cards[css] = (c, build)
            c.param.watch(lambda e, css=css: self.open_card(css) if not e.new else None, "collapsed")
            return c

        return [
            card("Masses and coupling", m_min.panel(), m_max.panel(), m_pt.panel(), g_pt.panel(),
                 pn.pane.Markdown("**ALP mass scenario**", margin=(8, 10, 0, 10)), alp, m_a_box, r_a_box),
            card("Dark sector", alpha.panel(), chi_mode, r_chi_box, m_chi_box),
            card("Experiments", self.exp_select,
                 pn.pane.Markdown("EOT, background, observed events, the missing-energy cut x_min, N_V overrides:",
                                  margin=(4, 10, 0, 10), styles={"font-size": "12px"}),
                 self.exp_settings),
            card("Channels and σ_V method", channels, self.show_channels, self.bands_toggle, method, rel.panel()),
            card("Other constraints", overlays),
            card("EDM", cutoff.panel(), edm_both),
            later("Map tab: experiment and grid", "map", self._build_map_controls),
            later("Axis ranges of the shown view", "ranges", lambda: [self._build_ranges()]),
            later("Export", "export", lambda: [export_size, self._num(inp, "font_scale").panel()]),
            later("Custom experiment", "custom", self._build_custom_form),
            reset,
            pn.Card(pn.pane.Markdown(about.about_markdown(), sizing_mode="stretch_width", margin=(0, 10),
                                     css_classes=["dap-about"]),
                    title="About / cite", collapsed=True, sizing_mode="stretch_width", margin=(4, 2)),
        ]

    def open_card(self, name: str) -> pn.Card:
        """Build the contents of the sidebar card ``name`` (``map``, ``ranges``, ``export``, ``custom``) if not
        yet built. Collapsed cards are built on first opening: most viewers never open them, and their ~20
        controls were a third of a session's start-up cost."""
        c, build = self._lazy_cards[name]
        if not c.objects:
            c.objects = list(build())
        return c

    def _build_map_controls(self) -> list:
        """The Map tab's inputs: which experiment (or the best of the selected ones), the axis ranges, the grid."""
        p = self.inputs.param
        which = pn.widgets.Select.from_param(p.map_experiment, sizing_mode="stretch_width", margin=(5, 10),
                                             css_classes=["dap-map-experiment"])
        x0, x1, y0, y1, n = (self._num(self.inputs, f) for f in ("map_m_gd_min", "map_m_gd_max", "map_m_a_min",
                                                                  "map_m_a_max", "map_n"))
        return [which, pn.Row(x0.panel(), x1.panel(), sizing_mode="stretch_width"),
                pn.Row(y0.panel(), y1.panel(), sizing_mode="stretch_width"), n.panel()]

    def _build_presets(self):
        """One button per paper figure/table (dashboard.presets), applied through the inputs (URL follows)."""
        buttons = []
        for name, pr in presets.PRESETS.items():
            # the source as a tooltip under the button (beside it, it covered the next button)
            b = pn.widgets.Button(label=pr.label, color="primary", margin=(2, 4),
                                  css_classes=["dap-preset", f"dap-preset-{name}"],
                                  description=Tooltip(content=pr.citation, position="bottom"))
            b.on_click(lambda e, name=name: presets.apply(self.inputs, name))
            buttons.append(b)
        # hidden in presentation mode (the talk shows the figure; the presets are chosen before)
        return pn.Row(pn.pane.Markdown("**Paper (arXiv:2602.11405):**", margin=(8, 6, 0, 10)), *buttons,
                      sizing_mode="stretch_width", margin=(0, 0, 4, 0), css_classes=["dap-presets"],
                      visible=self.inputs.param.presentation.rx.not_())

    def _build_header(self):
        toggle = pn.widgets.Toggle.from_param(self.inputs.param.presentation, color="primary",
                                              variant="outline", width=330, css_classes=["dap-presentation"])
        toggle.jscallback(value=SIDEBAR_JS)
        # the page's colours are chosen when it loads: switching reloads it with the state of its address
        dark = pn.widgets.Toggle(label="dark theme", value=self.theme == "dark", color="primary",
                                 variant="outline", width=160, css_classes=["dap-dark"])
        dark.jscallback(value=DARK_JS)
        # reset without the sidebar (presentation mode hides it)
        reset = pn.widgets.Button(label="reset", color="light", width=80, css_classes=["dap-reset-top"],
                                  description=Tooltip(content="reset all inputs to their defaults",
                                                      position="bottom"))
        reset.on_click(lambda e: self.reset(keep=("presentation",)))     # a talk stays in presentation mode
        return pn.Column(toggle, pn.Row(dark, reset, margin=0), margin=0)

    def _sync_exp_select(self, *_):
        opts = self.inputs.experiment_options()
        if dict(self.exp_select.options) != opts:
            self.exp_select.options = opts
        if list(self.exp_select.value) != list(self.inputs.experiments):
            self.exp_select.value = list(self.inputs.experiments)

    def _build_ranges(self):
        """Per-view axis ranges: empty boxes = the view's default (placeholder)."""
        self.range_inputs = {}
        col = []
        for ax in ("x", "y"):
            for i, end in enumerate(("from", "to")):
                w = pn.widgets.TextInput(label=f"{ax} axis {end}", placeholder="auto", width=160, margin=(5, 10),
                                         css_classes=[f"dap-range-{ax}{i}"])
                w.param.watch(lambda e, ax=ax, i=i: self._on_range(ax, i, e.new), "value")
                self.range_inputs[(ax, i)] = w
        col.append(pn.Row(self.range_inputs[("x", 0)], self.range_inputs[("x", 1)], margin=0))
        col.append(pn.Row(self.range_inputs[("y", 0)], self.range_inputs[("y", 1)], margin=0))
        col.append(message(self.param.errors, "axis_ranges")[0])
        self.inputs.param.watch(lambda e: self._show_ranges(), ["view", "axis_ranges"])
        self._show_ranges()
        return pn.Column(*col, sizing_mode="stretch_width", margin=0)

    def _show_ranges(self):
        view = self.inputs.view
        default = viewdata.default_ranges(view, self.inputs.view_inputs())
        user = (self.inputs.axis_ranges or {}).get(view) or {}
        for (ax, i), w in self.range_inputs.items():
            d = default.get(ax)
            w.placeholder = f"auto ({d[i]:.3g})" if d else "auto"
            r = user.get(ax)
            txt = f"{r[i]:.4g}" if r else ""
            if w.value != txt and not (r is None and w.value.strip() == ""):
                w.value = txt

    def _on_range(self, ax: str, i: int, text: str):
        view = self.inputs.view
        lo_t = self.range_inputs[(ax, 0)].value.strip()
        hi_t = self.range_inputs[(ax, 1)].value.strip()
        ranges = {k: dict(v) for k, v in (self.inputs.axis_ranges or {}).items()}
        cur = ranges.setdefault(view, {})
        errs = {k: v for k, v in self.errors.items() if k != "axis_ranges"}
        if not lo_t and not hi_t:
            cur.pop(ax, None)
        elif lo_t and hi_t:
            try:
                lo, hi = float(lo_t), float(hi_t)
                if not axis_range_ok(view, ax, lo, hi):
                    raise ValueError
                cur[ax] = [lo, hi]
            except ValueError:
                allowed = ("0 ≤ from < to ≤ 1" if (view == "spectrum" and ax == "x") else
                           f"0 < from < to, finite, at most {MAX_DECADES} decades")
                errs["axis_ranges"] = f"{ax} axis: two numbers with {allowed} (got '{lo_t[:40]}', '{hi_t[:40]}')"
                self.errors = errs
                return
        else:
            return                                         # waiting for the other end
        self.errors = errs
        self.inputs.axis_ranges = {k: v for k, v in ranges.items() if v}

    def _build_exp_settings(self):
        """One accordion slot per experiment; a slot's card (~10 controls and the model N_V) is built when the
        slot is first opened and then kept, so adding a custom experiment builds nothing for the others and a
        session whose viewer never opens a card never pays for it (most of a session's start-up cost before)."""
        inp = self.inputs
        live = {(k, id(st)) for k, st in inp.settings.items()}
        for key in [k for k in self._slots if k not in live]:        # built or not: an id() may be reused
            self._slots.pop(key)
        for key in [k for k in self._cards if k not in live]:
            for c in self._cards.pop(key)[1]:
                c.unwatch()
        slots = []
        for exp_id, st in inp.settings.items():
            key = (exp_id, id(st))
            if key not in self._slots:
                # the accordion renders its titles as HTML: the name (a link's label, a file's name) is escaped
                title = style.plain(style.short_name(st.base.name), limit=80)
                self._slots[key] = pn.Column(name=title, sizing_mode="stretch_width", margin=0)
            slots.append(self._slots[key])
        self.exp_settings.objects = slots
        self._fill_open_slots()

    @property
    def exp_controls(self) -> list[NumberControl]:
        """The NumberControls of the experiment cards built so far."""
        return [c for _card, ctls in self._cards.values() for c in ctls]

    def exp_card(self, exp_id: str):
        """(card, its NumberControls) of an experiment's settings, built now if it was not yet."""
        st = self.inputs.settings[exp_id]
        key = (exp_id, id(st))
        if key not in self._cards:
            self._cards[key] = self._exp_card(exp_id, st)
        return self._cards[key]

    def _fill_open_slots(self, *_):
        """Build and show each opened experiment card in its accordion slot (once; it stays there)."""
        shown = {id(self.exp_settings.objects[i]) for i in self.exp_settings.active if i < len(self.exp_settings)}
        for (exp_id, _sid), slot in self._slots.items():
            if not slot.objects and id(slot) in shown:
                slot.objects = [self.exp_card(exp_id)[0]]

    def _exp_card(self, exp_id, st):
        """(card, its NumberControls) of one experiment's settings."""
        ctls: list[NumberControl] = []

        def num(field, **kw):
            return self._num(st, field, key=f"exp.{exp_id}.{field}", group=ctls, **kw)

        lepton = adapter.beam_lepton(st.base)
        eot = num("eot", label=style.EOT_LABELS[lepton]) if lepton != "e" else num("eot")
        bkg, obs = num("background"), num("observed")
        cut = num("x_min", label=f"cut x_min = E_miss/E₀ (E₀ = {st.base.beam_energy_gev:g} GeV)")
        model = st.model_nv()
        nv = [num(pname, placeholder=_nv_placeholder(model.get(m))) for m, pname in NV_PARAMS.items()]
        b = st.base
        objs = [eot.panel(), pn.Row(bkg.panel(), obs.panel(), sizing_mode="stretch_width"), cut.panel(),
                pn.pane.Markdown("N_V override (blank: model)", margin=(4, 10, 0, 10), styles={"font-size": "12px"}),
                pn.Row(*[c.panel() for c in nv[:3]], sizing_mode="stretch_width"),
                pn.Row(*[c.panel() for c in nv[3:]], sizing_mode="stretch_width"),
                # target, status and reference may come from a user's experiment file: plain text
                pn.pane.Markdown(f"{b.beam_energy_gev:g} GeV {style.BEAM_LABELS[lepton]} on {style.plain(b.target)}, "
                                 f"{b.thickness_x0:g} X₀, nominal cut x ≥ {b.x_min:g}; {style.plain(b.status)}. "
                                 f"{style.plain(b.reference)}",
                                 styles={"font-size": "11px", "opacity": "0.75"}, margin=(0, 10))]
        off = adapter.meson_channels_off_reason(b)
        if off:                                  # muon beams: N_V = 0 unless overridden above
            objs.insert(3, pn.pane.Markdown("**Meson channels: off** — " + style.plain(off, limit=600),
                                            styles={"font-size": "11px"}, margin=(0, 10),
                                            css_classes=["dap-exp-mesons-off"]))
        if b.assumptions:                        # may come from a server's experiment file: plain text
            objs.append(pn.pane.Markdown("Assumptions: " + style.plain(b.assumptions, limit=None),
                                         styles={"font-size": "11px", "opacity": "0.75"}, margin=(0, 10),
                                         css_classes=["dap-exp-assumptions"]))
        st.param.watch(lambda e, st=st, nv=nv: self._nv_placeholders(st, nv), ["eot", "x_min"])
        if exp_id.startswith("custom-"):
            rm = pn.widgets.Button(label="Remove this experiment", color="light", width=180, margin=(0, 10))
            rm.on_click(lambda e, k=exp_id: self.inputs.remove_custom(k))
            objs.append(rm)
        return pn.Column(*objs, sizing_mode="stretch_width"), ctls

    @staticmethod
    def _nv_placeholders(st, controls):
        model = st.model_nv()
        for (m, _p), c in zip(NV_PARAMS.items(), controls):
            c.text.placeholder = _nv_placeholder(model.get(m))

    def _build_custom_form(self):
        f = self.inputs.custom_form
        label = pn.widgets.TextInput.from_param(f.param.label, placeholder="e.g. W 50 GeV", max_length=80,
                                                sizing_mode="stretch_width", margin=(5, 10),
                                                css_classes=["dap-custom-label"])
        label_msg, self.custom_label_alert = message(self.param.errors, "custom.label")

        def num(field):
            return self._num(f, field, key=f"custom.{field}", group=self.custom_controls)

        beam, thick, xmin, eot, bkg, obs = (num(x) for x in ("beam_energy_gev", "thickness_x0", "x_min", "eot",
                                                            "background", "observed"))
        target = pn.widgets.Select.from_param(f.param.target, sizing_mode="stretch_width", margin=(5, 10),
                                              css_classes=["dap-custom-target"])
        lepton = pn.widgets.RadioButtonGroup.from_param(f.param.lepton, color="primary", variant="outline",
                                                        margin=(5, 10), css_classes=["dap-custom-lepton"])
        lepton_msg, self.custom_lepton_alert = message(self.param.errors, "custom.lepton")
        add = pn.widgets.Button(label="Add and compute its σ_V table", color="primary",
                                sizing_mode="stretch_width", margin=(8, 10), css_classes=["dap-custom-add"])
        add.on_click(lambda e: self.add_custom())
        note = pn.pane.Markdown("The table is computed in the background with the σ_V method selected above; "
                                "its curve appears when the points land.",
                                styles={"font-size": "11px", "opacity": "0.75"}, margin=(0, 10))
        return [label, label_msg, lepton, lepton_msg, beam.panel(), target,
                pn.Row(thick.panel(), xmin.panel(), sizing_mode="stretch_width"), eot.panel(),
                pn.Row(bkg.panel(), obs.panel(), sizing_mode="stretch_width"), add, note]

    # ------------------------------------------------------------------------------ page
    def template(self, defer_sidebar: bool = False):
        """The page. ``defer_sidebar``: the sidebar's controls are put in only by :meth:`show_sidebar` (the
        served page calls it once the browser has drawn the page: the figure comes first)."""
        self.sidebar_area = pn.Column(*([] if defer_sidebar else self.sidebar), sizing_mode="stretch_width",
                                      margin=0, css_classes=["dap-sidebar"])
        # presentation mode: no sidebar, no introduction — the figure gets the window
        intro = pn.pane.Markdown(DESCRIPTION, sizing_mode="stretch_width", margin=(0, 10), styles={"font-size": "14px"},
                                 visible=self.inputs.param.presentation.rx.not_())
        main = [pn.Row(intro, self.header, sizing_mode="stretch_width"), self.preset_bar,
                self.status.layout, self.invalid_alert, self.internal_alert, self.tabs]
        # one root per area: every extra document root makes Bokeh re-walk all models (slow session start).
        # Bootstrap: every resource is served by Panel itself (no web font from a CDN: works offline).
        # No busy indicator: its spinner animated for every callback and made every page repaint — with 10
        # sessions open and 3 moving sliders it was ~40% of the browsers' CPU (slider → plot median 0.48 s →
        # 0.33 s); long computations show their progress in the status area instead.
        return pn.template.BootstrapTemplate(
            title=TITLE, sidebar=[self.sidebar_area],
            main=[pn.Column(*main, margin=0)], sidebar_width=SIDEBAR_WIDTH,
            header_background="#0b3d62", raw_css=[CSS],
            collapsed_sidebar=bool(self.inputs.presentation), busy_indicator=None)

    def show_sidebar(self):
        """Put the sidebar's controls on the page (once). A session's controls are ~40% of its Bokeh models:
        sent after the first paint, the plot appears ~0.3 s sooner and the controls follow."""
        if not self.sidebar_area.objects:
            self.sidebar_area.objects = list(self.sidebar)

    def sync_url(self):
        """Mirror the inputs in the URL (and apply a shared URL's values)."""
        loc = pn.state.location
        if loc is not None:
            loc.sync(self.inputs, URL_PARAMS, on_error=self._url_error)

    def _url_error(self, mapped: dict):
        bad = self.inputs.apply_many(mapped)
        bad = [b for b in bad if b not in self.inputs.refused]       # those are shown beside their control
        if bad:
            self.show_internal_error("Ignored invalid link parameters: " + ", ".join(
                style.plain(URL_PARAMS.get(b, b), 40) for b in bad))


#: widest log axis a user may ask for [decades] (1e-6 … 1e300 made a plot of 306 empty decades)
MAX_DECADES = 40


def axis_range_ok(view: str, ax: str, lo: float, hi: float) -> bool:
    """A user's axis range: finite, from < to; log axes from > 0 and at most :data:`MAX_DECADES` wide; the
    spectrum's linear x axis (E_miss/E₀) within [0, 1]."""
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        return False
    if view == "spectrum" and ax == "x":
        return 0.0 <= lo and hi <= 1.0
    return lo > 0 and math.log10(hi / lo) <= MAX_DECADES


def _nv_placeholder(v) -> str:
    """Greyed text of an empty N_V box: the model value."""
    try:
        return f"model {float(v):.3g}"
    except (TypeError, ValueError):
        return "model"


def warm_up() -> float:
    """Build one session's page off-line (its own Bokeh document, no server) and discard it, so that the
    server's first viewer does not pay the imports and first-use caches (the first page took ~1.5 s longer
    than the next ones). Run by ``dashboard/server_setup.py`` (Panel's ``--setup``: in each server process,
    after any fork, before its first session); like a first session it makes the process's σ_V job executor.
    The default view is drawn directly, so an error reaches the caller. Returns the seconds it took."""
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    t0 = time.perf_counter()
    doc = Document()
    with set_curdoc(doc):
        app = DashboardApp()
        app.views[app.inputs.view].refresh()
        with doc.models.freeze():
            app.template(defer_sidebar=True).server_doc(doc)
        doc.to_json()
        app.show_sidebar()
        app.release()
    return time.perf_counter() - t0


def create_app():
    """One independent session of the dashboard (call once per browser session)."""
    t0 = time.perf_counter()
    tableservice.server_executor()     # once per process, connects in the background: never waits here
    app = DashboardApp()
    app.sync_url()
    app.show_notes()
    app.refresh()
    pn.state.on_session_destroyed(lambda ctx: app.release())
    tpl = app.template(defer_sidebar=True)
    pn.state.onload(app.show_sidebar)          # outside a server: at once
    log.info("session created in %.3f s", time.perf_counter() - t0)
    return tpl, app
