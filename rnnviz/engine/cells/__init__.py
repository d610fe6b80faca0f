"""Each cell's forward pass and BPTT: vanilla.py, lstm.py and gru.py, with what the two gated
cells share in gated.py.  engine/run.py picks one by the model's cell."""
