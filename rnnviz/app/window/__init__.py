"""The main window's parts, which main_window.py (the composition root) puts together: the
header over the network, the docks, the actions and menus with their shortcuts, the help
dialogs, and presentation mode."""
