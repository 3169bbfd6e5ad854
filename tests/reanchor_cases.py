"""Re-anchoring cases: an annotation made on one rendering of a text, moved to another.

Each case names the words annotated in the old wording and, written by hand, what a person
would do in the new one: the words they would select there (``person``), or None when a person
would not place the annotation at all (its words are gone, or only a different passage looks like
them). The ground truth is never computed by the code under test; ``tests/test_reanchor_benchmark.py``
only resolves it to offsets with ``str.index`` and checks that it is well-formed.

Most wordings are the corpus's own text:

* the RIAC capture (``004_adae101498f390d2.txt``) carries a short version of Asmolov's analysis
  followed by the full one, and several paragraphs of the short version reappear in the full
  version reworded (``SHORT`` and ``FULL`` below; the pairs are listed in ``RIAC_PAIRS``);
* Article 4 as the RIAC commentary quotes it and as "Highlights of Vladimir Putin's visit to DPRK"
  (``000_d10bc9f7d2bc6e46.txt``) quotes it: two English renderings of one provision, and the
  wording ``load_corpus`` gives provision 4 (the two passages, a blank line between);
* Article 3's wording as the RIAC quotes it, where Article 4's words are gone.

``ART4_OFFICIAL_STYLE`` is written for this benchmark in the style of an official English
translation (it is not quoted from any source), and the synthetic edits below change the corpus
wording the way an import could: insertions before the quote, a word changed inside it, a clause
deleted, the quote repeated elsewhere, punctuation and whitespace, words that are gone; two of
them are in Russian and Korean, with an emoji before the quote.
"""

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "treaty_app" / "corpus"


@dataclass(frozen=True)
class Case:
    name: str
    old: str  # the wording the annotation was made on
    words: str  # the annotated words
    new: str  # the wording it is moved to
    person: str | None  # the words a person would select in `new`; None: a person would not place it
    nth: int = 0  # which occurrence of `words` in `old` was annotated (0: the first)
    person_nth: int = 0  # which occurrence of `person` in `new` the person would select
    why: str = ""


def _between(text: str, first: str, last: str) -> str:
    """The part of ``text`` from the paragraph starting with ``first`` to the end of ``last``."""
    start = text.index(first)
    return text[start : text.index(last, start) + len(last)]


_RIAC = (CORPUS / "004_adae101498f390d2.txt").read_text(encoding="utf-8")
SHORT = _between(_RIAC, "Russian President Vladimir Putin’s visit to North Korea was", "deepened in a real sense.")
FULL = _between(
    _RIAC, "Russian President Vladimir Putin’s visit to North Korea, or the DPRK,", "on the Korean Peninsula."
)

# (first words of the short version's paragraph, first words of the full version's paragraphs).
RIAC_PAIRS = [
    ("Russian President Vladimir Putin’s visit to North Korea was", "Russian President Vladimir Putin’s visit to North Korea, or"),
    ("In addition to the Agreement", "As a result of the visit / Yet the most important / There are two points"),
    ("Article 4 of the treaty drew", "Yet it is Article 4 / Many people expected / However, some important points"),
    ("This stands in stark contrast", "This stands in stark contrast (identical)"),
    ("Article 16 may be seen", "Article 16 might be seen / However, the treaty does not / The official lifting"),
    ("Articles 18–20 appear similarly", "Article 17 addresses / Surely, it’s not quite clear"),
]

_PROVISIONS = {
    str(entry.get("number", entry.get("slug"))): [passage["quote"] for passage in entry.get("passages", [])]
    for entry in json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))["provisions"]
}
ART4_RIAC, ART4_NEO = _PROVISIONS["4"]
ART4_CORPUS = "\n\n".join(_PROVISIONS["4"])
(ART3_RIAC,) = _PROVISIONS["3"]

ART4_OFFICIAL_STYLE = (
    "In case any one of the two sides is put in a state of war by an armed invasion from an individual "
    "state or several states, the other side shall provide military and other assistance with all means "
    "in its possession without delay in accordance with Article 51 of the UN Charter and the laws of the "
    "DPRK and the Russian Federation."
)

ART4_RU = (
    "В случае если одна из Сторон подвергнется вооруженному нападению со стороны какого-либо государства "
    "или нескольких государств и окажется таким образом в состоянии войны, другая Сторона незамедлительно "
    "оказывает военную и иную помощь всеми имеющимися в ее распоряжении средствами."
)
ART4_KO = (
    "쌍방중 어느 일방이 개별적인 국가 또는 여러 국가들로부터 무력침공을 받아 전쟁상태에 처하게 되는 경우 "
    "타방은 지체없이 자기가 보유하고 있는 모든 수단으로 군사적 및 기타 원조를 제공한다."
)


def _riac_short_to_full() -> list[Case]:
    def c(name, words, person, person_nth=0, why=""):
        return Case(f"riac short→full: {name}", SHORT, words, FULL, person, person_nth=person_nth, why=why)

    return [
        c("milestone", "an important milestone not only in terms of bilateral relations",
          "an important milestone not only in terms of bilateral relations"),
        c("opening sentence, words inserted", "Russian President Vladimir Putin’s visit to North Korea was an important milestone",
          "Russian President Vladimir Putin’s visit to North Korea, or the DPRK, was an important milestone"),
        c("prophecy", "a self-fulfilling prophecy", "a self-fulfilling prophecy"),
        c("alliance", "the Washington—Tokyo—Seoul alliance", "the Washington—Tokyo—Seoul alliance"),
        c("road bridge", "the construction of a road bridge across the Tumangang border",
          "the construction of a road bridge across the Tumangang border"),
        c("health agreement, look-alike later", "cooperation in health care, medical education and science",
          "cooperation in health care, medical education and science"),
        c("magnitude", "does not diminish their magnitude", "does not diminish their magnitude"),
        c("most significant document, reworded", "the most significant document signed during the visit",
          "the most important document by far", why="the same claim in other words"),
        c("treaty title", "Treaty on Comprehensive Strategic Partnership between the Democratic People's Republic of Korea and the Russian Federation",
          "Treaty on Comprehensive Strategic Partnership between the Democratic People's Republic of Korea and the Russian Federation"),
        c("article title, quotation marks dropped",
          "Vladimir Putin’s article titled “Russia and the DPRK: Traditions of Friendship and Cooperation Through the Years”",
          "Vladimir Putin’s article titled Russia and the DPRK: Traditions of Friendship and Cooperation Through the Years"),
        c("pillar, word inserted", "asserted as a pillar in shaping a new world order built on justice",
          "asserted as a vital pillar in shaping a new world order built on justice"),
        c("rules-based order", "as opposed to the U.S. “rules-based order", "as opposed to the U.S. “rules-based order"),
        c("the term, capital dropped", "The term “comprehensive strategic partnership” formally means the highest level of relations between countries",
          "the term “comprehensive strategic partnership” formally means the highest level of relations between countries"),
        c("flight of stairs", "“we have jumped over several steps, or even a whole flight of stairs.”",
          "“we have jumped over several steps, or even a whole flight of stairs.”"),
        c("previous treaty", "The previous treaty dated February 9, 2000, was only pivoted “on friendship, good-neighborly relations and cooperation.”",
          "The previous treaty dated February 9, 2000, was only pivoted “on friendship, good-neighborly relations and cooperation.”"),
        c("open-ended, article word changed", "The new agreement is open-ended", "this new agreement is open-ended"),
        c("trend", "the trend will persist at least in the short, if not medium, term",
          "the trend will persist at least in the short, if not medium, term"),
        c("Article 4 paraphrase → treaty quote",
          "the other signatory shall immediately provide military and other assistance with all means in its possession",
          "the other Party shall immediately provide military and other assistance with all means in its possession",
          why="the commentary's paraphrase of the clause, now quoted in full"),
        c("military alliance", "Such wording de facto implies a military alliance", "Such wording de facto implies a military alliance"),
        c("shuns this term", "the Russian leadership shuns this term", "the Russian leadership shuns this term"),
        c("third countries", "emphasizing that the treaty is not directed against third countries",
          "emphasizing that the treaty is not directed against third countries"),
        c("hysteria", "In the West and in South Korea, this caused a stir bordering on hysteria.",
          "In the West and in South Korea, this caused a stir bordering on hysteria."),
        c("state of war sentence, 'not' dropped", "Article 4 mentions a state of war, which does not define every armed conflict",
          "Article 4 mentions a state of war, which does define every armed conflict"),
        c("armed conflict clause, 'not' dropped", "which does not define every armed conflict",
          "which does define every armed conflict"),
        c("special military operation", "The special military operation, it should be recalled, is technically not a war",
          "The special military operation, it should be recalled, is technically not a war"),
        c("declared war", "neither Moscow nor Kiev have declared war on each other",
          "neither Moscow nor Kiev have declared war on each other"),
        c("self-defense", "with Article 51 of the UN Charter, which permits individual or collective self-defense",
          "with Article 51 of the UN Charter, which permits individual or collective self-defense"),
        c("Article 51, second of two copies", "Article 51 of the UN Charter", "Article 51 of the UN Charter", person_nth=1,
          why="the full version also quotes Article 4's own 'in accordance with Article 51'; the context is the commentary's"),
        c("Article 3 consultation", "under Article 3 of the treaty, Pyongyang will first have to discuss any potentially drastic decision with Moscow",
          "under Article 3 of the treaty, Pyongyang will first have to discuss any potentially drastic decision with Moscow"),
        c("go rogue", "Kim Jong-un may “go rogue”", "Kim Jong-un may “go rogue”"),
        c("defense pact", "China also has a mutual defense pact with North Korea", "China also has a mutual defense pact with North Korea"),
        c("turn nuclear", "it will quickly turn nuclear, likely resulting in a Cold War-like confrontation",
          "it will quickly turn nuclear, likely resulting in a Cold War-like confrontation"),
        c("danger line", "this will be movement along the danger line without crossing it",
          "this will be movement along the danger line without crossing it"),
        c("Article 16, verb changed", "Article 16 may be seen as targeting sanctions", "Article 16 might be seen as targeting sanctions"),
        c("UNSC abbreviated", "does not explicitly state that UN Security Council sanctions can be ignored",
          "does not explicitly state that UNSC sanctions can be ignored"),
        c("position unchanged", "So far, it appears that Moscow’s position formally remains unchanged.",
          "So far, it appears that Moscow’s position formally remains unchanged."),
        c("sanctions regime", "It describes the sanctions regime as unfair", "It describes the sanctions regime as unfair"),
        c("circumvent, aside inserted", "along with looking for ways to circumvent them, driven by the principle",
          "along with looking for ways to circumvent them (this is almost written in clear text), driven by the principle"),
        c("not forbidden", "“everything which is not forbidden is allowed.”", "“everything which is not forbidden is allowed.”"),
        c("flare-up", "or their open disregard may come at the next stage of the flare-up between Russia and the West",
          "or their open disregard may come at the next stage of the flare-up between Russia and the West"),
        c("red line", "Moscow’s supply of precision weapons to Pyongyang is as unacceptable a red line for Seoul",
          "Moscow’s supply of precision weapons to Pyongyang is as unacceptable a red line for Seoul"),
        c("red clichés", "Some of them are “red,” depicting the North as a “clone of the Soviet Union,”",
          "Some of them are “red,” depicting the North as a “clone of the Soviet Union,”"),
        c("mortar shootings", "widespread myths about “mortar shootings” that need to be systematically uprooted",
          "widespread myths about “mortar shootings” that need to be systematically uprooted"),
        c("national leadership", "it is great that the national leadership has paid attention to this matter",
          "it is great that the national leadership has paid attention to this matter"),
        c("not quite clear", "Surely, it’s not quite clear just how much of this multilateral agreement will be implemented",
          "Surely, it’s not quite clear just how much of this multilateral agreement will be implemented"),
        c("intensity of contacts", "the intensity of contacts between the ministries, agencies and regions of the two countries",
          "the intensity of contacts between the ministries, agencies and regions of the two countries"),
        c("allied relations, words deleted", "allied relations between Russia and North Korea will be strengthened and deepened in a real sense",
          "allied relations will be strengthened and deepened in a real sense"),
    ]


def _riac_full_to_short() -> list[Case]:
    def c(name, words, person, nth=0, why=""):
        return Case(f"riac full→short: {name}", FULL, words, SHORT, person, nth=nth, why=why)

    gone = "the short version does not say this"
    return [
        c("prophecy", "a self-fulfilling prophecy", "a self-fulfilling prophecy"),
        c("opening sentence, words deleted", "Russian President Vladimir Putin’s visit to North Korea, or the DPRK, was an important milestone",
          "Russian President Vladimir Putin’s visit to North Korea was an important milestone"),
        c("Article 16, verb changed", "Article 16 might be seen as targeting sanctions", "Article 16 may be seen as targeting sanctions"),
        c("state of war sentence, 'not' added", "Article 4 mentions a state of war, which does define every armed conflict",
          "Article 4 mentions a state of war, which does not define every armed conflict"),
        c("the term, capital added", "the term “comprehensive strategic partnership”", "The term “comprehensive strategic partnership”"),
        c("UNSC spelt out", "does not explicitly state that UNSC sanctions can be ignored",
          "does not explicitly state that UN Security Council sanctions can be ignored"),
        c("allied relations, words added", "allied relations will be strengthened and deepened in a real sense",
          "allied relations between Russia and North Korea will be strengthened and deepened in a real sense"),
        c("previous treaty", "The previous treaty dated February 9, 2000", "The previous treaty dated February 9, 2000"),
        c("precision weapons", "Moscow’s supply of precision weapons to Pyongyang", "Moscow’s supply of precision weapons to Pyongyang"),
        c("open-ended with article number", "this new agreement is open-ended (Article 23)", "The new agreement is open-ended",
          why="the same statement without the article number"),
        c("Article 5", "“not to make friends against each other.”", None, why=gone),
        c("Rason FEZ", "the Rason FEZ", None, why=gone),
        c("highway link", "a highway link to the railroad connection", None, why=gone),
        c("students, look-alike agreement name",
          "The agreement on cooperation in health care, education, and science also opens prospects for North Korean students",
          None, why="only the agreement's name, in another sentence, looks like it"),
        c("coercive measures quote", "“The Parties oppose the use of unilateral coercive measures, including those of an extraterritorial nature",
          None, why=gone),
        c("no longer binds itself", "the Russian Federation no longer binds itself", None, why=gone),
        c("Chang Ho-jin", "Chang Ho-jin’s remarks", None, why=gone),
        c("ICTs", "the stance “against the misuse of ICTs to tarnish the dignity and image of sovereign countries", None, why=gone),
        c("Kim's visit", "which began after Kim Jong-un’s visit to Russia", None, why=gone),
        c("Russian money", "“Russian money —North Korean builders,”", None, why=gone),
    ]


def _article_4_renderings() -> list[Case]:
    def c(group, old, new, name, words, person, nth=0, why=""):
        return Case(f"article 4 {group}: {name}", old, words, new, person, nth=nth, why=why)

    riac_neo = ("RIAC→NEO", ART4_RIAC, ART4_NEO)
    neo_riac = ("NEO→RIAC", ART4_NEO, ART4_RIAC)
    official = ("RIAC→official-style", ART4_RIAC, ART4_OFFICIAL_STYLE)
    reported = ("corpus wording→official-style", ART4_CORPUS, ART4_OFFICIAL_STYLE)
    not_quoted = "the other rendering does not quote this part"
    return [
        c(*riac_neo, "state of war", "state of war", "state of war"),
        c(*riac_neo, "finds itself", "and thus finds itself in a state of war", "and thus finds itself in a state of war"),
        c(*riac_neo, "armed attack", "is subjected to an armed attack", "is subjected to an armed attack"),
        c(*riac_neo, "attackers reworded", "by an individual country or several countries", "by any one state or several states"),
        c(*riac_neo, "assistance, Party/shall", "the other Party shall immediately provide military and other assistance",
          "the other party will immediately provide military and other assistance"),
        c(*riac_neo, "all means reworded", "with all means in its possession", "with all means at its disposal"),
        c(*riac_neo, "Article 51", "in accordance with Article 51 of the UN Charter", None, why=not_quoted),
        c(*riac_neo, "national laws", "in accordance with the laws of the Democratic People’s Republic of Korea and the Russian Federation",
          None, why=not_quoted),
        c(*riac_neo, "military and other assistance", "military and other assistance", "military and other assistance"),
        c(*neo_riac, "attackers reworded", "by any one state or several states", "by an individual country or several countries"),
        c(*neo_riac, "whole obligation", "the other party will immediately provide military and other assistance with all means at its disposal",
          "the other Party shall immediately provide military and other assistance with all means in its possession"),
        c(*neo_riac, "a state of war", "a state of war", "a state of war"),
        c(*neo_riac, "disposal reworded", "at its disposal", "in its possession"),
        c(*official, "state of war", "state of war", "state of war", why="the user report: it occurs once"),
        c(*official, "Article 51", "in accordance with Article 51 of the UN Charter", "in accordance with Article 51 of the UN Charter",
          why="the user report: it occurs once"),
        c(*official, "all means", "with all means in its possession", "with all means in its possession"),
        c(*official, "military and other assistance", "military and other assistance", "military and other assistance"),
        c(*official, "obligation reworded", "the other Party shall immediately provide military and other assistance",
          "the other side shall provide military and other assistance"),
        c(*official, "attack reworded", "an armed attack by an individual country or several countries",
          "an armed invasion from an individual state or several states"),
        c(*official, "Russian Federation", "the Russian Federation", "the Russian Federation"),
        c(*official, "laws, name abbreviated", "the laws of the Democratic People’s Republic of Korea and the Russian Federation",
          "the laws of the DPRK and the Russian Federation"),
        c(*reported, "state of war, RIAC copy", "state of war", "state of war"),
        c(*reported, "state of war, NEO copy", "state of war", "state of war", nth=1),
        c(*reported, "Article 51", "in accordance with Article 51 of the UN Charter", "in accordance with Article 51 of the UN Charter"),
        c(*reported, "assistance, NEO copy", "military and other assistance", "military and other assistance", nth=1),
        c(*reported, "disposal reworded", "with all means at its disposal", "with all means in its possession"),
    ]


def _synthetic() -> list[Case]:
    def c(name, words, new, person, old=ART4_RIAC, person_nth=0, why=""):
        return Case(f"synthetic: {name}", old, words, new, person, person_nth=person_nth, why=why)

    heading = "Article 4\n\n1. " + ART4_RIAC
    merged = ART3_RIAC + "\n\n" + ART4_RIAC
    will = ART4_RIAC.replace("shall immediately provide", "will immediately provide")
    states = ART4_RIAC.replace("several countries", "several states")
    no_charter = ART4_RIAC.replace(" in accordance with Article 51 of the UN Charter and", "")
    war_defined = ART4_RIAC + "\n\n2. A Party is in a state of war when war has been declared on it."
    charter_again = ART4_RIAC + "\n\n2. Nothing in this Article affects measures taken in accordance with Article 51 of the UN Charter."
    doubled = ART4_RIAC + "\n\n" + ART4_RIAC
    disposal = (
        ART4_RIAC.replace("all means in its possession", "all means at its disposal")
        + "\n\n2. Each Party shall use all means in its possession to prevent war."
    )
    reflowed = ART4_RIAC.replace("an armed attack", "an\narmed  attack")
    plain_apostrophe = ART4_RIAC.replace("People’s", "People's")
    semicolon = ART4_RIAC.replace("state of war, the", "state of war; the")
    consultations = ART4_RIAC[: ART4_RIAC.index("the other Party")] + "the Parties shall immediately hold consultations."
    quoted = f"Yet it is Article 4 that made waves in the Western media: “{ART4_RIAC}”"
    typo = ART4_RIAC.replace("possession", "posession")
    return [
        c("heading inserted before", "state of war", heading, "state of war"),
        c("heading inserted before, Article 51", "in accordance with Article 51 of the UN Charter", heading,
          "in accordance with Article 51 of the UN Charter"),
        c("another article inserted before", "the other Party shall immediately provide military and other assistance", merged,
          "the other Party shall immediately provide military and other assistance"),
        c("shall → will inside", "the other Party shall immediately provide military and other assistance", will,
          "the other Party will immediately provide military and other assistance"),
        c("countries → states inside", "an individual country or several countries", states, "an individual country or several states"),
        c("typo fixed inside", "with all means in its posession", ART4_RIAC, "with all means in its possession", old=typo),
        c("clause deleted", "in accordance with Article 51 of the UN Charter", no_charter, None,
          why="the clause is gone; 'in accordance with the laws' is another clause"),
        c("clause deleted, neighbour kept", "with all means in its possession", no_charter, "with all means in its possession"),
        c("clause deleted, other clause kept", "in accordance with the laws of the Democratic People’s Republic of Korea and the Russian Federation",
          no_charter, "in accordance with the laws of the Democratic People’s Republic of Korea and the Russian Federation"),
        c("clause deleted inside the quote",
          "the other Party shall immediately provide military and other assistance with all means in its possession in accordance with Article 51 of the UN Charter",
          no_charter, "the other Party shall immediately provide military and other assistance with all means in its possession"),
        c("quote repeated in a new paragraph", "state of war", war_defined, "state of war"),
        c("clause repeated in a new paragraph", "in accordance with Article 51 of the UN Charter", charter_again,
          "in accordance with Article 51 of the UN Charter"),
        c("paragraph doubled", "shall immediately provide military and other assistance", doubled,
          "shall immediately provide military and other assistance", why="the first copy stands where the words stood"),
        c("edited in place, old words in a new paragraph", "all means in its possession", disposal, "all means at its disposal",
          why="the annotated clause now says 'at its disposal'; the new paragraph is another obligation"),
        c("whitespace re-flowed", "subjected to an armed attack", reflowed, "subjected to an\narmed  attack"),
        c("curly apostrophe → straight", "the Democratic People’s Republic of Korea", plain_apostrophe,
          "the Democratic People's Republic of Korea"),
        c("comma → semicolon", "a state of war, the other Party", semicolon, "a state of war; the other Party"),
        c("quotation marks dropped", "“In the event that one of the Parties is subjected to an armed attack", ART4_RIAC,
          "In the event that one of the Parties is subjected to an armed attack", old=quoted),
        c("obligation replaced", "the other Party shall immediately provide military and other assistance", consultations, None,
          why="the Parties now only consult: the assistance clause is gone"),
        c("words gone: another article", "state of war", ART3_RIAC, None, why="Article 3 does not speak of a state of war"),
        c("words gone: another article, longer quote", "military and other assistance with all means in its possession", ART3_RIAC, None,
          why="Article 3 does not oblige assistance"),
        c("russian, emoji heading inserted", "в состоянии войны", "🇷🇺 Статья 4. " + ART4_RU, "в состоянии войны", old=ART4_RU),
        c("russian, word changed", "другая Сторона незамедлительно оказывает военную и иную помощь",
          ART4_RU.replace("незамедлительно", "немедленно"), "другая Сторона немедленно оказывает военную и иную помощь",
          old=ART4_RU),
        c("korean, heading inserted", "전쟁상태에 처하게 되는 경우", "제4조\n" + ART4_KO, "전쟁상태에 처하게 되는 경우", old=ART4_KO),
        c("korean, word changed", "자기가 보유하고 있는 모든 수단으로 군사적 및 기타 원조를 제공한다",
          ART4_KO.replace("원조를", "지원을"), "자기가 보유하고 있는 모든 수단으로 군사적 및 기타 지원을 제공한다", old=ART4_KO),
    ]


CASES = [*_riac_short_to_full(), *_riac_full_to_short(), *_article_4_renderings(), *_synthetic()]
