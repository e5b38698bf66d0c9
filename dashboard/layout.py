"""The page: FastListTemplate with the controls in the sidebar and the four views in the main area.

:func:`create_app` builds one independent session (its own :class:`DashboardState`, widgets and figures);
``app.py`` calls it once per browser session. Wiring only — the logic lives in :mod:`dashboard.state`.
"""

from __future__ import annotations

import logging
import time

import panel as pn
from panel.io.document import unlocked

from physics.methods import METHODS, SHORT_LABELS

from . import about, adapter, style
from .controls import ERROR_CHARS, SIDEBAR_WIDTH, ChoiceControl, NumberControl, guarded
from .state import (
    ALP_MODES,
    M_CHI_MODES,
    MAX_LABEL_CHARS,
    NV_PARAMS,
    URL_PARAMS,
    VIEWS,
    DashboardState,
)
from .views import StatusPanel, ViewPanel

log = logging.getLogger("dashboard.layout")

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

CHANNEL_OPTIONS = {style.CHANNEL_LABELS[c]: c for c in adapter.CHANNELS}
OVERLAY_OPTIONS = {label: key for key, label in adapter.CONSTRAINT_LABELS.items()}
METHOD_OPTIONS = {SHORT_LABELS[m]: m for m in METHODS}
POLL_MS = 400
#: the per-experiment cut control: linear slider (from, to, step) in x = E_miss/E₀; typed values may go up to
#: the limits of physics (0 ≤ x_min < 1)
X_MIN_SLIDER = (0.0, 0.99, 0.005)


class DashboardApp:
    """One browser session: state + controls + views, wired together."""

    def __init__(self, state: DashboardState | None = None):
        self.state = state or DashboardState()
        self._periodic = None
        self._last_refresh_s = float("nan")
        self.controls: list[NumberControl] = []
        self.exp_controls: list[NumberControl] = []
        self.custom_controls: list[NumberControl] = []
        self._nv_watchers: list = []
        self.internal_alert = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width",
                                            css_classes=["dap-internal-error"])
        self.invalid_alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                                           css_classes=["dap-invalid-summary"])
        self.views = {v: ViewPanel(self, v) for v in VIEWS}
        self.status = StatusPanel(self)
        self.tabs = pn.Tabs(*[(p.layout.name, p.layout) for p in self.views.values()], dynamic=True,
                            sizing_mode="stretch_width", css_classes=["dap-tabs"])
        self.tabs.active = VIEWS.index(self.state.view)
        self.tabs.param.watch(self._on_tab, "active")
        self.sidebar = self._build_sidebar()
        self.state.param.watch(self._on_revision, "revision")
        self.state.param.watch(self._on_errors, "errors")
        self.state.param.watch(self._on_view, "view")
        self.state.param.watch(self._on_custom, "custom")
        self._on_errors()

    # ------------------------------------------------------------------------------ sidebar
    def _num(self, obj, pname, label, **kw) -> NumberControl:
        c = NumberControl(self.state, obj, pname, label, **kw)
        self.controls.append(c)
        return c

    def _build_sidebar(self):
        s = self.state
        m_min = self._num(s, "m_gd_min", "m_γD axis from", lo=1e-3, hi=5.0, unit="GeV")
        m_max = self._num(s, "m_gd_max", "m_γD axis to", lo=2e-3, hi=10.0, unit="GeV")
        m_pt = self._num(s, "m_gd", "m_γD (current point)", lo=1e-3, hi=10.0, unit="GeV")
        g_pt = self._num(s, "g", "g_aγγD (current point)", lo=1e-7, hi=1.0, unit="GeV⁻¹")
        alp = pn.widgets.RadioBoxGroup(options={v: k for k, v in ALP_MODES.items()}, inline=False,
                                       margin=(0, 10), css_classes=["dap-alp-mode"])
        ChoiceControl(s, "alp_mode", alp)
        m_a = self._num(s, "m_a", "m_a (fixed)", lo=1e-6, hi=5.0, unit="GeV")
        r_a = self._num(s, "m_a_ratio", "r = m_a/m_γD", lo=1e-3, hi=10.0)
        self._alp_extra = {"fixed": m_a.panel(), "ratio": r_a.panel()}
        s.param.watch(lambda e: self._alp_visibility(), "alp_mode")
        self._alp_visibility()

        alpha = self._num(s, "alpha_d", "α_D", lo=1e-4, hi=1.0)
        chi_mode = pn.widgets.Select(options={v: k for k, v in M_CHI_MODES.items()}, margin=(5, 10),
                                     sizing_mode="stretch_width")
        ChoiceControl(s, "m_chi_mode", chi_mode)
        r_chi = self._num(s, "m_chi_ratio", "r_χ = m_χ/m_γD", lo=1e-3, hi=1.0)
        m_chi = self._num(s, "m_chi", "m_χ (fixed)", lo=1e-4, hi=5.0, unit="GeV")
        self._chi_extra = {"ratio": r_chi.panel(), "fixed": m_chi.panel()}
        s.param.watch(lambda e: self._chi_visibility(), "m_chi_mode")
        self._chi_visibility()

        self.exp_select = pn.widgets.CheckBoxGroup(options=self._exp_options(), inline=False, margin=(0, 10),
                                                   css_classes=["dap-experiments"])
        ChoiceControl(s, "experiments", self.exp_select)
        self.exp_settings = pn.Accordion(sizing_mode="stretch_width", margin=(0, 5), css_classes=["dap-exp-settings"])
        self._build_exp_settings()

        channels = pn.widgets.CheckBoxGroup(options=CHANNEL_OPTIONS, inline=True, margin=(0, 10),
                                            css_classes=["dap-channels"])
        ChoiceControl(s, "channels", channels)
        show_ch = pn.widgets.Checkbox(label="draw single channels (thin lines)", margin=(0, 10))
        ChoiceControl(s, "show_channel_curves", show_ch)
        method = pn.widgets.RadioButtonGroup(options=METHOD_OPTIONS, color="primary", variant="outline",
                                             margin=(5, 10),
                                             css_classes=["dap-method"])
        ChoiceControl(s, "method", method)
        rel = self._num(s, "rel_error", "MC precision of new ETL tables", lo=1e-3, hi=0.3)
        overlays = pn.widgets.CheckBoxGroup(options=OVERLAY_OPTIONS, inline=False, margin=(0, 10),
                                            css_classes=["dap-overlays"])
        ChoiceControl(s, "overlays", overlays)
        cutoff = self._num(s, "cutoff", "cut-off Λ", lo=10.0, hi=1e5, unit="GeV")

        custom = self._build_custom_form()

        def card(title, *objs, collapsed=False):
            return pn.Card(*objs, title=title, collapsed=collapsed, sizing_mode="stretch_width", margin=(4, 2))

        return [
            card("Masses and coupling", m_min.panel(), m_max.panel(), m_pt.panel(), g_pt.panel(),
                 pn.pane.Markdown("**ALP mass scenario**", margin=(8, 10, 0, 10)), alp,
                 self._alp_extra["fixed"], self._alp_extra["ratio"]),
            card("Dark sector", alpha.panel(), pn.pane.Markdown("**dark-fermion mass**", margin=(8, 10, 0, 10)),
                 chi_mode, self._chi_extra["ratio"], self._chi_extra["fixed"]),
            card("Experiments", self.exp_select,
                 pn.pane.Markdown("Per experiment: statistics (EOT, expected background, observed), the "
                                  "missing-energy cut x_min (live: applied to the experiment's σ_V table, "
                                  "no new computation) and optional N_V overrides:",
                                  margin=(6, 10, 0, 10), styles={"font-size": "12px"}),
                 self.exp_settings),
            card("Channels and σ_V method", channels, show_ch,
                 pn.pane.Markdown("**σ_V tables**", margin=(6, 10, 0, 10)), method, rel.panel()),
            card("Other constraints (shaded)", overlays),
            card("EDM (loop cut-off)", cutoff.panel()),
            card("Custom experiment", *custom, collapsed=False),
            card("About / cite", pn.pane.Markdown(about.about_markdown(), sizing_mode="stretch_width",
                                                  margin=(0, 10), css_classes=["dap-about"]), collapsed=True),
        ]

    def _alp_visibility(self):
        for k, p in self._alp_extra.items():
            p.visible = self.state.alp_mode == k

    def _chi_visibility(self):
        for k, p in self._chi_extra.items():
            p.visible = self.state.m_chi_mode == k

    def _exp_options(self) -> dict:
        labels = self.state.experiment_labels()
        out, seen = {}, set()
        for k, name in labels.items():
            lab = name if name not in seen else f"{name} ({k})"
            seen.add(lab)
            out[lab] = k
        return out

    def _build_exp_settings(self):
        for c in self.exp_controls:
            c.unwatch()
        for st, w in self._nv_watchers:
            try:
                st.param.unwatch(w)
            except (ValueError, KeyError):
                log.debug("watcher already removed", exc_info=True)
        self.exp_controls = []
        self._nv_watchers = []
        cards = []
        for exp_id, st in self.state.settings.items():
            eot = NumberControl(self.state, st, "eot", "EOT", lo=1e9, hi=1e18, error_key=f"exp.{exp_id}.eot")
            bkg = NumberControl(self.state, st, "background", "expected background", lo=None, hi=None,
                                error_key=f"exp.{exp_id}.background")
            obs = NumberControl(self.state, st, "observed", "observed events", error_key=f"exp.{exp_id}.observed")
            # the cut: applied to the experiment's whole-x-range σ_V table — moving it never starts a table job
            cut = NumberControl(self.state, st, "x_min",
                                f"cut x_min = E_miss/E₀ (E₀ = {st.base.beam_energy_gev:g} GeV)",
                                lo=X_MIN_SLIDER[0], hi=X_MIN_SLIDER[1], log_scale=False, step=X_MIN_SLIDER[2],
                                error_key=f"exp.{exp_id}.x_min")
            self.exp_controls += [eot, bkg, obs, cut]
            model = st.model_nv()
            nv = {}
            for m, pname in NV_PARAMS.items():
                nv[m] = NumberControl(self.state, st, pname, f"N_V {style.CHANNEL_LABELS[m]}",
                                      error_key=f"exp.{exp_id}.{pname}", optional=True,
                                      placeholder=_nv_placeholder(model.get(m)),
                                      description=f"override of the {style.CHANNEL_LABELS[m]} yield N_V; blank = the "
                                                  "documented model (shown greyed)")
            self.exp_controls += list(nv.values())
            self._nv_watchers.append((st, st.param.watch(
                lambda e, st=st, nv=nv: self._nv_placeholders(st, nv), ["eot", "x_min"])))
            ms = list(nv.values())
            objs = [eot.panel(), pn.Row(bkg.panel(), obs.panel(), sizing_mode="stretch_width"), cut.panel(),
                    pn.pane.Markdown("N_V override (blank: model)", margin=(4, 10, 0, 10),
                                     styles={"font-size": "12px"}),
                    pn.Row(*[c.panel() for c in ms[:3]], sizing_mode="stretch_width"),
                    pn.Row(*[c.panel() for c in ms[3:]], sizing_mode="stretch_width")]
            b = st.base
            # target, status and reference may come from a user's experiment file: plain text
            objs.append(pn.pane.Markdown(
                f"{b.beam_energy_gev:g} GeV e⁻ on {style.plain(b.target)}, {b.thickness_x0:g} X₀, "
                f"nominal cut x ≥ {b.x_min:g}; {style.plain(b.status)}. {style.plain(b.reference)}",
                styles={"font-size": "11px", "color": "#555"}, margin=(0, 10)))
            if exp_id.startswith("custom-"):
                rm = pn.widgets.Button(label="Remove this experiment", color="light", width=180, margin=(0, 10))
                rm.on_click(guarded(lambda e, k=exp_id: self.state.remove_custom(k)))
                objs.append(rm)
            # the accordion renders its titles as HTML: the name (a link's label, a file's name) is escaped
            cards.append(pn.Column(*objs, name=style.plain(style.short_name(b.name), limit=80),
                                   sizing_mode="stretch_width"))
        self.exp_settings.objects = cards
        self._on_errors()

    @guarded
    def _nv_placeholders(self, st, controls):
        model = st.model_nv()
        for m, c in controls.items():
            c.text.placeholder = _nv_placeholder(model.get(m))

    def _build_custom_form(self):
        f = self.state.custom_form
        for c in self.custom_controls:
            c.unwatch()
        label = pn.widgets.TextInput(label="name (optional)", value=f.label, placeholder="e.g. W 50 GeV",
                                     max_length=MAX_LABEL_CHARS, sizing_mode="stretch_width", margin=(5, 10),
                                     css_classes=["dap-custom-label"])
        label.link(f, value="label")
        beam = NumberControl(self.state, f, "beam_energy_gev", "beam energy", lo=1.0, hi=1000.0, unit="GeV",
                             error_key="custom.beam_energy_gev")
        target = pn.widgets.Select(label="target material", options=adapter.materials(), value=f.target,
                                   sizing_mode="stretch_width", margin=(5, 10), css_classes=["dap-custom-target"])
        target.link(f, value="target")
        thick = NumberControl(self.state, f, "thickness_x0", "thickness", unit="X₀",
                              error_key="custom.thickness_x0")
        xmin = NumberControl(self.state, f, "x_min", "x_min = E_miss/E₀ cut", error_key="custom.x_min")
        eot = NumberControl(self.state, f, "eot", "EOT", error_key="custom.eot")
        bkg = NumberControl(self.state, f, "background", "expected background", error_key="custom.background")
        obs = NumberControl(self.state, f, "observed", "observed events", error_key="custom.observed")
        self.custom_controls = [beam, thick, xmin, eot, bkg, obs]
        self.custom_label_alert = pn.pane.Alert("", alert_type="danger", visible=False, margin=(2, 10),
                                                css_classes=["dap-error", "dap-ctl-custom-label-error"])
        add = pn.widgets.Button(label="Add and compute its σ_V table", color="primary",
                                sizing_mode="stretch_width", margin=(8, 10), css_classes=["dap-custom-add"])
        add.on_click(guarded(lambda e: self._add_custom()))
        note = pn.pane.Markdown("The table is computed in the background with the σ_V method selected above; "
                                "its curve appears when the points land.",
                                styles={"font-size": "11px", "color": "#555"}, margin=(0, 10))
        return [label, self.custom_label_alert, beam.panel(), target,
                pn.Row(thick.panel(), xmin.panel(), sizing_mode="stretch_width"), eot.panel(),
                pn.Row(bkg.panel(), obs.panel(), sizing_mode="stretch_width"), add, note]

    @guarded
    def _add_custom(self):
        if any(k.startswith("custom.") for k in self.state.input_errors):
            self.state.validate()
            return
        self.state.add_custom()
        self._start_polling()

    # ------------------------------------------------------------------------------ reactions
    @guarded
    def _on_custom(self, *_):
        self.exp_select.options = self._exp_options()
        self.exp_select.value = list(self.state.experiments)
        self._build_exp_settings()
        self.show_notes()

    @guarded
    def _on_errors(self, *_):
        errs = self.state.errors
        for c in self.controls + self.exp_controls + self.custom_controls:
            c.set_error(errs.get(c.error_key))
        lab = errs.get("custom.label", "")
        if hasattr(self, "custom_label_alert"):
            self.custom_label_alert.object = style.plain(lab, limit=ERROR_CHARS)
            self.custom_label_alert.visible = bool(lab)
        blocking = self.state.blocking_errors()
        if blocking:
            self.invalid_alert.object = ("**Invalid input** — the plots keep the last valid state until it is "
                                         "fixed: " + "; ".join(style.plain(m, limit=ERROR_CHARS)
                                                              for m in blocking.values()))
        self.invalid_alert.visible = bool(blocking)

    @guarded
    def _on_tab(self, event):
        view = VIEWS[event.new]
        if self.state.view != view:
            self.state.view = view

    @guarded
    def _on_view(self, event):
        idx = VIEWS.index(event.new)
        if self.tabs.active != idx:
            self.tabs.active = idx
        if self.views[event.new].stale:
            self.refresh()

    @guarded
    def _on_revision(self, *_):
        for p in self.views.values():
            p.stale = True
        self.refresh()

    def refresh(self):
        """Update the active view (others are refreshed when shown) and the status area.

        The figures are raw Bokeh models: they may only be modified while this session's document lock is
        held. ``pn.state.execute`` runs the update now when that is the case (widget events) and otherwise
        (e.g. URL changes from the browser) on the next tick of the session's event loop."""
        pn.state.execute(self._refresh_now)

    @guarded
    def _refresh_now(self):
        if not self.state.valid:
            return
        view = self.views[self.state.view]
        try:
            # Panel may run this outside the Bokeh document lock (e.g. on URL/location events): `unlocked`
            # collects the model changes and dispatches them to the browser safely in every case
            with unlocked():
                self._last_refresh_s = view.refresh(self.state)
            if self.internal_alert.visible and self.internal_alert.object.startswith("**Could not update"):
                self.internal_alert.visible = False
        except adapter.InputError as exc:
            self.show_internal_error(f"**Could not update the {view.view} view**: {style.plain(exc, ERROR_CHARS)}")
        except Exception:
            log.exception("refresh of %s failed", view.view)
            self.show_internal_error(f"**Could not update the {view.view} view** (internal error, logged on the "
                                     "server); the last good plot is kept.")
        self.status.update(self.state)
        if self.state.pending():
            self._start_polling()

    def show_internal_error(self, msg: str):
        """Show a message above the views (Markdown: any user text in it must be ``style.plain`` already)."""
        self.internal_alert.object = msg
        self.internal_alert.visible = True

    def show_notes(self):
        """Show (once) what the state ignored, e.g. custom experiments of a link that are invalid or too many."""
        notes, self.state.notes[:] = list(self.state.notes), []
        if notes:
            self.show_internal_error("**Ignored**: " + "; ".join(style.plain(n, ERROR_CHARS) for n in notes[:6]))

    # ------------------------------------------------------------------------------ jobs
    def _start_polling(self):
        if self._periodic is not None or pn.state.curdoc is None:
            return
        try:
            self._periodic = pn.state.add_periodic_callback(self._tick, period=POLL_MS)
        except Exception:  # noqa: BLE001 - no server context (tests): callers poll explicitly
            self._periodic = None

    @guarded
    def _tick(self):  # periodic callbacks hold the document lock
        changed = self.state.poll()
        if not changed:
            self.status.update(self.state)
        if not self.state.pending() and self._periodic is not None:
            self._periodic.stop()
            self._periodic = None
            self.status.update(self.state)

    def cancel_jobs(self):
        self.state.cancel_jobs()
        self.status.update(self.state)

    def retry_jobs(self):
        self.state.retry()
        self._start_polling()

    # ------------------------------------------------------------------------------ page
    def template(self) -> pn.template.FastListTemplate:
        main = [
            pn.pane.Markdown(DESCRIPTION, sizing_mode="stretch_width", margin=(0, 10),
                             styles={"font-size": "14px"}),
            self.status.layout, self.invalid_alert, self.internal_alert, self.tabs,
        ]
        # one root per area: every extra document root makes Bokeh re-walk all models (slow session start)
        tpl = pn.template.FastListTemplate(
            title=TITLE, sidebar=[pn.Column(*self.sidebar, sizing_mode="stretch_width", margin=0)],
            main=[pn.Column(*main, sizing_mode="stretch_width", margin=0)], sidebar_width=SIDEBAR_WIDTH,
            header_background="#0b3d62", accent_base_color="#0b3d62", main_layout=None,
            raw_css=[CSS], theme_toggle=False,
            # no web font from a CDN: the dashboard must work offline (talks, air-gapped clusters)
            font="'Open Sans', 'DejaVu Sans', Helvetica, Arial, sans-serif", font_url="")
        return tpl

    def sync_url(self):
        """Reflect the state in the URL (and apply a shared URL to the state)."""
        loc = pn.state.location
        if loc is None:
            return
        loc.sync(self.state, URL_PARAMS, on_error=self._url_error)

    def _url_error(self, mapped: dict):
        bad = self.state.apply_many(mapped)
        if bad:
            self.show_internal_error("Ignored invalid link parameters: " + ", ".join(
                style.plain(URL_PARAMS.get(b, b), 40) for b in bad))


def _nv_placeholder(v) -> str:
    """Greyed text of an empty N_V box: the model value."""
    try:
        return f"model {float(v):.3g}"
    except (TypeError, ValueError):
        return "model"


def offline_resources() -> None:
    """Panel's Fast design links a Google-Fonts stylesheet, the only resource the page would fetch from the
    internet (offline — talks, clusters, CI — that is a console error and a stall). Remove it (idempotent,
    process-wide configuration: the same for every session); the font stack falls back to local fonts."""
    fast = pn.theme.fast.Fast
    if "font" in fast._resources:
        fast._resources = {k: v for k, v in fast._resources.items() if k != "font"}


def create_app() -> pn.template.FastListTemplate:
    """One independent session of the dashboard (call once per browser session)."""
    t0 = time.perf_counter()
    offline_resources()
    adapter.server_executor()     # once per process, connects in the background: never waits here
    app = DashboardApp()
    app.sync_url()
    app.show_notes()
    app.refresh()
    pn.state.on_session_destroyed(lambda ctx: app.state.release())
    tpl = app.template()
    tpl._dap_app = app  # handle for tests and benchmarks
    log.info("session created in %.3f s", time.perf_counter() - t0)
    return tpl
