"""The vanishing-gradient lab: a vanilla RNN beside an LSTM or GRU on the echo task.

window.py    LabWindow: state and wiring (built by the main window on first use)
controls.py  the controls column: task, networks, initial scale, training, readout
plots.py     LabPlots: loss, "how far back" gradient curves, eigenvalues (reads a LabState protocol)
model.py     the two networks and what the plots show of them (Qt-free)
training.py  LabTraining: both networks trained on the app's TrainingWorker
"""
