"""Rendering — the one job of this module: one tab per view (live figure, caption, extra text, export) and
the status area of the σ_V tables.

A view gets its data dict (:mod:`dashboard.viewdata`), builds a :class:`dashboard.figures.FigureSpec` at
the chosen axis ranges and look, and draws it in place (:class:`dashboard.plots.LiveFigure`); exports
draw the same spec with matplotlib (:func:`dashboard.export.spec_bytes`) at the chosen size and font scale.
User text (labels, provenance that may echo a file) is always passed through :func:`dashboard.style.plain`.
"""

from __future__ import annotations

import dataclasses
import io
import time

import numpy as np
import panel as pn

from physics.xsec.methods import LABELS as METHOD_LABELS

from . import export, figures, plots, style
from .inputs import VIEW_TITLES

CAPTIONS = {
    **{v: style.CAPTIONS[v] for v in ("exclusion", "yields", "edm", "spectrum")},  # one definition: style
    "map": style.CAPTIONS["plane"] + (" One experiment, or the best (lowest) g₉₀ of the selected experiments at "
                                      "every point (hover: m_γD, m_a, g₉₀); the enabled channels combined, at the "
                                      "sidebar's α_D and m_χ rule. Grid and experiment: sidebar card \"Map tab: experiment and grid\"."),
}

#: the figure fills the window below the header, the status line and the tab bar (at least MIN_PLOT_PX)
PLOT_HEIGHT_CSS = "calc(100vh - 190px)"
MIN_PLOT_PX = 360


def edm_table_markdown(data: dict) -> str:
    """The paper's Table 2 at the current m_γD as Markdown (empty if there are no rows)."""
    rows = data.get("table") or []
    if not rows:
        return ""
    cutoffs = sorted({r["cutoff_GeV"] for r in rows})
    head = "| fermion | scenario | " + " | ".join(f"Λ = {c:g} GeV" for c in cutoffs) + " |"
    lines = [f"**Table 2** — bound on |g_aγγD g̃_af g_γDf| [GeV⁻¹] at m_γD = {data['m_gd_ref']:.4g} GeV", "", head,
             "|---|---|" + "---|" * len(cutoffs)]
    for f in ("e", "mu", "n"):
        for sc in ("light-alp", "degenerate"):
            vals = {r["cutoff_GeV"]: r["bound_GeV-1"] for r in rows if r["fermion"] == f and r["scenario"] == sc}
            lines.append(f"| {style.FERMION_LABELS[f]} | {style.SCENARIO_LABELS[sc]} | "
                         + " | ".join(f"{vals.get(c, float('nan')):.3e}" for c in cutoffs) + " |")
    lim = data.get("limits", {})
    lines += ["", "EDM limits: " + "; ".join(
        f"{style.FERMION_LABELS[k]} &#124;d&#124; < {v['value_ecm']:g} e·cm ({style.plain(v['experiment'])})"
        for k, v in lim.items())]
    return "\n".join(lines)


def extra_text(view: str, data: dict) -> str:
    """Markdown below a view's figure: Table 2 (EDM), the limits' statistics and the constraints' sources
    (exclusion), notes (spectrum). All user-influenced text is plain."""
    if view == "edm":
        return edm_table_markdown(data)
    if view == "exclusion":
        srcs = [f"**{style.plain(c['label'])}**: {style.plain(c['provenance'], 1000)}"
                for c in data.get("constraints", [])]
        stats = set()
        for a in (data.get("assumptions") or {}).values():
            st = a.get("statistics", {}) if isinstance(a, dict) else {}
            if st:
                stats.add(f"{st.get('method', '')} (N₉₀ = {st.get('N_90', float('nan')):.3g})")
        txt = ("Limits: Poisson " + ", ".join(sorted(stats)) + ". ") if stats else ""
        if srcs:
            txt += ("<details><summary>Sources of the shaded constraints</summary>\n\n" + "\n\n".join(srcs)
                    + "\n</details>")
        return txt
    if view == "spectrum" and data.get("notes"):
        return "\n".join(f"- {style.plain(n)}" for n in data["notes"])
    return ""


class ViewPanel:
    """One tab: the live figure, a caption, extra text, export buttons (PNG/SVG/PDF, CSV).

    ``source`` supplies what the view shows: ``source.view_data(view)`` → data dict, ``source.ranges(view)``
    → {"x": (lo, hi) | None, "y": (lo, hi) | None}, ``source.look()`` → figures.Look,
    ``source.export_options()`` → (size name, font scale), ``source.header_lines(view)`` → CSV header."""

    def __init__(self, source, view: str):
        self.source, self.view = source, view
        self.data: dict | None = None
        self.spec = None
        self.stale = True
        self.last_update_s = float("nan")
        self.live = None
        # the tab's column; its figure, caption and export buttons are made when the tab is first shown (a
        # session starts with one view: building all five figures was a fifth of a session's start-up cost)
        self.layout = pn.Column(name=VIEW_TITLES[view])

    def build(self):
        """Make the tab's figure, caption and export buttons (once) and put them in the tab."""
        if self.live is None:
            self._make()
            self._attach()

    def _attach(self):
        """Put the tab's parts in it: the figure and its export buttons only once it has been drawn (a tab
        first shown while an input is invalid shows its caption until the input is fixed)."""
        drawn = self.data is not None
        self.layout.objects = [self.pane, self.export_row, self.caption, self.extra] if drawn else \
            [self.caption, self.extra]

    def _make(self):
        self.live = plots.LiveFigure(self.view)
        self.live.fig.sizing_mode = "stretch_both"
        self.live.fig.height = None
        self.live.fig.min_height = MIN_PLOT_PX
        self.pane = pn.pane.Bokeh(self.live.fig, sizing_mode="stretch_width", min_height=MIN_PLOT_PX,
                                  styles={"height": PLOT_HEIGHT_CSS}, margin=(5, 5), css_classes=["dap-plot"])
        self.caption = pn.pane.Markdown(CAPTIONS[self.view], sizing_mode="stretch_width", margin=(0, 10),
                                        styles={"opacity": "0.8", "font-size": "13px"})
        self.extra = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10), css_classes=["dap-extra"])
        self.downloads = [
            pn.widgets.FileDownload(callback=self._download_cb(fmt), filename=export.filename(self.view, fmt),
                                    label=f"⬇ {fmt.upper()}", embed=False, auto=True, width=90, margin=(5, 5),
                                    css_classes=[f"dap-export-{fmt}"])
            for fmt in export.FORMATS + ("csv",)]
        self.export_row = pn.Row(pn.pane.Markdown("**Export this figure:**", margin=(5, 10), align="center"),
                                 *self.downloads, sizing_mode="stretch_width", align="center")
        # no sizing_mode here: the column takes the figure's (it stretches both ways to fill the window)

    @property
    def figure(self):
        """The Bokeh figure shown (renderers named ``dap:<key>``); made now if the tab was never shown."""
        self.build()
        return self.live.fig

    def refresh(self) -> float:
        """Recompute this view's data and update the figure in place; returns the wall time [s]."""
        t0 = time.perf_counter()
        # a tab shown for the first time: its figure goes to the browser drawn (data, axes, legend), not empty
        # and then changed — BokehJS lays a plot out wrongly when its axes and legend change while the plot is
        # first shown in a tab (a frame a few pixels wide, no axes, no legend)
        first = self.live is None
        if first:
            self._make()
            try:
                return self._draw(t0, first)
            finally:            # attached even when the first drawing failed: caption (and figure if drawn)
                if len(self.layout.objects) < 4:
                    self._attach()
        return self._draw(t0, first)

    def _draw(self, t0: float, first: bool) -> float:
        data = self.source.view_data(self.view)
        r = self.source.ranges(self.view)
        spec = figures.spec(self.view, data, r["x"], r["y"], self.source.look())
        self.live.render(spec)
        self.data, self.spec, self.stale = data, spec, False
        self.extra.object = extra_text(self.view, data)
        preset = data.get("preset")        # a paper preset (dashboard.presets): its caption first
        self.caption.object = f"{preset['caption']}\n\n{CAPTIONS[self.view]}" if preset else CAPTIONS[self.view]
        if first or len(self.layout.objects) < 4:
            self._attach()
        self.last_update_s = time.perf_counter() - t0
        return self.last_update_s

    def _download_cb(self, fmt):
        def cb():
            return self.export(fmt)
        return cb

    def export(self, fmt: str):
        """The file of this view as a file object (errors go to Panel's exception handler)."""
        if self.data is None or self.stale:
            from panel.io.document import unlocked

            with unlocked():
                self.refresh()
        if fmt == "csv":
            head = list(self.source.header_lines(self.view))
            if self.spec is not None:       # what the figure shows; the rows are every computed point
                head.append(f"axis ranges shown: x = [{self.spec.x_range[0]:.6g}, {self.spec.x_range[1]:.6g}], "
                            f"y = [{self.spec.y_range[0]:.6g}, {self.spec.y_range[1]:.6g}] (rows: all computed "
                            "points, also those outside)")
            return io.StringIO(export.csv_text(self.view, self.data, head))
        size, font_scale = self.source.export_options()
        look = dataclasses.replace(self.spec.look, font_scale=font_scale) if hasattr(self.spec, "look") else \
            figures.Look("export", font_scale=font_scale)
        r = self.source.ranges(self.view)
        spec = figures.spec(self.view, self.data, r["x"], r["y"], look)
        return io.BytesIO(export.spec_bytes(spec, fmt, size))


class StatusPanel:
    """Where every curve's σ_V table comes from (precomputed / cache / computing), progress, cancel, retry."""

    ICON = {"precomputed": "precomputed table", "cache": "from cache", "computing": "computing",
            "computed (now cached)": "computed (now cached)", "failed": "FAILED", "queued": "queued",
            "cancelled": "cancelled", "invalid settings": "invalid settings"}

    def __init__(self, on_cancel, on_retry):
        self.text = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10),
                                     styles={"font-size": "13px"}, css_classes=["dap-status"])
        self.progress = pn.indicators.Progress(label="σ_V tables", value=0, max=100, visible=False,
                                               sizing_mode="stretch_width", height=18, margin=(8, 10),
                                               bar_color="info", css_classes=["dap-progress"])
        self.progress_label = pn.pane.Markdown("", visible=False, margin=(0, 10), css_classes=["dap-progress-label"])
        self.cancel = pn.widgets.Button(label="Cancel computation", color="warning", visible=False, width=170,
                                        css_classes=["dap-cancel"])
        self.retry = pn.widgets.Button(label="Retry", color="primary", visible=False, width=90)
        self.cancel.on_click(lambda e: on_cancel())
        self.retry.on_click(lambda e: on_retry())
        self.layout = pn.Column(self.text, pn.Row(self.progress, self.cancel, self.retry, sizing_mode="stretch_width"),
                                self.progress_label, sizing_mode="stretch_width", margin=0)

    def update(self, rows: list[dict], method: str, note: str = "") -> None:
        parts = []
        for r in rows:
            s = self.ICON.get(r["source"], style.plain(r["source"]))
            if r["source"] == "computing":
                s += f" {r['done']}/{r['total'] or '?'}"
            if r["error"]:
                s += f" — {style.plain(r['error'], 160)}"     # may echo user values: plain text
            parts.append(f"**{style.plain(style.short_name(r['name']), 80)}**: {s}")
        text = (f"σ_V tables ({METHOD_LABELS[method]}): " + " · ".join(parts)) if parts else "No experiment selected."
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
