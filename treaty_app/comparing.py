"""Two provisions side by side, from one treaty or two (the 2024 treaty's Article 4 beside Article 1
of the 1961 treaty).

When the two wordings are renderings of one text (their words mostly the same: a word-level
similarity of at least RENDERING_SIMILARITY), the page shows a word-level diff; otherwise they are
different instruments and stand side by side. Either way each keeps its published annotations and
its approved excerpts. `related_instruments(treaty)` lists the other treaties its provisions are
cross-referenced with, for the treaty page.
"""

import difflib
from dataclasses import dataclass

from django.db.models import Q

from .diffing import word_diff
from .models import CrossReference, ExcerptLink

RENDERING_SIMILARITY = 0.5


def similarity(first, second):
    return difflib.SequenceMatcher(a=first.split(), b=second.split(), autojunk=False).ratio()


@dataclass
class Side:
    provision: object
    annotations: list
    links: list


def side(provision):
    annotations = list(
        provision.annotations.published(roots=True).filter(start__isnull=False)
        .select_related("author").order_by("start", "pk")
    )
    links = list(
        ExcerptLink.objects.approved().filter(provision=provision).select_related("excerpt__source")
        .defer("excerpt__source__body", "excerpt__source__capture")
    )
    return Side(provision, annotations, links)


def compare(first, second):
    ratio = similarity(first.text, second.text) if first.text and second.text else 0.0
    return {
        "first": side(first), "second": side(second), "similarity": round(ratio, 2),
        "diff": word_diff(first.text, second.text) if ratio >= RENDERING_SIMILARITY else None,
        "references": list(
            CrossReference.objects.filter(
                Q(provision=first, target=second) | Q(provision=second, target=first)
            )
        ),
    }


def related_instruments(treaty):
    """[(other treaty, [(this treaty's provision, the other's provision)])] from the cross-references."""
    references = (
        CrossReference.objects.filter(target__isnull=False)
        .filter(Q(provision__treaty=treaty) | Q(target__treaty=treaty))
        .exclude(provision__treaty=treaty, target__treaty=treaty)
        .select_related("provision__treaty", "target__treaty")
        .order_by("pk")
    )
    related = {}
    for reference in references:
        mine, theirs = (
            (reference.provision, reference.target) if reference.provision.treaty_id == treaty.pk
            else (reference.target, reference.provision)
        )
        related.setdefault(theirs.treaty, []).append((mine, theirs))
    return list(related.items())
