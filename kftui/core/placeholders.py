"""The stand-ins a fix command may still carry (EMAIL, PROJECT_ID ...), so nothing runs until they are filled."""

from __future__ import annotations

import re
import shlex

_TOKEN = re.compile(r"(?<![A-Za-z0-9_$])(?:YOUR_)?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*(?![A-Za-z0-9_])")
KNOWN = ("EMAIL", "YOUR_EMAIL", "PROJECT_ID", "PROJECT", "REGION", "ZONE", "BILLING_ACCOUNT_ID", "ACCOUNT",
         "CLUSTER", "NAMESPACE", "PASSWORD", "USER", "SERVICE_ACCOUNT", "GPU_TYPE", "CLIENT_ID", "CLIENT_SECRET")
"""Words kftui's fixes use for values it could not know; anything else in capitals (AWS, GPUS_ALL_REGIONS) stays."""


def placeholders(command: str) -> list[str]:
    """The stand-ins left in a command, in order, once each."""
    return list(dict.fromkeys(t for t in _TOKEN.findall(command) if t in KNOWN))


def fill(command: str, values: dict[str, str]) -> str:
    """The command with each stand-in replaced by its value, shell-quoted (a value cannot add a command)."""
    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        return shlex.quote(values[word]) if word in values else word

    return _TOKEN.sub(one, command)
