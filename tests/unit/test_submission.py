"""Submission validation: field rules, stable codes, never an echoed value."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.submission import SubmissionInvalid, parse_submission


def valid(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "thread_id": "t-1",
        "author_name": "Asha",
        "author_email": "asha@example.com",
        "text": "नमस्ते, अच्छा लेख।",
    }
    body.update(overrides)
    return body


def errors(body: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(SubmissionInvalid) as info:
        parse_submission(body, max_text_chars=kwargs.get("max_text_chars", 10_000))
    return info.value.fields


def test_valid_submission_is_normalized() -> None:
    s = parse_submission(
        valid(author_email="Asha@EXAMPLE.com", author_name="  Asha  ", client_ip="203.0.113.9"),
        max_text_chars=10_000,
    )
    assert s.author_email == "Asha@example.com"  # domain lower-cased by email-validator
    assert s.author_name == "Asha"
    assert s.client_ip == "203.0.113.9"
    assert not s.is_honeypot_filled


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("thread_id", "", "blank"),
        ("thread_id", "x" * 201, "too_long"),
        ("author_name", "   ", "blank"),
        ("author_name", "x" * 246, "too_long"),
        ("author_name", "Asha\x07", "invalid_characters"),
        ("author_name", "Asha\u202egnp.exe", "invalid_characters"),
        ("author_email", "not-an-email", "invalid_email"),
        ("author_email", "a@" + "b" * 250 + ".com", "too_long"),
        ("author_url", "javascript:alert(1)", "invalid_url"),
        ("author_url", "https://user:pass@example.com/", "url_credentials_not_allowed"),
        ("author_url", "https://example.com/" + "x" * 200, "too_long"),
        ("thread_url", "ftp://example.com/a", "invalid_url"),
        ("text", "   \n ", "blank"),
        ("text", "bad\x00byte", "invalid_characters"),
        ("text", "lone \ud800 surrogate", "invalid_characters"),
        ("client_ip", "999.1.1.1", "invalid_ip"),
        ("form_started_at", "yesterday", "invalid_datetime"),
        ("form_started_at", "2026-01-01T10:00:00", "timezone_required"),
        ("lang", "english please", "invalid_lang"),
        ("text", 42, "must_be_string"),
        ("author_name", ["a"], "must_be_string"),
    ],
)
def test_field_rules(field: str, value: Any, code: str) -> None:
    assert errors(valid(**{field: value})) == {field: code}


def test_text_limit_is_a_setting() -> None:
    assert errors(valid(text="x" * 11), max_text_chars=10) == {"text": "too_long"}
    assert parse_submission(valid(text="x" * 10), max_text_chars=10).text == "x" * 10


def test_required_and_unknown_fields_are_named() -> None:
    fields = errors({"thread_id": "t", "nickname": "x", "is_admin": True})
    assert fields == {
        "author_name": "required",
        "author_email": "required",
        "text": "required",
        "nickname": "unknown_field",
        "is_admin": "unknown_field",
    }


def test_body_must_be_an_object() -> None:
    assert errors(["not", "an", "object"]) == {"body": "must_be_object"}


def test_honeypot_and_devanagari_joiners() -> None:
    s = parse_submission(valid(honeypot="I am a bot", author_name="क्\u200dष"), max_text_chars=100)
    assert s.is_honeypot_filled
    assert "\u200d" in s.author_name  # ZWJ is part of Devanagari spelling, kept


def test_errors_never_carry_the_submitted_value() -> None:
    secret = "leaky.value@example.invalid"
    with pytest.raises(SubmissionInvalid) as info:
        parse_submission(valid(author_email=secret + "@@", text=""), max_text_chars=100)
    assert secret not in str(info.value) and secret not in repr(info.value.fields)


def test_duplicate_fingerprint_ignores_case_and_spacing() -> None:
    a = parse_submission(valid(text="Great  article\n"), max_text_chars=100)
    b = parse_submission(valid(text="great article"), max_text_chars=100)
    c = parse_submission(valid(text="great articles"), max_text_chars=100)
    assert a.text_fingerprint() == b.text_fingerprint() != c.text_fingerprint()


@pytest.mark.parametrize("invisible", ["\u200b\u200d", "\u2060 \u200c", "\u00a0\u3000"])
def test_invisible_only_name_or_text_is_blank(invisible: str) -> None:
    assert errors(valid(author_name=invisible)) == {"author_name": "blank"}
    assert errors(valid(text=invisible)) == {"text": "blank"}
