"""Highlights of a text cut into pieces (treaty_app/marking.py): whatever the spans, the cuts and the
cache, the pieces joined are the highlighted text in one piece, and a piece from the cache is the piece
as it would be made now (a key that left out anything a piece shows would serve a stale one)."""

import re
from collections import namedtuple
from html import unescape

from django.core.cache.backends.locmem import LocMemCache
from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from treaty_app.marking import highlight_runs, marked_pieces, runs_html

Span = namedtuple("Span", "pk start end tag_slug")


@st.composite
def highlighted(draw):
    """A text, spans on it (overlapping, nested, equal; some out of it or unplaced), and cuts."""
    text = draw(st.text(alphabet="ab <&>\n\x1e", max_size=120))
    bound = st.integers(min_value=0, max_value=len(text) + 2)
    spans = []
    for pk in range(1, draw(st.integers(min_value=0, max_value=25)) + 1):
        start, end = sorted((draw(bound), draw(bound)))
        start = None if draw(st.integers(0, 20)) == 0 else start
        spans.append(Span(pk, start, end, draw(st.sampled_from([None, "war", "aid"]))))
    cuts = sorted(set(draw(st.lists(bound, max_size=8))))
    return text, spans, cuts


def in_reading_order(spans):
    """As the pages pass them (by start, then key): the order of numbers where several spans end."""
    return sorted(spans, key=lambda span: (span.start is not None, span.start or 0, span.pk))


def text_of(html):
    return unescape(re.sub(r"<[^>]*>", "", html))


class MarkedPiecesTests(SimpleTestCase):
    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(highlighted(), st.booleans(), st.booleans())
    def test_pieces_joined_are_the_text_highlighted_whole_with_or_without_the_cache(self, case, anchors, colours):
        text, spans, cuts = case
        spans = in_reading_order(spans)
        pages = {span.pk: f"?cards={span.pk % 3 + 1}" for span in spans}
        options = {"anchors": anchors, "colours": colours, "href": lambda pk: f"{pages[pk]}#annotation-{pk}"}
        whole = str(runs_html(highlight_runs(text, spans, breaks=cuts), **options))
        cache = LocMemCache("marking-test", {})
        made = marked_pieces(text, spans, cuts=cuts, cache=cache, **options)
        self.assertEqual("".join(made), whole)
        self.assertEqual(text_of("".join(made)), text)
        self.assertEqual(marked_pieces(text, spans, cuts=cuts, cache=cache, **options), made)  # from the cache
        for flag in ("anchors", "colours"):  # the same spans drawn otherwise, through the same cache
            other = options | {flag: not options[flag]}
            self.assertEqual("".join(marked_pieces(text, spans, cuts=cuts, cache=cache, **other)),
                             str(runs_html(highlight_runs(text, spans, breaks=cuts), **other)))

        # Each thing a piece shows of a span, changed: the pieces from the same cache are made afresh.
        for pk in {span.pk for span in spans if span.start is not None}:
            i = next(i for i, span in enumerate(spans) if span.pk == pk)
            changes = [
                spans[:i] + [spans[i]._replace(tag_slug="moved")] + spans[i + 1:],
                spans[:i] + [spans[i]._replace(end=spans[i].end + 1)] + spans[i + 1:],
                spans[:i] + [spans[i]._replace(start=max(0, spans[i].start - 1))] + spans[i + 1:],
                spans[:i] + spans[i + 1:],
            ]
            pages[pk] = "?cards=9"  # its card now on another page
            for changed in map(in_reading_order, changes):
                fresh = str(runs_html(highlight_runs(text, changed, breaks=cuts), **options))
                self.assertEqual("".join(marked_pieces(text, changed, cuts=cuts, cache=cache, **options)), fresh)
