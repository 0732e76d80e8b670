"""Textual screens: setup, watch and the modals."""
