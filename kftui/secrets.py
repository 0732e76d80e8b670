"""Secrets (the OAuth client secret) live in the OS keyring when one is usable, else only in memory.

Nothing here logs a secret or writes it to a file; `Secret` masks itself in repr/str so a stray
log line or traceback cannot leak it.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

SERVICE = "kftui"
"""Keyring service name every kftui secret is stored under."""

MEMORY = "memory"
KEYRING = "keyring"


class Secret:
    """A secret value that prints as asterisks; call reveal() where the real value is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one call that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


def _usable(backend: Any) -> bool:
    """Whether a keyring backend really stores secrets (the fail and null backends only pretend)."""
    if backend is None:
        return False
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return False
    try:
        priority = float(getattr(backend, "priority", 0))
    except Exception:
        return False
    if priority <= 0:
        return False
    children = getattr(backend, "backends", None)
    return children is None or any(_usable(b) for b in children)


def _system_backend() -> Any | None:
    """The OS keyring backend keyring would pick, or None when the package or a backend is missing."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    return backend if _usable(backend) else None


class SecretStore:
    """Keeps named secrets in one place: the OS keyring when usable, else this process's memory."""

    def __init__(self, backend: Any | None = None, *, use_system: bool = True, service: str = SERVICE) -> None:
        self._service = service
        self._lock = threading.Lock()
        self._memory: dict[str, Secret] = {}
        self._backend = backend if _usable(backend) else (_system_backend() if use_system else None)

    @property
    def where(self) -> str:
        """`keyring` or `memory`: where the next secret will be kept."""
        return KEYRING if self._backend is not None else MEMORY

    def describe(self) -> str:
        """Plain words for the finding that says where the secret is kept."""
        if self._backend is None:
            return "kept only in memory for this session (no usable OS keyring); you will be asked again next time"
        name = getattr(self._backend, "name", None) or type(self._backend).__name__
        return f"kept in the OS keyring ({name}), never in a file"

    def put(self, name: str, value: str | Secret) -> str:
        """Store a secret; returns where it went (`keyring`, or `memory` when the keyring refused)."""
        secret = value if isinstance(value, Secret) else Secret(value)
        with self._lock:
            if self._backend is not None:
                try:
                    self._backend.set_password(self._service, name, secret.reveal())
                    self._memory.pop(name, None)
                    return KEYRING
                except Exception:
                    self._backend = None  # a keyring that fails once is not trusted again this session
            self._memory[name] = secret
            return MEMORY

    def get(self, name: str) -> Secret | None:
        """A stored secret, from memory first, then the keyring; None when there is none."""
        with self._lock:
            if name in self._memory:
                return self._memory[name]
            if self._backend is None:
                return None
            try:
                value = self._backend.get_password(self._service, name)
            except Exception:
                return None
        return Secret(value) if value else None

    def has(self, name: str) -> bool:
        """Whether a secret is stored under `name`."""
        return self.get(name) is not None

    def delete(self, name: str) -> None:
        """Forget a secret everywhere it may be."""
        with self._lock:
            self._memory.pop(name, None)
            if self._backend is not None:
                # nothing stored there, or the keyring is gone: either way it is not kept
                with contextlib.suppress(Exception):
                    self._backend.delete_password(self._service, name)


_default: SecretStore | None = None
_default_lock = threading.Lock()


def default_store() -> SecretStore:
    """The process-wide store, so the setup screen and the OAuth step see the same memory."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SecretStore()
        return _default
