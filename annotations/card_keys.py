"""The key of each annotation card, from one light query: a digest of everything the card shows its viewer.

A card is rendered once per key and then comes from the "cards" cache (the workspace's and the
public pages' ``{% cache … annotation.card_key %}``). Reading model instances with their tags, replies and
translation pairs only to learn that a card is cached cost 36 ms for a page of 50 workspace
cards at 100,000 annotations; the key needs only each note's row and, by correlated subqueries through
their indexes, the keys and versions of what hangs off it. Instances are then read for the cards
the cache does not hold.

Every write of an annotation goes through writes.py, which moves its `version` on: a note's own
fields (body, quote, review, visibility, placement, assessment, revision) are in the key through
it. What a card shows of other rows is in the key by those rows' keys and versions (replies and
translation pairs the viewer may read) or by their shown values (tag names, author names, the
assessment scheme's labels), since renaming them touches no annotation.
"""

import hashlib
from collections import namedtuple

from django.db.models import F, OuterRef, StringAgg, Subquery, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat

from . import assessments
from .models import Annotation, Tag

# A workspace card by its key and, once found in the cache, the fragment itself (`cached_card`, else
# None): the whole <li>, so a page shows a cached card without rendering anything of it.
CardRow = namedtuple("CardRow", "pk card_key cached_card", defaults=[None])


def _text(name):
    return Coalesce(Cast(name, TextField()), Value(""), output_field=TextField())


# Between the fields of a row and between rows: control characters no key, version or username holds.
FIELD, ROW = "\x1f", "\x1e"


def _joined(rows, group, *parts):
    """The rows of queryset `rows` (all with the same `group`, the column OuterRef names) as their
    `parts` joined: one text per outer row, None when there are none."""
    pieces = []
    for part in parts:
        pieces += [_text(part), Value(FIELD, output_field=TextField())]
    row = Concat(*pieces[:-1], output_field=TextField())
    return Subquery(rows.order_by().values(group).annotate(joined=StringAgg(row, Value(ROW))).values("joined"))


def card_rows(annotations, user, *, can_hide, filters, tags, here):
    """{pk: CardRow} of the queryset `annotations` as workspace cards show them to `user` (who may
    hide others' notes if `can_hide`, through `filters`, whose query their links keep) on the
    workspace at the URL `here`, which their tag links name; `tags` is the tag vocabulary."""
    readable = Annotation.objects.readable_by(user)
    replies = _joined(readable.filter(parent=OuterRef("pk")), "parent", "pk", "version", "author_id", "author__username")
    counterpart = _joined(readable.filter(pk=OuterRef("counterpart_id")), "pk", "pk", "version", "language_version_id")
    counterparts = _joined(readable.filter(counterpart=OuterRef("pk")), "counterpart", "pk", "version", "language_version_id")
    rows = (
        annotations.order_by().with_tag_keys().with_tag_keys("revision_tags", "revision_tag_keys")
        .annotate(reply_keys=replies, counterpart_key=counterpart, counterpart_keys=counterparts,
                  author_name=F("author__username"))
        .values_list("pk", "version", "placement", "review", "author_id", "author_name", "assessment",
                     "revision_assessment", "tag_keys", "revision_tag_keys", "reply_keys", "counterpart_key",
                     "counterpart_keys")
    )
    vocabulary = {str(tag.pk): (tag.slug, tag.name) for tag in tags}
    known = assessments.scheme()
    found = {}
    for (pk, version, placement, review, author_id, author_name, assessment, revision_assessment, tag_keys,
         revision_tag_keys, reply_keys, counterpart_key, counterpart_keys) in rows:
        shown = [
            pk, version, placement, review, author_name, _named(tag_keys, vocabulary), _named(revision_tag_keys, vocabulary),
            [(*reply[:2], reply[3], reply[2] == str(user.pk)) for reply in _split(reply_keys)],
            author_id == user.pk, can_hide, filters.query, here,
            assessments.describe(assessment or {}, known), assessments.describe(revision_assessment or {}, known),
            _split(counterpart_key) + _split(counterpart_keys),
        ]
        key = hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()
        found[pk] = CardRow(pk, key)
    return found


def _split(joined):
    """_joined's text as its rows' fields, [["3", "2", "ana"], …], in key order."""
    rows = [row.split(FIELD) for row in (joined or "").split(ROW) if row]
    return sorted(rows, key=lambda row: int(row[0]))


def _named(keys, vocabulary):
    """The (slug, name) of each tag whose pk `keys` joins, by name."""
    return sorted((vocabulary[key] for key in (keys or "").split(",") if key in vocabulary), key=lambda tag: tag[1])


# What a page needs of a public card the cache holds: where it goes, where its highlight is, its key.
PublicCardRow = namedtuple("PublicCardRow", "pk provision_id excerpt_id start end card_key cached_card",
                           defaults=[None])


def public_card_rows(annotations, roots):
    """[PublicCardRow] of the queryset `annotations` (published roots), in its order, each keyed on all
    its public card shows: its own row (by version), its author's name, its tags by name, its
    published replies and translation pairs (by key and version) and its assessment as labelled;
    `roots` are the URL prefixes the card links with (treaty_app.views.card_roots)."""
    published = Annotation.objects.published()
    replies = _joined(published.filter(parent=OuterRef("pk")), "parent", "pk", "version", "author__username")
    counterpart = _joined(published.filter(pk=OuterRef("counterpart_id")), "pk", "pk", "version", "language_version_id")
    counterparts = _joined(published.filter(counterpart=OuterRef("pk")), "counterpart", "pk", "version",
                           "language_version_id")
    rows = annotations.with_tag_keys().annotate(
        reply_keys=replies, counterpart_key=counterpart, counterpart_keys=counterparts, author_name=F("author__username"),
    ).values_list("pk", "provision_id", "excerpt_id", "start", "end", "version", "author_name", "assessment",
                  "language_version_id", "tag_keys", "reply_keys", "counterpart_key", "counterpart_keys")
    vocabulary = {str(pk): (slug, name) for pk, slug, name in Tag.objects.values_list("pk", "slug", "name")}
    known = assessments.scheme()
    found = []
    for (pk, provision_id, excerpt_id, start, end, version, author_name, assessment, version_id, tag_keys,
         reply_keys, counterpart_key, counterpart_keys) in rows:
        shown = [
            pk, version, author_name, version_id, sorted(roots.items()), _named(tag_keys, vocabulary),
            _split(reply_keys), assessments.describe(assessment or {}, known),
            _split(counterpart_key) + _split(counterpart_keys),
        ]
        key = hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()
        found.append(PublicCardRow(pk, provision_id, excerpt_id, start, end, key))
    return found
