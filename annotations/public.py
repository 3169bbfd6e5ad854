"""Public, read-only pages about annotations: a tag's published annotations, and search."""

import re
from itertools import groupby
from operator import attrgetter

from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from treaty_app.caching import access_date, conditional_page, every_scope
from treaty_app.citing import annotation_citation
from treaty_app.models import Provision
from treaty_app.views import cite_response

from . import search
from .models import Annotation, Tag

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


@require_safe
@conditional_page(scopes=every_scope, params=("treaty", "provision"))
def tag_detail(request, tag_slug):
    """A tag and its published annotations, grouped by provision in reading order; `?provision=` narrows.

    Four queries at most whatever the number of annotations: the tag, the provision filtered on,
    the annotations with their authors, provisions and excerpts, and their tags."""
    tag = get_object_or_404(Tag, slug=tag_slug)
    annotations = (
        Annotation.objects.published()
        .roots()
        .filter(tags=tag)
        .select_related("author", "provision__treaty", "excerpt__source")
        .defer(
            "body", "anchored_text", "provision__text", "provision__summary", "provision__treaty__notes",
            "excerpt__text", "excerpt__source__body", "excerpt__source__capture", "excerpt__source__notes",
        )
        .prefetch_related("tags")
        .order_by(
            "provision__treaty_id", "provision__position", "excerpt__source_id", "excerpt__start",
            F("start").asc(nulls_last=True), "end", "pk",
        )
    )
    provision = None
    if provision_slug := request.GET.get("provision"):
        # Not a slug (a NUL in it would be a database error on PostgreSQL): no provision has it.
        if not SLUG.fullmatch(provision_slug) or not SLUG.fullmatch(request.GET.get("treaty", "-")):
            raise Http404("No such provision.")
        # Provision slugs repeat across treaties (every treaty has an art-1): the filter is one treaty's.
        provisions = Provision.objects.filter(slug=provision_slug).select_related("treaty").only(
            "slug", "kind", "number", "treaty__slug", "treaty__short_title")
        if treaty_slug := request.GET.get("treaty"):
            provisions = provisions.filter(treaty__slug=treaty_slug)
        found = list(provisions[:2])
        if len(found) != 1:
            raise Http404("No such provision." if not found else "Several treaties have this provision: add ?treaty=.")
        provision = found[0]
        annotations = annotations.filter(provision=provision)

    annotations = list(annotations)
    for annotation in annotations:
        annotation.other_tags = [other for other in annotation.tags.all() if other.pk != tag.pk]
        annotation.permalink = (
            f"{annotation.provision.get_absolute_url()}#annotation-{annotation.pk}"
            if annotation.provision_id
            else annotation.excerpt.get_absolute_url()
        )
    on_provisions = [annotation for annotation in annotations if annotation.provision_id]
    groups = []
    for _, grouped in groupby(on_provisions, key=attrgetter("provision_id")):
        grouped = list(grouped)
        groups.append((grouped[0].provision, grouped))
    context = {
        "tag": tag,
        "provision": provision,
        "groups": groups,
        "on_excerpts": [annotation for annotation in annotations if annotation.excerpt_id],
        "several_treaties": len({annotation.provision.treaty_id for annotation in on_provisions}) > 1,
        "total": len(annotations),
    }
    return render(request, "annotations/tag_detail.html", context)


@require_safe
@conditional_page(scopes=every_scope, dated=True)
def annotation_cite(request, pk, fmt=""):
    """A published annotation or reply, cited at its version (treaty_app/citing.py): a page, BibTeX
    or CSL-JSON. Whoever asks, only what the public reads: an unpublished one is a 404."""
    annotation = get_object_or_404(
        Annotation.objects.published()
        .select_related("author", "provision__treaty", "excerpt__source", "parent__provision__treaty",
                        "parent__excerpt__source")
        .defer(*(f"{via}{field}" for via in ("", "parent__") for field in (
            "provision__text", "provision__summary", "excerpt__source__body", "excerpt__source__capture"))),
        pk=pk,
    )
    citation = annotation_citation(annotation, accessed=access_date(request))
    kind = "reply" if annotation.parent_id else "annotation"
    return cite_response(
        request, citation, fmt, what=f"{kind} {annotation.pk}", back=citation.url,
        file_url=lambda fmt: reverse("reader:annotation-cite-file", args=[annotation.pk, fmt]),
    )


@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def search_page(request):
    """One box over provision wording, commentary excerpts and annotations; see annotations/search.py.

    An HTMX request (search-as-you-type) gets only the results; everything else gets the whole page."""
    params = search.SearchParams.from_querydict(request.GET)
    choices = search.filter_choices(request.user)
    results = search.search(params, request.user, choices) if params.text and not params.error else None
    partial = request.htmx and not request.htmx.history_restore_request
    template = "annotations/search.html" + ("#search-results" if partial else "")
    context = {
        "params": params, "error": params.error, "results": results, **choices,
        "max_length": search.MAX_QUERY_LENGTH, "full_text": search.uses_full_text(),
    }
    return render(request, template, context, status=400 if params.error else 200)
