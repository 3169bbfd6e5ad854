"""Cut a text into runs for highlighting, so that overlapping and nested spans all show.

Every start and end offset is a boundary; between two boundaries the set of covering spans is
constant, so each run renders as one element that lists them all. Runs never nest, which is what
lets overlapping spans (a–c and b–d) render correctly in HTML. Spans are any objects with pk,
start and end: annotations, or excerpts on a source's text.
"""

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
    """The runs of each paragraph of `text` (paragraphs are separated by a blank line)."""
    breaks, offset = [], 0
    for paragraph in text.split(PARAGRAPH_BREAK):
        breaks += [offset, offset + len(paragraph)]
        offset += len(paragraph) + len(PARAGRAPH_BREAK)
    paragraphs, current, cut = [], [], iter(breaks[1::2])
    paragraph_end = next(cut, len(text))
    for run in highlight_runs(text, spans, breaks=breaks):
        if run.start >= paragraph_end:
            paragraphs.append(current)
            current = []
            paragraph_end = next(cut, len(text))
        if run.text != PARAGRAPH_BREAK:
            current.append(run)
    paragraphs.append(current)
    return [paragraph for paragraph in paragraphs if paragraph] if text else []
