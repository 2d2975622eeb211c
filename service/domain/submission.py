"""Submission validation: the allow-listed request schema and the normalized submission.

The same pydantic model validates requests and generates the OpenAPI schema. Errors are
reported as stable codes per field, never with the submitted value.
"""

from __future__ import annotations

import hashlib
import ipaddress
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import regex
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

# C0/C1 controls except tab, LF and CR (allowed in comment text only), plus lone surrogates
# (JSON "\ud800" decodes to one; no database can store it as UTF-8).
_CONTROL = regex.compile(r"[\p{Cc}\p{Cs}]")
_TEXT_FORBIDDEN = regex.compile(r"[\p{Cs}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidi embeddings/overrides/isolates can make a name display as something else. Zero-width
# joiners (ZWJ/ZWNJ) stay: Devanagari spelling needs them.
_BIDI_CONTROL = regex.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Something a reader can see: not white space, not a format character (ZWJ, ZWSP, bidi…).
_VISIBLE = regex.compile(r"[^\p{Z}\p{Cf}\s]")
LANG_TAG = regex.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")

MAX_EMAIL_CHARS = 254
MAX_AUTHOR_URL_CHARS = 200


def _error(code: str) -> PydanticCustomError:
    # The message is the code itself: pydantic messages can carry the input; ours never do.
    return PydanticCustomError(code, code)


def _http_url(value: str, max_chars: int) -> str:
    value = value.strip()
    if len(value) > max_chars:
        raise _error("too_long")
    if _CONTROL.search(value) or any(ch.isspace() for ch in value):
        raise _error("invalid_url")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise _error("invalid_url") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _error("invalid_url")
    if parts.username is not None or parts.password is not None:
        raise _error("url_credentials_not_allowed")
    return value


def _no_controls(value: str) -> str:
    if _CONTROL.search(value):
        raise _error("invalid_characters")
    return value


class CommentSubmission(BaseModel):
    """``POST /v1/comments`` request body. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, title="CommentSubmission")

    thread_id: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    thread_url: Annotated[StrictStr | None, Field(max_length=2000)] = None
    parent_id: Annotated[StrictStr | None, Field(max_length=64)] = None
    author_name: Annotated[StrictStr, Field(min_length=1, max_length=2000)]
    author_email: Annotated[StrictStr, Field(min_length=1, max_length=MAX_EMAIL_CHARS)]
    author_url: Annotated[StrictStr | None, Field(max_length=2000)] = None
    text: Annotated[StrictStr, Field(min_length=1, max_length=1_000_000)]
    client_ip: Annotated[StrictStr | None, Field(max_length=64)] = None
    user_agent: Annotated[StrictStr | None, Field(max_length=1000)] = None
    referrer: Annotated[StrictStr | None, Field(max_length=2000)] = None
    lang: Annotated[StrictStr | None, Field(max_length=35)] = None
    honeypot: Annotated[StrictStr | None, Field(max_length=10_000)] = None
    form_started_at: Annotated[
        StrictStr | None, Field(max_length=64, json_schema_extra={"format": "date-time"})
    ] = None

    @field_validator("thread_id")
    @classmethod
    def _thread_id(cls, value: str) -> str:
        value = _no_controls(value.strip())
        if not value:
            raise _error("blank")
        return value

    @field_validator("thread_url")
    @classmethod
    def _thread_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value, 2000)

    @field_validator("author_url")
    @classmethod
    def _author_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return _http_url(value, MAX_AUTHOR_URL_CHARS)

    @field_validator("parent_id")
    @classmethod
    def _parent_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _no_controls(value.strip()) or None

    @field_validator("author_name")
    @classmethod
    def _author_name(cls, value: str) -> str:
        value = unicodedata.normalize("NFC", value.strip())
        if not _VISIBLE.search(value):  # empty, or only zero-width / format characters
            raise _error("blank")
        if len(value) > 245:
            raise _error("too_long")
        if _CONTROL.search(value) or _BIDI_CONTROL.search(value):
            raise _error("invalid_characters")
        return value

    @field_validator("author_email")
    @classmethod
    def _author_email(cls, value: str, info: ValidationInfo) -> str:
        check_deliverability = bool((info.context or {}).get("check_deliverability", False))
        try:
            result = validate_email(value.strip(), check_deliverability=check_deliverability)
        except EmailNotValidError as exc:
            raise _error("invalid_email") from exc
        if len(result.normalized) > MAX_EMAIL_CHARS:
            raise _error("too_long")
        return result.normalized

    @field_validator("text")
    @classmethod
    def _text(cls, value: str, info: ValidationInfo) -> str:
        max_chars = int((info.context or {}).get("max_text_chars", 10_000))
        value = unicodedata.normalize("NFC", value)
        if not _VISIBLE.search(value):
            raise _error("blank")
        if len(value) > max_chars:
            raise _error("too_long")
        if _TEXT_FORBIDDEN.search(value):
            raise _error("invalid_characters")
        return value

    @field_validator("client_ip")
    @classmethod
    def _client_ip(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError as exc:
            raise _error("invalid_ip") from exc

    @field_validator("user_agent", "referrer", "honeypot")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        return None if value is None else _no_controls(value)

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not LANG_TAG.match(value.strip()):
            raise _error("invalid_lang")
        return value.strip()

    @field_validator("form_started_at")
    @classmethod
    def _form_started_at(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise _error("invalid_datetime") from exc
        if parsed.tzinfo is None:
            raise _error("timezone_required")
        return parsed.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Submission:
    """A validated, normalized submission (still holds the clear email: never log it)."""

    thread_id: str
    thread_url: str | None
    parent_id: str | None
    author_name: str
    author_email: str
    author_url: str | None
    text: str
    client_ip: str | None
    user_agent: str | None
    referrer: str | None
    lang_hint: str | None
    is_honeypot_filled: bool
    form_started_at: datetime | None

    def text_fingerprint(self) -> str:
        return text_fingerprint(self.text)


def text_fingerprint(text: str) -> str:
    """Duplicate detection compares text up to Unicode form, case and whitespace."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(folded.encode()).hexdigest()


class SubmissionInvalid(Exception):
    """422: ``fields`` maps field names to stable error codes. Carries no submitted value."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid fields: " + ", ".join(sorted(fields)))
        self.fields = fields


_PYDANTIC_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_type": "must_be_string",
    "string_too_short": "blank",
    "string_too_long": "too_long",
    "string_unicode": "invalid_characters",
}
MAX_REPORTED_FIELD_NAME = 64


def parse_submission(
    payload: Any, *, max_text_chars: int, check_deliverability: bool = False
) -> Submission:
    """Validate a decoded JSON body. Raises :class:`SubmissionInvalid` (422)."""
    if not isinstance(payload, dict):
        raise SubmissionInvalid({"body": "must_be_object"})
    try:
        model = CommentSubmission.model_validate(
            payload,
            context={
                "max_text_chars": max_text_chars,
                "check_deliverability": check_deliverability,
            },
        )
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors(include_input=False, include_url=False):
            name = str(error["loc"][0])[:MAX_REPORTED_FIELD_NAME] if error["loc"] else "body"
            fields.setdefault(name, _PYDANTIC_CODES.get(error["type"], error["type"]))
        raise SubmissionInvalid(fields) from None
    return Submission(
        thread_id=model.thread_id,
        thread_url=model.thread_url,
        parent_id=model.parent_id,
        author_name=model.author_name,
        author_email=model.author_email,
        author_url=model.author_url,
        text=model.text,
        client_ip=model.client_ip,
        user_agent=model.user_agent,
        referrer=model.referrer,
        lang_hint=model.lang,
        is_honeypot_filled=bool(model.honeypot and model.honeypot.strip()),
        form_started_at=(
            datetime.fromisoformat(model.form_started_at) if model.form_started_at else None
        ),
    )
