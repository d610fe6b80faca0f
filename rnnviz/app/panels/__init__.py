"""The panels beside and below the network; each takes the session (and the training controller).

setup.py            task, architecture, cell, activation, sizes, seed
training.py         Train / Pause / Step / Reset, optimizer, learning rate, clipping, budget
baseline.py         the AR(p) baseline against the RNN on held-out data
baseline_worker.py  fits the AR baseline off the UI thread
lessons.py          the lessons dock: the lesson's text, its steps and their checks
"""
