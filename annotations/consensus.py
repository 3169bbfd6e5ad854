"""What a provision's published assessments and the commentary on it conclude, side by side.

`consensus(provision)` groups the published annotations by their conclusion (the values of their
choice and scale fields: "Binding · Armed attack" against "Hortatory · None"), counts per field how
many say what (and so where they agree and where they split), puts beside them the approved
excerpts by the stance curators gave them, and the aggregate agreement between analysts (no
pair of analysts is named in public), with the curators' adjudications.
"""

from collections import Counter
from dataclasses import dataclass, field
from itertools import groupby

from treaty_app.models import ExcerptLink

from . import agreement, assessments
from .models import Adjudication, Annotation, AssessmentField


@dataclass
class FieldSummary:
    label: str
    counts: list  # (value label, count), most said first
    total: int

    @property
    def line(self):
        """“3 of 4 say Binding; 1 says Hortatory”, or “all 3 say Binding”."""
        if not self.counts:
            return "no published assessment says."
        first_label, first_count = self.counts[0]
        if len(self.counts) == 1:
            return f"{'all ' + str(self.total) if self.total > 1 else 'the one published assessment'} say{'s' if self.total == 1 else ''} {first_label}."
        rest = "; ".join(f"{count} say{'s' if count == 1 else ''} {label}" for label, count in self.counts[1:])
        return f"{first_count} of {self.total} say {first_label}; {rest}."

    @property
    def split(self):
        return len(self.counts) > 1


@dataclass
class Conclusion:
    values: tuple  # (field label, value label) pairs
    annotations: list = field(default_factory=list)


def consensus(provision):
    known = assessments.scheme()
    published = list(
        Annotation.objects.published(roots=True).filter(provision=provision)
        .select_related("author").prefetch_related("tags").order_by("created_at", "pk")
    )
    Annotation.describe_assessments(published)
    choice_fields = [f for f in known.fields if f.kind != AssessmentField.Kind.TEXT]
    assessed = [a for a in published if any(item.kind != "text" for item in a.shown_assessment)]

    summaries = []
    for scheme_field in choice_fields:
        said = Counter(
            item.value for a in assessed for item in a.shown_assessment if item.slug == scheme_field.slug
        )
        if said:
            summaries.append(FieldSummary(scheme_field.label, said.most_common(), sum(said.values())))

    def conclusion_of(annotation):
        return tuple((item.field, item.value) for item in annotation.shown_assessment if item.kind != "text")

    groups = {}
    for annotation in assessed:
        annotation.reasoning = [item.value for item in annotation.shown_assessment if item.kind == "text"]
        groups.setdefault(conclusion_of(annotation), Conclusion(conclusion_of(annotation))).annotations.append(annotation)
    conclusions = sorted(groups.values(), key=lambda c: (-len(c.annotations), c.values))

    links = list(
        ExcerptLink.objects.approved().filter(provision=provision)
        .select_related("excerpt__source").defer("excerpt__source__body", "excerpt__source__capture")
        .order_by("stance", "excerpt__source__published_on", "excerpt__start")
    )
    stances = dict(ExcerptLink.Stance.choices)
    commentary = [
        (stances.get(stance, "Discusses"), list(group))
        for stance, group in groupby(links, key=lambda link: link.stance)
    ]
    _, figures = agreement.provision_agreement(published, known)
    adjudications = list(Adjudication.objects.filter(provision=provision, annotations__visibility="public").distinct())
    return {
        "summaries": summaries, "conclusions": conclusions, "commentary": commentary,
        "agreement": [figure for figure in figures if figure.pairs], "adjudications": adjudications,
        "published": len(published), "assessed": len(assessed),
    }
