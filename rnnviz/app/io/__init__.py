"""What the app reads and writes, and the File menu entries that do it.

session_file.py      the .rnnviz zip (session.json + arrays.npz): read and atomic write
session_schema.py    what a session file may hold, and validate() that checks every key and array
session_snapshot.py  a session as data and arrays (capture), written (save) and read back (restore)
session_store.py     open / save / autosave / recovery / recent files for one session (the Qt side)
autosave.py          when the recovery file is written (AutosaveSchedule) and the thread that writes it
file_actions.py      File menu: import a series or text, open / save sessions, recent, the window's layout
export.py            the view, an animation, a plot, the trace or the history written to a file
export_dialog.py     File ▸ Export: the menu's actions and their size / speed dialog
"""
