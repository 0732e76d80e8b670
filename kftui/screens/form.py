"""Moved to kftui.widgets.form (widgets never import screens); kept so older imports keep working."""

from kftui.widgets.form import FormScreen

__all__ = ["FormScreen"]
