"""Keep annotations on their words when a provision's wording changes.

Each annotation is looked for again by its quote and context. A confident match moves it; an
ambiguous or weak one is never guessed: the annotation keeps its quote, loses its place, and is
listed for its author as drifted or orphaned. Nothing is deleted.
"""

from collections import Counter

from simple_history.utils import bulk_update_with_history

from .anchoring import Placement, quote_selector, reanchor
from .models import Annotation

OUTCOME = {
    Placement.EXACT: Annotation.Placement.ANCHORED,
    Placement.FUZZY: Annotation.Placement.FUZZY,
    Placement.DRIFTED: Annotation.Placement.DRIFTED,
    Placement.ORPHANED: Annotation.Placement.ORPHANED,
}


def reanchor_provision(provision, old_text):
    """Re-place every root annotation on the provision's new wording; returns a Counter of outcomes."""
    outcomes = Counter()
    annotations = list(Annotation.objects.roots().filter(provision=provision).exclude(exact=""))
    for annotation in annotations:
        found = reanchor(
            provision.text, exact=annotation.exact, prefix=annotation.prefix, suffix=annotation.suffix,
            old_start=annotation.start,
        )
        placement = OUTCOME[found.placement]
        outcomes[placement] += 1
        annotation.placement = placement
        annotation.text_version = provision.text_version
        if found.start is not None:
            context = quote_selector(provision.text, found.start, found.end)
            annotation.start, annotation.end = found.start, found.end
            annotation.prefix, annotation.suffix = context.prefix, context.suffix
            # The annotated words are now the new wording's; the old quote stays in the history.
            annotation.exact = context.exact
            annotation.anchored_text = ""
        else:
            if annotation.start is not None:
                annotation.anchored_text = old_text
            annotation.start = annotation.end = None
    # In bulk, but with a history record for each: a re-placement is a change like any other.
    bulk_update_with_history(
        annotations, Annotation,
        ["placement", "text_version", "start", "end", "prefix", "suffix", "exact", "anchored_text"],
        batch_size=500,
    )
    return outcomes


def on_wording_changed(sender, *, provision, old_text, report, **kwargs):
    outcomes = reanchor_provision(provision, old_text)
    if outcomes:
        figures = ", ".join(f"{count} {placement}" for placement, count in sorted(outcomes.items()))
        report.notes.append(f"{provision}: annotations re-anchored: {figures}.")
