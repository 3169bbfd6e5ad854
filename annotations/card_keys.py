"""The key of each annotation card, from two light queries: a digest of everything the card shows its viewer.

A card is rendered once per key and then comes from the "cards" cache (the workspace's and the
public pages' ``{% cache … annotation.card_key %}``). Reading model instances with their tags, replies and
translation pairs only to learn that a card is cached cost 36 ms for a page of 50 workspace
cards at 100,000 annotations; the key needs only each note's row and the keys and versions of what
hangs off it (its replies and translation pairs), read for all the notes at once through their
indexes. Instances are then read for the cards the cache does not hold. (What hangs off was first
read by correlated subqueries in the notes' query: built and compiled anew for every page, they were
6 ms of ORM work at 50 cards, more than both queries now take.)

Every write of an annotation goes through writes.py, which moves its `version` on: a note's own
fields (body, quote, review, visibility, placement, assessment, revision) are in the key through
it. What a card shows of other rows is in the key by those rows' keys and versions (replies and
translation pairs the viewer may read) or by their shown values (tag names, author names, the
assessment scheme's labels), since renaming them touches no annotation.
"""

import hashlib
from collections import defaultdict, namedtuple
from operator import attrgetter

from django.db.models import Q

from . import assessments
from .models import Annotation, Tag, tag_keys_in

# A workspace card by its key and, once found in the cache, the fragment itself (`cached_card`, else
# None): the whole <li>, so a page shows a cached card without rendering anything of it.
CardRow = namedtuple("CardRow", "pk card_key cached_card", defaults=[None])

class ShownTag(namedtuple("ShownTag", "slug name")):
    """A tag as a card shows it; a card's tags come by their keys from the request's vocabulary of these.

    Digested (cards' keys, the JSON-LD's runs) by its repr, which is a plain pair's: a namedtuple's
    own repr, with its field names, made a run of 100 JSON-LD items 2.4 times as long to digest."""

    __slots__ = ()
    __repr__ = tuple.__repr__


def shown_vocabulary(tags):
    """{pk as text: ShownTag} of `tags` (Tag instances or the vocabulary's rows, Tag.objects.vocabulary)."""
    return {str(tag.pk): ShownTag(tag.slug, tag.name) for tag in tags}


def named_tags(keys, vocabulary):
    """The ShownTag of each tag whose pk `keys` joins ("3,7"), by name; a key the vocabulary lacks (a
    tag deleted since the row was read) is left out."""
    return sorted((vocabulary[key] for key in tag_keys_in(keys) if key in vocabulary), key=attrgetter("name"))


def _digest(shown):
    return hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()


def _hanging_off(readable, rows):
    """What hangs off the notes of `rows` ((pk, counterpart_id) pairs) among the `readable` queryset,
    in one query: ({pk: [reply, …]}, {pk: [pair, …]}), each reply (pk, version, author_id, username)
    and each pair (pk, version, language_version_id), in key order. A note's pairs are its counterpart
    and the notes that name it as theirs."""
    keys = [pk for pk, _ in rows]
    counterparts = {pk: counterpart for pk, counterpart in rows if counterpart is not None}
    related = readable.filter(
        Q(parent__in=keys) | Q(counterpart__in=keys) | Q(pk__in=set(counterparts.values()))
    ).order_by("pk").values_list("pk", "version", "author_id", "author__username", "parent_id", "counterpart_id",
                                 "language_version_id")
    replies, pairs = defaultdict(list), defaultdict(list)
    by_key = {}
    for pk, version, author_id, username, parent_id, counterpart_id, version_id in related:
        by_key[pk] = (pk, version, version_id)
        if parent_id is not None:
            replies[parent_id].append((pk, version, author_id, username))
        if counterpart_id is not None:
            pairs[counterpart_id].append((pk, version, version_id))
    for pk, counterpart in counterparts.items():
        if counterpart in by_key:
            pairs[pk].append(by_key[counterpart])
    return replies, pairs


def card_rows(annotations, user, *, can_hide, filters, tags, here, readable):
    """{pk: CardRow} of the queryset `annotations` as workspace cards show them to `user` (who may
    hide others' notes if `can_hide`, through `filters`, whose query their links keep) on the
    workspace at the URL `here`, which their tag links name; `tags` is the tag vocabulary and
    `readable` the notes `user` may read (``readable_by``), among which their replies and pairs are."""
    rows = list(
        annotations.order_by().with_tag_keys("revision_tags", "revision_tag_keys")
        .values_list("pk", "version", "placement", "review", "author_id", "author__username", "assessment",
                     "revision_assessment", "tag_keys", "revision_tag_keys", "counterpart_id")
    )
    replies, pairs = _hanging_off(readable, [(row[0], row[-1]) for row in rows])
    vocabulary = shown_vocabulary(tags)
    known = assessments.scheme()
    found = {}
    for (pk, version, placement, review, author_id, author_name, assessment, revision_assessment, tag_keys,
         revision_tag_keys, _counterpart) in rows:
        shown = [
            pk, version, placement, review, author_name, named_tags(tag_keys, vocabulary),
            named_tags(revision_tag_keys, vocabulary),
            [(reply_pk, reply_version, username, reply_author == user.pk)
             for reply_pk, reply_version, reply_author, username in replies[pk]],
            author_id == user.pk, can_hide, filters.query, here,
            assessments.describe(assessment or {}, known), assessments.describe(revision_assessment or {}, known),
            sorted(pairs[pk]),
        ]
        found[pk] = CardRow(pk, _digest(shown))
    return found


# What a page needs of a public card the cache holds: where it goes, where its highlight is, its key.
PublicCardRow = namedtuple("PublicCardRow", "pk provision_id excerpt_id start end card_key cached_card",
                           defaults=[None])


def public_card_rows(annotations, roots):
    """[PublicCardRow] of the queryset `annotations` (published roots), in its order, each keyed on all
    its public card shows: its own row (by version), its author's name, its tags by name, its
    published replies and translation pairs (by key and version) and its assessment as labelled;
    `roots` are the URL prefixes the card links with (treaty_app.views.card_roots)."""
    rows = list(annotations.values_list(
        "pk", "provision_id", "excerpt_id", "start", "end", "version", "author__username", "assessment",
        "language_version_id", "tag_keys", "counterpart_id",
    ))
    replies, pairs = _hanging_off(Annotation.objects.published(), [(row[0], row[-1]) for row in rows])
    vocabulary = shown_vocabulary(Tag.objects.vocabulary())
    known = assessments.scheme()
    found = []
    for (pk, provision_id, excerpt_id, start, end, version, author_name, assessment, version_id, tag_keys,
         _counterpart) in rows:
        shown = [
            pk, version, author_name, version_id, sorted(roots.items()), named_tags(tag_keys, vocabulary),
            [(reply_pk, reply_version, username) for reply_pk, reply_version, _author, username in replies[pk]],
            assessments.describe(assessment or {}, known), sorted(pairs[pk]),
        ]
        found.append(PublicCardRow(pk, provision_id, excerpt_id, start, end, _digest(shown)))
    return found
