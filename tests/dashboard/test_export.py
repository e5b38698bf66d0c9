"""Exports: publication figures (PNG/SVG/PDF via matplotlib) and CSV files with a complete header."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from dashboard import export, figures
from dashboard.figures import VIEWS


class _Session:
    """Real view data of a session (IWW tables, 30 masses) through the app's own data path."""

    def __init__(self):
        import time

        from dashboard.inputs import Inputs
        from dashboard.layout import DashboardApp

        self.app = DashboardApp(Inputs(method="iww", n_points=30))
        inp = self.app.inputs
        t0 = time.monotonic()
        self.app.jobs.ensure(inp.selected_experiments(), inp.method, inp.rel_error)
        while self.app.jobs.pending([e.id for e in inp.selected_experiments()]):
            if time.monotonic() - t0 > 120:
                raise TimeoutError("tables still pending")
            time.sleep(0.05)
            self.app.poll()
        assert self.app.view_data("exclusion")["curves"], "tables loaded"
        self.m_gd_min, self.m_gd_max, self.n_points = inp.m_gd_min, inp.m_gd_max, inp.n_points
        self.settings = inp.settings

    def view_data(self, view):
        return self.app.view_data(view)

    def exclusion_data(self):
        return self.view_data("exclusion")

    def spectrum_data(self):
        return self.view_data("spectrum")

    def edm_data(self):
        return self.view_data("edm")

    def header_lines(self, view):
        return self.app.header_lines(view)


@pytest.fixture
def ready_state(fresh_cache):
    return _Session()


def _csv_rows(text: str):
    header = [line for line in text.splitlines() if line.startswith("# ")]
    body = [line for line in text.splitlines() if not line.startswith("#")]
    return header, list(csv.DictReader(io.StringIO("\n".join(body))))


@pytest.mark.parametrize("view", VIEWS)
def test_figures_in_all_formats(ready_state, view):
    data = ready_state.view_data(view)
    xr = (ready_state.m_gd_min, ready_state.m_gd_max)
    png = export.figure_bytes(view, data, xr, "png")
    svg = export.figure_bytes(view, data, xr, "svg")
    pdf = export.figure_bytes(view, data, xr, "pdf")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert b"<svg" in svg[:500] and len(svg) > 10_000
    assert pdf[:5] == b"%PDF-" and len(pdf) > 5_000
    with pytest.raises(ValueError):
        export.figure_bytes(view, data, xr, "gif")


@pytest.mark.parametrize("view", VIEWS)
def test_figure_bytes_is_the_spec_rendered(ready_state, view):
    """figure_bytes = spec_bytes(figures.spec(...)): the exported figure carries the live figure's title and
    legend, at every export size and look."""
    data = ready_state.view_data(view)
    xr = (ready_state.m_gd_min, ready_state.m_gd_max)
    spec = figures.spec(view, data, None if view == "spectrum" else xr, look=figures.PRESENTATION)
    fig = export.spec_figure(spec, "slide")
    # (long titles are broken into lines at spaces)
    assert fig.axes[0].get_title().replace("\\$", "$").replace("\n", " ") == spec.title
    labels = [t.get_text().replace("\\$", "$").replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert labels == [lab for _, lab in spec.legend_entries()]
    a = export.figure_bytes(view, data, xr, "svg", look=figures.PRESENTATION, size="slide")
    b = export.spec_bytes(spec, "svg", "slide")
    assert a.split(b"<dc:date>")[0] == b.split(b"<dc:date>")[0] and len(a) == len(b)


def test_png_is_publication_resolution(ready_state):
    from PIL import Image

    png = export.figure_bytes("exclusion", ready_state.exclusion_data(), (1e-3, 5.0), "png")
    im = Image.open(io.BytesIO(png))
    assert im.size[0] >= 2000 and im.size[1] >= 1200       # double column, 7 × 4.3 in at 300 dpi


def test_exclusion_csv(ready_state):
    s = ready_state
    data = s.exclusion_data()
    text = export.csv_text("exclusion", data, s.header_lines("exclusion"))
    header, rows = _csv_rows(text)
    h = "\n".join(header)
    for name in ("m_gd_min", "m_gd_max", "g", "alpha_d", "method"):
        assert f"input {name} = " in h
    # the ALP mass as the light-ALP rule uses it; the other rules' values are stated as unused
    assert "input m_a_at_point_GeV = 1e-06" in h
    assert "input m_a = 0.01 (not used: ALP mass rule 'light')" in h and "input m_a_ratio = 0.5 (not used" in h
    assert "experiment na64e-2023:" in h and "EOT=9.37e+11" in h
    assert "table na64e-2023: method=iww" in h
    assert "assumptions na64e-2023:" in h and "statistics" in h
    assert "constraint BaBar" in h and "0908.2840" in h
    kinds = {r["kind"] for r in rows}
    assert kinds == {"reach", "constraint_upper", "constraint_band", "current_point"}
    reach = [r for r in rows if r["kind"] == "reach" and r["name"].startswith("NA64e (2016") and r["channel"] == "total"]
    assert len(reach) == s.n_points
    got = np.array([float(r["g_GeV-1"]) if r["g_GeV-1"] else np.nan for r in reach])
    want = next(c["g"] for c in data["curves"] if c["exp_id"] == "na64e-2023" and c["channel"] == "total")
    assert np.allclose(got, want, equal_nan=True, rtol=1e-12)
    assert all(float(r["m_a_GeV"]) == pytest.approx(1e-6) for r in reach)
    pt = next(r for r in rows if r["kind"] == "current_point")
    assert float(pt["m_gd_GeV"]) == 0.1 and float(pt["g_GeV-1"]) == 1e-3


def test_other_csvs(ready_state):
    s = ready_state
    for view, cols in (("yields", {"experiment", "channel", "m_gd_GeV", "m_a_GeV", "g_GeV-1", "events"}),
                       ("edm", {"kind", "fermion", "scenario", "m_gd_GeV", "m_a_GeV", "cutoff_GeV", "bound_GeV-1"}),
                       ("spectrum", {"experiment", "x_low", "x_high", "dsigma_dx_pb_per_atom"})):
        text = export.csv_text(view, s.view_data(view), s.header_lines(view))
        header, rows = _csv_rows(text)
        assert set(rows[0]) == cols
        assert len(rows) > 10
        assert any(line.startswith("# input g = ") for line in header)
    h, rows = _csv_rows(export.csv_text("edm", s.edm_data(), s.header_lines("edm")))
    assert {r["kind"] for r in rows} == {"curve", "table2"}
    assert any("JILA" in line for line in h)


def test_spectrum_csv_states_each_cut(ready_state):
    s = ready_state
    s.settings["na64e-projected"].x_min = 0.66
    data = s.spectrum_data()
    header, rows = _csv_rows(export.csv_text("spectrum", data, s.header_lines("spectrum")))
    cut_lines = [h for h in header if h.startswith("# cut: ")]
    assert any("(na64e-2023): 0.5 <= x <= 1" in h and "E_miss >= 50 GeV" in h for h in cut_lines)
    assert any("(na64e-projected): 0.66 <= x <= 1" in h for h in cut_lines)
    assert float(rows[0]["x_low"]) == 0.0            # the whole x range, whatever the cuts
