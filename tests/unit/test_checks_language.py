"""Language identification: en, hi, hi-Latn, mixed, und."""

from __future__ import annotations

import pytest

from workers.checks.registry import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("पुतिन और किम की यह संधि एशिया की सुरक्षा के लिए चिंता का विषय है।", "hi"),
        ("Bahut badhiya article hai, poora context mil gaya. Dhanyavaad!", "hi-Latn"),
        ("yeh sarkar kuch nahi karti, sab jhooth hai", "hi-Latn"),
        ("Mohabbt h toh ajan zaruri h kya..", "hi-Latn"),
        ("tu chutiya hai", "hi-Latn"),
        ("The government should publish the full report before the election.", "en"),
        ("Modi ji is doing great work for the country", "en"),
        ("I went to the market in the morning", "en"),
        ("यह article बहुत अच्छा है but the headline is misleading", "mixed"),
        ("", "und"),
        ("12345 !!! 😀", "und"),
        ("Это просто текст", "und"),
        ("यह खबर पढ़ें https://example.com/news/123", "hi"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
