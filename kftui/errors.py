"""Errors kftui raises on purpose: each carries words fit to show a person."""

from __future__ import annotations


class KftuiError(Exception):
    """Base for expected failures; the message is shown as-is, never with a traceback."""


class UsageError(KftuiError):
    """Bad input from the user: the message names the field and the rule."""


class ConfigError(KftuiError):
    """A configuration file, kubeconfig or credential that cannot be used."""


class ToolMissingError(KftuiError):
    """A required external program (gcloud, kubectl, ...) is not installed or not executable."""
