"""Pure parts of the console: evidence highlighting (Devanagari included) and form parsing."""

from __future__ import annotations

from service.console.forms import parse_decision, parse_policy_form, policy_form_values
from service.console.highlight import segments
from service.domain.checks import Evidence


def test_a_devanagari_span_is_cut_exactly_where_the_check_cut_it() -> None:
    text = "सुन बे हरामी, तेरी बकवास बंद कर"
    start = text.index("हरामी")
    parts = segments(text, [Evidence(start, start + len("हरामी"), "insult:2")])
    assert [(p.text, p.labels) for p in parts] == [
        ("सुन बे ", ()),
        ("हरामी", ("insult:2",)),
        (", तेरी बकवास बंद कर", ()),
    ]
    assert parts[1].kind == "abuse" and "".join(p.text for p in parts) == text


def test_overlapping_spans_merge_and_bad_spans_are_ignored() -> None:
    text = "call 9876543210 or https://bit.ly/x"
    link = text.index("https")
    parts = segments(
        text,
        [
            Evidence(link, len(text), "link"),
            Evidence(link, len(text), "shortener"),
            Evidence(5, 15, "phone_number"),
            Evidence(7, 7, "empty"),
            Evidence(30, 999, "out_of_range"),
            Evidence(4, 2, "backwards"),
            Evidence(-1, 3, "negative"),
        ],
    )
    marked = [(p.text, p.kind) for p in parts if p.is_marked]
    assert marked == [("9876543210", "contact"), ("https://bit.ly/x", "link")]
    assert segments("", []) == segments("", [Evidence(0, 1, "x")])


def test_decision_forms_refuse_what_the_api_refuses() -> None:
    assert isinstance(parse_decision({"action": "delete"}), str)
    assert isinstance(parse_decision({"action": "reject", "reason": "Not Snake"}), str)
    assert isinstance(parse_decision({"action": "reject", "note": "a\x00b"}), str)
    ok = parse_decision({"action": "spam", "reason": "spam_link", "expected_status": "held"})
    assert not isinstance(ok, str)
    assert (ok.action, ok.reason, ok.expected_status and ok.expected_status.value) == (
        "spam",
        "spam_link",
        "held",
    )


def test_the_policy_form_round_trips_a_policy_document() -> None:
    document = {
        "max_links": 3,
        "premoderation": "first_time",
        "shadow_mode": True,
        "blocked_words": ["कमल", "tamatar", "free money"],
        "thresholds": {"toxicity": {"hi": {"suspect": 0.6}}},
    }
    parsed, errors = parse_policy_form(policy_form_values(document))
    assert errors == {} and parsed == document
    _, errors = parse_policy_form({"max_links": "three", "thresholds": "{nope"})
    assert errors == {"max_links": "must_be_integer", "thresholds": "must_be_json"}
