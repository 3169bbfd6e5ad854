"""Public search: one query over provision wording, commentary excerpts and annotations.

What is searched, and what the visitor may see of it
----------------------------------------------------
* **Provisions** (kind ``wording``): their heading, the wording held (``text``) and, for provisions whose
  wording Glossa does not hold, the commentators' summary. Always public.
* **Commentary excerpts** (kind ``excerpt``): one hit per *approved* link between an excerpt and a
  provision, so an excerpt that discusses two provisions appears under both. Proposed and rejected links
  are never searched, so they count nowhere.
* **Annotations** (kind ``annotation``): their body (Markdown source) and the quoted words (``exact``).
  Each visitor searches what ``Annotation.objects.readable_by(user)`` lets them read (for anonymous
  visitors, the published ones; a reply only with its parent).
  An annotation on an excerpt is listed under each provision the excerpt is approved for; one on an excerpt
  with no approved link has no public place and is not searched.

A *result* is one (provision, item) pair, as listed on the page; the count is the number of such pairs.

Matching and ranking
--------------------
* **PostgreSQL**: full-text search with the ``english`` configuration (stemming, stop words), the query
  read by ``websearch_to_tsquery`` (``"a phrase"``, ``-excluded``, ``or``), ranked by ``ts_rank`` with
  weights that put the provision's own words first: heading and wording ``A`` (1.0), summaries and
  commentary excerpts ``B`` (0.4), annotations ``C`` (0.2). Snippets come from ``ts_headline``.
* **Other databases (SQLite)**: every word of the query must occur (AND), case-insensitively, at the start
  of a word of the item; the query word is lightly stemmed first (``attacks``, ``attacked``, ``attacking``
  all look for words starting ``attack``). ``-word`` excludes; quotes, ``or`` and other operators are
  ignored; a few English stop words are dropped. The score is the number of occurrences of the query words,
  times the same weights as on PostgreSQL. Matching rows are ranked in Python (the fallback reads them all).
* On both, a query of stop words or exclusions alone finds nothing (rather than everything).

Either way each kind is ranked by its score, the kinds are merged, ties go to wording, then excerpts, then
annotations, and at most :data:`MAX_HITS` results are shown. Provision groups are ordered by their best
result; within a group the wording comes first, then the other results best first.

Snippets are HTML built safely: the text is escaped first and ``<mark>`` is inserted only at the places
the matcher chose (on PostgreSQL ``ts_headline`` marks them with random sentinel strings, which are
replaced after escaping).

Filters (each is a slug; an unknown slug matches nothing)
---------------------------------------------------------
* ``provision``: only results listed under provisions with that slug.
* ``source``: only that commentary: its excerpts, and the annotations made on them (with their replies).
  Wording hits and annotations on the wording are left out.
* ``tag``: only annotations with that tag; wording and excerpts are left out.

The number of queries is fixed: it does not grow with the number of hits.
"""

import re
import secrets
from dataclasses import dataclass, field
from functools import reduce
from operator import add, or_

from django.db import connection
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, Value, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from treaty_app.models import ExcerptLink, Provision, Source

from .models import Annotation, Tag

MAX_QUERY_LENGTH = 200
MAX_HITS = 50
SEARCH_CONFIG = "english"

# ts_rank's default weights for the labels A..D, reused by the fallback so that both rank alike.
WEIGHTS = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}
KIND_ORDER = {"wording": 0, "excerpt": 1, "annotation": 2}

# The fields searched for each kind, with their weight label.
WORDING_FIELDS = [("heading", "A"), ("text", "A"), ("summary", "B")]
EXCERPT_FIELDS = [("excerpt__text", "B")]
ANNOTATION_FIELDS = [("exact", "C"), ("body", "C")]
# On PostgreSQL these are stored, weighted alike, in a generated ``search_document`` column
# (migrations annotations 0004 and treaty_app 0005).
STORED_DOCUMENTS = {"treaty_app.Provision": WORDING_FIELDS, "annotations.Annotation": ANNOTATION_FIELDS}


@dataclass
class SearchParams:
    """What the visitor asked for, read from the query string; `error` says why it cannot be run."""

    text: str = ""
    source: str = ""
    tag: str = ""
    provision: str = ""
    error: str = ""

    @classmethod
    def from_querydict(cls, params):
        def clean(name):
            # PostgreSQL refuses NUL characters in strings: drop them before they reach a query.
            return " ".join(params.get(name, "").replace("\x00", "").split())

        found = cls(clean("q"), clean("source"), clean("tag"), clean("provision"))
        if len(found.text) > MAX_QUERY_LENGTH:
            found.error = (
                f"The search is {len(found.text)} characters long: please use at most {MAX_QUERY_LENGTH}."
            )
            found.text = found.text[:MAX_QUERY_LENGTH]  # echoed in the box, to be shortened
        return found

    @property
    def filtered(self):
        return bool(self.source or self.tag or self.provision)


@dataclass
class Hit:
    kind: str  # "wording", "excerpt" or "annotation"
    provision: Provision
    score: float
    pk: int
    url: str
    snippet: str
    item: object  # the Provision, ExcerptLink or Annotation
    quote: str = ""  # annotations: the words annotated, marked

    def sort_key(self):
        provision = self.provision
        return (-self.score, KIND_ORDER[self.kind], provision.treaty_id, provision.position, self.pk)


@dataclass
class Group:
    provision: Provision
    url: str
    hits: list = field(default_factory=list)


@dataclass
class Results:
    total: int = 0
    groups: list = field(default_factory=list)

    @property
    def shown(self):
        return sum(len(group.hits) for group in self.groups)

    @property
    def capped(self):
        return self.shown < self.total


def uses_full_text():
    """True on PostgreSQL, where the search is full-text; False where the portable fallback runs."""
    return connection.vendor == "postgresql"


def visible_annotations(user):
    """The annotations this visitor may read: the one read rule."""
    return Annotation.objects.readable_by(user)


def filter_choices(user):
    """The options of the filter selects: sources, tags used by visible annotations, provisions."""
    tag_used = Exists(
        Annotation.tags.through.objects.filter(tag=OuterRef("pk"), annotation__in=visible_annotations(user))
    )
    return {
        "sources": list(Source.objects.listing().only("slug", "title", "outlet", "capture_name", "author")),
        "tags": list(Tag.objects.filter(tag_used).only("slug", "name")),
        "provisions": list(
            Provision.objects.in_order()
            .select_related("treaty")
            .only("slug", "kind", "number", "position", "heading", "treaty__slug", "treaty__short_title")
        ),
    }


# --- Matching -------------------------------------------------------------------------------------

STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or that the their this to was were with"
    .split()
)
_WORD = re.compile(r"\w+")


def light_stem(word):
    """A regular-expression prefix for a lower-cased word, tolerant of common English endings."""
    if len(word) > 4 and word.endswith("ies"):
        return re.escape(word[:-3]) + "(?:y|ie)"
    for suffix, keep in (("ing", 4), ("ed", 4), ("es", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            if suffix == "es" and not re.search(r"(?:s|x|z|ch|sh)es$", word):
                continue  # "measures" is "measure" + "s", handled next
            if suffix == "s" and word.endswith("ss"):
                break
            return re.escape(word[: -len(suffix)])
    return re.escape(word)


def parse_terms(text):
    """(required, excluded) lists of regular expressions for the fallback matcher."""
    required, excluded = [], []
    for chunk in text.split():
        negated = chunk.startswith("-") and len(chunk) > 1
        for word in _WORD.findall(chunk.lower()):
            (excluded if negated else required).append(word)
    # As PostgreSQL does, ignore stop words: a query of stop words alone finds nothing.
    required = [word for word in required if word not in STOP_WORDS]

    def to_patterns(words):
        return list(dict.fromkeys(rf"\b{light_stem(word)}\w*" for word in words))

    return to_patterns(required), to_patterns(excluded)


def _terms_condition(fields, required, excluded):
    condition = Q()
    for pattern in required:
        condition &= reduce(or_, [Q(**{f"{name}__iregex": pattern}) for name, _ in fields])
    for pattern in excluded:
        condition &= ~reduce(or_, [Q(**{f"{name}__iregex": pattern}) for name, _ in fields])
    return condition


def _value(obj, path):
    """The text at a field path ("excerpt__text") of a row, or a function of the row's result."""
    if callable(path):
        return path(obj) or ""
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj or ""


def highlight(text, pattern, *, before=80, length=260):
    """An escaped snippet of text around the first match of pattern, every match in it wrapped in <mark>."""
    text = " ".join(text.split())
    first = pattern.search(text) if pattern else None
    start = 0
    if first and first.start() > before:
        start = text.rfind(" ", 0, first.start() - before) + 1
    end = len(text)
    if end - start > length:
        end = text.find(" ", start + length)
        end = len(text) if end == -1 else end
    window, parts, position = text[start:end], [], 0
    if pattern:
        for match in pattern.finditer(window):
            parts += [escape(window[position : match.start()]), "<mark>", escape(match.group()), "</mark>"]
            position = match.end()
    parts.append(escape(window[position:]))
    return mark_safe(("… " if start else "") + "".join(parts) + (" …" if end < len(text) else ""))


class FallbackMatcher:
    """Portable matching: every query word, at a word start, case-insensitively; scored in Python."""

    full_text = False

    def __init__(self, text):
        self.required, self.excluded = parse_terms(text)
        self.pattern = (
            re.compile("|".join(f"(?:{p})" for p in self.required), re.IGNORECASE) if self.required else None
        )
        self.empty = not self.required

    def search(self, queryset, fields, snippet_fields, limit):
        """The best `limit` rows as (row, score, {key: snippet}), and the number of rows that match.

        snippet_fields maps a key to the field path (or a function of the row) to make a snippet of."""
        scored = []
        for row in queryset.filter(_terms_condition(fields, self.required, self.excluded)):
            occurrences = [(weight, self.pattern.findall(_value(row, name))) for name, weight in fields]
            scored.append((row, sum(WEIGHTS[weight] * len(found) for weight, found in occurrences)))
        scored.sort(key=lambda pair: (-pair[1], pair[0].pk))
        rows = []
        for row, score in scored[:limit]:
            snippets = {
                key: highlight(_value(row, path), self.pattern) for key, path in snippet_fields.items()
            }
            rows.append((row, score, snippets))
        return rows, len(scored)


class PostgresMatcher:
    """PostgreSQL full-text search: stemmed, ranked by ts_rank, snippets by ts_headline."""

    full_text = True

    def __init__(self, text):
        from django.contrib.postgres.search import SearchQuery

        self.query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        # ts_headline marks matches with these; unpredictable, so no text can forge a <mark>.
        token = secrets.token_hex(8)
        self.start_sel, self.stop_sel = f"glossastart{token}", f"glossastop{token}"
        # As in the fallback, a query of stop words or of exclusions alone finds nothing (not everything).
        self.empty = not parse_terms(text)[0]

    def headline(self, expression):
        from django.contrib.postgres.search import SearchHeadline

        return SearchHeadline(
            expression, self.query, config=SEARCH_CONFIG, start_sel=self.start_sel, stop_sel=self.stop_sel,
            max_words=35, min_words=15, max_fragments=2, fragment_delimiter=" … ",
        )

    def to_html(self, headline):
        """Escape the headline, then turn the sentinels (which escaping leaves alone) into <mark>."""
        html = escape(" ".join((headline or "").split()))
        return mark_safe(html.replace(self.start_sel, "<mark>").replace(self.stop_sel, "</mark>"))

    def search(self, queryset, fields, snippet_fields, limit):
        """The best `limit` rows as (row, rank, {key: snippet}), and the number of rows that match.

        snippet_fields maps a key to the field path (or an expression) to make a headline of.

        Two queries: the first ranks every match but carries only its key, so that tens of thousands
        of matches sort in memory; the second reads the winners whole, with their headlines."""
        from django.contrib.postgres.search import SearchRank, SearchVector, SearchVectorField

        if fields is STORED_DOCUMENTS.get(queryset.model._meta.label):
            # The generated column the migrations add: parsed once per write, found through its GIN index.
            table = connection.ops.quote_name(queryset.model._meta.db_table)
            vector = RawSQL(f"{table}.search_document", [], output_field=SearchVectorField())
        else:
            vector = reduce(
                add, [SearchVector(name, weight=weight, config=SEARCH_CONFIG) for name, weight in fields]
            )
        ranked = list(
            queryset.annotate(search_document=vector)
            .filter(search_document=self.query)
            .annotate(
                search_rank=SearchRank(F("search_document"), self.query),
                # The number of matching rows, counted before the LIMIT: no third query.
                search_total=Window(Count("*")),
            )
            .order_by("-search_rank", "pk")
            .values_list("pk", "search_rank", "search_total")[:limit]
        )
        if not ranked:
            return [], 0
        headlines = {f"search_headline_{key}": self.headline(expr) for key, expr in snippet_fields.items()}
        # A key can rank twice when the queryset yields a row per pair (an annotation under two provisions).
        winners = {}
        for row in queryset.filter(pk__in={pk for pk, _, _ in ranked}).annotate(**headlines):
            winners.setdefault(row.pk, []).append(row)
        rows = []
        for pk, rank, _ in ranked:
            row = winners[pk].pop()
            snippets = {key: self.to_html(getattr(row, f"search_headline_{key}")) for key in snippet_fields}
            rows.append((row, rank, snippets))
        return rows, ranked[0][2]


# --- The search --------------------------------------------------------------------------------------


def annotation_pairs(user):
    """Visible annotations, one row per provision they are listed under (``group_provision_id``).

    Four querysets: the roots on a provision's wording (a row each), the replies to them, the roots on a
    commentary excerpt (a row per approved link of the excerpt) and the replies to those. Apart, each is
    a plain filter PostgreSQL can run on the matches alone; together, an OR over a join or a subquery made
    it read the whole table for every search."""
    visible = visible_annotations(user)
    roots = visible.filter(parent__isnull=True)
    approved = ExcerptLink.State.APPROVED
    links = FilteredRelation("excerpt__links", condition=Q(excerpt__links__state=approved))
    parent_links = FilteredRelation("parent__excerpt__links", condition=Q(parent__excerpt__links__state=approved))

    def replies_to(targets):
        return visible.filter(parent__isnull=False).filter(Exists(targets.filter(pk=OuterRef("parent_id"))))

    return [
        roots.filter(provision__isnull=False).annotate(group_provision_id=F("provision_id")),
        replies_to(roots.filter(provision__isnull=False)).annotate(group_provision_id=F("parent__provision_id")),
        roots.filter(excerpt__isnull=False).annotate(link=links)
        .annotate(group_provision_id=F("link__provision_id")).filter(group_provision_id__isnull=False),
        replies_to(roots.filter(excerpt__isnull=False)).annotate(link=parent_links)
        .annotate(group_provision_id=F("link__provision_id")).filter(group_provision_id__isnull=False),
    ]


def search(params, user, choices, *, limit=MAX_HITS):
    """Run the search described by params for this user; choices are filter_choices(user)."""
    results = Results()
    matcher = (PostgresMatcher if uses_full_text() else FallbackMatcher)(params.text)
    if matcher.empty:
        return results

    provisions = {provision.pk: provision for provision in choices["provisions"]}
    provision_ids = source = tag = None
    if params.provision:
        provision_ids = [pk for pk, provision in provisions.items() if provision.slug == params.provision]
    if params.source:
        source = next((s for s in choices["sources"] if s.slug == params.source), None)
    if params.tag:
        tag = next((t for t in choices["tags"] if t.slug == params.tag), None)
    if (params.provision and not provision_ids) or (params.source and not source) or (params.tag and not tag):
        return results  # an unknown filter value matches nothing

    hits, total = [], 0
    urls = {}

    def provision_url(provision):
        if provision.pk not in urls:
            urls[provision.pk] = provision.get_absolute_url()
        return urls[provision.pk]

    # Wording, heading and summary of the provisions.
    if not (source or tag):
        queryset = Provision.objects.only("pk", "heading", "text", "summary", "treaty", "position")
        if provision_ids is not None:
            queryset = queryset.filter(pk__in=provision_ids)
        # The wording held, or the summary when no wording is held.
        if matcher.full_text:
            snippet_fields = {"text": Coalesce(NullIf(F("text"), Value("")), F("summary"))}
        else:
            snippet_fields = {"text": lambda row: row.text or row.summary}
        rows, count = matcher.search(queryset, WORDING_FIELDS, snippet_fields, limit)
        total += count
        for row, score, snippets in rows:
            provision = provisions.get(row.pk)
            if provision is None:  # created since the choices were read
                continue
            url = provision_url(provision)
            hits.append(Hit("wording", provision, score, row.pk, url, snippets["text"], row))

    # Commentary excerpts, through their approved links.
    if not tag:
        queryset = (
            ExcerptLink.objects.approved()
            .select_related("excerpt__source")
            .defer("excerpt__source__body", "excerpt__source__capture", "excerpt__source__notes")
        )
        if provision_ids is not None:
            queryset = queryset.filter(provision_id__in=provision_ids)
        if source:
            queryset = queryset.filter(excerpt__source=source)
        rows, count = matcher.search(queryset, EXCERPT_FIELDS, {"text": "excerpt__text"}, limit)
        total += count
        for row, score, snippets in rows:
            provision = provisions.get(row.provision_id)
            if provision is None:  # created since the choices were read
                continue
            url = f"{provision_url(provision)}#excerpt-{row.excerpt_id}"
            hits.append(Hit("excerpt", provision, score, row.excerpt_id, url, snippets["text"], row))

    # Annotations and replies.
    for queryset in annotation_pairs(user):
        queryset = (
            queryset.select_related("author")
            .prefetch_related("tags")
            .defer("body_html", "anchored_text", "prefix", "suffix")
        )
        if provision_ids is not None:
            queryset = queryset.filter(group_provision_id__in=provision_ids)
        if source:
            queryset = queryset.filter(Q(excerpt__source=source) | Q(parent__excerpt__source=source))
        if tag:
            tagged = Annotation.tags.through.objects.filter(annotation=OuterRef("pk"), tag=tag)
            queryset = queryset.filter(Exists(tagged))
        snippet_fields = {"body": "body", "exact": "exact"}
        rows, count = matcher.search(queryset, ANNOTATION_FIELDS, snippet_fields, limit)
        total += count
        for row, score, snippets in rows:
            provision = provisions.get(row.group_provision_id)
            if provision is None:  # created since the choices were read
                continue
            if row.visibility == Annotation.Visibility.PUBLIC:
                base = provision_url(provision)
            else:  # only the workspace shows team and private annotations
                base = reverse("annotations:workspace", args=[provision.treaty.slug, provision.slug])
            url = f"{base}#annotation-{row.pk}"
            quote = snippets["exact"] if row.exact else ""
            hits.append(Hit("annotation", provision, score, row.pk, url, snippets["body"], row, quote=quote))

    results.total = total
    groups = {}
    for hit in sorted(hits, key=Hit.sort_key)[:limit]:
        if hit.provision.pk not in groups:
            groups[hit.provision.pk] = Group(hit.provision, provision_url(hit.provision))
        groups[hit.provision.pk].hits.append(hit)
    for group in groups.values():
        group.hits.sort(key=lambda hit: (hit.kind != "wording", hit.sort_key()))
    results.groups = list(groups.values())
    return results
