"""A network whose numbers blew up is drawn without computing on NaN / inf: the view and the
inspector show the marked colour, and no plot hands pyqtgraph an all-NaN curve (its bounds
warn; the suite turns warnings into errors)."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication, QDockWidget

from rnnviz.app.style import colors


def test_a_diverged_network_draws_everywhere_without_warnings(qtbot, window, session):
    session.model.W_hh[0, 0] = np.inf  # from step 2 on every h_t is NaN
    session.recompute()
    assert not np.isfinite(session.trace.h[2:]).any()
    session.set_position(5)
    for dock in window.findChildren(QDockWidget):  # every plot and panel drawn once
        dock.show()
        dock.raise_()
        QApplication.processEvents()
    assert window.view.draw_context.data.nonfinite  # the legend gets its "nan / inf" row
    image = window.view.render_image(800, 600)
    assert not image.isNull()
    assert np.isnan(window.inspector.numbers["h[0]"])  # h_5, followed by the inspector
    marked = "rgb({},{},{})".format(*colors.NONFINITE_RGBA[:3])
    assert marked in window.inspector.page.html
