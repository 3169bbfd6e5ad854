"""Public, read-only pages about annotations: a tag's published annotations, a person's, citations
of them, and search."""

import re
from itertools import groupby
from operator import attrgetter

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from treaty_app import rules
from treaty_app.caching import access_date, conditional_page, every_scope, shared_scope, treaty_scopes
from treaty_app.citing import annotation_citation
from treaty_app.models import Provision
from treaty_app.views import card_roots, cite_response

from . import assessments, consensus, search
from .models import Annotation, Tag, TagAlias

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


@require_safe
@conditional_page(scopes=every_scope, params=("treaty", "provision"))
def tag_detail(request, tag_slug):
    """A tag and its published annotations, grouped by provision in reading order; `?provision=` narrows.

    Four queries at most whatever the number of annotations: the tag, the provision filtered on,
    the annotations with their authors, provisions and excerpts, and their tags. The slug of a tag
    merged into another answers 301 to the survivor's page, with the same filters."""
    tag = Tag.objects.filter(slug=tag_slug).first()
    if tag is None:
        # A tag merged into another (writes.merge_tags): its URL leads to the survivor for good.
        alias = get_object_or_404(TagAlias.objects.select_related("tag").only("tag__slug"), slug=tag_slug)
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(reverse("reader:tag", args=[alias.tag.slug]) + query, permanent=True)
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


PEOPLE_PAGE_SIZE = 50


@require_safe
@conditional_page(scopes=every_scope, params=("page",))
def person_detail(request, username):
    """``/users/<username>/``, what the JSON-LD's creator ids name: a person's published annotations
    and replies, newest first, PEOPLE_PAGE_SIZE a page (``?page=N``).

    Only someone with a published annotation has a page. Anyone else (who has published nothing,
    curators and staff included, or no one by that name) is the same 404, so the page never says
    whether an account exists or what it holds. It shows the username, which every public card
    shows already, and what the public reads of their notes; nothing of the account (no names, no
    e-mail, no role, no dates of joining or of signing in). Five queries whatever the number of
    notes: the content version, the person, the count, the page's notes with their targets, their tags."""
    if rules.find_bad_character(username) is not None:
        raise Http404("No such person.")
    person = get_object_or_404(get_user_model().objects.only("pk", "username"), username=username)
    notes = (
        Annotation.objects.published().filter(author=person)
        .select_related("provision__treaty", "excerpt__source", "parent__provision__treaty", "parent__excerpt__source")
        .defer(*(f"{via}{field}" for via in ("", "parent__") for field in (
            "provision__text", "provision__summary", "excerpt__source__body", "excerpt__source__capture")))
        .prefetch_related("tags")
        .order_by("-created_at", "-pk")
    )
    paginator = Paginator(notes, PEOPLE_PAGE_SIZE)
    if not paginator.count:
        raise Http404("No such person.")
    try:
        number = rules.clean_integer(request.GET.get("page", "1"), field="page", minimum=1, maximum=paginator.num_pages)
    except ValidationError:
        raise Http404(f"There is no such page: pages go from 1 to {paginator.num_pages}.") from None
    page = paginator.page(number)
    for note in page:
        root = note.parent if note.parent_id else note
        place = root.provision.get_absolute_url() if root.provision_id else root.excerpt.source.get_absolute_url()
        note.permalink = f"{place}#annotation-{note.pk}"
        note.root = root
    context = {"person": person, "page": page, "total": paginator.count, **card_roots()}
    return render(request, "reader/person.html", context)


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


@require_safe
@conditional_page(scopes=shared_scope)
def assessment_scheme(request, field_slug=None, value_slug=None):
    """The assessment scheme: each field and its values, the IRIs exported assessments name
    (``/assessments/<field>/<value>/`` is this page with that value marked)."""
    known = assessments.scheme()
    if field_slug is not None and (value_slug not in known.values.get(field_slug, {})):
        raise Http404("No such value in the assessment scheme.")
    context = {"scheme": known, "field_slug": field_slug, "value_slug": value_slug}
    return render(request, "annotations/assessment_scheme.html", context)


@require_safe
@conditional_page(scopes=treaty_scopes)
def provision_consensus(request, treaty_slug, provision_slug):
    """Consensus and dissent on a provision: the published assessments grouped by what they conclude,
    the commentary by its stance, and how far analysts agree (consensus.py)."""
    provision = get_object_or_404(
        Provision.objects.select_related("treaty"), treaty__slug=treaty_slug, slug=provision_slug
    )
    context = {"provision": provision, "treaty": provision.treaty, **consensus.consensus(provision)}
    return render(request, "annotations/consensus.html", context)
