"""Find explicit references to provisions of *the* treaty in a paragraph of commentary.

The treaty under discussion is the 2024 DPRK–Russia Treaty on Comprehensive Strategic
Partnership (a preamble and 23 articles).  Commentary on it also cites other instruments
("Article 51 of the UN Charter", "article 5 of the NATO treaty"), and those must be ignored.

Rules
-----
Article designations
    A keyword -- "Article", "Articles", "Art.", "Arts.", "art" (any case) -- followed by a
    number.  Numbers are Arabic (1-999, optionally followed by subdivisions such as "(1)(a)",
    which stay in the text but do not change the slug) or upper-case Roman numerals I-XXXIX.
    "I" on its own is only read as a numeral after a capitalised keyword ("Article I"),
    so that prose such as "the article I wrote" is not a reference.

    Plural keywords take lists and ranges: "Articles 3, 4, and 5", "articles 1 & 2",
    "Articles 18–20", "Articles 10 to 12", "Articles 3, 5–7 and 9".  A singular keyword takes
    one number, or a dash range written without spaces ("Article 4-6"); "Article 4 and 5
    countries" therefore yields only art-4.  A list never mixes Arabic and Roman numerals.
    Reversed ranges and ranges spanning more than ``MAX_RANGE_SPAN`` articles are dropped.

The preamble
    "preamble" preceded by a determiner ("the", "its", "this", "our"), by the name of our
    treaty ("the treaty's preamble", "the treaty preamble"), or written "Preamble" with a
    capital (a heading).  "a preamble" is prose, not a reference.

Other instruments
    A reference is rejected when the words around it name another instrument:
    * a following "of ..." (or "to ..." after "preamble") noun phrase whose head is a foreign
      instrument noun (Charter, Constitution, Convention, ...), or whose head is a treaty noun
      (treaty, agreement, document, pact, ...) qualified by anything other than words that
      describe our treaty ("new", "this", "present", "2024", "comprehensive strategic
      partnership", "DPRK–Russia", ...).  "of the 1961 treaty", "of the NATO treaty",
      "of the North Atlantic Treaty", "of the UN Charter" and "of the United Nations" are
      all rejected; "of the treaty", "of this Treaty", "of the new agreement" are accepted.
      A treaty noun followed by "on/of" + a title or year is also checked:
      "of the Treaty of Friendship", "of the treaty of 1961" are rejected.
    * a preceding possessive or instrument name: "NATO's Article 5", "the Charter's
      preamble", "UN Charter Article 51" are rejected; "the treaty's preamble" is accepted.
    An "of ..." phrase that names no instrument at all ("Article 4 of course") is harmless.

The reference's ``text`` covers the designation only ("Articles 18–20", "preamble"), not
the accompanying "of the treaty".  Everything here is a pure function of the input string.
"""

import re
from dataclasses import dataclass

__all__ = ["Reference", "find_references", "PREAMBLE", "MAX_RANGE_SPAN"]

PREAMBLE = "preamble"

# A range wider than this is almost certainly a misreading (e.g. "Articles 1-999").
MAX_RANGE_SPAN = 100


@dataclass(frozen=True)
class Reference:
    start: int  # offset of the reference's first character in the paragraph
    end: int  # offset just past its last character
    text: str  # paragraph[start:end], e.g. "Articles 18–20"
    provisions: tuple[str, ...]  # provision slugs in order: "preamble", "art-4", ...


# --------------------------------------------------------------------------- patterns

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphen ... em dash, minus sign

_ARABIC = r"\d{1,3}(?!\w)(?:\(\w{1,3}\))*"  # "4", "4(1)", "4(1)(a)"; never part of "1961"
# Upper-case only, whatever the surrounding flags, so "article i" and "articles vi" never match.
_ROMAN = r"(?-i:(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3}))(?!\w)"
_NUMBER = rf"(?:{_ARABIC}|{_ROMAN})"
_LINK = rf"""(?:
      \s*,\s*(?:(?:and|or)\b|&)?\s*      # "3, 4", "3, 4, and 5"
    | \s*(?:(?:and|or)\b|&)\s*           # "10 and 11", "1 & 2"
    | \s*[{_DASHES}]\s*                  # "18-20", "18–20", "18 — 20"
    | \s+(?:to|through|thru)\s+          # "10 to 12"
)"""

_ARTICLE_REF = re.compile(
    rf"""
    (?<![{_DASHES}\w])                   # not the tail of a longer word ("counter-article")
    (?P<kw> articles?(?=\s) | arts?\. | arts?(?=\s) )
    \s*
    (?P<body> {_NUMBER} (?: {_LINK} {_NUMBER} )* )
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Pieces of a matched body, read left to right.
_BODY_TOKEN = re.compile(
    rf"""
      (?P<arabic> \d{{1,3}} ) (?:\(\w{{1,3}}\))*
    | (?P<roman> (?-i:[IVX]+) )
    | (?P<range> [{_DASHES}] | \b(?:to|through|thru)\b )
    | (?P<sep> , | & | \b(?:and|or)\b )
    """,
    re.IGNORECASE | re.VERBOSE,
)

_PREAMBLE_REF = re.compile(r"\bpreamble\b", re.IGNORECASE)

# Words (hyphen/dash-joined compounds kept whole, apostrophes kept) or single punctuation marks.
_WORD = r"[\w'’]+"
_TOKEN = re.compile(rf"{_WORD}(?:[{_DASHES}]{_WORD})*|[^\w\s]")
_OF_TAIL = re.compile(r"\s+of\s+", re.IGNORECASE)
_OF_OR_TO_TAIL = re.compile(r"\s+(?:of|to)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_YEAR = re.compile(r"1[89]\d\d|20\d\d")
_SPLIT_COMPOUND = re.compile(rf"[{_DASHES}]")

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}

# ------------------------------------------------------------------------- vocabulary

# Nouns that name our treaty when suitably qualified.
_OUR_HEADS = frozenset({"treaty", "agreement", "document", "pact", "accord", "text"})
# Nouns that always name some other instrument.
_FOREIGN_HEADS = frozenset({
    "charter", "constitution", "covenant", "convention", "statute", "protocol", "declaration",
    "code", "act", "law", "resolution", "regulation", "directive", "memorandum", "communiqué",
})
_DETERMINERS = frozenset({"the", "this", "that", "its", "our", "said", "same", "aforementioned"})
# Words that may qualify a treaty noun and still describe the 2024 treaty.
_OUR_QUALIFIERS = frozenset({
    "new", "present", "current", "latest", "recent", "2024", "june", "comprehensive", "strategic",
    "partnership", "bilateral", "landmark", "dprk", "russia", "russian", "north", "korea",
    "korean", "pyongyang", "moscow",
})
# Lower-case words that, before a treaty noun, point at some other treaty.
_FOREIGN_MARKERS = frozenset({
    "un", "u.n", "nato", "soviet", "ussr", "previous", "old", "former", "earlier", "prior",
    "original", "mutual", "defense", "defence", "friendship", "atlantic", "united", "nations",
    "wto", "gatt", "eu",
})
# "it's Article 4 that ..." is a contraction, not a possessive.
_CONTRACTIONS = frozenset({
    "it's", "that's", "there's", "here's", "what's", "who's", "where's", "let's", "he's", "she's",
})
# Words that end a noun phrase after "of": "Article 4 of course is ..." stops at "is".
_PHRASE_BREAKS = frozenset({
    "is", "was", "are", "were", "be", "and", "or", "but", "which", "who", "as", "in", "on",
    "with", "by", "for", "from", "to", "at", "states", "says",
})
_PHRASE_WINDOW = 6  # tokens examined after "of"


# --------------------------------------------------------------------------- public API

def find_references(paragraph: str, *, article_count: int | None = None) -> list[Reference]:
    """References in reading order. Article numbers above article_count (when given) are dropped;
    a reference left with no provisions is dropped."""
    found = [*_article_references(paragraph, article_count), *_preamble_references(paragraph)]
    return sorted(found, key=lambda ref: ref.start)


# ------------------------------------------------------------------------ articles

def _article_references(paragraph: str, article_count: int | None) -> list[Reference]:
    references = []
    for match in _ARTICLE_REF.finditer(paragraph):
        keyword = match.group("kw")
        numbers, end = _parse_body(
            paragraph, match.start("body"), match.end("body"),
            plural=keyword.lower().rstrip(".").endswith("s"),
            capitalised=keyword[0].isupper(),
        )
        if article_count is not None:
            numbers = [n for n in numbers if n <= article_count]
        if not numbers:
            continue
        start = match.start()
        if _names_other_instrument_before(paragraph, start):
            continue
        if _names_other_instrument_after(paragraph, end, _OF_TAIL):
            continue
        references.append(Reference(
            start=start,
            end=end,
            text=paragraph[start:end],
            provisions=tuple(f"art-{n}" for n in numbers),
        ))
    return references


def _parse_body(
    paragraph: str, start: int, end: int, *, plural: bool, capitalised: bool
) -> tuple[list[int], int]:
    """Numbers designated by paragraph[start:end] and where the designation really ends.

    The regex is deliberately generous; this is where list rules are enforced, and the
    body is cut short at the first item that breaks them.
    """
    segments: list[list[int]] = []  # [first] or [first, last] per list item
    kind: str | None = None  # "arabic" or "roman": a list never mixes them
    pending: str | None = None  # the link read since the last number
    pending_text = ""
    real_end = start

    for token in _BODY_TOKEN.finditer(paragraph, start, end):
        if token.lastgroup in ("range", "sep"):
            pending, pending_text = token.lastgroup, paragraph[real_end:token.end()]
            continue
        token_kind = "arabic" if token.group("arabic") else "roman"
        value = _number_value(token)
        if value is None:
            break
        if not segments:
            # A lone "I" is only a numeral after "Article" with a capital A.
            if token.group("roman") == "I" and not capitalised:
                break
        else:
            if token_kind != kind or (token.group("roman") == "I" and not capitalised):
                break
            # A singular keyword takes one number ("Article 4 and 5 countries" is art-4),
            # except for a tight dash range straight after it ("Article 4-6").
            tight_range = pending == "range" and pending_text == pending_text.strip()
            if not plural and not (tight_range and segments == [segments[0][:1]]):
                break
        if pending == "range" and segments and len(segments[-1]) == 1:
            segments[-1].append(value)
        else:
            segments.append([value])
        kind, pending, real_end = token_kind, None, token.end()

    numbers: list[int] = []
    for segment in segments:
        first, last = segment[0], segment[-1]
        if last < first or last - first > MAX_RANGE_SPAN:
            continue  # reversed or absurd range: drop it rather than guess
        numbers.extend(n for n in range(first, last + 1) if n >= 1 and n not in numbers)
    return numbers, real_end


def _number_value(token: re.Match[str]) -> int | None:
    if token.group("arabic"):
        return int(token.group("arabic"))
    return _roman_value(token.group("roman"))


def _roman_value(numeral: str) -> int | None:
    total = 0
    for char, following in zip(numeral, [*numeral[1:], ""]):
        value = _ROMAN_VALUES[char]
        total += -value if following and _ROMAN_VALUES[following] > value else value
    return total or None


# ------------------------------------------------------------------------ preamble

def _preamble_references(paragraph: str) -> list[Reference]:
    references = []
    for match in _PREAMBLE_REF.finditer(paragraph):
        start, end = match.span()
        if not _preamble_is_determined(paragraph, start, capitalised=match.group()[0] == "P"):
            continue
        if _names_other_instrument_before(paragraph, start):
            continue
        if _names_other_instrument_after(paragraph, end, _OF_OR_TO_TAIL):
            continue
        references.append(Reference(start, end, match.group(), (PREAMBLE,)))
    return references


def _preamble_is_determined(paragraph: str, start: int, *, capitalised: bool) -> bool:
    """'the/its preamble', "the treaty's preamble", or a capitalised heading; not 'a preamble'."""
    tokens = _tokens_before(paragraph, start)
    if not tokens:
        return capitalised
    previous = tokens[-1].lower()
    if previous in _DETERMINERS:
        return True
    if _strip_possessive(previous) in _OUR_HEADS:
        return True  # whether the treaty is ours is decided by the instrument check
    if previous in ("a", "an"):
        return False
    return capitalised


# ------------------------------------------------------------ other-instrument checks

def _names_other_instrument_after(paragraph: str, end: int, tail: re.Pattern[str]) -> bool:
    """Does an 'of ...' phrase right after the reference name something other than our treaty?"""
    linker = tail.match(paragraph, end)
    if not linker:
        return False
    tokens = _TOKEN.findall(paragraph, linker.end(), linker.end() + 160)
    odd_qualifier = False  # a word that is neither ours nor a determiner: "NATO", "1961", "old"
    for index, token in enumerate(tokens[:_PHRASE_WINDOW]):
        if not token[0].isalnum():
            break  # punctuation closes the noun phrase
        word = _strip_possessive(token.lower())
        if word in _OUR_HEADS:
            return odd_qualifier or _title_names_other_treaty(tokens[index + 1:])
        if word in _FOREIGN_HEADS:
            return True
        if word in _PHRASE_BREAKS:
            break
        if word in _DETERMINERS or _is_our_qualifier(word):
            continue
        odd_qualifier = True
        if _is_proper(token) or word in _FOREIGN_MARKERS:
            # "of the UN", "of the United Nations", "of NATO": no treaty noun needed.
            return True
    return False


def _title_names_other_treaty(tokens: list[str]) -> bool:
    """After a treaty noun: 'Treaty of Friendship', 'treaty of 1961', 'treaty signed in 2000'."""
    years = []
    for token in tokens[:5]:
        if not token[0].isalnum():
            break
        if _YEAR.fullmatch(token):
            years.append(token)
    if years:
        return any(year != "2024" for year in years)
    if tokens and tokens[0].lower() in ("on", "of"):
        title = [t for t in tokens[1:4] if t.lower() not in ("a", "the")]
        # A capitalised word here is another treaty's title, unless it is ours.
        return bool(title) and title[0][0].isupper() and not _is_our_qualifier(title[0].lower())
    return False


def _names_other_instrument_before(paragraph: str, start: int) -> bool:
    """Does a possessive or instrument name right before the reference point elsewhere?

    "NATO's Article 5", "the Charter's preamble", "UN Charter Article 51" -> True;
    "the treaty's preamble", "under Article 3" -> False.
    """
    tokens = _tokens_before(paragraph, start)
    if not tokens or not tokens[-1][0].isalnum():
        return False
    last = tokens[-1].lower()
    if last in _CONTRACTIONS:
        return False
    word = _strip_possessive(last)
    if word in _OUR_HEADS:
        return _qualifiers_name_other_treaty(tokens[:-1])
    if word != last:
        return True  # any other possessive: "NATO's", "the Charter's", "Putin's"
    return word in _FOREIGN_HEADS or word in _FOREIGN_MARKERS


def _qualifiers_name_other_treaty(tokens: list[str]) -> bool:
    """Reading backwards from a treaty noun: 'the 1961 treaty' -> True, 'the new treaty' -> False."""
    for token in reversed(tokens[-5:]):
        if not token[0].isalnum():
            return False
        word = token.lower()
        if word in _DETERMINERS:
            return False
        if _is_our_qualifier(word):
            continue
        return _is_proper(token) or word in _FOREIGN_MARKERS
    return False


# --------------------------------------------------------------------------- helpers

def _tokens_before(paragraph: str, start: int) -> list[str]:
    return _TOKEN.findall(paragraph, max(0, start - 120), start)


def _strip_possessive(word: str) -> str:
    return _POSSESSIVE.sub("", word)


def _is_our_qualifier(word: str) -> bool:
    """'new', '2024', 'DPRK–Russia' (every part of a compound must qualify)."""
    return all(part in _OUR_QUALIFIERS for part in _SPLIT_COMPOUND.split(word) if part)


def _is_proper(token: str) -> bool:
    """A capitalised word or a number: 'NATO', 'Atlantic', '1961'."""
    return token[0].isupper() or token[0].isdigit()
