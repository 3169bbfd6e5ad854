"""W3C Web Annotation anchors for spans of a provision's wording.

An annotation is stored with two W3C selectors:

* a TextPositionSelector (``start``/``end``), in Unicode code points, i.e. Python ``str``
  indices.  The browser counts UTF-16 units, so it converts before posting; the server
  re-checks every span with :func:`check_span`.
* a TextQuoteSelector (``exact`` plus up to :data:`CONTEXT_LENGTH` code points of
  ``prefix``/``suffix``), built by :func:`quote_selector`.

Typed words (a form without JavaScript, the "Place again" page) are found with
:func:`find_unique`: they must occur exactly once.

When a provision's wording changes, :func:`locate` looks for the quote in the new text and
says how sure it is; :func:`reanchor` is the same answer without the candidates.  The
product's promise: an annotation is never placed on words other than those a person would
choose.  A look-alike passage elsewhere is the classic failure of fuzzy anchoring, so
every rule below places only a clear winner and otherwise leaves the annotation DRIFTED
with its *candidates*, the places a person can accept in one click.

Each place considered is scored by how much of the annotation it keeps: the similarity of
its words to the quote (normalised Levenshtein, ``1 - distance / longer length``) blended
with the similarity of the text around it to the stored prefix/suffix (a
:data:`CONTEXT_WEIGHT` share, length-weighted over both sides, so one intact side counts;
words inserted between the quote and its neighbours are tolerated at a small cost).  That
blend is a candidate's ``score`` and the result's confidence.

Edited words are placed only on two independent witnesses that the place is theirs: close
words *and* their old surroundings (rule 3), or their own unchanged first and last words
with no neighbour saying otherwise (rule 4).  Similar words alone, in new surroundings, are
what a look-alike passage offers too: they are proposed, never placed.

1. **The words as they were.**  If ``exact`` occurs verbatim once, it is EXACT there; its
   score is 1.0 when the context still matches and lower when it was rewritten (an official
   text rarely repeats a commentator's surroundings).  If it occurs several times, the
   context chooses: the one copy whose prefix and suffix match exactly, or the copy whose
   score beats every other by :data:`MARGIN`.  When the context cannot tell the copies apart,
   the position hint may: the copy within :data:`HINT_NEAR` of the text's length from
   ``start_hint`` wins if every other copy is at least :data:`HINT_MARGIN` of the length
   farther.  Anything less is DRIFTED with the copies as candidates.

   One guard applies to the copy chosen: when its context resembles the stored one less
   than :data:`CONTEXT_GATE`, a place resembling the quote (at least :data:`DRIFT_THRESHOLD`)
   in the stored context is looked for: then the words were edited there, and the verbatim
   copy may be their old wording quoted in another paragraph.  Such a rival that is a close
   match and beats the copy by :data:`MARGIN` is placed FUZZY; any other makes the result
   DRIFTED, both offered.

2. **Whitespace, typography, normal form.**  Whitespace runs (any Unicode ``\\s``) are
   collapsed to one space, curly quotes and apostrophes and dashes are read as their plain
   forms, and the quote and its context are put in the Unicode normalisation form (NFC or
   NFD) the new text is in.  A match found only this way is FUZZY, not EXACT, because
   ``text[start:end]`` then differs from the stored quote and EXACT promises that it does
   not; with its context intact its score is 1.0.  Copies are chosen as in rule 1.

3. **Close match.**  Otherwise the best-aligned windows of the text are found with
   RapidFuzz (``fuzz.partial_ratio_alignment``, each window masked before the next search),
   plus the windows the stored prefix and suffix point to.  Each window's edges are moved to
   the span nearest the quote (Levenshtein), on word boundaries when the quote began or ended
   on one (a person selects whole words), and cut back where the stored suffix (prefix) is
   plainly found inside it: a window as long as the quote runs on into the clause that
   followed a deleted one.  The best is FUZZY only when all of these hold:

   * word similarity >= :data:`FUZZY_THRESHOLD` (0.85: about one changed word in a
     60-character clause, "shall" -> "will", or a typo fix; a different key term in a short
     sentence falls below it);
   * its score beats the best non-overlapping rival by :data:`MARGIN`;
   * when a prefix or suffix was stored, its context is at least :data:`CONTEXT_GATE`
     similar to it.

4. **Between unchanged words.**  Otherwise, if the quote's first and last words (12 to 32
   code points each) each occur exactly once, in order and at a plausible distance, or else
   the end of its stored prefix and the start of its suffix do, the words between are what a
   person would select, however they were edited: FUZZY when they are at least
   :data:`DRIFT_THRESHOLD` similar (less, and a near-twin passage between the same
   neighbours, such as a second photo caption, looks as good), no close match elsewhere
   contradicts them and no witness of an edge is found away from it.  One edge witnessed by
   the quote's words and the other by a neighbour is not enough: a look-alike sentence offers
   as much.

Otherwise the result is DRIFTED when some candidate's words are at least
:data:`DRIFT_THRESHOLD` similar (something like them exists, but it is not guessed), and
ORPHANED below that.

The module has no Django imports, so it serves migrations, commands and tests alike.
"""

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

__all__ = [
    "CONTEXT_GATE",
    "CONTEXT_LENGTH",
    "CONTEXT_WEIGHT",
    "DRIFT_THRESHOLD",
    "FUZZY_THRESHOLD",
    "HINT_MARGIN",
    "HINT_NEAR",
    "MARGIN",
    "AnchorError",
    "Candidate",
    "Located",
    "Placement",
    "Reanchored",
    "TextQuote",
    "check_span",
    "find_unique",
    "locate",
    "quote_selector",
    "reanchor",
]

CONTEXT_LENGTH = 32

FUZZY_THRESHOLD = 0.85
"""Minimum word similarity for a FUZZY placement."""

DRIFT_THRESHOLD = 0.6
"""Below this word similarity a place is no candidate, and without one the annotation is ORPHANED."""

MARGIN = 0.05
"""How far the winner's score must be ahead of the best non-overlapping rival."""

CONTEXT_WEIGHT = 0.25
"""Share of a score that comes from prefix/suffix similarity (the rest is the words)."""

CONTEXT_GATE = 0.5
"""Context similarity below which a placement must survive a search for a better-placed rival."""

HINT_NEAR = 0.05
"""A copy this close to the position hint, as a share of the text's length, is "where it was"."""

HINT_MARGIN = 0.25
"""Every other copy must be this much farther from the hint (share of the length) for the hint to decide."""

# Search bounds: a fixed worst case however long or repetitive the text is.
_MAX_REGIONS = 6  # windows aligned by RapidFuzz and refined
_MAX_COPIES_SCORED = 200  # more identical copies than this, none in its exact context: DRIFTED
_REGION_CUTOFF = 50  # partial_ratio (0..100) below which a window cannot reach DRIFT_THRESHOLD
_REGION_SPREAD = 25  # windows kept within this many partial_ratio points of the first
_REFINE_FLOOR = 55  # partial_ratio below which a window is kept as found, not refined
# Context.
_ANCHOR_LENGTHS = (12, 16, 24, 32)  # unchanged words that can witness an edge, shortest first
_CONTEXT_SHIFT = 16  # code points inserted between the quote and its neighbours that context survives
_CONTEXT_FOUND = 75  # partial_ratio (0..100) at which a stored prefix/suffix counts as found
_CONTEXT_INSIDE = 0.75  # similarity at which a stored suffix seen inside a span cuts it there
_CONTEXT_INSIDE_LEAD = 0.25  # ... when it is that much more similar there than after the span

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as str.isalnum() counts them
# Maximal whitespace runs other than a lone plain space (which collapsing leaves alone).
_REWRITTEN_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")
# Typographic variants read as their plain forms; one code point for one, so offsets hold.
_PLAIN = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
}
_TYPOGRAPHY = re.compile("[" + "".join(_PLAIN) + "]")
_MASK = "\uffff"  # a noncharacter: masked text matches nothing in a quote


class AnchorError(ValueError):
    """A span that cannot be an anchor; ``code`` is machine-readable for API responses."""

    def __init__(self, message: str, code: str, *, count: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.count = count  # how many times typed words occur, for find_unique's errors


def _is_offset(value: object) -> bool:
    # bool is an int subclass; True/False as offsets are always a client bug.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(text: str, start: int, end: int) -> None:
    if not (_is_offset(start) and _is_offset(end)) or not 0 <= start <= end <= len(text):
        raise AnchorError(
            f"span [{start}, {end}) is outside the text (0..{len(text)} code points)", "out_of_range"
        )
    if start == end:
        raise AnchorError("span is empty", "empty")


def check_span(text: str, start: int, end: int, quote: str) -> None:
    """Raise AnchorError unless 0 <= start < end <= len(text) and text[start:end] == quote."""
    _check_range(text, start, end)
    if text[start:end] != quote:
        raise AnchorError("quoted text does not match the text at that span", "quote_mismatch")


def _occurrences(text: str, needle: str) -> list[int]:
    found: list[int] = []
    pos = text.find(needle)
    while pos != -1:
        found.append(pos)
        pos = text.find(needle, pos + 1)  # +1: overlapping copies are distinct anchors
    return found


def find_unique(text: str, words: str) -> tuple[int, int]:
    """The span of the only place ``words`` occur in ``text``, or AnchorError.

    The rule for typed words: ``not_found`` when they do not occur, ``ambiguous`` (with
    ``count``) when they occur more than once, overlapping copies included ("aa" is twice in
    "aaa": two places a person could mean).
    """
    if not words:
        raise AnchorError("Type at least one character.", "empty")
    found = _occurrences(text, words)
    if not found:
        raise AnchorError("These words are not in the text.", "not_found", count=0)
    if len(found) > 1:
        raise AnchorError(
            f"These words occur {len(found)} times in the text: add a few words around them.",
            "ambiguous",
            count=len(found),
        )
    return found[0], found[0] + len(words)


@dataclass(frozen=True)
class TextQuote:
    """A W3C TextQuoteSelector."""

    exact: str
    prefix: str
    suffix: str


def quote_selector(text: str, start: int, end: int, context: int = CONTEXT_LENGTH) -> TextQuote:
    """The quote with up to `context` code points either side (fewer at the text's edges)."""
    if context < 0:
        raise ValueError("context must be >= 0")
    _check_range(text, start, end)
    # Cutting by code point can split a base letter from its combining mark or a ZWJ emoji
    # sequence inside the context; that matches the W3C model and only affects matching.
    return TextQuote(
        exact=text[start:end],
        prefix=text[max(0, start - context) : start],
        suffix=text[end : end + context],
    )


class Placement(StrEnum):
    """Where an annotation stands on its text: the one vocabulary, stored as is in Annotation.placement."""

    ANCHORED = "anchored"  # on the very words of its quote
    EXACT = "anchored"  # the same member: what a search that found the words verbatim returns
    FUZZY = "fuzzy"  # on a close match, awaiting a person's confirmation
    DRIFTED = "drifted"  # its words (or words like them) are there, but where is not certain
    ORPHANED = "orphaned"  # nothing like its words is left


@dataclass(frozen=True)
class Candidate:
    """A place proposed for the annotation, in the new text's code points."""

    start: int
    end: int
    words: str  # text[start:end]
    before: str  # up to CONTEXT_LENGTH code points before the words
    after: str  # and after them
    score: float  # 0..1, as the module docstring defines it


@dataclass(frozen=True)
class Located:
    """Where :func:`locate` placed an annotation, and the places it proposes, best first.

    ``start``/``end`` are None unless the placement is EXACT or FUZZY, and then
    ``candidates[0]`` is that place (limit permitting).  ``score`` is the confidence of the placement; for
    DRIFTED that of the best candidate, for ORPHANED the best word similarity seen.
    """

    placement: Placement
    start: int | None
    end: int | None
    score: float
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class Reanchored:
    placement: Placement
    start: int | None  # None when drifted/orphaned
    end: int | None
    score: float  # as Located.score


# --------------------------------------------------------------------------- normalised text


def _plain(text: str) -> str:
    # A regex beats str.translate with a dict table by far on long text with few such marks.
    return _TYPOGRAPHY.sub(lambda m: _PLAIN[m.group()], text)


def _similarity(a: str, b: str) -> float:
    return Levenshtein.normalized_similarity(a, b)


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text)


class _Collapsed:
    """Whitespace-collapsed text that can map its offsets back to the original.

    Only whitespace runs that are not already a single plain space change offsets, so only
    those are recorded; a typical provision has a few hundred, not one entry per character.
    """

    __slots__ = ("_origins", "_runs", "_shifts", "text")

    def __init__(self, original: str) -> None:
        parts: list[str] = []
        runs: list[int] = []  # collapsed index of each rewritten run's single space
        origins: list[int] = []  # original index where that run starts
        shifts: list[int] = []  # original - collapsed, for characters after that run
        pos = shift = 0
        for match in _REWRITTEN_WHITESPACE.finditer(original):
            ws_start, ws_end = match.span()
            parts.append(original[pos:ws_start])
            runs.append(ws_start - shift)
            origins.append(ws_start)
            shift += ws_end - ws_start - 1
            shifts.append(shift)
            pos = ws_end
        parts.append(original[pos:])
        self.text = " ".join(parts) if runs else original
        self._runs, self._shifts, self._origins = runs, shifts, origins

    def origin(self, index: int) -> int:
        k = bisect_right(self._runs, index) - 1
        if k < 0:
            return index
        if self._runs[k] == index:
            return self._origins[k]
        return index + self._shifts[k]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin(start), self.origin(end - 1) + 1


@lru_cache(maxsize=4)
def _normalised(text: str) -> tuple[str, _Collapsed]:
    # Cached because a provision is re-anchored for all its annotations in one go.
    collapsed = _Collapsed(text)
    return _plain(collapsed.text), collapsed


def _same_form(new_text: str, *parts: str) -> tuple[str, ...]:
    """``parts`` in the Unicode normalisation form ``new_text`` is in, if it is in one.

    A provision re-imported from another source may switch é between one code point and
    e + U+0301; that is not an edit of the wording.
    """
    for form in ("NFC", "NFD"):
        if unicodedata.is_normalized(form, new_text):
            return tuple(unicodedata.normalize(form, part) for part in parts)
    return parts


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class _Match:
    start: int  # offsets in the text searched (the new text, or its normalised form)
    end: int
    quote_sim: float
    context_sim: float | None  # None when no prefix/suffix was stored
    witnessed: bool = False  # between trusted unchanged words (rule 4): a candidate however edited

    @property
    def viable(self) -> bool:
        """Whether this place is worth proposing."""
        return self.witnessed or self.quote_sim >= DRIFT_THRESHOLD

    @property
    def score(self) -> float:
        if self.context_sim is None:
            return self.quote_sim
        return (1 - CONTEXT_WEIGHT) * self.quote_sim + CONTEXT_WEIGHT * self.context_sim

    @property
    def fits_context(self) -> bool:
        return self.context_sim is None or self.context_sim >= CONTEXT_GATE

    def overlaps(self, other: "_Match") -> bool:
        return self.start < other.end and other.start < self.end


class _Context:
    """The stored prefix/suffix, compared with the text around a span of ``haystack``.

    Whitespace-collapsed so that re-flowed context still counts as the same context, and
    shift-tolerant: words inserted between the quote and its old neighbours (up to
    :data:`_CONTEXT_SHIFT` code points) leave the neighbours recognisable, at a small cost.
    """

    def __init__(self, haystack: str, prefix: str, suffix: str) -> None:
        self.haystack = haystack
        self.prefix, self.suffix = _collapse(prefix), _collapse(suffix)
        self.stored = bool(self.prefix or self.suffix)

    def around(self, start: int, end: int, shift: int = 0) -> tuple[str, str]:
        p, s, h = len(self.prefix), len(self.suffix), self.haystack
        # Twice the raw text needed: collapsing can only shorten it.
        before = _collapse(h[max(0, start - 2 * (p + shift)) : start])[-(p + shift) :] if p else ""
        after = _collapse(h[end : end + 2 * (s + shift)])[: s + shift] if s else ""
        return before, after

    def identical(self, start: int, end: int) -> bool:
        return self.around(start, end) == (self.prefix, self.suffix)

    def similarity(self, start: int, end: int) -> float | None:
        """Length-weighted similarity of the stored prefix/suffix to the text around a span."""
        if not self.stored:
            return None
        before, after = self.around(start, end)
        if before == self.prefix and after == self.suffix:
            return 1.0
        wide_before, wide_after = self.around(start, end, _CONTEXT_SHIFT)
        p, s = len(self.prefix), len(self.suffix)
        return (p * _side(self.prefix, before, wide_before, True) + s * _side(self.suffix, after, wide_after, False)) / (p + s)

    def implied_span(self, start: int, end: int) -> tuple[int, int]:
        """The span cut back to where the stored context says the words ended and began.

        A window as long as the quote can run past its old end into a neighbour that replaced
        a deleted clause; when the stored suffix (or prefix) stands clearly better inside the
        span than after it, the span stops (or starts) there.
        """
        h = self.haystack
        middle = (start + end) // 2
        if len(self.suffix.strip()) >= _ANCHOR_LENGTHS[0]:
            found = fuzz.partial_ratio_alignment(self.suffix, h[middle : end + len(self.suffix)])
            inside = middle + found.dest_start if found else end
            if start < inside < end and self._clearly_better(self.suffix, h[inside:], h[end:], after=True):
                end = inside
        if len(self.prefix.strip()) >= _ANCHOR_LENGTHS[0]:
            lo = max(0, start - len(self.prefix))
            found = fuzz.partial_ratio_alignment(self.prefix, h[lo:middle])
            inside = lo + found.dest_end if found else start
            if start < inside < end and self._clearly_better(self.prefix, h[:inside], h[:start], after=False):
                start = inside
        return start, end

    @staticmethod
    def _clearly_better(context: str, at: str, now: str, *, after: bool) -> bool:
        n, wide = len(context), len(context) + _CONTEXT_SHIFT

        def sim(text: str) -> float:
            if after:
                return _side(context, text[:n], text[:wide], False)
            return _side(context, text[-n:], text[-wide:], True)

        inside, outside = sim(at), sim(now)
        return inside >= _CONTEXT_INSIDE and inside - outside >= _CONTEXT_INSIDE_LEAD

    def windows(self, length: int) -> list[tuple[int, int]]:
        """Where the stored context says the words stand, found whatever the quote became."""
        h, found = self.haystack, {}
        for side, context in (("before", self.prefix), ("after", self.suffix)):
            if len(context.strip()) >= _ANCHOR_LENGTHS[0]:
                aligned = fuzz.partial_ratio_alignment(context, h, score_cutoff=_CONTEXT_FOUND)
                if aligned is not None:
                    found[side] = aligned.dest_end if side == "before" else aligned.dest_start
        start, end = found.get("before"), found.get("after")
        if start is not None and end is not None and 0 < end - start <= 2 * length:
            return [(start, end)]
        return [(s, s + length) for s in [start] if s is not None] + [(max(0, e - length), e) for e in [end] if e is not None]


def _side(context: str, aligned: str, wide: str, before: bool) -> float:
    """Similarity of one side of the context: as it stands, or shifted by inserted words."""
    sim = _similarity(context, aligned)
    if sim == 1.0 or len(wide) <= len(aligned):
        return sim
    found = fuzz.partial_ratio_alignment(context, wide)
    if found is None:
        return sim
    start, end = found.dest_start, found.dest_end
    gap = len(wide) - end if before else start
    shifted = _similarity(context, wide[start:end]) - 0.5 * gap / len(context)
    return max(sim, shifted)


# --------------------------------------------------------------------------- choosing


def _nearest_to_hint(matches: list[_Match], hint: int | None, length: int) -> _Match | None:
    """The copy the position hint clearly points to, or None."""
    if hint is None or not _is_offset(hint) or length == 0 or len(matches) < 2:
        return None
    by_distance = sorted(matches, key=lambda m: abs(m.start - hint))
    near, other = (abs(m.start - hint) / length for m in by_distance[:2])
    if near <= HINT_NEAR and other - near >= HINT_MARGIN:
        return by_distance[0]
    return None


def _choose(copies: list[_Match], *, decidable: bool, hint: int | None, length: int) -> _Match | None:
    """The identical copy that the context, then the hint, points to; None if choosing would be a guess."""
    if len(copies) == 1:
        return copies[0]
    perfect = [m for m in copies if m.context_sim == 1.0]
    if len(perfect) == 1:
        return perfect[0]
    if perfect:
        # Identical words and context: only where they stood can tell them apart.
        return _nearest_to_hint(perfect, hint, length)
    if not decidable:
        return None
    best, runner_up = copies[0], copies[1]  # sorted best first
    if best.score - runner_up.score >= MARGIN:
        return best
    return _nearest_to_hint([m for m in copies if best.score - m.score < MARGIN], hint, length)


def _distinct(matches: list[_Match]) -> list[_Match]:
    """Best first, dropping any that overlaps a better one."""
    kept: list[_Match] = []
    for match in sorted(matches, key=lambda m: (m.score, m.quote_sim), reverse=True):
        if not any(match.overlaps(k) for k in kept):
            kept.append(match)
    return kept


# --------------------------------------------------------------------------- close matches


def _word_char(ch: str) -> bool:
    return ch.isalnum()


def _word_edges(exact: str, prefix: str, suffix: str) -> tuple[bool, bool]:
    """Whether the quote began at a word start and ended at a word end of its old text."""
    starts = _word_char(exact[0]) and not (prefix and _word_char(prefix[-1]))
    ends = _word_char(exact[-1]) and not (suffix and _word_char(suffix[0]))
    return starts, ends


def _offsets(h: str, lo: int, hi: int, *, words: str | None) -> list[int]:
    """Offsets in [lo, hi] of ``h``: all of them, or only word starts / word ends."""
    lo, hi = max(0, lo), min(len(h), hi)
    chosen: list[int] = []
    if words is not None:
        # From one code point earlier, so that a word running into lo is seen to start before it;
        # up to hi + 1, so that one running past hi is seen to end after it.
        for word in _WORD.finditer(h, max(0, lo - 1), hi + 1):
            at = word.start() if words == "start" else word.end()
            if lo <= at <= hi and (words == "end" or at == 0 or not h[at - 1].isalnum()):
                chosen.append(at)
    # No word boundary near here (or a script written without spaces): any offset.
    return chosen or list(range(lo, hi + 1))


def _promising(h: str, quote: str, window: tuple[int, int]) -> bool:
    """Whether some span near ``window`` may be a candidate: the best partial alignment of the
    quote in reach (RapidFuzz's Indel ratio, which a Levenshtein similarity rarely exceeds)."""
    reach = max(4, 2 * len(quote) // 5)
    region = h[max(0, window[0] - reach) : window[1] + reach]
    return fuzz.partial_ratio(quote, region) >= _REFINE_FLOOR


def _refine(h: str, quote: str, window: tuple[int, int], edges: tuple[bool, bool], context: "_Context") -> tuple[int, int]:
    """Move a window's edges to the span of ``h`` nearest the quote.

    Coordinate ascent, start then end, twice: for a fixed end, the best start is where the
    quote's first words align, whatever the length error at the other edge.  Spans equally
    near the quote are told apart by their context, then by the length nearest the quote's.
    """
    m = len(quote)
    start, end = window
    slack = max(4, 2 * m // 5)  # room for a candidate down to DRIFT_THRESHOLD, lengthened or shortened
    starts = _offsets(h, start - slack, start + slack, words="start" if edges[0] else None)
    ends = _offsets(h, end - slack, end + slack, words="end" if edges[1] else None)

    def best(spans: list[tuple[int, int]]) -> tuple[int, int] | None:
        top, tied = -1.0, []
        # Nearest the current span first: the best comes early, and the cutoff spares the rest.
        for s, e in sorted(spans, key=lambda span: abs(span[0] - best_s) + abs(span[1] - best_e)):
            sim = Levenshtein.normalized_similarity(quote, h[s:e], score_cutoff=max(top, 0.0))
            if sim > top:
                top, tied = sim, [(s, e)]
            elif sim == top:
                tied.append((s, e))
        if not tied:
            return None
        return max(tied, key=lambda span: (context.similarity(*span) or 0.0, -abs(span[1] - span[0] - m)))

    best_s = min(starts, key=lambda s: abs(s - start))
    best_e = min(ends, key=lambda e: abs(e - end))
    for _ in range(2):
        best_s = (best([(s, best_e) for s in starts if s < best_e]) or (best_s, best_e))[0]
        best_e = (best([(best_s, e) for e in ends if e > best_s]) or (best_s, best_e))[1]
    if best_e <= best_s:
        return start, end
    return best_s, best_e


def _trimmed(h: str, quote: str, start: int, end: int) -> tuple[int, int, float]:
    """(start, end, similarity) without edge whitespace the quote does not have."""
    if not quote[0].isspace():
        while start < end - 1 and h[start].isspace():
            start += 1
    if not quote[-1].isspace():
        while end > start + 1 and h[end - 1].isspace():
            end -= 1
    return start, end, _similarity(quote, h[start:end])


def _windows(h: str, quote: str) -> list[tuple[int, int]]:
    """The best-aligned windows of ``h`` for ``quote``, best first, none overlapping."""
    if len(quote) >= len(h):
        return [(0, len(h))]
    windows: list[tuple[int, int]] = []
    cutoff = _REGION_CUTOFF
    for _ in range(_MAX_REGIONS):
        found = fuzz.partial_ratio_alignment(quote, h, score_cutoff=cutoff)
        if found is None or found.dest_end <= found.dest_start:
            break
        # A window this far behind the best can be neither a rival within the margin nor a
        # candidate worth showing.
        cutoff = max(cutoff, found.score - _REGION_SPREAD)
        start, end = found.dest_start, found.dest_end
        windows.append((start, end))
        if found.score < _REFINE_FLOOR:
            break  # the best is no candidate; the rest are worse
        h = h[:start] + _MASK * (end - start) + h[end:]
    return windows


# --------------------------------------------------------------------------- locate


class _Search:
    """One annotation looked for in one text.

    Every match is kept in the new text's own offsets, whichever form it was found in.
    """

    def __init__(self, text: str, exact: str, prefix: str, suffix: str, hint: int | None) -> None:
        self.text, self.exact, self.hint = text, exact, hint
        self.raw_context = _Context(text, prefix, suffix)
        self.haystack, self.collapsed = _normalised(text)
        exact_n, prefix_n, suffix_n = (
            _plain(_collapse(part)) for part in _same_form(text, exact, prefix, suffix)
        )
        self.quote = exact_n
        self.context = _Context(self.haystack, prefix_n, suffix_n)
        self.edges = _word_edges(exact, prefix, suffix)
        self._close: list[_Match] | None = None
        self._bracket: tuple[_Match, bool] | None | bool = False  # False: not looked for yet

    def _in_text(self, start: int, end: int, quote_sim: float, context_sim: float | None) -> _Match:
        return _Match(*self.collapsed.span(start, end), quote_sim, context_sim)

    def copies(self, *, normalised: bool) -> tuple[list[_Match], bool]:
        """Identical copies of the quote, best first, and whether their scores may decide."""
        haystack, needle = (self.haystack, self.quote) if normalised else (self.text, self.exact)
        context = self.context if normalised else self.raw_context
        starts, n = _occurrences(haystack, needle), len(needle)
        place = self._in_text if normalised else _Match
        if not context.stored:
            return [place(s, s + n, 1.0, None) for s in starts], True
        if len(starts) > _MAX_COPIES_SCORED:
            # Only the cheap test: copies standing in exactly their old context.
            perfect = [place(s, s + n, 1.0, 1.0) for s in starts if context.identical(s, s + n)]
            return perfect or [place(s, s + n, 1.0, None) for s in starts[:_MAX_COPIES_SCORED]], False
        copies = [place(s, s + n, 1.0, context.similarity(s, s + n)) for s in starts]
        return sorted(copies, key=lambda m: m.score, reverse=True), True

    def close_matches(self) -> list[_Match]:
        """Distinct close matches of the quote, best first (computed once)."""
        if self._close is None:
            found = []
            h, quote = self.haystack, self.quote
            windows = [*_windows(h, quote), *self.context.windows(len(quote))] if h else []
            for lo, hi in windows:
                window = max(0, min(lo, len(h) - 1)), max(1, min(hi, len(h)))  # context windows may overhang
                if window[0] >= window[1]:
                    continue
                if _promising(h, quote, window):
                    start, end = _refine(h, quote, window, self.edges, self.context)
                    start, end, sim = _trimmed(h, quote, *self.context.implied_span(start, end))
                else:  # kept as it is: a rival far behind, not worth refining
                    start, end, sim = _trimmed(h, quote, *window)
                found.append(self._in_text(start, end, sim, self.context.similarity(start, end)))
            self._close = _distinct(found)
        return self._close

    def bracket(self) -> tuple[_Match, bool] | None:
        """Rule 4: the words between unchanged neighbours and whether they are trusted (computed once)."""
        if self._bracket is False:
            found = _bracket(self.haystack, self.quote, self.context)
            if found is not None:
                start, end, trusted = found
                sim = _similarity(self.quote, self.haystack[start:end])
                match = self._in_text(start, end, sim, self.context.similarity(start, end))
                found = _Match(match.start, match.end, match.quote_sim, match.context_sim, trusted), trusted
            self._bracket = found
        return self._bracket

    def rivals(self, chosen: _Match) -> list[_Match]:
        """Places resembling the quote that stand in its stored context, away from ``chosen``."""
        found = [*self.close_matches(), *[bracket for bracket, _ in filter(None, [self.bracket()])]]
        return [
            m for m in found
            if m.viable and m.fits_context and not m.overlaps(chosen)
        ]

    def settle(self, placement: Placement, copies: list[_Match], decidable: bool) -> tuple[Placement, _Match | None, list[_Match]]:
        """Rules 1 and 2: (placement, the match placed or None, the matches to propose, best first)."""
        chosen = _choose(copies, decidable=decidable, hint=self.hint, length=len(self.text))
        if chosen is None:
            return Placement.DRIFTED, None, copies
        others = [m for m in copies if m is not chosen]
        if chosen.fits_context:
            return placement, chosen, [chosen, *others]
        # The same words in rewritten surroundings.  Trusted unless something like them still
        # stands in the stored context: then the words were edited there, and this copy may be
        # a quotation of the old wording elsewhere.
        rival = max(self.rivals(chosen), key=lambda m: m.score, default=None)
        if rival is None:
            return placement, chosen, [chosen, *others]
        if rival.quote_sim >= FUZZY_THRESHOLD and rival.score - chosen.score >= MARGIN:
            return Placement.FUZZY, rival, [rival, chosen, *others]
        return Placement.DRIFTED, None, _distinct([rival, chosen, *others])

    def close_match(self) -> tuple[Placement, _Match | None, list[_Match]]:
        """Rules 3 and 4."""
        close = self.close_matches()
        best = close[0] if close else None
        runner_up = close[1].score if len(close) > 1 else 0.0
        if best and best.quote_sim >= FUZZY_THRESHOLD and best.fits_context and best.score - runner_up >= MARGIN:
            return Placement.FUZZY, best, close
        if self.bracket() is None:
            return Placement.DRIFTED, None, close
        bracket, trusted = self.bracket()
        if trusted:  # over a window overlapping it: its edges are the quote's own words or neighbours
            proposed = [bracket, *(m for m in close if not m.overlaps(bracket))]
        else:
            proposed = _distinct([bracket, *close])
        contradicted = any(m.quote_sim >= FUZZY_THRESHOLD and not m.overlaps(bracket) for m in close)
        if trusted and bracket.quote_sim >= DRIFT_THRESHOLD and not contradicted:
            return Placement.FUZZY, bracket, proposed
        return Placement.DRIFTED, None, proposed


def _first_unique(h: str, pieces: list[str]) -> tuple[int, str] | None:
    """(offset, piece) of the first of ``pieces`` that occurs exactly once in ``h``.

    Each piece contains the one before it, so once one is missing all the later ones are too.
    """
    for piece in pieces:
        first = h.find(piece)
        if first == -1:
            return None
        if h.find(piece, first + 1) == -1:
            return first, piece
    return None


def _bracket(h: str, quote: str, context: _Context) -> tuple[int, int, bool] | None:
    """(start, end, trusted) of the span between unique unchanged words either side, or None.

    Witnesses of the edges are pieces of 12 to 32 code points found exactly once: the quote's
    own first and last words, and the end of the stored prefix and start of the suffix.  The
    span is *trusted*, and may be placed, when both edges are witnessed alike, by the quote's
    own words or by both old neighbours, and no other witness disagrees (a prefix found far
    from the quote's first words says they now stand elsewhere).  One shared phrase at one end
    and a common neighbour at the other is what a look-alike sentence offers: such a span,
    like any untrusted one, is only a candidate.
    """
    m = len(quote)
    edge = [n for n in _ANCHOR_LENGTHS if n <= m // 2]  # head and tail must not overlap
    head = _first_unique(h, [quote[:n] for n in edge])
    tail = _first_unique(h, [quote[-n:] for n in edge])
    before = _first_unique(h, [context.prefix[-n:] for n in _ANCHOR_LENGTHS if n <= len(context.prefix)])
    after = _first_unique(h, [context.suffix[:n] for n in _ANCHOR_LENGTHS if n <= len(context.suffix)])
    head_at = head[0] if head else None
    tail_at = tail[0] + len(tail[1]) if tail else None
    before_at = before[0] + len(before[1]) if before else None
    after_at = after[0] if after else None
    own = head_at is not None and tail_at is not None
    neighbours = before_at is not None and after_at is not None
    start = head_at if head_at is not None else before_at
    end = tail_at if tail_at is not None else after_at
    if not own and neighbours and (start, end) != (before_at, after_at):
        start, end = before_at, after_at  # both neighbours outrank one stray edge of the quote
    if start is None or end is None or start >= end:
        return None
    start, end, _ = _trimmed(h, quote, start, end)
    if not m / 2 <= end - start <= 2 * m:
        return None
    # The quote's first words follow the prefix closely, its last words precede the suffix.
    agree = (head_at is None or before_at is None or 0 <= head_at - before_at <= m // 4) and (
        tail_at is None or after_at is None or 0 <= after_at - tail_at <= m // 4
    )
    return start, end, agree and (own or neighbours)


def _candidates(text: str, placed: _Match | None, proposed: list[_Match], limit: int) -> tuple[Candidate, ...]:
    """Up to ``limit`` distinct places, the one placed first, then the others best first."""
    found: list[Candidate] = []
    ranked = sorted((m for m in proposed if m is not placed), key=lambda m: m.score, reverse=True)
    for match in [placed, *ranked] if placed else ranked:
        if len(found) == limit:
            break
        if match is not placed and not match.viable:
            continue
        if not any(match.start < c.end and c.start < match.end for c in found):
            found.append(
                Candidate(
                    start=match.start,
                    end=match.end,
                    words=text[match.start : match.end],
                    before=text[max(0, match.start - CONTEXT_LENGTH) : match.start],
                    after=text[match.end : match.end + CONTEXT_LENGTH],
                    score=round(match.score, 4),
                )
            )
    return tuple(found)


def locate(
    text: str,
    *,
    exact: str,
    prefix: str = "",
    suffix: str = "",
    start_hint: int | None = None,
    limit: int = 3,
) -> Located:
    """Find the annotated words in ``text`` (the rules are in the module docstring).

    ``start_hint`` is where the words stood before, in code points (the stored ``start``);
    it only ever separates identical copies whose contexts cannot.  ``limit`` caps the
    candidates returned (0: none).
    """
    if not exact:
        raise AnchorError("cannot re-anchor an empty quote", "empty")
    if limit < 0:
        raise ValueError("limit must be >= 0")
    search = _Search(text, exact, prefix, suffix, start_hint)

    copies, decidable = search.copies(normalised=False)  # rule 1
    if copies:
        placement, placed, proposed = search.settle(Placement.EXACT, copies, decidable)
    else:
        copies, decidable = search.copies(normalised=True)  # rule 2
        if copies:
            placement, placed, proposed = search.settle(Placement.FUZZY, copies, decidable)
        else:  # rules 3 and 4
            placement, placed, proposed = search.close_match()

    candidates = _candidates(text, placed, proposed, limit)
    if placed is not None:
        return Located(placement, placed.start, placed.end, round(placed.score, 4), candidates)
    viable = [m.score for m in proposed if m.viable]
    if not viable:
        best_sim = max((m.quote_sim for m in proposed), default=0.0)
        return Located(Placement.ORPHANED, None, None, round(best_sim, 4), ())
    return Located(Placement.DRIFTED, None, None, round(max(viable), 4), candidates)


def reanchor(
    new_text: str,
    *,
    exact: str,
    prefix: str = "",
    suffix: str = "",
    old_start: int | None = None,
) -> Reanchored:
    """Find the annotated quote in a provision's new wording: :func:`locate` without candidates."""
    found = locate(new_text, exact=exact, prefix=prefix, suffix=suffix, start_hint=old_start, limit=0)
    return Reanchored(found.placement, found.start, found.end, found.score)
