"""The engine's files; nothing here is unpickled or evaluated.

npz.py           safe .npz / .npy reading (checked sizes and dtypes), atomic writes, FileFormatError
models.py        rnnviz model files, and load_any_model (rnnviz or PyTorch)
torch_import.py  PyTorch nn.RNN / nn.LSTM / nn.GRU + nn.Linear state dicts (.npz or .pt): which key becomes which parameter
probe.py         what a model file says, and a guess with its reason for what it does not (architecture, loss, ...)
traces.py        trace files (every recorded array of a run)
importers.py     your own data: CSV / .npy time series, text
export.py        traces as JSON, histories as CSV
"""
