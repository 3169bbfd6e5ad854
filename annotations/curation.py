"""The curators' writes: publication, sending back, hiding, tag merges and re-placing annotations.

Each is one named function that the admin actions, the workspace and the tests all call. They
save row by row rather than with queryset.update() so that every change lands in the history.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .anchoring import AnchorError, check_span, quote_selector
from .models import Annotation, Tag


def locked(annotations):
    """The same rows, locked for this transaction; free of the caller's joins, which cannot be locked."""
    return Annotation.objects.filter(pk__in=annotations.values("pk")).order_by("pk").select_for_update()


def save_each(annotations, change, *, reason=None):
    """Lock these annotations, apply `change` to each and save it; returns how many. Call it in a transaction."""
    rows = list(locked(annotations))
    for annotation in rows:
        change(annotation)
        if reason:
            annotation._change_reason = reason
        annotation.save()
    return len(rows)


@transaction.atomic
def submit_for_review(annotation):
    annotation.review = Annotation.Review.SUBMITTED
    annotation.submitted_at = timezone.now()
    annotation.save(update_fields=["review", "submitted_at"])


@transaction.atomic
def publish_annotations(annotations, *, curator):
    """Make these annotations public; returns how many changed."""

    def publish(annotation):
        annotation.visibility = Annotation.Visibility.PUBLIC
        annotation.review = Annotation.Review.PUBLISHED
        annotation.reviewed_at, annotation.reviewed_by, annotation.review_note = timezone.now(), curator, ""
        annotation.hidden_at = annotation.hidden_by = None

    published = {"visibility": Annotation.Visibility.PUBLIC, "review": Annotation.Review.PUBLISHED}
    return save_each(annotations.exclude(**published), publish)


@transaction.atomic
def send_back(annotations, *, curator, reason):
    """Return these annotations to their authors with a reason; published ones leave the public view."""

    def send(annotation):
        if annotation.visibility == Annotation.Visibility.PUBLIC:
            annotation.visibility = Annotation.Visibility.TEAM
        annotation.review = Annotation.Review.RETURNED
        annotation.reviewed_at, annotation.reviewed_by, annotation.review_note = timezone.now(), curator, reason

    return save_each(annotations, send)


@transaction.atomic
def hide_annotations(annotations, *, curator):
    def hide(annotation):
        annotation.hidden_at, annotation.hidden_by = timezone.now(), curator

    return save_each(annotations.filter(hidden_at__isnull=True), hide)


@transaction.atomic
def show_annotations(annotations):
    def show(annotation):
        annotation.hidden_at = annotation.hidden_by = None

    return save_each(annotations.filter(hidden_at__isnull=False), show)


@transaction.atomic
def restore_annotations(annotations):
    def restore(annotation):
        annotation.deleted_at = None

    return save_each(annotations.filter(deleted_at__isnull=False), restore)


@transaction.atomic
def merge_tags(tags, *, into):
    """Fold `tags` into `into`: every annotation carrying one of them carries `into` instead."""
    merged = [tag for tag in tags if tag.pk != into.pk]
    annotations = Annotation.objects.filter(tags__in=merged).distinct().prefetch_related("tags")
    for annotation in annotations:
        # add/remove through the manager so the history of each annotation records the change.
        annotation.tags.add(into)
        annotation.tags.remove(*merged)
    for child in Tag.objects.filter(parent__in=merged):
        child.parent = into if into.parent_id is None else None
        child.save()
    for tag in merged:
        tag.delete()
    return len(merged), len(annotations)


@transaction.atomic
def place_again(annotation, *, start, end, version=None):
    """Anchor a drifted, orphaned or fuzzily placed annotation on a span of its provision's current wording.

    With `version` (the one the user saw), nothing changes and False is returned when someone saved
    the annotation since, as AnnotationEditForm does for notes."""
    text = annotation.provision.text
    check_span(text, start, end, text[start:end])
    # Claiming the version with one conditional UPDATE is the check: no edit can slip in between.
    claim = Annotation.objects.filter(pk=annotation.pk)
    if version is not None:
        claim = claim.filter(version=version)
    if not claim.update(version=F("version") + 1):
        return False
    annotation.refresh_from_db(fields=["version"])
    quote = quote_selector(text, start, end)
    annotation.start, annotation.end = start, end
    annotation.exact, annotation.prefix, annotation.suffix = quote.exact, quote.prefix, quote.suffix
    annotation.placement = Annotation.Placement.ANCHORED
    annotation.text_version = annotation.provision.text_version
    annotation.anchored_text = ""
    annotation._change_reason = "Placed again on the new wording"
    annotation.save()
    return True


def locate_words(text, words):
    """The only place `words` occur in `text`, or AnchorError."""
    count = text.count(words) if words else 0
    if count != 1:
        raise AnchorError(
            "These words are not in the new wording." if count == 0
            else f"These words occur {count} times: add a few words around them.",
            "not_found" if count == 0 else "ambiguous",
        )
    start = text.index(words)
    return start, start + len(words)


@transaction.atomic
def confirm_placement(annotations):
    """Accept the close match the re-anchoring found for fuzzily placed annotations."""

    def confirm(annotation):
        annotation.placement = Annotation.Placement.ANCHORED

    fuzzy = annotations.filter(placement=Annotation.Placement.FUZZY)
    return save_each(fuzzy, confirm, reason="Close-match placement confirmed")


@transaction.atomic
def retire_annotations(annotations, *, curator):
    """Take annotations that cannot be placed out of every view; the history keeps them."""

    def retire(annotation):
        annotation.deleted_at = timezone.now()
        annotation.review_note = f"Retired by {curator.get_username()}: its words are gone from the provision."

    return save_each(annotations.filter(deleted_at__isnull=True), retire, reason="Retired: it cannot be placed again")
