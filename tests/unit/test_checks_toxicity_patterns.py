"""Issue 13: group hate and threats without swear words, and the traps that must stay clean."""

from __future__ import annotations

import pytest

from workers.checks.base import CheckInput
from workers.checks.hate_patterns import find_patterns
from workers.checks.normalize import normalize
from workers.checks.registry import get_detector
from workers.tasks import load_detector


def verdict(text: str) -> str:
    return get_detector("toxicity").run(CheckInput(text=text)).verdict


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Muslims are animals and should be thrown out", "pattern:dehumanise"),
        ("These migrants are vermin", "pattern:dehumanise"),
        ("they breed like rats", "pattern:dehumanise"),
        ("मुसलमान कीड़े हैं", "pattern:dehumanise"),
        ("ye log janwar hain", "pattern:dehumanise"),
        ("Kill all the Kashmiris", "pattern:violence"),
        ("Burn their houses down", "pattern:violence"),
        ("ये सब गद्दार हैं, इनको मार डालो", "pattern:violence"),
        ("in logon ko desh se nikalo", "pattern:violence"),
        ("inko pakistan bhejo", "pattern:violence"),
        ("Chinkis from the north east should go back to China", "pattern:exclusion"),
        ("इन चमारों को मंदिर में घुसने मत दो", "pattern:exclusion"),
        ("Women belong in the kitchen", "pattern:exclusion"),
        ("aurat ki jagah rasoi mein hai", "pattern:exclusion"),
        ("tujhe jaan se maar dunga", "pattern:threat"),
        ("तुझे देख लूंगा", "pattern:threat"),
        ("I know where you live", "pattern:threat"),
    ],
)
def test_group_hate_and_threats_are_found_and_held(text: str, kind: str) -> None:
    assert kind in [m.entry.term for m in find_patterns(normalize(text))], text
    assert verdict(text) != "clean", text


@pytest.mark.parametrize(
    "text",
    [
        # negation
        "Muslims are not the problem; unemployment is.",
        "मुसलमान समस्या नहीं हैं",
        "ye log janwar nahi hain, insaan hain",
        # counter-speech quoting the hate to condemn it
        "Calling migrants vermin is dehumanising and this paper should say so.",
        "किसी समुदाय को कीड़े कहना नफ़रत फैलाना है, ऐसी भाषा बंद हो।",
        "Jo log Manipur walon ko videshi kehte hain wo galat hain.",
        # neutral mentions of a group
        "दलित समुदाय के लिए नई योजना",
        "Dalits deserve the same schools and roads as everyone else.",
        "Kinnar samaj ko pehli baar voter ID mili",
        # animals, pests and violence in news reporting
        "फसल में कीड़े लगने से किसान परेशान हैं",
        "Police killed two militants in an encounter",
        "Hindu Muslim se upar utho, naukri ki baat karo",
        # a reclaimed caste name on its own
        "The Great Chamar band sang at the rally",
    ],
)
def test_traps_stay_clean(text: str) -> None:
    assert verdict(text) == "clean", (text, find_patterns(normalize(text)))


def test_the_opt_in_trac_model_is_one_plugin_setting_with_a_clear_error() -> None:
    plugins = {"toxicity": "workers.checks.registry:trac_toxicity"}
    get_detector.cache_clear()
    try:
        detector = load_detector("toxicity", plugins)
    except FileNotFoundError as exc:
        assert "make models-nc" in str(exc)
        assert "non-commercial" in str(exc)
    else:  # built locally with `make models-nc`
        assert "trac" in detector.model  # type: ignore[attr-defined]
    finally:
        get_detector.cache_clear()
