"""Cut a text into runs for highlighting, so that overlapping and nested spans all show.

Every start and end offset is a boundary; between two boundaries the set of covering spans is
constant, so each run renders as one element that lists them all. Runs never nest, which is what
lets overlapping spans (a–c and b–d) render correctly in HTML. Spans are any objects with pk,
start and end: annotations, or excerpts on a source's text.
"""

from bisect import bisect_right
from dataclasses import dataclass, field

PARAGRAPH_BREAK = "\n\n"


@dataclass
class Run:
    text: str
    start: int
    spans: list = field(default_factory=list)    # innermost (shortest) first
    opens: list = field(default_factory=list)    # spans that start here
    closes: list = field(default_factory=list)   # spans that end here

    @property
    def ids(self):
        return " ".join(str(span.pk) for span in self.spans)

    @property
    def depth(self):
        return min(len(self.spans), 4)

    @property
    def primary(self):
        return self.spans[0] if self.spans else None


def highlight_runs(text, spans, *, breaks=()):
    """Runs covering `text` end to end; spans without a place in `text` are skipped.

    `breaks` are extra offsets to cut at (paragraph boundaries), so no run crosses them.
    """
    placed = [s for s in spans if s.start is not None and 0 <= s.start < s.end <= len(text)]
    boundaries = sorted({0, len(text), *breaks, *(s.start for s in placed), *(s.end for s in placed)})
    starting, ending = {}, {}
    for span in placed:
        starting.setdefault(span.start, []).append(span)
        ending.setdefault(span.end, []).append(span)

    runs, active = [], []
    for left, right in zip(boundaries, boundaries[1:]):
        active = [s for s in active if s.end > left] + starting.get(left, [])
        covering = sorted(active, key=lambda s: (s.end - s.start, s.pk))
        runs.append(Run(text[left:right], left, covering, starting.get(left, []), ending.get(right, [])))
    return runs


def paragraph_runs(text, spans):
    """The runs of each paragraph of `text` (paragraphs are separated by a blank line).

    Every paragraph is there, an empty one as an empty list, so that the paragraphs joined with
    PARAGRAPH_BREAK are `text` again, character for character: a page that renders them with the
    break between them has the stored text as its textContent, which W3C selectors count in. The
    breaks themselves are in no paragraph, even where a span covers them."""
    if not text:
        return []
    bounds, offset = [], 0
    for paragraph in text.split(PARAGRAPH_BREAK):
        bounds.append((offset, offset + len(paragraph)))
        offset += len(paragraph) + len(PARAGRAPH_BREAK)
    starts = [start for start, _ in bounds]
    paragraphs = [[] for _ in bounds]
    for run in highlight_runs(text, spans, breaks=[offset for pair in bounds for offset in pair]):
        # Runs are cut at every paragraph's start and end, so each lies within a paragraph or a break.
        index = bisect_right(starts, run.start) - 1
        if run.start < bounds[index][1]:
            paragraphs[index].append(run)
    return paragraphs
