"""Every write of an annotation, one keyword-only function per act; nothing else saves one.

Forms validate what people type; views, admin actions, the admin change form, the history revert,
management commands and the W3C importer call these functions. Each one:

* runs in one transaction with its history record and its content-version change, so a crash in
  between leaves nothing half done;
* locks what it changes first (the wording it anchors to, then the annotation rows in key order,
  the content-version rows last: `versioning.deferred`), so two writers never deadlock, and acts
  on the row as it is once locked: a stale edit gets `Conflict`, and can never bring back a note
  that was deleted or hidden meanwhile;
* changes only the fields it owns, and counts every change in ``version`` (the token an editor
  sends back);
* records history from that locked, current state, with the acting user and a reason;
* changes the content version only when the public could see the row before or after, so a
  private or team edit invalidates no cached page. Any write of a public row changes it, even one
  the public does not see (a pending revision): the public citation names the row's ``version``.

Publication holds: only `publish` makes an annotation public. An edit of a published note becomes
a pending revision (``revision_body``, ``revision_tags``) that the public does not see until a
curator publishes it; a reply to a published note enters the review queue.

Refusals raise `Refused` (or a subclass) with a sentence for the person and the HTTP status a view
should answer with.
"""

import functools

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from treaty_app import versioning
from treaty_app.models import Excerpt, LanguageVersion, Provision

from .anchoring import AnchorError, Placement, check_span, quote_selector, reanchor
from .models import UNDO_WINDOW, Annotation, Tag, TagAlias
from .sanitize import render_markdown

PLACEABLE = {Annotation.Placement.DRIFTED, Annotation.Placement.ORPHANED, Annotation.Placement.FUZZY}


class Refused(Exception):
    """A write that cannot be made; `message` is for the person, `status` for the response."""

    status = 409

    def __init__(self, message, *, current=None):
        super().__init__(message)
        self.message = message
        self.current = current  # the annotation as it stands, when the caller may show it


class NotFound(Refused):
    """Not there, or not readable by the person: both answer the same, so neither is revealed."""

    status = 404


class Forbidden(Refused):
    status = 403


class Conflict(Refused):
    """The annotation (or its wording) changed since the person read it, or is not in a state for this."""

    status = 409


class Expired(Refused):
    status = 410


def write(function):
    """One transaction with the content-version bumps collected and made last."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with transaction.atomic(), versioning.deferred():
            return function(*args, **kwargs)

    return wrapper


# --- Reading rows to change ------------------------------------------------------------------------


def _lock(pk, *, by, removed=False):
    """The annotation `pk`, locked for this transaction, if `by` may read it; else NotFound."""
    rows = Annotation.objects.all() if by is None else Annotation.objects.readable_by(by, removed=removed)
    try:
        # of=self: the read rule joins the parent, and the nullable side of a join cannot be locked.
        return rows.select_for_update(of=("self",)).get(pk=pk)
    except (Annotation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("There is no such annotation, or it is not yours to see.") from None


def _lock_many(annotations):
    """These annotations (a queryset), locked in key order; free of the caller's joins."""
    keys = annotations.order_by().values("pk")
    return list(Annotation.objects.filter(pk__in=keys).order_by("pk").select_for_update())


def _lock_target(target):
    """The provision, language version or excerpt `target`, locked: its wording cannot change under
    the write."""
    return type(target).objects.select_for_update().only("pk", "text", *(
        [] if isinstance(target, Excerpt) else ["text_version"])).get(pk=target.pk)


def _on_target(target):
    """The annotation fields that put it on `target` (a language version is on its provision too)."""
    if isinstance(target, LanguageVersion):
        return {"provision_id": target.provision_id, "language_version": target}
    if isinstance(target, Provision):
        return {"provision": target, "language_version": None}
    return {"excerpt": target}


def _annotations_on(target):
    """The annotations whose offsets index `target`'s text."""
    if isinstance(target, LanguageVersion):
        return Annotation.objects.filter(language_version=target)
    if isinstance(target, Provision):
        return Annotation.objects.filter(provision=target, language_version=None)
    return Annotation.objects.filter(excerpt=target)


def _own(annotation, by, what):
    if annotation.author_id != by.pk:
        raise Forbidden(f"Only its author can {what} this annotation.")


def _at_version(annotation, version):
    if version is not None and annotation.version != version:
        raise Conflict(
            "Someone changed this annotation since you opened it; nothing was saved.", current=annotation
        )


def _require(user, permission, what):
    if user is None or not user.has_perm(f"annotations.{permission}"):
        raise Forbidden(f"Only a curator can {what}.")


# --- Saving, history and content versions ---------------------------------------------------------


def _set_body(annotation, body):
    annotation.body = body
    annotation.body_html = render_markdown(body)


def _set_revision(annotation, body):
    annotation.revision_body = body
    annotation.revision_body_html = render_markdown(body) if body else ""


def _set_tags(annotation, field, tags):
    # The history record is written once, by _record, with the tags as they end up.
    annotation.skip_history_when_saving = True
    try:
        getattr(annotation, field).set(tags)
    finally:
        del annotation.skip_history_when_saving


def tag_keys_of(tag_ids):
    """The stored form of a note's tag keys (Annotation.tag_keys): ascending, joined by commas."""
    return ",".join(str(pk) for pk in sorted(set(tag_ids)))


def store_tag_keys(annotation_ids):
    """Write the stored tag keys of these notes from their tags as the database holds them; {pk: keys}.
    stored_tags.py calls it after every change of a note's tags."""
    ids = set(annotation_ids)
    if not ids:
        return {}
    tags = {pk: [] for pk in ids}
    for annotation_id, tag_id in Annotation.tags.through.objects.filter(annotation_id__in=ids).values_list(
        "annotation_id", "tag_id"
    ):
        tags[annotation_id].append(tag_id)
    written = {pk: tag_keys_of(tag_ids) for pk, tag_ids in tags.items()}
    if len(written) == 1:
        [(pk, keys)] = written.items()
        Annotation.objects.filter(pk=pk).update(tag_keys=keys)
    else:
        rows = [Annotation(pk=pk, tag_keys=keys) for pk, keys in written.items()]
        Annotation.objects.bulk_update(rows, ["tag_keys"], batch_size=500)
    return written


def _record(rows, *, by, reason, created=False):
    """One history record per row, from the row as saved, with its tags as they are now."""
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        row._change_reason = reason
        row._history_date = now
    records = Annotation.history.bulk_history_create(
        rows, update=not created, default_user=by, default_change_reason=reason, default_date=now
    )
    by_pk = {record.id: record for record in records}
    History = Annotation.history.model
    for field in History._history_m2m_fields:
        through = getattr(Annotation, field.name).through
        history_through = History._meta.get_field(f"{History._meta.model_name}_{field.name}").related_model
        pairs = through.objects.filter(annotation_id__in=list(by_pk)).values_list("id", "annotation_id", "tag_id")
        history_through.objects.bulk_create(
            [history_through(id=through_id, history=by_pk[annotation_id], annotation_id=annotation_id, tag_id=tag_id)
             for through_id, annotation_id, tag_id in pairs]
        )


def _save(rows, fields, *, by, reason):
    """Write `fields` of these locked rows (and their version and time), and record each."""
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        row.version += 1
        row.updated_at = now
    Annotation.objects.bulk_update(rows, [*fields, "version", "updated_at"])
    _record(rows, by=by, reason=reason)


def _public_changed(rows):
    """Bump the scopes of these rows: call it for rows the public could see before or after."""
    keys = [row.pk for row in rows]
    if not keys:
        return
    scopes = set()
    for slug, parent_slug in Annotation.objects.filter(pk__in=keys).values_list(
        "provision__treaty__slug", "parent__provision__treaty__slug"
    ):
        treaty = slug or parent_slug
        # An annotation on a commentary excerpt shows on the source page and beside the excerpt on
        # every provision page it is linked to: the shared scope covers them all.
        scopes.add(versioning.treaty_scope(treaty) if treaty else versioning.SHARED)
    versioning.changed(*scopes)


def _is_public(annotation):
    return annotation.visibility == Annotation.Visibility.PUBLIC


# --- Tags -----------------------------------------------------------------------------------------


def tag_slug(name):
    """A URL-safe slug for a tag name in any script ("Санкции" → "санкции")."""
    return slugify(name, allow_unicode=True)[:60].strip("-")


def ensure_tags(names, *, by):
    """The tags with these names, created when missing: an existing tag is found by its name
    (whatever its case) or by the slug the name would get, so a curator's tag is never duplicated."""
    tags = []
    for name in names:
        name = " ".join(name.split())
        slug = tag_slug(name)
        found = Tag.objects.filter(Q(name__iexact=name) | Q(slug=slug)).order_by("pk").first()
        if found is None:
            try:
                with transaction.atomic():
                    found = Tag.objects.create(name=name, slug=_free_slug(slug), created_by=by)
            except IntegrityError:  # made by someone else a moment ago
                found = Tag.objects.get(Q(name__iexact=name) | Q(slug=slug))
        tags.append(found)
    return tags


def _free_slug(slug):
    taken = set(Tag.objects.filter(slug__startswith=slug).values_list("slug", flat=True))
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug[:55]}-{n}"
    return candidate


# --- The analyst's acts ---------------------------------------------------------------------------


def _counterpart(pk, *, by, target):
    """The note `pk` a new note on `target` pairs with (a translation discrepancy), checked: one `by`
    may read, a root, on the same provision, in another of its texts."""
    if pk is None:
        return None
    other = Annotation.objects.readable_by(by, roots=True).filter(pk=pk).first()
    if other is None:
        raise NotFound(f"There is no annotation {pk} you may read to pair this one with.")
    if isinstance(target, LanguageVersion):
        provision_id, version_id = target.provision_id, target.pk
    elif isinstance(target, Provision):
        provision_id, version_id = target.pk, None
    else:
        raise Conflict("Only words of a provision's texts can be paired, not a commentary excerpt's.")
    problem = pairing_problem(pk, (other.provision_id, other.language_version_id), (provision_id, version_id))
    if problem:
        raise Conflict(problem)
    return other


def pairing_problem(pk, other_place, place):
    """Why note `pk`, on `other_place`, cannot pair with a note on `place` (each a (provision key,
    language version key or None)), or None: the rule the workspace and the importer share."""
    if other_place[0] is None or other_place[0] != place[0]:
        return f"Annotation {pk} is not on this provision: a pair compares two texts of one provision."
    if other_place[1] == place[1]:
        return f"Annotation {pk} is on the same text: pair it with words in another language version."
    return None


@write
def create(*, author, target, start, end, exact, body, tags=(), new_tags=(), visibility=Annotation.Visibility.TEAM,
           assessment=None, counterpart=None, canonical=""):
    """A new annotation on words of a provision's wording or of a commentary excerpt (`target`),
    with an assessment already validated (assessments.validate), and paired (`counterpart`, a key)
    with a note on the same passage in another text of the provision: a translation discrepancy.
    `canonical` is the IRI a client gave it as its canonical one (the W3C Protocol keeps it).

    The words must still stand at `start`:`end` once the wording is locked; an annotation is never
    public when made."""
    _require(author, "add_annotation", "annotate")
    if visibility not in (Annotation.Visibility.PRIVATE, Annotation.Visibility.TEAM):
        raise Forbidden("Only a curator's publication makes an annotation public.")
    paired = _counterpart(counterpart, by=author, target=target)
    locked = _lock_target(target)
    try:
        check_span(locked.text, start, end, exact)
    except AnchorError:
        raise Conflict("The wording changed since the page was loaded: select the words again.") from None
    quote = quote_selector(locked.text, start, end)
    annotation = Annotation(
        author=author, **_on_target(target), visibility=visibility, start=start, end=end,
        exact=quote.exact, prefix=quote.prefix, suffix=quote.suffix, original_exact=quote.exact,
        text_version=getattr(locked, "text_version", None), assessment=assessment or {}, counterpart=paired,
        canonical=canonical,
    )
    annotation.original_text_version = annotation.text_version
    _set_body(annotation, body)
    all_tags = [*tags, *ensure_tags(new_tags, by=author)]
    annotation.skip_history_when_saving = True
    annotation.save()
    del annotation.skip_history_when_saving
    _set_tags(annotation, "tags", all_tags)
    _record([annotation], by=author, reason="Created", created=True)
    return annotation


@write
def edit(pk, *, by, version, body, tags=(), new_tags=(), visibility=None, assessment=None):
    """The author's edit of the note, tags, visibility or assessment (None: as it is), at the version
    they saw.

    On a published annotation it becomes a pending revision, which the public does not see until a
    curator publishes it; editing back to the published wording withdraws the revision."""
    all_tags = [*tags, *ensure_tags(new_tags, by=by)]
    annotation = _lock(pk, by=by)
    _own(annotation, by, "edit")
    _at_version(annotation, version)
    if _is_public(annotation):
        if assessment is None:
            assessment = annotation.revision_assessment if annotation.has_revision else annotation.assessment
        published = (body, {tag.pk for tag in all_tags}, assessment) == (
            annotation.body, {tag.pk for tag in annotation.tags.all()}, annotation.assessment
        )
        if published:
            _set_revision(annotation, "")
            annotation.revision_at, annotation.revision_assessment = None, {}
            _set_tags(annotation, "revision_tags", [])
            annotation.review = Annotation.Review.PUBLISHED
            reason = "Revision withdrawn: back to the published wording"
        else:
            _set_revision(annotation, body)
            annotation.revision_at, annotation.revision_assessment = timezone.now(), assessment
            _set_tags(annotation, "revision_tags", all_tags)
            annotation.review, annotation.submitted_at = Annotation.Review.SUBMITTED, annotation.revision_at
            reason = "Edited after publication: the revision awaits review"
        _save([annotation], ["revision_body", "revision_body_html", "revision_at", "revision_assessment", "review",
                             "submitted_at"], by=by, reason=reason)
        # The public keeps the published words, but its citation names the version, which moved on.
        _public_changed([annotation])
        return annotation
    if visibility is None:
        visibility = annotation.visibility
    if visibility not in (Annotation.Visibility.PRIVATE, Annotation.Visibility.TEAM):
        raise Forbidden("Only a curator's publication makes an annotation public.")
    _set_body(annotation, body)
    _set_tags(annotation, "tags", all_tags)
    annotation.visibility = visibility
    if assessment is not None:
        annotation.assessment = assessment
    if visibility == Annotation.Visibility.PRIVATE and annotation.review == Annotation.Review.SUBMITTED:
        # Curators cannot read a private note, so it cannot wait for them.
        annotation.review = Annotation.Review.NONE
    _save([annotation], ["body", "body_html", "visibility", "review", "assessment"], by=by, reason="Edited")
    return annotation


@write
def reply(parent_pk, *, author, body, canonical=""):
    """A reply to an annotation `author` may read. A reply to a published note is seen by the team
    and waits in the review queue; it becomes public when a curator publishes it."""
    _require(author, "add_annotation", "reply")
    parent = _lock(parent_pk, by=author)
    if parent.parent_id is not None:
        raise Conflict("Replies go to the note itself, not to another reply.")
    private = parent.visibility == Annotation.Visibility.PRIVATE
    reply = Annotation(
        parent=parent, author=author,
        visibility=Annotation.Visibility.PRIVATE if private else Annotation.Visibility.TEAM,
        placement=Annotation.Placement.ANCHORED, canonical=canonical,
    )
    if _is_public(parent):
        reply.review, reply.submitted_at = Annotation.Review.SUBMITTED, timezone.now()
    _set_body(reply, body)
    reply.skip_history_when_saving = True
    reply.save()
    del reply.skip_history_when_saving
    _record([reply], by=author, reason="Replied", created=True)
    return reply


@write
def delete(pk, *, by, version=None):
    """The author deletes their annotation; they may undo it for a while (`undo_delete`)."""
    annotation = _lock(pk, by=by)
    _own(annotation, by, "delete")
    _at_version(annotation, version)
    annotation.deleted_at, annotation.deleted_by = timezone.now(), by
    _save([annotation], ["deleted_at", "deleted_by"], by=by, reason="Deleted by its author")
    if _is_public(annotation):
        _public_changed([annotation])
    return annotation


@write
def undo_delete(pk, *, by):
    """The author brings back an annotation they deleted, within the undo window; never one a
    curator retired."""
    annotation = _lock(pk, by=by, removed=True)
    _own(annotation, by, "restore")
    if annotation.deleted_at is None:
        raise Conflict("This annotation is not deleted.", current=annotation)
    if annotation.deleted_by_id != by.pk:
        raise Forbidden("A curator took this annotation out of view; ask a curator to restore it.")
    if timezone.now() - annotation.deleted_at >= UNDO_WINDOW:
        raise Expired("This annotation was deleted too long ago to be restored here; ask a curator.")
    annotation.deleted_at = annotation.deleted_by = None
    _save([annotation], ["deleted_at", "deleted_by"], by=by, reason="Deletion undone by its author")
    if _is_public(annotation):
        _public_changed([annotation])
    return annotation


@write
def submit(pk, *, by):
    """The author asks the curators to publish the annotation; a private one is shared with the
    team, since curators must read it to review it."""
    annotation = _lock(pk, by=by)
    _own(annotation, by, "submit")
    if annotation.review == Annotation.Review.SUBMITTED:
        raise Conflict("This annotation is already awaiting review.", current=annotation)
    if annotation.review == Annotation.Review.PUBLISHED and not annotation.has_revision:
        raise Conflict("This annotation is published already.", current=annotation)
    if annotation.parent_id is not None:
        parent = Annotation.objects.only("visibility").get(pk=annotation.parent_id)
        if not _is_public(parent):
            raise Conflict("A reply can be submitted once the note it answers is published.", current=annotation)
    if annotation.visibility == Annotation.Visibility.PRIVATE:
        annotation.visibility = Annotation.Visibility.TEAM
    annotation.review, annotation.submitted_at = Annotation.Review.SUBMITTED, timezone.now()
    _save([annotation], ["visibility", "review", "submitted_at"], by=by, reason="Submitted for publication")
    if _is_public(annotation):  # a revision submitted again: its citation's version moved on
        _public_changed([annotation])
    return annotation


# --- The curators' acts ---------------------------------------------------------------------------


@write
def publish(annotations, *, curator):
    """Publish what was submitted: a new note, a reply under a published note, or a revision (whose
    body and tags then replace the published ones). Returns how many were published."""
    _require(curator, "publish_annotation", "publish annotations")
    rows = _lock_many(annotations.filter(review=Annotation.Review.SUBMITTED, deleted_at__isnull=True))
    parents = {
        row.parent_id for row in rows if row.parent_id is not None
    }
    public_parents = set(
        Annotation.objects.published().filter(pk__in=parents).values_list("pk", flat=True)
    )
    rows = [row for row in rows if row.parent_id is None or row.parent_id in public_parents]
    now = timezone.now()
    for row in rows:
        if row.has_revision:
            _set_body(row, row.revision_body)
            _set_tags(row, "tags", list(row.revision_tags.all()))
            _set_revision(row, "")
            _set_tags(row, "revision_tags", [])
            row.revision_at, row.assessment, row.revision_assessment = None, row.revision_assessment, {}
        row.visibility, row.review = Annotation.Visibility.PUBLIC, Annotation.Review.PUBLISHED
        row.reviewed_at, row.reviewed_by, row.review_note = now, curator, ""
        row.hidden_at = row.hidden_by = None
    _save(rows, ["body", "body_html", "revision_body", "revision_body_html", "revision_at", "assessment",
                 "revision_assessment", "visibility", "review", "reviewed_at", "reviewed_by", "review_note", "hidden_at",
                 "hidden_by"],
          by=curator, reason="Published")
    _public_changed(rows)
    return len(rows)


@write
def send_back(annotations, *, curator, reason):
    """Return annotations to their authors with a reason. A pending revision is returned and the
    published wording stays public; a published note without one is withdrawn from the public."""
    _require(curator, "publish_annotation", "send annotations back")
    if not reason.strip():
        raise Conflict("Say why: the author will read it.")
    in_review = [Annotation.Review.SUBMITTED, Annotation.Review.PUBLISHED]
    rows = _lock_many(annotations.filter(review__in=in_review, deleted_at__isnull=True))
    # Withdrawn or not, each public row changes version, which its citation names.
    was_public = [row for row in rows if _is_public(row)]
    now = timezone.now()
    for row in rows:
        if _is_public(row) and not row.has_revision:
            row.visibility = Annotation.Visibility.TEAM  # withdrawn from the public
        row.review, row.reviewed_at, row.reviewed_by, row.review_note = Annotation.Review.RETURNED, now, curator, reason
    _save(rows, ["visibility", "review", "reviewed_at", "reviewed_by", "review_note"], by=curator,
          reason="Sent back to its author")
    _public_changed(was_public)
    return len(rows)


@write
def hide(annotations, *, curator):
    _require(curator, "hide_annotation", "hide annotations")
    rows = _lock_many(annotations.filter(hidden_at__isnull=True))
    now = timezone.now()
    for row in rows:
        row.hidden_at, row.hidden_by = now, curator
    _save(rows, ["hidden_at", "hidden_by"], by=curator, reason="Hidden by a curator")
    _public_changed([row for row in rows if _is_public(row)])
    return len(rows)


@write
def show(annotations, *, curator):
    _require(curator, "hide_annotation", "show hidden annotations")
    rows = _lock_many(annotations.filter(hidden_at__isnull=False))
    for row in rows:
        row.hidden_at = row.hidden_by = None
    _save(rows, ["hidden_at", "hidden_by"], by=curator, reason="Shown again by a curator")
    _public_changed([row for row in rows if _is_public(row)])
    return len(rows)


@write
def restore(annotations, *, curator):
    """Bring back deleted or retired annotations, at any time."""
    _require(curator, "hide_annotation", "restore annotations")
    rows = _lock_many(annotations.filter(deleted_at__isnull=False))
    for row in rows:
        row.deleted_at = row.deleted_by = None
    _save(rows, ["deleted_at", "deleted_by"], by=curator, reason="Restored by a curator")
    _public_changed([row for row in rows if _is_public(row)])
    return len(rows)


@write
def retire(annotations, *, curator):
    """Take annotations that cannot be placed again out of every view; the history keeps them, and
    only a curator can restore them."""
    _require(curator, "hide_annotation", "retire annotations")
    rows = _lock_many(annotations.filter(deleted_at__isnull=True))
    now = timezone.now()
    for row in rows:
        row.deleted_at, row.deleted_by = now, curator
        row.review_note = f"Retired by {curator.get_username()}: its words are gone from the provision."
    _save(rows, ["deleted_at", "deleted_by", "review_note"], by=curator, reason="Retired: it cannot be placed again")
    _public_changed([row for row in rows if _is_public(row)])
    return len(rows)


@write
def retag(pk, *, curator, tags):
    """A curator corrects an annotation's tags (the admin change form). On a published annotation
    the curator is the reviewer, so the public sees the change."""
    _require(curator, "hide_annotation", "change tags of annotations")
    annotation = _lock(pk, by=curator, removed=True)
    _set_tags(annotation, "tags", list(tags))
    _save([annotation], [], by=curator, reason="Tags changed by a curator")
    if _is_public(annotation):
        _public_changed([annotation])
    return annotation


@write
def merge_tags(tags, *, into, curator):
    """Fold `tags` into `into`: every annotation (and pending revision) carrying one of them carries
    `into` instead, and they are deleted. Each one's slug becomes an alias of `into` (TagAlias), as
    do the aliases they had from earlier merges, so their URLs redirect to `into`. Returns (tags
    merged, annotations re-pointed)."""
    merged = [tag for tag in tags if tag.pk != into.pk]
    if not merged:
        return 0, 0
    rows = _lock_many(Annotation.objects.filter(Q(tags__in=merged) | Q(revision_tags__in=merged)))
    merged_pks = {tag.pk for tag in merged}
    for row in rows:
        for field in ("tags", "revision_tags"):
            current = list(getattr(row, field).all())
            if any(tag.pk in merged_pks for tag in current):
                kept = [tag for tag in current if tag.pk not in merged_pks]
                _set_tags(row, field, [*kept, into] if into not in kept else kept)
    _save(rows, [], by=curator, reason=f"Tags merged into “{into.name}”")
    for child in Tag.objects.filter(parent__in=merged):
        child.parent = into if into.parent_id is None else None
        child.save()
    # Before the tags go: their aliases would go with them.
    TagAlias.objects.filter(tag__in=merged).update(tag=into)
    for tag in merged:
        TagAlias.objects.update_or_create(
            slug=tag.slug, defaults={"name": tag.name, "tag": into, "merged_at": timezone.now(), "merged_by": curator}
        )
    TagAlias.objects.filter(slug=into.slug).delete()  # the live tag answers its own URL
    for tag in merged:
        tag.delete()
    # Tag names show on every page.
    versioning.changed(versioning.SHARED)
    return len(merged), len(rows)


# --- Anchors --------------------------------------------------------------------------------------


def _place(annotation, text, start, end, text_version):
    quote = quote_selector(text, start, end)
    annotation.start, annotation.end = start, end
    annotation.exact, annotation.prefix, annotation.suffix = quote.exact, quote.prefix, quote.suffix
    annotation.text_version = text_version
    annotation.anchored_text = ""


ANCHOR_FIELDS = ["start", "end", "exact", "prefix", "suffix", "text_version", "placement", "anchored_text"]


@write
def place_again(pk, *, by, start, end, version=None):
    """Anchor a drifted, orphaned or close-match annotation on words of its provision's wording now,
    by its author or a curator."""
    annotation = _lock(pk, by=by)
    if annotation.provision_id is None:
        raise Conflict("Only an annotation on a provision's wording can be placed again.")
    if annotation.author_id != by.pk and not by.has_perm("annotations.hide_annotation"):
        raise Forbidden("Only its author or a curator can place this annotation again.")
    if annotation.placement not in PLACEABLE:
        raise Conflict("This annotation is in its place already: there is nothing to place again.", current=annotation)
    _at_version(annotation, version)
    wording = (LanguageVersion if annotation.language_version_id else Provision).objects.only(
        "text", "text_version").get(pk=annotation.language_version_id or annotation.provision_id)
    try:
        check_span(wording.text, start, end, wording.text[start:end])
    except AnchorError:
        raise Conflict("The selection lies outside the wording now: select the words again.") from None
    _place(annotation, wording.text, start, end, wording.text_version)
    annotation.placement = Annotation.Placement.ANCHORED
    _save([annotation], ANCHOR_FIELDS, by=by, reason="Placed again on the new wording")
    if _is_public(annotation):
        _public_changed([annotation])
    return annotation


@write
def confirm_placement(annotations, *, by):
    """Accept the close match the re-anchoring found for these annotations."""
    _require(by, "hide_annotation", "confirm placements")
    rows = _lock_many(annotations.filter(placement=Annotation.Placement.FUZZY))
    for row in rows:
        row.placement, row.anchored_text = Annotation.Placement.ANCHORED, ""
    _save(rows, ["placement", "anchored_text"], by=by, reason="Close-match placement confirmed")
    _public_changed([row for row in rows if _is_public(row)])
    return len(rows)


@write
def confirm_own_placement(pk, *, by):
    """The author (or a curator) accepts the close match found for one annotation."""
    annotation = _lock(pk, by=by)
    if annotation.author_id != by.pk and not by.has_perm("annotations.hide_annotation"):
        raise Forbidden("Only its author or a curator can confirm this placement.")
    if annotation.placement != Annotation.Placement.FUZZY:
        raise Conflict("Only a placement made by a close match can be confirmed.", current=annotation)
    annotation.placement, annotation.anchored_text = Annotation.Placement.ANCHORED, ""
    _save([annotation], ["placement", "anchored_text"], by=by, reason="Close-match placement confirmed")
    if _is_public(annotation):
        _public_changed([annotation])
    return annotation


class Outcomes(dict):
    """{placement: count} of a re-anchoring, and `moves`: a line per annotation saying where it went."""

    def __init__(self):
        super().__init__()
        self.moves = []


def _relocate(annotation, text, text_version, old_text):
    """Place `annotation` on `text` by its quote and context; returns its placement."""
    found = reanchor(text, exact=annotation.exact, prefix=annotation.prefix, suffix=annotation.suffix,
                     old_start=annotation.start)
    placement = found.placement
    annotation.placement = placement
    if found.start is not None:
        _place(annotation, text, found.start, found.end, text_version)
        if placement == Placement.FUZZY:
            # Kept until a person confirms the close match: the wording the note was made on.
            annotation.anchored_text = old_text
    else:
        # Kept on the words it was made on, at the version it was placed on, until a person places it.
        if annotation.start is not None:
            annotation.anchored_text = old_text
        annotation.start = annotation.end = None
    return placement


@write
def reanchor_target(target, *, old_text, by=None, reason="Placed again after the wording changed"):
    """Place every annotation on `target` (a provision's wording, a language version or an excerpt,
    whose text just changed) again
    by its quote: exactly, by a close match (awaiting confirmation), or kept drifted or orphaned.
    Returns {placement: count}. Call it in the transaction that changed the wording."""
    rows = _lock_many(_annotations_on(target).exclude(exact=""))
    text_version = getattr(target, "text_version", None)
    outcomes = Outcomes()
    for row in rows:
        placement = _relocate(row, target.text, text_version, old_text)
        outcomes[placement] = outcomes.get(placement, 0) + 1
        where = f" at {row.start}–{row.end}" if row.start is not None else ""
        outcomes.moves.append(f"annotation {row.pk} on “{row.original_exact or row.exact}”: {placement}{where}")
    _save(rows, ANCHOR_FIELDS, by=by, reason=reason)
    _public_changed([row for row in rows if _is_public(row)])
    return outcomes


# --- History --------------------------------------------------------------------------------------


@write
def revert(pk, *, by, history_id):
    """Bring back the body, tags, assessment and visibility an annotation had in one of its history records.

    Never its anchor nor its edit counter: the anchor stays on today's wording (placed again by its
    quote if it no longer fits), and ``version`` moves forward. Never a publication either: on a
    published annotation the old body and tags become a pending revision, and an old ``public``
    visibility is not restored (the curator publishes again)."""
    _require(by, "hide_annotation", "revert annotations")
    annotation = _lock(pk, by=by, removed=True)
    try:
        record = annotation.history.get(history_id=history_id)
    except (Annotation.history.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("There is no such version in this annotation's history.") from None
    body, tags = record.body, list(Tag.objects.filter(pk__in=record.tags.values("tag_id")))
    when = timezone.localtime(record.history_date).strftime("%d %b %Y %H:%M")
    fields = []
    if _is_public(annotation):
        _set_revision(annotation, body)
        annotation.revision_at, annotation.revision_assessment = timezone.now(), record.assessment or {}
        _set_tags(annotation, "revision_tags", tags)
        annotation.review, annotation.submitted_at = Annotation.Review.SUBMITTED, annotation.revision_at
        fields += ["revision_body", "revision_body_html", "revision_at", "revision_assessment", "review", "submitted_at"]
    else:
        _set_body(annotation, body)
        _set_tags(annotation, "tags", tags)
        annotation.assessment = record.assessment or {}
        if record.visibility in (Annotation.Visibility.PRIVATE, Annotation.Visibility.TEAM):
            annotation.visibility = record.visibility
        fields += ["body", "body_html", "visibility", "assessment"]
    target = annotation.target  # its own text: a language version's words are not the provision's
    if target is not None and annotation.exact:
        text = target.text
        fits = annotation.start is not None and text[annotation.start:annotation.end] == annotation.exact
        if not fits and annotation.start is not None:
            _relocate(annotation, text, getattr(target, "text_version", None), text)
            fields += ANCHOR_FIELDS
    _save([annotation], fields, by=by, reason=f"Reverted to the version of {when}")
    if _is_public(annotation):
        _public_changed([annotation])
    return annotation


# --- Import ---------------------------------------------------------------------------------------


@write
def insert_imported(rows, *, tags, revision_tags=None, by=None, reason="Imported"):
    """Insert annotations read from a file (the W3C importer builds `rows`, unsaved, with their pks),
    `tags` and `revision_tags` mapping each row's pk to its tags and to its pending revision's; a
    history record each, with both. Returns how many."""
    if not rows:
        return 0
    for row in rows:
        _set_body(row, row.body)
        if row.revision_body:
            _set_revision(row, row.revision_body)
        if not row.original_exact:
            row.original_exact, row.original_text_version = row.exact, row.text_version
    modified = {row.pk: row.updated_at for row in rows}
    for row in rows:  # their tag rows are bulk-inserted below, which no signal sees (stored_tags.py)
        row.tag_keys = tag_keys_of(tag.pk for tag in tags.get(row.pk, ()))
    Annotation.objects.bulk_create(rows)
    for field, by_pk in (("tags", tags), ("revision_tags", revision_tags or {})):
        through = getattr(Annotation, field).through
        through.objects.bulk_create(
            [through(annotation_id=row.pk, tag_id=tag.pk) for row in rows for tag in by_pk.get(row.pk, ())]
        )
    # auto_now stamped the import's time on updated_at; the file's time is the truth.
    for row in rows:
        row.updated_at = modified[row.pk] or row.updated_at
    Annotation.objects.bulk_update(rows, ["updated_at"])
    _record(rows, by=by, reason=reason, created=True)
    _public_changed([row for row in rows if _is_public(row)])
    return len(rows)


# --- Adjudications --------------------------------------------------------------------------------


@write
def adjudicate(*, provision, unit, field, value, note="", curator):
    """Record (or replace) a curator's decision on a unit where analysts disagree (agreement.py).
    The annotations are the unit's, locked so that none changes under the decision."""
    from .models import Adjudication

    _require(curator, "publish_annotation", "adjudicate")
    keys = [int(pk) for pk in unit.split("-") if pk.isdigit()]
    rows = _lock_many(Annotation.objects.filter(pk__in=keys, provision=provision))
    if len(rows) < 2:
        raise Conflict("Those annotations are no longer a unit of this provision: reload the page.")
    decision, _ = Adjudication.objects.update_or_create(
        provision=provision, unit=unit, field=field,
        defaults={"value": value, "note": note, "decided_by": curator, "decided_at": timezone.now()},
    )
    decision.annotations.set(rows)
    if any(_is_public(row) for row in rows):
        versioning.changed(versioning.treaty_scope(provision.treaty.slug))
    return decision
