"""Issue 13 coverage: transliteration, spelling skeletons, the variant matcher, the merged
permissive lexicon, and the news words that must stay clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.checks import lexicon_merge
from workers.checks.base import CheckInput
from workers.checks.normalize import LexiconEntry, normalize, parse_lexicon_lines
from workers.checks.registry import get_detector
from workers.checks.transliterate import entry_skeletons, romanize, skeleton
from workers.checks.variants import VariantLexicon, load_safe_skeletons


@pytest.mark.parametrize(
    ("word", "latin"),
    [
        ("हरामजादा", "haraamjaadaa"),  # medial schwa dropped (V C _ C V)
        ("कमीना", "kameenaa"),  # a word-initial schwa stays
        ("भड़वा", "bhadvaa"),
        ("मादरचोद", "maadarchod"),
        ("कुत्ता", "kuttaa"),  # virama: no vowel
        ("चमारों", "chamaaron"),  # anusvara
        ("छूट", "chhoot"),
    ],
)
def test_romanize_writes_devanagari_the_way_hinglish_is_typed(word: str, latin: str) -> None:
    assert romanize(word) == latin


def test_one_skeleton_for_the_common_hinglish_spellings_and_both_scripts() -> None:
    spellings = ["chutiya", "chootiya", "chuttiya", "chutia", "chuuuutiya", "चूतिया", "चुतिया"]
    assert {skeleton(w) for w in spellings} == {"chutia"}
    assert {skeleton(w) for w in ["haramzada", "haraamjaada", "हरामजादा", "हरामज़ादा"]} == {
        "haramjada"
    }
    assert skeleton("kameena") == skeleton("kamina") == skeleton("कमीना")
    assert skeleton("suwar") == skeleton("suvar")  # w/v


def test_ch_and_chh_stay_apart_where_the_chh_word_is_innocent() -> None:
    assert skeleton("chhoot") != skeleton("choot")  # exemption vs abuse
    assert skeleton("छुट्टियों") != skeleton("चूतियों")  # holidays vs abuse
    assert entry_skeletons("chhinal") == {"chhinal", "chinal"}
    assert entry_skeletons("chutiya") == {"chutia"}  # no chh twin for a ch entry


def _variants(*terms: str) -> VariantLexicon:
    return VariantLexicon([LexiconEntry(t, "insult", 3) for t in terms], load_safe_skeletons())


def test_one_curated_entry_matches_its_variants_in_both_scripts() -> None:
    lex = _variants("हरामज़ादा", "chootiya")
    for text in ["abe haramzada", "tu haraamjaada hai", "ye हरामजादा है", "चूतिया", "chutia"]:
        assert [m.entry.term for m in lex.find(normalize(text))], text


def test_variants_respect_safe_words_short_entries_and_whole_tokens() -> None:
    lex = _variants("लंड", "chut", "mc")
    for text in ["land records", "chot lagi", "MC Stan", "chutney", "Scunthorpe"]:
        assert lex.find(normalize(text)) == [], text


def test_variant_hits_do_not_repeat_exact_hits() -> None:
    norm = normalize("chutiya")
    exact = get_detector("toxicity").lexicon.find(norm)  # type: ignore[attr-defined]
    assert exact
    assert get_detector("toxicity").variants.find(norm, exact) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "Mandi mein maal ki aavak badhi",
        "Pant ko ghutne mein chot hai",
        "Land acquisition bill par aandolan",
        "Gandhinagar mein metro",
        "Diwali ki chhutti kitne din ki hai",
        "दिवाली की छुट्टियों में ट्रेन टिकट नहीं मिला",
        "Rohit ne 6 chakke maare",
        "मैच में छक्का लगाया",
        "10 saalon se sadak nahi bani",
        "Niki Lauda ki documentary",
        "Tax mein chhoot milegi",
        "Purani pension chod ke nayi scheme",
    ],
)
def test_news_vocabulary_stays_clean(text: str) -> None:
    result = get_detector("toxicity").run(CheckInput(text=text))
    assert result.verdict == "clean", (text, result.evidence)


@pytest.mark.parametrize(
    "text",
    ["tu chootiya hai", "abe chuttiye", "हरामज़ादे", "saale bhadwe", "teri maa ki chut", "bhosdike"],
)
def test_spelling_and_script_variants_of_abuse_are_held(text: str) -> None:
    assert get_detector("toxicity").run(CheckInput(text=text)).verdict != "clean", text


def test_merged_permissive_lexicon_is_reproducible_and_filtered() -> None:
    src = lexicon_merge.DEFAULT_SRC
    assert src.is_dir(), f"the permissive word lists are part of ../shared/data: {src}"
    shipped = {
        (e.term, e.severity)
        for e in parse_lexicon_lines(
            lexicon_merge.OUT_FILE.read_text(encoding="utf-8").splitlines()
        )
    }
    assert shipped == set(lexicon_merge.merged_entries(src))
    terms = {t for t, _ in shipped}
    assert len(terms) > 150
    # Harmless, news and community words the lists carry are dropped.
    assert not terms & {"maal", "land", "chod", "gand", "chut", "bihari", "goli", "bhai chhod"}
    assert not any("\u0d80" <= c <= "\u0dff" for t in terms for c in t)  # no Sinhala


def test_notice_names_every_permissive_source() -> None:
    notice = (Path(__file__).resolve().parents[2] / "NOTICE").read_text(encoding="utf-8")
    for source in ("LDNOOBW", "hinglish-profanity", "profanity-hindi", "CC BY 4.0", "Panlingua"):
        assert source in notice, source


def test_suspect_bars_are_per_language_and_fall_back_to_the_global_pair() -> None:
    from workers.checks.toxicity import model_bars

    model = get_detector("toxicity").model_artifact  # type: ignore[attr-defined]
    by_lang = model.meta["thresholds_by_lang"]
    assert set(by_lang) == {"en", "hi", "hi-Latn"}
    for lang, bars in by_lang.items():
        assert model_bars(model, lang) == (bars["threshold"], bars["threshold_alone"])
        assert 0.5 <= bars["threshold"] <= bars["threshold_alone"] <= 1.0
    assert model_bars(model, "mixed") == (model.threshold, model.threshold_alone)


def test_romanized_training_copy_and_the_folded_model_view() -> None:
    from workers.checks.toxicity_data import model_text, read_dataset

    data = lexicon_merge.REPO_ROOT.parent / "shared" / "data"
    rows = read_dataset(data, "panlingua_detox_hi@latn")
    assert rows and all(r["lang"] == "hi-Latn" for r in rows)
    assert not any("\u0900" <= c <= "\u097f" and c.isalpha() for r in rows for c in r["text"])
    assert model_text("चूतिया", "script_fold") == model_text("Chootiya", "script_fold") == "chutia"
    assert model_text("Chootiya") == "Chootiya"  # no transform: unchanged
