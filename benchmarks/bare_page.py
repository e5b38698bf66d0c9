"""A bare Panel page for ``python -m benchmarks viewers`` to compare with: the dashboard's template
(Bootstrap), one log-log figure with a 100-point line and a marker, two (jumping) sliders that replace their data —
the least a Panel dashboard sends and draws. Names and CSS classes match what the benchmark waits for.

Served by the benchmark with ``panel serve benchmarks/bare_page.py`` on 127.0.0.1; not part of the product.
"""

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

pn.extension()
x = np.geomspace(1e-3, 1.0, 100)
fig = figure(x_axis_type="log", y_axis_type="log", sizing_mode="stretch_width", height=600)
line = ColumnDataSource({"x": x, "y": 1e-3 * (1 + x)})
fig.line("x", "y", source=line, name="dap:reach:na64e-2023:total")
point = ColumnDataSource({"x": [0.1], "y": [1e-3]})
fig.scatter("x", "y", source=point, name="dap:point", size=12)
# sliders that jump as the dashboard's do (dashboard.controls.SLIDER_CSS): a like-for-like comparison
JUMP = [".noUi-origin, .noUi-connect, .noUi-handle { transition: none !important; }"]
alpha = pn.widgets.FloatSlider(name="α", start=-3, end=0, step=0.01, value=-1, css_classes=["dap-ctl-alpha_d-slider"],
                               stylesheets=JUMP)
g = pn.widgets.FloatSlider(name="g", start=-6, end=0, step=0.01, value=-3, css_classes=["dap-ctl-g-slider"],
                           stylesheets=JUMP)
alpha.param.watch(lambda e: setattr(line, "data", {"x": x, "y": 10 ** e.new * (1 + x)}), "value_throttled")
g.param.watch(lambda e: setattr(point, "data", {"x": [0.1], "y": [10 ** e.new]}), "value_throttled")
pn.template.BootstrapTemplate(title="bare page", sidebar=[alpha, g],
                              main=[pn.pane.Bokeh(fig, sizing_mode="stretch_width")]).servable()
