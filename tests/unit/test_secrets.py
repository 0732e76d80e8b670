"""The secret store: keyring when a usable backend exists, memory otherwise; secrets never print."""

from __future__ import annotations

import logging

import pytest

from kftui.secrets import KEYRING, MEMORY, Secret, SecretStore


class DictKeyring:
    """A stand-in OS keyring with the keyring backend interface (set/get/delete_password, priority)."""

    priority = 5
    name = "test keyring"

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, password: str) -> None:
        self.items[(service, user)] = password

    def get_password(self, service: str, user: str) -> str | None:
        return self.items.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        del self.items[(service, user)]


class BrokenKeyring(DictKeyring):
    """A keyring that says it works but refuses every write (a locked Secret Service)."""

    def set_password(self, service: str, user: str, password: str) -> None:
        raise RuntimeError("keyring is locked")


class FailLikeKeyring(DictKeyring):
    """What keyring reports when no backend exists: priority 0."""

    priority = 0


def test_usable_keyring_keeps_the_secret_there_not_in_memory() -> None:
    backend = DictKeyring()
    store = SecretStore(backend)
    assert store.where == KEYRING
    assert store.put("oauth_client_secret", "GOCSPX-top-secret-value") == KEYRING
    assert backend.items[("kftui", "oauth_client_secret")] == "GOCSPX-top-secret-value"
    got = store.get("oauth_client_secret")
    assert got is not None and got.reveal() == "GOCSPX-top-secret-value"
    assert "OS keyring (test keyring)" in store.describe()
    store.delete("oauth_client_secret")
    assert store.get("oauth_client_secret") is None and not backend.items


def test_without_a_usable_backend_the_secret_stays_in_memory() -> None:
    store = SecretStore(FailLikeKeyring(), use_system=False)
    assert store.where == MEMORY
    assert store.put("s", "GOCSPX-memory-only") == MEMORY
    assert store.has("s")
    assert "only in memory" in store.describe()
    assert SecretStore(use_system=False).get("s") is None  # another session starts empty


def test_a_keyring_that_refuses_falls_back_to_memory() -> None:
    store = SecretStore(BrokenKeyring())
    assert store.put("s", "GOCSPX-fallback-value") == MEMORY
    assert store.where == MEMORY
    got = store.get("s")
    assert got is not None and got.reveal() == "GOCSPX-fallback-value"


def test_secret_never_prints_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("GOCSPX-do-not-show")
    logging.getLogger("kftui.test").warning("got %s and %r", secret, secret)
    assert "GOCSPX" not in caplog.text
    assert "GOCSPX" not in f"{secret} {secret!r} {[secret]}"
    assert secret == Secret("GOCSPX-do-not-show") and secret != Secret("other")


def test_store_writes_no_file(private_xdg: object) -> None:
    from pathlib import Path

    root = Path(str(private_xdg))
    before = sorted(p for p in root.rglob("*") if p.is_file())
    store = SecretStore(use_system=False)
    store.put("s", "GOCSPX-not-on-disk")
    after = sorted(p for p in root.rglob("*") if p.is_file())
    assert after == before
