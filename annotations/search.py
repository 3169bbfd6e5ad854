"""Public search: one query over provision wording, its language versions, commentary excerpts and annotations.

What is searched, and what the visitor may see of it
----------------------------------------------------
* **Provisions** (kind ``wording``): their heading, the wording held (``text``) and, for provisions whose
  wording Glossa does not hold, the commentators' summary. Always public.
* **Language versions** (kind ``version``): the wording of each other language version of a provision
  (``LanguageVersion.text``), each language searched with its own rules (below); the hit says which
  version it is in and links to that version's page.
* **Commentary excerpts** (kind ``excerpt``): each excerpt with at least one *approved* link to a
  provision, once. Proposed and rejected links are never searched, so they count nowhere.
* **Annotations** (kind ``annotation``): their body and the quoted words (``exact``). Each visitor searches
  what ``Annotation.objects.readable_by(user)`` lets them read (for anonymous visitors, the published ones;
  a reply only with its parent). An annotation on an excerpt with no approved link has no public place
  and is not searched.

Each hit is listed once, under one provision: its own, or for an excerpt (and an annotation on one) the
first provision, in treaty order, that the excerpt is approved for, among those the ``provision`` filter
allows; the other provisions are named with it (``Hit.also``). The count is the number of hits.

Matching and ranking
--------------------
* **PostgreSQL**: full-text search, the query read by ``websearch_to_tsquery`` (``"a phrase"``,
  ``-excluded``, ``or``), ranked by ``ts_rank`` with weights that put the provision's own words first:
  heading, wording and language versions ``A`` (1.0), summaries and commentary excerpts ``B`` (0.4),
  annotations ``C`` (0.2). Glossa's own text is searched with the ``english`` configuration; a language
  version with the configuration of its language (:func:`search_config`: ``russian`` for ``ru``,
  ``simple`` for Korean and for any language PostgreSQL has no stemmer for).
* **Other databases (SQLite)**: every word of the query must occur (AND), case-insensitively, at the start
  of a word of the item; the query word is stemmed first, in English lightly (``attacks``, ``attacked``,
  ``attacking`` all look for words starting ``attack``) and in the other languages PostgreSQL stems with
  the same Snowball stemmer (``агрессия`` looks for ``агресс``). ``-word`` excludes; quotes, ``or`` and
  other operators are ignored; a few English stop words are dropped. The score is the number of
  occurrences of the query words, times the same weights as on PostgreSQL. Matching rows are ranked in
  Python (the fallback reads them all).
* On both, a query of stop words or exclusions alone finds nothing (rather than everything).

Either way each kind is ranked by its score, the kinds are merged, ties go to wording, then language
versions, excerpts, annotations, and at most :data:`MAX_HITS` results are shown. Provision groups are
ordered by their best result; within a group the wording comes first, then the other results best first.

Snippets are HTML built safely from plain text: an annotation's Markdown is rendered and its text taken
(:func:`annotations.sanitize.plain_text`), so no Markdown or markup shows; the text is escaped first and
``<mark>`` is inserted only at the places the matcher chose (on PostgreSQL ``ts_headline`` marks them with
random sentinel strings, which are replaced after escaping).

Filters (each is a slug; an unknown slug matches nothing)
---------------------------------------------------------
* ``provision``: only results listed under provisions with that slug.
* ``source``: only that commentary: its excerpts, and the annotations made on them (with their replies).
  Wording hits and annotations on the wording are left out.
* ``tag``: only annotations with that tag; wording and excerpts are left out.

Facets: beside the results, each filter's options with the number of results choosing it would give (the
query and the *other* filters applied), so a visitor sees where the hits are before narrowing.

The number of queries is fixed: it grows neither with the number of hits nor with the annotations.
"""

import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from operator import add, or_

import snowballstemmer
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from treaty_app.models import Excerpt, ExcerptLink, LanguageVersion, Provision, Source

from .card_keys import named_tags, shown_vocabulary
from .models import Annotation, Tag
from .sanitize import plain_text

MAX_QUERY_LENGTH = 200
MAX_HITS = 50
SEARCH_CONFIG = "english"  # Glossa's own text: headings, wording, summaries, commentary, annotations

# PostgreSQL's built-in stemming configurations, by the primary language subtag; the rest use "simple".
POSTGRES_CONFIGS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}

# Facet counts asked of a search: (columns, groupings), see `matches_query`; none by default.
NO_FACETS = ({}, {})
FACET_NAMES = ("provision", "source", "tag")

# ts_rank's default weights for the labels A..D, reused by the fallback so that both rank alike.
WEIGHTS = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}
KIND_ORDER = {"wording": 0, "version": 1, "excerpt": 2, "annotation": 3}

# The fields searched for each kind, with their weight label.
WORDING_FIELDS = [("heading", "A"), ("text", "A"), ("summary", "B")]
VERSION_FIELDS = [("text", "A")]
EXCERPT_FIELDS = [("text", "B")]
ANNOTATION_FIELDS = [("exact", "C"), ("body", "C")]
# On PostgreSQL these are stored, weighted alike, in a generated ``search_document`` column
# (migrations annotations 0004 and treaty_app 0005).
STORED_DOCUMENTS = {"treaty_app.Provision": WORDING_FIELDS, "annotations.Annotation": ANNOTATION_FIELDS}


def search_config(language):
    """The PostgreSQL text-search configuration for a BCP 47 tag: ``russian`` for ``ru``, ``simple``
    (no stemming, no stop words) for Korean and any language PostgreSQL has no stemmer for."""
    return POSTGRES_CONFIGS.get(language.split("-")[0].lower(), "simple")


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

    def query_string(self, **changes):
        """The query string of this search with some filters changed (a facet's link)."""
        from django.utils.http import urlencode

        values = {"q": self.text, "provision": self.provision, "source": self.source, "tag": self.tag}
        values.update(changes)
        return urlencode({name: value for name, value in values.items() if value})


@dataclass
class Hit:
    kind: str  # "wording", "version", "excerpt" or "annotation"
    provision: Provision
    score: float
    pk: int
    url: str
    snippet: str
    item: object  # the Provision, LanguageVersion, Excerpt or Annotation
    quote: str = ""  # annotations: the words annotated, marked
    excerpt_id: int | None = None  # on an excerpt: the one it is (or is on), to list it under a provision
    also: list = field(default_factory=list)  # the other provisions an excerpt is approved for

    def sort_key(self):
        provision = self.provision
        return (-self.score, KIND_ORDER[self.kind], provision.treaty_id, provision.position, self.pk)


@dataclass
class Group:
    provision: Provision
    url: str
    hits: list = field(default_factory=list)


@dataclass
class Facet:
    """One filter's options with the number of results each would give; `chosen` is the option in use."""

    name: str  # the query-string parameter
    label: str
    options: list  # (slug, label, count, query string)
    chosen: str = ""


@dataclass
class Results:
    total: int = 0
    groups: list = field(default_factory=list)
    facets: list = field(default_factory=list)

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


@lru_cache(maxsize=None)
def _snowball(config):
    """The Snowball stemmer PostgreSQL's configuration of that name uses, or None (``simple``)."""
    if config == "simple" or config not in snowballstemmer.algorithms():
        return None
    return snowballstemmer.stemmer(config)


def stem_pattern(word, config=SEARCH_CONFIG):
    """A regular-expression prefix that finds the word's inflected forms, under a configuration's rules."""
    if config == "english":
        return light_stem(word)
    stemmer = _snowball(config)
    return re.escape(stemmer.stemWord(word) if stemmer else word)


def parse_terms(text, config=SEARCH_CONFIG):
    """(required, excluded) lists of regular expressions for the fallback matcher."""
    required, excluded = [], []
    for chunk in text.split():
        negated = chunk.startswith("-") and len(chunk) > 1
        for word in _WORD.findall(chunk.lower()):
            (excluded if negated else required).append(word)
    # As PostgreSQL does, ignore stop words: a query of stop words alone finds nothing.
    required = [word for word in required if word not in STOP_WORDS]

    def to_patterns(words):
        # A word starts after anything but a letter or digit: "_zeppelins_" (Markdown emphasis) counts.
        return list(dict.fromkeys(rf"(?<![^\W_]){stem_pattern(word, config)}\w*" for word in words))

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
    """Portable matching: every query word, stemmed, at a word start, case-insensitively; scored in Python."""

    full_text = False

    def __init__(self, text, config=SEARCH_CONFIG):
        self.required, self.excluded = parse_terms(text, config)
        self.pattern = (
            re.compile("|".join(f"(?:{p})" for p in self.required), re.IGNORECASE) if self.required else None
        )
        self.empty = not self.required

    def matching(self, queryset, fields):
        return queryset.filter(_terms_condition(fields, self.required, self.excluded))

    def search(self, queryset, fields, snippet_fields, limit, facets=NO_FACETS):
        """The best `limit` rows as (row, score, {key: snippet}), the number of rows that match, and the
        facet counts asked for (see `count_groups`).

        snippet_fields maps a key to the field path (or a function of the row) giving the plain text to
        make a snippet of."""
        counts = count_groups(self, queryset, fields, *facets)
        scored = []
        for row in self.matching(queryset, fields):
            occurrences = [(weight, self.pattern.findall(_value(row, name))) for name, weight in fields]
            scored.append((row, sum(WEIGHTS[weight] * len(found) for weight, found in occurrences)))
        scored.sort(key=lambda pair: (-pair[1], pair[0].pk))
        rows = []
        for row, score in scored[:limit]:
            snippets = {
                key: highlight(_value(row, path), self.pattern) for key, path in snippet_fields.items()
            }
            rows.append((row, score, snippets))
        return rows, len(scored), counts


class PostgresMatcher:
    """PostgreSQL full-text search: stemmed, ranked by ts_rank, snippets by ts_headline."""

    full_text = True

    def __init__(self, text, config=SEARCH_CONFIG):
        from django.contrib.postgres.search import SearchQuery

        self.text, self.config = text, config
        self.query = SearchQuery(text, search_type="websearch", config=config)
        # ts_headline marks matches with these; unpredictable, so no text can forge a <mark>.
        token = secrets.token_hex(8)
        self.start_sel, self.stop_sel = f"glossastart{token}", f"glossastop{token}"
        # As in the fallback, a query of stop words or of exclusions alone finds nothing (not everything).
        self.empty = not parse_terms(text, config)[0]

    def to_html(self, headline):
        """Escape the headline, then turn the sentinels (which escaping leaves alone) into <mark>."""
        html = escape(" ".join((headline or "").split()))
        return mark_safe(html.replace(self.start_sel, "<mark>").replace(self.stop_sel, "</mark>"))

    def headlines(self, texts):
        """ts_headline of each plain text, in one query, in order."""
        if not texts:
            return []
        options = (
            f"StartSel={self.start_sel}, StopSel={self.stop_sel}, MaxWords=35, MinWords=15, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ts_headline(%s::regconfig, t, websearch_to_tsquery(%s::regconfig, %s), %s) "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
                [self.config, self.config, self.text, options, list(texts)],
            )
            return [self.to_html(headline) for (headline,) in cursor.fetchall()]

    def _vector(self, queryset, fields):
        from django.contrib.postgres.search import SearchVector, SearchVectorField

        if self.config == SEARCH_CONFIG and fields is STORED_DOCUMENTS.get(queryset.model._meta.label):
            # The generated column the migrations add: parsed once per write, found through its GIN index.
            table = connection.ops.quote_name(queryset.model._meta.db_table)
            return RawSQL(f"{table}.search_document", [], output_field=SearchVectorField())
        return reduce(add, [SearchVector(name, weight=weight, config=self.config) for name, weight in fields])

    def matching(self, queryset, fields):
        return queryset.annotate(search_document=self._vector(queryset, fields)).filter(search_document=self.query)

    def search(self, queryset, fields, snippet_fields, limit, facets=NO_FACETS):
        """The best `limit` rows as (row, rank, {key: snippet}), the number of rows that match, and the
        facet counts asked for (see `count_groups`).

        snippet_fields maps a key to the field path (or a function of the row) giving the plain text to
        make a headline of.

        Three queries: the first finds the matches once and from them ranks (carrying only the keys, so
        that tens of thousands of matches sort in memory), counts, and counts the facets; the second reads
        the winners whole; the third makes their headlines."""
        from django.contrib.postgres.search import SearchRank

        columns, groupings = facets
        ranked = self.matching(queryset, fields).annotate(facet_rank=SearchRank(F("search_document"), self.query))
        parts = [
            ("(SELECT 'rank', id, rank::float8 FROM m ORDER BY rank DESC, id LIMIT %s)", [limit]),
            ("SELECT 'total', NULL, COUNT(*)::float8 FROM m", []),
        ]
        found = matches_query(ranked, {"rank": "facet_rank", **columns}, parts, groupings)
        top = sorted(((key, rank) for facet, key, rank in found if facet == "rank"), key=lambda pair: (-pair[1], pair[0]))
        total = next(int(value) for facet, _, value in found if facet == "total")
        counts = facet_counts(found, groupings)
        if not top:
            return [], 0, counts
        winners = {row.pk: row for row in queryset.filter(pk__in={pk for pk, _ in top})}
        rows = [(winners[pk], rank) for pk, rank in top if pk in winners]
        texts = [_value(row, path) for row, _ in rows for path in snippet_fields.values()]
        headlines = iter(self.headlines(texts))
        return [(row, rank, {key: next(headlines) for key in snippet_fields}) for row, rank in rows], total, counts


def make_matcher(text, config=SEARCH_CONFIG):
    return (PostgresMatcher if uses_full_text() else FallbackMatcher)(text, config)


def matches_query(matched, columns, parts, groupings):
    """Run one statement over the rows of ``matched`` (a queryset of matches) as ``m``: the SQL parts
    given, then a ``GROUP BY`` for each facet grouping. Rows are (what, key, value).

    columns names what each matching row carries besides its key ``m.id`` (``{"prov": "provision_id"}``);
    groupings maps a facet to (its key's SQL, the rows it counts: ``m``, ``m`` with a join, or any FROM
    clause over ``m``). The matches are found once (a materialised common table expression), whatever
    the number of parts."""
    names = {f"facet_{name}": F(path) for name, path in {"id": "pk", **columns}.items()}
    sql, params = matched.annotate(**names).values_list(*names).order_by().query.sql_with_params()
    parts = list(parts) + [
        (f"SELECT %s, {key}, COUNT(*) FROM {counted} GROUP BY {key}", [facet])
        for facet, (key, counted) in groupings.items()
    ]
    statement = f"WITH m ({', '.join(['id', *columns])}) AS MATERIALIZED ({sql}) " + " UNION ALL ".join(
        part for part, _ in parts
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *(value for _, values in parts for value in values)])
        return cursor.fetchall()


def facet_counts(rows, groupings):
    counts = {facet: {} for facet in groupings}
    for facet, key, count in rows:
        if facet in counts and key is not None:
            counts[facet][key] = int(count)
    return counts


def count_groups(matcher, queryset, fields, columns, groupings):
    """{facet: {key: count}} over the rows of queryset that match, every grouping in one query."""
    if not groupings:
        return {}
    return facet_counts(matches_query(matcher.matching(queryset, fields), columns, [], groupings), groupings)


def _links_join():
    """A facet join from ``m.exc`` (an excerpt) to its approved links: one row per provision it discusses."""
    table = connection.ops.quote_name(ExcerptLink._meta.db_table)
    approved = ExcerptLink.State.APPROVED.value.replace("'", "")
    return f"JOIN {table} l ON l.excerpt_id = m.exc AND l.state = '{approved}'"


def _tags_join():
    table = connection.ops.quote_name(Annotation.tags.through._meta.db_table)
    return f"JOIN {table} t ON t.annotation_id = m.id"


# --- What is searched ------------------------------------------------------------------------------


@dataclass
class Scope:
    """The filters, resolved: provision keys (or None for all), a Source, a Tag."""

    provision_ids: list | None = None
    source: Source | None = None
    tag: Tag | None = None

    @property
    def wording(self):
        """Wording and language versions are searched only without a source or tag filter."""
        return not (self.source or self.tag)


def approved_link_to(excerpt, scope):
    """An approved link of the excerpt (an OuterRef) to a provision the scope allows."""
    links = ExcerptLink.objects.approved().filter(excerpt=excerpt)
    if scope.provision_ids is not None:
        links = links.filter(provision_id__in=scope.provision_ids)
    return Exists(links)


def excerpts_in(scope):
    queryset = Excerpt.objects.filter(approved_link_to(OuterRef("pk"), scope))
    if scope.source:
        queryset = queryset.filter(source=scope.source)
    return queryset


def annotation_sets(user, scope):
    """Visible annotations in the scope, each once, as (what, queryset) pairs.

    Four querysets: the roots on a provision's wording (``wording-notes``), the replies to them
    (``wording-replies``), the roots on a commentary excerpt with an approved link (``excerpt-notes``) and the
    replies to those (``excerpt-replies``). Apart, each is a plain filter PostgreSQL can run on the
    matches alone; together, an OR over a join or a subquery made it read the whole table for every
    search. Rows on an excerpt carry ``group_excerpt_id``, to be listed under one of its provisions;
    the others ``group_provision_id``. A source filter leaves only the two on excerpts."""
    roots = Annotation.objects.readable_by(user, roots=True)

    def replies_to(targets):
        return Annotation.objects.replies_readable_by(user, targets)

    def parents(field):
        # The parent's column by its key, row by row: a join to the parent (F("parent__…")) made
        # PostgreSQL merge with the whole table's key index (57 ms at 100,000) for 2,400 replies.
        return Subquery(Annotation.objects.filter(pk=OuterRef("parent_id")).order_by().values(field)[:1])

    on_wording, on_excerpts = roots.filter(provision__isnull=False), roots.filter(excerpt__isnull=False)
    sets = {
        "wording-notes": on_wording.annotate(group_provision_id=F("provision_id")),
        "wording-replies": replies_to(on_wording).annotate(group_provision_id=parents("provision_id")),
        "excerpt-notes": on_excerpts.filter(approved_link_to(OuterRef("excerpt_id"), scope))
        .annotate(group_excerpt_id=F("excerpt_id")),
        "excerpt-replies": replies_to(on_excerpts).filter(approved_link_to(OuterRef("parent__excerpt_id"), scope))
        .annotate(group_excerpt_id=parents("excerpt_id")),
    }
    if scope.provision_ids is not None:
        sets["wording-notes"] = sets["wording-notes"].filter(provision_id__in=scope.provision_ids)
        sets["wording-replies"] = sets["wording-replies"].filter(parent__provision_id__in=scope.provision_ids)
    if scope.source:
        sets = {
            "excerpt-notes": sets["excerpt-notes"].filter(excerpt__source=scope.source),
            "excerpt-replies": sets["excerpt-replies"].filter(parent__excerpt__source=scope.source),
        }
    if scope.tag:
        tagged = Annotation.tags.through.objects.filter(annotation=OuterRef("pk"), tag=scope.tag)
        sets = {what: queryset.filter(Exists(tagged)) for what, queryset in sets.items()}
    return list(sets.items())


def language_configs():
    """{configuration: [language tags]} of the language versions held: one search each."""
    configs = {}
    for language in LanguageVersion.objects.order_by().values_list("language", flat=True).distinct():
        configs.setdefault(search_config(language), []).append(language)
    return dict(sorted(configs.items()))


# --- The search --------------------------------------------------------------------------------------


def resolve(params, choices):
    """The Scope of the filters, or None when one names nothing (an unknown slug matches nothing)."""
    scope = Scope()
    if params.provision:
        scope.provision_ids = [p.pk for p in choices["provisions"] if p.slug == params.provision]
        if not scope.provision_ids:
            return None
    if params.source:
        scope.source = next((s for s in choices["sources"] if s.slug == params.source), None)
        if scope.source is None:
            return None
    if params.tag:
        scope.tag = next((t for t in choices["tags"] if t.slug == params.tag), None)
        if scope.tag is None:
            return None
    return scope


def search(params, user, choices, *, limit=MAX_HITS):
    """Run the search described by params for this user; choices are filter_choices(user)."""
    results = Results()
    matcher = make_matcher(params.text)
    scope = resolve(params, choices)
    if matcher.empty or scope is None:
        return results
    provisions = {provision.pk: provision for provision in choices["provisions"]}
    configs = language_configs()
    hits, total = [], 0
    urls = {}
    # The facets whose scope is the search's own are counted by the search's own queries.
    plan = facet_scopes(params, choices)
    shared = plan.pop(scope_key(scope), (scope, set()))[1]
    counts = {name: {} for name in FACET_NAMES}

    def provision_url(provision):
        if provision.pk not in urls:
            urls[provision.pk] = provision.get_absolute_url()
        return urls[provision.pk]

    if scope.wording:
        # Heading, wording and summary of the provisions: the wording held, or the summary when none is.
        queryset = Provision.objects.only("pk", "heading", "text", "summary", "treaty", "position")
        if scope.provision_ids is not None:
            queryset = queryset.filter(pk__in=scope.provision_ids)
        snippet_fields = {"text": lambda row: row.text or row.summary}
        rows, count, found = matcher.search(
            queryset, WORDING_FIELDS, snippet_fields, limit, facet_groupings("wording", shared)
        )
        total += count
        add_counts(counts, found)
        for row, score, snippets in rows:
            if (provision := provisions.get(row.pk)) is not None:  # None: created since the choices were read
                hits.append(Hit("wording", provision, score, row.pk, provision_url(provision), snippets["text"], row))

        # The language versions, each language with its own rules.
        for config, languages in configs.items():
            queryset = LanguageVersion.objects.filter(language__in=languages).only(
                "pk", "provision", "language", "status", "text"
            )
            if scope.provision_ids is not None:
                queryset = queryset.filter(provision_id__in=scope.provision_ids)
            language_matcher = make_matcher(params.text, config)
            if language_matcher.empty:
                continue
            rows, count, found = language_matcher.search(
                queryset, VERSION_FIELDS, {"text": "text"}, limit, facet_groupings("version", shared)
            )
            total += count
            add_counts(counts, found)
            for row, score, snippets in rows:
                if (provision := provisions.get(row.provision_id)) is not None:
                    url = reverse(
                        "reader:provision-language", args=[provision.treaty.slug, provision.slug, row.language]
                    ) + "#wording"
                    hits.append(Hit("version", provision, score, row.pk, url, snippets["text"], row))

    if not scope.tag:
        # Commentary excerpts with an approved link.
        queryset = excerpts_in(scope).select_related("source").defer("source__body", "source__capture", "source__notes")
        rows, count, found = matcher.search(
            queryset, EXCERPT_FIELDS, {"text": "text"}, limit, facet_groupings("excerpt", shared)
        )
        total += count
        add_counts(counts, found)
        for row, score, snippets in rows:
            hits.append(Hit("excerpt", None, score, row.pk, "", snippets["text"], row, excerpt_id=row.pk))

    # A hit's tags are named from its stored keys (a prefetch was a query for each kind of hit): each is
    # a tag some visible annotation uses, the hit itself, so `choices` holds it.
    vocabulary = shown_vocabulary(choices["tags"])
    for what, queryset in annotation_sets(user, scope):
        queryset = queryset.select_related("author").defer("anchored_text", "prefix", "suffix")
        snippet_fields = {"body": lambda row: plain_text(row.body_html), "exact": "exact"}
        rows, count, found = matcher.search(
            queryset, ANNOTATION_FIELDS, snippet_fields, limit, facet_groupings(what, shared)
        )
        total += count
        add_counts(counts, found)
        for row, score, snippets in rows:
            quote = snippets["exact"] if row.exact else ""
            excerpt_id = getattr(row, "group_excerpt_id", None)
            provision = None if excerpt_id else provisions.get(row.group_provision_id)
            if provision is None and not excerpt_id:
                continue  # created since the choices were read
            row.shown_tags = named_tags(row.tag_keys, vocabulary)
            hits.append(Hit("annotation", provision, score, row.pk, "", snippets["body"], row, quote, excerpt_id))

    _place_under_provisions(hits, provisions, scope)
    for hit in hits:
        if hit.url or hit.provision is None:
            continue
        base = provision_url(hit.provision)
        if hit.kind == "excerpt":
            hit.url = f"{base}#excerpt-{hit.pk}"
        elif hit.item.visibility == Annotation.Visibility.PUBLIC:
            hit.url = f"{base}#annotation-{hit.pk}"
        else:  # only the workspace shows team and private annotations
            hit.url = reverse("annotations:workspace", args=[hit.provision.treaty.slug, hit.provision.slug]) + (
                f"#annotation-{hit.pk}"
            )

    results.total = total
    groups = {}
    for hit in sorted((hit for hit in hits if hit.provision), key=Hit.sort_key)[:limit]:
        if hit.provision.pk not in groups:
            groups[hit.provision.pk] = Group(hit.provision, provision_url(hit.provision))
        groups[hit.provision.pk].hits.append(hit)
    for group in groups.values():
        group.hits.sort(key=lambda hit: (hit.kind != "wording", hit.sort_key()))
    results.groups = list(groups.values())
    for other_scope, names in plan.values():
        add_counts(counts, count_facets(matcher, params.text, user, other_scope, names, configs))
    results.facets = facets(params, choices, counts)
    return results


def _place_under_provisions(hits, provisions, scope):
    """List each hit on an excerpt under the first provision (in treaty order) the excerpt is approved
    for and the scope allows; name the others in ``also``. One query for all of them."""
    excerpt_ids = {hit.excerpt_id for hit in hits if hit.excerpt_id}
    if not excerpt_ids:
        return
    order = {pk: index for index, pk in enumerate(provisions)}
    linked = {}
    for excerpt_id, provision_id in ExcerptLink.objects.approved().filter(excerpt_id__in=excerpt_ids).values_list(
        "excerpt_id", "provision_id"
    ):
        if provision_id in provisions:
            linked.setdefault(excerpt_id, []).append(provision_id)
    allowed = None if scope.provision_ids is None else set(scope.provision_ids)
    for hit in hits:
        if not hit.excerpt_id:
            continue
        linked_ids = sorted(linked.get(hit.excerpt_id, []), key=order.get)
        listed = [pk for pk in linked_ids if allowed is None or pk in allowed]
        if not listed:  # its links changed since it was found
            continue
        hit.provision = provisions[listed[0]]
        hit.also = [provisions[pk] for pk in linked_ids if pk != listed[0]]


# --- Facets ----------------------------------------------------------------------------------------


def scope_key(scope):
    return (
        None if scope.provision_ids is None else tuple(scope.provision_ids),
        scope.source and scope.source.pk,
        scope.tag and scope.tag.pk,
    )


def facet_scopes(params, choices):
    """{scope key: (Scope, {facet names})}: each facet counts with the other filters kept and its own
    left out; facets with the same scope (with no filter, all three) are counted together."""
    wanted = {
        "provision": SearchParams(params.text, params.source, params.tag),
        "source": SearchParams(params.text, tag=params.tag, provision=params.provision),
        "tag": SearchParams(params.text, params.source, provision=params.provision),
    }
    plan = {}
    for name, facet_params in wanted.items():
        if (name == "source" and not choices["sources"]) or (name == "tag" and not choices["tags"]):
            continue  # no options to count
        if (scope := resolve(facet_params, choices)) is not None:
            plan.setdefault(scope_key(scope), (scope, set()))[1].add(name)
    return plan


def facet_groupings(kind, names):
    """The (columns, groupings) that count the facets `names` over matches of one kind: ``wording``,
    ``version``, ``excerpt`` or one of `annotation_sets`'. An excerpt (or a note on one) counts under each
    provision it discusses, as choosing any of them lists it."""
    columns, groupings = {}, {}
    if kind in ("excerpt", "excerpt-notes", "excerpt-replies"):
        columns["exc"] = "pk" if kind == "excerpt" else "group_excerpt_id"
        if "provision" in names:
            groupings["provision"] = ("l.provision_id", f"m {_links_join()}")
        if "source" in names:
            columns["src"] = {"excerpt": "source_id", "excerpt-notes": "excerpt__source_id"}.get(
                kind, "parent__excerpt__source_id"
            )
            groupings["source"] = ("m.src", "m")
    elif "provision" in names:
        columns["prov"] = {"wording": "pk", "version": "provision_id"}.get(kind, "group_provision_id")
        groupings["provision"] = ("m.prov", "m")
    if "tag" in names and kind not in ("wording", "version", "excerpt"):
        if uses_full_text():
            # The matches' tags from their own rows (stored_tags.py), joined into one list and split
            # once: a join to the tag table merged every one of its rows with the matches (17-41 ms
            # for 26,000 matches among 270,000 tag rows), and splitting row by row cost 20 ms.
            columns["tags"] = "tag_keys"
            groupings["tag"] = ("t.tag_id::int", "unnest(string_to_array("
                                "(SELECT string_agg(m.tags, ',') FROM m WHERE m.tags <> ''), ',')) AS t(tag_id)")
        else:
            groupings["tag"] = ("t.tag_id", f"m {_tags_join()}")
    return columns, groupings


def add_counts(counts, found):
    for facet, keyed in found.items():
        for key, n in keyed.items():
            counts[facet][key] = counts[facet].get(key, 0) + n


def count_facets(matcher, text, user, scope, names, configs):
    """The facets `names` counted in a scope that is not the search's own: one query per kind."""
    counts = {name: {} for name in FACET_NAMES}
    if scope.wording and "provision" in names:
        add_counts(counts, count_groups(matcher, Provision.objects.all(), WORDING_FIELDS,
                                        *facet_groupings("wording", names)))
        for config, languages in configs.items():
            if not (language_matcher := make_matcher(text, config)).empty:
                versions = LanguageVersion.objects.filter(language__in=languages)
                add_counts(counts, count_groups(language_matcher, versions, VERSION_FIELDS,
                                                *facet_groupings("version", names)))
    if not scope.tag:
        add_counts(counts, count_groups(matcher, excerpts_in(scope), EXCERPT_FIELDS, *facet_groupings("excerpt", names)))
    for what, queryset in annotation_sets(user, scope):
        add_counts(counts, count_groups(matcher, queryset, ANNOTATION_FIELDS, *facet_groupings(what, names)))
    return counts


def facets(params, choices, counts):
    """The three facets shown: each option with its count (see `_facet`)."""
    def label(provision):
        return f"{provision.label}: {provision.heading}" if provision.heading else provision.label

    return [
        _facet(params, "provision", "Provision",
               [(p.slug, label(p), counts["provision"].get(p.pk, 0)) for p in choices["provisions"]]),
        _facet(params, "source", "Commentary",
               [(s.slug, s.display_title, counts["source"].get(s.pk, 0)) for s in choices["sources"]]),
        _facet(params, "tag", "Tag", [(t.slug, t.name, counts["tag"].get(t.pk, 0)) for t in choices["tags"]]),
    ]


def _facet(params, name, label, options):
    """Options with results (and the chosen one, even with none), each with its link."""
    chosen = getattr(params, name)
    listed = [
        (slug, text, count, params.query_string(**{name: "" if slug == chosen else slug}))
        for slug, text, count in options
        if count or slug == chosen
    ]
    return Facet(name, label, listed, chosen)
