"""Cut a text into runs for highlighting, so that overlapping and nested annotations all show.

Every start and end offset is a boundary; between two boundaries the set of covering annotations
is constant, so each run renders as one element that lists them all. Runs never nest, which is
what lets overlapping spans (a–c and b–d) render correctly in HTML.
"""

from dataclasses import dataclass, field


@dataclass
class Run:
    text: str
    start: int
    annotations: list = field(default_factory=list)   # innermost (shortest) first
    opens: list = field(default_factory=list)         # annotations whose span starts here
    closes: list = field(default_factory=list)        # annotations whose span ends here

    @property
    def ids(self):
        return " ".join(str(annotation.pk) for annotation in self.annotations)

    @property
    def depth(self):
        return min(len(self.annotations), 4)

    @property
    def primary(self):
        return self.annotations[0] if self.annotations else None


def highlight_runs(text, annotations):
    """Runs covering `text` end to end; `annotations` need pk, start and end (unplaced ones are skipped)."""
    placed = [a for a in annotations if a.start is not None and 0 <= a.start < a.end <= len(text)]
    boundaries = sorted({0, len(text), *(a.start for a in placed), *(a.end for a in placed)})
    starting, ending = {}, {}
    for annotation in placed:
        starting.setdefault(annotation.start, []).append(annotation)
        ending.setdefault(annotation.end, []).append(annotation)

    runs, active = [], []
    for left, right in zip(boundaries, boundaries[1:]):
        active = [a for a in active if a.end > left] + starting.get(left, [])
        covering = sorted(active, key=lambda a: (a.end - a.start, a.pk))
        runs.append(Run(text[left:right], left, covering, starting.get(left, []), ending.get(right, [])))
    return runs
