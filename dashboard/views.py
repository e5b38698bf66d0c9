"""Main-area panels: one :class:`ViewPanel` per view (figure, caption, export buttons) and the status area."""

from __future__ import annotations

import io
import logging
import time

import numpy as np
import panel as pn

from physics.methods import LABELS as METHOD_LABELS

from . import export, plots, style
from .controls import guarded
from .state import VIEW_TITLES, DashboardState

log = logging.getLogger("dashboard.views")

CAPTIONS = {
    "exclusion": ("Expected 90% CL upper limits on g_aγγD for an invisibly decaying dark photon (γD → χχ̄ "
                  "dominant). Thick lines: all enabled channels combined; thin lines: single channels (brem = "
                  "e N → e N a γD via σ_V tables, mesons via V → a γD), each with the experiment's missing-energy "
                  "cut x_min (sidebar, per experiment). Shaded: other constraints (hover for source). ★: the "
                  "current (m_γD, g)."),
    "yields": ("Expected signal events at the chosen g_aγγD, per channel (colour) and experiment (dash) — "
               "bremsstrahlung-like production vs vector-meson decays V → a γD (paper Fig. 3), above each "
               "experiment's cut x_min. The red line is the 90% CL event limit of the experiment's "
               "background/observed counts."),
    "edm": ("One-loop EDM bounds on the CP-odd coupling product at UV cut-off Λ for the electron, muon and "
            "neutron (paper Fig. 6): solid m_a ≪ m_γD, dashed m_a = m_γD; the thick pair is the scenario of the "
            "sidebar. Table: the paper's Table 2 at the current m_γD."),
    "spectrum": ("Missing-energy spectrum dσ/dx of the bremsstrahlung-like channel at the current (m_a, m_γD, g) "
                 "over the whole 0 ≤ x ≤ 1 (σ_V table bins — 0.025 wide up to x = 0.9, then 10 per decade of "
                 "1 − x — factorised over the a γD invariant mass). Shaded: the region each experiment's cut "
                 "rejects (x < x_min); the legend gives E_miss ≥ x_min E₀ and the share of the brem cross section "
                 "kept. The cut is applied to the same table: moving it recomputes nothing. Meson channels: the "
                 "vector meson carries the energy k of the bremsstrahlung photon that made it (E_miss = k), so "
                 "their yields N_V count photons with x_min E₀ < k < E₀ (physics.meson_yields) — they follow "
                 "the cut too, through the photon spectrum, not through this brem spectrum."),
}


class ViewPanel:
    """One tab: the live figure, a caption, export buttons (PNG/SVG/PDF via matplotlib, CSV)."""

    def __init__(self, app, view: str):
        self.app = app
        self.view = view
        self.figure = {"exclusion": plots.ExclusionFigure, "yields": plots.YieldsFigure, "edm": plots.EdmFigure,
                       "spectrum": plots.SpectrumFigure}[view]()
        self.pane = pn.pane.Bokeh(self.figure.fig, sizing_mode="stretch_width", min_height=plots.HEIGHT,
                                  margin=(5, 5))
        self.caption = pn.pane.Markdown(CAPTIONS[view], sizing_mode="stretch_width", margin=(0, 10),
                                        styles={"color": "#444", "font-size": "13px"})
        self.extra = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self.data: dict | None = None
        self.x_range = (1e-3, 1.0)
        self.stale = True
        self.last_update_s = float("nan")
        self.downloads = []
        for fmt in export.FORMATS + ("csv",):
            w = pn.widgets.FileDownload(callback=self._download_cb(fmt), filename=export.filename(view, fmt),
                                        label=f"⬇ {fmt.upper()}", color="default", embed=False, auto=True,
                                        width=90, margin=(5, 5), css_classes=[f"dap-export-{fmt}"])
            self.downloads.append(w)
        self.layout = pn.Column(
            self.pane,
            pn.Row(pn.pane.Markdown("**Export this figure:**", margin=(5, 10), align="center"), *self.downloads,
                   sizing_mode="stretch_width", align="center"),
            self.caption, self.extra, sizing_mode="stretch_width", name=VIEW_TITLES[view])

    # -- updating ----------------------------------------------------------------------------------
    def refresh(self, state: DashboardState) -> float:
        """Recompute this view's data and update the figure in place; returns the wall time [s]."""
        t0 = time.perf_counter()
        data = state.view_data(self.view)
        x_range = (float(state.m_gd_min), float(state.m_gd_max))
        if self.view == "spectrum":
            self.figure.render(data)
        else:
            self.figure.render(data, x_range)
        self.data, self.x_range, self.stale = data, x_range, False
        self.extra.object = self._extra_text(data)
        self.last_update_s = time.perf_counter() - t0
        return self.last_update_s

    def _extra_text(self, data) -> str:
        if self.view == "edm" and data.get("table"):
            rows = data["table"]
            cutoffs = sorted({r["cutoff_GeV"] for r in rows})
            head = "| fermion | scenario | " + " | ".join(f"Λ = {c:g} GeV" for c in cutoffs) + " |"
            sep = "|---|---|" + "---|" * len(cutoffs)
            lines = [f"**Table 2** — bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] at m_γD = {data['m_gd_ref']:.4g} GeV",
                     "", head, sep]
            for f in ("e", "mu", "n"):
                for sc in ("light-alp", "degenerate"):
                    vals = {r["cutoff_GeV"]: r["bound_GeV-1"] for r in rows if r["fermion"] == f and r["scenario"] == sc}
                    lines.append(f"| {style.FERMION_LABELS[f]} | {style.SCENARIO_LABELS[sc]} | "
                                 + " | ".join(f"{vals.get(c, float('nan')):.3e}" for c in cutoffs) + " |")
            lim = data.get("limits", {})
            lines.append("")
            lines.append("EDM limits: " + "; ".join(
                f"{style.FERMION_LABELS[k]} &#124;d&#124; < {v['value_ecm']:g} e·cm ({style.plain(v['experiment'])})"
                for k, v in lim.items()))
            return "\n".join(lines)
        if self.view == "exclusion":
            srcs = [f"**{style.plain(c['label'])}**: {style.plain(c['provenance'], 1000)}"
                    for c in data.get("constraints", [])]
            stats = set()
            for a in (data.get("assumptions") or {}).values():
                st = a.get("statistics", {}) if isinstance(a, dict) else {}
                if st:
                    stats.add(f"{st.get('method', '')} (N₉₀ = {st.get('N_90', float('nan')):.3g})")
            txt = ""
            if stats:
                txt += "Limits: Poisson " + ", ".join(sorted(stats)) + ". "
            if srcs:
                txt += "<details><summary>Sources of the shaded constraints</summary>\n\n" + "\n\n".join(srcs) + \
                       "\n</details>"
            return txt
        if self.view == "spectrum" and data.get("notes"):
            return "\n".join(f"- {style.plain(n)}" for n in data["notes"])
        return ""

    # -- export ------------------------------------------------------------------------------------
    def _download_cb(self, fmt):
        def cb():
            return self._export(fmt)
        return cb

    def _export(self, fmt):
        try:
            state = self.app.state
            if self.data is None or self.stale:
                from panel.io.document import unlocked

                with unlocked():
                    self.refresh(state)
            if fmt == "csv":
                text = export.csv_text(self.view, self.data, state.header_lines(self.view))
                return io.StringIO(text)
            return io.BytesIO(export.figure_bytes(self.view, self.data, self.x_range, fmt))
        except Exception:
            log.exception("export %s/%s failed", self.view, fmt)
            self.app.show_internal_error(f"export of {self.view} as {fmt.upper()} failed")
            return io.StringIO("export failed; see the message in the dashboard\n")


class StatusPanel:
    """Where every curve's σ_V table comes from (precomputed / cache / computing), progress, cancel, retry."""

    def __init__(self, app):
        self.app = app
        self.text = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10),
                                     styles={"font-size": "13px"}, css_classes=["dap-status"])
        self.progress = pn.indicators.Progress(label="σ_V tables", value=0, max=100, visible=False,
                                               sizing_mode="stretch_width", height=18, margin=(8, 10),
                                               bar_color="info", css_classes=["dap-progress"])
        self.progress_label = pn.pane.Markdown("", visible=False, margin=(0, 10), css_classes=["dap-progress-label"])
        self.cancel = pn.widgets.Button(label="Cancel computation", color="warning", visible=False, width=170,
                                        css_classes=["dap-cancel"])
        self.retry = pn.widgets.Button(label="Retry", color="primary", visible=False, width=90)
        self.cancel.on_click(guarded(lambda e: self.app.cancel_jobs()))
        self.retry.on_click(guarded(lambda e: self.app.retry_jobs()))
        self.layout = pn.Column(
            self.text,
            pn.Row(self.progress, self.cancel, self.retry, sizing_mode="stretch_width"),
            self.progress_label, sizing_mode="stretch_width", margin=0)

    def update(self, state: DashboardState):
        rows = state.status_rows()
        icon = {"precomputed": "precomputed table", "cache": "from cache", "computing": "computing",
                "computed (now cached)": "computed (now cached)", "failed": "FAILED", "queued": "queued",
                "cancelled": "cancelled", "invalid settings": "invalid settings"}
        parts = []
        for r in rows:
            s = icon.get(r["source"], style.plain(r["source"]))
            if r["source"] == "computing":
                s += f" {r['done']}/{r['total'] or '?'}"
            if r["error"]:
                s += f" — {style.plain(r['error'], 160)}"     # may echo user values: plain text
            parts.append(f"**{style.plain(style.short_name(r['name']), 80)}**: {s}")
        method = METHOD_LABELS[state.method]
        text = (f"σ_V tables ({method}): " + " · ".join(parts)) if parts else "No experiment selected."
        note = state.executor_note()
        if note:
            text += f"\n\n*{style.plain(note)}*"
        self.text.object = text
        pending = [r for r in rows if r["source"] == "computing"]
        if pending:
            done = sum(r["done"] for r in pending)
            total = sum(max(r["total"], 1) for r in pending)
            self.progress.value = int(100 * done / total) if total else 0
            self.progress_label.object = f"computing {len(pending)} table(s): {done}/{total} mass points"
        self.progress.visible = bool(pending)
        self.progress_label.visible = bool(pending)
        self.cancel.visible = bool(pending) or any(r["source"] == "queued" for r in rows)
        self.retry.visible = any(r["source"] in ("failed", "cancelled") for r in rows)


def finite_range(arr) -> tuple[float, float]:
    a = np.asarray(arr, dtype=float)
    a = a[np.isfinite(a)]
    return (float(a.min()), float(a.max())) if a.size else (float("nan"), float("nan"))
