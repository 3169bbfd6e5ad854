"""Strip the site chrome from a captured web page and return the article body as paragraphs.

A *capture* is the plain text of a commentary page as a browser saved it: the article plus
the site's navigation, widgets and lists around it.  ``clean_capture`` keeps the article and
drops the chrome; ``body_from_paragraphs`` turns the result into the canonical cleaned body
that excerpt offsets point into.

Text normalisation (kept minimal, because excerpts must stay verbatim):

* line endings become ``\\n`` and the text is put into Unicode NFC;
* inside a line, runs of spaces, tabs and non-breaking/typographic spaces become one space and
  the line is stripped; a byte-order mark or zero-width space is dropped;
* every non-empty line is one paragraph (these captures put one paragraph per line);
* curly quotes, dashes, guillemets and the like are left exactly as captured.

What counts as chrome, and why:

* **Widget lines** anywhere in the page, matched as whole lines only so that a sentence which
  merely mentions "share" or "poll" is kept: language switchers ("EN|FR|RU",
  "Читать на русском", "Read in Russian"), follow/share widgets ("Follow us on:", "Send to",
  "Share this article"), rating/vote widgets ("Rate this article", "(votes: 3, rating: 5)",
  "(3 votes)").  They are navigation, not text by the author.
* **Photo captions**: a line ending in a parenthesised photo credit ("... (Pool Photo via AFP)")
  or starting "Photo:"; they describe a picture, not the argument.
* **Tail lists**: everything from a "More on this topic" / "Related articles" / "Read more"
  heading, or from a "Poll conducted" widget, to the end of the capture.  These lists link to
  other pages; what follows them is footer.  The cut only happens once some prose has been
  seen, so a stray marker at the very top cannot swallow the article.
* **Trailing footer links** ("For business", "For researchers", "For students", "Privacy
  policy", "© ...") left at the very end.
* **Header**: a byline near the top ("Konstantin Asmolov, June 26", "June 18, 2024 - 16:20 By
  Ji Da-gyum", ...) and every short line before it (page title, deck/standfirst).  Without a
  byline, only leading lines equal to ``title`` are dropped (compared case-, quote- and
  whitespace-insensitively, since metadata writes "Putin's" where the page has "Putin’s").
* **Kicker**: decision — the single short heading-like line right after the byline is
  *dropped*, always.  On these sites it is the label of the lead image or a repeat of the
  title ("Vladimir Putin’s visit to DPRK" in 000, the title again in 002, "Putin in North
  Korea" in 003), never the author's text.  It is dropped whether or not it resembles the
  title, so the rule is the same on every page.
* **Author bios**: within the first or the last two paragraphs, a paragraph that starts with
  the author's name followed by a separator and credentials ("Konstantin Asmolov, PhD in
  History, Leading Research Fellow ...", "Abbas Hashemite – is a political observer ...",
  "... exclusively for “New Eastern Outlook”"), or the author's name on its own line followed
  by a credentials line ("Konstantin Asmolov" / "Leading Research Fellow ..., RIAC expert").
  With ``author=None`` any two-to-four-word capitalised name is accepted in the one-line form.
* Whitespace-only lines, including a lone non-breaking space.

Content headings inside the article ("Military cooperation", "Seoul’s response") are kept.
Repeated paragraphs are kept too: de-duplication of excerpts happens elsewhere.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_capture", "body_from_paragraphs"]

# --- text normalisation -------------------------------------------------------------------

# Every line-break form a capture may use, so that splitting on "\n" sees them all.
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\u2028|\u2029|\x0b|\x0c|\x85")
# Horizontal whitespace, including NBSP and the Unicode typographic spaces browsers emit.
_INLINE_SPACE_RE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Invisible characters that make a blank line look non-empty (BOM, zero-width space).
_INVISIBLE_RE = re.compile(r"[\ufeff\u200b]")

# --- widget lines (whole-line matches; removed wherever they occur) -----------------------

# Language switcher: two or more two-letter codes joined by "|" or "/" ("EN|FR|RU").
_LANGUAGE_SWITCH_RE = re.compile(r"[A-Z]{2}(?:\s*[|/·•]\s*[A-Z]{2})+")
# Links to another language version of the page ("Read in Russian", "Читать на русском").
_OTHER_LANGUAGE_RE = re.compile(
    r"(?:read\s+(?:this\s+(?:article\s+|page\s+)?)?in\s+\w+|читать\s+на\s+\w+(?:\s+языке)?)",
    re.IGNORECASE,
)
# Follow/share/send widgets ("Follow us on:", "Share this article", "Send to").
_SHARE_WIDGET_RE = re.compile(
    r"(?:follow\s+us(?:\s+on)?|share(?:\s+(?:this|the))?(?:\s+(?:article|page|story|post))?"
    r"(?:\s+on\s+\w+)?|send\s+to|subscribe)\s*:?",
    re.IGNORECASE,
)
# Rating/vote widgets: "Rate this article", "(votes: 3, rating: 5)", "(3 votes)".
_RATING_WIDGET_RE = re.compile(
    r"(?:rate\s+this\s+(?:article|page|post|story)"
    r"|\(\s*votes?\s*:\s*\d+\s*,\s*rating\s*:\s*[\d.,]+\s*\)"
    r"|\(\s*\d+\s+votes?\s*\))",
    re.IGNORECASE,
)
_WIDGET_LINE_RES = (_LANGUAGE_SWITCH_RE, _OTHER_LANGUAGE_RE, _SHARE_WIDGET_RE, _RATING_WIDGET_RE)

# Photo caption: the line ends (no full stop after it) in a parenthesised credit naming a photo
# source ("(Pool Photo via AFP)", "(Getty Images)"), or starts with a "Photo:" label.  Body
# sentences end in ")." instead, so they are not caught.
_CAPTION_RE = re.compile(
    r"(?:.*\((?=[^()]*\b(?:photos?|images?|pool|getty|shutterstock|courtesy|credit)\b)[^()]*\)"
    r"|(?:photo|image)(?:\s+by\b|\s*:).*)",
    re.IGNORECASE,
)

# --- tail ---------------------------------------------------------------------------------

# Start of the related-links list or the poll widget: everything from here on is chrome.
_TAIL_MARKER_RE = re.compile(
    r"(?:more\s+on\s+(?:this|the)\s+topic|related\s+(?:articles?|posts?|stories|news|materials?)"
    r"|read\s+(?:more|also)|see\s+also|you\s+(?:may|might)\s+also\s+like"
    r"|poll(?:\s+(?:conducted|results))?)\s*:?",
    re.IGNORECASE,
)
# Site footer links that can be left over at the very end ("For business", "© 2024 ...").
_FOOTER_LINK_RE = re.compile(
    r"(?:for\s+(?:business|researchers|students|journalists|media|partners|experts|authors)"
    r"|privacy\s+policy|terms\s+of\s+(?:use|service)|contacts?(?:\s+us)?|about\s+us"
    r"|(?:©|\(c\)|copyright\b).*)",
    re.IGNORECASE,
)

# --- header -------------------------------------------------------------------------------

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# "June 26", "July 12, 2024", "12 July 2024", "2024-07-12".
_DATE = (
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}\s+{_MONTH}(?:,?\s+\d{{4}})?"
    r"|\d{4}-\d{2}-\d{2})"
)
# Optional time after the date: " - 16:20", " | 4:20 PM".
_TIME = r"(?:\s*[-–—|,]?\s*\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?)?"
# A personal name of one to four words; letters, hyphens, apostrophes, initials.
_ANY_NAME = r"[^\W\d_][\w'’.-]*(?:\s+[^\W\d_][\w'’.-]*){0,3}"

# Byline near the top: "Name, Date", "Date - Time By Name" or "By Name[, Date]".
_BYLINE_RE = re.compile(
    rf"(?:(?:by\s+)?{_ANY_NAME},\s*{_DATE}{_TIME}"
    rf"|{_DATE}{_TIME}\s*[-–—|,]?\s*by\s+{_ANY_NAME}"
    rf"|by\s+{_ANY_NAME}(?:\s*[-–—|,]\s*{_DATE}{_TIME})?)",
    re.IGNORECASE,
)
# Bylines are looked for in this many lines at the top, after widget lines are gone.
_HEADER_WINDOW = 6
# Lines before a byline longer than this are prose, so the "byline" is not a page header.
_MAX_HEADER_WORDS = 30
# A kicker/subtitle after the byline is short and has no sentence punctuation at the end.
_MAX_KICKER_WORDS = 12
_SENTENCE_END_RE = re.compile(r"[.!?…:;,]['’\"”»)]*$")

# --- author bios --------------------------------------------------------------------------

# Credentials that mark a paragraph as an author bio rather than article text.
_CREDENTIAL_RE = re.compile(
    r"\b(?:Ph\.?\s?D\b|Doctor\s+of|Candidate\s+of|Professor|Fellow|expert|analyst|observer"
    r"|researcher|journalist|columnist|correspondent|editor|scholar|lecturer|exclusively\s+for)",
    re.IGNORECASE,
)
# What follows the name in a one-line bio: a comma, a dash, or "is".
_BIO_SEPARATOR_RE = re.compile(r"\s*(?:,|[-–—]|\bis\b)")
# With no author given: a capitalised name of two to four words at the start of the line.
_CAPITALISED_NAME_RE = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]*(?:\s+[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]*){1,3}")
# A bio line left on its own ("exclusively for “New Eastern Outlook”").
_BIO_REMNANT_RE = re.compile(r"exclusively\s+for\b.*", re.IGNORECASE)
# A credentials line under a name-only line is short, and so is a one-line bio; a long
# paragraph that opens with a name is article text even if "expert" occurs in it later.
_MAX_CREDENTIAL_WORDS = 30
_MAX_BIO_WORDS = 60
# In a one-line bio the credentials come right after the name.
_CREDENTIAL_REACH = 200
# Bios sit among the first or the last few paragraphs.
_BIO_WINDOW = 2

# Prose, as opposed to a heading or widget: long enough, or ending like a sentence.
_MIN_PROSE_WORDS = 20

# Folding for title/author comparison: curly and straight quotes and dashes are the same.
_FOLD_TABLE = str.maketrans(
    {"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "«": '"', "»": '"', "–": "-", "—": "-", "‐": "-"}
)
_FOLD_TRAILING_RE = re.compile(r"[\s.:;,!?'\"]+$")


def clean_capture(raw: str, *, title: str | None = None, author: str | None = None) -> list[str]:
    """The article body of a captured web page, as paragraphs, with the site chrome removed."""
    lines = [line for line in _normalised_lines(raw) if not _is_widget_line(line)]
    lines = _cut_tail(lines)
    lines = _drop_header(lines, title)
    lines = _drop_bios(lines, author)
    return lines


def body_from_paragraphs(paragraphs: list[str]) -> str:
    """The canonical cleaned body: paragraphs joined by one blank line ("\n\n")."""
    return "\n\n".join(paragraphs)


# --- steps --------------------------------------------------------------------------------


def _normalised_lines(raw: str) -> list[str]:
    """Non-empty lines of ``raw`` in NFC, inner whitespace collapsed, stripped."""
    text = unicodedata.normalize("NFC", _LINE_BREAK_RE.sub("\n", raw))
    text = _INVISIBLE_RE.sub("", text)
    lines = (_INLINE_SPACE_RE.sub(" ", line).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def _is_widget_line(line: str) -> bool:
    """Whether the whole line is a language/share/rating widget or a photo caption."""
    return any(rx.fullmatch(line) for rx in _WIDGET_LINE_RES) or bool(_CAPTION_RE.fullmatch(line))


def _cut_tail(lines: list[str]) -> list[str]:
    """Drop everything from the first tail marker after some prose, then trailing footer links."""
    seen_prose = False
    for index, line in enumerate(lines):
        if seen_prose and _TAIL_MARKER_RE.fullmatch(line):
            lines = lines[:index]
            break
        seen_prose = seen_prose or _is_prose(line)
    end = len(lines)
    while end and _FOOTER_LINK_RE.fullmatch(lines[end - 1]):
        end -= 1
    return lines[:end]


def _drop_header(lines: list[str], title: str | None) -> list[str]:
    """Drop title, deck and byline at the top, and the kicker line right after the byline."""
    for index, line in enumerate(lines[:_HEADER_WINDOW]):
        if _word_count(line) > _MAX_HEADER_WORDS:
            break
        if _BYLINE_RE.fullmatch(line):
            rest = lines[index + 1 :]
            if len(rest) > 1 and _is_kicker(rest[0], title):
                rest = rest[1:]
            return rest
    folded_title = _fold(title) if title else None
    start = 0
    while folded_title and start < len(lines) and _fold(lines[start]) == folded_title:
        start += 1
    return lines[start:]


def _drop_bios(lines: list[str], author: str | None) -> list[str]:
    """Drop author bios among the first and last paragraphs."""
    lines = list(lines)
    # Two-line form at the top: the author's name alone, then a credentials line.
    if len(lines) > 2 and _is_name_only(lines[0], author) and _is_credentials_line(lines[1]):
        lines = lines[2:]
    elif lines and _is_bio(lines[0], author):
        lines = lines[1:]
    # At the end: a one-line bio, or the two-line form, among the last paragraphs.
    for index in range(len(lines) - 1, max(len(lines) - 1 - _BIO_WINDOW, -1), -1):
        line = lines[index]
        if _is_bio(line, author) or (index > 0 and _BIO_REMNANT_RE.fullmatch(line)):
            del lines[index]
            if index > 0 and _is_name_only(lines[index - 1], author):
                del lines[index - 1]
            break
        if index + 1 < len(lines) and _is_name_only(line, author) and _is_credentials_line(
            lines[index + 1]
        ):
            del lines[index : index + 2]
            break
    return lines


# --- predicates ---------------------------------------------------------------------------


def _is_kicker(line: str, title: str | None) -> bool:
    """A repeated title, or a short heading-like line (no sentence punctuation at the end)."""
    if title and _fold(line) == _fold(title):
        return True
    return _word_count(line) <= _MAX_KICKER_WORDS and not _SENTENCE_END_RE.search(line)


def _is_bio(line: str, author: str | None) -> bool:
    """Whether ``line`` is "<author>, credentials ..." (or "<author> – is a ...")."""
    rest = _after_name(line, author)
    if rest is None:
        return False
    separator = _BIO_SEPARATOR_RE.match(rest)
    return bool(
        separator
        and rest[separator.end() :].strip()
        and _word_count(line) <= _MAX_BIO_WORDS
        and _CREDENTIAL_RE.search(rest[:_CREDENTIAL_REACH])
    )


def _after_name(line: str, author: str | None) -> str | None:
    """The text after the author's name at the start of ``line``, or None if it does not start so."""
    if author:
        name = _INLINE_SPACE_RE.sub(" ", author).strip()
        if name and _fold(line[: len(name)]) == _fold(name):
            return line[len(name) :]
        return None
    match = _CAPITALISED_NAME_RE.match(line)
    return line[match.end() :] if match else None


def _is_name_only(line: str, author: str | None) -> bool:
    """Whether ``line`` is just the author's name (needs ``author``: a bare name is ambiguous)."""
    return bool(author) and _fold(line) == _fold(author or "")


def _is_credentials_line(line: str) -> bool:
    """A short line naming a position or affiliation ("Leading Research Fellow at ...")."""
    return _word_count(line) <= _MAX_CREDENTIAL_WORDS and bool(_CREDENTIAL_RE.search(line))


def _is_prose(line: str) -> bool:
    """Long enough, or ending like a sentence: article text rather than a widget label."""
    return _word_count(line) >= _MIN_PROSE_WORDS or line.endswith((".", "!", "?", "”", '"', "»"))


def _word_count(line: str) -> int:
    return len(line.split())


def _fold(text: str) -> str:
    """Comparison key: NFKC, case-folded, quotes/dashes unified, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE).casefold()
    folded = " ".join(folded.split())
    return _FOLD_TRAILING_RE.sub("", folded)
