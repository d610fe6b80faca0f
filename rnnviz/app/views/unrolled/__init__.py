"""The unrolled view: the network drawn one row per time step (or rolled into its one cell).

  layout.py    where every strip sits, hit tests, and the display data read from the trace (no Qt)
  arrows.py    where the weight arrows run, traced into any QPainterPath-like path (no Qt)
  context.py   DrawContext: everything one frame is drawn from, built by the view
  paint.py     small drawing helpers (pens, cached fonts, subscripts, number formats)
  items.py     the graphics items' base, the active row's band, the arrows
  columns.py   one column's strips (values, gradients, gates)
  labels.py    row labels, weight names, per-step gradient norms and losses
  overlay.py   fixed in the viewport: column headers, colour legend, the "Show gates" button
  camera.py    zoom, fit, follow the active step, the scene rect a picture shows
  tooltips.py  what a cell's or an arrow's tooltip says
  view.py      UnrolledView: composes the above; session signals, roll animation, mouse and keys,
               render(painter, rect) / render_image(width, height) for exports and screenshots
"""
