"""What draws the session's state; views compute nothing and never import one another.

unrolled/     the network unrolled in time (or rolled), animated forward and backward
inspector/    the selected value with its formula and numbers
plots/        hidden states, loss, gradient flow, predictions, weights
transport.py  the play bar: play / step / timeline / speed
axes.py       axis ranges and ticks the views (and the lab and panels) share
"""
