"""Publication files of the views (PNG, SVG, PDF) drawn from the same :class:`~dashboard.figures.FigureSpec`
as the live figure, and CSV files of their data.

The file renderer is thin: :func:`spec_figure` reads only the spec (labels, colours, dashes, widths, ranges,
notice) and draws it with the object-oriented matplotlib API — no pyplot global state, so concurrent sessions
cannot interfere. Widths convert px → pt with ``style.EXPORT_PT_PER_PX``; sizes are ``figures.EXPORT_SIZES``
(16:9 slide, single and double journal column) and fonts scale with the spec's Look.

Why not HoloViews' matplotlib backend (measured on this 2-core machine, ``python -m benchmarks export``):
``import holoviews`` + its matplotlib extension costs ~4.4 s in a fresh process and ``hv.render`` of a
~25-curve overlay ~1 s warm, before saving; its plotting classes also go through ``pyplot`` (``plt.figure``)
and replace the global ``rcParams`` for the duration of a render, which concurrent server sessions would
share. Plain matplotlib draws every view in well under the 2 s budget, cold and warm.

CSV files carry a ``#`` comment header stating every input (``DashboardState.header_lines``) and the provenance
of each curve.
"""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from physics.errors import InputError

from . import figures, style
from .figures import SCREEN, FigureSpec, Look

FORMATS = ("png", "svg", "pdf")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv"}
PNG_DPI = 300
#: the share of the figure's height for a legend below the axes (single-column size)
LEGEND_BELOW = 0.4
_MARKERS = {"star": "*", "circle": "o", "square": "s", "triangle": "^", "diamond": "D"}


def filename(view: str, ext: str) -> str:
    return f"dark_axion_portal_{view}.{ext}"


def _pt(px: float) -> float:
    return px * style.EXPORT_PT_PER_PX


# ------------------------------------------------------------------------------------ the file renderer
def spec_figure(spec: FigureSpec, size: str = "double") -> Figure:
    """The spec drawn on a matplotlib Figure (``size``: a key of ``figures.EXPORT_SIZES``). Every artist of a
    curve carries the curve key as its ``gid``; the legend lists ``spec.legend_entries()`` in order."""
    if size not in figures.EXPORT_SIZES:
        raise InputError("size", f"one of {', '.join(figures.EXPORT_SIZES)}", size)
    sz = figures.EXPORT_SIZES[size]
    look = spec.look
    theme = style.THEMES[look.theme]
    fg = theme["foreground"]
    base = sz.font_pt * look.font_scale
    fig = Figure(figsize=(sz.width_in, sz.height_in), layout="constrained", facecolor=theme["background"])
    # a paper preset's citation goes in a strip at the foot that the layout (axes, labels, legend) leaves free
    strip = _citation_in(spec, base, sz) / sz.height_in
    if strip:
        fig.get_layout_engine().set(rect=(0.0, strip, 1.0, 1.0 - strip))
    right = sz.legend == "right"
    entries = spec.legend_entries()
    if right or not entries:
        ax, lax = fig.add_subplot(), None
    else:       # legend below: a row of its own under the axes (its share of the height: LEGEND_BELOW)
        gs = fig.add_gridspec(2, 1, height_ratios=(1.0 - LEGEND_BELOW, LEGEND_BELOW))
        ax, lax = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
        lax.set_axis_off()
    ax.set_facecolor(theme["background"])
    ax.set_xscale("log" if spec.x_log else "linear")
    ax.set_yscale("log" if spec.y_log else "linear")
    ax.tick_params(which="both", direction="in", top=True, right=True, labelsize=0.9 * base, colors=fg)
    for sp in ax.spines.values():
        sp.set_color(fg)
    ax.grid(True, which="major", color=theme["grid"], lw=0.6)
    handles: dict[str, object] = {}
    for c in spec.curves:
        art = _draw(ax, fig, spec, c, base)
        art.set_gid(c.key)
        if c.legend and c.entry not in handles:
            handles[c.entry] = art
    ax.set_xlim(*spec.x_range)
    ax.set_ylim(*spec.y_range)
    # long titles and legend labels are wrapped (at spaces) to fit: the axes' width for the title, a share of
    # the figure for the legend — large export fonts made them run off the figure or into each other
    # the axes' width: the figure's less the y label and tick labels (~4.5 font sizes) and a legend beside them
    axes_in = sz.width_in * (0.55 if right else 1.0) - 4.5 * base / 72.0
    ax.set_title(_wrap(style.mpl_text(spec.title), axes_in * 72.0 / (0.6 * 1.1 * base)), fontsize=1.1 * base,
                 color=fg)
    ax.set_xlabel(_wrap(style.mpl_text(spec.x_label), axes_in * 72.0 / (0.6 * base)), fontsize=base, color=fg)
    axes_h = sz.height_in * (1.0 if right else 1.0 - LEGEND_BELOW) - 5.0 * base / 72.0
    ax.set_ylabel(_wrap(style.mpl_text(spec.y_label), axes_h * 72.0 / (0.6 * base)), fontsize=base, color=fg)
    if entries:
        # explicit handles and labels: a label starting with "_" stays in the legend. Beside the axes (one
        # column) or below them (one column, the figure's lower part); the font fits the legend's share of the
        # figure (a character is ~0.55 em wide, the handle ~4 em, a line ~1.75 em high with spacing)
        labels = [_wrap(style.mpl_text(lab), 44 if right else 60) for _, lab in entries]
        lines = sum(lab.count("\n") + 1 for lab in labels)
        chars = max(len(part) for lab in labels for part in lab.split("\n"))
        # (below: its row's share of what the citation leaves, less the row's padding)
        room_in = sz.height_in * (1.0 - strip) if right else 0.9 * LEGEND_BELOW * sz.height_in * (1.0 - strip)
        fontsize = min(0.85 * base, 72.0 * room_in / (1.75 * lines + 1.0),
                       72.0 * sz.width_in * (0.4 if right else 0.95) / (0.6 * chars + 4.0))
        hs = [handles[k] for k, _ in entries]
        # markers (the current point) at most a font size in the legend: a plot-sized star covered the text
        ms = max((h.get_markersize() for h in hs if hasattr(h, "get_markersize") and h.get_marker() not in
                  (None, "None", "")), default=0.0)
        kw = dict(fontsize=fontsize, frameon=False, handlelength=3.2, labelcolor=fg,
                  markerscale=min(1.0, fontsize / ms) if ms else 1.0)
        def make(size):
            kw.update(fontsize=size, markerscale=min(1.0, size / ms) if ms else 1.0)
            return fig.legend(hs, labels, loc="outside right upper", **kw) if right else \
                lax.legend(hs, labels, loc="upper center", **kw)

        leg = make(fontsize)
        # the estimate above, checked after laying the figure out: a legend taller than its room (the row below
        # the axes, or the figure's height) is made again with a font that fits
        renderer = FigureCanvasAgg(fig).get_renderer()
        for _ in range(2):
            fig.get_layout_engine().execute(fig)
            room = (fig.bbox.height * (1.0 - strip) if right else lax.get_window_extent(renderer).height) * 0.98
            height = leg.get_window_extent(renderer).height
            if height <= room:
                break
            leg.remove()
            fontsize *= room / height
            leg = make(fontsize)
        leg.set_gid("legend")
    if spec.citation:       # the source at the foot (also in the file's metadata), in the strip left free
        fig.text(0.01, 0.004, _citation_lines(spec, base, sz), fontsize=0.7 * base, color=fg, ha="left",
                 va="bottom", gid="citation")
    if spec.notice:
        ax.text(0.02, 0.03, style.mpl_text("\n".join(textwrap.wrap(spec.notice, 70 if sz.legend == "right" else 40))),
                transform=ax.transAxes, fontsize=base, color=theme["notice"], va="bottom", gid="notice",
                bbox=dict(facecolor=theme["background"], alpha=0.85, edgecolor="none"))
    return fig


def _citation_lines(spec: FigureSpec, base: float, sz) -> str:
    return _wrap(style.mpl_text(spec.citation), sz.width_in * 72.0 / (0.6 * 0.7 * base)) if spec.citation else ""


def _citation_in(spec: FigureSpec, base: float, sz) -> float:
    """Height of the citation strip at the foot [in] (0 without a citation)."""
    text = _citation_lines(spec, base, sz)
    return (text.count("\n") + 1) * 1.5 * 0.7 * base / 72.0 + 0.3 * 0.7 * base / 72.0 if text else 0.0


def _wrap(text: str, chars: float) -> str:
    """``text`` broken at spaces into lines of at most ``chars`` characters (at least 16)."""
    return "\n".join(textwrap.wrap(text, max(16, int(chars)), break_on_hyphens=False, break_long_words=False)) \
        or text


def _draw(ax, fig, spec: FigureSpec, c, base: float):
    """One curve; returns its artist (the legend handle)."""
    kind = c.kind
    if kind in ("line", "step"):
        x, y = figures.step_xy(c.x, c.y) if kind == "step" else (c.x, c.y)
        (art,) = ax.plot(x, y, color=c.colour, ls=style.mpl_dash(c.dash, c.width), lw=_pt(c.width), alpha=c.alpha)
        return art
    if kind == "band":
        return ax.fill_between(c.x, c.y, c.y2, color=c.colour, alpha=c.alpha, lw=0)
    if kind == "region":
        return ax.axvspan(float(c.x[0]), float(c.x[1]), color=c.colour, alpha=c.alpha, lw=0)
    if kind == "marker":
        (art,) = ax.plot(c.x, c.y, ls="none", marker=_MARKERS.get(c.marker, "o"), ms=_pt(c.size), mfc=c.colour,
                         mec=style.THEMES[spec.look.theme]["foreground"], color=c.colour)
        return art
    if kind == "image":
        art = ax.pcolormesh(c.x, c.y, np.ma.masked_invalid(np.asarray(c.z, dtype=float)), cmap=c.palette,
                            vmin=c.z_range[0], vmax=c.z_range[1], shading="flat", edgecolors="face",
                            linewidth=0.3, rasterized=True)
        ax.set_axisbelow(True)        # the grid under the colour map, not over it
        cb = fig.colorbar(art, ax=ax)
        cb.set_label(style.mpl_text(c.z_label), fontsize=base)
        return art
    raise ValueError(f"unknown curve kind {kind!r}")  # pragma: no cover - FigureSpec checks kinds


def spec_bytes(spec: FigureSpec, fmt: str, size: str = "double") -> bytes:
    """The spec as PNG (300 dpi), SVG or PDF bytes at an export size ("slide", "single", "double")."""
    if fmt not in FORMATS:
        raise InputError("format", f"one of {', '.join(FORMATS)}", fmt)
    fig = spec_figure(spec, size)
    buf = io.BytesIO()
    meta = {"Title": f"Dark Axion Portal Explorer: {spec.view}"} if fmt in ("pdf", "svg") else None
    if spec.citation:
        if fmt == "pdf":
            meta["Subject"] = spec.citation
        elif fmt == "svg":
            meta["Description"] = spec.citation
        else:
            meta = {"Description": spec.citation}
    # (dpi: the PNG's resolution, and in SVG/PDF that of the rasterised map cells)
    fig.savefig(buf, format=fmt, dpi=PNG_DPI, metadata=meta,
                facecolor=fig.get_facecolor())
    return buf.getvalue()


def figure_bytes(view: str, data: dict, x_range, fmt: str, *, y_range=None, look: Look = SCREEN,
                 size: str = "double") -> bytes:
    """The view's figure from its data dict (``x_range``: the m_γD range [GeV]; ignored for the spectrum,
    whose x axis is E_miss/E₀ ∈ [0, 1]) as PNG/SVG/PDF bytes."""
    if fmt not in FORMATS:
        raise InputError("format", f"one of {', '.join(FORMATS)}", fmt)
    return spec_bytes(figures.spec(view, data, None if view == "spectrum" else x_range, y_range, look), fmt, size)


# ------------------------------------------------------------------------------------ CSV
def _compact(obj, depth=0):
    """JSON-able, with long arrays summarised (for the assumptions in CSV headers)."""
    if isinstance(obj, dict):
        return {str(k): _compact(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        arr = list(np.asarray(obj).ravel()) if isinstance(obj, np.ndarray) else list(obj)
        if len(arr) > 8:
            try:
                a = np.asarray(arr, dtype=float)
                lo, hi = np.nanmin(a), np.nanmax(a)
                if lo == hi:
                    return f"{len(arr)} values, all {lo:.4g}"
                return f"array of {len(arr)} values in [{lo:.4g}, {hi:.4g}]"
            except (TypeError, ValueError):
                return f"list of {len(arr)} items"
        return [_compact(v, depth + 1) for v in arr]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj if isinstance(obj, (str, int, bool, type(None))) else str(obj)


def _num(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "" if not math.isfinite(v) else repr(v)


def csv_text(view: str, data: dict, header_lines: list[str]) -> str:
    """CSV of the curves behind a view, with a ``#`` header stating every input and provenance."""
    out = io.StringIO()
    head = list(header_lines)
    rows: list[list] = []
    if view == "exclusion":
        for eid, a in (data.get("assumptions") or {}).items():
            head.append(f"assumptions {eid}: {json.dumps(_compact(a), ensure_ascii=False)}")
        for c in data["constraints"]:
            head.append(f"constraint {c['label']}: {c['provenance']}")
        head.append("columns: kind (reach | reach_band | constraint_upper: excluded above g | constraint_band: "
                    "excluded between "
                    "g and g_upper, empty g_upper = above the plotted range | current_point), name, channel, "
                    "m_gd_GeV, m_a_GeV, g_GeV-1, g_upper_GeV-1")
        cols = ["kind", "name", "channel", "m_gd_GeV", "m_a_GeV", "g_GeV-1", "g_upper_GeV-1"]
        if data.get("bands"):
            head.append("uncertainty bands (docs/physics.md#uncertainty-bands): kind reach_band, g = lower edge, "
                        "g_upper = upper edge = envelope of the variations; per experiment the variations used: "
                        + "; ".join(f"{k}: {', '.join(v)}" for k, v in (data.get("band_sources") or {}).items()))
        for c in data["curves"]:
            m_a = c.get("m_a", np.full(len(c["m"]), np.nan))
            for m, ma, g in zip(c["m"], m_a, c["g"]):
                rows.append(["reach", c["experiment"], c["channel"], _num(m), _num(ma), _num(g), ""])
            band = c.get("band")
            if band is not None:
                for m, ma, lo, hi in zip(c["m"], m_a, band["lo"], band["hi"]):
                    rows.append(["reach_band", c["experiment"], c["channel"], _num(m), _num(ma), _num(lo), _num(hi)])
        for c in data["constraints"]:
            if c["kind"] == "upper":
                m_a = c.get("m_a", np.full(len(c["m"]), np.nan))
                for m, ma, g in zip(c["m"], m_a, c["g"]):
                    rows.append(["constraint_upper", c["label"], "", _num(m), _num(ma), _num(g), ""])
            else:
                for m, lo, hi in zip(c["m"], c["lo"], c["hi"]):
                    rows.append(["constraint_band", c["label"], "", _num(m), "", _num(lo), _num(hi)])
        pt = data["point"]
        rows.append(["current_point", "", "", _num(pt["m_gd"]), _num(pt["m_a"]), _num(pt["g"]), ""])
    elif view == "yields":
        for eid, v in data["n_up"].items():
            head.append(f"N_90 {eid} = {v:.6g} events (physics.signal.statistics CLs, 90% CL)")
        cols = ["experiment", "channel", "m_gd_GeV", "m_a_GeV", "g_GeV-1", "events"]
        for c in data["curves"]:
            m_a = c.get("m_a", np.full(len(c["m"]), np.nan))
            for m, ma, n in zip(c["m"], m_a, c["n"]):
                rows.append([c["experiment"], c["channel"], _num(m), _num(ma), _num(data["g"]), _num(n)])
    elif view == "edm":
        for f, lim in (data.get("limits") or {}).items():
            head.append(f"EDM limit {f}: |d| < {lim['value_ecm']:g} e cm ({lim['cl']:g} CL), {lim['experiment']}; "
                        f"{lim['citation']}")
        head.append("kind curve: bound vs m_gd at cutoff; kind table2: the paper's Table 2 at m_gd_ref")
        cols = ["kind", "fermion", "scenario", "m_gd_GeV", "m_a_GeV", "cutoff_GeV", "bound_GeV-1"]
        for c in data["curves"]:
            m_a = c["m"] if c["scenario"] == "degenerate" else np.full(len(c["m"]), c.get("m_a_light", np.nan))
            for m, ma, b in zip(c["m"], m_a, c["bound"]):
                rows.append(["curve", c["fermion"], c["scenario"], _num(m), _num(ma),
                             _num(c.get("cutoff", data["cutoff"])), _num(b)])
        for r in data["table"]:
            rows.append(["table2", r["fermion"], r["scenario"], _num(r["m_gd_GeV"]), _num(r["m_a_GeV"]),
                         _num(r["cutoff_GeV"]), _num(r["bound_GeV-1"])])
    elif view == "spectrum":
        pt = data["point"]
        head.append(f"point: m_gd = {pt['m_gd']:.6g} GeV, m_a = {pt['m_a']:.6g} GeV, g = {pt['g']:.6g} GeV^-1; "
                    "brem channel e N -> e N a gD (physics.xsec.factorisation.dsigma_portal_dx_pb)")
        for n in data.get("notes", []):
            head.append(f"note: {n}")
        for c in data.get("cuts", []):
            head.append(f"cut: {c['experiment']} ({c['exp_id']}): {c['x_min']:.6g} <= x <= {c['x_max']:.6g} "
                        f"(E_miss >= {c['x_min'] * c['beam_energy_gev']:.6g} GeV); share of brem sigma inside: "
                        f"{_num(c.get('fraction', float('nan')))}")
        cols = ["experiment", "x_low", "x_high", "dsigma_dx_pb_per_atom"]
        for s in data["spectra"]:
            e = np.asarray(s["x_edges"])
            for lo, hi, v in zip(e[:-1], e[1:], s["dsdx_pb"]):
                rows.append([s["experiment"], _num(lo), _num(hi), _num(v)])
    elif view == "map":
        head.append("columns: m_gd_GeV, m_a_GeV, g90_GeV-1 (empty: no limit), experiment (the one setting g90)")
        cols = ["m_gd_GeV", "m_a_GeV", "g90_GeV-1", "experiment"]
        g, best = np.asarray(data["g90"], dtype=float), data.get("best")
        for i, ma in enumerate(data["m_a"]):
            for j, m in enumerate(data["m_gd"]):
                rows.append([_num(m), _num(ma), _num(g[i, j]), "" if best is None else best[i][j]])
    else:
        raise ValueError(f"unknown view {view!r}")
    for line in head:
        out.write("# " + line.replace("\n", " ") + "\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    w.writerows(rows)
    return out.getvalue()
