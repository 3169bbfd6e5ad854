"""Glossa's annotations as W3C Web Annotations (JSON-LD), and as CSV for spreadsheet users.

The shapes follow the Web Annotation Data Model (https://www.w3.org/TR/annotation-model/) and the
paging of the Web Annotation Protocol (AnnotationCollection + AnnotationPage).

One annotation::

    {"id": "https://glossa.example/treaties/t/art-4/#annotation-17",
     "type": "Annotation",
     "motivation": "commenting",                       # "replying" for a reply
     "created": "2024-06-20T09:15:02.123456Z", "modified": "...",
     "creator": {"id": "https://glossa.example/users/ana", "type": "Person", "nickname": "ana"},
     "body": [{"type": "TextualBody", "value": "The *note*, in Markdown.", "format": "text/markdown",
               "language": "en", "purpose": "commenting"},
              {"type": "TextualBody", "purpose": "tagging", "value": "legal threshold",
               "glossa:tag": "https://glossa.example/tags/legal-threshold/"}],
     "target": {"source": "https://glossa.example/treaties/t/art-4/",
                "selector": [{"type": "TextQuoteSelector", "exact": "…", "prefix": "…", "suffix": "…"},
                             {"type": "TextPositionSelector", "start": 120, "end": 159}]},
     "glossa:visibility": "public", "glossa:placement": "anchored", "glossa:textVersion": 1}

Decisions:

* **ids** are ``{base}{page}#annotation-{pk}``, where the page is the public page of the provision
  (or the commentary source, for an annotation on an excerpt) that the annotation, or the
  annotation it replies to, belongs to. It is the permalink the public reader already renders
  for published annotations, it is stable (treaty, provision and source slugs never change once
  published, and an annotation never changes target), and it carries the pk, so an import can
  give the annotation back its number. For an annotation that is not published the IRI
  identifies it but does not resolve to a visible anchor.
* **creator** ids are ``{base}/users/{username}/``: the person's public page, which lists their
  published annotations and replies (a 404, like an unknown name, for someone who has published
  nothing: the id of a team note's author then identifies them without resolving). The importer
  goes by ``nickname``, the username.
* **tags** are W3C tagging bodies, one per tag: the name is the ``value``, and ``glossa:tag`` is
  the tag's public page ``{base}/tags/{slug}/``, so the slug travels losslessly. Not the body's
  ``id``: the W3C test suite takes any body with an ``id`` for an External Web Resource, which
  must not have a ``purpose`` (assertion 3.3.5-bodyEWRNoPurpose). A tag's colour, description
  and parent are vocabulary, not annotation data: the curators' backup carries them once, in
  ``glossa:tags`` (below).
* **positions** are Unicode code points, as the model requires. An annotation that lost its place
  (drifted or orphaned) has only its TextQuoteSelector. Targets on a commentary excerpt use the
  excerpt's permalink as ``source``, and offsets within the excerpt's text.
* **Glossa's own fields** (visibility, placement, text version, and in curators' exports the
  review, hiding and deletion state) are ``glossa:``-prefixed terms at the top of each annotation,
  so that an import restores them. They are not in the anno.jsonld context: a generic JSON-LD
  consumer ignores them (or expands them to IRIs of an unregistered ``glossa:`` scheme), so they
  never change the meaning of the standard part. Public and signed-in HTTP responses carry only
  visibility, placement, text version and the drifted wording; review notes and who reviewed or
  hid what stay in curators' exports.
* **Foreign annotations** (imported from another system, `w3c_reader`) keep what the model says of
  them and Glossa cannot use: the target's other selectors (XPath, Range, CSS, Fragment…) follow
  Glossa's two, as they came; ``via`` is the id they were imported from, ``canonical`` theirs.
* ``@context`` appears once, at the top of the document.

**The curators' backup** (``export_annotations``, by default and with ``--all``; `write_collection`
with `backup`) is what ``import_annotations`` needs to restore the annotations into an empty
database. Each annotation also carries ``glossa:deletedBy``, its pending revision
(``"glossa:revision": {"body": …, "tags": [slugs], "created": …}``) and, when they differ from
``exact`` and ``glossa:textVersion``, the words it was made on (``glossa:originalExact``,
``glossa:originalTextVersion``). The collection carries, before its page, two ``glossa:`` lists::

    "glossa:tags": [{"slug": "security", "name": "security", "colour": "#f4d03f",
                     "description": "…", "parent": null}, …],          # every tag, used or not
    "glossa:people": [{"username": "ana", "firstName": "Ana", "lastName": "Lima",
                       "email": "ana@example.org", "roles": ["Analysts"], "staff": false,
                       "active": true}, …]                              # every account

People never carry a password (hash or otherwise) nor superuser status. Both lists are sorted (tags
by slug, people by username) and streamed like the items, so the same database gives the same bytes.
What the backup does not carry: passwords, superuser status, the history of changes (an import
makes one record per annotation), the edit counter, sessions, and the corpus itself (treaties,
provisions, commentaries: ``load_corpus`` and the import commands, or a database backup).
"""

import csv
import hashlib
import json
from datetime import UTC
from functools import partial
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse

from . import assessments
from .card_keys import named_tags, shown_vocabulary
from .models import Annotation, Tag

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
MEDIA_TYPE = f'application/ld+json; profile="{ANNO_CONTEXT}"'

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
CHUNK_SIZE = 500  # rows per fetch (and per tag prefetch) when streaming a whole export

# Compact and deterministic: the same rows always give the same bytes.
dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))

# What an export needs of each related row; the long texts (wording, commentary bodies) stay in the database.
_RELATED_FIELDS = (
    "author__username",
    "provision__slug", "provision__kind", "provision__number",
    "provision__treaty__slug", "provision__treaty__short_title", "language_version__language",
    "excerpt__source__slug", "excerpt__source__title",
    "excerpt__source__outlet", "excerpt__source__capture_name",
    "parent__provision__slug", "parent__provision__kind", "parent__provision__number",
    "parent__provision__treaty__slug", "parent__provision__treaty__short_title",
    "parent__excerpt__source__slug", "parent__excerpt__source__title",
    "parent__excerpt__source__outlet", "parent__excerpt__source__capture_name",
    "hidden_by__username", "reviewed_by__username",
)


def export_scope(scope="live"):
    """The annotations of a curators' export.

    ``"live"`` (the default): every annotation not deleted, hidden, private and team ones included;
    ``"all"``: deleted ones too; ``"published"``: what the public sees. A reply is included only
    with the annotation it replies to, so that every export can be imported on its own."""
    if scope == "all":
        return Annotation.objects.all()
    if scope == "published":
        selected = Annotation.objects.published()
    elif scope == "live":
        selected = Annotation.objects.filter(deleted_at__isnull=True)
    else:
        raise ValueError(f"unknown export scope {scope!r}")
    return selected.filter(Q(parent__isnull=True) | Q(parent__in=selected))


def for_export(queryset, *, internal=False):
    """`queryset` with everything a W3C or CSV row needs, in two queries whatever the number of rows
    (the annotations with their related rows, and their tags; with `internal`, a third: the pending
    revisions' tags), in a stable order: by pk."""
    own_fields = [field.name for field in Annotation._meta.concrete_fields if field.name != "body_html"]
    tags = Tag.objects.only("name", "slug").order_by("slug")
    queryset = (
        queryset.select_related(
            "author", "provision__treaty", "language_version", "excerpt__source",
            "parent__provision__treaty", "parent__excerpt__source", "hidden_by", "reviewed_by",
        )
        .only(*own_fields, *_RELATED_FIELDS)
        .prefetch_related(Prefetch("tags", queryset=tags))
        .order_by("pk")
    )
    if internal:
        queryset = (queryset.select_related("deleted_by").only(*own_fields, *_RELATED_FIELDS, "deleted_by__username")
                    .prefetch_related(Prefetch("revision_tags", queryset=tags)))
    else:
        queryset = queryset.annotate(counterpart_published=_counterpart_published())
    return queryset


def _counterpart_published():
    """Whether the note an annotation pairs with is published: a public export names only such a one."""
    return Exists(Annotation.objects.published().filter(pk=OuterRef("counterpart_id")))


def exported_counterpart(annotation, *, internal):
    """The key of the note `annotation` pairs with, as an export names it (`for_export`), or None."""
    if annotation.counterpart_id and (internal or getattr(annotation, "counterpart_published", False)):
        return annotation.counterpart_id
    return None


def isoformat(moment):
    """ISO 8601 / RFC 3339 in UTC with a Z, microseconds kept when there are any."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Linker:
    """Absolute IRIs under one base URL (scheme, host and any path prefix the site is mounted at).

    The paths of provisions, sources, tags and users are memoised: there are few of them however
    many annotations an export holds, and `reverse()` is the costly part of building an IRI."""

    def __init__(self, base_url):
        self.base = base_url.rstrip("/")
        self._memo = {}

    def _cached(self, key, make):
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = make()
            return value

    def iri(self, path):
        return f"{self.base}{path}"

    def assessment_value(self, field, value):
        return self._cached(
            ("assessment", field, value),
            lambda: self.iri(reverse("reader:assessment-value", args=[field, value])),
        )

    def is_text_field(self, field):
        """Whether the scheme's field `field` takes text (read once per export)."""
        if "text-fields" not in self._memo:
            from .models import AssessmentField

            self._memo["text-fields"] = set(
                AssessmentField.objects.filter(kind=AssessmentField.Kind.TEXT).values_list("slug", flat=True)
            )
        return field in self._memo["text-fields"]

    def collection(self):
        return self.iri(reverse("reader:annotations-export"))

    def provision(self, provision):
        return self._cached(
            ("provision", provision.pk),
            lambda: self.iri(reverse("reader:provision", args=[provision.treaty.slug, provision.slug])),
        )

    def source(self, source):
        return self._cached(
            ("source", source.pk), lambda: self.iri(reverse("reader:source", args=[source.slug]))
        )

    def excerpt(self, excerpt):
        return f"{self.source(excerpt.source)}#excerpt-{excerpt.pk}"

    def tag(self, slug):
        return self._cached(("tag", slug), lambda: self.iri(reverse("reader:tag", args=[slug])))

    def user(self, username):
        # Percent-encoded: a username may hold non-ASCII letters, and an id must be a URI.
        return self._cached(("user", username), lambda: self.iri(f"/users/{quote(username, safe='@+.-_')}/"))

    def page_of(self, annotation):
        """The public page an annotation (or the one it replies to) belongs to."""
        root = annotation.parent if annotation.parent_id else annotation
        if root.provision_id:
            return self.provision(root.provision)
        return self.source(root.excerpt.source)

    def annotation_id(self, annotation):
        return f"{self.page_of(annotation)}#annotation-{annotation.pk}"

    def parent_id(self, annotation):
        return f"{self.page_of(annotation)}#annotation-{annotation.parent_id}"

    def wording(self, provision):
        """The element of the provision's page that holds its wording, and nothing else: its
        textContent is the stored text that the selectors count in, so a client anchors there."""
        return f"{self.provision(provision)}#wording"

    def language_version(self, provision, language):
        return self.iri(reverse("reader:provision-language", args=[provision.treaty.slug, provision.slug, language]))

    def target_source(self, annotation):
        """What a target's selectors are relative to: the wording on a provision's page (on the page
        of its language version, with that language), or the excerpt on its source's page (each
        element's textContent is the text the offsets index)."""
        if annotation.language_version_id:
            language = annotation.language_version.language
            return {"id": f"{self.language_version(annotation.provision, language)}#wording", "language": language}
        if annotation.provision_id:
            return self.wording(annotation.provision)
        return self.excerpt(annotation.excerpt)


def annotation_to_w3c(annotation, linker, *, internal=False):
    """One annotation as a W3C Annotation (a dict, without ``@context``), in a fixed key order.

    With `internal`, also the curators' state: review, hiding and deletion. Expects the related
    rows and tags of `for_export`; makes no query of its own then."""
    username = annotation.author.username
    body = [{
        "type": "TextualBody",
        "value": annotation.body,
        "format": "text/markdown",
        "language": "en",
        "purpose": "commenting",
    }]
    body += [
        {"type": "TextualBody", "purpose": "tagging", "value": tag.name, "glossa:tag": linker.tag(tag.slug)}
        for tag in annotation.tags.all()
    ]
    body += assessment_bodies(annotation.assessment, linker)
    document = {
        "id": linker.annotation_id(annotation),
        "type": "Annotation",
        "motivation": "replying" if annotation.parent_id else "commenting",
        "created": isoformat(annotation.created_at),
        "modified": isoformat(annotation.updated_at),
        "creator": {"id": linker.user(username), "type": "Person", "nickname": username},
        "body": body,
        "target": linker.parent_id(annotation) if annotation.parent_id else _target(annotation, linker),
    }
    if annotation.canonical:
        document["canonical"] = annotation.canonical
    if annotation.via:
        document["via"] = annotation.via
    document["glossa:visibility"] = annotation.visibility
    document["glossa:placement"] = annotation.placement
    if annotation.text_version is not None:
        document["glossa:textVersion"] = annotation.text_version
    if annotation.anchored_text:
        document["glossa:anchoredText"] = annotation.anchored_text
    if (counterpart := exported_counterpart(annotation, internal=internal)) is not None:
        # A translation discrepancy: the note on the same passage in another text, on the same page.
        document["glossa:counterpart"] = f"{linker.page_of(annotation)}#annotation-{counterpart}"
    if internal:
        document.update(_internal_state(annotation))
    return document


def assessment_bodies(assessment, linker):
    """An assessment as W3C bodies, in its fields' order as stored: a chosen value is a classifying
    SpecificResource whose source is the value's IRI (``/assessments/<field>/<value>/``, a page that
    dereferences); a text field is a describing TextualBody that names its field (``glossa:field``)."""
    bodies = []
    for field, value in (assessment or {}).items():
        if linker.is_text_field(field):
            bodies.append({"type": "TextualBody", "purpose": "describing", "value": value, "format": "text/plain",
                           "glossa:field": field})
        else:
            bodies.append({"type": "SpecificResource", "purpose": "classifying",
                           "source": linker.assessment_value(field, value)})
    return bodies


def _target(annotation, linker):
    selectors = []
    if annotation.exact:  # an imported annotation placed by none of its selectors has none
        quote = {"type": "TextQuoteSelector", "exact": annotation.exact}
        if annotation.prefix:
            quote["prefix"] = annotation.prefix
        if annotation.suffix:
            quote["suffix"] = annotation.suffix
        selectors.append(quote)
    if annotation.start is not None:
        selectors.append({"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end})
    selectors += annotation.extra_selectors
    target = {"source": linker.target_source(annotation)}
    if selectors:
        target["selector"] = selectors
    return target


def _internal_state(annotation):
    state = {}
    if annotation.review != Annotation.Review.NONE:
        state["glossa:review"] = annotation.review
    if annotation.submitted_at:
        state["glossa:submitted"] = isoformat(annotation.submitted_at)
    if annotation.reviewed_at:
        state["glossa:reviewed"] = isoformat(annotation.reviewed_at)
    if annotation.reviewed_by_id:
        state["glossa:reviewedBy"] = annotation.reviewed_by.username
    if annotation.review_note:
        state["glossa:reviewNote"] = annotation.review_note
    if annotation.hidden_at:
        state["glossa:hidden"] = isoformat(annotation.hidden_at)
    if annotation.hidden_by_id:
        state["glossa:hiddenBy"] = annotation.hidden_by.username
    if annotation.deleted_at:
        state["glossa:deleted"] = isoformat(annotation.deleted_at)
    if annotation.deleted_by_id:
        state["glossa:deletedBy"] = annotation.deleted_by.username
    if annotation.revision_at:
        state["glossa:revision"] = {
            "body": annotation.revision_body,
            "tags": [tag.slug for tag in annotation.revision_tags.all()],
            **({"assessment": annotation.revision_assessment} if annotation.revision_assessment else {}),
            "created": isoformat(annotation.revision_at),
        }
    if annotation.original_exact != annotation.exact:
        state["glossa:originalExact"] = annotation.original_exact
    if annotation.original_text_version != annotation.text_version:
        state["glossa:originalTextVersion"] = annotation.original_text_version
    return state


def page_document(
    annotations, linker, *, page_id, collection_id, total, start_index, prev_id=None, next_id=None
):
    """An AnnotationPage of a paged collection: `annotations` as its items, with links to its neighbours."""
    document = {
        "@context": ANNO_CONTEXT,
        "id": page_id,
        "type": "AnnotationPage",
        "partOf": {"id": collection_id, "type": "AnnotationCollection", "total": total},
        "startIndex": start_index,
    }
    if prev_id:
        document["prev"] = prev_id
    if next_id:
        document["next"] = next_id
    document["items"] = [annotation_to_w3c(annotation, linker) for annotation in annotations]
    return document


def embedded_collection(annotations, linker, *, collection_id, label):
    """An AnnotationCollection that embeds all its items as its first (and only) page: one request,
    or one file, holds everything. The page's id is the collection's with ``#items``."""
    items = [annotation_to_w3c(annotation, linker) for annotation in annotations]
    return {
        "@context": ANNO_CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": label,
        "total": len(items),
        "first": {"id": f"{collection_id}#items", "type": "AnnotationPage", "startIndex": 0, "items": items},
    }


# Items are also cached a run at a time: a run's text is its items joined, keyed by what each of
# them shows, so a document of thousands is a few dozen cache look-ups (one per item cost 13 ms at
# 2,000), and a change to one item makes only its run again, from the other items' cache.
RUN = 100


def cached_items(parts, linker, cache):
    """(how many, their JSON texts): each annotation of the querysets `parts` (each row in one of
    them: no two parts may share a row) as a W3C Annotation (annotation_to_w3c), in pk order, in runs
    of up to RUN items joined by commas; each item made once per version of what it shows, each run
    once per version of its items.

    Two light queries find what every item shows (its version, which every write moves on; its
    author's name; its tags, by key, and the vocabulary that names them), and the cache holds the
    item made for exactly that; only the items not there are read whole and serialised. A document
    of thousands of annotations then costs about as much as joining their texts."""
    # The parts' rows as one UNION (a provision's notes, the replies to them), not `pk IN (UNION)`,
    # which PostgreSQL met by reading the whole key index (82 ms at 100,000); UNION ALL, the parts
    # holding no row twice: a UNION hashed every row to find none twice (1 ms at 2,000).
    first, *others = [
        part.order_by().with_tag_keys().annotate(counterpart_published=_counterpart_published())
        .values_list("pk", "version", "author__username", "counterpart_published", "tag_keys")
        for part in parts
    ]
    rows = sorted(first.union(*others, all=True).order_by() if others else first)
    vocabulary = shown_vocabulary(Tag.objects.vocabulary())
    # Whether its counterpart is published is in what an item shows: publishing that note changes it.
    shown = [
        (pk, version, username, named_tags(tag_keys, vocabulary), paired)
        for pk, version, username, paired, tag_keys in rows
    ]
    runs = [shown[start : start + RUN] for start in range(0, len(shown), RUN)]
    run_keys = [_digest("w3c-run", run, linker.base) for run in runs]
    found = cache.get_many(run_keys)
    missing = [(run, key) for run, key in zip(runs, run_keys) if key not in found]
    if missing:
        items = _items(linker, cache, [row for run, _ in missing for row in run])
        made = {}
        for run, key in missing:
            texts = [items[row[0]] for row in run if row[0] in items]
            made[key] = (len(texts), ",".join(texts))
        cache.set_many(made, timeout=86400)
        found |= made
    texts = [found[key] for key in run_keys]
    return sum(count for count, _ in texts), [text for count, text in texts if count]


def _digest(kind, shown, base):
    return f"{kind}:" + hashlib.blake2b(repr((shown, base)).encode(), digest_size=16).hexdigest()


def _items(linker, cache, rows):
    """{pk: JSON text} of the items these rows (cached_items' `shown`) show, from the cache or made
    (and cached) in one read of those missing; an annotation gone since its row was read is left out."""
    keys = {row[0]: _digest("w3c", row, linker.base) for row in rows}
    found = cache.get_many(list(keys.values()))
    missing = [pk for pk, key in keys.items() if key not in found]
    if missing:
        made = {}
        # Not .iterator(): its tag prefetch would cost a query per chunk, and the rows are one document's.
        for annotation in for_export(Annotation.objects.filter(pk__in=missing)):
            made[keys[annotation.pk]] = dumps(annotation_to_w3c(annotation, linker))
        cache.set_many(made, timeout=86400)
        found |= made
    return {pk: found[key] for pk, key in keys.items() if key in found}


def embedded_collection_json(items, *, collection_id, label):
    """embedded_collection's document as JSON text, around `items` already serialised: cached_items'
    (how many, texts). The same bytes as dumps(embedded_collection(...))."""
    total, texts = items
    head = dumps({"@context": ANNO_CONTEXT, "id": collection_id, "type": "AnnotationCollection", "label": label,
                  "total": total})
    page = dumps({"id": f"{collection_id}#items", "type": "AnnotationPage", "startIndex": 0})
    return f'{head[:-1]},"first":{page[:-1]},"items":[{",".join(texts)}]}}}}'


def write_collection(out, queryset, *, base_url, label, internal=True, backup=False):
    """Stream `queryset` to the text stream `out` as one AnnotationCollection embedding one page
    with every item, and return the number written.

    Memory stays flat whatever the number of annotations: rows are fetched `CHUNK_SIZE` at a time
    and each item is serialised and written on its own. ``total`` is written last, so that it is
    the number of items actually written even if annotations change during a long export (the
    shape is `embedded_collection`'s otherwise). With `internal`, the items carry the curators'
    state too (see `annotation_to_w3c`); with `backup`, the collection also carries every tag and
    every account (``glossa:tags``, ``glossa:people``: the module docstring), streamed the same way."""
    linker = Linker(base_url)
    collection_id = linker.collection()
    head = {"@context": ANNO_CONTEXT, "id": collection_id, "type": "AnnotationCollection", "label": label}
    out.write(dumps(head)[:-1])
    if backup:
        _write_list(out, "glossa:tags", map(_tag_entry, Tag.objects.select_related("parent").order_by("slug")
                                              .only("name", "slug", "colour", "description", "parent__slug")
                                              .iterator(chunk_size=CHUNK_SIZE)))
        people = get_user_model().objects.order_by("username").prefetch_related(
            Prefetch("groups", queryset=Group.objects.only("name").order_by("name")))
        _write_list(out, "glossa:people", map(_person_entry, people.iterator(chunk_size=CHUNK_SIZE)))
    page = {"id": f"{collection_id}#items", "type": "AnnotationPage", "startIndex": 0}
    out.write(f',"first":{dumps(page)[:-1]},"items":[')
    count = 0
    for annotation in for_export(queryset, internal=internal).iterator(chunk_size=CHUNK_SIZE):
        item = annotation_to_w3c(annotation, linker, internal=internal)
        out.write(("\n" if count == 0 else ",\n") + dumps(item))
        count += 1
    out.write(f'\n]}},"total":{count}}}\n')
    return count


def _write_list(out, key, entries):
    out.write(f',"{key}":[')
    for n, entry in enumerate(entries):
        out.write(("\n" if n == 0 else ",\n") + dumps(entry))
    out.write("\n]")


def _tag_entry(tag):
    return {"slug": tag.slug, "name": tag.name, "colour": tag.colour, "description": tag.description,
            "parent": tag.parent.slug if tag.parent_id else None}


def _person_entry(user):
    return {"username": user.get_username(), "firstName": user.first_name, "lastName": user.last_name,
            "email": user.email, "roles": [group.name for group in user.groups.all()], "staff": user.is_staff,
            "active": user.is_active}


CSV_COLUMNS = [
    "id", "provision", "quote", "prefix", "suffix", "start", "end", "body", "tags", "author", "visibility",
    "created", "modified", "permalink", "reply_to", "placement", "assessment",
]

# A cell starting with one of these is a formula to Excel and LibreOffice ("CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text):
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _label(annotation):
    root = annotation.parent if annotation.parent_id else annotation
    if root.provision_id:
        return f"{root.provision.treaty.short_title}, {root.provision.label}"
    return f"Commentary: {root.excerpt.source.display_title}"


def write_csv(out, queryset, *, base_url):
    """Stream `queryset` to `out` as CSV, a header and one row per annotation; return the row count.

    For spreadsheets, not for round trips (use the JSON-LD for that): tags are joined with "; ",
    times are ISO 8601 in UTC, and a text cell that a spreadsheet would run as a formula
    (starting with = + - @) is prefixed with an apostrophe. The permalink is the public page's
    anchor for a published annotation and the workspace's for any other."""
    linker = Linker(base_url)
    known = assessments.scheme()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for annotation in for_export(queryset).iterator(chunk_size=CHUNK_SIZE):
        published = annotation.visibility == Annotation.Visibility.PUBLIC
        writer.writerow([
            annotation.pk,
            _cell(_label(annotation)),
            _cell(annotation.exact),
            _cell(annotation.prefix),
            _cell(annotation.suffix),
            "" if annotation.start is None else annotation.start,
            "" if annotation.end is None else annotation.end,
            _cell(annotation.body),
            _cell("; ".join(tag.name for tag in annotation.tags.all())),
            _cell(annotation.author.username),
            annotation.visibility,
            isoformat(annotation.created_at),
            isoformat(annotation.updated_at),
            linker.annotation_id(annotation) if published else linker.iri(annotation.get_absolute_url()),
            annotation.parent_id or "",
            annotation.placement,
            _cell("; ".join(f"{item.field}: {item.value}" for item in assessments.describe(annotation.assessment, known))),
        ])
        count += 1
    return count
