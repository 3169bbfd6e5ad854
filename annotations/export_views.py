"""W3C Web Annotation JSON-LD over HTTP: the paged collection of all annotations, and one provision's.

Both answer with what the caller may read (`Annotation.objects.readable_by`). For visitors they
revalidate with an ETag keyed on the content version and are cached per version; a signed-in
user's document holds their team's and their own notes, which no version counts, so it is never
cached (`personal`). Any origin may read them: the response never carries more than a visitor
sees unless the browser sends the user's cookies, which a cross-origin ``*`` does not allow.
"""

from math import ceil

from django.core.exceptions import ValidationError
from django.core.cache import caches
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_safe

from treaty_app import rules
from treaty_app.caching import conditional_page, treaty_scopes
from treaty_app.models import Provision
from treaty_app.site import site_url

from .exporting import (
    ANNO_CONTEXT,
    MAX_PAGE_SIZE,
    MEDIA_TYPE,
    PAGE_SIZE,
    Linker,
    dumps,
    cached_items,
    embedded_collection_json,
    for_export,
    page_document,
)
from .models import Annotation


def _jsonld(document):
    response = HttpResponse(dumps(document), content_type=MEDIA_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(message, status):
    response = JsonResponse({"error": message}, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _positive_int(request, name, default):
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        return rules.clean_integer(raw, field=name, minimum=1)
    except ValidationError as error:
        raise ValueError(error.messages[0]) from None


def _linker(request):
    # The configured address, not the Host header: the documents are cached for every visitor.
    return Linker(site_url())


@require_safe
@conditional_page(personal=True, params=("page", "size"))
def collection_page(request):
    """``/annotations.jsonld``: the AnnotationCollection of every annotation the caller may see, in pk
    order; ``?page=N`` (from 1) is its N-th AnnotationPage, of ``?size=`` items (default 100, at
    most 1000).

    A bad page or size is a 400, a page past the last a 404, both with a JSON ``error``. A page
    costs four queries whatever its size (the content version for the ETag, the count, the
    annotations with their related rows, their tags), the collection two, plus a signed-in
    user's session and permission look-ups."""
    try:
        size = _positive_int(request, "size", PAGE_SIZE)
        page = _positive_int(request, "page", None)
    except ValueError as error:
        return _error(str(error), 400)
    if size > MAX_PAGE_SIZE:
        return _error(f"size must be at most {MAX_PAGE_SIZE}, not {size}.", 400)

    linker = _linker(request)
    collection_id = linker.collection()
    suffix = "" if size == PAGE_SIZE else f"&size={size}"

    def page_id(number):
        return f"{collection_id}?page={number}{suffix}"

    visible = Annotation.objects.readable_by(request.user)
    total = visible.count()
    last = max(1, ceil(total / size))
    if page is None:
        document = {
            "@context": ANNO_CONTEXT,
            "id": collection_id,
            "type": "AnnotationCollection",
            "label": "Annotations in Glossa",
            "total": total,
        }
        if total:
            # The model requires first when there are annotations; with none, there is no page to point at.
            document |= {"first": page_id(1), "last": page_id(last)}
        return _jsonld(document)
    if page > last:
        return _error(f"There is no page {page}: the last page is {last}.", 404)

    start = (page - 1) * size
    annotations = for_export(visible)[start : start + size]
    return _jsonld(page_document(
        annotations, linker,
        page_id=page_id(page), collection_id=collection_id, total=total, start_index=start,
        prev_id=page_id(page - 1) if page > 1 else None,
        next_id=page_id(page + 1) if page < last else None,
    ))


@require_safe
@conditional_page(scopes=treaty_scopes, personal=True)
def provision_annotations(request, treaty_slug, provision_slug):
    """``/treaties/<t>/<p>/annotations.jsonld``: every annotation the caller may see on the provision
    (those anchored in its wording and the replies to them), in pk order, as one AnnotationCollection
    that embeds them all, so that a peer annotation client gets a document in one request.

    Four queries whatever the number of annotations once its items are cached (cached_items): the
    content version for the ETag, the provision, each item's version, author and tag keys, and the
    tag vocabulary (plus a signed-in user's session and permissions)."""
    provision = get_object_or_404(
        Provision.objects.select_related("treaty").only(
            "slug", "kind", "number", "treaty__slug", "treaty__short_title"
        ),
        treaty__slug=treaty_slug, slug=provision_slug,
    )
    # "On the provision, or replying to one that is" as an OR over a join read the whole table
    # (0.2 s at 100,000 annotations): the notes and their replies are two querysets, each found
    # through its index, whose rows cached_items reads as one UNION. The replies come through
    # replies_readable_by: asked again, the parent's half of the read rule made PostgreSQL hash
    # every readable row of the table (72 ms at 100,000).
    roots = Annotation.objects.readable_by(request.user, roots=True).filter(provision=provision)
    replies = Annotation.objects.replies_readable_by(request.user, roots)
    linker = _linker(request)
    document = embedded_collection_json(
        cached_items([roots, replies], linker, caches["cards"]),
        collection_id=linker.iri(reverse("reader:provision-annotations", args=[treaty_slug, provision_slug])),
        label=f"Annotations on {provision.label}, {provision.treaty.short_title}",
    )
    response = HttpResponse(document, content_type=MEDIA_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return response
