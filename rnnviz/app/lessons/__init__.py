"""Guided lessons: JSON files (resources/lessons/) that set the app up and check one thing.

format.py       the file format: dataclasses, schema, parse / validate / load, where lessons live
markup.py       the lessons' small markup (`code`, **bold**, *italic*, subscripts) as HTML
host.py         LessonHost: the few things a lesson may ask of the app (a Protocol tests can fake)
runner.py       apply_step and check_status, through a LessonHost
window_host.py  WindowLessonHost: the main window's side of LessonHost
"""
