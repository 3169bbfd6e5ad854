"""Read W3C Web Annotations back into Glossa: the inverse of `exporting`.

Accepts an AnnotationCollection whose pages are embedded (``first``, and ``next`` when embedded
too), an AnnotationPage, a JSON list of annotations, or one annotation.

The promises:

* **All or nothing.** Every item is checked before anything is written, in one transaction: the
  first problem raises `W3CImportError` naming the item (its index in the document and its
  ``id``) and nothing is saved.
* **Idempotent.** An item whose annotation is already here is left as it is: the annotation with
  the pk in its id (``…#annotation-17``) when author and creation time agree, or else one with the
  same author, creation time and target. Importing the same file twice creates nothing the second
  time.
* **Ids kept.** A new annotation gets the pk in its id when that number is free, so export → wipe →
  import → export gives the same document. When the number is taken by another annotation (a file
  from another Glossa), it gets the next free number, and the report lists it as renumbered.
* **Anchors re-checked.** A TextPositionSelector must still match the current wording
  (`anchoring.check_span`); when it does not, the annotation is placed again by its quote with
  `anchoring.reanchor`, exactly as a change of wording would (`reanchoring`), and the report says
  where it went. A drifted or orphaned annotation stays so.
* **Targets by path.** ``target.source`` must be a Glossa provision page or an excerpt permalink
  (``/sources/<slug>/#excerpt-N``); the scheme and host are ignored, so a file from another
  address of the site (or a copy of it) imports. A reply's target is the id of its parent, in the
  file or already in the database.
* **Authors by username** (``creator.nickname``). A missing user is an error, unless
  ``create_users``: then the account is created inactive, with no password and no group, so it
  can sign in only once a curator gives it a password and a role.
* **Tags by slug** (from the tagging body's ``glossa:tag`` or ``id``, ``/tags/<slug>/``, or else
  the slugified name);
  a missing tag is created with that name and slug.

Not restored: the edit counter (``version``) starts again at 1, and tags' colour, description and
parent are not part of the W3C document. The whole document is read into memory.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from urllib.parse import unquote, urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.db.models import Max
from django.urls import Resolver404, resolve
from django.utils.text import slugify

from treaty_app.models import Excerpt, Provision

from . import writes
from .anchoring import AnchorError, check_span, quote_selector, reanchor
from .models import Annotation, Tag

BATCH_SIZE = 500
CONTEXT_MAX = Annotation._meta.get_field("prefix").max_length

_ANNOTATION_FRAGMENT = re.compile(r"annotation-(\d+)")
_EXCERPT_FRAGMENT = re.compile(r"excerpt-(\d+)")


class W3CImportError(ValueError):
    """A document Glossa cannot import; `index` and `item_id` name the item at fault, when one is."""

    def __init__(self, message, *, index=None, item_id=None):
        super().__init__(message)
        self.message, self.index, self.item_id = message, index, item_id

    def __str__(self):
        if self.index is None:
            return self.message
        named = f" ({self.item_id})" if isinstance(self.item_id, str) else ""
        return f"item {self.index}{named}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    renumbered: list = field(default_factory=list)  # (id in the file, new pk)
    reanchored: list = field(default_factory=list)  # (id in the file, placement now)
    users_created: list = field(default_factory=list)
    tags_created: list = field(default_factory=list)


# --------------------------------------------------------------------------- the document


def items_of(document):
    """The annotations a document holds, in document order."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise W3CImportError("the document is not a JSON object or list")
    kinds = _types(document)
    if "Annotation" in kinds:
        return [document]
    if "AnnotationPage" in kinds:
        return _page_items(document)
    if "AnnotationCollection" in kinds:
        first = document.get("first")
        if first is None:
            if document.get("total", 0):
                raise W3CImportError("the collection has annotations but no first page")
            return []
        items = []
        page = first
        while page is not None:
            if not isinstance(page, dict):
                raise W3CImportError(
                    f"the collection's pages are not embedded ({page!r}): import each page's document instead"
                )
            items += _page_items(page)
            page = page.get("next")
        total = document.get("total")
        if total is not None and total != len(items):
            raise W3CImportError(
                f"the collection says it holds {total} annotations but has {len(items)}: truncated?"
            )
        return items
    raise W3CImportError(
        f"type {document.get('type')!r} is not an AnnotationCollection, AnnotationPage or Annotation"
    )


def _page_items(page):
    if "AnnotationPage" not in _types(page):
        raise W3CImportError(f"a page of the collection has type {page.get('type')!r}, not AnnotationPage")
    items = page.get("items")
    if not isinstance(items, list):
        raise W3CImportError("an AnnotationPage has no items list")
    return items


def _types(node):
    kinds = node.get("type")
    return set(kinds) if isinstance(kinds, list) else {kinds}


# --------------------------------------------------------------------------- one item


@dataclass
class _Item:
    index: int
    id: str
    pk_hint: int | None
    username: str
    created: datetime
    modified: datetime
    body: str
    tags: list  # (slug, name)
    reply_to: str | None = None  # the parent's id, for a reply
    source: str | None = None
    exact: str = ""
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None
    visibility: str = Annotation.Visibility.TEAM
    placement: str = Annotation.Placement.ANCHORED
    text_version: int | None = None
    anchored_text: str = ""
    review: str = Annotation.Review.NONE
    submitted: datetime | None = None
    reviewed: datetime | None = None
    reviewed_by: str | None = None
    review_note: str = ""
    hidden: datetime | None = None
    hidden_by: str | None = None
    deleted: datetime | None = None
    # Filled in while resolving.
    provision: Provision | None = None
    excerpt: Excerpt | None = None
    parent_item: "_Item | None" = None
    parent_pk: int | None = None
    pk: int | None = None
    created_here: bool = False


class _Reader:
    """Reads one raw item, raising W3CImportError that names it."""

    def __init__(self, index, raw):
        self.index, self.raw = index, raw

    def fail(self, message):
        item_id = self.raw.get("id") if isinstance(self.raw, dict) else None
        raise W3CImportError(message, index=self.index, item_id=item_id)

    def single(self, value, what):
        if isinstance(value, list):
            if len(value) != 1:
                self.fail(f"{what} must have exactly one value, not {len(value)}")
            return value[0]
        return value

    def string(self, key, *, required=False, default=""):
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(f"{key} is missing")
            return default
        if not isinstance(value, str):
            self.fail(f"{key} must be a string, not {type(value).__name__}")
        return value

    def moment(self, key, *, required=False):
        value = self.string(key, required=required, default=None)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{key} {value!r} is not an ISO 8601 date and time")
        if moment.tzinfo is None:
            self.fail(f"{key} {value!r} has no time zone")
        return moment

    def choice(self, key, choices, default):
        value = self.string(key, default=default)
        allowed = list(dict.fromkeys(str(choice) for choice in choices))  # TextChoices or a StrEnum
        if value not in allowed:
            self.fail(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def read(self):
        raw = self.raw
        if not isinstance(raw, dict):
            self.fail(f"an annotation must be a JSON object, not {type(raw).__name__}")
        if "Annotation" not in _types(raw):
            self.fail(f"type must be Annotation, not {raw.get('type')!r}")
        item_id = self.string("id", required=True)
        match = _ANNOTATION_FRAGMENT.fullmatch(urlsplit(item_id).fragment)
        created = self.moment("created", required=True)
        motivation = self.single(raw.get("motivation", "commenting"), "motivation")
        if motivation not in ("commenting", "replying"):
            self.fail(f"motivation {motivation!r} is not supported: Glossa imports commenting and replying")
        body, tags = self.bodies()
        item = _Item(
            index=self.index, id=item_id, pk_hint=int(match[1]) if match else None,
            username=self.creator(), created=created, modified=self.moment("modified") or created,
            body=body, tags=tags,
            visibility=self.choice("glossa:visibility", Annotation.Visibility, Annotation.Visibility.TEAM),
            placement=self.choice("glossa:placement", Annotation.Placement, Annotation.Placement.ANCHORED),
            text_version=self.text_version(),
            anchored_text=self.string("glossa:anchoredText"),
            review=self.choice("glossa:review", Annotation.Review, Annotation.Review.NONE),
            submitted=self.moment("glossa:submitted"), reviewed=self.moment("glossa:reviewed"),
            reviewed_by=self.string("glossa:reviewedBy", default=None),
            review_note=self.string("glossa:reviewNote"),
            hidden=self.moment("glossa:hidden"), hidden_by=self.string("glossa:hiddenBy", default=None),
            deleted=self.moment("glossa:deleted"),
        )
        if motivation == "replying":
            item.reply_to = self.reply_target()
        else:
            self.target(item)
        return item

    def creator(self):
        creator = self.single(self.raw.get("creator"), "creator")
        if isinstance(creator, dict) and isinstance(creator.get("nickname"), str) and creator["nickname"]:
            return creator["nickname"]
        iri = creator.get("id") if isinstance(creator, dict) else creator
        if isinstance(iri, str) and (found := re.search(r"/users/([^/]+)/?$", urlsplit(iri).path)):
            return unquote(found[1])
        self.fail("creator must give the author's username as its nickname")

    def bodies(self):
        raw_bodies = self.raw.get("body")
        if raw_bodies is None and isinstance(self.raw.get("bodyValue"), str):
            return self.raw["bodyValue"], []
        if raw_bodies is None:
            self.fail("body is missing")
        notes, tags = [], []
        for n, body in enumerate(raw_bodies if isinstance(raw_bodies, list) else [raw_bodies]):
            if not isinstance(body, dict) or not isinstance(body.get("value"), str):
                self.fail(f"body {n} is not an embedded TextualBody with a value")
            if body.get("type", "TextualBody") != "TextualBody":
                self.fail(f"body {n} has type {body.get('type')!r}, not TextualBody")
            purpose = self.single(body.get("purpose", "commenting"), f"body {n} purpose")
            if purpose == "tagging":
                tags.append(self.tag(n, body))
            elif purpose in ("commenting", "replying"):
                if body.get("format", "text/markdown") not in ("text/markdown", "text/plain"):
                    self.fail(f"body {n} is {body['format']}: Glossa notes are Markdown or plain text")
                notes.append(body["value"])
            else:
                self.fail(f"body {n} has purpose {purpose!r}: Glossa imports commenting and tagging bodies")
        if len(notes) != 1:
            self.fail(f"an annotation needs exactly one commenting body (the note), not {len(notes)}")
        return notes[0], tags

    def tag(self, n, body):
        name = body["value"].strip()
        if not name or len(name) > Tag._meta.get_field("name").max_length:
            self.fail(f"body {n}: a tag name must be 1 to 60 characters")
        iri = body.get("glossa:tag", body.get("id"))
        if iri is not None:
            route = _route(iri)
            if route is None or route[0] != "reader:tag":
                self.fail(f"body {n}: tag {iri!r} is not a Glossa tag page (/tags/<slug>/)")
            slug = route[1]["tag_slug"]
        else:
            slug = slugify(name)[:60]
        try:
            validate_slug(slug)
        except ValidationError:
            self.fail(f"body {n}: the tag {name!r} has no usable slug")
        return slug, name

    def text_version(self):
        value = self.raw.get("glossa:textVersion")
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            self.fail(f"glossa:textVersion must be a whole number, not {value!r}")
        return value

    def reply_target(self):
        target = self.single(self.raw.get("target"), "target")
        if isinstance(target, dict) and "selector" not in target:
            target = target.get("id") or target.get("source")
        if not isinstance(target, str):
            self.fail("a reply's target must be the id of the annotation it replies to")
        return target

    def target(self, item):
        target = self.single(self.raw.get("target"), "target")
        if not isinstance(target, dict) or not isinstance(target.get("source"), str):
            self.fail("target must be an object with a source (the provision or excerpt) and selectors")
        item.source = target["source"]
        selectors = target.get("selector")
        selectors = selectors if isinstance(selectors, list) else [selectors]
        by_type = {}
        for selector in selectors:
            if isinstance(selector, dict):
                by_type.setdefault(selector.get("type"), selector)
        quote = by_type.get("TextQuoteSelector")
        if quote is None:
            self.fail("target has no TextQuoteSelector: Glossa anchors by the words annotated")
        for key in ("exact", "prefix", "suffix"):
            value = quote.get(key, "")
            if not isinstance(value, str):
                self.fail(f"TextQuoteSelector {key} must be a string")
            setattr(item, key, value)
        if not item.exact:
            self.fail("TextQuoteSelector exact is empty")
        if len(item.prefix) > CONTEXT_MAX or len(item.suffix) > CONTEXT_MAX:
            self.fail(f"TextQuoteSelector prefix and suffix hold at most {CONTEXT_MAX} characters")
        position = by_type.get("TextPositionSelector")
        if position is not None:
            start, end = position.get("start"), position.get("end")
            whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end))
            if not whole or not 0 <= start < end:
                self.fail(f"TextPositionSelector needs whole numbers 0 <= start < end, not {start!r}, {end!r}")
            if item.placement in (Annotation.Placement.DRIFTED, Annotation.Placement.ORPHANED):
                self.fail(f"a {item.placement} annotation has no TextPositionSelector")
            item.start, item.end = start, end


def _route(iri):
    """(namespaced url name, kwargs, fragment) of the Glossa page an IRI points at, or None.

    The scheme and host are ignored; so is a path prefix the site may be mounted under."""
    if not isinstance(iri, str):
        return None
    parts = urlsplit(iri)
    segments = parts.path.strip("/").split("/")
    for skip in range(len(segments)):
        try:
            match = resolve("/" + "/".join(segments[skip:]) + ("/" if parts.path.endswith("/") else ""))
        except Resolver404:
            continue
        return match.view_name, match.kwargs, parts.fragment
    return None


def _chunks(values, size=BATCH_SIZE):
    values = iter(values)
    while chunk := list(islice(values, size)):
        yield chunk


# --------------------------------------------------------------------------- the import


def import_annotations(document, *, create_users=False, change_reason="Imported from W3C JSON-LD"):
    """Import the annotations of a parsed JSON-LD `document` (see the module docstring for the
    promises) and return an ImportReport. Raises W3CImportError, with nothing saved."""
    raw_items = items_of(document)
    items = [_Reader(index, raw).read() for index, raw in enumerate(raw_items)]
    seen = {}
    for item in items:
        if item.id in seen:
            raise W3CImportError(
                f"the id is also that of item {seen[item.id]}", index=item.index, item_id=item.id
            )
        seen[item.id] = item.index

    report = ImportReport()
    with transaction.atomic():
        users = _users(items, create_users, report)
        _targets(items)
        by_id = {item.id: item for item in items}
        roots = [item for item in items if item.reply_to is None]
        replies = [item for item in items if item.reply_to is not None]
        _parents(replies, by_id)
        _identify(roots + replies, users, report)
        new = [item for item in roots + replies if item.created_here]
        for item in new:
            if item.reply_to is None:
                _anchor(item, report)
        tags = _tags(new, report)
        _create(new, users, tags, change_reason)
        report.created = len(new)
        report.existing = len(items) - len(new)
    return report


def _users(items, create_users, report):
    """Every user the items name (authors, reviewers, hiders) by username, created when allowed."""
    User = get_user_model()
    needed = {}
    for item in items:
        for username in (item.username, item.reviewed_by, item.hidden_by):
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
            username_field.run_validators(username)
        except ValidationError:
            item = needed[username]
            raise W3CImportError(
                f"{username!r} is not a valid username", index=item.index, item_id=item.id
            ) from None
        found[username] = User.objects.create_user(username, password=None, is_active=False)
        report.users_created.append(username)
    return found


def _targets(items):
    """Resolve each root's target source to a provision or an excerpt."""
    provisions, excerpts = {}, {}
    for item in items:
        if item.reply_to is not None:
            continue
        route = _route(item.source)
        if route and route[0] == "reader:provision":
            provisions.setdefault((route[1]["treaty_slug"], route[1]["provision_slug"]), []).append(item)
        elif route and route[0] == "reader:source" and (match := _EXCERPT_FRAGMENT.fullmatch(route[2])):
            excerpts.setdefault((route[1]["source_slug"], int(match[1])), []).append(item)
        else:
            raise W3CImportError(
                f"target source {item.source!r} is not a Glossa provision page or excerpt permalink",
                index=item.index, item_id=item.id,
            )
    treaties = {treaty for treaty, _ in provisions}
    known = {
        (p.treaty.slug, p.slug): p
        for p in Provision.objects.filter(treaty__slug__in=treaties).select_related("treaty")
        .only("slug", "text", "text_version", "treaty__slug")
    }
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
    """Point each reply at its parent: an item of the file, or an annotation already here."""
    pks = {}
    for item in replies:
        parent = by_id.get(item.reply_to)
        if parent is not None:
            if parent.reply_to is not None:
                raise W3CImportError("it replies to a reply: Glossa replies go to the first note",
                                     index=item.index, item_id=item.id)
            item.parent_item = parent
            continue
        match = _ANNOTATION_FRAGMENT.fullmatch(urlsplit(item.reply_to).fragment)
        if match is None:
            raise W3CImportError(f"its target {item.reply_to!r} is not an annotation's id",
                                 index=item.index, item_id=item.id)
        item.parent_pk = int(match[1])
        pks.setdefault(item.parent_pk, []).append(item)
    roots_here = set()
    for chunk in _chunks(pks):
        roots_here |= set(Annotation.objects.roots().filter(pk__in=chunk).values_list("pk", flat=True))
    for pk, waiting in pks.items():
        if pk not in roots_here:
            item = waiting[0]
            raise W3CImportError(f"it replies to {item.reply_to!r}, which is neither in the file nor here",
                                 index=item.index, item_id=item.id)


def _anchor(item, report):
    """Check the item's place in the current text; place it again by its quote when it does not fit."""
    target = item.provision or item.excerpt
    text = target.text
    current_version = item.provision.text_version if item.provision else None
    if item.start is not None:
        try:
            check_span(text, item.start, item.end, item.exact)
            return
        except AnchorError:
            pass
    elif item.placement in (Annotation.Placement.DRIFTED, Annotation.Placement.ORPHANED):
        return
    found = reanchor(text, exact=item.exact, prefix=item.prefix, suffix=item.suffix, old_start=item.start)
    item.placement = found.placement
    item.text_version = current_version
    if found.start is not None:
        # As a change of wording would (reanchoring.py): the annotated words are now the text's.
        context = quote_selector(text, found.start, found.end)
        item.start, item.end = found.start, found.end
        item.exact, item.prefix, item.suffix = context.exact, context.prefix, context.suffix
        item.anchored_text = ""
    else:
        item.start = item.end = None
    report.reanchored.append((item.id, item.placement))


def _identify(items, users, report):
    """Decide, item by item (roots first), whether its annotation is already here, and which pk a
    new one gets."""
    hinted = {}
    for chunk in _chunks({item.pk_hint for item in items if item.pk_hint is not None}):
        hinted |= {row[0]: row[1:] for row in Annotation.objects.filter(pk__in=chunk).values_list(
            "pk", "author_id", "created_at")}
    same_moment = {}
    for chunk in _chunks({item.created for item in items}):
        for row in Annotation.objects.filter(created_at__in=chunk).values_list(
            "pk", "author_id", "created_at", "provision_id", "excerpt_id", "parent_id"
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
        parent_pk = item.parent_pk
        if item.pk_hint in hinted and hinted[item.pk_hint] == (author, item.created):
            item.pk, item.created_here = item.pk_hint, False
            continue
        target = (
            item.provision.pk if item.provision else None, item.excerpt.pk if item.excerpt else None, parent_pk
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
            report.renumbered.append((item.id, fresh))
        claimed.add(item.pk)


def _tags(items, report):
    """The Tag for each (slug, name) the new annotations use, created when missing."""
    wanted = {}
    for item in items:
        for slug, name in item.tags:
            wanted.setdefault(slug, name)
    by_slug = {tag.slug: tag for tag in Tag.objects.filter(slug__in=wanted)}
    names = [name for slug, name in wanted.items() if slug not in by_slug]
    by_name = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    for slug, name in wanted.items():
        if slug in by_slug:
            continue
        # A tag of that name under another slug is the same tag: names are unique too.
        if name not in by_name:
            by_name[name] = Tag.objects.create(name=name, slug=slug)
            report.tags_created.append(slug)
        by_slug[slug] = by_name[name]
    return by_slug


def _create(items, users, tags, change_reason):
    """Insert the new annotations with their pks, tags and times through the write module, a batch
    at a time (only one batch of model instances is in memory at once)."""
    # Roots come before replies in `items`, so a reply's parent is always inserted first.
    for batch in _chunks(items):
        rows = [_row(item, users) for item in batch]
        writes.insert_imported(
            rows, tags={item.pk: [tags[slug] for slug, _ in item.tags] for item in batch}, reason=change_reason
        )
    if items:
        # Rows were inserted with explicit pks: move PostgreSQL's sequences past them (a no-op on SQLite).
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Annotation, Tag]):
                cursor.execute(statement)


def _row(item, users):
    return Annotation(
        pk=item.pk, provision=item.provision, excerpt=item.excerpt, parent_id=item.parent_pk,
        author=users[item.username], body=item.body, updated_at=item.modified,
        visibility=item.visibility, start=item.start, end=item.end, exact=item.exact, prefix=item.prefix,
        suffix=item.suffix, text_version=item.text_version, placement=item.placement,
        anchored_text=item.anchored_text, created_at=item.created,
        review=item.review, submitted_at=item.submitted, reviewed_at=item.reviewed,
        reviewed_by=users.get(item.reviewed_by), review_note=item.review_note,
        hidden_at=item.hidden, hidden_by=users.get(item.hidden_by), deleted_at=item.deleted,
        deleted_by=users[item.username] if item.deleted else None,
    )
