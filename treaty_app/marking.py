"""Cut a text into runs for highlighting, so that overlapping and nested spans all show.

Every start and end offset is a boundary; between two boundaries the set of covering spans is
constant, so each run renders as one element that lists them all. Runs never nest, which is what
lets overlapping spans (a–c and b–d) render correctly in HTML. Spans are any objects with pk,
start and end (and, for a highlight's colour, an optional ``tag_slug``): annotations, excerpts on
a source's text, or light rows read with ``values_list``.

One sweep over the boundaries, in O(N log N) for N spans (plus the length of the output: a run
lists the spans covering it). The innermost covering span, the one a click on the run means, is
kept on a heap ordered by length, so no run sorts its covering spans.
"""

import hashlib
import heapq
from bisect import bisect_right
from dataclasses import dataclass, field
from operator import attrgetter

from django.utils.html import escape
from django.utils.safestring import mark_safe

PARAGRAPH_BREAK = "\n\n"
MAX_DEPTH = 4  # shades of overlap drawn: depth-1 … depth-4


@dataclass
class Run:
    text: str
    start: int
    primary: object = None  # the innermost (shortest) covering span, ties to the lowest pk
    covered: int = 0  # how many spans cover the run
    ids: str = ""  # the covering spans' pks, the primary's first
    opens: list = field(default_factory=list)  # spans that start here
    closes: list = field(default_factory=list)  # spans that end here

    @property
    def spans(self):
        return self.covered

    @property
    def depth(self):
        return min(self.covered, MAX_DEPTH)


def _key(span):
    return (span.end - span.start, span.pk)


def highlight_runs(text, spans, *, breaks=()):
    """Runs covering `text` end to end; spans without a place in `text` are skipped.

    `breaks` are extra offsets to cut at (paragraph boundaries), so no run crosses them.
    """
    placed = [s for s in spans if s.start is not None and 0 <= s.start < s.end <= len(text)]
    starting, ending = {}, {}
    for span in placed:
        starting.setdefault(span.start, []).append(span)
        ending.setdefault(span.end, []).append(span)
    boundaries = sorted({0, len(text), *breaks, *starting, *ending})

    runs = []
    active = {}  # pk -> span, in the order they opened
    heap = []  # (length, pk, span): the primary is the smallest still active
    for left, right in zip(boundaries, boundaries[1:]):
        for span in ending.get(left, ()):
            active.pop(span.pk, None)
        for span in starting.get(left, ()):
            active[span.pk] = span
            heapq.heappush(heap, (*_key(span), span))
        while heap and heap[0][1] not in active:
            heapq.heappop(heap)
        run = Run(text[left:right], left, opens=starting.get(left, []), closes=ending.get(right, []))
        if active:
            primary = heap[0][2]
            run.primary, run.covered = primary, len(active)
            others = [str(pk) for pk in active if pk != primary.pk]
            run.ids = " ".join([str(primary.pk), *others])
        runs.append(run)
    return runs


def paragraph_bounds(text):
    """(start, end) of each paragraph of `text` (paragraphs are separated by a blank line); none
    for an empty text."""
    if not text:
        return []
    bounds, offset = [], 0
    for paragraph in text.split(PARAGRAPH_BREAK):
        bounds.append((offset, offset + len(paragraph)))
        offset += len(paragraph) + len(PARAGRAPH_BREAK)
    return bounds


def paragraph_runs(text, spans):
    """The runs of each paragraph of `text` (paragraphs are separated by a blank line).

    Every paragraph is there, an empty one as an empty list, so that the paragraphs joined with
    PARAGRAPH_BREAK are `text` again, character for character: a page that renders them with the
    break between them has the stored text as its textContent, which W3C selectors count in. The
    breaks themselves are in no paragraph, even where a span covers them."""
    bounds = paragraph_bounds(text)
    starts = [start for start, _ in bounds]
    paragraphs = [[] for _ in bounds]
    for run in highlight_runs(text, spans, breaks=[offset for pair in bounds for offset in pair]):
        # Runs are cut at every paragraph's start and end, so each lies within a paragraph or a break.
        index = bisect_right(starts, run.start) - 1
        if run.start < bounds[index][1]:
            paragraphs[index].append(run)
    return paragraphs


def runs_html(runs, *, anchors=False, colours=False, href=None):
    """The runs as HTML, whose text content is exactly the runs' text (nothing else is text in it).

    Each covered run is a ``<mark class="hl depth-N">`` listing its annotations; after a run where an
    annotation ends comes its number, an empty link drawn by CSS from ``data-ref``. With `anchors`,
    every annotation that starts in a run gets an ``id="hl-N"`` target (the first on the mark, the
    others on empty spans); without, only the first. With `colours`, a mark carries its primary's
    ``tag-<slug>`` class. `href(pk)` gives a number's link (default ``#annotation-N``).

    Built here rather than in a template: a page with thousands of annotations spent most of its
    time in the template loop."""
    parts = []
    append = parts.append
    for run in runs:
        text = escape(run.text)
        if run.covered:
            opens = run.opens
            if anchors:
                for extra in opens[1:]:
                    append(f'<span class="hl-anchor" id="hl-{extra.pk}"></span>')
            tag = getattr(run.primary, "tag_slug", None) if colours else None
            classes = f"hl depth-{run.depth}" + (f" tag-{escape(tag)}" if tag else "")
            target = f' id="hl-{opens[0].pk}"' if opens else ""
            append(f'<mark class="{classes}"{target} data-annotations="{run.ids}">{text}</mark>')
        else:
            append(text)
        for closing in run.closes:
            link = href(closing.pk) if href else f"#annotation-{closing.pk}"
            append(f'<a class="hl-ref" href="{link}" aria-label="Annotation {closing.pk}" data-ref="{closing.pk}"></a>')
    return mark_safe("".join(parts))


def marked_pieces(text, spans, *, cuts=(), anchors=False, colours=False, href=None, cache=None):
    """The HTML of the highlighted `text`, as the pieces between `cuts` (sorted offsets): the
    pieces joined are `runs_html(highlight_runs(text, spans))` (marks are split at the cuts).

    With `cache` (a Django cache), each piece is made once per version of what it shows (its text
    and the spans that touch it, with their tag and link) and then taken from the cache: after a
    change, only the pieces the change touches are made again. Pieces are the unit of reuse, so
    the caller cuts a long text every PIECE_CHARACTERS or so."""
    placed = sorted(
        (s for s in spans if s.start is not None and 0 <= s.start < s.end <= len(text)), key=attrgetter("start", "pk"),
    )
    bounds = [0, *[cut for cut in cuts if 0 < cut < len(text)], len(text)]
    link = href or (lambda pk: f"#annotation-{pk}")
    # The spans touching each piece: the piece a span starts in moves only forward (they are in start
    # order), and most spans end in it.
    touching = [[] for _ in bounds[1:]]
    piece = 0
    for span in placed:
        while span.start >= bounds[piece + 1]:
            piece += 1
        touching[piece].append(span)
        if span.end > bounds[piece + 1]:
            for index in range(piece + 1, bisect_right(bounds, span.end - 1)):
                touching[index].append(span)
    keys = []
    if cache is not None:
        # What a piece shows of each span, written once per span (one may touch several pieces), as
        # text joined, not a repr of tuples: the keys were 26 ms of a workspace at 10,000 notes. Each
        # span's part is numbers, a slug and last a URL-encoded link, and no part holds "\x1e"; the
        # piece's text may, but its bounds, first, give its length: equal keys mean equal pieces.
        part = {}
        for s in placed:
            tag = getattr(s, "tag_slug", None) if colours else None
            part[s.pk] = f"{s.pk},{s.start},{s.end},{tag},{link(s.pk)}"
        for index, (left, right) in enumerate(zip(bounds, bounds[1:])):
            shown = "\x1e".join([f"{left},{right},{anchors},{colours}", text[left:right],
                                  *[part[s.pk] for s in touching[index]]])
            keys.append("marks:" + hashlib.blake2b(shown.encode(), digest_size=16).hexdigest())
        found = cache.get_many(keys)
    else:
        found = {}
    pieces, made = [], {}
    for index, (left, right) in enumerate(zip(bounds, bounds[1:])):
        key = keys[index] if keys else None
        if key in found:
            pieces.append(mark_safe(found[key]))
            continue
        html = _marked(text, touching[index], left, right, anchors=anchors, colours=colours, link=link)
        pieces.append(mark_safe(html))
        if key:
            made[key] = html
    if made:
        cache.set_many(made, timeout=86400)
    return pieces


def _marked(text, spans, left_edge, right_edge, *, anchors, colours, link):
    """The HTML of text[left_edge:right_edge], `spans` being those that touch it (in start order)."""
    starting, ending = {}, {}
    active, heap = {}, []
    for span in spans:
        if span.start < left_edge:
            active[span.pk] = span  # open before the piece: covers its start
            heapq.heappush(heap, (span.end - span.start, span.pk, span))
        else:
            starting.setdefault(span.start, []).append(span)
        if span.end <= right_edge:
            ending.setdefault(span.end, []).append(span)
    boundaries = sorted({left_edge, right_edge, *starting, *(end for end in ending if end > left_edge)})
    parts = []
    append = parts.append
    push, pop = heapq.heappush, heapq.heappop
    for left, right in zip(boundaries, boundaries[1:]):
        for span in ending.get(left, ()):
            active.pop(span.pk, None)
        opens = starting.get(left, ())
        for span in opens:
            active[span.pk] = span
            push(heap, (span.end - span.start, span.pk, span))
        chunk = escape(text[left:right])
        if active:
            while heap[0][1] not in active:
                pop(heap)
            primary = heap[0][2]
            if anchors:
                for extra in opens[1:]:
                    append(f'<span class="hl-anchor" id="hl-{extra.pk}"></span>')
            depth = len(active) if len(active) < MAX_DEPTH else MAX_DEPTH
            tag = getattr(primary, "tag_slug", None) if colours else None
            classes = f"hl depth-{depth} tag-{escape(tag)}" if tag else f"hl depth-{depth}"
            target = f' id="hl-{opens[0].pk}"' if opens else ""
            ids = str(primary.pk) if len(active) == 1 else " ".join(
                [str(primary.pk), *(str(pk) for pk in active if pk != primary.pk)]
            )
            append(f'<mark class="{classes}"{target} data-annotations="{ids}">{chunk}</mark>')
        else:
            append(chunk)
        for closing in ending.get(right, ()):
            append(
                f'<a class="hl-ref" href="{link(closing.pk)}" aria-label="Annotation {closing.pk}" '
                f'data-ref="{closing.pk}"></a>'
            )
    return "".join(parts)


PIECE_CHARACTERS = 1500


def piece_cuts(length, *extra):
    """Where to cut a text of `length` into pieces for marked_pieces: every PIECE_CHARACTERS, and at `extra`."""
    return sorted({*range(PIECE_CHARACTERS, length, PIECE_CHARACTERS), *extra})


def marked_paragraphs(text, spans, **options):
    """The HTML of each paragraph of `text` with its highlights, as paragraph_runs cuts them (every
    paragraph there, the breaks between them in none), made by marked_pieces with `options`."""
    bounds = paragraph_bounds(text)
    if not bounds:
        return []
    cuts = piece_cuts(len(text), *(edge for pair in bounds for edge in pair))
    edges = [0, *[cut for cut in cuts if 0 < cut < len(text)], len(text)]
    pieces = marked_pieces(text, spans, cuts=cuts, **options)
    paragraphs = [[] for _ in bounds]
    starts = [start for start, _ in bounds]
    for left, piece in zip(edges, pieces):
        index = bisect_right(starts, left) - 1
        if left < bounds[index][1] or bounds[index][0] == bounds[index][1] == left:
            paragraphs[index].append(piece)
    return [mark_safe("".join(parts)) for parts in paragraphs]


def marked_excerpt_paragraphs(text, excerpts, spans):
    """The HTML of each paragraph of a commentary's `text` (as paragraph_runs cuts them): its
    `excerpts` marked (``<mark class="excerpt-mark">``, with ``id="excerpt-N"`` on the first run of
    each), and inside those marks the highlights of `spans` (annotations on the excerpts, in the
    text's offsets), each linked to its card as runs_html links them.

    The excerpt marks are not cut by the highlights: the element ``#excerpt-N`` holds the run of
    the excerpt's words that it always held, whatever is annotated in it."""
    paragraphs = paragraph_runs(text, excerpts)
    edges = sorted({edge for runs in paragraphs for run in runs for edge in (run.start, run.start + len(run.text))})
    pieces = marked_pieces(text, spans, cuts=edges, anchors=True)
    starting = dict(zip([0, *[edge for edge in edges if 0 < edge < len(text)]], pieces))
    html = []
    for runs in paragraphs:
        parts = []
        for run in runs:
            piece = starting[run.start]
            if run.covered:
                target = f' id="excerpt-{run.opens[0].pk}"' if run.opens else ""
                parts.append(f'<mark{target} class="excerpt-mark">{piece}</mark>')
            else:
                parts.append(piece)
        html.append(mark_safe("".join(parts)))
    return html
