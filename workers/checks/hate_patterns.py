"""Group hate and threats without a swear word, in English, Devanagari Hindi and Hinglish.

Most hate in news comments names a group and says something about it: "X are animals",
"इनको मार डालो", "in logon ko desh se nikalo". Word lists cannot see that, so
:func:`find_patterns` looks for a *group* (a community, caste, religion, region, gender, or a
demonstrative "these people"/"ये लोग"/"ye log") a few words before:

- ``dehumanise``: an animal/vermin/disease noun used as a predicate ("are vermin", "कीडे हैं",
  "janwar hain", "breed like rats");
- ``violence``: a call to kill, burn, hang, expel or "send to Pakistan";
- ``exclusion``: "should be thrown out", "घुसने मत दो", "women belong in the kitchen".

It also finds direct threats to the reader ("jaan se maar dunga", "तुझे देख लूंगा").

Guards (tested): the predicate must follow the group directly as a statement, so negation
("Muslims are **not** the problem", "जानवर नहीं हैं") does not match; a comment that condemns
the hate (:data:`COUNTER_RE`: "is hateful", "कहना गलत है", "galat hai", "stop calling") gets no
pattern hits; a group mentioned neutrally ("दलित समुदाय के लिए नई योजना") matches nothing.
Patterns run on :func:`workers.checks.normalize.normalize` output (casefolded, nukta dropped).
"""

from __future__ import annotations

import regex

from workers.checks.normalize import LexiconEntry, LexiconMatch, NormalizedText

_B = r"(?<![\p{L}\p{M}\p{N}])"
_E = r"(?![\p{L}\p{M}\p{N}])"
_GAP = r"(?:\s+[\p{L}\p{M}\p{N}']+){0,4}?\s+"  # up to four words in between

_GROUP_EN = (
    r"muslims?|hindus?|christians?|sikhs?|jews?|dalits?|brahmins?|biharis?|kashmiris?|migrants?|"
    r"immigrants?|refugees?|rohingyas?|bangladeshis?|pakistanis?|north\s*easterners?|"
    r"northeasterners?|tamils?|bengalis?|women|girls|feminists?|gays?|muslas?|mullahs?|mullas?|"
    r"katuas?|chinkis?|chinky|these\s+people|those\s+people|such\s+people|they|these|them"
)
_GROUP_HI_LATN = (
    r"musal+ma+n|muslim|mul+e|mul+o|mul+on|katu[ae]|katuo|katwe|hindu|dalit|chamar[oe]n?|biharis?|"
    r"biharo|kashmiri|pakistani|bangladeshi|rohingya|aurat[eo]n?|aurat|ladki[yo]a?n?|"
    r"ye\s+log|yeh\s+log|in\s+logo?n?|inko|inhe|inhein|sab|saa?re|sabhi|ye\s+sab|yeh\s+sab"
)
_GROUP_HI = (
    r"मुसलमान|मुस्लिम|मुसलमानों|मुल्ले|मुल्लों|कटुए|कटुओं|कटुआ|हिंदू|हिन्दू|दलित|चमार|चमारों|बिहारी|"
    r"कश्मीरी|पाकिस्तानी|बांग्लादेशी|रोहिंग्या|औरतें|औरतों|औरत|लडकियां|लडकियों|ये\s+लोग|इन\s+लोगों|"
    r"इन्हें|इनको|इन|सब|सारे|सभी|ये\s+सब"
)
GROUP = rf"{_B}(?:{_GROUP_EN}|{_GROUP_HI_LATN}|{_GROUP_HI}){_E}"

_DEHUMAN_EN = (
    r"(?:are|r|is)\s+(?:just\s+|nothing\s+but\s+|all\s+|like\s+)?(?:animals|vermin|rats|"
    r"cockroaches|parasites|termites|insects|pigs|dogs|snakes|monkeys|savages|scum|filth|filthy|"
    r"subhumans?|a\s+disease|a\s+cancer|a\s+virus|a\s+plague)"
)
_BREED = r"breed\s+like\s+(?:rats|rabbits|animals|pigs|flies|cockroaches)"
_DEHUMAN_HI_LATN = (
    r"(?:kee?de?y?|kide|kee?de?\s+maa?ko?de?|ja+nwa?r|ja+nva?r|dee?mak|suw?a?r|kutte|sa+np|"
    r"sampole|gandagi|kachra|virus|cancer)\s+(?:hai|hain|he|h|hote\s+hain)"
)
_DEHUMAN_HI = (
    r"(?:कीडे(?:\s+मकोडे)?|जानवर|दीमक|सूअर|सुअर|कुत्ते|सांप|संपोले|गंदगी|कचरा|वायरस|कैंसर)"
    r"\s+(?:हैं|है|होते\s+हैं)"
)
DEHUMAN = rf"{_B}(?:{_DEHUMAN_EN}|{_DEHUMAN_HI_LATN}|{_DEHUMAN_HI}){_E}"

_VIOLENCE_EN = (
    r"(?:kill|shoot|hang|burn|slaughter|exterminate|wipe\s+out|butcher|lynch|gas|behead)"
    r"(?:\s+(?:all|every|each|the|of))*"
)
_VIOLENCE_LATN = (
    r"ma+r\s+(?:do|de|da+lo|dena|denge|dalna)|ma+ro|ka+t\s+(?:do|da+lo|dena)|jala\s+(?:do|da+lo|dena)|"
    r"goli\s+ma+r\s*(?:do|de|dena)?|goli\s+ma+ro|khatam\s+kar\s+(?:do|dena)|"
    r"(?:desh|bharat|india)\s+se\s+(?:bahar\s+)?nikalo|bhagao|(?:pakistan|bangladesh)\s+bhej(?:o|\s+do|na)"
)
_VIOLENCE_HI = (
    r"मार\s+(?:डालो|दो|देना|देंगे)|मारो|काट\s+(?:डालो|दो)|जला\s+(?:दो|डालो)|गोली\s+मार\s*(?:दो)?|"
    r"गोली\s+मारो|खत्म\s+कर\s+दो|(?:देश|भारत)\s+से\s+(?:बाहर\s+)?निकालो|भगाओ|(?:पाकिस्तान|बांग्लादेश)\s+भेज(?:ो|\s+दो)"
)
VIOLENCE_AFTER_GROUP = rf"{_B}(?:{_VIOLENCE_LATN}|{_VIOLENCE_HI}){_E}"
VIOLENCE_BEFORE_GROUP = rf"{_B}{_VIOLENCE_EN}{_E}"

_EXCLUSION = (
    r"should\s+be\s+(?:thrown|kicked|driven|kept)\s+out|should\s+go\s+back\s+to|go\s+back\s+to\s+"
    r"(?:china|pakistan|bangladesh)|wa+pas\s+(?:china|pakistan|bangladesh)\s+ja+o|"
    r"ghusne\s+mat\s+do|घुसने\s+मत\s+दो|वापस\s+(?:चीन|पाकिस्तान|बांग्लादेश)\s+जाओ"
)
_GENDER = (
    rf"{_B}(?:women|woman|girls)\s+(?:belong|should\s+stay)\s+in\s+the\s+kitchen"
    r"|aurat(?:on)?\s+ki\s+jagah\s+(?:rasoi|ghar|kitchen)"
    r"|औरतों?\s+की\s+जगह\s+(?:रसोई|घर)|औरतें\s+घर\s+में\s+रहें"
)

_THREAT = (
    r"ja+n\s+se\s+ma+r\s+(?:du+nga|denge|dalunga)|tujhe\s+(?:ma+r|dekh)\s+(?:du+nga|lu+nga|lenge)|"
    r"tere?\s+ghar\s+(?:ka\s+pata|a+\s*ke)|ghar\s+ka\s+pata\s+hai|"
    r"जान\s+से\s+मार\s+(?:दूंगा|देंगे|डालूंगा)|तुझे\s+(?:मार|देख)\s+(?:दूंगा|लूंगा|लेंगे)|"
    r"टांगें\s+तोड\s+दूंगा|i\s+know\s+where\s+you\s+live|you\s+(?:are|re)\s+dead"
)

COUNTER_RE = regex.compile(
    rf"{_B}(?:is|are|was)\s+(?:hateful|wrong|dehumani[sz]ing|racist|bigoted|disgusting|hate\s+speech)"
    r"|stop\s+calling|calling\s+\w+\s+\w*\s*is|dehumani[sz]ing|galat\s+(?:hai|hain|he)|"
    r"गलत\s+(?:है|हैं)|नफरत\s+फैला|भेदभाव|bhedbhav|kehna\s+galat|कहना\s+गलत|propaganda"
)

_PATTERNS: tuple[tuple[regex.Pattern[str], LexiconEntry], ...] = (
    (
        regex.compile(rf"{GROUP}{_GAP}(?:{DEHUMAN})|{_B}{_BREED}{_E}"),
        LexiconEntry("pattern:dehumanise", "identity_attack", 2),
    ),
    (
        regex.compile(rf"{GROUP}{_GAP}(?:{VIOLENCE_AFTER_GROUP})"),
        LexiconEntry("pattern:violence", "threat", 2),
    ),
    (
        regex.compile(rf"{VIOLENCE_BEFORE_GROUP}\s+(?:{GROUP}|their\s+(?:houses|homes|shops))"),
        LexiconEntry("pattern:violence", "threat", 2),
    ),
    (
        regex.compile(rf"{GROUP}{_GAP}(?:{_EXCLUSION})|{_B}(?:{_GENDER}){_E}"),
        LexiconEntry("pattern:exclusion", "identity_attack", 2),
    ),
    (regex.compile(rf"{_B}(?:{_THREAT}){_E}"), LexiconEntry("pattern:threat", "threat", 3)),
)


def find_patterns(norm: NormalizedText) -> list[LexiconMatch]:
    """Pattern hits in ``norm`` as lexicon-style matches (offsets into the original text).

    Returns nothing for a comment that condemns hate (:data:`COUNTER_RE`).
    """
    text = norm.text
    if COUNTER_RE.search(text):
        return []
    hits: list[LexiconMatch] = []
    for pattern, entry in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = norm.to_original(m.start(), m.end())
            hits.append(LexiconMatch(start, end, entry))
    return hits
