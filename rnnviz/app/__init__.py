"""The desktop app (PySide6 + pyqtgraph), in rooms by layer; see the README's "How the code is laid out".

state/    what the user is looking at and the training run (QtCore only)
style/    colours, themes, fonts, icons
views/    what draws the state: the unrolled network, the inspector, the plots, the play bar
lessons/  lesson files and the runner that applies them through the LessonHost protocol
panels/   setup, training, AR baseline, lessons
lab/      the vanishing-gradient lab window
io/       session files, autosave and recovery, File actions, exports
window/   the main window's parts (header, docks, menus, presentation mode)
main_window.py  the composition root; main.py and screenshot.py  the entry points
"""
