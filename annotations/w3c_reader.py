"""Read W3C Web Annotations: a parsed JSON-LD document → the annotations Glossa can make of it,
validated, each with the list of what Glossa does not keep of it. Nothing here touches the
database; `w3c_import` writes what this module reads.

**Documents.** An AnnotationCollection whose pages are embedded (``first``, and ``next`` when
embedded too), an AnnotationPage, a JSON list of annotations (as fetched one by one from
Hypothesis's ``/api/annotations/{id}.jsonld``), or one annotation. An item of a page inherits the
page's ``@context``.

**Validation, in two layers.** First the W3C model's own MUST assertions (`w3c_schemas`: the Working
Group's JSON Schemas), for the collection or page and for each annotation; then Glossa's rules
below. Every item is read before anything is refused, and the refusal lists each item at fault with
its index and id (all or nothing: `w3c_import` writes nothing when one item is refused).

**Targets.** One target, on a Glossa text: its ``source`` (or the target itself, when it is an IRI
or a resource with an ``id``) must be a provision page or an excerpt permalink
(``/sources/<slug>/#excerpt-N``) of this site; scheme, host and a path prefix are ignored, so a file
from another address of the site imports. Refused, with a sentence saying so: a target that is an
Image, Video, Sound or Dataset, or has a format that is not text (``application/pdf``); a media
fragment (``#xywh=``, ``#t=``, a FragmentSelector of media-frags); an SvgSelector (a region of an
image) or a DataPositionSelector (bytes, not characters); a page of another site; more than one
target (a Glossa annotation is on one text). A target that is the id of an annotation (in the file,
``…#annotation-N`` here, or one imported from elsewhere, by ``via``), and any target of a
``replying`` annotation, makes a reply.

**Selectors.** Glossa places an annotation by its TextQuoteSelector (``exact``, with up to 64
characters of ``prefix``/``suffix``; longer context is cut to its nearest 64, and said so) and its
TextPositionSelector, in code points; `w3c_import` checks them against the wording and places the
annotation again by its quote when they do not fit. A TextQuoteSelector that refines another
selector (a FragmentSelector's ``refinedBy``) is used too, as words are words; a refining
TextPositionSelector is not (it counts within what it refines). Every other selector (XPath, Range,
CSS, Fragment, an IRI naming one, a second quote) is kept as it came, in ``extra_selectors``, and
exported again after Glossa's own. With no quote and no position the annotation is orphaned (its
other selectors kept) until a person places it; with no selector at all it is on the whole text.

**Bodies.** A TextualBody (Markdown, plain text or HTML; the note is rendered as Markdown, whose raw
HTML the sanitiser reduces to its text) is the note, or a tag when its purpose (or, without one,
the annotation's motivation) is ``tagging`` or ``classifying``. Several text bodies are joined,
paragraph by paragraph. An IRI, an external resource (``id``) and a SpecificResource (its
``source``; ``#value`` added for a FragmentSelector) are kept as links at the end of the note. A
Choice keeps its first option, the default the model names, and lists the others as not kept.

**Motivations.** ``commenting`` and ``replying`` as Glossa exports them. ``tagging`` and
``classifying``: text bodies without a purpose of their own are tags (a class named by an IRI is
kept as a link). ``bookmarking``: a bookmark becomes a note (its describing body, if any) with its
tags. Glossa exports each of them as ``commenting``, so every motivation but those two is listed as
not kept; so is every body purpose Glossa turns into plain note text (``describing``…).

**Creators.** Glossa's own (``nickname``, or an id ``…/users/NAME/``) are the user NAME. Any other
is a named external creator, a user whose username carries its authority, so it never passes for a
local analyst: ``acct:ana@hypothes.is`` (Hypothesis) → ``ana@hypothes.is``; ``http://example.org/user1``
→ ``user1@example.org``; no creator at all → ``unknown@HOST``, HOST being the annotation id's host.
`w3c_import` finds them by username, or creates them (``--create-users``: inactive, no password,
no role) with the creator's ``name`` as their name.

**Times.** ``created`` when given, else the time of the import; ``modified`` when given, else
``created``.

**Ids.** An id that is a Glossa annotation IRI (a provision or source page ``#annotation-N``) gives
the pk back when it is free. Any other id is a foreign annotation's: the new annotation records it
as its ``via`` (the model's "the annotation this one came from"), which keeps a second import from
making it again; its ``canonical`` is kept too, and its own ``via`` (an earlier hop) is not.

**Glossa's own terms** (``glossa:visibility``, ``glossa:review``… and, in curators' backups, the
pending revision, ``glossa:deletedBy`` and the original words) are read back; the collection's
``glossa:tags`` (the vocabulary) and ``glossa:people`` (the accounts, never passwords) are read
into `Document.tags` and `Document.people` (see `exporting`).

**Not kept** (listed per annotation, never dropped silently): every property not named above, at
the top (``rights``, ``generator``, ``generated``, ``audience``, ``stylesheet``…) or in a body, a
creator or a target (``state``, ``styleClass``, ``scope``, ``renderedVia``, a body's ``language``
other than English, ``creator``, ``rights``…).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_unicode_slug
from django.urls import Resolver404, resolve

from treaty_app import rules

from .models import Annotation, Tag
from .w3c_schemas import in_context, musts
from .writes import tag_slug

CONTEXT_MAX = Annotation._meta.get_field("prefix").max_length
IRI_MAX = Annotation._meta.get_field("via").max_length
TAG_NAME_MAX = Tag._meta.get_field("name").max_length
PROBLEMS_SHOWN = 10
# Limits of what a document may hold, below which nothing else in the import can fail: no annotation
# nests deeper than a few levels (a Choice in a SpecificResource in a page in a collection), and no
# number in one is larger than a 64-bit key.
DEPTH_MAX = 64
DIGITS_MAX = 19
VERSION_MAX = 2**31 - 1  # the wording version's column
PK_MAX = 2**63 - 1  # an annotation's key

_ANNOTATION_FRAGMENT = re.compile(r"annotation-(\d+)")
_EXCERPT_FRAGMENT = re.compile(r"excerpt-(\d+)")
_MEDIA_FRAGMENT = re.compile(r"(?:^|&)(?:xywh|t)=")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")

NOT_TEXT_TYPES = {"Image", "Video", "Sound", "Dataset"}
TEXT_FORMATS = {"text/html", "text/plain", "text/markdown", "application/xhtml+xml"}
NOTE_FORMATS = {"text/markdown", "text/plain", "text/html"}
TAG_PURPOSES = {"tagging", "classifying"}
MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/"

# What Glossa reads of an annotation, a body, a creator and a target; anything else is listed as not kept.
ITEM_KEYS = {
    "@context", "id", "type", "motivation", "created", "modified", "creator", "body", "bodyValue", "target",
    "via", "canonical",
    "glossa:visibility", "glossa:placement", "glossa:textVersion", "glossa:anchoredText", "glossa:review",
    "glossa:submitted", "glossa:reviewed", "glossa:reviewedBy", "glossa:reviewNote", "glossa:hidden",
    "glossa:hiddenBy", "glossa:deleted", "glossa:deletedBy", "glossa:revision", "glossa:originalExact",
    "glossa:originalTextVersion", "glossa:counterpart",
}
TEXT_BODY_KEYS = {"type", "value", "format", "language", "purpose", "glossa:tag"}
CREATOR_KEYS = {"id", "type", "nickname", "name"}
TARGET_KEYS = {"source", "selector", "type"}


class W3CImportError(ValueError):
    """A document Glossa cannot import. `problems` lists (index, item id, message) for each item at
    fault (index None for the document itself); `index` and `item_id` are the first's."""

    def __init__(self, message=None, *, index=None, item_id=None, problems=None):
        self.problems = problems or [(index, item_id, message)]
        self.index, self.item_id, self.message = self.problems[0]
        super().__init__(str(self))

    def __str__(self):
        described = [_describe(*problem) for problem in self.problems[:PROBLEMS_SHOWN]]
        text = "; ".join(described)
        if len(self.problems) > 1:
            text = f"{len(self.problems)} items cannot be imported: {text}"
        if len(self.problems) > PROBLEMS_SHOWN:
            text += f"; and {len(self.problems) - PROBLEMS_SHOWN} more"
        return text


def _describe(index, item_id, message):
    if index is None:
        return message
    named = f" ({item_id})" if isinstance(item_id, str) else ""
    return f"item {index}{named}: {message}"


class _Refused(Exception):
    """One item's problem, while reading it."""


# --------------------------------------------------------------------------- what is read


@dataclass
class Item:
    index: int
    id: str
    pk_hint: int | None  # the pk in a Glossa id
    username: str
    display_name: str  # the creator's name, for an account made for them
    created: datetime
    modified: datetime
    body: str
    tags: list  # (slug, name)
    unkept: list  # what Glossa does not keep, one phrase each
    notes: list  # how it was read, one phrase each (e.g. "on the whole wording")
    reply_to: str | None = None  # the parent's id, for a reply
    source: str | None = None  # the target's IRI, for a root
    exact: str = ""
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None
    whole: bool = False  # no selector: the whole text
    extra_selectors: list = field(default_factory=list)
    foreign: bool = False  # not a Glossa annotation's id
    via: str = ""
    canonical: str = ""
    visibility: str = Annotation.Visibility.TEAM
    placement: str = Annotation.Placement.ANCHORED
    text_version: int | None = None
    anchored_text: str = ""
    original_exact: str | None = None  # None: the words it came with
    original_text_version: object = ...  # ...: the version it came with
    review: str = Annotation.Review.NONE
    submitted: datetime | None = None
    reviewed: datetime | None = None
    reviewed_by: str | None = None
    review_note: str = ""
    hidden: datetime | None = None
    hidden_by: str | None = None
    deleted: datetime | None = None
    deleted_by: str | None = None
    revision_body: str = ""
    revision_tags: list = field(default_factory=list)  # slugs
    counterpart: str | None = None  # the id of the note it pairs with (a translation discrepancy)
    counterpart_pk: int | None = None  # that note's key here, once found
    revision_at: datetime | None = None
    assessment: dict = field(default_factory=dict)  # {field slug: value slug or text}, as read
    revision_assessment: dict = field(default_factory=dict)
    # Filled in by w3c_import while resolving.
    provision: object = None
    language_version: object = None  # when the source is a language version's page
    excerpt: object = None
    parent_item: "Item | None" = None
    parent_pk: int | None = None
    pk: int | None = None
    created_here: bool = False


@dataclass
class TagEntry:
    slug: str
    name: str
    colour: str
    description: str
    parent: str | None  # its parent's slug


@dataclass
class Person:
    username: str
    first_name: str
    last_name: str
    email: str
    roles: list
    staff: bool
    active: bool


def parse(text):
    """The JSON document in `text`, or W3CImportError saying where it is not one Glossa can read:
    malformed JSON (line and column), nesting past DEPTH_MAX, a number of more than DIGITS_MAX digits."""
    try:
        document = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        raise W3CImportError(f"it is not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise W3CImportError(f"it nests lists or objects more than {DEPTH_MAX} levels deep") from None
    except _TooLong as error:
        raise W3CImportError(f"it has a number of {error.args[0]} digits: no annotation holds one of more "
                             f"than {DIGITS_MAX}") from None
    return document


# Keys whose values name things (the W3C model's classes, motivations, media types, languages).
NAME_KEYS = {"type", "motivation", "purpose", "format", "language"}


def _names(value):
    """Whether `value` is a name or a list of one or more names."""
    return isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))


class _TooLong(Exception):
    pass


def _bounded_int(digits):
    if len(digits.lstrip("-")) > DIGITS_MAX:
        raise _TooLong(len(digits.lstrip("-")))
    return int(digits)


def _check(document):
    """Walk `document` without recursion; refuse nesting past DEPTH_MAX and any key or string with
    a character no column can store (a NUL, a lone surrogate), naming where it is."""
    stack = [(document, "", 1)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, str):
            if (bad := rules.find_bad_character(node)) is not None:
                raise W3CImportError(f"{where} holds {bad.name} at character {bad.index + 1}: {bad.advice}")
            continue
        if isinstance(node, dict):
            children = [(f"{where} › {key}" if where else str(key), key, value) for key, value in node.items()]
        elif isinstance(node, list):
            children = [(f"{where}[{index}]" if where else f"item {index}", None, value)
                        for index, value in enumerate(node)]
        else:
            continue
        if depth > DEPTH_MAX:
            raise W3CImportError(f"it nests lists or objects more than {DEPTH_MAX} levels deep")
        for path, key, value in children:
            if key in NAME_KEYS and not _names(value):
                raise W3CImportError(f"{path} must be a name or a list of names, not {_short(value)}")
            if key is not None:
                stack.append((key, f"the key {path!r}" if len(path) < 80 else "a key", depth + 1))
            stack.append((value, path, depth + 1))


@dataclass
class Document:
    items: list
    tags: list  # TagEntry, parents before children
    people: list  # Person


def read(document, *, now):
    """The `Document` a parsed JSON-LD `document` holds; raises W3CImportError naming every item
    at fault. `now` is the time of the import (``created`` of an annotation without one)."""
    _check(document)
    raw_items, context = _items_of(document)
    known_ids = {raw["id"] for raw in raw_items if isinstance(raw, dict) and isinstance(raw.get("id"), str)}
    items, problems, seen = [], [], {}
    for index, raw in enumerate(raw_items):
        item_id = raw.get("id") if isinstance(raw, dict) else raw
        try:
            item = _Reader(index, raw, context, known_ids, now).read()
        except _Refused as refused:
            problems.append((index, item_id, str(refused)))
            continue
        if item.id in seen:
            problems.append((index, item.id, f"the id is also that of item {seen[item.id]}"))
            continue
        seen[item.id] = index
        items.append(item)
    if problems:
        raise W3CImportError(problems=problems)
    top = document if isinstance(document, dict) else {}
    return Document(items, _vocabulary(top.get("glossa:tags", [])), _people(top.get("glossa:people", [])))


# --------------------------------------------------------------------------- the document


def _items_of(document):
    """The raw annotations of a document in document order, and the @context they inherit."""
    if isinstance(document, list):
        return document, None
    if not isinstance(document, dict):
        raise W3CImportError("the document is not a JSON object or list")
    kinds = _types(document)
    context = document.get("@context")
    if "Annotation" in kinds:
        return [document], None
    if "AnnotationPage" in kinds:
        _conforms(document, "the page")
        return _page_items(document), context
    if "AnnotationCollection" not in kinds:
        raise W3CImportError(
            f"type {document.get('type')!r} is not an AnnotationCollection, AnnotationPage or Annotation"
        )
    _conforms(document, "the collection")
    first = document.get("first")
    if first is None:
        if document.get("total", 0):
            raise W3CImportError("the collection has annotations but no first page")
        return [], context
    items, page = [], first
    while page is not None:
        if not isinstance(page, dict):
            raise W3CImportError(
                f"the collection's pages are not embedded ({page!r}): import each page's document instead"
            )
        if page is not first:
            _conforms(page, "a page of the collection")
        items += _page_items(page)
        page = page.get("next")
    total = document.get("total")
    if total is not None and total != len(items):
        raise W3CImportError(f"the collection says it holds {total} annotations but has {len(items)}: truncated?")
    return items, context


def _page_items(page):
    if "AnnotationPage" not in _types(page):
        raise W3CImportError(f"a page of the collection has type {page.get('type')!r}, not AnnotationPage")
    items = page.get("items")
    if not isinstance(items, list):
        raise W3CImportError("an AnnotationPage has no items list")
    return items


def _conforms(document, what):
    failures = musts().container_failures(document)
    if failures:
        raise W3CImportError(f"{what} does not follow the W3C model: {_failed(failures)}")


def _failed(failures):
    return "; ".join(f"{failure.message.rstrip('.')} ({failure.name.rsplit('/', 1)[-1].removesuffix('.json')})"
                     for failure in failures)


def _types(node):
    """The type names of a node; anything in ``type`` that is not a name is none."""
    kinds = node.get("type") if isinstance(node, dict) else None
    return {kind for kind in (kinds if isinstance(kinds, list) else [kinds]) if isinstance(kind, str)}


def _as_list(value):
    return value if isinstance(value, list) else [] if value is None else [value]


def route(iri):
    """(namespaced url name, kwargs, fragment) of the Glossa page an IRI points at, or None.

    The scheme and host are ignored; so is a path prefix the site may be mounted under."""
    if not isinstance(iri, str):
        return None
    parts = urlsplit(iri)
    segments = unquote(parts.path).strip("/").split("/")
    for skip in range(len(segments)):
        try:
            match = resolve("/" + "/".join(segments[skip:]) + ("/" if parts.path.endswith("/") else ""))
        except Resolver404:
            continue
        return match.view_name, match.kwargs, parts.fragment
    return None


def glossa_annotation_pk(iri):
    """The pk in a Glossa annotation id (a provision or source page's ``#annotation-N``, or the
    Protocol's ``/annotations/N``), or None."""
    found = route(iri)
    if found and found[0] == "reader:protocol-annotation":
        digits = found[1]["pk"]
    else:
        match = found and found[0] in ("reader:provision", "reader:source") and _ANNOTATION_FRAGMENT.fullmatch(found[2])
        if not match:
            return None
        digits = match[1]
    digits = digits.lstrip("0") or "0"
    # Past 19 digits no key can have it: PK_MAX + 1 says so without converting 4,000 digits.
    return int(digits) if len(digits) <= DIGITS_MAX else PK_MAX + 1


def _short(value, limit=80):
    text = value if isinstance(value, str) else repr(value)
    return f"“{text}”" if len(text) <= limit else f"“{text[:limit - 1]}…”"


# --------------------------------------------------------------------------- one item


class _Reader:
    """Reads one raw item; `fail` raises _Refused with a sentence naming what is wrong."""

    def __init__(self, index, raw, context, known_ids, now):
        self.index, self.raw, self.context, self.known_ids, self.now = index, raw, context, known_ids, now
        self.unkept, self.notes = [], []
        self.assessment = {}

    def fail(self, message):
        raise _Refused(message)

    def keep_not(self, where, key, value=None):
        self.unkept.append(f"{where}{key}" + (f" {_short(value)}" if isinstance(value, str) else ""))

    def others(self, where, node, known):
        for key, value in node.items():
            if key not in known:
                self.keep_not(where, key, value)

    def string(self, key, *, default=""):
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(f"{key} must be a string, not {type(value).__name__}")
        return value

    def moment(self, key, value=...):
        value = self.raw.get(key) if value is ... else value
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.upper()) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.fail(f"{key} {value!r} is not an ISO 8601 date and time with a zone")
        return moment

    def choice(self, key, choices, default):
        value = self.string(key, default=default)
        allowed = list(dict.fromkeys(str(choice) for choice in choices))  # TextChoices or a StrEnum
        if value not in allowed:
            self.fail(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def whole_number(self, key, value):
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail(f"{key} must be a whole number, not {_short(value)}")
        if value > VERSION_MAX:
            self.fail(f"{key} {value} is larger than any version of a wording ({VERSION_MAX})")
        return value

    def read(self):
        raw = self.raw
        if isinstance(raw, str):
            self.fail(f"it is a link to an annotation ({raw}), not the annotation: embed the annotations")
        if not isinstance(raw, dict):
            self.fail(f"an annotation must be a JSON object, not {type(raw).__name__}")
        if "Annotation" not in _types(raw):
            self.fail(f"type must be Annotation, not {raw.get('type')!r}")
        failures = musts().annotation_failures(in_context(raw, self.context))
        if failures:
            self.fail(f"it does not follow the W3C model: {_failed(failures)}")
        item_id = raw["id"]
        pk_hint = glossa_annotation_pk(item_id)
        if pk_hint is not None and pk_hint > PK_MAX:
            self.fail(f"the number in its id is larger than any annotation's ({PK_MAX})")
        motivations = _as_list(raw.get("motivation")) or ["commenting"]
        motivation = motivations[0]
        for other in motivations[1:]:
            self.keep_not("motivation ", other)
        if motivation not in ("commenting", "replying"):
            self.unkept.append(f"motivation “{motivation}” (exported as commenting)")
        username, display_name = self.creator(item_id)
        created = self.moment("created") or self.now
        body, tags = self.bodies(motivation)
        item = Item(
            index=self.index, id=item_id, pk_hint=pk_hint, username=username, display_name=display_name,
            created=created, modified=self.moment("modified") or created, body=body, tags=tags,
            unkept=self.unkept, notes=self.notes, foreign=pk_hint is None,
            visibility=self.choice("glossa:visibility", Annotation.Visibility, Annotation.Visibility.TEAM),
            placement=self.choice("glossa:placement", Annotation.Placement, Annotation.Placement.ANCHORED),
            text_version=self.whole_number("glossa:textVersion", raw.get("glossa:textVersion")),
            anchored_text=self.string("glossa:anchoredText"),
            review=self.choice("glossa:review", Annotation.Review, Annotation.Review.NONE),
            submitted=self.moment("glossa:submitted"), reviewed=self.moment("glossa:reviewed"),
            reviewed_by=self.string("glossa:reviewedBy", default=None),
            review_note=self.string("glossa:reviewNote"),
            hidden=self.moment("glossa:hidden"), hidden_by=self.string("glossa:hiddenBy", default=None),
            deleted=self.moment("glossa:deleted"), deleted_by=self.string("glossa:deletedBy", default=None),
            assessment=self.assessment, counterpart=self.string("glossa:counterpart", default=None),
        )
        if item.counterpart is not None and len(item.counterpart) > IRI_MAX:
            self.fail(f"glossa:counterpart holds at most {IRI_MAX} characters")
        self.identity(item)
        self.curators_state(item)
        self.target(item, motivation)
        self.others("", raw, ITEM_KEYS)
        return item

    def identity(self, item):
        """via and canonical: a foreign annotation's id becomes the via of the one made of it."""
        canonical, via = self.string("canonical"), self.string("via")
        if item.foreign:
            if len(item.id) > IRI_MAX:
                self.fail(f"its id is longer than {IRI_MAX} characters")
            item.via = item.id
            if via:
                self.unkept.append(f"via {_short(via)} (an earlier copy's; via is now this item's id)")
        else:
            item.via = via
        if len(canonical) > IRI_MAX or len(item.via) > IRI_MAX:
            self.fail(f"canonical and via hold at most {IRI_MAX} characters")
        item.canonical = canonical

    def curators_state(self, item):
        raw = self.raw
        if "glossa:originalExact" in raw:
            item.original_exact = self.string("glossa:originalExact")
        if "glossa:originalTextVersion" in raw:
            item.original_text_version = self.whole_number("glossa:originalTextVersion", raw["glossa:originalTextVersion"])
        revision = raw.get("glossa:revision")
        if revision is None:
            return
        if not isinstance(revision, dict) or not isinstance(revision.get("body"), str):
            self.fail("glossa:revision must be an object with a body")
        tags = revision.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(slug, str) for slug in tags):
            self.fail("glossa:revision tags must be a list of tag slugs")
        item.revision_body, item.revision_tags = revision["body"], tags
        assessment = revision.get("assessment", {})
        if not isinstance(assessment, dict):
            self.fail("glossa:revision assessment must be an object of fields and values")
        item.revision_assessment = assessment
        item.revision_at = self.moment("glossa:revision created", revision.get("created")) or self.now

    # --- creator

    def creator(self, item_id):
        """(username, name) of the author (see the module docstring)."""
        creators = _as_list(self.raw.get("creator"))
        for extra in creators[1:]:
            self.keep_not("creator ", extra.get("id", extra.get("name")) if isinstance(extra, dict) else extra)
        if not creators:
            host = urlsplit(item_id).hostname
            return _username(f"unknown@{host}" if host else "unknown"), ""
        creator = creators[0]
        if isinstance(creator, str):
            return self.creator_from_iri(creator), ""
        if not isinstance(creator, dict):
            self.fail(f"creator must be an IRI or an object, not {_short(creator)}")
        self.others("creator ", creator, CREATOR_KEYS)
        nickname, iri, name = creator.get("nickname"), creator.get("id"), creator.get("name")
        name = name if isinstance(name, str) else ""
        glossa_name = _glossa_user(iri)
        if isinstance(nickname, str) and nickname and (iri is None or glossa_name == nickname):
            return nickname, name
        if isinstance(iri, str):
            return self.creator_from_iri(iri), name or (nickname if isinstance(nickname, str) else "")
        self.fail("creator must give the author's username (nickname) or an id")

    def creator_from_iri(self, iri):
        if (glossa_name := _glossa_user(iri)) is not None:
            return glossa_name
        if iri.startswith("acct:"):
            return _username(iri.removeprefix("acct:"))
        parts = urlsplit(iri)
        last = unquote(parts.path).rstrip("/").rsplit("/", 1)[-1] or "someone"
        return _username(f"{last}@{parts.hostname}" if parts.hostname else iri)

    # --- bodies

    def bodies(self, motivation):
        """(the note in Markdown, [(slug, name)] of its tags)."""
        if isinstance(self.raw.get("bodyValue"), str):
            return self.raw["bodyValue"], []
        texts, links, tags = [], [], []
        default = motivation if motivation in TAG_PURPOSES else None
        for n, body in enumerate(_as_list(self.raw.get("body"))):
            self.body(f"body {n}", body, default, texts, links, tags)
        note = "\n\n".join([*texts, *(_link(iri) for iri in links)])
        return note, tags

    def body(self, where, body, default, texts, links, tags):
        if isinstance(body, str):
            links.append(body)
            return
        if not isinstance(body, dict):
            self.fail(f"{where} must be an IRI or an object, not {_short(body)}")
        kinds = _types(body)
        if "Choice" in kinds:
            options = _as_list(body.get("items"))
            if not options:
                self.fail(f"{where} is a Choice with no options")
            for n, option in enumerate(options[1:], start=2):
                self.unkept.append(f"{where}: Choice option {n} {_short(_named(option))} (the first, the default, is kept)")
            self.others(f"{where} ", body, {"type", "items"})
            self.body(f"{where} option 1", options[0], default, texts, links, tags)
            return
        if "glossa:field" in body and "TextualBody" in kinds:
            self.assessment_text(where, body)
        elif "SpecificResource" in kinds and _as_list(body.get("purpose")) == ["classifying"] and self.assessment_value(body):
            self.others(f"{where} ", body, {"type", "purpose", "source"})
        elif "TextualBody" in kinds or ("value" in body and "source" not in body):
            self.textual_body(where, body, default, texts, tags)
        elif "SpecificResource" in kinds or "source" in body:
            self.specific_resource(where, body, links)
        elif isinstance(body.get("id"), str):
            links.append(body["id"])
            self.others(f"{where} ", body, {"id"})
        else:
            self.fail(f"{where} is neither a TextualBody, a link nor a Choice")

    def assessment_value(self, body):
        """A classifying body naming a value of Glossa's assessment scheme (/assessments/<field>/<value>/):
        recorded in the assessment, True; any other classifying resource: False (kept as a link)."""
        found = route(body.get("source")) if isinstance(body.get("source"), str) else None
        if not found or found[0] != "reader:assessment-value":
            return False
        field = found[1]["field_slug"]
        if field in self.assessment:
            self.fail(f"its assessment gives the field {field!r} twice")
        self.assessment[field] = found[1]["value_slug"]
        return True

    def assessment_text(self, where, body):
        field, value = body.get("glossa:field"), body.get("value")
        if not isinstance(field, str) or not isinstance(value, str):
            self.fail(f"{where}: an assessment's text body needs a glossa:field and a text value")
        if field in self.assessment:
            self.fail(f"its assessment gives the field {field!r} twice")
        self.assessment[field] = value
        self.others(f"{where} ", body, {"type", "purpose", "value", "format", "glossa:field"})

    def textual_body(self, where, body, default, texts, tags):
        purposes = _as_list(body.get("purpose"))
        purpose = purposes[0] if purposes else default
        for other in purposes[1:]:
            self.keep_not(f"{where} purpose ", other)
        value = body.get("value")
        if not isinstance(value, str):
            self.fail(f"{where} has no text value")
        if purpose in TAG_PURPOSES:
            tags.append(self.tag(where, body))
            if purpose == "classifying":
                self.unkept.append(f"{where}: purpose “classifying” (kept as a tag)")
        else:
            form = body.get("format")
            if isinstance(form, list):
                form = form[0] if form else None
            if form is not None and form not in NOTE_FORMATS:
                self.fail(f"{where} is {form}: Glossa notes are Markdown, plain text or HTML")
            if purpose not in (None, "commenting", "replying"):
                self.unkept.append(f"{where}: purpose “{purpose}” (kept as note text)")
            language = body.get("language")
            if language not in (None, "en", ["en"]):
                self.unkept.append(f"{where}: language {_short(str(language))} (exported as en)")
            texts.append(value)
        self.others(f"{where} ", body, TEXT_BODY_KEYS | ({"id"} if self.is_glossa_tag(body) else set()))

    @staticmethod
    def is_glossa_tag(body):
        found = route(body.get("id"))
        return bool(found and found[0] == "reader:tag")

    def tag(self, where, body):
        name = " ".join(body["value"].split())
        if not name or len(name) > TAG_NAME_MAX:
            self.fail(f"{where}: a tag name must be 1 to {TAG_NAME_MAX} characters")
        if "glossa:tag" in body and not isinstance(body["glossa:tag"], str):
            self.fail(f"{where}: glossa:tag must be the IRI of a tag page, not {_short(body['glossa:tag'])}")
        iri = body.get("glossa:tag") or (body.get("id") if self.is_glossa_tag(body) else None)
        if iri is not None:
            found = route(iri)
            if found is None or found[0] != "reader:tag":
                self.fail(f"{where}: tag {iri!r} is not a Glossa tag page (/tags/<slug>/)")
            slug = found[1]["tag_slug"]
        else:
            slug = tag_slug(name) or "tag-" + hashlib.sha1(name.encode()).hexdigest()[:8]
        try:
            validate_unicode_slug(slug)
        except ValidationError:
            self.fail(f"{where}: the tag {name!r} has no usable slug")
        return slug, name

    def specific_resource(self, where, body, links):
        source = body.get("source")
        if isinstance(source, dict):
            self.others(f"{where} source ", source, {"id"})
            source = source.get("id")
        if not isinstance(source, str):
            self.fail(f"{where} is a SpecificResource without a source IRI")
        selectors = _as_list(body.get("selector"))
        fragment = next((s for s in selectors if isinstance(s, dict) and s.get("type") == "FragmentSelector"), None)
        if fragment is not None and isinstance(fragment.get("value"), str) and "#" not in source:
            source = f"{source}#{fragment['value']}"
        for selector in selectors:
            if selector is not fragment:
                self.keep_not(f"{where} ", "selector", selector.get("type") if isinstance(selector, dict) else selector)
        links.append(source)
        self.others(f"{where} ", body, {"source", "selector", "type"})

    # --- target

    def target(self, item, motivation):
        targets = _as_list(self.raw.get("target"))
        if len(targets) != 1:
            self.fail(f"it has {len(targets)} targets: a Glossa annotation is on one text")
        target = targets[0]
        if isinstance(target, dict) and "source" not in target and "selector" not in target:
            iri, resource = target.get("id"), target
        elif isinstance(target, dict):
            iri, resource = target.get("source"), target
            if isinstance(iri, dict):
                self.not_text(iri, iri.get("id"))
                self.others("target source ", iri, {"id", "type", "format", "language"})
                iri = iri.get("id")
        else:
            iri, resource = target, None
        if not isinstance(iri, str):
            self.fail("target must be an IRI, or an object with a source (the provision or excerpt) and selectors")
        selectors = _as_list(resource.get("selector")) if resource else []
        if self.is_annotation(iri, motivation) and not selectors:
            if (glossa_annotation_pk(iri) or 0) > PK_MAX:
                self.fail(f"it replies to {_short(iri)}, a number larger than any annotation's")
            item.reply_to = iri
            if resource:
                self.others("target ", resource, {"id", "source", "type"})
            return
        if resource is not None:
            self.not_text(resource, iri)
        self.not_a_text_selector(selectors)
        found = route(iri)
        on_text = found and (found[0] in ("reader:provision", "reader:provision-language") or (
            found[0] == "reader:source" and _EXCERPT_FRAGMENT.fullmatch(found[2])))
        if not on_text:
            self.fail(f"it targets {iri}, which is not a Glossa provision page or excerpt permalink on this site")
        item.source = iri
        if resource is not None:
            self.others("target ", resource, TARGET_KEYS | ({"id"} if "source" not in resource else set()))
        self.selectors(item, selectors)

    def is_annotation(self, iri, motivation):
        return iri in self.known_ids or glossa_annotation_pk(iri) is not None or (
            motivation == "replying" and not route(iri))

    def not_text(self, resource, iri):
        kinds = _types(resource) & NOT_TEXT_TYPES
        if kinds:
            self.fail(f"it targets {_article(kinds.pop())} ({iri}): Glossa annotates the words of its texts")
        for form in _as_list(resource.get("format")):
            if not isinstance(form, str) or form not in TEXT_FORMATS:
                self.fail(f"it targets {_short(form)} ({iri}), not a text")
        if isinstance(iri, str) and _MEDIA_FRAGMENT.search(urlsplit(iri).fragment):
            self.fail(f"it targets a region of an image or a moment of a recording ({iri}), not words")

    def not_a_text_selector(self, selectors):
        for selector in selectors:
            kind = selector.get("type") if isinstance(selector, dict) else None
            if kind == "SvgSelector":
                self.fail("its SvgSelector selects a region of an image, not words")
            if kind == "DataPositionSelector":
                self.fail("its DataPositionSelector counts bytes, not the characters of a text")
            if kind == "FragmentSelector" and (
                selector.get("conformsTo") == MEDIA_FRAGMENTS or _MEDIA_FRAGMENT.search(str(selector.get("value", "")))
            ):
                self.fail(f"its FragmentSelector {selector.get('value')!r} selects part of an image or a recording")

    def selectors(self, item, selectors):
        quote = position = None
        for selector in selectors:
            if not isinstance(selector, (dict, str)):
                self.fail(f"a selector must be an object or an IRI, not {_short(selector)}")
            kind = selector.get("type") if isinstance(selector, dict) else None
            if kind == "TextQuoteSelector" and quote is None:
                quote = selector
            elif kind == "TextPositionSelector" and position is None:
                position = selector
            else:
                item.extra_selectors.append(selector)
        if quote is None:
            quote = next(filter(None, map(_refining_quote, item.extra_selectors)), None)
        if quote is not None:
            self.quote(item, quote)
        if position is not None:
            self.position(item, position)
        if item.placement in (Annotation.Placement.DRIFTED, Annotation.Placement.ORPHANED):
            if item.start is not None:
                self.fail(f"a {item.placement} annotation has no TextPositionSelector")
            return
        if quote is None and position is None:
            if item.extra_selectors:
                kinds = ", ".join(sorted({_selector_kind(s) for s in item.extra_selectors}))
                item.placement = Annotation.Placement.ORPHANED
                self.notes.append(f"orphaned: Glossa places annotations by their words or positions, not by {kinds} "
                                  "(kept for export); place it again in the workspace")
            else:
                item.whole = True
                self.notes.append("it targets the whole text: anchored on all its wording")

    def quote(self, item, quote):
        for key in ("exact", "prefix", "suffix"):
            value = quote.get(key, "")
            if not isinstance(value, str):
                self.fail(f"TextQuoteSelector {key} must be a string")
            setattr(item, key, value)
        if not item.exact:
            self.fail("TextQuoteSelector exact is empty")
        if len(item.prefix) > CONTEXT_MAX or len(item.suffix) > CONTEXT_MAX:
            if not item.foreign:
                self.fail(f"TextQuoteSelector prefix and suffix hold at most {CONTEXT_MAX} characters")
            item.prefix, item.suffix = item.prefix[-CONTEXT_MAX:], item.suffix[:CONTEXT_MAX]
            self.unkept.append(f"TextQuoteSelector context beyond {CONTEXT_MAX} characters on each side")

    def position(self, item, position):
        start, end = position.get("start"), position.get("end")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not 0 <= start < end:
            self.fail(f"TextPositionSelector needs whole numbers 0 <= start < end, not {start!r}, {end!r}")
        item.start, item.end = start, end
        self.others("TextPositionSelector ", position, {"type", "start", "end"})


def _selector_kind(selector):
    if not isinstance(selector, dict):
        return "selector IRI"
    kind = selector.get("type", "selector")
    return kind if isinstance(kind, str) else "selector"


def _refining_quote(selector):
    """The TextQuoteSelector a selector is refined by, at any depth, or None."""
    while isinstance(selector, dict) and isinstance(selector.get("refinedBy"), dict):
        selector = selector["refinedBy"]
        if selector.get("type") == "TextQuoteSelector":
            return selector
    return None


def _named(resource):
    """An IRI or text that names a body: its IRI, id, value, or its source's."""
    if not isinstance(resource, dict):
        return resource
    source = resource.get("source")
    return resource.get("id") or resource.get("value") or (source.get("id") if isinstance(source, dict) else source)


def _glossa_user(iri):
    """NAME of a Glossa creator id (…/users/NAME/), or None."""
    if not isinstance(iri, str) or iri.startswith(("acct:", "mailto:")):
        return None
    found = re.search(r"/users/([^/]+)/?$", urlsplit(iri).path)
    return unquote(found[1]) if found else None


def _username(name):
    """A valid Django username made of a creator's name and authority."""
    return _NOT_IN_USERNAME.sub("-", name)[:150]


def _link(iri):
    """An IRI as a line of Markdown: a link when browsers follow it, else code (a URN, an acct:)."""
    if iri.lower().startswith(("http://", "https://")):
        return f"<{iri}>"
    return f"`{iri}`"


def _article(kind):
    return f"an {kind}" if kind[0] in "AEIOU" else f"a {kind}"


# --------------------------------------------------------------------------- vocabulary and people


def _vocabulary(entries):
    """glossa:tags: every tag, used or not, parents first."""
    if not isinstance(entries, list):
        raise W3CImportError("glossa:tags must be a list")
    tags = {}
    for n, entry in enumerate(entries):
        where = f"glossa:tags entry {n}"
        if not isinstance(entry, dict):
            raise W3CImportError(f"{where} is not an object")
        slug, name, colour = entry.get("slug"), entry.get("name"), entry.get("colour", "#f4d03f")
        description, parent = entry.get("description", ""), entry.get("parent")
        try:
            validate_unicode_slug(slug if isinstance(slug, str) and len(slug) <= 60 else "")
        except ValidationError:
            raise W3CImportError(f"{where}: {slug!r} is not a usable slug") from None
        if not isinstance(name, str) or not 0 < len(name) <= TAG_NAME_MAX:
            raise W3CImportError(f"{where} ({slug}): a tag name must be 1 to {TAG_NAME_MAX} characters")
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
            raise W3CImportError(f"{where} ({slug}): colour must be #rrggbb, not {colour!r}")
        if not isinstance(description, str) or not (parent is None or isinstance(parent, str)):
            raise W3CImportError(f"{where} ({slug}): description must be text and parent a slug")
        if slug in tags:
            raise W3CImportError(f"{where}: the slug {slug} is listed twice")
        tags[slug] = TagEntry(slug, name, colour, description, parent)
    for tag in tags.values():
        parent = tags.get(tag.parent)
        if parent is not None and parent.parent is not None:
            raise W3CImportError(f"glossa:tags {tag.slug}: its parent {parent.slug} has a parent (one level only)")
    return sorted(tags.values(), key=lambda tag: tag.parent is not None)


def _people(entries):
    """glossa:people: accounts with their names, email, roles and flags."""
    if not isinstance(entries, list):
        raise W3CImportError("glossa:people must be a list")
    people, seen = [], set()
    for n, entry in enumerate(entries):
        where = f"glossa:people entry {n}"
        if not isinstance(entry, dict) or not isinstance(entry.get("username"), str) or not entry["username"]:
            raise W3CImportError(f"{where} has no username")
        username = entry["username"]
        texts = [entry.get(key, "") for key in ("firstName", "lastName", "email")]
        roles, flags = entry.get("roles", []), [entry.get("staff", False), entry.get("active", True)]
        if not all(isinstance(text, str) and len(text) <= limit for text, limit in zip(texts, (150, 150, 254))):
            raise W3CImportError(f"{where} ({username}): names (150 characters) and email (254) must be text")
        if texts[2]:
            try:
                EmailValidator()(texts[2])
            except ValidationError:
                raise W3CImportError(f"{where} ({username}): {texts[2]!r} is not an email address") from None
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise W3CImportError(f"{where} ({username}): roles must be a list of names")
        if not all(isinstance(flag, bool) for flag in flags):
            raise W3CImportError(f"{where} ({username}): staff and active must be true or false")
        if username in seen:
            raise W3CImportError(f"{where}: {username} is listed twice")
        seen.add(username)
        people.append(Person(username, *texts, roles, *flags))
    return people
