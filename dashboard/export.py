"""Publication-quality figures (matplotlib: PNG, SVG, PDF) and CSV files of the four views.

Figures are drawn from the same data dicts as the interactive views (``DashboardState.*_data``), with the
object-oriented matplotlib API (no pyplot global state, so concurrent sessions cannot interfere) and no
browser. CSV files carry a ``#`` comment header stating every input (``DashboardState.header_lines``) and
the provenance of each curve.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
from matplotlib.figure import Figure

from . import style

FORMATS = ("png", "svg", "pdf")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv"}
PNG_DPI = 300

M_LABEL = r"$m_{\gamma_D}$ [GeV]"
G_LABEL = r"$g_{a\gamma\gamma_D}$ [GeV$^{-1}$]"


def filename(view: str, ext: str) -> str:
    return f"dark_axion_portal_{view}.{ext}"


def _new_figure(width=7.5, height=5.0) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    ax.tick_params(which="both", direction="in", top=True, right=True, labelsize=10)
    ax.grid(True, which="major", alpha=0.25, lw=0.6)
    return fig, ax


def _finite_pos(*arrays):
    vals = [np.asarray(a, dtype=float).ravel() for a in arrays if a is not None and np.size(a)]
    if not vals:
        return np.array([])
    v = np.concatenate(vals)
    return v[np.isfinite(v) & (v > 0)]


def _legend(ax, n_items: int):
    if n_items == 0:
        return
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, handlelength=3.2)


# ------------------------------------------------------------------------------------ figures
def exclusion_figure(data: dict, x_range) -> Figure:
    from .plots import ExclusionFigure

    fig, ax = _new_figure(8.0, 5.0)
    y_lo, y_hi = ExclusionFigure.y_limits(data)
    n_items = 0
    for c in data["constraints"]:
        color = style.CONSTRAINT_COLORS.get(c["key"], "#999")
        m, lo, hi, ok = style.constraint_band(c, y_hi)
        if not ok.any():
            continue
        ax.fill_between(m[ok], lo[ok], hi[ok], color=color, alpha=0.35, lw=0,
                        label=f"{c['label']} ({style.cite(c['provenance'])})")
        ax.plot(m[ok], lo[ok], color=color, lw=1.0)
        n_items += 1
    channels = []
    for c in data["curves"]:
        ch = c["channel"]
        total = ch == "total"
        ax.plot(c["m"], c["g"], color=style.experiment_color(c), ls=style.mpl_dash(style.CHANNEL_DASH.get(ch, "solid")),
                lw=2.2 if total else 1.0, alpha=1.0 if total else 0.85,
                label=style.mpl_text(style.short_name(c["experiment"])) if total else None)
        n_items += total
        if not total and ch not in channels:
            channels.append(ch)
    for ch in channels:
        ax.plot([], [], color="#444", lw=1.0, ls=style.mpl_dash(style.CHANNEL_DASH[ch]),
                label=f"channel {style.CHANNEL_LABELS[ch]}")
        n_items += 1
    pt = data["point"]
    ax.plot([pt["m_gd"]], [pt["g"]], marker="*", ms=13, color="#E41A1C", mec="k", ls="none",
            label=r"current ($m_{\gamma_D}$, $g$)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*x_range)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel(M_LABEL, fontsize=12)
    ax.set_ylabel(G_LABEL, fontsize=12)
    ax.set_title(r"90% CL reach, invisible $\gamma_D$" + style.method_tag(data), fontsize=12)
    _legend(ax, n_items + 1)
    return fig


def yields_figure(data: dict, x_range) -> Figure:
    from .plots import yields_ylim

    fig, ax = _new_figure(8.0, 5.0)
    exp_ids = list(dict.fromkeys(c["exp_id"] for c in data["curves"]))
    dash_of = {e: style.EXPERIMENT_DASH[i % len(style.EXPERIMENT_DASH)] for i, e in enumerate(exp_ids)}
    seen = set()
    for c in data["curves"]:
        ch = c["channel"]
        y = np.where(np.asarray(c["n"]) > 0, c["n"], np.nan)
        ax.plot(c["m"], y, color=style.CHANNEL_COLORS.get(ch, "#333"), ls=style.mpl_dash(dash_of[c["exp_id"]]),
                lw=1.6, label=style.CHANNEL_LABELS.get(ch, ch) if ch not in seen else None)
        seen.add(ch)
    for e in exp_ids:
        name = next(c["experiment"] for c in data["curves"] if c["exp_id"] == e)
        ax.plot([], [], color="#444", ls=style.mpl_dash(dash_of[e]), lw=1.2, label=style.mpl_text(style.short_name(name)))
    for v in sorted({round(v, 6) for v in data["n_up"].values() if np.isfinite(v) and v > 0}):
        ax.axhline(v, color="#E41A1C", ls="--", lw=1.0, label=rf"$N_{{90}}$ = {v:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*x_range)
    ax.set_ylim(*yields_ylim(data["curves"], data["n_up"]))
    ax.set_xlabel(M_LABEL, fontsize=12)
    ax.set_ylabel("expected signal events", fontsize=12)
    ax.set_title(rf"Signal events at $g_{{a\gamma\gamma_D}}$ = {data['g']:.3g} GeV$^{{-1}}$"
                 + style.method_tag(data), fontsize=12)
    _legend(ax, len(seen) + len(exp_ids) + 1)
    return fig


def edm_figure(data: dict, x_range) -> Figure:
    fig, ax = _new_figure(8.0, 5.0)
    for c in data["curves"]:
        f, sc = c["fermion"], c["scenario"]
        ax.plot(c["m"], c["bound"], color=style.FERMION_COLORS[f], ls=style.mpl_dash(style.SCENARIO_DASH[sc]),
                lw=2.2 if c["current"] else 1.2,
                label=f"{style.FERMION_LABELS[f]}, " + (r"$m_a \ll m_{\gamma_D}$" if sc == "light-alp"
                                                       else r"$m_a = m_{\gamma_D}$"))
    v = _finite_pos(*[c["bound"] for c in data["curves"]])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*x_range)
    if v.size:
        ax.set_ylim(10 ** math.floor(math.log10(v.min() / 2)), 10 ** math.ceil(math.log10(v.max() * 2)))
    ax.set_xlabel(M_LABEL, fontsize=12)
    ax.set_ylabel(r"$|g_{a\gamma\gamma_D}\,\tilde g_{af}\,g_{\gamma_D f}|$ [GeV$^{-1}$]", fontsize=12)
    ax.set_title(rf"EDM bounds, $\Lambda$ = {data['cutoff']:.4g} GeV", fontsize=12)
    _legend(ax, len(data["curves"]))
    return fig


def spectrum_figure(data: dict) -> Figure:
    from .plots import cut_label, spectrum_ylim, step_xy

    fig, ax = _new_figure(8.0, 5.0)
    vals = []
    for i, s in enumerate(data["spectra"]):
        color = style.experiment_color(s)
        x, y = step_xy(s["x_edges"], s["dsdx_pb"])
        y = np.where(y > 0, y, np.nan)
        vals.append(y)
        ax.plot(x, y, color=color, lw=1.6,
                label=style.mpl_text(f"{style.short_name(s['experiment'])} ({s['beam_energy_gev']:g} GeV, {s['target']})"))
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    if _finite_pos(*vals).size:
        ax.set_ylim(*spectrum_ylim(vals))
    for c in data.get("cuts", []):          # the region each experiment's cut rejects, as in the live view
        color = style.experiment_color(c)
        ax.axvspan(0.0, c["x_min"], color=color, alpha=0.12, lw=0, label=style.mpl_text(cut_label(c)))
        ax.axvline(c["x_min"], color=color, ls="--", lw=1.0)
        if c.get("x_max", 1.0) < 1.0:
            ax.axvspan(c["x_max"], 1.0, color=color, alpha=0.12, lw=0)
    pt = data["point"]
    ax.set_xlabel(r"$x = E_\mathrm{miss}/E_0$", fontsize=12)
    ax.set_ylabel(r"$d\sigma/dx$ [pb per atom]", fontsize=12)
    ax.set_title(rf"$m_{{\gamma_D}}$ = {pt['m_gd']:.3g} GeV, $m_a$ = {pt['m_a']:.3g} GeV, "
                 rf"$g$ = {pt['g']:.3g} GeV$^{{-1}}$ (brem)" + style.method_tag(data), fontsize=11)
    _legend(ax, len(data["spectra"]) + len(data.get("cuts", [])))
    return fig


def make_figure(view: str, data: dict, x_range) -> Figure:
    if view == "exclusion":
        return exclusion_figure(data, x_range)
    if view == "yields":
        return yields_figure(data, x_range)
    if view == "edm":
        return edm_figure(data, x_range)
    if view == "spectrum":
        return spectrum_figure(data)
    raise ValueError(f"unknown view {view!r}")


def figure_bytes(view: str, data: dict, x_range, fmt: str) -> bytes:
    """The view as PNG (300 dpi), SVG or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    fig = make_figure(view, data, x_range)
    buf = io.BytesIO()
    meta = {"Title": f"Dark Axion Portal Explorer: {view}"} if fmt in ("pdf", "svg") else {}
    fig.savefig(buf, format=fmt, dpi=PNG_DPI if fmt == "png" else None, metadata=meta or None)
    return buf.getvalue()


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
                return f"array of {len(arr)} values in [{np.nanmin(a):.4g}, {np.nanmax(a):.4g}]"
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
        head.append("columns: kind (reach | constraint_upper: excluded above g | constraint_band: excluded between "
                    "g and g_upper, empty g_upper = above the plotted range | current_point), name, channel, "
                    "m_gd_GeV, m_a_GeV, g_GeV-1, g_upper_GeV-1")
        cols = ["kind", "name", "channel", "m_gd_GeV", "m_a_GeV", "g_GeV-1", "g_upper_GeV-1"]
        for c in data["curves"]:
            m_a = c.get("m_a", np.full(len(c["m"]), np.nan))
            for m, ma, g in zip(c["m"], m_a, c["g"]):
                rows.append(["reach", c["experiment"], c["channel"], _num(m), _num(ma), _num(g), ""])
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
            head.append(f"N_90 {eid} = {v:.6g} events (physics.statistics CLs, 90% CL)")
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
                rows.append(["curve", c["fermion"], c["scenario"], _num(m), _num(ma), _num(data["cutoff"]), _num(b)])
        for r in data["table"]:
            rows.append(["table2", r["fermion"], r["scenario"], _num(r["m_gd_GeV"]), _num(r["m_a_GeV"]),
                         _num(r["cutoff_GeV"]), _num(r["bound_GeV-1"])])
    elif view == "spectrum":
        pt = data["point"]
        head.append(f"point: m_gd = {pt['m_gd']:.6g} GeV, m_a = {pt['m_a']:.6g} GeV, g = {pt['g']:.6g} GeV^-1; "
                    "brem channel e N -> e N a gD (physics.factorisation.dsigma_portal_dx_pb)")
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
    else:
        raise ValueError(f"unknown view {view!r}")
    for line in head:
        out.write("# " + line.replace("\n", " ") + "\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    w.writerows(rows)
    return out.getvalue()
