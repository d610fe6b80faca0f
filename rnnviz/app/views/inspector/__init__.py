"""The inspector: what the selected node or arrow holds, and the formula that produced it with the
numbers of that step filled in.

widget.py    the Inspector dock: follows the selection (or the playback), shows the page and a weight's heat maps
pages.py     page_for (which page for a selection); the pages every cell shares: x_t, y_t and its loss, one weight
vanilla.py   the vanilla cell's hidden state h_t, forward and backward
gated.py     the LSTM / GRU pages: gates, cell state, their matrices
html.py      number formatting and the PageBuilder every page is written with; the sections the cells share
live_text.py shows a page in the text widget: in full when its structure changed, else only its numbers edited in place
"""
