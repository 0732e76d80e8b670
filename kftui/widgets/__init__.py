"""Textual widgets: step list, check view, pod table, log view ..."""
