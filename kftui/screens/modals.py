"""Moved to kftui.widgets.modals (widgets never import screens); kept so older imports keep working."""

from kftui.widgets.modals import ChooseScreen, ConfirmScreen, MessageScreen, diagnosis_text, explain_error

__all__ = ["ChooseScreen", "ConfirmScreen", "MessageScreen", "diagnosis_text", "explain_error"]
