"""Structured assessments: what an analyst concludes a clause does, in the curators' scheme.

An annotation's ``assessment`` is ``{field slug: value slug}`` for choice and scale fields and
``{field slug: text}`` for a text field, over the scheme of AssessmentField and AssessmentValue. The
one rule for what may be stored is `validate`: the form, the write module's callers and the W3C
importer all ask it, so an unknown field or value is refused the same way everywhere, with the
field named. A scheme that changes never loses what was stored: a retired field or value is refused
only for a new choice, and stays readable (`describe`) on every assessment that has it.
"""

import threading
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from treaty_app import rules

from .models import AssessmentField

TEXT_MAX_LENGTH = 5_000


@dataclass(frozen=True)
class Scheme:
    """The fields in order, and per field slug its values by slug (every one, retired included)."""

    fields: list
    values: dict

    def field(self, slug):
        return next((field for field in self.fields if field.slug == slug), None)


# The scheme read once per request: a create read it three times (its form, the card, the fresh form).
# Held from request_started to request_finished, and dropped when a field or value is saved or deleted,
# so a request that edits the scheme through its models reads its own change (a queryset update is seen
# from the next request). Outside a request every call reads afresh.
_request = threading.local()


def scheme():
    """The scheme as it stands: two queries, once per request."""
    memo = getattr(_request, "memo", None)
    if memo is not None and "scheme" in memo:
        return memo["scheme"]
    fields = list(AssessmentField.objects.prefetch_related("values"))
    read = Scheme(fields=fields, values={field.slug: {v.slug: v for v in field.values.all()} for field in fields})
    if memo is not None:
        memo["scheme"] = read
    return read


def start_request_memo(**kwargs):
    _request.memo = {}


def end_request_memo(**kwargs):
    _request.memo = None


def forget_scheme(**kwargs):
    memo = getattr(_request, "memo", None)
    if memo is not None:
        memo.pop("scheme", None)


def validate(data, *, current=None, known=None):
    """`data` ({field: value}) as it may be stored, or ValidationError naming each field at fault.

    Empty values are dropped. A retired field or value is accepted only where `current` (the
    assessment stored now) already has it: an edit that keeps it must not fail because the scheme
    moved on."""
    known = known or scheme()
    current = current or {}
    if not isinstance(data, dict):
        raise ValidationError("An assessment is a set of fields and values.", code="not_a_mapping")
    cleaned, errors = {}, {}
    for slug, value in data.items():
        field = known.field(slug) if isinstance(slug, str) else None
        if field is None:
            errors[str(slug)[:40]] = f"“{str(slug)[:40]}” is not a field of the assessment scheme."
            continue
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            errors[slug] = f"{field.label}: the value must be text, not {type(value).__name__}."
            continue
        kept = current.get(slug) == value
        if field.retired and not kept:
            errors[slug] = f"{field.label} is retired from the scheme: leave it empty."
            continue
        if field.kind == AssessmentField.Kind.TEXT:
            try:
                cleaned[slug] = rules.clean_text(value, field=field.label)
            except ValidationError as error:
                errors[slug] = error.messages[0]
                continue
            if len(cleaned[slug]) > TEXT_MAX_LENGTH:
                errors[slug] = f"{field.label} is {len(value)} characters long; at most {TEXT_MAX_LENGTH} are allowed."
            continue
        choice = known.values[slug].get(value)
        if choice is None:
            allowed = ", ".join(v.slug for v in known.values[slug].values() if not v.retired)
            errors[slug] = f"{field.label}: “{value[:40]}” is not one of its values ({allowed})."
        elif choice.retired and not kept:
            errors[slug] = f"{field.label}: “{choice.label}” is retired from the scheme; choose another."
        else:
            cleaned[slug] = value
    if errors:
        raise ValidationError({slug: ValidationError(message, code="bad_assessment") for slug, message in errors.items()})
    return cleaned


@dataclass(frozen=True)
class Shown:
    """One field of an assessment as a page shows it."""

    field: str  # the field's label
    value: str  # the value's label, or the text
    slug: str
    value_slug: str
    retired: bool  # the field or the value is retired from the scheme
    kind: str


def describe(assessment, known):
    """The assessment's fields in the scheme's order, labelled; stored values of fields or values the
    scheme no longer has are shown as they were stored (never lost)."""
    shown = []
    seen = set()
    for field in known.fields:
        if field.slug not in assessment:
            continue
        seen.add(field.slug)
        value = assessment[field.slug]
        if field.kind == AssessmentField.Kind.TEXT:
            shown.append(Shown(field.label, value, field.slug, "", field.retired, field.kind))
            continue
        choice = known.values[field.slug].get(value)
        label = choice.label if choice else value
        retired = field.retired or choice is None or choice.retired
        shown.append(Shown(field.label, label, field.slug, value, retired, field.kind))
    for slug, value in assessment.items():
        if slug not in seen:
            shown.append(Shown(slug, str(value), slug, str(value), True, "unknown"))
    return shown
