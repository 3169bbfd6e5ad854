"""W3C Web Annotation anchors for spans of a provision's wording.

An annotation is stored with two W3C selectors:

* a TextPositionSelector (``start``/``end``), in Unicode code points, i.e. Python ``str``
  indices.  The browser counts UTF-16 units, so it converts before posting; the server
  re-checks every span with :func:`check_span`.
* a TextQuoteSelector (``exact`` plus up to :data:`CONTEXT_LENGTH` code points of
  ``prefix``/``suffix``), built by :func:`quote_selector`.

When a provision's wording changes, :func:`reanchor` looks for the quote in the new text.
The product's promise is *never guess*: an annotation must never be silently moved to a
look-alike passage.  The rules, in order:

1. **Exact.**  If ``exact`` occurs verbatim once, it is EXACT there.  If it occurs several
   times, each occurrence is scored by how well ``prefix``/``suffix`` match the text around
   it.  An occurrence wins only if it is the single one whose context matches perfectly, or
   if its rank beats the runner-up by :data:`MARGIN`.  Otherwise the result is DRIFTED
   (score 1.0: the words exist, we just cannot tell which copy is meant).  ``old_start`` is
   deliberately *not* used as a tie-breaker: after an insertion or deletion earlier in the
   text it points at the wrong twin, which is exactly the silent move we promise not to make.

   One guard applies to the copy chosen, even a unique one: when a prefix or suffix was
   stored, the text around the copy must still resemble it (context similarity at least
   :data:`CONTEXT_GATE`).  Without it, an annotation on an amended phrase ("the Secretariat"
   -> "the Committee" in Article 4) would silently jump to the same words in Article 9.  A
   copy that fails the guard is not adopted; the search continues with rules 2 and 3, where
   it competes with any edited version still sitting in the stored context, and if it wins
   there the result is DRIFTED.  The cost: a phrase whose surroundings were rewritten on
   both sides is DRIFTED rather than EXACT.

2. **Whitespace / normalisation only.**  Whitespace runs (spaces, tabs, newlines, any
   Unicode ``\\s``) are collapsed to one space on both sides, the quote and its context are
   put in the Unicode normalisation form (NFC or NFD) the new text is in, and the quote is
   searched again, mapping offsets back to the real text.  Such a match is reported as
   FUZZY with score 1.0, not EXACT, because ``text[start:end]`` is then no longer equal to
   the stored quote and EXACT promises that it is.  Ties are resolved as in rule 1.

3. **Fuzzy.**  Otherwise candidate regions are found by voting with the quote's character
   n-grams, and each region is refined with a bit-parallel (Myers) approximate search, which
   gives the substring with the smallest Levenshtein distance to the quote.  Similarity is
   ``1 - distance / max(len(quote), len(span))`` on whitespace-collapsed text.  The best
   candidate is accepted as FUZZY only when all of these hold:

   * similarity >= :data:`FUZZY_THRESHOLD` (0.85 -- about one changed word in a 60-character
     clause, e.g. "shall" -> "will", or a typo fix; a different key term in a short sentence
     falls below it);
   * its rank (similarity blended with context similarity, see :data:`CONTEXT_WEIGHT`) beats
     the best *non-overlapping* rival by at least :data:`MARGIN` (0.05);
   * when a prefix or suffix was stored, the context around the candidate is at least
     :data:`CONTEXT_GATE` (0.5) similar to it (length-weighted over both sides, so one
     intact side is enough).  A look-alike sentence elsewhere usually sits in different
     surroundings; an edited quote usually keeps its neighbours.

   If it is not accepted, the result is DRIFTED when the best similarity seen is at least
   :data:`DRIFT_THRESHOLD` (0.6: something similar exists but we will not guess) and
   ORPHANED below that.

Everything is standard library; the module has no Django imports so it can be used from
migrations, management commands and tests alike.
"""

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import accumulate

__all__ = [
    "CONTEXT_LENGTH",
    "CONTEXT_GATE",
    "CONTEXT_WEIGHT",
    "DRIFT_THRESHOLD",
    "FUZZY_THRESHOLD",
    "MARGIN",
    "AnchorError",
    "Placement",
    "Reanchored",
    "TextQuote",
    "check_span",
    "quote_selector",
    "reanchor",
]

CONTEXT_LENGTH = 32

FUZZY_THRESHOLD = 0.85
"""Minimum quote similarity for a FUZZY re-anchor."""

DRIFT_THRESHOLD = 0.6
"""Below this best similarity the annotation is ORPHANED rather than DRIFTED."""

MARGIN = 0.05
"""How far the winner's rank must be ahead of the best non-overlapping rival."""

CONTEXT_WEIGHT = 0.25
"""Share of the rank that comes from prefix/suffix similarity (the rest is the quote)."""

CONTEXT_GATE = 0.5
"""Minimum context similarity for adopting any match (EXACT or FUZZY) when context was stored."""

# Search bounds: enough to find a quote in a ~30,000-character provision in a few
# milliseconds, with a fixed worst case however repetitive the text is.
_MAX_PROBES = 64  # n-grams of the quote used for voting
_MAX_GRAM_HITS = 1000  # an n-gram this common carries no location information
_MAX_CANDIDATES = 8  # regions refined with the approximate search
_MIN_SUPPORT_RATIO = 0.2  # regions with far fewer votes than the best are not rivals
_MAX_COPIES_SCORED = 200  # more identical copies than this, none in its exact context: DRIFTED

_WHITESPACE = re.compile(r"\s+")
# Maximal whitespace runs other than a lone plain space (which collapsing leaves alone).
_REWRITTEN_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")


class AnchorError(ValueError):
    """A span that cannot be an anchor; ``code`` is machine-readable for API responses."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


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
    EXACT = "exact"
    FUZZY = "fuzzy"
    DRIFTED = "drifted"
    ORPHANED = "orphaned"


@dataclass(frozen=True)
class Reanchored:
    placement: Placement
    start: int | None  # None when drifted/orphaned
    end: int | None
    score: float  # 1.0 exact; similarity for fuzzy; best seen for drifted/orphaned


# --------------------------------------------------------------------------- distances


def _pattern_masks(pattern: str) -> dict[str, int]:
    masks: dict[str, int] = {}
    bit = 1
    for ch in pattern:
        masks[ch] = masks.get(ch, 0) | bit
        bit <<= 1
    return masks


def _edit_scores(pattern: str, masks: dict[str, int], text: str, *, anchored: bool) -> list[int]:
    """Myers/Hyyrö bit-parallel Levenshtein, one score per position of ``text``.

    ``scores[i]`` is the edit distance between ``pattern`` and the best substring of ``text``
    ending at ``i + 1``.  With ``anchored`` that substring must start at 0 (plain
    Levenshtein of a prefix); without, it may start anywhere (approximate search).
    Python's big ints make the bit vectors as long as the pattern needs.
    """
    m = len(pattern)
    full = (1 << m) - 1
    high = 1 << (m - 1)
    carry = 1 if anchored else 0
    pv, mv, score = full, 0, m
    get = masks.get
    scores: list[int] = []
    append = scores.append
    for ch in text:
        eq = get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | carry) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
        append(score)
    return scores


def _levenshtein(a: str, b: str) -> int:
    if not a or not b:
        return len(a) + len(b)
    return _edit_scores(a, _pattern_masks(a), b, anchored=True)[-1]


def _similarity(a: str, b: str) -> float:
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - _levenshtein(a, b) / longest


# --------------------------------------------------------------------------- candidates


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text)


class _Collapsed:
    """Whitespace-collapsed text that can map its offsets back to the original.

    Only whitespace runs that are not already a single plain space change offsets, so only
    those are recorded; a typical provision has a few hundred, not one entry per character.
    """

    __slots__ = ("text", "_runs", "_shifts", "_origins")

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
def _collapsed(text: str) -> _Collapsed:
    # Cached because a provision is re-anchored for all its annotations in one go.
    return _Collapsed(text)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    quote_sim: float
    context_sim: float | None  # None when no prefix/suffix was stored

    @property
    def rank(self) -> float:
        if self.context_sim is None:
            return self.quote_sim
        return (1 - CONTEXT_WEIGHT) * self.quote_sim + CONTEXT_WEIGHT * self.context_sim

    @property
    def perfect(self) -> bool:
        return self.quote_sim == 1.0 and self.context_sim == 1.0


def _surroundings(text: str, start: int, end: int, prefix: str, suffix: str) -> tuple[str, str, str, str]:
    """(prefix, text before, suffix, text after), whitespace-collapsed and of matching length.

    Collapsed so that re-flowed context still counts as the same context.
    """
    prefix, suffix = _collapse(prefix), _collapse(suffix)
    # Take twice the raw text needed: collapsing can only shorten it.
    before = _collapse(text[max(0, start - 2 * len(prefix)) : start])[-len(prefix) :] if prefix else ""
    after = _collapse(text[end : end + 2 * len(suffix)])[: len(suffix)] if suffix else ""
    return prefix, before, suffix, after


def _context_identical(text: str, start: int, end: int, prefix: str, suffix: str) -> bool:
    prefix, before, suffix, after = _surroundings(text, start, end, prefix, suffix)
    return prefix == before and suffix == after


def _context_similarity(text: str, start: int, end: int, prefix: str, suffix: str) -> float | None:
    """Length-weighted similarity of the stored prefix/suffix to the text around a span."""
    prefix, before, suffix, after = _surroundings(text, start, end, prefix, suffix)
    total = len(prefix) + len(suffix)
    if total == 0:
        return None
    if prefix == before and suffix == after:
        return 1.0
    return (len(prefix) * _similarity(prefix, before) + len(suffix) * _similarity(suffix, after)) / total


def _choose_copy(text: str, starts: list[int], length: int, prefix: str, suffix: str) -> _Candidate | None:
    """The one identical copy the context points to, or None if choosing would be a guess."""

    def scored(start: int) -> _Candidate:
        end = start + length
        return _Candidate(start, end, 1.0, _context_similarity(text, start, end, prefix, suffix))

    if len(starts) == 1:
        return scored(starts[0])
    if not (prefix or suffix):
        return None
    # Cheap string comparisons first: in unchanged text exactly one copy matches perfectly,
    # and two perfect matches are indistinguishable whatever the scores say.
    perfect = [s for s in starts if _context_identical(text, s, s + length, prefix, suffix)]
    if perfect:
        return _Candidate(perfect[0], perfect[0] + length, 1.0, 1.0) if len(perfect) == 1 else None
    if len(starts) > _MAX_COPIES_SCORED:
        return None
    return _pick([scored(s) for s in starts])


def _fits_context(candidate: _Candidate) -> bool:
    return candidate.context_sim is None or candidate.context_sim >= CONTEXT_GATE


def _occurrences(text: str, needle: str) -> list[int]:
    found: list[int] = []
    pos = text.find(needle)
    while pos != -1:
        found.append(pos)
        pos = text.find(needle, pos + 1)  # +1: overlapping copies are distinct anchors
    return found


def _pick(candidates: list[_Candidate]) -> _Candidate | None:
    """The candidate that is clearly the one, or None when choosing would be a guess."""
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    perfect = [c for c in candidates if c.perfect]
    if perfect:
        # Identical quote *and* identical context: a second such copy is indistinguishable.
        return perfect[0] if len(perfect) == 1 else None
    best, runner_up = sorted(candidates, key=lambda c: c.rank, reverse=True)[:2]
    return best if best.rank - runner_up.rank >= MARGIN else None


def _vote_regions(haystack: str, quote: str) -> list[int]:
    """Likely start offsets of (an edited copy of) ``quote``, most supported first.

    Every sampled n-gram of the quote votes for ``hit - offset_in_quote``; an edited copy
    still collects the votes of its unchanged parts on (nearly) the same diagonal.
    """
    m = len(quote)
    q = 4 if m >= 16 else 3 if m >= 8 else 2 if m >= 3 else 1
    last = m - q
    if last + 1 > _MAX_PROBES:
        offsets = sorted({round(i * last / (_MAX_PROBES - 1)) for i in range(_MAX_PROBES)})
    else:
        offsets = list(range(last + 1))
    votes: dict[int, int] = {}
    for j in offsets:
        gram = quote[j : j + q]
        if haystack.count(gram) > _MAX_GRAM_HITS:
            continue
        for hit in _occurrences(haystack, gram):
            votes[hit - j] = votes.get(hit - j, 0) + 1
    if not votes:
        return []

    diagonals = sorted(votes)
    cumulative = [0, *accumulate(votes[d] for d in diagonals)]
    # Insertions/deletions inside the quote smear its votes over nearby diagonals.
    tolerance = max(2, m // 10)
    support = [
        cumulative[bisect_right(diagonals, d + tolerance)] - cumulative[bisect_left(diagonals, d - tolerance)]
        for d in diagonals
    ]
    order = sorted(range(len(diagonals)), key=lambda i: support[i], reverse=True)
    floor = support[order[0]] * _MIN_SUPPORT_RATIO
    spacing = max(1, m // 2)
    picked: list[int] = []
    for i in order:
        if support[i] < floor or len(picked) == _MAX_CANDIDATES:
            break
        d = diagonals[i]
        if all(abs(d - p) >= spacing for p in picked):
            picked.append(d)
    return picked


@dataclass(frozen=True)
class _Region:
    """Result of the forward approximate search around one voted diagonal."""

    offset: int  # where ``window`` starts in the haystack
    window: str
    distance: int  # smallest edit distance of the quote to any span ending in range
    ends: tuple[int, ...]  # window-relative span ends reaching it, best guess first


def _scan(haystack: str, quote: str, masks: dict[str, int], diagonal: int) -> _Region:
    m = len(quote)
    slack = m // 3 + 8  # room for insertions/deletions well beyond the drift threshold
    lo = max(0, diagonal - slack)
    window = haystack[lo : diagonal + m + slack]
    scores = _edit_scores(quote, masks, window, anchored=False)
    # Only ends near where this region's votes put the quote's end, so that a window which
    # overlaps a neighbouring copy does not collapse onto it and hide a rival.
    first = max(0, diagonal + m - slack - lo - 1)
    if first >= len(scores):
        first = 0
    distance = min(scores[first:])
    expected_end = diagonal + m - lo
    ends = sorted(
        (i + 1 for i in range(first, len(scores)) if scores[i] == distance),
        key=lambda e: abs(e - expected_end),
    )
    return _Region(lo, window, distance, tuple(ends[:4]))


def _locate(region: _Region, quote: str, rmasks: dict[str, int]) -> tuple[int, int, float]:
    """The region's best span in haystack offsets: (start, end, similarity)."""
    m = len(quote)
    reversed_quote = quote[::-1]
    best: tuple[int, int, float] | None = None
    for end in region.ends:
        # Anchored search on the reversed text = best start for a span ending exactly here;
        # among equally distant starts prefer the span whose length is closest to the quote's.
        back = _edit_scores(reversed_quote, rmasks, region.window[:end][::-1], anchored=True)
        length = min(range(len(back)), key=lambda k: (back[k], abs(k + 1 - m))) + 1
        sim = 1.0 - back[length - 1] / max(m, length)
        if best is None or sim > best[2]:
            best = (region.offset + end - length, region.offset + end, sim)
    assert best is not None
    return best


def _same_form(new_text: str, *parts: str) -> tuple[str, ...]:
    """``parts`` in the Unicode normalisation form ``new_text`` is in, if it is in one.

    A provision re-imported from another source may switch é between one code point and
    e + U+0301; that is not an edit of the wording.
    """
    for form in ("NFC", "NFD"):
        if unicodedata.is_normalized(form, new_text):
            return tuple(unicodedata.normalize(form, part) for part in parts)
    return parts


def _fuzzy(new_text: str, exact: str, prefix: str, suffix: str) -> Reanchored:
    exact, prefix, suffix = _same_form(new_text, exact, prefix, suffix)
    collapsed = _collapsed(new_text)
    haystack, to_text = collapsed.text, collapsed.span
    quote = _collapse(exact)
    if not haystack:
        return Reanchored(Placement.ORPHANED, None, None, 0.0)

    # Rule 2: identical up to whitespace.  Rivals are other whitespace-identical copies only,
    # mirroring rule 1.
    same = _occurrences(haystack, quote)
    if same:
        chosen = _choose_copy(haystack, same, len(quote), prefix, suffix)
        if chosen is None:
            return Reanchored(Placement.DRIFTED, None, None, 1.0)
        if _fits_context(chosen):
            return Reanchored(Placement.FUZZY, *to_text(chosen.start, chosen.end), 1.0)
        # Same words in unfamiliar surroundings: fall through, where the copy competes with
        # any edited version still sitting in the stored context.

    # Rule 3: approximate match.
    masks, rmasks = _pattern_masks(quote), _pattern_masks(quote[::-1])
    regions = sorted(
        (_scan(haystack, quote, masks, d) for d in _vote_regions(haystack, quote)),
        key=lambda r: r.distance,
    )
    has_context = bool(prefix or suffix)
    candidates: list[_Candidate] = []
    top_rank = best_sim = -1.0
    for region in regions:
        # A span within distance d of the quote is at most d longer, which caps its similarity;
        # a region that can neither win, come within the margin, nor raise the best score seen
        # is not worth locating (and, sorted by distance, neither is any after it).
        ceiling = 1.0 - region.distance / (len(quote) + region.distance)
        ceiling_rank = (1 - CONTEXT_WEIGHT) * ceiling + CONTEXT_WEIGHT if has_context else ceiling
        if ceiling_rank < top_rank - MARGIN and ceiling <= best_sim:
            break
        start, end, sim = _locate(region, quote, rmasks)
        candidate = _Candidate(start, end, sim, _context_similarity(haystack, start, end, prefix, suffix))
        candidates.append(candidate)
        top_rank, best_sim = max(top_rank, candidate.rank), max(best_sim, sim)
    # Two regions can refine onto (parts of) the same passage; keep the better one so the
    # margin is measured against a genuinely different passage.
    candidates.sort(key=lambda c: c.rank, reverse=True)
    distinct: list[_Candidate] = []
    for c in candidates:
        if all(c.end <= k.start or c.start >= k.end for k in distinct):
            distinct.append(c)
    best_seen = max((c.quote_sim for c in distinct), default=0.0)

    chosen = _pick(distinct)
    if chosen is not None and chosen.quote_sim >= FUZZY_THRESHOLD and _fits_context(chosen):
        return Reanchored(Placement.FUZZY, *to_text(chosen.start, chosen.end), chosen.quote_sim)
    placement = Placement.DRIFTED if best_seen >= DRIFT_THRESHOLD else Placement.ORPHANED
    return Reanchored(placement, None, None, best_seen)


def reanchor(
    new_text: str,
    *,
    exact: str,
    prefix: str = "",
    suffix: str = "",
    old_start: int | None = None,
) -> Reanchored:
    """Find the annotated quote in a provision's new wording (see the module docstring).

    ``old_start`` is accepted so callers can pass the whole stored anchor, but it never
    decides between candidates (see rule 1).
    """
    del old_start  # intentionally unused; documented above
    if not exact:
        raise AnchorError("cannot re-anchor an empty quote", "empty")

    # Rule 1: verbatim.
    found = _occurrences(new_text, exact)
    if found:
        chosen = _choose_copy(new_text, found, len(exact), prefix, suffix)
        if chosen is None:
            return Reanchored(Placement.DRIFTED, None, None, 1.0)
        if _fits_context(chosen):
            return Reanchored(Placement.EXACT, chosen.start, chosen.end, 1.0)
        # The same words elsewhere, e.g. the annotated phrase was amended and another article
        # happens to use it too.  Not adopted; the fuzzy search decides (see rule 1).

    return _fuzzy(new_text, exact, prefix, suffix)
