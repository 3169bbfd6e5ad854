"""The public reader: read-only pages for the treaty, its provisions and the commentary on them."""

import hashlib
from itertools import groupby, zip_longest

from collections import namedtuple

from django.core.cache import caches
from django.db.models import F, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from . import akn_writing, comparing
from .caching import conditional_page, every_scope, shared_scope, treaty_scopes
from .card_pages import CardPages
from .marking import marked_paragraphs, paragraph_runs
from .models import CrossReference, ExcerptLink, Provision, Source, Treaty
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
@conditional_page(scopes=treaty_scopes, params=("notes",))
def provision_detail(request, treaty_slug, provision_slug):
    provision = get_object_or_404(
        Provision.objects.select_related("treaty", "summary_source"), treaty__slug=treaty_slug, slug=provision_slug
    )
    siblings = list(provision.treaty.provisions.in_order().only("slug", "kind", "number", "position", "treaty"))
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == provision.pk)
    links = (
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
    published = provision.annotations.published().roots().order_by(F("start").asc(nulls_last=True), "end", "pk")
    # Every highlight, from light rows; one page of cards (card_pages.py).
    spans = [Span(*row) for row in published.values_list("pk", "start", "end")]
    pages = CardPages([span.pk for span in spans], request.GET.get("notes"))
    annotations = list(
        published.filter(pk__in=pages.shown)
        .select_related("author").prefetch_related(
            "tags",
            Prefetch("replies", queryset=provision.annotations.model.objects.published()
                     .select_related("author").order_by("created_at", "pk"), to_attr="public_replies"),
        )
    )
    tag_root = reverse("reader:tag", args=["-"]).removesuffix("-/")
    provision.annotations.model.describe_assessments(annotations)
    for annotation in annotations:
        annotation.card_key = card_key(annotation, tag_root)
    paragraphs = marked_paragraphs(provision.text, spans, href=pages.href, cache=caches["cards"])
    passages = list(provision.quoted_passages.select_related("source").defer("source__body", "source__capture"))
    context = {
        "treaty": provision.treaty,
        "provision": provision,
        "wording": list(zip_longest(paragraphs, passages)),
        "annotations": annotations,
        "pages": pages,
        "commentary": commentary,
        "references": [(*ref.other_side(provision), ref.note) for ref in CrossReference.objects.touching(provision)],
        "previous": siblings[index - 1] if index > 0 else None,
        "next": siblings[index + 1] if index + 1 < len(siblings) else None,
        "page_url": absolute_url(provision.get_absolute_url()),
        # Reversing a URL per tag per annotation cost more than the rest of a thousand-annotation page.
        "tag_root": tag_root,
    }
    return render(request, "treaty_app/provision_detail.html", context)


def card_key(annotation, tag_root):
    """A digest of everything an annotation's public card shows: cards with equal keys are equal.

    Rendering a card takes about half a millisecond and a page can hold thousands; a change to one
    annotation changes only its own key, so the other cards come from the cache."""
    shown = [
        annotation.pk, annotation.exact, annotation.start is None, annotation.body_html,
        annotation.author.get_username(), annotation.created_at.isoformat(), tag_root,
        getattr(annotation, "shown_assessment", None),
        [(tag.slug, tag.name) for tag in annotation.tags.all()],
        [(reply.pk, reply.body_html, reply.author.get_username(), reply.created_at.isoformat())
         for reply in annotation.public_replies],
    ]
    return hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()


@require_safe
@conditional_page(scopes=shared_scope)
def source_list(request):
    return render(request, "treaty_app/source_list.html", {"sources": Source.objects.listing()})


@require_safe
@conditional_page(scopes=shared_scope)
def source_detail(request, source_slug):
    source = get_object_or_404(Source.objects.defer("capture"), slug=source_slug)
    excerpts = [excerpt for excerpt in source.excerpts.with_public_links() if excerpt.public_links]
    return render(
        request,
        "treaty_app/source_detail.html",
        {"source": source, "paragraphs": paragraph_runs(source.body, excerpts), "excerpts": excerpts},
    )
