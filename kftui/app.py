"""The Textual application: setup mode and watch mode."""
