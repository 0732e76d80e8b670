"""Validators: each rule of Google's project-id grammar, OAuth client shapes, emails and members."""

from __future__ import annotations

from pathlib import Path

import pytest

from kftui.core import validate


@pytest.mark.parametrize("good", ["robot-ml-demo", "abcdef", "a23456", "my-project-2026", "a" * 30])
def test_valid_project_ids_pass(good: str) -> None:
    assert validate.project_id(good) is None


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "empty"),
        ("abc", "6 to 30 characters"),
        ("a" * 31, "6 to 30 characters"),
        ("My-Project", "lowercase letters, digits and hyphens"),
        ("my_project", "'_'"),
        ("1project", "start with a lowercase letter"),
        ("-project", "start with a lowercase letter"),
        ("project-", "cannot end with a hyphen"),
        ("my-google-ml", "restricted word 'google'"),
        ("123456789012", "project number"),
    ],
)
def test_invalid_project_ids_name_the_field_and_rule(bad: str, words: str) -> None:
    message = validate.project_id(bad)
    assert message is not None
    assert message.startswith("Project ID")
    assert words in message


def test_oauth_client_id_shape() -> None:
    assert validate.oauth_client_id("1234567890-abc123def456.apps.googleusercontent.com") is None
    assert validate.oauth_client_id("1234-abc.apps.googleusercontent.com") is None  # the shortest real shape
    assert validate.oauth_client_id("1234567890-abc123") == (
        "OAuth client ID must end with .apps.googleusercontent.com (like 1234-abc.apps.googleusercontent.com)."
    )
    secret_pasted = validate.oauth_client_id("GOCSPX-abcdefghijklmnopqrstuvwxyz12")
    assert secret_pasted is not None and "secret" in secret_pasted
    wrong_shape = validate.oauth_client_id("abc-1234.apps.googleusercontent.com")
    assert wrong_shape is not None and wrong_shape.startswith("OAuth client ID")


def test_oauth_client_secret_shape() -> None:
    assert validate.oauth_client_secret("GOCSPX-abcdefghijklmnopqrstuvwxyz12") is None
    assert "empty" in (validate.oauth_client_secret("  ") or "")
    assert "client ID" in (validate.oauth_client_secret("1-a.apps.googleusercontent.com") or "")
    assert "spaces" in (validate.oauth_client_secret("GOCSPX-abc defghijklmnopq") or "")
    assert "too short" in (validate.oauth_client_secret("GOCSPX-ab") or "")


def test_email_billing_account_and_zone() -> None:
    assert validate.email("ada@example.com") is None
    assert "name@example.com" in (validate.email("ada@") or "")
    assert validate.billing_account_id("01A2B3-C4D5E6-F7A8B9") is None
    assert validate.billing_account_id("billingAccounts/01A2B3-C4D5E6-F7A8B9") is None
    assert "Billing account ID" in (validate.billing_account_id("01A2B3") or "")
    assert validate.zone("us-central1-a") is None
    assert "us-central1-a" in (validate.zone("us-central1") or "")


def test_member_kind_follows_the_email() -> None:
    assert validate.member_for("ada@example.com") == "user:ada@example.com"
    assert validate.member_for("sa@p.iam.gserviceaccount.com") == "serviceAccount:sa@p.iam.gserviceaccount.com"


def test_releases_are_the_real_tags_kftui_deploys() -> None:
    from kftui.core.validate import KUBEFLOW_RELEASES, kubeflow_release

    assert all(kubeflow_release(tag) is None for tag in KUBEFLOW_RELEASES)
    for made_up in ("v9.9.9", "latest", "26.3", "v1.11", "master"):
        message = kubeflow_release(made_up) or ""
        assert "26.03, v1.11.0" in message and repr(made_up) in message
    assert "older than kftui's deploy plan supports" in (kubeflow_release("v1.9.1") or "")


def test_manifests_must_exist(tmp_path: Path) -> None:
    from kftui.core.validate import manifests_path

    rendered = tmp_path / "kubeflow.yaml"
    rendered.write_text("kind: Namespace\n")
    assert manifests_path("") is None and manifests_path(str(tmp_path)) is None
    assert manifests_path(str(rendered)) is None
    assert "does not exist" in (manifests_path(str(tmp_path / "nope")) or "")
    notes = tmp_path / "notes.txt"
    notes.write_text("not manifests")
    assert "directory or a rendered .yaml" in (manifests_path(str(notes)) or "")
