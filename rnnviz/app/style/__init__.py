"""The app's looks, shared by every view and panel (no view state here).

colors.py      the one diverging colour scale for values (and the sequential one for gates)
theme.py       the light, dark and high-contrast palettes, and the presentation mode's font scale
appearance.py  the window's QPalette and style sheet, fonts, and vector icons in the theme's colour
"""
