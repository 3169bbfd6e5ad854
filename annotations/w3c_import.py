"""Import W3C Web Annotations: what `w3c_reader` read becomes Annotation rows, written by
`writes.insert_imported` (the one module that saves annotations). A curators' backup also brings
its people and tag vocabulary back (`restoring`).

The promises:

* **All or nothing.** The document is read and checked whole first (`w3c_reader`: the W3C model's
  schemas, then Glossa's rules); then everything is written in one transaction. Any problem
  raises `W3CImportError` naming each item at fault (its index in the document and its ``id``),
  and nothing is saved.
* **Idempotent.** An item whose annotation is already here is left as it is: the annotation with
  the pk in its id (``…#annotation-17``) when author and creation time agree, the one whose
  ``via`` is a foreign item's id, or else one with the same author, creation time and target.
  Importing the same file twice creates nothing the second time.
* **Ids kept.** A new annotation gets the pk in its Glossa id when that number is free, so export →
  wipe → import → export gives the same document. When the number is taken by another annotation
  (a file from another Glossa), or the item is foreign, it gets the next free number; a taken
  number is reported as renumbered.
* **Anchors checked.** A TextPositionSelector must still match the wording
  (`anchoring.check_span`); when it does not, the annotation is placed again by its quote with
  `anchoring.reanchor`, exactly as a change of wording would (`reanchoring`), and the report says
  where it went. A drifted or orphaned annotation stays so. A foreign annotation with a position
  and no quote takes the words at that position (orphaned when it lies outside the wording); one
  with no selector is anchored on the whole wording; one with only selectors Glossa cannot place
  by (XPath…) is orphaned, its selectors kept, until a person places it.
* **Authors by username** (`w3c_reader` maps creators to usernames). A missing user is an error,
  unless they are in the backup's ``glossa:people`` (then created with their roles) or
  ``create_users``: then the account is created inactive, with no password and no group (and the
  creator's name), so it can sign in only once a curator gives it a password and a role.
* **Tags by slug** (from the tagging body's ``glossa:tag``, or ``writes.tag_slug`` of the name); a
  foreign tag is also found by its name, whatever its case; a missing one is created. The backup's
  ``glossa:tags`` are created first, with their colour, description and parent.

Not restored: passwords (never exported); the edit counter (``version``) starts again at 1; the
history is one record per annotation, with the import's reason ("Imported from FILE").
"""

from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from treaty_app.models import Excerpt, LanguageVersion, Provision

from . import assessments, restoring, w3c_reader, writes
from .anchoring import AnchorError, check_span, quote_selector, reanchor
from .models import Annotation, Tag
from .w3c_reader import W3CImportError, route

__all__ = ["ImportReport", "W3CImportError", "import_annotations"]

BATCH_SIZE = 500


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    renumbered: list = field(default_factory=list)  # (id in the file, new pk)
    reanchored: list = field(default_factory=list)  # (id in the file, placement now)
    notes: list = field(default_factory=list)  # (id in the file, how it was placed)
    unkept: list = field(default_factory=list)  # (index, id in the file, [what Glossa does not keep])
    users_created: list = field(default_factory=list)
    tags_created: list = field(default_factory=list)
    people_created: list = field(default_factory=list)
    people_differences: list = field(default_factory=list)  # (username, what, here, in the file)
    roles_missing: list = field(default_factory=list)  # (username, role)
    tag_differences: list = field(default_factory=list)  # (slug, what, here, in the file)


def _chunks(values, size=BATCH_SIZE):
    values = iter(values)
    while chunk := list(islice(values, size)):
        yield chunk


def import_annotations(document, *, create_users=False, change_reason="Imported from W3C JSON-LD"):
    """Import the annotations of a parsed JSON-LD `document` (see the module docstring for the
    promises) and return an ImportReport. Raises W3CImportError, with nothing saved."""
    read = w3c_reader.read(document, now=timezone.now())
    items = read.items
    _check_assessments(items)
    report = ImportReport()
    with transaction.atomic():
        restoring.restore_people(read.people, report)
        restoring.restore_tags(read.tags, report)
        users = _users(items, create_users, report)
        resolve_targets(items)
        by_id = {item.id: item for item in items}
        roots = [item for item in items if item.reply_to is None]
        replies = [item for item in items if item.reply_to is not None]
        _parents(replies, by_id)
        _identify(roots + replies, users, report)
        _counterparts(roots, by_id, report)
        new = [item for item in roots + replies if item.created_here]
        for item in new:
            if item.original_exact is None:
                item.original_exact = item.exact
            if item.original_text_version is ...:
                item.original_text_version = item.text_version
            if item.reply_to is None:
                _anchor(item, report)
            if item.foreign:
                item.original_exact = item.original_exact or item.exact
                item.original_text_version = item.text_version
            report.notes += [(item.id, note) for note in item.notes]
            if item.unkept:
                report.unkept.append((item.index, item.id, item.unkept))
        tags = _tags(new, report)
        _create(new, users, tags, change_reason)
        report.created = len(new)
        report.existing = len(items) - len(new)
    return report


def _check_assessments(items):
    """Each item's assessments against the scheme (assessments.validate, the form's own rule); a value
    the scheme has retired is restored as it was (it was valid when made). Refuses naming the field."""
    known = assessments.scheme()
    problems = []
    for item in items:
        for attribute in ("assessment", "revision_assessment"):
            data = getattr(item, attribute)
            if not data:
                continue
            try:
                setattr(item, attribute, assessments.validate(data, current=data, known=known))
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    problems.append((item.index, item.id, f"assessment field {field!r}: {messages[0]}"))
    if problems:
        raise W3CImportError(problems=problems)


def _users(items, create_users, report):
    """Every user the items name (authors, reviewers, hiders, deleters) by username, created when allowed."""
    User = get_user_model()
    needed, names = {}, {}
    for item in items:
        names.setdefault(item.username, item.display_name)
        for username in (item.username, item.reviewed_by, item.hidden_by, item.deleted_by):
            if username:
                needed.setdefault(username, item)
    found = {}
    for chunk in _chunks(needed):
        found |= {user.username: user for user in User.objects.filter(username__in=chunk)}
    missing = [username for username in needed if username not in found]
    if missing and not create_users:
        first = needed[missing[0]]
        raise W3CImportError(
            f"no user {', '.join(sorted(missing))} here: create them first, or import with --create-users",
            index=first.index, item_id=first.id,
        )
    username_field = User._meta.get_field(User.USERNAME_FIELD)
    for username in missing:
        try:
            username_field.clean(username, None)
        except ValidationError:
            item = needed[username]
            raise W3CImportError(
                f"{username!r} is not a valid username", index=item.index, item_id=item.id
            ) from None
        first_name = (names.get(username) or "")[:150]
        found[username] = User.objects.create_user(username, password=None, is_active=False, first_name=first_name)
        report.users_created.append(username)
    return found


def resolve_targets(items):
    """Resolve each root's target source to a provision, a language version or an excerpt (the
    protocol's POST and PUT use it too), or W3CImportError naming the first one not here."""
    provisions, excerpts, versions = {}, {}, {}
    for item in items:
        if item.reply_to is not None:
            continue
        name, kwargs, fragment = route(item.source)  # w3c_reader made sure it is one of the three
        if name == "reader:provision":
            provisions.setdefault((kwargs["treaty_slug"], kwargs["provision_slug"]), []).append(item)
        elif name == "reader:provision-language":
            key = (kwargs["treaty_slug"], kwargs["provision_slug"], kwargs["language"])
            versions.setdefault(key, []).append(item)
        else:
            excerpts.setdefault((kwargs["source_slug"], int(fragment.removeprefix("excerpt-"))), []).append(item)
    treaties = {treaty for treaty, _ in provisions}
    known = {
        (p.treaty.slug, p.slug): p
        for p in Provision.objects.filter(treaty__slug__in=treaties).select_related("treaty")
        .only("slug", "text", "text_version", "treaty__slug")
    }
    known_versions = {
        (v.provision.treaty.slug, v.provision.slug, v.language): v
        for v in LanguageVersion.objects.filter(provision__treaty__slug__in={t for t, _, _ in versions})
        .select_related("provision__treaty").only("language", "text", "text_version", "provision__slug",
                                                  "provision__treaty__slug")
    }
    for key, waiting in versions.items():
        if key not in known_versions:
            item = waiting[0]
            raise W3CImportError(f"target source {item.source!r}: no such language version here",
                                 index=item.index, item_id=item.id)
        for item in waiting:
            item.language_version, item.provision = known_versions[key], known_versions[key].provision
    known_excerpts = {}
    for chunk in _chunks({pk for _, pk in excerpts}):
        here = Excerpt.objects.filter(pk__in=chunk).select_related("source").only("text", "source__slug")
        known_excerpts |= {(excerpt.source.slug, excerpt.pk): excerpt for excerpt in here}
    for wanted, found, attribute, what in (
        (provisions, known, "provision", "provision"), (excerpts, known_excerpts, "excerpt", "excerpt")
    ):
        for key, waiting in wanted.items():
            if key not in found:
                item = waiting[0]
                raise W3CImportError(
                    f"target source {item.source!r}: no such {what} here", index=item.index, item_id=item.id
                )
            for item in waiting:
                setattr(item, attribute, found[key])


def _parents(replies, by_id):
    """Point each reply at its parent: an item of the file, or an annotation already here (by its
    Glossa id, or by the foreign id it was imported from)."""
    by_pk, by_via = {}, {}
    for item in replies:
        parent = by_id.get(item.reply_to)
        if parent is not None:
            if parent.reply_to is not None:
                raise W3CImportError("it replies to a reply: Glossa replies go to the first note",
                                     index=item.index, item_id=item.id)
            item.parent_item = parent
        elif (pk := w3c_reader.glossa_annotation_pk(item.reply_to)) is not None:
            item.parent_pk = pk
            by_pk.setdefault(pk, []).append(item)
        else:
            by_via.setdefault(item.reply_to, []).append(item)
    roots_here = set()
    for chunk in _chunks(by_pk):
        roots_here |= set(Annotation.objects.roots().filter(pk__in=chunk).values_list("pk", flat=True))
    via_here = {}
    for chunk in _chunks(by_via):
        via_here |= dict(Annotation.objects.roots().filter(via__in=chunk).values_list("via", "pk"))
    missing = [waiting[0] for pk, waiting in by_pk.items() if pk not in roots_here]
    missing += [waiting[0] for via, waiting in by_via.items() if via not in via_here]
    if missing:
        item = min(missing, key=lambda item: item.index)
        raise W3CImportError(f"it replies to {item.reply_to!r}, which is neither in the file nor here",
                             index=item.index, item_id=item.id)
    for via, waiting in by_via.items():
        for item in waiting:
            item.parent_pk = via_here[via]


def _counterparts(roots, by_id, report):
    """Find the note each new root pairs with (``glossa:counterpart``): an item of the file, or an
    annotation here by its Glossa id; checked by the workspace's rule (writes.pairing_problem). One
    that is neither, or breaks the rule, is reported as not kept; the note itself is imported."""
    def place(provision, version):
        return (provision.pk if provision else None, version.pk if version else None)

    wanted = [(item, item.counterpart) for item in roots if item.counterpart and item.created_here]
    here_pks = {w3c_reader.glossa_annotation_pk(iri) for _, iri in wanted if iri not in by_id} - {None}
    here = {}
    for chunk in _chunks(here_pks):
        here |= {row[0]: row[1:] for row in Annotation.objects.roots().filter(pk__in=chunk).values_list(
            "pk", "provision_id", "language_version_id")}
    for item, iri in wanted:
        other = by_id.get(iri)
        if other is not None and other.reply_to is None:
            pk, other_place = other.pk, place(other.provision, other.language_version)
        elif (pk := w3c_reader.glossa_annotation_pk(iri)) in here:
            other_place = here[pk]
        else:
            item.unkept.append(f"glossa:counterpart {iri} (neither a note of the file nor one here)")
            continue
        problem = writes.pairing_problem(pk, other_place, place(item.provision, item.language_version))
        if problem:
            item.unkept.append(f"glossa:counterpart: {problem}")
            continue
        item.counterpart_pk = pk


def _anchor(item, report):
    """Place the item on the current wording (see the module docstring)."""
    target = item.language_version or item.provision or item.excerpt
    text = target.text
    current_version = getattr(target, "text_version", None)
    if item.foreign and item.text_version is None:
        item.text_version = current_version
    if item.whole or (item.foreign and not item.exact and item.start is not None):
        start, end = (0, len(text)) if item.whole else (item.start, item.end)
        if not text:
            raise W3CImportError("its target has no wording to annotate", index=item.index, item_id=item.id)
        if end > len(text):
            item.placement, item.start, item.end = Annotation.Placement.ORPHANED, None, None
            item.notes.append(f"its TextPositionSelector {start}–{end} lies outside the wording "
                              f"({len(text)} characters) and it has no quote: orphaned")
            return
        _place(item, text, start, end)
        return
    if not item.exact:  # orphaned: nothing Glossa can place it by
        return
    if item.start is not None:
        try:
            check_span(text, item.start, item.end, item.exact)
            return
        except AnchorError:
            pass
    elif item.placement in (Annotation.Placement.DRIFTED, Annotation.Placement.ORPHANED):
        return
    had_position = item.start is not None
    found = reanchor(text, exact=item.exact, prefix=item.prefix, suffix=item.suffix, old_start=item.start)
    item.placement = found.placement
    item.text_version = current_version
    if found.start is not None:
        # As a change of wording would (reanchoring.py): the annotated words are now the text's.
        _place(item, text, found.start, found.end)
    else:
        item.start = item.end = None
    if not item.foreign:
        report.reanchored.append((item.id, item.placement))
    elif had_position:
        item.notes.append(f"its TextPositionSelector did not fit the wording: placed by its quote, {item.placement}")
    elif item.placement != Annotation.Placement.ANCHORED:
        item.notes.append(f"placed by its quote: {item.placement}")


def _place(item, text, start, end):
    context = quote_selector(text, start, end)
    item.start, item.end = start, end
    item.exact, item.prefix, item.suffix = context.exact, context.prefix, context.suffix
    item.anchored_text = ""


def _identify(items, users, report):
    """Decide, item by item (roots first), whether its annotation is already here, and which pk a
    new one gets."""
    hinted = {}
    for chunk in _chunks({item.pk_hint for item in items if item.pk_hint is not None}):
        hinted |= {row[0]: row[1:] for row in Annotation.objects.filter(pk__in=chunk).values_list(
            "pk", "author_id", "created_at")}
    by_via = {}
    for chunk in _chunks({item.via for item in items if item.foreign}):
        by_via |= dict(Annotation.objects.filter(via__in=chunk).values_list("via", "pk"))
    same_moment = {}
    for chunk in _chunks({item.created for item in items}):
        for row in Annotation.objects.filter(created_at__in=chunk).values_list(
            "pk", "author_id", "created_at", "provision_id", "excerpt_id", "parent_id", "language_version_id"
        ):
            same_moment.setdefault((row[1], row[2]), []).append(row)
    taken = set(hinted)
    claimed = set()
    fresh = max(
        Annotation.objects.aggregate(top=Max("pk"))["top"] or 0,
        max((item.pk_hint or 0 for item in items), default=0),
    )
    for item in items:
        author = users[item.username].pk
        if item.parent_item is not None:
            item.parent_pk = item.parent_item.pk  # known: roots are decided first
        if item.foreign and item.via in by_via:
            item.pk, item.created_here = by_via[item.via], False
            continue
        if item.pk_hint in hinted and hinted[item.pk_hint] == (author, item.created):
            item.pk, item.created_here = item.pk_hint, False
            continue
        target = (
            item.provision.pk if item.provision else None, item.excerpt.pk if item.excerpt else None, item.parent_pk,
            item.language_version.pk if item.language_version else None,
        )
        here = next((row[0] for row in same_moment.get((author, item.created), []) if row[3:] == target), None)
        if here is not None:
            item.pk, item.created_here = here, False
            continue
        item.created_here = True
        if item.pk_hint is not None and item.pk_hint not in taken and item.pk_hint not in claimed:
            item.pk = item.pk_hint
        else:
            fresh += 1
            item.pk = fresh
            if item.pk_hint is not None:
                report.renumbered.append((item.id, fresh))
        claimed.add(item.pk)


def _tags(items, report):
    """The Tag for each slug the new annotations (and their pending revisions) use, created when
    missing. A foreign tag is also found by its name, whatever its case."""
    wanted = {}
    for item in items:
        for slug, name in item.tags:
            wanted.setdefault(slug, name)
    revision_slugs = {slug: item for item in items for slug in item.revision_tags}
    by_slug = {tag.slug: tag for tag in Tag.objects.filter(slug__in=[*wanted, *revision_slugs])}
    names = [name for slug, name in wanted.items() if slug not in by_slug]
    by_name = {}
    for chunk in _chunks(names):
        for tag in Tag.objects.filter(name__in=chunk):
            by_name[tag.name.casefold()] = tag
    for name in names:
        if name.casefold() not in by_name:
            found = Tag.objects.filter(name__iexact=name).first()
            if found is not None:
                by_name[name.casefold()] = found
    for slug, name in wanted.items():
        if slug in by_slug:
            continue
        # A tag of that name under another slug is the same tag: names are unique too.
        if name.casefold() not in by_name:
            by_name[name.casefold()] = Tag.objects.create(name=name, slug=slug)
            report.tags_created.append(slug)
        by_slug[slug] = by_name[name.casefold()]
    for slug, item in revision_slugs.items():
        if slug not in by_slug:
            raise W3CImportError(f"its pending revision's tag {slug!r} is neither in the file's glossa:tags nor here",
                                 index=item.index, item_id=item.id)
    return by_slug


def _create(items, users, tags, change_reason):
    """Insert the new annotations with their pks, tags and times through the write module, a batch
    at a time (only one batch of model instances is in memory at once)."""
    # Roots come before replies in `items`, so a reply's parent is always inserted first.
    for batch in _chunks(items):
        writes.insert_imported(
            [_row(item, users) for item in batch],
            tags={item.pk: [tags[slug] for slug, _ in item.tags] for item in batch},
            revision_tags={item.pk: [tags[slug] for slug in item.revision_tags] for item in batch},
            reason=change_reason,
        )
    if items:
        # Rows were inserted with explicit pks: move PostgreSQL's sequences past them (a no-op on SQLite).
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Annotation, Tag]):
                cursor.execute(statement)


def _row(item, users):
    return Annotation(
        pk=item.pk, provision=item.provision, language_version=item.language_version, excerpt=item.excerpt,
        parent_id=item.parent_pk,
        author=users[item.username], body=item.body, updated_at=item.modified,
        visibility=item.visibility, start=item.start, end=item.end, exact=item.exact, prefix=item.prefix,
        suffix=item.suffix, text_version=item.text_version, placement=item.placement,
        anchored_text=item.anchored_text, original_exact=item.original_exact,
        original_text_version=item.original_text_version, created_at=item.created,
        extra_selectors=item.extra_selectors, via=item.via, canonical=item.canonical,
        review=item.review, submitted_at=item.submitted, reviewed_at=item.reviewed,
        reviewed_by=users.get(item.reviewed_by), review_note=item.review_note,
        hidden_at=item.hidden, hidden_by=users.get(item.hidden_by), deleted_at=item.deleted,
        deleted_by=users.get(item.deleted_by),
        revision_body=item.revision_body, revision_at=item.revision_at,
        assessment=item.assessment, revision_assessment=item.revision_assessment,
        counterpart_id=item.counterpart_pk,
    )
