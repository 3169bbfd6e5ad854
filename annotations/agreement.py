"""Agreement between analysts: where two or more annotated the same words, do they see them alike?

**Units.** Annotations of different analysts on the same provision whose spans overlap by at least
`OVERLAP` of the shorter one (settings.AGREEMENT_OVERLAP, default 0.5) are one *unit*: the words
they assessed together. Overlap chains (a–b, b–c) make one unit. An analyst with several
annotations in a unit is counted once, by the first of them (in reading order).

**Variables.** Each choice and scale field of the assessment scheme, and the tags (one nominal value
per annotation: its exact set of tags, so "war, alliance" and "war" disagree).

**Figures, per provision and field.** Krippendorff's alpha, from the `krippendorff` library: nominal
for choice fields and tags, ordinal for scale fields (its values in the scheme's order); and raw
percent agreement: of all pairs of analysts who both gave a value in a unit, the share that gave the
same. With fewer than two analysts in any unit there is nothing to compare: the figures are None.
Alpha is None too when every value given is the same (no variation: its expected disagreement is
zero), where percent agreement is 100 %.

**Disagreements** are the pairs that differ, for a curator to adjudicate (writes.adjudicate).
"""

from dataclasses import dataclass, field
from itertools import combinations

from django.conf import settings

from .models import AssessmentField

TAGS = "tags"


def overlap_share():
    return float(getattr(settings, "AGREEMENT_OVERLAP", 0.5))


@dataclass
class Unit:
    start: int
    end: int
    annotations: list = field(default_factory=list)  # one per analyst, the first in reading order

    @property
    def key(self):
        """Stable for the same annotations: what an adjudication refers to."""
        return "-".join(str(annotation.pk) for annotation in sorted(self.annotations, key=lambda a: a.pk))


def _text_of(annotation):
    """Which text an annotation's offsets index: its language version's, or its provision's own."""
    return getattr(annotation, "language_version_id", None)


def _overlaps(a, b, share):
    common = min(a.end, b.end) - max(a.start, b.start)
    return common > 0 and common >= share * min(a.end - a.start, b.end - b.start)


def units(annotations, *, share=None):
    """The units (see the module docstring) of placed annotations, in reading order; only units with
    two analysts or more."""
    share = overlap_share() if share is None else share
    placed = sorted((a for a in annotations if a.start is not None), key=lambda a: (a.start, a.end, a.pk))
    parent = list(range(len(placed)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Sweep: each annotation is compared with those still open when it starts.
    open_ = []
    for i, annotation in enumerate(placed):
        open_ = [j for j in open_ if placed[j].end > annotation.start]
        for j in open_:
            if (placed[j].author_id != annotation.author_id and _overlaps(placed[j], annotation, share)
                    and _text_of(placed[j]) == _text_of(annotation)):  # offsets in one text
                parent[root(i)] = root(j)
        open_.append(i)
    groups = {}
    for i, annotation in enumerate(placed):
        groups.setdefault(root(i), []).append(annotation)
    found = []
    for members in groups.values():
        by_analyst = {}
        for annotation in members:
            by_analyst.setdefault(annotation.author_id, annotation)
        if len(by_analyst) >= 2:
            chosen = list(by_analyst.values())
            found.append(Unit(min(a.start for a in chosen), max(a.end for a in chosen), chosen))
    return sorted(found, key=lambda unit: (unit.start, unit.end))


@dataclass
class Disagreement:
    unit: Unit
    first: object  # annotation
    second: object
    first_value: str
    second_value: str


@dataclass
class FieldAgreement:
    field: str  # slug, or "tags"
    label: str
    level: str  # "nominal" or "ordinal"
    units: int  # units where two analysts or more gave a value
    pairs: int
    agreeing_pairs: int
    alpha: float | None
    disagreements: list

    @property
    def percent(self):
        return None if not self.pairs else round(100 * self.agreeing_pairs / self.pairs, 1)


def value_of(annotation, variable):
    if variable == TAGS:
        names = sorted(tag.slug for tag in annotation.tags.all())
        return ", ".join(names) if names else None
    return (annotation.assessment or {}).get(variable)


def field_agreement(found, variable, *, label, level="nominal", order=None):
    """The figures for one variable over the units `found` (see the module docstring)."""
    analysts = sorted({annotation.author_id for unit in found for annotation in unit.annotations})
    codes = {}
    if order is not None:
        codes = {value: position for position, value in enumerate(order)}
    matrix = {analyst: [] for analyst in analysts}
    pairs = agreeing = counted = 0
    disagreements = []
    for unit in found:
        given = {annotation.author_id: (annotation, value_of(annotation, variable)) for annotation in unit.annotations}
        present = [(annotation, value) for annotation, value in given.values() if value is not None]
        if len(present) >= 2:
            counted += 1
        for (a, va), (b, vb) in combinations(present, 2):
            pairs += 1
            if va == vb:
                agreeing += 1
            else:
                disagreements.append(Disagreement(unit, a, b, va, vb))
        for analyst in analysts:
            value = given.get(analyst, (None, None))[1]
            if value is not None and order is not None:
                value = codes.get(value)
            elif value is not None:
                value = codes.setdefault(value, len(codes))
            matrix[analyst].append(float("nan") if value is None else float(value))
    return FieldAgreement(
        field=variable, label=label, level=level, units=counted, pairs=pairs, agreeing_pairs=agreeing,
        alpha=_alpha(list(matrix.values()), level) if pairs else None, disagreements=disagreements,
    )


def _alpha(matrix, level):
    import krippendorff
    import numpy

    values = {v for row in matrix for v in row if v == v}  # NaN is not equal to itself
    if len(values) < 2:
        return None  # no variation: expected disagreement is zero
    return round(float(krippendorff.alpha(reliability_data=numpy.array(matrix), level_of_measurement=level)), 3)


def provision_agreement(annotations, known, *, share=None):
    """(units, [FieldAgreement for the tags and each choice or scale field]) for one provision's
    annotations."""
    found = units(annotations, share=share)
    figures = [field_agreement(found, TAGS, label="Tags")]
    for scheme_field in known.fields:
        if scheme_field.kind == AssessmentField.Kind.TEXT:
            continue
        scale = scheme_field.kind == AssessmentField.Kind.SCALE
        order = list(known.values[scheme_field.slug]) if scale else None
        figures.append(field_agreement(found, scheme_field.slug, label=scheme_field.label,
                                       level="ordinal" if scale else "nominal", order=order))
    return found, figures
