"""The public reader: read-only pages for the treaty, its provisions and the commentary on them."""

from bisect import bisect_right
from itertools import groupby, zip_longest

from collections import namedtuple

from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.db.models import F, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from . import akn_writing, comparing
from .caching import access_date, conditional_page, every_scope, shared_scope, treaty_scopes
from .card_pages import CardPages
from .citing import BIBTEX_MEDIA_TYPE, CSL_MEDIA_TYPE, excerpt_citation, provision_citation
from .marking import marked_excerpt_paragraphs, marked_paragraphs, marked_pieces, paragraph_bounds
from .models import CrossReference, Excerpt, ExcerptLink, Provision, Source, Treaty
from .overview import heatmaps
from .site import absolute_url


# A highlight needs no more of an annotation than this.
Span = namedtuple("Span", "pk start end")


@require_safe
def home(request):
    treaties = list(Treaty.objects.all()[:2])
    if len(treaties) == 1:
        return redirect(treaties[0])
    return render(request, "treaty_app/home.html", {"treaties": Treaty.objects.all()})


@require_safe
@conditional_page(scopes=treaty_scopes)
def treaty_detail(request, treaty_slug):
    treaty = get_object_or_404(Treaty, slug=treaty_slug)
    provisions = treaty.provisions.in_order().with_public_counts().defer("text", "summary")
    sources = Source.objects.listing()
    context = {"treaty": treaty, "provisions": provisions, "sources": sources, "heatmaps": heatmaps(treaty),
               "related": comparing.related_instruments(treaty)}
    return render(request, "treaty_app/treaty_detail.html", context)


@require_safe
@conditional_page(scopes=treaty_scopes)
def treaty_akn(request, treaty_slug):
    """``/treaties/<slug>/akn.xml``: the treaty as one Akoma Ntoso 3.0 document (akn_writing.py)."""
    treaty = get_object_or_404(Treaty, slug=treaty_slug)
    response = HttpResponse(akn_writing.treaty_document(treaty), content_type=akn_writing.MEDIA_TYPE)
    response["Content-Disposition"] = f'inline; filename="{treaty.slug}.akn.xml"'
    return response


@require_safe
@conditional_page(scopes=every_scope)
def provision_compare(request, treaty_slug, provision_slug, other_treaty_slug, other_provision_slug):
    """Two provisions side by side: a word-level diff when they are renderings of one text (comparing.py)."""
    provisions = Provision.objects.select_related("treaty")
    first = get_object_or_404(provisions, treaty__slug=treaty_slug, slug=provision_slug)
    second = get_object_or_404(provisions, treaty__slug=other_treaty_slug, slug=other_provision_slug)
    return render(request, "treaty_app/compare.html", comparing.compare(first, second))


@require_safe
@conditional_page(scopes=treaty_scopes, params=("notes",), dated=True)
def provision_detail(request, treaty_slug, provision_slug, language=None):
    """A provision's page; with `language`, the page of that language version: its wording is the
    page's ``#wording`` (what selectors on it index), the provision's own beside it."""
    provision = get_object_or_404(
        Provision.objects.select_related("treaty", "summary_source"), treaty__slug=treaty_slug, slug=provision_slug
    )
    versions = list(provision.language_versions.all())
    current = None
    if language is not None:
        current = next((version for version in versions if version.language == language), None)
        if current is None:
            raise Http404("No such language version.")
    siblings = list(provision.treaty.provisions.in_order().only("slug", "kind", "number", "position", "treaty"))
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == provision.pk)
    links = list(
        ExcerptLink.objects.approved()
        .filter(provision=provision)
        .select_related("excerpt__source")
        .defer("excerpt__source__body", "excerpt__source__capture")
        .order_by("excerpt__source__published_on", "excerpt__source_id", "excerpt__start")
    )
    commentary = [
        (source, list(group)) for source, group in groupby(links, key=lambda link: link.excerpt.source)
    ]
    # Reverse relations keep treaty_app free of imports from the annotations app.
    published = provision.annotations.published(roots=True).order_by(
        F("language_version").asc(nulls_first=True), F("start").asc(nulls_last=True), "end", "pk")
    # Every highlight, from light rows, by the text it is in; one page of cards (card_pages.py).
    spans_by_text = {}
    for pk, start, end, version_id in published.values_list("pk", "start", "end", "language_version_id"):
        spans_by_text.setdefault(version_id, []).append(Span(pk, start, end))
    spans = spans_by_text.get(None, [])
    pages = CardPages([span.pk for spans_of in spans_by_text.values() for span in spans_of], request.GET.get("notes"))
    # One page of the wording's cards and every card of the excerpts beside it (an analyst disputing
    # a commentator's claim), in one query.
    excerpts = [link.excerpt for link in links]
    cards = public_cards(
        annotation_model().objects.published(roots=True)
        .filter(Q(provision=provision, pk__in=pages.shown) | Q(excerpt__in=[excerpt.pk for excerpt in excerpts]))
        .order_by(F("start").asc(nulls_last=True), "end", "pk")
    )
    annotations = [card for card in cards if card.provision_id]
    mark_excerpts(excerpts, [card for card in cards if card.excerpt_id])
    paragraphs = marked_paragraphs(provision.text, spans, href=pages.href, cache=caches["cards"])
    passages = list(provision.quoted_passages.select_related("source").defer("source__body", "source__capture"))
    for version in versions:
        version.marked = marked_paragraphs(version.text, spans_by_text.get(version.pk, []), href=pages.href,
                                           cache=caches["cards"])
        version.element_id = "wording" if version is current else f"wording-{version.language}"
    context = {
        "treaty": provision.treaty,
        "provision": provision,
        "versions": versions,
        "current_version": current,
        "wording_id": "wording" if current is None else f"wording-{provision.treaty.language}",
        "wording": list(zip_longest(paragraphs, passages)),
        "annotations": annotations,
        "pages": pages,
        "commentary": commentary,
        "references": related_provisions(provision),
        "previous": siblings[index - 1] if index > 0 else None,
        "next": siblings[index + 1] if index + 1 < len(siblings) else None,
        "page_url": absolute_url(provision.get_absolute_url()),
        "citation": provision_citation(provision, accessed=access_date(request)),
        **card_roots(),
    }
    return render(request, "treaty_app/provision_detail.html", context)


def related_provisions(provision):
    """The curated cross-references from and to `provision`, in any treaty or outside Glossa, as
    [(relation, [(label, url, note), …]), …]: each read from `provision`'s side (“Replaces”,
    “Replaced by”, “Compare”, “Refers to”, “Referred to by”), the relations in that order."""
    order = ["Replaces", "Replaced by", "Compare", "Refers to", "Referred to by"]
    grouped = {}
    for reference in CrossReference.objects.touching(provision):
        grouped.setdefault(reference.relation_seen_from(provision), []).append(
            (*reference.other_side(provision), reference.note)
        )
    return [(relation, grouped[relation]) for relation in order if relation in grouped]


def annotation_model():
    """The annotation model, reached through a reverse relation: treaty_app imports nothing of the
    annotations app."""
    return Provision.annotations.rel.related_model


def card_roots():
    """The URL prefixes cards link with: reversing a URL per tag per annotation cost more than the
    rest of a thousand-annotation page."""
    return {
        "tag_root": reverse("reader:tag", args=["-"]).removesuffix("-/"),
        "annotation_root": reverse("reader:annotation-cite", args=[0]).removesuffix("0/cite/"),
        "person_root": reverse("reader:person", args=["-"]).removesuffix("-/"),
    }


def public_cards(annotations):
    """The public cards of the published root annotations of the queryset `annotations`, in its order:
    a light row (pk, target, offsets, `card_key`) for each card the cache holds, which the page
    needs no more of; for the others the annotation with everything its card shows (author, tags,
    published replies in order, translation pairs, assessment) fetched in a fixed number of queries."""
    rows = annotations.public_card_rows(card_roots())
    fragment_keys = {row.pk: make_template_fragment_key("public-card", [row.card_key]) for row in rows}
    held = caches["cards"].get_many(list(fragment_keys.values()))
    missing = [row.pk for row in rows if fragment_keys[row.pk] not in held]
    read = {}
    if missing:
        model = annotations.model
        # Through `annotations` again: one unpublished since its row was read is not read. Its
        # replies and pairs are what the public may read (for_panel for no one signed in).
        read = {card.pk: card for card in annotations.filter(pk__in=missing).order_by()
                .select_related("language_version").prefetch_related("tags").for_panel(None)}
        model.describe_assessments(list(read.values()))
    cards = []
    for row in rows:
        if row.pk in read:
            read[row.pk].card_key = row.card_key
            cards.append(read[row.pk])
        elif fragment_keys[row.pk] in held:
            # With its fragment: looked up again while the page renders, it could have been evicted.
            cards.append(row._replace(cached_card=mark_safe(held[fragment_keys[row.pk]])))
        # else: unpublished since its row was read; its card is not shown.
    return cards


def mark_excerpts(excerpts, annotations):
    """Give each excerpt its published annotations (`public_annotations`, in reading order) and its
    text with their highlights (`html`), each linked to its card ``#annotation-N``."""
    by_excerpt = {}
    for annotation in annotations:
        by_excerpt.setdefault(annotation.excerpt_id, []).append(annotation)
    for excerpt in excerpts:
        excerpt.public_annotations = by_excerpt.get(excerpt.pk, [])
        spans = [Span(a.pk, a.start, a.end) for a in excerpt.public_annotations]
        excerpt.html = marked_pieces(excerpt.text, spans, anchors=True, cache=caches["cards"])[0]


@require_safe
@conditional_page(scopes=shared_scope)
def source_list(request):
    return render(request, "treaty_app/source_list.html", {"sources": Source.objects.listing()})


@require_safe
@conditional_page(scopes=shared_scope)
def source_detail(request, source_slug):
    """A commentary's text with its public excerpts marked, and the published annotations on its
    excerpts: highlighted in the excerpts' words, their cards after the paragraph they are in."""
    source = get_object_or_404(Source.objects.defer("capture"), slug=source_slug)
    every = list(source.excerpts.with_public_links())
    excerpts = [excerpt for excerpt in every if excerpt.public_links]
    cards = public_cards(
        annotation_model().objects.published(roots=True).filter(excerpt__source=source)
        .order_by("excerpt__start", F("start").asc(nulls_last=True), "end", "pk")
    )
    starts = {excerpt.pk: excerpt.start for excerpt in every}
    # Annotation offsets count in the excerpt's text; the page marks the source's.
    spans = [Span(card.pk, starts[card.excerpt_id] + card.start, starts[card.excerpt_id] + card.end)
             for card in cards if card.start is not None]
    bounds = paragraph_bounds(source.body)
    notes = [[] for _ in bounds]
    firsts = [start for start, _ in bounds]
    for card in cards:
        notes[bisect_right(firsts, starts[card.excerpt_id]) - 1].append(card)
    paragraphs = list(zip(marked_excerpt_paragraphs(source.body, excerpts, spans), notes))
    context = {"source": source, "paragraphs": paragraphs, "excerpts": excerpts, **card_roots()}
    return render(request, "treaty_app/source_detail.html", context)


def cite_response(request, citation, fmt, *, what, back, file_url):
    """`citation` as BibTeX (`fmt` "bib"), CSL-JSON ("json") or a page that shows it every way
    (""), `what` naming the thing cited and `back` its page; `file_url(fmt)` links the files."""
    if fmt:
        bibtex = fmt == "bib"
        response = HttpResponse(
            citation.bibtex() if bibtex else citation.csl_json(),
            content_type=BIBTEX_MEDIA_TYPE if bibtex else CSL_MEDIA_TYPE,
        )
        response["Content-Disposition"] = f'inline; filename="{citation.key}.{fmt}"'
        return response
    context = {"citation": citation, "what": what, "back": back, "bib_url": file_url("bib"), "json_url": file_url("json")}
    return render(request, "reader/cite.html", context)


@require_safe
@conditional_page(scopes=treaty_scopes, dated=True)
def provision_cite(request, treaty_slug, provision_slug, fmt=""):
    provision = get_object_or_404(
        Provision.objects.select_related("treaty").defer("text", "summary"), treaty__slug=treaty_slug,
        slug=provision_slug,
    )
    return cite_response(
        request, provision_citation(provision, accessed=access_date(request)), fmt,
        what=f"{provision.label}, {provision.treaty.short_title}", back=provision.get_absolute_url(),
        file_url=lambda fmt: reverse("reader:provision-cite-file", args=[treaty_slug, provision_slug, fmt]),
    )


@require_safe
@conditional_page(scopes=shared_scope, dated=True)
def excerpt_cite(request, source_slug, excerpt_pk, fmt=""):
    """An excerpt that the public reader shows (one with an approved link), cited."""
    excerpt = get_object_or_404(
        Excerpt.objects.select_related("source").defer("source__body", "source__capture")
        .filter(links__state=ExcerptLink.State.APPROVED).distinct(),
        source__slug=source_slug, pk=excerpt_pk,
    )
    return cite_response(
        request, excerpt_citation(excerpt, accessed=access_date(request)), fmt,
        what=f"excerpt {excerpt.pk} of “{excerpt.source.display_title}”", back=excerpt.get_absolute_url(),
        file_url=lambda fmt: reverse("reader:excerpt-cite-file", args=[source_slug, excerpt.pk, fmt]),
    )
