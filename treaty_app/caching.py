"""Conditional GET and a page cache for public pages, both keyed on the content version.

A revalidation costs one query and answers 304; an anonymous visitor's page is rendered once
per version and then served from the cache. Any change to what pages show bumps the version
(see versioning.py), so nothing stale is ever confirmed or served.
"""

import hashlib
from functools import partial, wraps

from django.core.cache import cache
from django.http import QueryDict
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import condition

from .models import ContentVersion


def content_version(request):
    if not hasattr(request, "_content_version"):
        request._content_version = ContentVersion.current()
    return request._content_version


def version_tag(request):
    version, changed_at = content_version(request)
    return f"{version}.{changed_at.timestamp() if changed_at else 0:.6f}"


def page_etag(request, *args, **kwargs):
    # The same URL differs by viewer (navigation, a logged-in user's own work) and by HTMX fragment.
    viewer = request.user.pk if request.user.is_authenticated else "public"
    fragment = "fragment" if getattr(request, "htmx", False) else "page"
    return f"v{version_tag(request)}-{viewer}-{fragment}"


def page_last_modified(request, *args, **kwargs):
    return content_version(request)[1]


def declared_query(request, params):
    """Only the query parameters in ``params``: what a cached view is given as request.GET.

    A view cannot then depend on a parameter that its cache key leaves out."""
    query = QueryDict(mutable=True)
    for name in params:
        if name in request.GET:
            query.setlist(name, request.GET.getlist(name))
    query._mutable = False
    return query


def page_cache_key(request):
    """The page cache's key: the version, viewer and fragment of the ETag, the path, and the
    declared query parameters' values (see declared_query), digested to a fixed length.

    Anything else in the URL (``?r=1``, ``?utm_source=…``) does not make a new entry."""
    query = sorted(request.GET.lists())
    digest = hashlib.blake2b(repr((request.path, query)).encode(), digest_size=16)
    return f"page:{page_etag(request)}:{digest.hexdigest()}"


def cached_for_visitors(view, params=()):
    """Serve anonymous visitors a page rendered once per content version."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.GET = declared_query(request, params)
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        key = page_cache_key(request)
        response = cache.get(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                cache.set(key, response, timeout=3600)
        return response

    return wrapper


def conditional_page(view=None, *, params=()):
    """ETag/Last-Modified revalidation, a per-version page cache and cache headers for a public page.

    ``params`` names the query parameters the view reads (``@conditional_page(params=("page",))``);
    the view sees only those, and only their values make separate cache entries."""
    if view is None:
        return partial(conditional_page, params=tuple(params))
    conditional_view = condition(etag_func=page_etag, last_modified_func=page_last_modified)(
        cached_for_visitors(view, params)
    )

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = conditional_view(request, *args, **kwargs)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, max_age=0, must_revalidate=True)
        else:
            patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        patch_vary_headers(response, ["Cookie", "HX-Request"])
        return response

    return wrapper
