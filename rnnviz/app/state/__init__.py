"""What the app knows, apart from how it is drawn (QtCore only: no widgets, no pyqtgraph).

session.py       the Session: network, trace, playback position, selection, look (its signals drive the views)
network_config   what the side panel sets (NetworkConfig) and the task data laid out for an architecture
selection        what the person clicked (Selection)
playback         the frames of the forward and backward passes, and the playback speeds
training.py      the TrainingController: Train / Pause / Step / Reset and the records the plots draw
training_loop    the part of training that runs on the worker thread (Qt-free): snapshots, mailbox, loop
worker.py        the TrainingWorker: the training threads, and their snapshots delivered to the UI thread
"""
