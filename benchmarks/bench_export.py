"""Export of the views' figures: ≤ 2 s per file (PNG 300 dpi, SVG, PDF), cold and warm, on this machine.

``bench() -> dict``; run as ``python -m benchmarks export``. Synthetic view data shaped like the dashboard's
(3 experiments × 7 channels + totals, 4 constraints, the current point; 6 EDM curves; 2 spectra with cuts;
a 60 × 40 (m_γD, m_a) map), so the numbers do not depend on σ_V tables. Two renderers of the same
:class:`dashboard.figures.FigureSpec`:

* ``matplotlib``: :func:`dashboard.export.spec_bytes` (what the dashboard uses);
* ``holoviews``: the spec as an ``hv.Overlay`` of hv.Curve/hv.Area/hv.Scatter/hv.VSpan/hv.QuadMesh through
  ``hv.render(..., backend="matplotlib")`` and ``savefig`` — the candidate that was measured and not taken
  (README "Dependencies"). HoloViews is no longer a dependency: this candidate runs only where it is
  installed (``pip install holoviews``), otherwise the result says so.

"cold" = a fresh Python process (imports, font cache, first draw) timing import + one PNG export; "warm" =
best of 3 in-process.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import best_ms  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 2.0
VIEWS = ("exclusion", "yields", "edm", "spectrum", "plane")


def view_data(view: str):
    m = np.geomspace(1e-3, 5.0, 100)
    if view == "exclusion":
        curves, cons = [], []
        for i, e in enumerate(("na64e-2023", "na64e-projected", "ldmx-phase2")):
            for ch in ("brem", "rho", "omega", "phi", "jpsi", "upsilon", "total"):
                curves.append({"exp_id": e, "experiment": f"Experiment {e}", "channel": ch, "m": m,
                               "g": 1e-4 * (i + 1) * (1 + m) ** (2 + (ch != "total")), "m_a": m * 0 + 1e-6,
                               "partial": False, "color_index": i})
        for k, lab in (("babar", "BaBar"), ("besiii", "BESIII ω"), ("besiii", "BESIII φ")):
            cons.append({"key": k, "label": lab, "kind": "upper", "m": m, "g": 1e-2 * (1 + m), "provenance": "arXiv:0908.2840"})
        cons.append({"key": "sn1987a", "label": "SN1987A", "kind": "band", "m": m, "lo": 1e-7 * (1 + m),
                     "hi": 1e-5 * (1 + m), "provenance": "arXiv:2105.06476"})
        return {"curves": curves, "constraints": cons, "point": {"m_gd": 0.1, "g": 1e-3, "m_a": 1e-6},
                "assumptions": {}, "channels": [], "method": "etl"}, (1e-3, 5.0)
    if view == "yields":
        curves = [{"exp_id": e, "experiment": e, "channel": ch, "m": m, "m_a": m * 0, "n": 10.0 / m * (j + 1)}
                  for e in ("a", "b", "c") for j, ch in enumerate(("brem", "rho", "omega", "phi", "jpsi", "upsilon"))]
        return {"curves": curves, "n_up": {"a": 2.3, "b": 2.3, "c": 5.0}, "g": 1e-3,
                "point": {"m_gd": 0.1, "g": 1e-3, "m_a": 1e-6}}, (1e-3, 5.0)
    if view == "edm":
        curves = [{"fermion": f, "scenario": sc, "m": m, "bound": 1e-10 * m * (i + 1), "current": sc == "light-alp"}
                  for i, f in enumerate(("e", "mu", "n")) for sc in ("light-alp", "degenerate")]
        return {"curves": curves, "table": [], "cutoff": 1000.0}, (1e-3, 5.0)
    if view == "spectrum":
        edges = np.concatenate([np.linspace(0.0, 0.9, 37), 1 - 0.1 * 10 ** (-np.arange(1, 31) / 10)])
        spectra = [{"exp_id": e, "experiment": e, "x_edges": edges, "dsdx_pb": 1e3 * (1 + i + edges[:-1]),
                    "color_index": i, "beam_energy_gev": 100.0, "target": "Pb"} for i, e in enumerate(("a", "b"))]
        cuts = [{"exp_id": e, "experiment": e, "x_min": 0.5, "x_max": 0.95, "color_index": i,
                 "beam_energy_gev": 100.0, "fraction": 0.8} for i, e in enumerate(("a", "b"))]
        return {"spectra": spectra, "cuts": cuts, "point": {"m_gd": 0.1, "g": 1e-3, "m_a": 1e-6}, "notes": []}, None
    raise ValueError(view)


def make_spec(view: str):
    from dashboard import figures

    if view == "plane":
        m_gd, m_a = np.geomspace(1e-2, 1.0, 60), np.geomspace(1e-3, 0.5, 40)
        g = 1e-4 * (m_gd[None, :] / 1e-2) ** 1.5 * (1 + m_a[:, None])
        return figures.plane_spec(m_gd, m_a, g, "g90 over the plane")
    data, xr = view_data(view)
    return figures.spec(view, data, xr)


# ------------------------------------------------------------------------------------ the HoloViews candidate
def holoviews_figure(spec, size: str = "double"):
    """The spec through HoloViews' matplotlib backend (same styles as dashboard.export) → matplotlib Figure."""
    import holoviews as hv

    from dashboard import figures, style

    if "matplotlib" not in hv.Store.renderers:
        hv.extension("matplotlib", logo=False)
    sz = figures.EXPORT_SIZES[size]
    els = []
    for c in spec.curves:
        lab = style.mpl_text(c.label) if c.legend else ""
        if c.kind in ("line", "step"):
            x, y = figures.step_xy(c.x, c.y) if c.kind == "step" else (c.x, c.y)
            els.append(hv.Curve((x, y), label=lab).opts(color=c.colour, linestyle=style.mpl_dash(c.dash, c.width),
                                                       linewidth=c.width * style.EXPORT_PT_PER_PX, alpha=c.alpha))
        elif c.kind == "band":
            els.append(hv.Area((c.x, c.y, c.y2), vdims=["y", "y2"], label=lab).opts(color=c.colour, alpha=c.alpha,
                                                                                      linewidth=0))
        elif c.kind == "region":
            els.append(hv.VSpan(float(c.x[0]), float(c.x[1])).opts(color=c.colour, alpha=c.alpha))
        elif c.kind == "marker":
            els.append(hv.Scatter((c.x, c.y), label=lab).opts(color=c.colour, marker="*", s=(c.size * 0.65) ** 2))
        elif c.kind == "image":
            xc, yc = np.sqrt(c.x[1:] * c.x[:-1]), np.sqrt(c.y[1:] * c.y[:-1])
            els.append(hv.QuadMesh((xc, yc, c.z)).opts(cmap=c.palette, clim=c.z_range, colorbar=True))
    ov = hv.Overlay(els).opts(logx=spec.x_log, logy=spec.y_log, xlim=spec.x_range, ylim=spec.y_range,
                              title=style.mpl_text(spec.title), xlabel=style.mpl_text(spec.x_label),
                              ylabel=style.mpl_text(spec.y_label), legend_position="right",
                              fig_inches=(sz.width_in, sz.height_in), fontscale=spec.look.font_scale)
    return hv.render(ov, backend="matplotlib")


def _save(fig, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=300 if fmt == "png" else None)
    return buf.getvalue()


def export_once(renderer: str, view: str, fmt: str) -> bytes:
    spec = make_spec(view)
    if renderer == "matplotlib":
        from dashboard import export

        return export.spec_bytes(spec, fmt, "double")
    return _save(holoviews_figure(spec), fmt)


def _cold(renderer: str, view: str) -> float:
    code = ("import time; t0 = time.perf_counter(); from benchmarks.bench_export import export_once; "
            f"export_once({renderer!r}, {view!r}, 'png'); print(time.perf_counter() - t0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if out.returncode:
        raise RuntimeError(out.stderr[-1000:])
    return float(out.stdout.strip().splitlines()[-1])


def bench() -> dict:
    res: dict = {"target_s": TARGET_S}
    import importlib.util

    for renderer in ("matplotlib", "holoviews"):
        if renderer == "holoviews" and importlib.util.find_spec("holoviews") is None:
            res[renderer] = "not installed (not a dependency; pip install holoviews to measure this candidate)"
            continue
        r = {}
        for view in VIEWS:
            row = {"cold_png_s": round(_cold(renderer, view), 2)}
            for fmt in ("png", "svg", "pdf"):
                export_once(renderer, view, fmt)      # first use of the format's backend
                row[f"warm_{fmt}_s"] = round(best_ms(lambda: export_once(renderer, view, fmt), repeat=3) / 1e3, 2)
            r[view] = row
        res[renderer] = r
    worst = max(v for row in res["matplotlib"].values() for v in row.values())
    res["matplotlib_within_target"] = worst <= TARGET_S
    return res


if __name__ == "__main__":
    print(json.dumps(bench(), indent=2))
