"""The main window's parts, which main_window.py (the composition root) puts together.

header.py        the title, subtitle and buttons over the network (Header, ElidedLabel)
docks.py         add_dock and scrollable: how a panel becomes a dock
actions.py       window_action, the shortcut list (SHORTCUTS) and the F1 / About dialogs
dialogs.py       the file dialogs and the "discard the training run / the loaded network?" questions
model_dialog.py  ModelDialog: what a model file records, and the guesses for what it does not
status.py        StatusLine: the last error and the training budget in the status bar
presentation.py  Presentation: full screen, large type, the panels stepping aside, hidden controls
room.py          Room: where the docks go (the network keeps half the window), dock tabs never cut
"""
