"""Encryption at rest with rotation, keyed hashes, IP truncation, masking."""

from __future__ import annotations

import pytest

from service.domain.privacy import (
    PrivacyConfigError,
    Vault,
    generate_email_key,
    generate_hash_key,
    mask_email,
    truncate_ip,
)


def test_encrypt_round_trip_and_rotation() -> None:
    old, new = generate_email_key(), generate_email_key()
    token = Vault(old, "h").encrypt("reader@example.com")
    assert "reader" not in token
    rotated_vault = Vault(f"{new},{old}", "h")
    assert rotated_vault.decrypt(token) == "reader@example.com"  # old rows stay readable
    rotated = rotated_vault.rotate(token)
    assert Vault(new, "h").decrypt(rotated) == "reader@example.com"
    with pytest.raises(PrivacyConfigError):
        Vault(generate_email_key(), "h").decrypt(token)


def test_keyed_hash_depends_on_key_and_purpose() -> None:
    key = generate_hash_key()
    a = Vault(None, key)
    assert a.author_key("R@Example.com") == a.author_key("r@example.com")
    assert a.author_key("r@example.com") != Vault(None, generate_hash_key()).author_key(
        "r@example.com"
    )
    assert a.keyed_hash("ip", "x") != a.keyed_hash("author", "x")


def test_missing_secrets_name_the_variable_only() -> None:
    with pytest.raises(PrivacyConfigError, match="COMMENTMOD_HASH_KEY"):
        Vault(None, None).author_key("x@example.com")
    with pytest.raises(PrivacyConfigError, match="COMMENTMOD_EMAIL_KEYS"):
        Vault(None, None).encrypt("x@example.com")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("nonsense", None),
    ],
)
def test_truncate_ip(raw: str, expected: str | None) -> None:
    assert truncate_ip(raw) == expected


def test_mask_email() -> None:
    assert mask_email("reader@example.com") == "r***@example.com"
