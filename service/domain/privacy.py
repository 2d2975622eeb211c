"""Privacy helpers: email encryption at rest, keyed hashes, IP truncation, masking.

The clear email exists only in the request that carries it and in the moderator view (masked).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class PrivacyConfigError(RuntimeError):
    """A secret the operation needs is not configured (the message names the variable only)."""


class Vault:
    """Encrypts emails (MultiFernet: the first key encrypts, every key decrypts) and computes
    keyed hashes (HMAC-SHA256) so rows can be matched without storing the clear value."""

    def __init__(self, email_keys: str | None, hash_key: str | None) -> None:
        self._email_keys = email_keys
        self._hash_key = hash_key.encode() if hash_key else None
        self._fernet: MultiFernet | None = None

    def _multifernet(self) -> MultiFernet:
        if self._fernet is None:
            if not self._email_keys:
                raise PrivacyConfigError("COMMENTMOD_EMAIL_KEYS is not set")
            try:
                keys = [Fernet(k.strip()) for k in self._email_keys.split(",") if k.strip()]
            except (ValueError, TypeError):  # the message must not carry the key
                raise PrivacyConfigError(
                    "COMMENTMOD_EMAIL_KEYS holds an invalid key (each must be a Fernet key, "
                    "as `commentmod keys generate` prints)"
                ) from None
            if not keys:
                raise PrivacyConfigError("COMMENTMOD_EMAIL_KEYS holds no key")
            self._fernet = MultiFernet(keys)
        return self._fernet

    def check(self) -> None:
        """Raise ``PrivacyConfigError`` now if the email keys are missing or invalid."""
        self._multifernet()

    def encrypt(self, value: str) -> str:
        return self._multifernet().encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._multifernet().decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:  # the message must not carry the token
            raise PrivacyConfigError("no configured email key decrypts this value") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt under the primary key (for key rotation jobs)."""
        return self._multifernet().rotate(token.encode("ascii")).decode("ascii")

    def keyed_hash(self, purpose: str, value: str) -> str:
        """A stable hex digest of ``value`` for ``purpose``; different purposes never collide."""
        if self._hash_key is None:
            raise PrivacyConfigError("COMMENTMOD_HASH_KEY is not set")
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def author_key(self, normalized_email: str) -> str:
        return self.keyed_hash("author", normalized_email.casefold())

    def ip_hash(self, ip: str) -> str:
        return self.keyed_hash("ip", ip)


def truncate_ip(raw: str) -> str | None:
    """The network a reader posted from: IPv4 /24, IPv6 /48. None for unparsable input."""
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def mask_email(email: str) -> str:
    """``reader@example.com`` → ``r***@example.com`` (what moderators see)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def hash_token(token: str) -> str:
    """API keys and moderator tokens are random 256-bit strings: a plain SHA-256 suffices
    to store them (no dictionary to attack), and lets the lookup be a unique-index probe."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def generate_email_key() -> str:
    return Fernet.generate_key().decode("ascii")


def generate_hash_key() -> str:
    return secrets.token_urlsafe(48)
