"""rnnviz from a script or a notebook: `show()` opens the app on a caller's network and data,
`trace()` computes the same trace headless. Sits above the app, beside the command line.

    network.py        what a caller may hand in -> an engine model and its data, via the model probe
    torch_modules.py  torch objects read by duck typing: the recurrent layer, the readout, tensors
    headless.py       trace()
    show.py           show(), the Shown handle, the notebook's event loop

Importing this package imports neither torch nor Qt: show() imports Qt when called, and torch is
never imported (a caller's torch objects are read through their own methods).
"""
