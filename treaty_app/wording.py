"""The one path by which a provision's wording or an excerpt's text changes.

`import_treaty`, `load_corpus`, the admin change forms and a history revert all call
`save_wording`: it gives the text a new version, records the change with who and why, re-anchors
every annotation on it (the annotations app receives `wording_changed`), and reports the outcome.
Annotation offsets index the text, so a text that changed any other way would leave notes on the
wrong words.
"""

from dataclasses import dataclass, field

from django.db import transaction

from . import versioning
from .models import Excerpt, LanguageVersion, Provision
from .signals import wording_changed


@dataclass
class WordingChange:
    """What `save_wording` did: the outcome of re-anchoring, by placement, when the text changed."""

    target: object
    changed: bool
    placements: dict = field(default_factory=dict)
    moves: list = field(default_factory=list)

    def summary(self, *, dry_run=False):
        if not self.changed:
            return f"{self.target}: the wording is unchanged."
        saved = "the wording would change" if dry_run else "new wording saved"
        if not self.placements:
            return f"{self.target}: {saved}; no annotation is on it."
        figures = ", ".join(f"{count} {placement}" for placement, count in sorted(self.placements.items()))
        placed = "annotations would be placed" if dry_run else "annotations placed again"
        return f"{self.target}: {saved}; {placed}: {figures}."


def save_wording(target, *, by=None, reason):
    """Save `target` (a Provision, a LanguageVersion or an Excerpt whose fields hold the new values), and if its text
    changed, move its text version on and re-anchor every annotation on it, in one transaction.

    Locks the row first (the wording, then the annotations, then the content versions: the order
    every write takes), so a note being created on the old words waits and is then checked against
    the new ones."""
    model = type(target)
    if model not in (Provision, LanguageVersion, Excerpt):
        raise TypeError(f"save_wording takes a Provision, a LanguageVersion or an Excerpt, not {model.__name__}")
    with transaction.atomic(), versioning.deferred():
        if target.pk is None:
            target.save()
            return WordingChange(target, changed=False)
        old_text = model.objects.select_for_update().values_list("text", flat=True).get(pk=target.pk)
        changed = old_text != target.text
        if changed and model is not Excerpt:
            current = model.objects.values_list("text_version", flat=True).get(pk=target.pk)
            # A first wording is version 1: no annotation can have been made on an empty text.
            target.text_version = current + 1 if old_text else current
        target._change_reason = reason
        if by is not None:
            target._history_user = by
        target.save()
        result = WordingChange(target, changed=changed)
        if changed:
            for _, placements in wording_changed.send(
                sender=model, target=target, old_text=old_text, by=by, reason=reason
            ):
                for placement, count in (placements or {}).items():
                    result.placements[placement] = result.placements.get(placement, 0) + count
                result.moves.extend(getattr(placements, "moves", []))
        return result
